"""FastAPI integration: stable-semconv HTTP server metrics and a ``/metrics`` route."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

from otel_ccmon._api import initialize_metrics
from otel_ccmon._core import Monitor

# The instrumentation matches these against the full URL (scheme://host/path), unanchored;
# anchor them so that only these exact paths are excluded (and no comma: it is the separator).
EXCLUDED_URLS = r"^[a-z]+://[^/]+/metrics/?$,^[a-z]+://[^/]+/health/?$"
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def instrument_app(app: Any, monitor: Monitor | None = None, *, metrics_path: str = "/metrics") -> Monitor:
    """Add HTTP server metrics, a ``/metrics`` route and the event-loop probe to a FastAPI app.

    HTTP metrics follow the stable semantic conventions
    (``http_server_request_duration_seconds`` by ``http_route`` template); raw
    paths never become labels. ``/metrics`` and ``/health`` are not measured.

    >>> from fastapi import FastAPI
    >>> app = FastAPI()
    >>> monitor = instrument_app(app)
    >>> any(getattr(r, "path", None) == "/metrics" for r in app.routes)
    True
    """
    # Read once by the instrumentation at first use; the user's own choice wins.
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    from fastapi import Response
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    monitor = monitor or initialize_metrics()
    if not getattr(app, "_ccmon_instrumented", False):
        FastAPIInstrumentor.instrument_app(app, meter_provider=monitor.meter_provider, excluded_urls=EXCLUDED_URLS)
        app._ccmon_instrumented = True
        if monitor.registry is not None:

            def metrics() -> Response:
                return Response(monitor.render_prometheus(), media_type=PROMETHEUS_CONTENT_TYPE)

            app.add_api_route(metrics_path, metrics, methods=["GET"], include_in_schema=False)
        app.router.lifespan_context = _with_loop_probe(app.router.lifespan_context)
    return monitor


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
