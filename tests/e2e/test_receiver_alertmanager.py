"""A real Alertmanager delivering to the receiver, which survives SIGKILL without losing alerts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from otel_ccmon._meta import DEMO_SERVICE_NAME
from otel_ccmon.devstack.procs import wait_for


def test_real_alertmanager_to_receiver_survives_sigkill(tmp_path: Path) -> None:
    from otel_ccmon.devstack.stack import Stack, StackConfig

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
