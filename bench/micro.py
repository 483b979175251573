"""Micro benchmarks, side by side in one process: our helpers, the raw OTel SDK, prometheus_client.

Each figure is the median over ``repeats`` runs of ``loops`` calls (ns per call), with the spread
(min, max). Run through ``bench/run.py``; ``python -m bench.micro`` prints JSON.
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any


def measure(fn: Callable[[], object], loops: int, repeats: int) -> dict[str, float]:
    """ns per call: median, min, max over ``repeats`` runs of ``loops`` calls."""
    results = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter_ns()
        for _ in range(loops):
            fn()
        results.append((time.perf_counter_ns() - start) / loops)
    return {"median": statistics.median(results), "min": min(results), "max": max(results)}


def run(loops: int, repeats: int) -> dict[str, Any]:
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.sdk.metrics import MeterProvider
    from prometheus_client import CollectorRegistry, Counter, Histogram

    import otel_ccmon as ccmon
    from otel_ccmon import _catalog as cat

    ccmon.initialize_metrics(exporters=("prometheus",), runtime_metrics=False)

    # The raw SDK, one reader, the same attribute: what the helpers replace.
    provider = MeterProvider(metric_readers=[PrometheusMetricReader(registry=CollectorRegistry())])
    meter = provider.get_meter("bench")
    counter = meter.create_counter("bench.operations")
    histogram = meter.create_histogram(
        "bench.confidence", explicit_bucket_boundaries_advisory=list(cat.CONFIDENCE_BUCKETS)
    )
    attrs = {"operation_type": "learning"}
    hattrs = {"pattern_type": "coordination"}

    registry = CollectorRegistry()
    pc_counter = Counter("bench_ops", "ops", ["operation_type"], registry=registry)
    pc_hist = Histogram("bench_conf", "conf", ["pattern_type"], buckets=cat.CONFIDENCE_BUCKETS, registry=registry)
    bound = pc_counter.labels("learning")

    cases: dict[str, Callable[[], object]] = {
        "counter_helper_ns": lambda: ccmon.record_neural_operation("learning"),
        "counter_otel_ns": lambda: counter.add(1, attrs),
        "counter_promclient_ns": lambda: pc_counter.labels("learning").inc(),
        "counter_promclient_bound_ns": bound.inc,
        "histogram_helper_ns": lambda: ccmon.record_pattern_confidence("coordination", 0.87),
        "histogram_otel_ns": lambda: histogram.record(0.87, hattrs),
        "histogram_promclient_ns": lambda: pc_hist.labels("coordination").observe(0.87),
    }
    out: dict[str, Any] = {}
    for name, fn in cases.items():
        for _ in range(min(loops, 1000)):  # warm caches and the attribute resolver
            fn()
        out[name] = measure(fn, loops, repeats)
    return out


if __name__ == "__main__":
    loops = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    print(json.dumps(run(loops, repeats)))
