"""Queries of a running local stack for tests: Prometheus totals, the demo app's own counts."""

from __future__ import annotations

import json
from typing import Any

import httpx

from otel_ccmon.devstack.procs import wait_for
from otel_ccmon.devstack.stack import Stack


def prom_values(stack: Stack, expr: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted((k, v) for k, v in r["metric"].items() if k != "__name__")): float(r["value"][1])
        for r in stack.prom_query(expr)
    }


def prom_total(stack: Stack, expr: str) -> float | None:
    result = stack.prom_query(f"sum({expr})")
    return float(result[0]["value"][1]) if result else None


def wait_total(stack: Stack, expr: str, expected: float, timeout: float = 30) -> None:
    wait_for(lambda: prom_total(stack, expr) == expected, timeout, f"{expr} == {expected} in Prometheus")


def wait_exact(stack: Stack, expected: dict[str, float], what: str, timeout: float = 60) -> None:
    """Wait until every ``sum(expr)`` equals its value (to 1e-9); on timeout, fail naming each that differs."""

    def total(expr: str) -> float:
        return prom_total(stack, expr) or 0.0

    try:
        wait_for(lambda: all(abs(total(e) - v) <= 1e-9 for e, v in expected.items()), timeout, what)
    finally:
        got = {e: total(e) for e in expected}
        wrong = {e: (got[e], v) for e, v in expected.items() if abs(got[e] - v) > 1e-9 * max(1.0, abs(v))}
        assert not wrong, f"{what}: (got, expected) {wrong}"


def tick(stack: Stack, n: int = 1) -> None:
    for _ in range(n):
        httpx.post(stack.config.url("app", "/tick"), timeout=30).raise_for_status()


def sink_records(stack: Stack, *, refused: bool = False) -> list[dict[str, Any]]:
    """What the local notification sink (Slack/PagerDuty stand-ins, SMTP) accepted, in order; with
    ``refused``, only the requests it refused under an injected fault."""
    path = stack.workdir / "sink.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return [r for r in records if ("refused" in r) == refused]


def recorded(stack: Stack) -> dict[str, int]:
    data: dict[str, int] = httpx.get(stack.config.url("app", "/recorded")).json()
    return data
