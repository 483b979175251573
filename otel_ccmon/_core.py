"""Meter provider, readers and the process-wide monitor behind the helpers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry import metrics as otel_metrics
from opentelemetry.sdk.metrics import (
    Counter,
    Histogram,
    MeterProvider,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.metrics.view import DropAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from prometheus_client import CollectorRegistry, generate_latest

from otel_ccmon._fast import FastStore
from otel_ccmon._meta import VERSION
from otel_ccmon._recorder import Recorder
from otel_ccmon._sdk_seam import DirectOtlpExporter, MergingExporter, bind_readers
from otel_ccmon._settings import Settings

_log = logging.getLogger("otel_ccmon")

SCOPE_NAME = "otel_ccmon"
SCOPE_VERSION = VERSION


def _otlp_exporter(settings: Settings) -> MetricExporter:
    timeout_s = settings.export_timeout_ms / 1000
    if settings.otlp_protocol == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
                OTLPMetricExporter as GrpcExporter,
            )
        except ImportError as exc:  # the optional extra is not installed
            raise RuntimeError("OTLP gRPC needs the extra: pip install 'otel-ccmon[grpc]'") from exc
        return GrpcExporter(endpoint=settings.otlp_endpoint, timeout=timeout_s)
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    endpoint = settings.otlp_endpoint
    if endpoint and not endpoint.rstrip("/").endswith("/v1/metrics"):
        # OTEL_EXPORTER_OTLP_ENDPOINT is a base URL; the signal path is appended (spec rule).
        endpoint = endpoint.rstrip("/") + "/v1/metrics"
    return OTLPMetricExporter(endpoint=endpoint, timeout=timeout_s)


def _fast_exporter(inner: MetricExporter, store: FastStore) -> MetricExporter:
    """OTLP/HTTP: encode the fast path straight from its cells; other exporters: merge SDK points."""
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    if isinstance(inner, OTLPMetricExporter):
        return DirectOtlpExporter(inner, store)
    return MergingExporter(inner, store)


@dataclass
class Monitor:
    """The configured metrics pipeline of this process.

    Returned by :func:`otel_ccmon.initialize_metrics`. ``registry`` is set when
    the Prometheus pull exporter is enabled and backs the ``/metrics`` route.
    """

    settings: Settings
    meter_provider: Any
    recorder: Recorder
    registry: CollectorRegistry | None = None
    owns_provider: bool = True
    store: FastStore | None = None
    _stopped: bool = field(default=False, repr=False)

    def render_prometheus(self) -> bytes:
        """The Prometheus text exposition of this process's metrics.

        >>> import otel_ccmon
        >>> monitor = otel_ccmon.initialize_metrics()
        >>> otel_ccmon.record_neural_operation("learning")
        >>> b"neural_operations_total" in monitor.render_prometheus()
        True
        """
        if self.registry is None:
            raise RuntimeError("the Prometheus exporter is not enabled (OTEL_METRICS_EXPORTER)")
        sdk_part = generate_latest(self.registry)
        if self.store is None:
            return sdk_part
        return sdk_part + self.store.render_text().encode()

    def force_flush(self, timeout_ms: int | None = None) -> bool:
        """Export what has been recorded now (OTLP readers)."""
        flush = getattr(self.meter_provider, "force_flush", None)
        if flush is None:
            return True
        return bool(flush(timeout_millis=timeout_ms or self.settings.shutdown_timeout_ms))

    def shutdown(self) -> None:
        """Flush and stop the readers; bounded by ``settings.shutdown_timeout_ms``."""
        if self._stopped:
            return
        self._stopped = True
        if self.owns_provider:
            _shutdown_bounded(self.meter_provider, self.settings.shutdown_timeout_ms)


def start_metrics_server(monitor: Monitor, host: str, port: int) -> ThreadingHTTPServer:
    """Serve ``monitor.render_prometheus()`` at ``http://host:port/metrics`` on a daemon thread.

    Used by auto-instrumentation (apps without a route of their own); prometheus_client's server
    would only see the SDK-side series, not the fast path's.
    """

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] not in ("/", "/metrics"):
                self.send_error(404)
                return
            body = monitor.render_prometheus()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="otel-ccmon-metrics", daemon=True).start()
    return server


def _shutdown_bounded(provider: MeterProvider, timeout_ms: int) -> None:
    # MeterProvider.shutdown runs a final export. With an unreachable collector the
    # exporter's retry loop can outlast the timeout we pass, so run it on a daemon
    # thread and stop waiting at the deadline: the process must be able to exit.
    done = threading.Event()

    def run() -> None:
        try:
            provider.shutdown(timeout_millis=timeout_ms)
        except Exception:  # shutdown must never raise into the application
            _log.exception("otel_ccmon: meter provider shutdown failed")
        finally:
            done.set()

    threading.Thread(target=run, name="otel-ccmon-shutdown", daemon=True).start()
    if not done.wait(timeout_ms / 1000):
        _log.warning("otel_ccmon: shutdown did not finish within %d ms; continuing", timeout_ms)


def build_provider(
    settings: Settings, extra_readers: Sequence[MetricReader] = ()
) -> tuple[MeterProvider, CollectorRegistry | None, FastStore]:
    """A meter provider with the readers named by ``settings.exporters``, and its fast-path store.

    Every reader sees the fast path's histograms: the Prometheus reader and the push exporters
    are wrapped to merge them into each collection (see ``otel_ccmon._sdk_seam``).
    """
    resource = Resource.create(
        {"service.name": settings.service_name, "service.instance.id": settings.service_instance_id}
    )
    store = FastStore(resource, InstrumentationScope(SCOPE_NAME, SCOPE_VERSION))
    if settings.otlp_refresh_ms:
        store.refresh_every = max(1, -(-settings.otlp_refresh_ms // settings.export_interval_ms))
    limits: Any = dict.fromkeys(_INSTRUMENT_CLASSES, settings.cardinality_limit)
    readers: list[MetricReader] = []
    registry: CollectorRegistry | None = None
    if "prometheus" in settings.exporters:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader

        # A registry of our own: the global one also carries prometheus_client's
        # process collector, whose names would clash with our runtime metrics.
        registry = CollectorRegistry(auto_describe=False)
        # SDK-side series only; the fast path's are rendered straight from their cells (render_prometheus)
        readers.append(PrometheusMetricReader(registry=registry, cardinality_limits=limits))
    if "otlp" in settings.exporters:
        readers.append(
            PeriodicExportingMetricReader(
                _fast_exporter(_otlp_exporter(settings), store),
                export_interval_millis=settings.export_interval_ms,
                export_timeout_millis=settings.export_timeout_ms,
                cardinality_limits=limits,
            )
        )
    if "console" in settings.exporters:
        readers.append(
            PeriodicExportingMetricReader(
                MergingExporter(ConsoleMetricExporter(), store), export_interval_millis=settings.export_interval_ms
            )
        )
    bind_readers(extra_readers, store)
    readers.extend(extra_readers)
    # http.server.active_requests is not in the catalog: two SDK adds per request for nothing
    views = [View(instrument_name="http.server.active_requests", aggregation=DropAggregation())]
    return MeterProvider(metric_readers=readers, resource=resource, views=views), registry, store


# Limits for every SDK instrument kind: the user's and the instrumentations' instruments, and our
# runtime gauges (observable). The fast path's cells are not SDK instruments and have their own cap.
_INSTRUMENT_CLASSES = (
    Counter,
    UpDownCounter,
    Histogram,
    ObservableCounter,
    ObservableUpDownCounter,
    ObservableGauge,
)

_lock = threading.Lock()
_monitor: Monitor | None = None
RECORDER: Recorder | None = None
"""The current monitor's recorder; read directly by the helpers (one global lookup per call)."""


def current() -> Monitor | None:
    """The process-wide monitor, if initialised."""
    return _monitor


def initialize(
    settings: Settings | None = None,
    *,
    meter_provider: Any = None,
    set_global: bool = True,
    extra_readers: Sequence[MetricReader] = (),
) -> Monitor:
    """Create the process-wide monitor once; later calls return the same one."""
    global _monitor, RECORDER
    with _lock:
        if _monitor is not None:
            if settings is not None and settings != _monitor.settings:
                _log.warning("otel_ccmon: already initialised; ignoring new settings")
            return _monitor
        settings = settings or Settings.from_env()
        registry = None
        store: FastStore | None = None
        owns = meter_provider is None
        if meter_provider is None:
            meter_provider, registry, store = build_provider(settings, extra_readers)
            if set_global:
                otel_metrics.set_meter_provider(meter_provider)
        meter = meter_provider.get_meter(SCOPE_NAME, SCOPE_VERSION)
        recorder = Recorder(meter, settings, store)
        if settings.runtime_metrics:
            from otel_ccmon._runtime import RuntimeMetrics

            RuntimeMetrics.install(meter)
        _monitor = Monitor(settings, meter_provider, recorder, registry, owns, store)
        RECORDER = recorder
        return _monitor


def reset_for_tests() -> None:
    """Forget the process-wide monitor (tests only; shuts it down first)."""
    global _monitor, RECORDER
    with _lock:
        if _monitor is not None:
            _monitor.shutdown()
        from otel_ccmon._runtime import RuntimeMetrics

        RuntimeMetrics.uninstall()
        _monitor = None
        RECORDER = None
