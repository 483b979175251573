"""A real Alertmanager delivering to the receiver, which survives SIGKILL without losing alerts."""

from __future__ import annotations

import contextlib
import errno
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from otel_ccmon._meta import DEMO_SERVICE_NAME
from otel_ccmon.devstack.procs import wait_for
from tests.support import parse_prometheus


def test_real_alertmanager_to_receiver_survives_sigkill(tmp_path: Path) -> None:
    from otel_ccmon.devstack.config import StackConfig
    from otel_ccmon.devstack.stack import Stack

    stack = Stack(
        StackConfig.with_free_ports(
            tmp_path,
            components=("sink", "alertmanager", "receiver"),
            alertmanager_timing={"group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
        )
    )
    stack.up()
    try:
        am = stack.config.url("alertmanager", "/api/v2/alerts")
        labels = {
            "alertname": "GOAPPlanningSlowdown",
            "severity": "P2",
            "service": DEMO_SERVICE_NAME,
            "component": "goap",
        }
        starts = datetime.now(UTC)
        body = [{"labels": labels, "annotations": {"summary": "slow plans"}, "startsAt": starts.isoformat()}]
        assert httpx.post(am, json=body).status_code == 200
        headers = {"Authorization": f"Bearer {stack.receiver_token()}"}
        receiver = stack.config.url("receiver")

        def listed(status: str) -> list[dict[str, Any]] | None:
            params = {"alertname": "GOAPPlanningSlowdown", "status": status}
            alerts: list[dict[str, Any]] = httpx.get(f"{receiver}/alerts", params=params, headers=headers).json()[
                "alerts"
            ]
            return alerts or None

        (firing,) = wait_for(lambda: listed("firing"), 30, "firing alert at the receiver")
        assert firing["receiver"] == "p2-medium" and firing["labels"] == labels

        body[0]["endsAt"] = datetime.now(UTC).isoformat()
        assert httpx.post(am, json=body).status_code == 200
        (resolved,) = wait_for(lambda: listed("resolved"), 30, "resolved alert at the receiver")
        fp = resolved["fingerprint"]

        stack.kill9("receiver")
        stack.start("receiver")
        found = httpx.get(f"{receiver}/alerts/{fp}", headers=headers).json()
        assert [h["status"] for h in found["history"]] == ["firing", "resolved"]
        everything = httpx.get(f"{receiver}/alerts", headers=headers).json()["alerts"]
        assert [a["alertname"] for a in everything] == ["GOAPPlanningSlowdown"]  # once
        # the Slack stand-in got the same notification through the slack_api_url_file secret
        sink = [json.loads(line) for line in (stack.workdir / "sink.jsonl").read_text().splitlines()]
        assert any(s["channel"] == "slack" and "GOAPPlanningSlowdown" in json.dumps(s["body"]) for s in sink)
    finally:
        stack.down()


@contextlib.contextmanager
def small_disk(path: Path, size: str) -> Iterator[Path]:
    """A real, small filesystem (tmpfs) at ``path``: filling it makes SQLite's writes fail as on a full disk."""
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path: Path) -> None:
    """Writes ``path`` until the filesystem answers ENOSPC."""
    with path.open("wb", buffering=0) as f:
        for chunk in (65536, 4096, 512, 1):
            try:
                while True:
                    f.write(b"\0" * chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise


def test_receiver_disk_full_answers_503_alertmanager_retries_nothing_lost(tmp_path: Path) -> None:
    """Issue 23: the receiver's disk full. Its SQLite write fails, it answers 503 (not a 2xx: nothing is
    acknowledged that is not stored), Alertmanager counts the failure and retries, and once there is
    space again the notification is stored exactly once; what was stored before stays."""
    from otel_ccmon.devstack.config import StackConfig
    from otel_ccmon.devstack.stack import Stack

    with small_disk(tmp_path / "db", "1m") as disk:
        stack = Stack(
            StackConfig.with_free_ports(
                tmp_path / "stack",
                components=("sink", "alertmanager", "receiver"),
                alertmanager_timing={"group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
                receiver_db=disk / "receiver.sqlite",
            )
        )
        stack.up()
        try:
            am = stack.config.url("alertmanager", "/api/v2/alerts")
            headers = {"Authorization": f"Bearer {stack.receiver_token()}"}
            receiver = stack.config.url("receiver")

            def post(name: str) -> None:
                labels = {"alertname": name, "severity": "P2", "service": DEMO_SERVICE_NAME, "component": "goap"}
                body = [{"labels": labels, "annotations": {"summary": name}, "startsAt": datetime.now(UTC).isoformat()}]
                assert httpx.post(am, json=body).status_code == 200

            def stored(name: str) -> list[dict[str, Any]]:
                found: list[dict[str, Any]] = httpx.get(
                    f"{receiver}/alerts", params={"alertname": name}, headers=headers
                ).json()["alerts"]
                return found

            def failed() -> float:
                text = httpx.get(stack.config.url("alertmanager", "/metrics")).text
                return sum(
                    v
                    for n, labels, v in parse_prometheus(text)
                    if n == "alertmanager_notifications_failed_total" and labels.get("integration") == "webhook"
                )

            post("BeforeTheDiskFilled")
            wait_for(lambda: stored("BeforeTheDiskFilled"), 30, "the first alert stored")
            fill(disk / "filler")
            failed_before = failed()
            post("WhileTheDiskIsFull")
            wait_for(lambda: failed() > failed_before, 60, "Alertmanager counting the receiver's 5xx")
            log = (stack.logs / "receiver.log").read_text()
            assert "answering 503" in log and "full" in log, log[-2000:]
            assert not stored("WhileTheDiskIsFull"), "nothing acknowledged that was not stored"
            assert [a["status"] for a in stored("BeforeTheDiskFilled")] == ["firing"], "reads still served"
            (disk / "filler").unlink()
            (late,) = wait_for(lambda: stored("WhileTheDiskIsFull"), 60, "Alertmanager's retry stored after the fill")
            history = httpx.get(f"{receiver}/alerts/{late['fingerprint']}", headers=headers).json()["history"]
            assert [h["status"] for h in history] == ["firing"]
            assert len(stored("BeforeTheDiskFilled")) == 1
        finally:
            stack.down()
