"""SLOs, their error-ratio recording rules and multi-window burn-rate alerts."""

from __future__ import annotations

from collections.abc import Mapping

from mixin.model import (
    JOB_ONLY,
    Alert,
    Recording,
    Scenario,
    app_series,
    counter_values,
    histogram_series,
    zero_safe_ratio,
)

# SLOs: verification success ≥ 95 %; pattern retrieval ≥ 99 % under 10 ms.
SLO_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
SLOS: Mapping[str, tuple[float, str]] = {
    "verification": (
        0.95,
        zero_safe_ratio(
            "sum by (job) (rate(verification_failures_total[{w}]))",
            "sum by (job) (rate(verification_success_total[{w}]))",
        ),
    ),
    "pattern_retrieval_latency": (
        0.99,
        "(sum by (job) (rate(pattern_retrieval_duration_seconds_count[{w}]))"
        ' - sum by (job) (rate(pattern_retrieval_duration_seconds_bucket{{le="0.01"}}[{w}])))'
        " / sum by (job) (rate(pattern_retrieval_duration_seconds_count[{w}]))",
    ),
}


def slo_recordings() -> tuple[Recording, ...]:
    out = []
    for slo, (objective, template) in SLOS.items():
        for w in SLO_WINDOWS:
            expr = template.format(w=w)
            out.append(Recording(record=f"job:slo_{slo}_errors:ratio_rate{w}", expr=expr, group="slo"))
        out.append(
            Recording(
                record=f"job:slo_{slo}:error_budget_remaining",
                expr=f"1 - job:slo_{slo}_errors:ratio_rate3d / {1 - objective:.2f}",
                group="slo",
            )
        )
    return tuple(out)


# Burn rates: page when 2 % of a 30-day budget burns in 1 h (14.4) or 5 % in 6 h (6); ticket at
# 10 % in 1 d (3) or 10 % in 3 d (1). With a 95 % objective the largest possible burn rate is
# 1 / 0.05 = 20, so 14.4 can fire; with 99 % it is 100.
BURN = {"fast": (("1h", "5m", 14.4), ("6h", "30m", 6.0)), "slow": (("1d", "2h", 3.0), ("3d", "6h", 1.0))}


def burn_expr(slo: str, speed: str) -> str:
    objective = SLOS[slo][0]
    budget = f"{1 - objective:.2f}"
    parts = [
        f"(job:slo_{slo}_errors:ratio_rate{long_} > ({factor} * {budget})"
        f" and job:slo_{slo}_errors:ratio_rate{short} > ({factor} * {budget}))"
        for long_, short, factor in BURN[speed]
    ]
    return " or ".join(parts)


_WINDOW_WORDS = {"m": "minutes", "h": "hours", "d": "days"}


def _words(window: str) -> str:
    count, unit = int(window[:-1]), window[-1]
    return f"{count} {_WINDOW_WORDS[unit].removesuffix('s') if count == 1 else _WINDOW_WORDS[unit]}"


def _burn_meaning(nice: str, objective: float, speed: str) -> str:
    """What the multi-window burn-rate expression says, in words.

    >>> _burn_meaning("Verification success", 0.95, "fast")[:89]
    'The verification success SLO (95%) error ratio exceeds 14.4 times the error budget (0.05)'
    """
    (long1, short1, factor1), (long2, short2, factor2) = BURN[speed]
    return (
        f"The {nice.lower()} SLO ({objective:.0%}) error ratio exceeds {factor1} times the error budget "
        f"({1 - objective:.2f}) over both {_words(long1)} and {_words(short1)}, or {factor2} times over both "
        f"{_words(long2)} and {_words(short2)}, for {'2 minutes (page)' if speed == 'fast' else '15 minutes (ticket)'}."
    )


def _slo_alert(slo: str, speed: str) -> Alert:
    objective = SLOS[slo][0]
    nice = {"verification": "Verification success", "pattern_retrieval_latency": "Pattern retrieval latency"}[slo]
    title = f"{''.join(w.capitalize() for w in slo.split('_'))}ErrorBudgetBurn{speed.capitalize()}"
    fast = speed == "fast"
    # firing: every request fails (error ratio 1, above every burn threshold); healthy: none fails
    long_run = 4400  # minutes: the 3-day window of the slowest burn alert needs data
    if slo == "verification":
        fail, ok = (
            app_series("verification_failures_total", 'agent_id="a",reason="r"'),
            app_series("verification_success_total", 'agent_id="a"'),
        )
        firing = {fail: counter_values(60, long_run), ok: f"0x{long_run}"}
        healthy = {fail: f"0x{long_run}", ok: counter_values(60, long_run)}
    else:
        name = "pattern_retrieval_duration_seconds"
        firing = histogram_series({"0.01": 0, "+Inf": 60}, name, minutes_=long_run)
        healthy = histogram_series({"0.01": 60, "+Inf": 60}, name, minutes_=long_run)
    return Alert(
        name=title,
        severity="P1" if fast else "P2",
        component="slo",
        expr=burn_expr(slo, speed),
        summary=f"{nice} SLO ({objective:.0%}) error budget burns {'fast' if fast else 'steadily'}",
        description=f"{nice} errors are {{{{ $value | humanizePercentage }}}} of requests over the long window (budget {1 - objective:.0%}).",
        impact="At this rate the 30-day error budget is gone in "
        + ("about 2 days (page)." if fast else "under 10 days (ticket)."),
        meaning=_burn_meaning(nice, objective, speed),
        diagnosis=(f"job:slo_{slo}_errors:ratio_rate1h", f"job:slo_{slo}:error_budget_remaining"),
        mitigation=(
            "Find the cause with the related threshold alerts and dashboards.",
            "Freeze risky changes until the burn stops.",
        ),
        scenario=Scenario(firing=firing, healthy=healthy, value=1, labels=JOB_ONLY, active_from=1),
        for_="2m" if fast else "15m",
        group="slo",
    )


SLO_ALERTS: tuple[Alert, ...] = tuple(_slo_alert(slo, speed) for slo in SLOS for speed in ("fast", "slow"))
