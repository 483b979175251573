"""The PromQL of Claude Code's report and completeness (asked through ``otel_ccmon._promql``, with
the long-term parameters). Counters are read with :func:`exact_increase_expr` (maxima and minima,
which downsampled blocks keep exactly), never as raw samples: Thanos answers a bare range selector
over downsampled blocks with averages.
"""

from __future__ import annotations

from collections.abc import Sequence


def exact_increase_expr(metric: str, grouping: Sequence[str], window_s: int) -> str:
    """How much the counters of ``metric`` grew in the ``window_s`` seconds before the query time,
    summed by ``grouping``: exactly, where ``increase()`` extrapolates to the window's edges (which
    overstates a day by up to a scrape interval's share, and a day read from 1-hour downsampled
    blocks by up to 1/23).

    A counter is read at the window's end and at its start (its newest value in the day before);
    one born in the window grows from its first value (the collector starts every stream at 0).
    Maxima and minima: Thanos keeps them exactly in downsampled blocks. A counter that reset in
    the window or the day before falls back to ``increase()`` (counted by :func:`reset_series_expr`,
    so that the report says those figures are approximate).

    >>> expr = exact_increase_expr("c", ["team_id"], 86400)
    >>> expr.startswith("sum by (team_id) ((((max_over_time(c[86400s]) - max_over_time(c[1d] offset 86400s)) or")
    True
    >>> expr.endswith("unless resets(c[172800s]) > 0) or (increase(c[86400s]) and resets(c[172800s]) > 0))")
    True
    """
    w = f"{window_s}s"
    steady = f"(max_over_time({metric}[{w}]) - max_over_time({metric}[1d] offset {w}))"
    born = f"(max_over_time({metric}[{w}]) - min_over_time({metric}[{w}]))"
    reset = f"resets({metric}[{window_s + 86400}s]) > 0"
    exact = f"(({steady} or {born}) unless {reset})"
    return f"sum by ({', '.join(grouping)}) ({exact} or (increase({metric}[{w}]) and {reset}))"


def reset_series_expr(metric: str, window_s: int) -> str:
    """Counters of ``metric`` that reset in the window or the day before (approximate figures).

    >>> reset_series_expr("c", 60)
    'count(resets(c[86460s]) > 0) or vector(0)'
    """
    return f"count(resets({metric}[{window_s + 86400}s]) > 0) or vector(0)"
