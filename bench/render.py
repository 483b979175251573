"""/metrics render cost: ours vs prometheus_client.generate_latest on equivalent series.

``python -m bench.render ratio N REPEATS`` prints JSON with both medians and the ratio (same
process, alternating); ``python -m bench.render memory ours|promclient N`` prints the resident
memory per series (a fresh process per measurement).
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
from typing import Any


def rss_bytes() -> int:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * 4096


def ours(n: int) -> Any:
    from otel_ccmon import _core
    from otel_ccmon._sdk_seam import MergingInMemoryReader
    from otel_ccmon._settings import Settings

    settings = Settings.from_env(
        exporters=("prometheus",), runtime_metrics=False, attribute_cap=n + 10, cardinality_limit=n + 100
    )
    inmem = MergingInMemoryReader()
    monitor = _core.initialize(settings, extra_readers=[inmem])
    recorder = monitor.recorder
    for i in range(n):  # the counter alone, like the prometheus_client side
        recorder.add("verification.failures", 1, f"agent-{i}", "checks_failed")
    return monitor, inmem


def promclient(n: int) -> Any:
    from prometheus_client import CollectorRegistry, Counter

    registry = CollectorRegistry()
    counter = Counter("verification_failures", "Verifications that failed.", ["agent_id", "reason"], registry=registry)
    for i in range(n):
        counter.labels(f"agent-{i}", "checks_failed").inc()
    return registry


def ratio(n: int, repeats: int) -> dict[str, float]:
    from prometheus_client import generate_latest

    monitor, inmem = ours(n)
    registry = promclient(n)
    mine, theirs, collect = [], [], []
    # our render covers every series of the process; keep the comparison to the same series count
    ours_text = monitor.render_prometheus().decode()
    series = ours_text.count("verification_failures_total{")
    assert series == n, (series, n)
    for _ in range(repeats):
        gc.collect()
        t = time.perf_counter()
        monitor.render_prometheus()
        mine.append(time.perf_counter() - t)
        t = time.perf_counter()
        generate_latest(registry)
        theirs.append(time.perf_counter() - t)
        t = time.perf_counter()
        inmem.get_metrics_data()
        collect.append(time.perf_counter() - t)
    m, p = statistics.median(mine), statistics.median(theirs)
    return {
        "series": n,
        "ours_ms": m * 1e3,
        "promclient_ms": p * 1e3,
        "ratio": m / p,
        "ratio_min": min(mine) / max(theirs),
        "ratio_max": max(mine) / min(theirs),
        "collect_ms": statistics.median(collect) * 1e3,
    }


def memory(kind: str, n: int) -> dict[str, float]:
    gc.collect()
    before = rss_bytes()
    keep = ours(n) if kind == "ours" else promclient(n)
    gc.collect()
    after = rss_bytes()
    del keep
    return {"series": n, "bytes_per_series": (after - before) / n}


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "ratio":
        print(json.dumps(ratio(int(sys.argv[2]), int(sys.argv[3]))))
    else:
        print(json.dumps(memory(sys.argv[2], int(sys.argv[3]))))
