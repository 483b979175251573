"""The collector's memory sizing, from measurement: what a collector needs for the streams its
claudecode processor holds and the points and log records it accepts, scraped or pushing, and the
memory limit that holds it; and the same for N developers' coding agents at the clients' default
intervals.

The figures come from ``python -m bench.claude_code org N SECONDS METRIC_S LOGS_S [LIMIT] [push]``
(part of ``make bench``) on a 2-core machine, 7 December 2026: Claude Code with teams, cost centres
and projects, one session per developer (docs/performance.md, "Collector sizing" and "Pull or
push"). Scraped (the prometheus exporter): 5,000 developers at 60 s / 5 s held 71,476 streams at
338 points and records per second and peaked at 693 MiB; 2,000 developers exporting every second
held 67,884 streams at 3,596 per second and peaked at 959 MiB (1,000 developers, 216 MiB, check the
fit within 5 %). Pushed (remote-write-only.yaml): the same 5,000 peaked at 483 MiB and the 2,000 at
466 MiB: without the exporter's copy of every series the ingest rate adds nothing measurable. The
memory limiter refuses data once memory passes its soft limit (``limit_mib - spike_limit_mib``), so
the limit is the expected peak over the soft share, and ``GOMEMLIMIT`` is that soft limit. Read by
``mixin`` (the defaults written into the collector's config and manifests), ``ccmon doctor`` (a
warning when the live load needs more), the benchmark and the docs.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

MEASURED = "7 December 2026, python -m bench.claude_code org (5,000 at 60 s / 5 s, 2,000 at 1 s), 2 cores"
BASE_MIB = 75.0
"""Peak RSS of the collector without developers (its pipelines, the exporters' idle state)."""


@dataclass(frozen=True)
class Cost:
    """Peak memory a delivery path costs per held stream and per point or record accepted per second."""

    kib_per_stream: float
    kib_per_ingest: float


SCRAPED = Cost(kib_per_stream=8.41, kib_per_ingest=92.9)
"""The prometheus exporter: the processor's streams plus the exporter's copy of each series; data
arriving every second keeps more of both alive between scrapes."""
PUSHED = Cost(kib_per_stream=5.85, kib_per_ingest=0.0)
"""remote-write-only.yaml: the processor's streams; the writes hold no series of their own."""
STREAMS_PER_DEVELOPER = 14.3
"""Streams each developer's coding agent holds at the clients' default intervals (60 s metrics, 5 s
events; attribution on): 71,476 for 5,000. At 1 s sessions make more turns: 34 each."""
INGEST_PER_DEVELOPER = 0.0675
"""Points and log records per second each developer sends at the clients' default intervals."""
SOFT_SHARE = 0.8
"""The memory limiter's soft limit as a share of its limit (``spike_limit_mib`` = the rest)."""
STEP_MIB = 64


def load_peak_mib(streams: float, ingest_per_s: float, *, pushed: bool = False) -> float:
    """The collector's expected peak resident memory holding ``streams`` streams while accepting
    ``ingest_per_s`` points and log records a second, scraped or (``pushed``) remote-writing.

    >>> scraped_60s, scraped_1s = load_peak_mib(71_476, 338), load_peak_mib(67_884, 3_596)
    >>> round(scraped_60s), round(scraped_1s), round(load_peak_mib(71_476, 338, pushed=True))
    (693, 959, 483)
    """
    cost = PUSHED if pushed else SCRAPED
    return BASE_MIB + (streams * cost.kib_per_stream + ingest_per_s * cost.kib_per_ingest) / 1024


def limit_for_peak(peak_mib: float) -> int:
    """``limit_mib`` that holds ``peak_mib`` under the soft limit, rounded up to 64 MiB (never below 512).

    >>> limit_for_peak(400), limit_for_peak(693)
    (512, 896)
    """
    return max(512, math.ceil(peak_mib / SOFT_SHARE / STEP_MIB) * STEP_MIB)


def collector_peak_mib(developers: int, *, pushed: bool = False) -> float:
    """The collector's expected peak for ``developers`` developers at the clients' default intervals.

    >>> collector_peak_mib(0), round(collector_peak_mib(5000)), round(collector_peak_mib(5000, pushed=True))
    (75.0, 693, 483)
    """
    return load_peak_mib(developers * STREAMS_PER_DEVELOPER, developers * INGEST_PER_DEVELOPER, pushed=pushed)


def memory_limit_mib(developers: int, *, pushed: bool = False) -> int:
    """``limit_mib`` of the memory limiter for ``developers`` at the clients' default intervals.

    >>> memory_limit_mib(2000), memory_limit_mib(5000), memory_limit_mib(5000, pushed=True), memory_limit_mib(10)
    (512, 896, 640, 512)
    """
    return limit_for_peak(collector_peak_mib(developers, pushed=pushed))


def needed_limit_mib(developers: int, streams: float, ingest_per_s: float, *, pushed: bool = False) -> int:
    """The limit a live collector needs: the larger of its developers' need at the clients' default
    intervals and its load's need as measured (``ccmon doctor``).

    >>> needed_limit_mib(2000, 67_884, 3_596), needed_limit_mib(2000, 67_884, 3_596, pushed=True)
    (1216, 640)
    """
    by_load = limit_for_peak(load_peak_mib(streams, ingest_per_s, pushed=pushed))
    return max(memory_limit_mib(developers, pushed=pushed), by_load)


def spike_limit_mib(limit_mib: int) -> int:
    """``spike_limit_mib`` for a limit: the share above the soft limit.

    >>> spike_limit_mib(512)
    103
    """
    return math.ceil(limit_mib * (1 - SOFT_SHARE))


def developers_within(limit_mib: float, *, pushed: bool = False) -> int:
    """How many developers (at the clients' default intervals) a collector with ``limit_mib`` holds
    under its soft limit.

    >>> developers_within(512), developers_within(512, pushed=True)
    (2707, 4095)
    """
    per_developer = collector_peak_mib(1000, pushed=pushed) - BASE_MIB
    return max(0, int((limit_mib * SOFT_SHARE - BASE_MIB) / per_developer * 1000))


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
