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
    return "\n".join([*lines, "# EOF"]) + "\n", known
