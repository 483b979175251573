"""The same trivial endpoint with ``instrument_app`` (throughput benchmark)."""

from __future__ import annotations

import otel_ccmon as ccmon
from bench.apps import make_app

instrumented = make_app()
ccmon.instrument_app(instrumented)
