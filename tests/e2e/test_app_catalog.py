"""Your own metrics end to end (issue 34): the example application outside the demo
(examples/invoices: its catalog file, the library's public API, nothing of otel_ccmon edited) pushes
OTLP through the collector into Prometheus. Its metrics appear under their declared names with exact
values; the collector keeps only the catalog's attributes and values; the generated rules are loaded
and the objectives' alerts go pending; every panel of the generated Applications board answers."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from mixin.dashboards import BOARDS
from otel_ccmon.devstack.doctor import substitute
from otel_ccmon.devstack.procs import wait_for
from otel_ccmon.devstack.stack import Stack
from tests.otlp_payloads import attribute
from tests.stack_queries import prom_values, wait_exact
from tests.support import ROOT, venv_bin

BATCHES, PER_BATCH, FAIL_EVERY = 6, 30, 3  # a third fails: above the 5 % objective


def _raw_point(url: str, attrs: dict[str, str], value: float) -> None:
    """A point of invoices.processed from a client that ignores the catalog (not through the library)."""
    now = time.time_ns()
    point = metrics_pb2.NumberDataPoint(
        attributes=[attribute(k, v) for k, v in attrs.items()],
        start_time_unix_nano=now - 10**9,
        time_unix_nano=now,
        as_double=value,
    )
    total = metrics_pb2.Sum(
        data_points=[point], aggregation_temporality=metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE, is_monotonic=True
    )
    resource = Resource(attributes=[attribute("service.name", "invoices"), attribute("service.instance.id", "raw")])
    scope = metrics_pb2.ScopeMetrics(metrics=[metrics_pb2.Metric(name="invoices.processed", sum=total)])
    body = ExportMetricsServiceRequest(
        resource_metrics=[metrics_pb2.ResourceMetrics(resource=resource, scope_metrics=[scope])]
    ).SerializeToString()
    answer = httpx.post(url, content=body, headers={"content-type": "application/x-protobuf"}, timeout=10)
    assert answer.status_code == 200, answer.text


def test_example_app_metrics_land_allowlisted_with_panels_and_alerts(
    make_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    check = subprocess.run(
        [venv_bin("ccmon"), "catalog", "check", "examples/invoices/metrics.yaml"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert check.returncode == 0 and "ok: service invoices, 4 metrics, 3 objectives" in check.stdout, check.stdout
    stack = make_stack()
    otlp = stack.config.url("otlp_http")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OTEL_SERVICE_NAME": "invoices",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp,
        "OTEL_METRIC_EXPORT_INTERVAL": "500",
    }
    args = ["--invoices", str(PER_BATCH), "--batches", str(BATCHES), "--every", "1", "--fail-every", str(FAIL_EVERY)]
    run = subprocess.run(
        [venv_bin("python"), "-m", "examples.invoices", *args, "--seconds", "4"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    failed = BATCHES * (PER_BATCH // FAIL_EVERY)
    assert run.returncode == 0 and f"{failed} failed" in run.stdout, run.stdout + run.stderr[-3000:]
    # a client that ignores the catalog: an undeclared attribute (an e-mail) and an unlisted value
    _raw_point(f"{otlp}/v1/metrics", {"outcome": "paid", "tier": "pro", "customer_email": "a@example.com"}, 5)
    _raw_point(f"{otlp}/v1/metrics", {"outcome": "stolen", "tier": "pro"}, 7)

    app = 'job="invoices",instance!="raw"'
    wait_exact(
        stack,
        {
            f'invoices_processed_total{{{app},outcome="failed"}}': failed,
            f'invoices_processed_total{{{app},outcome="paid"}}': BATCHES * PER_BATCH - failed,
            f'invoices_processed_total{{{app},tier="pro"}}': BATCHES * PER_BATCH / 3,
            f"invoices_processing_duration_seconds_count{{{app}}}": BATCHES * PER_BATCH,
            f'invoices_processing_duration_seconds_bucket{{{app},le="2.5"}}': 0,
            f'invoices_processing_duration_seconds_bucket{{{app},le="5.0"}}': BATCHES * PER_BATCH,
            f"invoices_queue_depth{{{app}}}": 0,
            f"invoices_customer_requests_total{{{app}}}": BATCHES * PER_BATCH,
            'invoices_processed_total{job="invoices",instance="raw"}': 5,  # the e-mail stripped, the point kept
        },
        "the example app's metrics in Prometheus",
    )
    series = prom_values(stack, '{__name__=~"invoices_.*",job="invoices"}')
    labels = {k for key in series for k, _ in key}
    assert "customer_email" not in labels and "stolen" not in {v for key in series for _, v in key}
    customers = {dict(key)["customer"] for key in prom_values(stack, "invoices_customer_requests_total")}
    assert customers == {f"acct-{i}" for i in range(7)}

    # the generated rules are loaded; the objectives broken by this run go pending, the other not
    def pending() -> set[str]:
        return {r["metric"]["alertname"] for r in stack.prom_query('ALERTS{job="invoices"}')}

    wait_for(lambda: pending() >= {"InvoiceFailuresHigh", "InvoiceProcessingSlow"}, 60, "the invoice alerts pending")
    assert "InvoiceQueueBacklog" not in pending()
    rules = httpx.get(stack.config.url("prometheus", "/api/v1/rules"), timeout=30).json()["data"]["groups"]
    assert {r["name"] for g in rules if g["name"] == "ccmon-apps" for r in g["rules"]} == {
        "InvoiceFailuresHigh",
        "InvoiceProcessingSlow",
        "InvoiceQueueBacklog",
    }

    board = next(b for b in BOARDS if b.uid == "ccmon-apps")
    empty = [
        title
        for _, p in board.panels()
        for title, expr in ((p.title, substitute(e)) for e, _ in p.queries)
        if not stack.prom_query(expr)
    ]
    assert empty == [], empty
