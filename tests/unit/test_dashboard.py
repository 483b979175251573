"""The dashboard: generated file current, ≥45 panels in the spec's rows, thresholds from the alerts,
every metric known, and (e2e) every panel query non-empty on the live local stack."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from mixin import dashboard_overview as overview
from mixin.alerts import BY_NAME
from mixin.dashboard_claude_code import CLAUDE_CODE
from mixin.dashboards import BOARDS
from mixin.panels import Board, render
from tests.promql import known_metric, referenced_metrics
from tests.support import ROOT

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
    data: dict[str, Any] = json.loads(overview.OUTPUT.read_text())
    return data


def data_panels(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in model["panels"] if p["type"] != "row"]


def test_committed_dashboard_is_current() -> None:
    assert overview.OUTPUT.read_text() == render(overview.OVERVIEW), "run `make dashboards`"


def test_provisionable_as_is(model: dict[str, Any]) -> None:
    assert "dashboard" not in model  # not wrapped (the original's defect)
    assert model["uid"] == overview.UID and model["title"]
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
    for _, spec in overview.panels():
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
    for _, spec in overview.panels():
        for expr, _ in spec.queries:
            unknown = {m for m in referenced_metrics(expr.replace("$__rate_interval", "5m")) if not known_metric(m)}
            assert not unknown, (spec.title, unknown)


@pytest.mark.parametrize("board", BOARDS, ids=lambda b: b.uid)
def test_every_board_is_current_known_and_thresholded(board: Board) -> None:
    """Each generated dashboard: committed file current, provisionable, stable ids, only known
    metrics, and its thresholds are its alerts' (the Claude Code one included)."""
    assert board.output.read_text() == render(board), "run `make dashboards`"
    model = json.loads(board.output.read_text())
    assert model["uid"] == board.uid and "dashboard" not in model
    assert [p["id"] for p in model["panels"]] == list(range(1, len(model["panels"]) + 1))
    rendered = data_panels(model)
    assert [p["title"] for p in rendered] == [spec.title for _, spec in board.panels()]
    for panel, (_, spec) in zip(rendered, board.panels(), strict=True):
        for expr, _ in spec.queries:
            unknown = {m for m in referenced_metrics(expr.replace("$__rate_interval", "5m")) if not known_metric(m)}
            assert not unknown, (spec.title, unknown)
        if spec.alert is not None:
            steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
            assert steps[-1]["value"] == BY_NAME[spec.alert].threshold, spec.title


def test_claude_code_board_covers_the_issue() -> None:
    titles = {p.title for _, p in CLAUDE_CODE.panels()}
    for wanted in (
        "Spend (24h)", "Spend per Day", "Spend by Model (1h)", "Spend by User (1h)", "Tokens by Type",
        "Cache-Read Share (1h)", "Sessions (24h)", "Active Time (1h)", "Lines of Code (1h)",
        "Commits and Pull Requests (24h)", "Edit Acceptance by Tool and Language (24h)", "API Error Rate by Model",
        "API Latency by Model", "Top Users by Spend (24h)", "Top Models by Spend (24h)",
    ):  # fmt: skip
        assert wanted in titles
    exprs = " ".join(e for _, p in CLAUDE_CODE.panels() for e, _ in p.queries)
    assert "session_id" not in exprs and "user_email" not in exprs
