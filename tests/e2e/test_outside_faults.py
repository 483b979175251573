"""Faults of the outside world (issue 23), on the real binaries: Slack answering 500 or hanging
(Alertmanager retries; the other channels still get theirs), and a forward overlay whose backend
cannot be resolved (the queue holds what it cannot send, bounded; the Prometheus path is untouched;
an alert says so)."""

from __future__ import annotations

import contextlib
import http.server
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import trustme

from mixin.alerts import BY_NAME
from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.procs import wait_for
from otel_ccmon.devstack.stack import FAST_ALERTS, FAST_ALERTS_FACTOR, Stack, write_shortened_rules
from tests.otlp_payloads import counter_request
from tests.stack_queries import sink_records
from tests.support import ROOT, parse_prometheus


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("outside")
    rules = write_shortened_rules(ROOT / "prometheus" / "rules", work / "rules", FAST_ALERTS_FACTOR)
    components = ("sink", "collector", "prometheus", "alertmanager", "receiver", "app")
    st = Stack(StackConfig.with_free_ports(work / "stack", rules_dir=rules, components=components, **FAST_ALERTS))
    st.up()
    try:
        yield st
    finally:
        st.down()


def channel(stack: Stack, name: str, alert: str, *, refused: bool = False) -> list[dict[str, Any]]:
    return [
        r
        for r in sink_records(stack, refused=refused)
        if r["channel"] == name and alert in json.dumps(r.get("body")) + r.get("subject", "")
    ]


def receiver_has(stack: Stack, alert: str) -> bool:
    headers = {"Authorization": f"Bearer {stack.receiver_token()}"}
    url = stack.config.url("receiver", "/alerts")
    return bool(httpx.get(url, params={"alertname": alert}, headers=headers).json()["alerts"])


def failed_notifications(stack: Stack, integration: str) -> float:
    text = httpx.get(stack.config.url("alertmanager", "/metrics")).text
    return sum(
        v
        for name, labels, v in parse_prometheus(text)
        if name == "alertmanager_notifications_failed_total" and labels.get("integration") == integration
    )


def sink_fault(stack: Stack, method: str, path: str) -> None:
    httpx.request(method, stack.config.url("sink_http", path), timeout=10).raise_for_status()


@pytest.mark.parametrize("mode", ["error", "hang"])
def test_slack_down_others_still_notified_then_slack_retried(stack: Stack, mode: str) -> None:
    alert = "DatabaseSlowQueries"  # P1: Slack, e-mail and the receiver
    sink_fault(stack, "PUT", f"/faults/slack/{mode}")
    app = stack.config.url("app")
    failed_before = failed_notifications(stack, "slack")
    n = {c: len(channel(stack, c, alert)) for c in ("slack", "email")}
    tried = len(channel(stack, "slack", alert, refused=True))
    httpx.post(f"{app}/faults/slow_db", timeout=60).raise_for_status()
    try:
        wait_for(
            lambda: len(channel(stack, "slack", alert, refused=True)) > tried, 90, f"Alertmanager trying Slack ({mode})"
        )
        wait_for(lambda: len(channel(stack, "email", alert)) > n["email"], 60, "the e-mail, Slack notwithstanding")
        wait_for(lambda: receiver_has(stack, alert), 60, "the receiver, Slack notwithstanding")
        assert len(channel(stack, "slack", alert)) == n["slack"], "Slack accepted nothing while it failed"
        if mode == "error":
            wait_for(
                lambda: failed_notifications(stack, "slack") > failed_before, 30, "failed Slack notifications counted"
            )
        sink_fault(stack, "DELETE", "/faults/slack")
        # Alertmanager retries: the notification arrives once Slack answers again
        wait_for(
            lambda: len(channel(stack, "slack", alert)) > n["slack"], 90, "the Slack message after Slack recovered"
        )
    finally:
        sink_fault(stack, "DELETE", "/faults/slack")
        httpx.delete(f"{app}/faults/slow_db", timeout=60)
    resolved = lambda: any("RESOLVED" in json.dumps(r["body"]) for r in channel(stack, "slack", alert)[n["slack"] :])  # noqa: E731
    wait_for(resolved, 120, "the resolve at Slack")


@contextlib.contextmanager
def untrusted_tls_backend() -> Iterator[tuple[str, list[str]]]:
    """An HTTPS server whose certificate comes from a CA the collector does not trust; yields its
    URL and the paths of the requests that got through TLS (none should)."""
    ca = trustme.CA(organization_name="a CA nobody trusts")
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("fault", ["dns", "tls"])
def test_forward_backend_unreachable_queue_holds_and_prometheus_path_is_exact(
    make_stack: Callable[..., Stack], fault: str
) -> None:
    """The forward overlay's backend cannot be reached: its name does not resolve (``dns``), or it
    presents a certificate of a CA the collector does not trust (``tls``)."""
    got: list[str] = []
    with contextlib.ExitStack() as exits:
        if fault == "dns":
            endpoint, named = "http://otlp-backend.invalid:4318", "otlp-backend.invalid"
        else:
            endpoint, got = exits.enter_context(untrusted_tls_backend())
            named = "certificate signed by unknown authority"
        st = make_stack(
            collector_overlays=("forward-otlp.yaml",),
            collector_env={"CCMON_FORWARD_OTLP_ENDPOINT": endpoint, "CCMON_FORWARD_QUEUE_SIZE": "50"},
        )
        forward_fails_safely(st, named)
        assert got == [], "nothing got through TLS"


def forward_fails_safely(st: Stack, named: str) -> None:
    start = time.time_ns()
    for value in range(1, 31):
        body = counter_request({"service.name": "forwarded"}, "neural.operations", "operation_type", ["learning"],
                               start, time.time_ns(), float(value))  # fmt: skip
        response = httpx.post(st.config.url("otlp_http", "/v1/metrics"), content=body,
                              headers={"content-type": "application/x-protobuf"})  # fmt: skip
        assert response.status_code == 200, response.text  # the backend's failure does not refuse ingest
        time.sleep(0.1)  # the service's pace (batches of a few points each), not a synchronisation

    def total(expr: str) -> float:
        result = st.prom_query(f"sum({expr})")
        return float(result[0]["value"][1]) if result else 0.0

    wait_for(lambda: total('neural_operations_total{job="forwarded"}') == 30, 30, "the Prometheus path exact")
    queued = 'otelcol_exporter_queue_size{exporter="otlp_http/forward"}'
    wait_for(lambda: total(queued) > 0, 30, "the forward queue holding what it cannot send")
    capacity = total('otelcol_exporter_queue_capacity{exporter="otlp_http/forward"}')
    assert capacity == 50 and total(queued) <= capacity
    assert total('otelcol_exporter_sent_metric_points{exporter="otlp_http/forward"}') == 0
    # the alert that says so (its 10-minute windows shortened: the stack is seconds old)
    stalled = BY_NAME["OTelCollectorExportStalled"].expr.replace("[10m]", "[5s]")
    found = wait_for(lambda: st.prom_query(stalled), 30, "OTelCollectorExportStalled's condition")
    assert {r["metric"]["exporter"] for r in found} == {"otlp_http/forward"}
    log = (st.logs / "collector.log").read_text()
    assert named in log, f"the collector's log says why ({named!r})"
