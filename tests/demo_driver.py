"""Drives the demo app over HTTP through every helper (normal ticks, every fault, routes, bad input)."""

from __future__ import annotations

import httpx

from otel_ccmon.demo.app import FAULTS

SKIP_FAULTS = {"memory_hog"}  # only RSS; exercised by the alerting tests


def exercise(base: str) -> None:
    """Drive every helper: normal ticks, every fault once, HTTP routes, bad input."""
    with httpx.Client(base_url=base, timeout=30) as client:
        client.post("/tick").raise_for_status()
        for fault in sorted(set(FAULTS) - SKIP_FAULTS):
            client.post(f"/faults/{fault}").raise_for_status()
        client.post("/tick").raise_for_status()
        for fault in sorted(set(FAULTS) - SKIP_FAULTS):
            client.delete(f"/faults/{fault}").raise_for_status()
        client.post("/tick").raise_for_status()
        assert client.get("/patterns/1").status_code == 200
        assert client.get("/patterns/999999").status_code == 404
        assert client.post("/verifications", json={"agent_id": "x", "score": 7}).status_code == 202
        assert client.post("/faults/nonsense").status_code == 404
