"""The fast recording path is equivalent to the plain SDK path, thread-safe and exact."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

import otel_ccmon as ccmon
from otel_ccmon import _core
from otel_ccmon._core import SCOPE_NAME, SCOPE_VERSION
from otel_ccmon._fast import FastStore
from otel_ccmon._recorder import Recorder
from otel_ccmon._sdk_seam import MergingExporter
from otel_ccmon._settings import Settings
from tests.conftest import install


def workload() -> None:
    for i in range(50):
        ccmon.record_neural_operation(("learning", "retrieval", "extraction")[i % 3], count=i)
        ccmon.record_pattern_confidence(("coordination", "prediction")[i % 2], (i % 10) / 10 + 0.05)
        ccmon.record_verification(f"agent-{i % 4}", 0.5 + (i % 5) / 10, i % 7 != 0, None if i % 7 else "r")
        ccmon.record_cache_access("embeddings", i % 3 != 0)
        ccmon.observe_db_query("select", "patterns", i / 1000)
        ccmon.observe_goap_planning("p", i / 10)
        ccmon.set_background_queue_length(i)
    ccmon.record_neural_operation("bogus")  # a drop, counted the same way
    ccmon.set_pattern_memory(1234)


def snapshot(data: MetricsData | None) -> dict[str, dict[tuple[tuple[str, Any], ...], Any]]:
    """Everything our scope reported, in a form that does not depend on the backend."""
    out: dict[str, dict[tuple[tuple[str, Any], ...], Any]] = {}
    assert data is not None
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            if sm.scope.name != "otel_ccmon":
                continue
            for metric in sm.metrics:
                if metric.name == "ccmon.series":  # the fast path's own gauge
                    continue
                points = out.setdefault(metric.name, {})
                data_points: list[Any] = list(metric.data.data_points)  # number or histogram points
                for p in data_points:
                    key = tuple(sorted((p.attributes or {}).items()))
                    if hasattr(p, "bucket_counts"):
                        points[key] = (
                            p.count,
                            round(p.sum, 9),
                            tuple(p.bucket_counts),
                            tuple(p.explicit_bounds),
                            p.min,
                            p.max,
                        )
                    else:
                        points[key] = p.value
    return out


def run_on(backend: str) -> dict[str, dict[tuple[tuple[str, Any], ...], Any]]:
    reader = install(backend)
    try:
        workload()
        return snapshot(reader._reader.get_metrics_data())
    finally:
        _core.reset_for_tests()


def test_fast_path_equals_sdk_path() -> None:
    fast, sdk = run_on("fast"), run_on("sdk")
    assert set(fast) == set(sdk)
    for name in sdk:
        assert fast[name] == sdk[name], name
    assert fast["truth.score"] and fast["db.query.duration"]  # histograms really compared


def test_backend_selection() -> None:
    install("fast")
    assert _core.current() is not None and _core.current().recorder.fast  # type: ignore[union-attr]
    install("sdk")
    assert not _core.current().recorder.fast  # type: ignore[union-attr]
    _core.reset_for_tests()


@pytest.mark.parametrize("backend", ["fast", "sdk"])
def test_concurrent_updates_sum_exactly(backend: str) -> None:
    reader = install(backend)
    threads, per_thread = 8, 5000
    barrier = threading.Barrier(threads)

    def work() -> None:
        barrier.wait()
        for i in range(per_thread):
            ccmon.record_neural_operation("learning", 2)
            ccmon.record_pattern_confidence("coordination", 0.25 if i % 2 else 0.95)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    try:
        assert reader.value("neural.operations", operation_type="learning") == threads * per_thread * 2
        (hist,) = reader.points("pattern.confidence")
        assert hist.count == threads * per_thread
        assert hist.sum == pytest.approx(threads * per_thread / 2 * (0.25 + 0.95))
        assert hist.bucket_counts[2] == hist.bucket_counts[9] == threads * per_thread // 2
    finally:
        _core.reset_for_tests()


class _Capture(MetricExporter):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[MetricsData] = []

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        self.batches.append(metrics_data)
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        pass


def test_push_exporters_carry_fast_histograms() -> None:
    """The OTLP path: the exporter wrapper adds the histograms to every export."""
    capture = _Capture()
    settings = Settings(exporters=(), runtime_metrics=False)
    resource = Resource.create({"service.name": "t"})
    store = FastStore(resource, InstrumentationScope(SCOPE_NAME, SCOPE_VERSION))
    reader = PeriodicExportingMetricReader(MergingExporter(capture, store), export_interval_millis=3_600_000)
    provider = MeterProvider(metric_readers=[reader], resource=resource)
    recorder = Recorder(provider.get_meter(SCOPE_NAME, SCOPE_VERSION), settings, store)
    recorder.observe("truth.score", 0.9, "coder-agent", high=1.0)
    recorder.add("neural.operations", 5, "learning")
    reader.force_flush()
    names = _names(capture.batches)
    assert {"truth.score", "neural.operations"} <= names
    provider.shutdown()


def _names(batches: Sequence[MetricsData]) -> set[str]:
    return {m.name for b in batches for rm in b.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}


def test_text_render_equals_the_sdk_prometheus_exposition() -> None:
    """Our direct /metrics text parses to exactly the samples the OTel Prometheus exporter writes."""
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from prometheus_client import CollectorRegistry, generate_latest

    from tests.support import parse_prometheus

    def samples(text: str) -> set[tuple[str, tuple[tuple[str, str], ...], float]]:
        return {
            (n, tuple(sorted((k, v) for k, v in labels.items() if k != "otel_scope_version")), v)
            for n, labels, v in parse_prometheus(text)
            if not n.startswith(("target_info", "ccmon_series"))
        }

    _core.reset_for_tests()
    registry = CollectorRegistry()
    provider = MeterProvider(metric_readers=[PrometheusMetricReader(registry=registry)])
    _core.initialize(Settings(exporters=(), runtime_metrics=False), meter_provider=provider, set_global=False)
    workload()
    sdk_text = generate_latest(registry).decode()
    _core.reset_for_tests()
    fast = ccmon.initialize_metrics(exporters=("prometheus",), runtime_metrics=False)
    try:
        workload()
        fast_text = fast.render_prometheus().decode()
    finally:
        _core.reset_for_tests()
    ours, theirs = samples(fast_text), samples(sdk_text)
    assert ours == theirs
    assert any(n == "truth_score_bucket" for n, _, _ in ours)  # labels sorting before and after `le`
