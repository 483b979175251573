"""Every dashboard panel query returns data on the live local stack."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from mixin.generate import BOARDS
from mixin.rule_files import TEAM_BUDGET_RECORD
from otel_ccmon.devstack.doctor import substitute
from otel_ccmon.devstack.procs import wait_for
from otel_ccmon.devstack.stack import Stack, StackConfig
from tests.support import ROOT


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work: Path = tmp_path_factory.mktemp("dashboard")
    # the repository's rules, plus a daily budget for the demo's teams (none by default)
    rules = work / "rules"
    shutil.copytree(ROOT / "prometheus" / "rules", rules)
    budgets = [
        {"record": TEAM_BUDGET_RECORD, "expr": "vector(10)", "labels": {"team_id": t, "period": "daily"}}
        for t in ("platform", "web")
    ]
    services = yaml.safe_load((rules / "services.yml").read_text())
    services["groups"].append({"name": "test-budgets", "rules": budgets})
    (rules / "services.yml").write_text(yaml.safe_dump(services))
    stack = Stack(
        StackConfig.with_free_ports(
            work / "stack",
            rules_dir=rules,
            scrape_interval="1s",
            evaluation_interval="1s",
            export_interval_ms=500,
            app_args=("--tick", "0.25"),
            claude_code_team=True,
        )
    )
    stack.up()
    try:
        yield stack
    finally:
        stack.down()


def test_every_panel_query_returns_data(live: Stack) -> None:
    app = live.config.url("app")
    for path in ("/patterns/1", "/patterns/424242", "/faults"):
        httpx.get(app + path)
    # the simulated Claude Code team is healthy by default: its API-error panels need the fault
    httpx.post(app + "/faults/claude_code_errors", timeout=60).raise_for_status()
    queries = [
        (row, spec.title, substitute(expr))
        for board in BOARDS
        for row, spec in board.panels()
        for expr, _ in spec.queries
    ]

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
