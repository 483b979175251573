"""PromQL helpers for tests: the metric names an expression references, and whether each is known
(catalog, recording rules or a known exporter's set)."""

from __future__ import annotations

import re

from mixin import alerts_apps, config, recording, slos
from mixin.alerts_agents import COST_CENTER_BUDGET as AGENTS_COST_CENTER_BUDGET
from mixin.alerts_agents import TEAM_BUDGET as AGENTS_TEAM_BUDGET
from mixin.rule_files import (
    COST_CENTER_BUDGET_RECORD,
    EXPECTED_SERVICE_RECORD,
    TEAM_BUDGET_RECORD,
)
from otel_ccmon import _catalog as cat

IDENT = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{|\[|\)|\s|$)")


PROMQL_WORDS = {
    "sum", "by", "rate", "increase", "histogram_quantile", "and", "or", "unless", "on", "avg", "max", "min",
    "avg_over_time", "max_over_time", "min_over_time", "deriv", "absent", "offset", "vector", "count", "le",
    "without", "ignoring", "group_left", "bool", "job", "instance", "group",
}  # fmt: skip


def referenced_metrics(expr: str) -> set[str]:
    expr = re.sub(r'"[^"]*"', '""', expr)  # label values
    expr = re.sub(r"\{[^}]*\}", "{}", expr)  # label matchers
    expr = re.sub(r"\b(by|on|without|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)  # label lists
    return {m for m in IDENT.findall(expr) if m not in PROMQL_WORDS and not m[0].isdigit()}


def known_metric(name: str) -> bool:
    base = re.sub(r"_(bucket|sum|count)$", "", name)
    apps = {m.prom_name for c in alerts_apps.CATALOGS for m in c.metrics}
    return (
        name in cat.BY_PROM_NAME
        or base in cat.BY_PROM_NAME
        or name in apps
        or base in apps
        or any(name in names for names in config.EXTERNAL_METRICS.values())
        or name in {r.record for r in (*recording.RECORDING, *slos.slo_recordings())}
        or name
        in (
            EXPECTED_SERVICE_RECORD,
            TEAM_BUDGET_RECORD,
            COST_CENTER_BUDGET_RECORD,
            AGENTS_TEAM_BUDGET,
            AGENTS_COST_CENTER_BUDGET,
        )
    )
