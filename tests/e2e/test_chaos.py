"""Chaos suite (issue 23): under load, ``kill -9`` in turn each component of the HA topology and
measure what it costs. ``make test`` runs one round; ``make chaos`` runs ``CCMON_CHAOS_ROUNDS``
(default there: 3). Figures: docs/reliability.md.

Load: the demo app (its ``slow_planning`` fault keeps GOAPPlanningSlowdown firing all along), its
simulated Claude Code team, and a push-only service whose cumulative counter is known exactly.
After each kill:

- ``ccmon stack status`` names the dead component and exits non-zero (the local stack does not
  restart components: that is the supervisor's job, compose ``restart:`` or Kubernetes); the test
  then restarts it as an operator would;
- alerting is restored: the Watchdog reaches the receiver again within ``RECOVERY_S``;
- an alert firing across the kill is not notified as resolved-and-firing again (the receiver's
  history of it stays ``firing``); killing the app is itself an incident: ServiceDown fires and
  resolves exactly once;
- the push-only service's cumulative counter in Prometheus equals the last value the collector
  acknowledged (cumulative temporality: a lost export is covered by the next one).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from otel_ccmon.devstack.components import ALL_COMPONENTS, HA_COMPONENTS, THANOS_COMPONENTS
from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.procs import wait_for
from otel_ccmon.devstack.stack import FAST_ALERTS, FAST_ALERTS_FACTOR, Stack, write_shortened_rules
from tests.pusher import Pusher
from tests.stack_queries import sink_records
from tests.support import ROOT, parse_prometheus, venv_bin

ROUNDS = int(os.environ.get("CCMON_CHAOS_ROUNDS", "1"))
KILLED = (
    "collector", "prometheus", "prometheus_b", "alertmanager", "alertmanager_b", "receiver", *THANOS_COMPONENTS, "app"
)  # fmt: skip
"""The app last: its kill changes its own alerts (they resolve with its metrics, ServiceDown stands in),
so the rounds after it start once its lasting alert fires again."""
RECOVERY_S = 45.0
"""Stated bound: after a component is restarted, the Watchdog reaches the receiver within this."""
PUSHER = "chaos-pusher"


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Pusher]]:
    work = tmp_path_factory.mktemp("chaos")
    rules = write_shortened_rules(ROOT / "prometheus" / "rules", work / "rules", FAST_ALERTS_FACTOR)
    components = tuple(c for c in (*ALL_COMPONENTS, *HA_COMPONENTS) if c != "node_exporter")
    options: dict[str, Any] = {
        **FAST_ALERTS,
        "app_args": ("--tick", "0.25", "--fault", "slow_planning"),
        # the Watchdog repeats every few seconds, so its return after a kill is seen quickly; the
        # other routes repeat hourly, so any second notification of the lasting alert is a duplicate
        "alertmanager_timing": {
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
            "watchdog.repeat_interval": "3s",
        },
    }
    st = Stack(
        StackConfig.with_free_ports(
            work / "stack", rules_dir=rules, components=components, ha=True, claude_code_team=True, **options
        )
    )
    st.up()
    pusher = Pusher(st.config.url("otlp_http", "/v1/metrics"), PUSHER).start()
    try:
        wait_for(lambda: firing_history(st, "GOAPPlanningSlowdown") == ["firing"], 120, "the lasting alert firing")
        yield st, pusher
    finally:
        pusher.halt()
        st.down()


def receiver_get(stack: Stack, path: str, **params: str) -> Any:
    headers = {"Authorization": f"Bearer {stack.receiver_token()}"}
    return httpx.get(stack.config.url("receiver", path), params=params, headers=headers, timeout=5).json()


def firing_history(stack: Stack, name: str) -> list[str]:
    """The receiver's stored status changes of ``name`` (all its alerts, in order)."""
    out: list[str] = []
    for alert in receiver_get(stack, "/alerts", alertname=name)["alerts"]:
        out += [h["status"] for h in receiver_get(stack, f"/alerts/{alert['fingerprint']}")["history"]]
    return out


def watchdog_deliveries(stack: Stack) -> float:
    """Watchdog notifications the receiver took (stored or recognised as repeats) since it started."""
    text = httpx.get(stack.config.url("receiver", "/metrics"), timeout=5).text
    return sum(
        v
        for name, labels, v in parse_prometheus(text)
        if name in ("alert_receiver_notifications_total", "alert_receiver_duplicates_total")
        and labels.get("receiver") == "watchdog"
    )


def slack_count(stack: Stack, name: str) -> int:
    """Slack messages about ``name`` so far (the P2 channel of the lasting alert)."""
    return sum(1 for r in sink_records(stack) if r["channel"] == "slack" and name in json.dumps(r["body"]))


def fires_in(stack: Stack, prometheus: str, name: str) -> bool:
    alerts = httpx.get(stack.config.url(prometheus, "/api/v1/alerts"), timeout=5).json()["data"]["alerts"]
    return any(a["labels"]["alertname"] == name and a["state"] == "firing" for a in alerts)


def holds(stack: Stack, prometheus: str, at_least: float) -> bool:
    return counter_in(stack, prometheus) >= at_least > 0


def deduplicated(stack: Stack) -> float:
    """The pusher's counter as Thanos Query answers it: exactly one series (the pair deduplicated)."""
    url = stack.config.url("thanos_query", "/api/v1/query")
    result = httpx.get(url, params={"query": f'neural_operations_total{{job="{PUSHER}"}}'}, timeout=10).json()
    series = result["data"]["result"]
    assert len(series) <= 1, f"Thanos Query returned {len(series)} series for one counter: {series}"
    return float(series[0]["value"][1]) if series else -1.0


def counter_in(stack: Stack, prometheus: str) -> float:
    url = stack.config.url(prometheus, "/api/v1/query")
    result = httpx.get(url, params={"query": f'sum(neural_operations_total{{job="{PUSHER}"}})'}, timeout=5).json()
    return float(result["data"]["result"][0]["value"][1]) if result["data"]["result"] else -1.0


@pytest.mark.parametrize("round_", range(1, ROUNDS + 1))
@pytest.mark.parametrize("component", KILLED)
def test_kill9(chaos: tuple[Stack, Pusher], component: str, round_: int) -> None:
    stack, pusher = chaos
    lasting = "ServiceDown" if component == "app" else "GOAPPlanningSlowdown"
    before = firing_history(stack, lasting)
    slack_before = slack_count(stack, lasting)
    stack.kill9(component)
    killed_at = time.monotonic()
    status = subprocess.run(
        [venv_bin("ccmon"), "stack", "status", "--workdir", str(stack.workdir)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert status.returncode != 0 and f"{component:14}" in status.stdout and "DEAD" in status.stdout, status.stdout
    if component == "app":
        wait_for(lambda: firing_history(stack, "ServiceDown")[-1:] == ["firing"], 90, "ServiceDown for the killed app")
    stack.start(component)
    restarted_at = time.monotonic()
    baseline = watchdog_deliveries(stack)
    wait_for(lambda: watchdog_deliveries(stack) > baseline, RECOVERY_S, "the Watchdog at the receiver again")
    recovered = time.monotonic() - restarted_at
    state_back = ""
    if component.startswith("prometheus"):
        # a restarted replica re-learns its alerts: until the lasting one fires there again (its
        # `for` after the first samples, unless restored from ALERTS_FOR_STATE), the pair is not
        # redundant for it: killing the other replica now would resolve it (measured; docs)
        wait_for(functools.partial(fires_in, stack, component, lasting), 120, f"{lasting} firing in {component}")
        state_back = f", {lasting} firing in it again {time.monotonic() - restarted_at:.1f} s after the restart"

    # the push-only service's counter in both replicas: everything acknowledged so far is there,
    # nothing more than was sent (no loss, no double count across the kill)
    acked = pusher.acked
    for prometheus in ("prometheus", "prometheus_b"):
        wait_for(functools.partial(holds, stack, prometheus, acked), 60, f"{prometheus} holds the pusher's {acked:.0f}")
        assert counter_in(stack, prometheus) <= pusher.sent, (prometheus, pusher.sent)
    # and in Thanos Query's deduplicated view: one series, not less than acknowledged
    wait_for(lambda: deduplicated(stack) >= acked, 60, f"Thanos Query's one series at the pusher's {acked:.0f}")
    if component == "app":
        wait_for(lambda: firing_history(stack, "ServiceDown")[len(before) :] == ["firing", "resolved"], 90, "resolved")
        # the app's own lasting alert may resolve while it is dead (its metrics gone): the next round
        # starts once it fires again, and compares with that history
        wait_for(lambda: firing_history(stack, "GOAPPlanningSlowdown")[-1:] == ["firing"], 120, "the app's alert again")
    else:
        history = firing_history(stack, lasting)
        assert history == before and before[-1:] == ["firing"], (component, before, history)
        assert slack_count(stack, lasting) == slack_before, f"{lasting} notified again to Slack after the kill"
    print(
        f"\nchaos: kill -9 {component} (round {round_}): down {restarted_at - killed_at:.1f} s, Watchdog back "
        f"{recovered:.1f} s after the restart{state_back}; {lasting} history {firing_history(stack, lasting)}; "
        f"pusher {pusher.acked:.0f} acknowledged of {pusher.sent} sent"
    )
