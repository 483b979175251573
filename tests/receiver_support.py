"""Alert receiver test helpers: Alertmanager payloads, an in-process client with hooks, a receiver process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from otel_ccmon._meta import DEMO_SERVICE_NAME
from otel_ccmon.devstack.procs import Proc, http_ok, wait_for
from otel_ccmon.receiver.app import ReceiverSettings, create_app
from otel_ccmon.receiver.hooks import Hook
from tests.support import venv_bin

TOKEN = "s3cret-token-for-tests"


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def alert(fp: str = "a1b2c3d4", status: str = "firing", name: str = "CacheHitRateLow", **labels: str) -> dict[str, Any]:
    starts = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    return {
        "status": status,
        "labels": {"alertname": name, "severity": "P1", "service": DEMO_SERVICE_NAME, **labels},
        "annotations": {"summary": f"{name} summary", "description": "d", "runbook_url": "docs/runbooks/x.md"},
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(minutes=5)).isoformat() if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": fp,
    }


def notification(*alerts: dict[str, Any], receiver: str = "p1-high", status: str | None = None) -> dict[str, Any]:
    alerts = alerts or (alert(),)
    return {
        "version": "4",
        "groupKey": '{}/{severity="P1"}:{alertname="CacheHitRateLow"}',
        "truncatedAlerts": 0,
        "status": status or ("firing" if any(a["status"] == "firing" for a in alerts) else "resolved"),
        "receiver": receiver,
        "groupLabels": {"alertname": alerts[0]["labels"]["alertname"]},
        "commonLabels": alerts[0]["labels"],
        "commonAnnotations": alerts[0]["annotations"],
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


def counts(client: TestClient) -> dict[str, int]:
    body: dict[str, int] = client.get("/health").json()
    return body


# -- hooks -------------------------------------------------------------------------------------------
def hook_app(tmp_path: Path, *hooks: Hook) -> TestClient:
    return TestClient(create_app(ReceiverSettings(db_path=tmp_path / "r.db", token=TOKEN, hooks=hooks)))


def wait_hook(client: TestClient, fp: str, timeout: float = 20) -> list[dict[str, Any]]:
    def done() -> list[dict[str, Any]] | None:
        runs: list[dict[str, Any]] = client.get(f"/alerts/{fp}", headers=AUTH).json()["hook_runs"]
        return runs if runs and all(r["outcome"] != "pending" for r in runs) else None

    return wait_for(done, timeout, "hook outcome")


# -- concurrency and durability against a real receiver process -------------------------------------------
def start_receiver(tmp_path: Path, port: int, *extra: str) -> Proc:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    proc = Proc(
        f"receiver-{port}",
        [
            venv_bin("ccmon"),
            "webhook",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "r.db"),
            "--token-file",
            str(token_file),
            *extra,
        ],
        tmp_path / "receiver.log",
        {"OTEL_METRICS_EXPORTER": "prometheus"},
    ).start()
    wait_for(lambda: http_ok(f"http://127.0.0.1:{port}/health"), 30, "receiver")
    return proc
