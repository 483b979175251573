"""The cardinality firewall under a flood: a hostile client pushes 50,000+ series under its own
service name while the demo app runs. Prometheus keeps at most the budget of that service, the
demo app's counts stay exact, the collector stays within its memory limit, and the budget alert
names the offender."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mixin import collector_firewall
from otel_ccmon._meta import DEMO_SERVICE_NAME
from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.procs import rss_bytes, wait_for
from otel_ccmon.devstack.stack import FAST_ALERTS, FAST_ALERTS_FACTOR, Stack, write_shortened_rules
from tests.otlp_payloads import counter_request
from tests.stack_queries import prom_total, recorded, tick, wait_total
from tests.support import ROOT

HOSTILE = "hostile-agent"
BATCH = 5_000
MEMORY_LIMIT_MIB = 512  # collector/config.yaml's default memory_limiter limit


def flood_request(first: int, count: int, start_ns: int, now_ns: int) -> bytes:
    """``errors`` points with ``count`` new ``error_type`` values, as a buggy client would send them."""
    resource = {"service.name": HOSTILE, "service.instance.id": "h1"}
    values = (f"generated-{i}" for i in range(first, first + count))
    return counter_request(resource, "errors", "error_type", values, start_ns, now_ns)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    rules = write_shortened_rules(ROOT / "prometheus" / "rules", tmp_path / "rules", FAST_ALERTS_FACTOR)
    options = {**FAST_ALERTS, "app_args": ("--tick", "0")}
    st = Stack(
        StackConfig.with_free_ports(
            tmp_path / "stack", components=("collector", "prometheus", "app"), rules_dir=rules, **options
        )
    )
    st.up()
    try:
        yield st
    finally:
        st.down()


def test_a_flood_is_bounded_to_its_budget_and_spares_the_other_services(stack: Stack) -> None:
    budget = collector_firewall.default_budget()
    collector_pid = stack.procs["collector"].pid
    assert collector_pid is not None
    url = stack.config.url("otlp_http", "/v1/metrics")
    sent = 0
    peak_rss = 0.0
    stop = threading.Event()

    def flood() -> None:
        nonlocal sent, peak_rss
        start_ns = time.time_ns()
        with httpx.Client(timeout=30) as client:
            while not stop.is_set() and sent < 200_000:  # bounded: at most 200k series
                body = flood_request(sent, BATCH, start_ns, time.time_ns())
                response = client.post(url, content=body, headers={"Content-Type": "application/x-protobuf"})
                assert response.status_code == 200, response.text
                sent += BATCH
                peak_rss = max(peak_rss, rss_bytes(collector_pid) / 2**20)
                stop.wait(0.2)  # a steady stream of new series, paced so the test ends

    flooder = threading.Thread(target=flood, name="flood", daemon=True)
    flooder.start()
    try:
        wait_for(lambda: sent >= 50_000, 120, "50,000 series sent")
        # the alert names the offending service
        firing = 'ALERTS{alertname="ServiceSeriesBudgetExhausted",alertstate="firing"}'
        alerts = wait_for(lambda: stack.prom_query(firing), 90, "ServiceSeriesBudgetExhausted firing")
        assert {a["metric"]["service"] for a in alerts} == {HOSTILE}
        # meanwhile the demo app's counts arrive exactly
        tick(stack, 3)
        counts = recorded(stack)
        expected = sum(v for k, v in counts.items() if k.startswith("neural"))
        wait_total(stack, f'neural_operations_total{{job="{DEMO_SERVICE_NAME}"}}', expected, timeout=60)
    finally:
        stop.set()
        flooder.join(60)
    assert sent >= 50_000
    hostile_series = prom_total(stack, f'count(errors_total{{job="{HOSTILE}"}})')
    assert hostile_series == budget, f"Prometheus holds {hostile_series} series of {HOSTILE}, budget {budget}"
    # every point beyond the budget is counted; the collector's telemetry reaches Prometheus a scrape later
    dropped_expr = f'otelcol_ccmon_guard_points{{service="{HOSTILE}",reason="over_budget"}}'
    dropped = wait_for(
        lambda: (d := prom_total(stack, dropped_expr)) is not None and d >= sent - budget and d,
        30,
        f"{sent - budget} points counted as dropped",
    )
    assert dropped >= sent - budget
    # nothing of the well-behaved service was dropped, and it raises no budget alert
    assert prom_total(stack, f'otelcol_ccmon_guard_points{{service="{DEMO_SERVICE_NAME}"}}') is None
    print(
        f"flood: {sent} series sent, {hostile_series:.0f} kept (budget {budget}), collector RSS peak {peak_rss:.0f} MiB"
    )
    assert peak_rss < MEMORY_LIMIT_MIB, f"collector RSS peaked at {peak_rss:.0f} MiB"
