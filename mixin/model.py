"""The building blocks of the mixin: recording rules, alerts with their runbook text and promtool
scenario, and helpers that write the input series of scenarios."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from mixin.config import APP_JOB, APPLICATION_ROLE, RUNBOOK_BASE, TIER_FOR
from otel_ccmon._durations import duration_seconds


@dataclass(frozen=True)
class Recording:
    """A recording rule."""

    record: str
    expr: str
    group: str


@dataclass(frozen=True)
class Scenario:
    """A promtool scenario: input series (1-minute steps) that make the alert fire, and healthy ones.

    ``active_from`` is the first evaluation (minutes) at which the expression is true with the
    firing series; ``value`` the expression's value then (for the annotation templates);
    ``labels`` the labels of the alert besides those from the rule.
    """

    firing: Mapping[str, str]
    healthy: Mapping[str, str]
    value: float
    labels: Mapping[str, str]
    active_from: int = 1


@dataclass(frozen=True)
class Alert:
    """An alert with its annotations, runbook text and test scenario."""

    name: str
    severity: str
    component: str
    expr: str
    summary: str
    description: str
    impact: str
    meaning: str
    diagnosis: tuple[str, ...]
    mitigation: tuple[str, ...]
    scenario: Scenario
    for_: str | None = None  # default: the tier's
    threshold: float | None = None  # for dashboards; same number as in expr
    group: str = "application"
    service_label: bool = True
    push_variant: bool = True  # also tested for a push-only second service (application alerts)

    @property
    def duration(self) -> str:
        return self.for_ if self.for_ is not None else TIER_FOR[self.severity]

    @property
    def runbook_url(self) -> str:
        return f"{RUNBOOK_BASE}/{self.name}.md"

    def labels(self) -> dict[str, str]:
        out = {"severity": self.severity, "component": self.component}
        if self.service_label:
            out["service"] = "{{ $labels.job }}"
        return out

    def annotations(self) -> dict[str, str]:
        return {
            "summary": self.summary,
            "description": self.description,
            "impact": self.impact,
            "runbook_url": self.runbook_url,
        }


def minutes(duration: str) -> int:
    """Whole minutes of a Prometheus duration (``"1h"`` → 60, ``"0s"`` → 0)."""
    return math.ceil(duration_seconds(duration) / 60)


APP_JOB_MATCH = f'job="{APP_JOB}"'
APP_INSTANCE_MATCH = 'instance="i1"'
APP_SERIES_OPEN = f"{{{APP_JOB_MATCH},{APP_INSTANCE_MATCH}"  # opening of an app series' label set in scenarios


def app_series(name: str, extra: str = "") -> str:
    """An app series selector for scenarios: ``app_series("x_total", 'a="b"')``."""
    return f"{name}{APP_SERIES_OPEN}{',' + extra if extra else ''}}}"


def zero_safe_ratio(bad: str, good: str) -> str:
    """``bad / (bad + good)`` that is 0, not empty, while ``bad`` has no series yet (no failure ever).

    >>> zero_safe_ratio("a", "b")
    '(a or 0 * b) / ((a or 0 * b) + b)'
    """
    safe_bad = f"({bad} or 0 * {good})"
    return f"{safe_bad} / ({safe_bad} + {good})"


def counter_values(rate_per_min: int, minutes_: int = 200) -> str:
    return f"0+{rate_per_min}x{minutes_}"


def constant_values(value: float, minutes_: int = 200) -> str:
    return f"{value}x{minutes_}"


def histogram_series(buckets: Mapping[str, int], name: str, extra: str = "", minutes_: int = 200) -> dict[str, str]:
    """Input series of a histogram whose buckets grow by the given counts per minute (cumulative)."""
    out = {}
    for le, per_min in buckets.items():
        sep = "," if extra else ""
        out[f'{name}_bucket{APP_SERIES_OPEN},{extra}{sep}le="{le}"}}'] = counter_values(per_min, minutes_)
    total = max(buckets.values())
    out[app_series(f"{name}_count", extra)] = counter_values(total, minutes_)
    out[app_series(f"{name}_sum", extra)] = counter_values(total, minutes_)
    return out


UP = f"up{{{APP_JOB_MATCH},{APP_INSTANCE_MATCH},{APPLICATION_ROLE}}}"
"""The liveness scrape of an application target (its job carries the application role label)."""
BASE_LABELS = {"job": APP_JOB, "instance": "i1"}
JOB_ONLY = {"job": APP_JOB}
