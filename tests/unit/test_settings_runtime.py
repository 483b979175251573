"""Settings from the environment, and runtime metrics."""

from __future__ import annotations

import gc
import threading
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics._internal.aggregation import _ExplicitBucketHistogramAggregation
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.metrics.view import DropAggregation, View

from otel_ccmon import _core
from otel_ccmon._sdk_seam import MergingInMemoryReader
from otel_ccmon._settings import Settings
from tests.conftest import Reader


def test_settings_from_standard_env() -> None:
    s = Settings.from_env(
        {
            "OTEL_METRICS_EXPORTER": "otlp, prometheus",
            "OTEL_SERVICE_NAME": "svc",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
            "OTEL_METRIC_EXPORT_INTERVAL": "5000",
            "OTEL_RESOURCE_ATTRIBUTES": "service.instance.id=abc,deployment.environment=dev",
            "CCMON_STRICT": "true",
        }
    )
    assert s.exporters == ("otlp", "prometheus")
    assert (s.service_name, s.service_instance_id) == ("svc", "abc")
    assert s.otlp_endpoint == "http://127.0.0.1:4318"
    assert s.export_interval_ms == 5000 and s.strict


def test_settings_defaults_and_overrides() -> None:
    s = Settings.from_env({}, service_name="x")
    assert s.exporters == ("prometheus",) and s.service_name == "x" and s.shutdown_timeout_ms == 2000
    assert Settings.from_env({"OTEL_METRICS_EXPORTER": "none"}).exporters == ()
    assert Settings.from_env({"OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attrs"}).service_name == "from-attrs"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OTEL_METRICS_EXPORTER": "zipkin"}, "unknown metrics exporter"),
        ({"OTEL_METRIC_EXPORT_INTERVAL": "soon"}, "must be an integer"),
        ({"OTEL_METRIC_EXPORT_INTERVAL": "-5"}, "must be positive"),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "unknown OTLP protocol"),
    ],
)
def test_bad_settings_fail_clearly(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_settings_are_frozen() -> None:
    s = Settings()
    with pytest.raises(AttributeError):
        s.strict = True  # type: ignore[misc]


def test_runtime_metrics() -> None:
    _core.reset_for_tests()
    reader = InMemoryMetricReader()
    _core.initialize(
        Settings(exporters=(), runtime_metrics=True),
        meter_provider=MeterProvider(metric_readers=[reader]),
        set_global=False,
    )
    try:
        gc.collect()
        r = Reader(reader)
        assert r.value("process.cpu") > 0
        assert r.value("process.resident_memory") > 10_000_000
        gens = {p.attributes["generation"] for p in r.points("python.gc.duration")}
        assert "2" in gens
    finally:
        _core.reset_for_tests()


class _CollectingLock:
    """An aggregation's lock that runs a GC each time it is taken: a GC while the SDK holds it."""

    def __init__(self, lock: Any) -> None:
        self._lock = lock

    def __enter__(self) -> None:
        self._lock.acquire()
        gc.collect()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


@pytest.mark.parametrize("backend", ["sdk", "fast"])
def test_a_collection_that_triggers_a_gc_does_not_deadlock(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seen in the alert receiver on a busy machine (docs/reliability.md): a GC that ran inside the
    SDK's collection of the GC-pause histogram recorded into that histogram from the GC callback,
    on the lock the same thread held; every later scrape waited for it. Here every histogram
    aggregation collects garbage whenever its lock is taken, so a GC runs under it every time."""
    real_init = _ExplicitBucketHistogramAggregation.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        self._lock = _CollectingLock(self._lock)

    monkeypatch.setattr(_ExplicitBucketHistogramAggregation, "__init__", init)
    _core.reset_for_tests()
    settings = Settings(exporters=(), runtime_metrics=True)
    reader: InMemoryMetricReader
    if backend == "fast":
        reader = MergingInMemoryReader()
        _core.initialize(settings, extra_readers=[reader], set_global=False)
    else:
        reader = InMemoryMetricReader()
        _core.initialize(settings, meter_provider=MeterProvider(metric_readers=[reader]), set_global=False)
    counts: list[int] = []

    def collect_with_gcs() -> None:
        for _ in range(5):
            gc.collect()
            counts.append(sum(p.count for p in Reader(reader).points("python.gc.duration")))

    worker = threading.Thread(target=collect_with_gcs, daemon=True)  # a deadlocked one must not hold pytest
    try:
        worker.start()
        worker.join(timeout=60)
        assert not worker.is_alive(), "the collection deadlocked (a GC callback recorded under the SDK's lock)"
        # every pause is recorded, by the collection after it: the count grows with each round
        assert len(counts) == 5 and counts[0] >= 1 and counts == sorted(set(counts)), counts
    finally:
        _core.reset_for_tests()


def test_gc_pauses_are_recorded_when_a_view_drops_process_cpu() -> None:
    """The queued GC pauses are drained by process.cpu's callback: the SDK runs every observable
    callback on each collection, whatever a View does with the measurements, so a user who drops
    process.cpu still gets python.gc.duration."""
    _core.reset_for_tests()
    reader = InMemoryMetricReader()
    provider = MeterProvider(
        metric_readers=[reader], views=[View(instrument_name="process.cpu", aggregation=DropAggregation())]
    )
    _core.initialize(Settings(exporters=(), runtime_metrics=True), meter_provider=provider, set_global=False)
    try:
        gc.collect()
        r = Reader(reader)
        assert not r.points("process.cpu")
        assert {p.attributes["generation"] for p in r.points("python.gc.duration")} >= {"2"}
    finally:
        _core.reset_for_tests()
