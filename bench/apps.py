"""The trivial endpoint of the throughput benchmark, without otel_ccmon.

Kept apart from ``bench.apps_instrumented``: importing otel_ccmon there sets the global meter
provider, which would make FastAPI's native telemetry record this app too and slow the baseline.
"""

from __future__ import annotations

from fastapi import FastAPI


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


plain = make_app()
