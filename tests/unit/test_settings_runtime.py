"""Settings from the environment, and runtime metrics."""

from __future__ import annotations

import gc

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from otel_ccmon import _core
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
