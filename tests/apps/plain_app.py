"""A plain FastAPI app with no otel_ccmon code: auto-instrumentation must do everything."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item_id}")
def item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
