"""A healthy stack pages nobody (issue 23): the default stack of `make run-fast` (the demo app, its
simulated Claude Code team, every component, the rules shortened 60x) runs with no fault past the
longest `for` of the shortened rules, and the only alert that fired is the Watchdog."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml

from otel_ccmon._durations import duration_seconds
from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.procs import wait_for
from otel_ccmon.devstack.stack import FAST_ALERTS, FAST_ALERTS_FACTOR, Stack, write_shortened_rules
from tests.support import ROOT


def longest_for(rules_dir: Any) -> float:
    """The longest `for` among the (shortened) rule files, in seconds."""
    longest = 0.0
    for path in rules_dir.glob("*.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "for" in rule:
                    longest = max(longest, duration_seconds(rule["for"]))
    return longest


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, float]]:
    work = tmp_path_factory.mktemp("quiet")
    rules = write_shortened_rules(ROOT / "prometheus" / "rules", work / "rules", FAST_ALERTS_FACTOR)
    st = Stack(StackConfig.with_free_ports(work / "stack", rules_dir=rules, claude_code_team=True, **FAST_ALERTS))
    st.up()
    try:
        yield st, longest_for(rules)
    finally:
        st.down()


def test_a_healthy_stack_fires_only_the_watchdog(healthy: tuple[Stack, float]) -> None:
    stack, longest = healthy
    headers = {"Authorization": f"Bearer {stack.receiver_token()}"}

    def received(**params: str) -> list[dict[str, Any]]:
        body = httpx.get(stack.config.url("receiver", "/alerts"), params={"limit": "500", **params}, headers=headers)
        alerts: list[dict[str, Any]] = body.json()["alerts"]
        return alerts

    wait_for(lambda: received(alertname="Watchdog"), 90, "the Watchdog at the receiver (alerting works)")
    wait_for(lambda: stack.prom_query("sum(claude_code_cost_usage_USD_total) > 0"), 120, "Claude Code data")
    started = time.time()
    # workload time: the stack runs unattended past every `for` (+ a margin for the longest window
    # to fill); this is the observation period, not a synchronisation
    observe = longest + 30
    components = {"claude-code-app": "app", "alert-receiver": "receiver"}
    dumped: dict[str, float] = {}
    while time.time() - started < observe:
        # while it runs: a Python component that misses its scrapes dumps its threads' stacks at
        # once (faulthandler, SIGUSR1), during the stall, where the evidence is (issue 23)
        for r in stack.prom_query('up{job=~"claude-code-app|alert-receiver"} == 0'):
            component = components[r["metric"]["job"]]
            proc = stack.procs[component]
            if component not in dumped and proc.pid is not None:
                os.kill(proc.pid, signal.SIGUSR1)
                dumped[component] = time.time() - started
        time.sleep(1)  # the observation's sampling period, not a synchronisation
    window = int(time.time() - started) + 1
    fired = stack.prom_query(f'max_over_time(ALERTS{{alertstate="firing",alertname!="Watchdog"}}[{window}s])')
    log_tail = ""
    for component, at in dumped.items():
        log = stack.logs / f"{component}.log"
        log_tail += (
            f"\n--- {component}.log (missed a scrape {at:.0f} s into the observation)\n" + log.read_text()[-6000:]
        )
        (stack.logs.parent / f"{component}-stall.log").write_text(log.read_text())
    assert not fired, (sorted(f"{r['metric']['alertname']}{{job={r['metric'].get('job')}}}" for r in fired), log_tail)
    others = [a["labels"]["alertname"] for a in received() if a["labels"]["alertname"] != "Watchdog"]
    assert not others, others
    assert longest >= 60, "the shortened rules' longest `for` (1h / 60) was observed"
