"""The dashboard: generated file current, ≥45 panels in the spec's rows, thresholds from the alerts,
every metric known, and (e2e) every panel query non-empty on the live local stack."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from otel_ccmon import _dashboard
from otel_ccmon._procs import wait_for
from otel_ccmon._rules import BY_NAME
from otel_ccmon._stack import ROOT, Stack, StackConfig
from tests.test_alerting import known_metric, referenced_metrics

SPEC_ROWS = [
    "System Overview", "Neural System Performance", "Verification & Truth System", "Database & Caching",
    "GOAP Planning & Coordination", "System Resources", "HTTP", "Pipeline Health",
]  # fmt: skip
SPEC_PANELS = [
    "Service Status", "Neural Operations/sec", "Cache Hit Rate", "Truth Score P95", "Memory Usage",
    "Neural Operations Rate", "Pattern Confidence Distribution", "Feedback Loop Cycles", "Pattern Memory Size",
    "Truth Score Percentiles", "Verification Success Rate", "Auto Rollbacks (1h)", "Agent Reliability",
    "Database Query Duration", "Cache Performance", "Database Connection Errors", "Pattern Retrieval Performance",
    "GOAP Planning Duration", "Coordination Efficiency", "Pattern Reuse Rate", "Task Completion Rate",
    "Active Patterns Count", "CPU Usage", "Memory Usage Over Time", "Error Rates by Type",
    "Collector Points Received", "Exporter Queue Usage", "Scrape Health", "Rule Evaluation Failures",
    "Notification Failures", "Firing Alerts by Severity",
]  # fmt: skip


@pytest.fixture(scope="module")
def model() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_dashboard.OUTPUT.read_text())
    return data


def data_panels(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in model["panels"] if p["type"] != "row"]


def test_committed_dashboard_is_current() -> None:
    assert _dashboard.OUTPUT.read_text() == _dashboard.render(), "run `make dashboards`"


def test_provisionable_as_is(model: dict[str, Any]) -> None:
    assert "dashboard" not in model  # not wrapped (the original's defect)
    assert model["uid"] == _dashboard.UID and model["title"]
    datasources = yaml.safe_load((ROOT / "grafana/provisioning/datasources/datasources.yml").read_text())
    uids = {d["uid"] for d in datasources["datasources"] if d["type"] == "prometheus"}
    ds_var = next(v for v in model["templating"]["list"] if v["name"] == "datasource")
    assert ds_var["current"]["value"] in uids
    assert {v["name"] for v in model["templating"]["list"]} == {"datasource", "job", "instance", "agent_id"}


def test_rows_and_panel_count(model: dict[str, Any]) -> None:
    rows = [p["title"] for p in model["panels"] if p["type"] == "row"]
    assert rows == SPEC_ROWS
    assert len(data_panels(model)) >= 45
    titles = {p["title"] for p in data_panels(model)}
    missing = [t for t in SPEC_PANELS if t not in titles]
    assert not missing


def test_modern_panels_units_stable_ids(model: dict[str, Any]) -> None:
    ids = [p["id"] for p in model["panels"]]
    assert ids == list(range(1, len(ids) + 1))
    for p in data_panels(model):
        assert p["type"] in {"timeseries", "stat", "gauge", "bargauge", "heatmap", "table"}, p["title"]
        assert "alert" not in p, p["title"]
        assert p["fieldConfig"]["defaults"].get("unit"), p["title"]
        assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_thresholds_are_the_alert_thresholds(model: dict[str, Any]) -> None:
    by_title = {p["title"]: p for p in data_panels(model)}
    checked = 0
    for _, spec in _dashboard.panels():
        if spec.alert is None or spec.kind == "heatmap":
            continue
        alert = BY_NAME[spec.alert]
        steps = by_title[spec.title]["fieldConfig"]["defaults"]["thresholds"]["steps"]
        assert steps[-1]["value"] == alert.threshold, spec.title
        # …and that number is the one in the alert's expression
        number = alert.threshold
        assert number is not None
        literals = {float(x) for x in re.findall(r"(?<![\w.])(\d+(?:\.\d+)?)(?![\w.])", alert.expr)}
        assert number in literals, (spec.title, alert.name)
        checked += 1
    assert checked >= 25


def test_every_metric_in_panels_is_known() -> None:
    for _, spec in _dashboard.panels():
        for expr, _ in spec.queries:
            unknown = {m for m in referenced_metrics(expr.replace("$__rate_interval", "5m")) if not known_metric(m)}
            assert not unknown, (spec.title, unknown)


# -- live ----------------------------------------------------------------------------------------------------
def substitute(expr: str) -> str:
    return (
        expr.replace("$__rate_interval", "1m")
        .replace("$job", ".*")
        .replace("$instance", ".*")
        .replace("$agent_id", ".*")
    )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work: Path = tmp_path_factory.mktemp("dashboard")
    stack = Stack(
        StackConfig.with_free_ports(
            work, scrape_interval="1s", evaluation_interval="1s", export_interval_ms=500, app_args=("--tick", "0.25")
        )
    )
    stack.up()
    try:
        yield stack
    finally:
        stack.down()


@pytest.mark.e2e
def test_every_panel_query_returns_data(live: Stack) -> None:
    app = live.config.url("app")
    for path in ("/patterns/1", "/patterns/424242", "/faults"):
        httpx.get(app + path)
    queries = [(row, spec.title, substitute(expr)) for row, spec in _dashboard.panels() for expr, _ in spec.queries]

    def empty() -> list[str]:
        return [f"{row} / {title}: {expr}" for row, title, expr in queries if not live.prom_query(expr)]

    try:
        wait_for(lambda: not empty(), 90, "every panel query to return data", interval=2)
    except TimeoutError:
        pytest.fail("panel queries without data:\n" + "\n".join(empty()))
    for variable in ("job", "instance", "agent_id"):
        metric = "agent_truth_score" if variable == "agent_id" else "target_info"
        values = httpx.get(
            live.config.url("prometheus", f"/api/v1/label/{variable}/values"), params={"match[]": metric}
        )
        assert values.json()["data"], variable
