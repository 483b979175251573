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
from otel_ccmon.devstack.procs import wait_for
from otel_ccmon.devstack.stack import FAST_ALERTS, FAST_ALERTS_FACTOR, Stack, StackConfig, write_shortened_rules
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
    time.sleep(observe)
    window = int(time.time() - started) + 1
    fired = stack.prom_query(f'max_over_time(ALERTS{{alertstate="firing",alertname!="Watchdog"}}[{window}s])')
    log_tail = ""
    for component, job in (("app", "claude-code-app"), ("receiver", "alert-receiver")):
        if fired and stack.prom_query(f'min_over_time(up{{job="{job}"}}[{window}s]) == 0'):
            # it stopped answering its scrapes: its threads' stacks go to its log (faulthandler, SIGUSR1)
            proc, log = stack.procs[component], stack.logs / f"{component}.log"
            if proc.pid is not None:
                os.kill(proc.pid, signal.SIGUSR1)
                wait_for(lambda log=log: "Thread 0x" in log.read_text(), 10, f"the {component}'s thread dump")  # type: ignore[misc]
            log_tail += f"\n--- {component}.log\n" + log.read_text()[-6000:]
    assert not fired, (sorted(f"{r['metric']['alertname']}{{job={r['metric'].get('job')}}}" for r in fired), log_tail)
    others = [a["labels"]["alertname"] for a in received() if a["labels"]["alertname"] != "Watchdog"]
    assert not others, others
    assert longest >= 60, "the shortened rules' longest `for` (1h / 60) was observed"
