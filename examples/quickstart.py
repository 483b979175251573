"""The spec's quick-start (src/index.ts) in Python with otel-ccmon.

Run: uvicorn examples.quickstart:app --port 3000, then open http://127.0.0.1:3000/metrics
"""

from __future__ import annotations

import asyncio
import sqlite3

from fastapi import FastAPI

from otel_ccmon import (
    initialize_metrics,
    instrument_app,
    record_db_query,
    record_goap_planning,
    record_neural_operation,
    record_pattern_confidence,
    record_verification,
)

app = FastAPI()

# Initialize metrics system
initialize_metrics()

# Add request duration tracking and expose /metrics for Prometheus
instrument_app(app)

# Record metrics in your code
record_neural_operation("learning")
record_verification("coder-agent", 0.97, True)
record_pattern_confidence("coordination", 0.87)

db = sqlite3.connect(":memory:", check_same_thread=False)
db.execute("CREATE TABLE patterns (id INTEGER PRIMARY KEY, name TEXT)")


async def create_plan(goal: str) -> list[str]:
    await asyncio.sleep(0.01)
    return [f"analyse {goal}", f"implement {goal}", "verify"]


@app.get("/patterns")
async def patterns() -> list[tuple[int, str]]:
    # Record database query with timing
    return await record_db_query(
        "select", "patterns", lambda: asyncio.to_thread(db.execute("SELECT * FROM patterns").fetchall)
    )


@app.get("/plan/{goal}")
async def plan(goal: str) -> list[str]:
    # Record GOAP planning with timing
    return await record_goap_planning("feature-implementation", lambda: create_plan(goal))
