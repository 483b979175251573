"""The same trivial endpoint with opentelemetry-instrumentation-fastapi (the alternative measured)."""

from __future__ import annotations

import otel_ccmon as ccmon
from bench.apps import make_app

instrumented = make_app()
ccmon.instrument_app(instrumented, otel_instrumentation=True)
