"""Claude Code spend with known totals, as OpenMetrics text for a backfill: the long-term tier's
tests and benchmark (a year or more of history that no live stack could record)."""

from __future__ import annotations

from datetime import datetime, timedelta

TEAMS = ("platform", "research", "payments")
MODELS = ("claude-opus-4", "claude-haiku-4")


def spend_history(end: datetime, days: int) -> tuple[str, dict[tuple[str, str, str], float]]:
    """OpenMetrics text of a year of spend (5-minute samples, work hours on weekdays, amounts that
    are exact in binary) and the known total per (day, team, model)."""
    start = end - timedelta(days=days)
    step = timedelta(minutes=5)
    known: dict[tuple[str, str, str], float] = {}
    lines = ["# HELP claude_code_cost_usage_USD_total Claude Code spend (backfill)",
             "# TYPE claude_code_cost_usage_USD_total counter"]  # fmt: skip
    for t_index, team in enumerate(TEAMS):
        for m_index, model in enumerate(MODELS):
            value, t = 0.0, start
            labels = f'job="claude-code",service="claude-code",team_id="{team}",model="{model}",user_id="u-{team}"'
            while t <= end:
                if t.weekday() < 5 and 8 <= t.hour < 18 and t > start:
                    amount = 0.125 * (1 + (t_index + 2 * m_index + t.day) % 5)  # multiples of 1/8: exact sums
                    value += amount
                    # a sample at t holds what was spent up to t: it belongs to the day (t-step, t] ends in
                    day = (t - timedelta(microseconds=1)).date().isoformat()
                    known[(day, team, model)] = known.get((day, team, model), 0.0) + amount
                lines.append(f"claude_code_cost_usage_USD_total{{{labels}}} {value} {int(t.timestamp())}")
                t += step
    return "\n".join([*lines, *cut_history(start, end), "# EOF"]) + "\n", known


CUT_POINTS, CUT_USD = 3.0, 1.25
"""What a stream budget cut on :func:`cut_day` in :func:`spend_history`: points and USD (exact in binary)."""


def cut_day(end: datetime) -> str:
    """The day of the cut: a weekday (one with spend rows) about 60 days before ``end``, beyond raw
    retention (30 days): only the 5-minute and 1-hour blocks hold it."""
    day = end - timedelta(days=60)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day.date().isoformat()


def cut_history(start: datetime, end: datetime) -> list[str]:
    """The collector's cut counters over the whole span, at 0 but for one cut at noon of
    :func:`cut_day` (issue 31: the report's completeness must see it in downsampled blocks)."""
    lines = []
    families = (
        ("otelcol_ccmon_claude_code_points", 'job="otel-collector",outcome="over_limit"', CUT_POINTS),
        ("otelcol_ccmon_claude_code_dropped_value", 'job="otel-collector",metric="claude_code.cost.usage"', CUT_USD),
    )
    at = datetime.fromisoformat(cut_day(end)).replace(hour=12, tzinfo=end.tzinfo)
    for name, labels, amount in families:
        # typed gauge: the collector's own counters carry no _total suffix, which OpenMetrics
        # requires of a counter's samples (the stored series are the same either way)
        lines += [f"# HELP {name} cut by a budget (backfill)", f"# TYPE {name} gauge"]
        t = start
        while t <= end:
            lines.append(f"{name}{{{labels}}} {amount if t >= at else 0.0} {int(t.timestamp())}")
            t += timedelta(hours=1)
    return lines
