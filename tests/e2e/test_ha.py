"""High availability on the engines' own mechanisms, on the real binaries: two Prometheus replicas
(distinct `replica` labels, identical alerts) and a two-node Alertmanager gossip cluster, each
Prometheus sending to both (``ccmon stack up --ha``, ``prometheus/prometheus-ha.yml``).

Measured, not assumed: one fault fired by both replicas gives exactly one notification per
channel (Slack and PagerDuty stand-ins, SMTP, the receiver); ``kill -9`` of one Alertmanager while
the alert fires still delivers the resolve exactly once; with one Prometheus down, alerts are
still evaluated and delivered.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import yaml

from otel_ccmon.devstack.components import ALL_COMPONENTS, HA_COMPONENTS
from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.procs import wait_for
from otel_ccmon.devstack.stack import FAST_ALERTS, FAST_ALERTS_FACTOR, Stack, write_shortened_rules
from tests.stack_queries import sink_records
from tests.support import ROOT, parse_prometheus

# a duplicate from the second Alertmanager would come after its peer timeout (5 s): watch longer
QUIET = 12.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("ha")
    rules = write_shortened_rules(ROOT / "prometheus" / "rules", work / "rules", FAST_ALERTS_FACTOR)
    components = tuple(c for c in (*ALL_COMPONENTS, *HA_COMPONENTS) if c != "node_exporter")
    st = Stack(
        StackConfig.with_free_ports(work / "stack", rules_dir=rules, components=components, ha=True, **FAST_ALERTS)
    )
    st.up()
    try:
        yield st
    finally:
        st.down()


def deliveries(stack: Stack, name: str) -> dict[str, list[str]]:
    """What each channel got for ``name``: firing/resolved, in order."""
    out: dict[str, list[str]] = {"slack": [], "pagerduty": [], "email": [], "receiver": []}
    for r in sink_records(stack):
        text = json.dumps(r.get("body")) + r.get("subject", "")
        if name not in text:
            continue
        if r["channel"] == "slack":
            out["slack"].append("resolved" if "RESOLVED" in r["body"]["attachments"][0]["title"] else "firing")
        elif r["channel"] == "pagerduty":
            out["pagerduty"].append("resolved" if r["body"]["event_action"] == "resolve" else "firing")
        elif r["channel"] == "email":
            out["email"].append("resolved" if "RESOLVED" in r["subject"].upper() else "firing")
    headers = {"Authorization": f"Bearer {stack.receiver_token()}"}
    alerts = httpx.get(stack.config.url("receiver", "/alerts"), params={"alertname": name}, headers=headers).json()
    for alert in alerts["alerts"]:
        history = httpx.get(stack.config.url("receiver", f"/alerts/{alert['fingerprint']}"), headers=headers).json()
        out["receiver"] += [h["status"] for h in history["history"]]
    return out


def receiver_duplicates(stack: Stack, receiver: str) -> float:
    """Notifications the receiver got twice for one route (it stores them once)."""
    text = httpx.get(stack.config.url("receiver", "/metrics")).text
    return sum(
        v
        for name, labels, v in parse_prometheus(text)
        if name == "alert_receiver_duplicates_total" and labels.get("receiver") == receiver
    )


def settled(check: Callable[[], dict[str, list[str]]], want: dict[str, list[str]], what: str) -> None:
    """Wait until ``check()`` equals ``want``, then watch that it stays so for QUIET seconds (a
    duplicate would arrive in that time: absence is measured over a window, there is no event)."""
    wait_for(lambda: check() == want, 90, what, interval=0.5)
    deadline = time.monotonic() + QUIET
    while time.monotonic() < deadline:
        assert check() == want, (what, check())
        time.sleep(0.5)  # sampling the channels for late duplicates, not a synchronisation


def test_cluster_and_replicas_are_wired(stack: Stack) -> None:
    def both_members(am: str) -> dict[str, Any] | None:
        status: dict[str, Any] = httpx.get(stack.config.url(am, "/api/v2/status")).json()
        return status if len(status["cluster"]["peers"]) == 2 and status["cluster"]["status"] == "ready" else None

    for am in ("alertmanager", "alertmanager_b"):
        wait_for(functools.partial(both_members, am), 30, f"{am} sees both cluster members, settled")
    for prom in ("prometheus", "prometheus_b"):
        active = httpx.get(stack.config.url(prom, "/api/v1/alertmanagers")).json()["data"]["activeAlertmanagers"]
        assert len(active) == 2, (prom, active)
    # distinct replica labels (from the environment: one generated file for both replicas)
    replicas = {
        yaml.safe_load(httpx.get(stack.config.url(prom, "/api/v1/status/config")).json()["data"]["yaml"])["global"][
            "external_labels"
        ]["replica"]
        for prom in ("prometheus", "prometheus_b")
    }
    assert replicas == {"prometheus-0", "prometheus-1"}


def test_one_fault_one_notification_per_channel_and_resolve_after_am_kill(stack: Stack) -> None:
    before = receiver_duplicates(stack, "p0-critical")
    stack.kill9("app")  # ServiceDown (P0): PagerDuty, Slack, email and the receiver
    try:
        settled(
            lambda: deliveries(stack, "ServiceDown"),
            {"slack": ["firing"], "pagerduty": ["firing"], "email": ["firing"], "receiver": ["firing"]},
            "ServiceDown notified once per channel although both replicas fire it",
        )
        for prom in ("prometheus", "prometheus_b"):
            firing = httpx.get(stack.config.url(prom, "/api/v1/alerts")).json()["data"]["alerts"]
            assert any(a["labels"]["alertname"] == "ServiceDown" and a["state"] == "firing" for a in firing), prom
        stack.kill9("alertmanager")  # the instance that may have sent the notifications
    finally:
        stack.start("app")
    settled(
        lambda: deliveries(stack, "ServiceDown"),
        {
            "slack": ["firing", "resolved"],
            "pagerduty": ["firing", "resolved"],
            "email": ["firing", "resolved"],
            "receiver": ["firing", "resolved"],
        },
        "the resolve delivered exactly once by the surviving Alertmanager",
    )
    assert receiver_duplicates(stack, "p0-critical") == before  # not even a deduplicated second copy


def test_alerts_still_delivered_with_one_prometheus_down(stack: Stack) -> None:
    stack.kill9("prometheus")
    if "alertmanager" not in stack.procs:
        stack.start("alertmanager")  # back in the cluster (the previous test killed it)
    app = stack.config.url("app")
    httpx.post(f"{app}/faults/slow_db", timeout=60).raise_for_status()
    try:
        settled(
            lambda: {k: v for k, v in deliveries(stack, "DatabaseSlowQueries").items() if k != "pagerduty"},
            {"slack": ["firing"], "email": ["firing"], "receiver": ["firing"]},
            "DatabaseSlowQueries from the surviving replica, once per channel",
        )
    finally:
        httpx.delete(f"{app}/faults/slow_db", timeout=60)
        stack.start("prometheus")
