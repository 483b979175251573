"""FastAPI integration: stable-semconv HTTP server metrics, a ``/metrics`` route, the loop probe.

HTTP metrics come from a small ASGI middleware of ours by default: measured on this machine
class, ``opentelemetry-instrumentation-fastapi`` costs ≈ 90 µs per request (spans, context,
route re-matching, attribute collection) — 0.65–0.84 of plain uvicorn throughput — while the
spec promises negligible overhead. The middleware records the same metric
(``http.server.request.duration``, seconds, with ``http.request.method``, ``http.route``,
``http.response.status_code``, ``url.scheme``, ``network.protocol.version``, ``error.type``), reading
the route template Starlette stores in the scope. ``otel_instrumentation=True`` uses the OTel
instrumentation instead (for its spans); auto-instrumentation always does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from otel_ccmon._api import initialize_metrics
from otel_ccmon._catalog import BY_OTEL_NAME, CATALOG, Source
from otel_ccmon._core import Monitor
from otel_ccmon._extras import require

# The OTel instrumentation matches these against the full URL (scheme://host/path), unanchored;
# anchor them so that only these exact paths are excluded (and no comma: it is the separator).
EXCLUDED_URLS = r"^[a-z]+://[^/]+/metrics/?$,^[a-z]+://[^/]+/health/?$"
EXCLUDED_PATHS = frozenset({"/metrics", "/metrics/", "/health", "/health/"})
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
HTTP_DURATION = "http.server.request.duration"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def instrument_app(
    app: Any, monitor: Monitor | None = None, *, metrics_path: str = "/metrics", otel_instrumentation: bool = False
) -> Monitor:
    """Add HTTP server metrics, a ``/metrics`` route and the event-loop probe to a FastAPI app.

    HTTP metrics follow the stable semantic conventions
    (``http_server_request_duration_seconds`` by ``http_route`` template); raw paths never become
    labels. ``/metrics`` and ``/health`` are not measured.

    >>> from fastapi import FastAPI
    >>> app = FastAPI()
    >>> monitor = instrument_app(app)
    >>> any(getattr(r, "path", None) == "/metrics" for r in app.routes)
    True
    """
    require("instrument_app", "fastapi", "fastapi")
    monitor = monitor or initialize_metrics()
    if getattr(app, "_ccmon_instrumented", False):
        return monitor
    app._ccmon_instrumented = True
    if otel_instrumentation:
        # Read once by the instrumentation at first use; the user's own choice wins.
        os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
        require("otel_instrumentation=True", "fastapi", "opentelemetry.instrumentation.fastapi")
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(
            app,
            meter_provider=http_meter_provider(monitor),
            excluded_urls=EXCLUDED_URLS,
            exclude_spans=["receive", "send"],  # internal per-message spans: cost, no metrics
        )
    else:
        app.add_middleware(HttpMetricsMiddleware, record=_duration_recorder(monitor))
        # FastAPI ≥ 0.16x records the same metric natively into the global meter provider: one
        # source only (its spans and logs stay as configured). The config dict is read per request.
        native = getattr(app, "_telemetry", None)
        if isinstance(native, dict):
            native["metrics"] = False
    if monitor.registry is not None:
        from fastapi import Response

        def metrics() -> Response:
            return Response(monitor.render_prometheus(), media_type=PROMETHEUS_CONTENT_TYPE)

        app.add_api_route(metrics_path, metrics, methods=["GET"], include_in_schema=False)
    app.router.lifespan_context = _with_loop_probe(app.router.lifespan_context)
    return monitor


def http_meter_provider(monitor: Monitor) -> Any:
    """The meter provider for HTTP instrumentations: the request-duration histogram on the fast
    path when otel_ccmon owns the provider, the SDK otherwise."""
    if monitor.store is None:
        return monitor.meter_provider
    from otel_ccmon._fast import FastHttpMeterProvider

    specs = [s for s in CATALOG if s.source is Source.HTTP]
    return FastHttpMeterProvider(monitor.meter_provider, monitor.store, specs, monitor.settings.cardinality_limit)


def _duration_recorder(monitor: Monitor) -> Callable[[float, dict[str, Any]], None]:
    from otel_ccmon._core import SCOPE_NAME, SCOPE_VERSION

    meter = http_meter_provider(monitor).get_meter(f"{SCOPE_NAME}.http", SCOPE_VERSION)
    spec = BY_OTEL_NAME[HTTP_DURATION]
    histogram = meter.create_histogram(
        spec.otel_name,
        unit=spec.unit,
        description=spec.description,
        explicit_bucket_boundaries_advisory=list(spec.buckets or ()),
    )
    record: Callable[[float, dict[str, Any]], None] = histogram.record
    return record


class HttpMetricsMiddleware:
    """ASGI middleware recording ``http.server.request.duration`` per route template."""

    def __init__(self, app: Any, record: Callable[[float, dict[str, Any]], None]) -> None:
        self.app = app
        self.record = record

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in EXCLUDED_PATHS:
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        error: str | None = None
        try:
            await self.app(scope, receive, send_status)
        except BaseException as exc:
            error = type(exc).__qualname__
            raise
        finally:
            method = scope.get("method", "_OTHER")
            attributes: dict[str, Any] = {
                "http.request.method": method if method in KNOWN_METHODS else "_OTHER",
                "http.response.status_code": status,
                "url.scheme": scope.get("scheme", "http"),
                "network.protocol.version": scope.get("http_version", "1.1"),
            }
            route = getattr(scope.get("route"), "path", None)  # the template, set by Starlette
            if route:
                attributes["http.route"] = route
            if error is None and status >= 500:
                error = str(status)
            if error is not None:
                attributes["error.type"] = error
            self.record(time.perf_counter() - start, attributes)


def _with_loop_probe(inner: Callable[[Any], Any]) -> Callable[[Any], Any]:
    from otel_ccmon._runtime import monitor_event_loop

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        probe = asyncio.create_task(monitor_event_loop())
        try:
            async with inner(app) as state:
                yield state
        finally:
            probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await probe

    return lifespan
