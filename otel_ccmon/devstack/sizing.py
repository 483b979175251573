"""The collector's memory sizing, from measurement: what a collector needs for N developers' coding
agents (Claude Code with attribution, at the clients' default intervals) and the memory limit that
holds it.

The figures come from ``python -m bench.claude_code org N 240 60 5 LIMIT`` (part of ``make bench``) on
a 2-core machine: the collector's peak resident memory with 1,000 and 5,000 simulated developers,
each with one session, teams, cost centres and projects (docs/performance.md, "Collector sizing"):
188 MiB at 1,000 (limit 4,096 MiB: no pressure), 642 MiB at 5,000 with a 768 MiB limit and
``GOMEMLIMIT`` at its soft limit (exact totals, nothing refused; without ``GOMEMLIMIT`` the heap
grew to 1,026 MiB, twice what was live). The memory limiter refuses data once memory passes its
soft limit (``limit_mib - spike_limit_mib``), so the limit is the expected peak over the soft share,
and ``GOMEMLIMIT`` is that soft limit. Read by ``mixin`` (the defaults written into the
collector's config and manifests), ``ccmon doctor`` (a warning when the live developer count needs
more) and the docs.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

MEASURED = "7 December 2026, python -m bench.claude_code org N 240 60 5, 2 cores"
BASE_MIB = 75.0
"""Peak RSS of the collector without developers (its pipelines, the exporters' idle state)."""
MIB_PER_1000_DEVELOPERS = 114.0
"""Peak RSS each further 1,000 developers add (streams held, the exporter's series, batches)."""
SOFT_SHARE = 0.8
"""The memory limiter's soft limit as a share of its limit (``spike_limit_mib`` = the rest)."""
STEP_MIB = 64


def collector_peak_mib(developers: int) -> float:
    """The collector's expected peak resident memory for ``developers`` developers.

    >>> collector_peak_mib(0), collector_peak_mib(5000)
    (75.0, 645.0)
    """
    return BASE_MIB + MIB_PER_1000_DEVELOPERS * developers / 1000


def memory_limit_mib(developers: int) -> int:
    """``limit_mib`` of the memory limiter for ``developers``: the peak under the soft limit, rounded
    up to 64 MiB (never below 512).

    >>> memory_limit_mib(2000), memory_limit_mib(5000), memory_limit_mib(10)
    (512, 832, 512)
    """
    needed = collector_peak_mib(developers) / SOFT_SHARE
    return max(512, math.ceil(needed / STEP_MIB) * STEP_MIB)


def spike_limit_mib(limit_mib: int) -> int:
    """``spike_limit_mib`` for a limit: the share above the soft limit.

    >>> spike_limit_mib(512)
    103
    """
    return math.ceil(limit_mib * (1 - SOFT_SHARE))


def developers_within(limit_mib: float) -> int:
    """How many developers a collector with ``limit_mib`` holds under its soft limit.

    >>> developers_within(512)
    2935
    """
    return max(0, int((limit_mib * SOFT_SHARE - BASE_MIB) / MIB_PER_1000_DEVELOPERS * 1000))


_LIMIT_DEFAULT = re.compile(r"limit_mib: \$\{env:CCMON_COLLECTOR_MEMORY_LIMIT_MIB:-(\d+)\}")


def configured_limit_mib(repo: Path | None, env: dict[str, str] | None = None) -> int | None:
    """The memory limit a checkout's collector runs with: the variable, else collector/config.yaml's default."""
    value = (os.environ if env is None else env).get("CCMON_COLLECTOR_MEMORY_LIMIT_MIB", "")
    if value.isdigit():
        return int(value)
    if repo is None:
        return None
    found = _LIMIT_DEFAULT.search((repo / "collector" / "config.yaml").read_text())
    return int(found.group(1)) if found else None


def go_memory_limit(limit_mib: int) -> str:
    """``GOMEMLIMIT`` for a collector with ``limit_mib``: the soft limit, so that the Go runtime collects
    before the memory limiter refuses (without it the heap may grow to twice what is live).

    >>> go_memory_limit(640)
    '512MiB'
    """
    return f"{int(limit_mib * SOFT_SHARE)}MiB"
