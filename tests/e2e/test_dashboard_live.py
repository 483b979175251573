"""Every dashboard panel query returns data on the live local stack, from Prometheus and from
Thanos Query (what Grafana reads in the HA topology: both replicas deduplicated, and the bucket);
`ccmon doctor` checks the same stack, the long-term tier included."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from mixin.dashboards import STACK_BOARDS
from mixin.rule_files import TEAM_BUDGET_RECORD
from otel_ccmon.devstack.components import ALL_COMPONENTS, HA_COMPONENTS
from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.doctor import substitute
from otel_ccmon.devstack.procs import wait_for
from otel_ccmon.devstack.stack import Stack
from tests.support import ROOT, venv_bin


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
    components = (*ALL_COMPONENTS, *HA_COMPONENTS)  # node-exporter too: the system panels
    stack = Stack(
        StackConfig.with_free_ports(
            work / "stack",
            components=components,
            ha=True,
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
        for board in STACK_BOARDS  # the applications' board: tests/e2e/test_app_catalog.py
        for row, spec in board.panels()
        for expr, _ in spec.queries
    ]

    sources = {"Prometheus": live.config.url("prometheus"), "Thanos Query": live.config.url("thanos_query")}

    def answers(url: str, expr: str) -> bool:
        body = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=30).json()
        return body["status"] == "success" and bool(body["data"]["result"])

    def empty() -> list[str]:
        return [
            f"{source}: {row} / {title}: {expr}"
            for source, url in sources.items()
            for row, title, expr in queries
            if not answers(url, expr)
        ]

    try:
        wait_for(lambda: not empty(), 90, "every panel query to return data", interval=2)
    except TimeoutError:
        pytest.fail("panel queries without data:\n" + "\n".join(empty()))
    for variable in ("job", "instance", "agent_id"):
        metric = "agent_truth_score" if variable == "agent_id" else "target_info"
        for url in sources.values():
            values = httpx.get(f"{url}/api/v1/label/{variable}/values", params={"match[]": metric}, timeout=30)
            assert values.json()["data"], (url, variable)


def test_doctor_checks_the_long_term_tier(live: Stack) -> None:
    # ready first: a fresh stack's replicas have no `up` sample yet, and the doctor rightly warns
    # then (alone, this test used to run before either replica had scraped: WARN, replicas [])
    query = live.config.url("thanos_query") + "/api/v1/query"

    def replicas() -> set[str]:
        params = {"query": "count by (replica) (up)", "dedup": "false"}
        body = httpx.get(query, params=params, timeout=30).json()
        return {r["metric"].get("replica", "") for r in body["data"]["result"]}

    wait_for(lambda: replicas() >= {"prometheus-0", "prometheus-1"}, 90, "both replicas' samples in Thanos Query")
    result = subprocess.run(
        [venv_bin("ccmon"), "doctor", "--workdir", str(live.workdir), "--repo", str(ROOT)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    lines = result.stdout.splitlines()
    assert any(line.startswith("OK    Thanos Query reachable") for line in lines), result.stdout
    assert "OK    Thanos sidecars: 2 connected" in lines, result.stdout
    assert "OK    Thanos stores: 1 connected" in lines, result.stdout
    dedup = next(line for line in lines if "replicas deduplicated" in line)
    assert dedup.startswith("OK") and "prometheus-0, prometheus-1" in dedup, dedup
    assert "OK    Thanos alerts: none firing" in lines, result.stdout
    status = subprocess.run(
        [venv_bin("ccmon"), "stack", "status", "--workdir", str(live.workdir)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "long term (Thanos Query): sidecars 2/2 connected, stores 1/1 connected" in status.stdout, status.stdout
