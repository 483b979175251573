"""Whether Claude Code's totals in Prometheus are complete for a window, and by how much at least
they are low when not (issue 20: a cut must never read as the spend).

Sources, all counted by the collector and scraped by Prometheus:

- the claudecode processor's points by outcome: ``over_limit`` (its stream budget, sized from
  ``claude_code.expected_developers``) cuts data; its dropped increments by metric (USD, tokens)
  give the "at least" figure;
- the cardinality guard's points of the Claude Code services dropped as ``over_budget``,
  ``too_many_services`` or ``value_not_allowed``;
- points the processor refused as invalid (NaN, negative increments): garbage from a client,
  flagged apart;
- the collector's own refusals (memory limiter; not per service) and the time Prometheus could not
  scrape the collector (an outage: clients' exports failed meanwhile).

The same expressions feed the dashboard's completeness panels and the ClaudeCodeTotalsIncomplete
alert, so that all three agree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from otel_ccmon.claude_code._promql import exact_increase_expr

SERVICES_DEFAULT: tuple[str, ...] = ("claude-code", "claude-code-desktop")
POINTS = "otelcol_ccmon_claude_code_points"
DROPPED_VALUE = "otelcol_ccmon_claude_code_dropped_value"
GUARD_POINTS = "otelcol_ccmon_guard_points"
CUT_OUTCOMES = "over_limit|unsupported|bounds_moved"
INVALID_OUTCOMES = "invalid|negative"
GUARD_CUT_REASONS = "over_budget|too_many_services|value_not_allowed"
COLLECTOR_JOB = "otel-collector"


def services_regex(services: Sequence[str] = SERVICES_DEFAULT) -> str:
    """A label regex matching exactly the Claude Code services.

    >>> services_regex(("claude-code", "claude-code-desktop"))
    'claude-code|claude-code-desktop'
    """
    return "|".join(services)


def cut_points_expr(window: str, services: Sequence[str] = SERVICES_DEFAULT) -> str:
    """Claude Code points a budget or cap cut over ``window`` (processor and guard together).

    >>> cut_points_expr("1h").startswith("(sum(increase(otelcol_ccmon_claude_code_points")
    True
    """
    guard = f'{GUARD_POINTS}{{service=~"{services_regex(services)}",reason=~"{GUARD_CUT_REASONS}"}}'
    return (
        f'(sum(increase({POINTS}{{outcome=~"{CUT_OUTCOMES}"}}[{window}])) or vector(0))'
        f" + (sum(increase({guard}[{window}])) or vector(0))"
    )


def dropped_value_expr(metric: str, window: str) -> str:
    """The increments of ``metric`` (OTel name) the processor dropped over ``window``.

    >>> dropped_value_expr("claude_code.cost.usage", "1d")
    'sum(increase(otelcol_ccmon_claude_code_dropped_value{metric="claude_code.cost.usage"}[1d])) or vector(0)'
    """
    return f'sum(increase({DROPPED_VALUE}{{metric="{metric}"}}[{window}])) or vector(0)'


@dataclass(frozen=True)
class Completeness:
    """What was cut from Claude Code's data in one window; all zero means complete."""

    cut_points: float = 0.0
    cut_usd: float = 0.0
    cut_tokens: float = 0.0
    invalid_points: float = 0.0
    refused_points: float = 0.0
    collector_down_seconds: float = 0.0
    reset_series: float = 0.0  # counters that restarted: their figures come from increase(), extrapolated

    @property
    def complete(self) -> bool:
        return not (
            self.cut_points
            or self.invalid_points
            or self.refused_points
            or self.collector_down_seconds
            or self.reset_series
        )

    def describe(self) -> str:
        """One line: "complete", or what is missing and at least how much.

        >>> Completeness(cut_points=12, cut_usd=1.5).describe()
        'INCOMPLETE: at least 1.5000 USD and 0 tokens not counted (12 points cut by a stream budget)'
        >>> Completeness().describe()
        'complete'
        """
        if self.complete:
            return "complete"
        parts = []
        if self.cut_points:
            parts.append(
                f"at least {self.cut_usd:.4f} USD and {self.cut_tokens:,.0f} tokens not counted "
                f"({self.cut_points:,.0f} points cut by a stream budget)"
            )
        if self.invalid_points:
            parts.append(f"{self.invalid_points:,.0f} invalid points refused (NaN or negative)")
        if self.refused_points:
            parts.append(f"the collector refused {self.refused_points:,.0f} points (memory limit; all services)")
        if self.collector_down_seconds:
            parts.append(
                f"the collector was unreachable for {self.collector_down_seconds:,.0f} s "
                "(what clients sent meanwhile may be missing)"
            )
        if self.reset_series:
            parts.append(
                f"{self.reset_series:,.0f} counters restarted (reset): their figures are approximate "
                "(extrapolated by increase())"
            )
        return "INCOMPLETE: " + "; ".join(parts)


RawQuery = Callable[[str, float], list[dict[str, Any]]]
"""An instant query returning the API's result list (``_promql.instant`` bound to a server)."""


def exact_growth(query: RawQuery, selector: str, window_s: int, at: float) -> float:
    """How much the counters of ``selector`` grew in the window, without extrapolation (from their
    maxima and minima, which Thanos keeps exactly in downsampled blocks: a day older than raw
    retention is measured like a recent one; raw samples of such a day come back as averages).

    >>> q = lambda expr, at: [{"value": [at, "8"]}] if expr.startswith("sum by () (") else []
    >>> exact_growth(q, "c", 60, 4)
    8.0
    """
    found = query(exact_increase_expr(selector, [], window_s), at)
    return sum(float(r["value"][1]) for r in found)


def measure(query: RawQuery, window_s: int, at: float, services: Sequence[str] = SERVICES_DEFAULT) -> Completeness:
    """What was cut in the ``window_s`` seconds before ``at``, from the collector's counters. The
    counters exist at 0 from the collector's start, so a first drop inside the window counts."""
    guard = f'{GUARD_POINTS}{{service=~"{services_regex(services)}",reason=~"{GUARD_CUT_REASONS}"}}'
    up = query(f'avg_over_time(up{{job="{COLLECTOR_JOB}"}}[{window_s}s])', at)
    down_share = 1 - min(float(r["value"][1]) for r in up) if up else 0.0
    return Completeness(
        cut_points=exact_growth(query, f'{POINTS}{{outcome=~"{CUT_OUTCOMES}"}}', window_s, at)
        + exact_growth(query, guard, window_s, at),
        cut_usd=exact_growth(query, f'{DROPPED_VALUE}{{metric="claude_code.cost.usage"}}', window_s, at),
        cut_tokens=exact_growth(query, f'{DROPPED_VALUE}{{metric="claude_code.token.usage"}}', window_s, at),
        invalid_points=exact_growth(query, f'{POINTS}{{outcome=~"{INVALID_OUTCOMES}"}}', window_s, at),
        refused_points=exact_growth(query, "otelcol_processor_memory_limiter_refused_metric_points", window_s, at),
        collector_down_seconds=round(max(0.0, down_share) * window_s),
    )
