"""Alerts end to end on the real binaries: fault → Prometheus → Alertmanager → every channel → resolved.

Slack and PagerDuty are loopback stand-ins that record request bodies (their URLs and keys come
through the same ``*_file`` secrets as in production), email goes to a real SMTP server
(aiosmtpd), and the alert receiver service stores what it gets. The rules are the repository's,
shortened 60× by the documented transformation ``otel_ccmon.devstack.stack.shorten`` (the
settings of ``ccmon stack up --fast-alerts``).
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from mixin import config
from otel_ccmon._meta import DEMO_SERVICE_NAME
from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.procs import wait_for
from otel_ccmon.devstack.stack import FAST_ALERTS, FAST_ALERTS_FACTOR, Stack, write_shortened_rules
from tests.stack_queries import sink_records
from tests.support import ROOT


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("alerting")
    rules = write_shortened_rules(ROOT / "prometheus" / "rules", work / "rules", FAST_ALERTS_FACTOR)
    st = Stack(StackConfig.with_free_ports(work / "stack", rules_dir=rules, **FAST_ALERTS))
    st.up()
    try:
        yield st
    finally:
        st.down()


def receiver_alerts(stack: Stack, **params: str) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {stack.receiver_token()}"}
    body = httpx.get(stack.config.url("receiver", "/alerts"), params={"limit": "500", **params}, headers=headers)
    alerts: list[dict[str, Any]] = body.json()["alerts"]
    return alerts


def at_receiver(stack: Stack, name: str, status: str, timeout: float = 90) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        found = receiver_alerts(stack, alertname=name, status=status)
        return found[0] if found else None

    return wait_for(check, timeout, f"{name} {status} at the alert receiver", interval=0.5)


def slack_messages(stack: Stack, name: str) -> list[dict[str, Any]]:
    return [r["body"] for r in sink_records(stack) if r["channel"] == "slack" and name in json.dumps(r["body"])]


def emails(stack: Stack, name: str) -> list[dict[str, Any]]:
    return [r for r in sink_records(stack) if r["channel"] == "email" and name in r["subject"]]


def pagerduty(stack: Stack, name: str) -> list[dict[str, Any]]:
    return [r["body"] for r in sink_records(stack) if r["channel"] == "pagerduty" and name in json.dumps(r["body"])]


def test_watchdog_reaches_the_receiver(stack: Stack) -> None:
    found = at_receiver(stack, "Watchdog", "firing", timeout=60)
    assert found["receiver"] == "watchdog"


def test_p1_and_p2_alerts_fire_are_delivered_and_resolve(stack: Stack) -> None:
    app = stack.config.url("app")
    # a fault toggle waits for the running tick, and a tick with slow_planning takes seconds
    httpx.post(f"{app}/faults/slow_db", timeout=60).raise_for_status()
    httpx.post(f"{app}/faults/slow_planning", timeout=60).raise_for_status()
    try:
        p1 = at_receiver(stack, "DatabaseSlowQueries", "firing")
        p2 = at_receiver(stack, "GOAPPlanningSlowdown", "firing")
    finally:
        httpx.delete(f"{app}/faults/slow_db", timeout=60)
        httpx.delete(f"{app}/faults/slow_planning", timeout=60)
    assert (p1["receiver"], p1["severity"], p1["labels"]["service"]) == ("p1-high", "P1", DEMO_SERVICE_NAME)
    assert p1["annotations"]["runbook_url"] == f"{config.RUNBOOK_BASE}/DatabaseSlowQueries.md"
    assert "p95 query time is" in p1["annotations"]["description"]
    assert (p2["receiver"], p2["severity"]) == ("p2-medium", "P2")

    # P1: Slack team channel and email to teams; P2: Slack only
    wait_for(lambda: slack_messages(stack, "DatabaseSlowQueries"), 30, "P1 Slack message")
    wait_for(lambda: emails(stack, "DatabaseSlowQueries"), 30, "P1 email")
    wait_for(lambda: slack_messages(stack, "GOAPPlanningSlowdown"), 30, "P2 Slack message")
    slack = slack_messages(stack, "DatabaseSlowQueries")[0]
    assert slack["channel"] == "#alerts-team"
    assert "DatabaseSlowQueries" in slack["attachments"][0]["title"]
    mail = emails(stack, "DatabaseSlowQueries")[0]
    assert mail["to"] == ["teams@claudecode.io"] and "Runbook" in mail["body"]
    assert not emails(stack, "GOAPPlanningSlowdown")
    assert not pagerduty(stack, "DatabaseSlowQueries")

    # clearing the faults resolves both, and the resolution is delivered too
    resolved = at_receiver(stack, "DatabaseSlowQueries", "resolved", timeout=120)
    at_receiver(stack, "GOAPPlanningSlowdown", "resolved", timeout=120)
    history = httpx.get(
        stack.config.url("receiver", f"/alerts/{resolved['fingerprint']}"),
        headers={"Authorization": f"Bearer {stack.receiver_token()}"},
    ).json()["history"]
    assert [h["status"] for h in history] == ["firing", "resolved"]
    wait_for(
        lambda: any("RESOLVED" in m["attachments"][0]["title"] for m in slack_messages(stack, "DatabaseSlowQueries")),
        30,
        "resolved Slack message",
    )


def history(stack: Stack, name: str) -> list[str]:
    """The receiver's stored status changes of ``name``, over all its alerts, oldest first."""
    headers = {"Authorization": f"Bearer {stack.receiver_token()}"}
    out: list[str] = []
    for alert in reversed(receiver_alerts(stack, alertname=name)):
        url = stack.config.url("receiver", f"/alerts/{alert['fingerprint']}")
        out += [h["status"] for h in httpx.get(url, headers=headers).json()["history"]]
    return out


def test_an_app_stall_does_not_page_twice(stack: Stack) -> None:
    """The cause of the `firing, resolved, firing, resolved` history (issue 23): with rules shortened
    to 5 s windows, a stall of the app longer than the window (seen on a busy machine) emptied
    the p95's rate window, resolved the alert and paged it again. Reproduced by pausing the app
    for 7 s; with the shortened ranges' 10 s floor the incident stays one page."""
    app = stack.config.url("app")
    before = len(history(stack, "DatabaseSlowQueries"))
    httpx.post(f"{app}/faults/slow_db", timeout=60).raise_for_status()
    try:
        wait_for(lambda: history(stack, "DatabaseSlowQueries")[before:] == ["firing"], 90, "DatabaseSlowQueries firing")
        pid = stack.procs["app"].pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(7)  # the stall being reproduced (longer than the old 5 s windows)
        finally:
            os.kill(pid, signal.SIGCONT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # a re-page would come within the shortened `for`
            assert history(stack, "DatabaseSlowQueries")[before:] == ["firing"]
            time.sleep(0.5)  # sampling the receiver for a resolve-and-refire, not a synchronisation
    finally:
        httpx.delete(f"{app}/faults/slow_db", timeout=60)
    wait_for(lambda: history(stack, "DatabaseSlowQueries")[before:] == ["firing", "resolved"], 120, "one resolve")


def test_service_down_pages_and_resolves(stack: Stack) -> None:
    stack.kill9("app")
    try:
        down = at_receiver(stack, "ServiceDown", "firing", timeout=60)
    finally:
        stack.start("app")
    assert (down["receiver"], down["severity"], down["labels"]["service"]) == ("p0-critical", "P0", DEMO_SERVICE_NAME)
    page = wait_for(lambda: pagerduty(stack, "ServiceDown"), 30, "PagerDuty event")[0]
    routing_key = (stack.workdir / "secrets" / "pagerduty_routing_key").read_text().strip()
    assert page["routing_key"] == routing_key and page["event_action"] == "trigger"
    assert page["payload"]["severity"] == "critical"
    critical = wait_for(lambda: slack_messages(stack, "ServiceDown"), 30, "critical Slack message")[0]
    assert critical["channel"] == "#alerts-critical" and "CRITICAL" in critical["attachments"][0]["title"]
    mail = wait_for(lambda: emails(stack, "ServiceDown"), 30, "email to leads")[0]
    assert mail["to"] == ["engineering-leads@claudecode.io"]
    at_receiver(stack, "ServiceDown", "resolved", timeout=60)
    wait_for(
        lambda: any(p["event_action"] == "resolve" for p in pagerduty(stack, "ServiceDown")), 30, "PagerDuty resolve"
    )


def test_inhibition_on_the_live_alertmanager(stack: Stack) -> None:
    now = datetime.now(UTC).isoformat()

    def alert(name: str, severity: str, service: str, component: str) -> dict[str, Any]:
        labels = {"alertname": name, "severity": severity, "service": service, "component": component}
        return {"labels": labels, "annotations": {"summary": name}, "startsAt": now}

    alerts = [
        alert("ServiceDown", "P0", "inhibit-a", "availability"),
        alert("CacheHitRateLow", "P1", "inhibit-a", "cache"),  # silenced: its service is down
        alert("DatabaseConnectionFailure", "P0", "inhibit-b", "database"),
        alert("DatabaseSlowQueries", "P1", "inhibit-b", "database"),  # silenced: P0 of its component
        alert("DatabaseSlowQueries", "P1", "inhibit-c", "database"),  # control: nothing above it
    ]
    am = stack.config.url("alertmanager", "/api/v2/alerts")
    assert httpx.post(am, json=alerts).status_code == 200

    def states() -> dict[tuple[str, str], list[str]] | None:
        got = httpx.get(am).json()
        out = {
            (a["labels"]["alertname"], a["labels"]["service"]): a["status"]["inhibitedBy"]
            for a in got
            if a["labels"].get("service", "").startswith("inhibit-")
        }
        return out if len(out) == 5 else None

    wait_for(lambda: (st := states()) and st[("CacheHitRateLow", "inhibit-a")] and st, 30, "inhibition")
    inhibited = states() or {}
    assert inhibited[("CacheHitRateLow", "inhibit-a")]
    assert inhibited[("DatabaseSlowQueries", "inhibit-b")]
    assert not inhibited[("DatabaseSlowQueries", "inhibit-c")]
    assert not inhibited[("ServiceDown", "inhibit-a")]

    # the control is delivered; the inhibited ones never reach a receiver
    wait_for(
        lambda: any(
            a["labels"].get("service") == "inhibit-c" for a in receiver_alerts(stack, alertname="DatabaseSlowQueries")
        ),
        60,
        "control alert delivered",
    )
    delivered = {(a["alertname"], a["labels"].get("service")) for a in receiver_alerts(stack)}
    assert ("ServiceDown", "inhibit-a") in delivered
    assert ("CacheHitRateLow", "inhibit-a") not in delivered
    assert ("DatabaseSlowQueries", "inhibit-b") not in delivered


def test_the_demo_agents_model_calls_and_the_llm_errors_fault(stack: Stack) -> None:
    """The default stack's demo agents call the stack's Messages API stub through the Anthropic SDK
    (issue 33): their tokens and cost are in the shared metrics per agent; ``llm_errors`` makes the
    calls fail and fires AgentAPIErrorRate, and no other agent alert; clearing it resolves it."""
    agents = ("coder-agent", "reviewer-agent", "tester-agent", "planner-agent")
    priced = 'agent_cost_usage_USD_total{job="claude-code-app",estimated="true",model="claude-haiku-4-5"}'
    wait_for(
        lambda: {r["metric"]["agent"] for r in stack.prom_query(f"sum by (agent) ({priced}) > 0")} == set(agents),
        90,
        "every demo agent's priced model calls",
    )
    tokens = stack.prom_query('sum by (type) (agent_token_usage_tokens_total{agent="coder-agent"})')
    by_type = {r["metric"]["type"]: float(r["value"][1]) for r in tokens}
    calls = by_type["input"] / 300  # the stub's demo usage: 300 input, 80 output, 1000 cache read
    assert calls >= 1 and by_type["output"] == 80 * calls and by_type["cacheRead"] == 1000 * calls, by_type
    app = stack.config.url("app")
    httpx.post(f"{app}/faults/llm_errors", timeout=60).raise_for_status()
    try:
        fired = at_receiver(stack, "AgentAPIErrorRate", "firing")
    finally:
        httpx.delete(f"{app}/faults/llm_errors", timeout=60)
    assert fired["labels"]["agent"] in agents and fired["labels"]["model"] == "claude-haiku-4-5", fired["labels"]
    assert fired["severity"] == "P2"
    others = stack.prom_query('ALERTS{alertstate="firing",component="agents",alertname!="AgentAPIErrorRate"}')
    assert not others, [r["metric"] for r in others]
    errors = stack.prom_query('sum(agent_api_requests_total{job="claude-code-app",status_code="500"})')
    assert errors and float(errors[0]["value"][1]) > 0
    at_receiver(stack, "AgentAPIErrorRate", "resolved", timeout=120)
