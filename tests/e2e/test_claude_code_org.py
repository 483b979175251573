"""Claude Code across an organisation (issue 21), on the real collector and Prometheus with the
simulator: spend by team, cost centre and subagent exact; capped keys fold and count; every
documented event counted; the finance report by team and user over 90 days with a directory, its
weekly and monthly CSV, and its HTML page rendered in a real browser."""

from __future__ import annotations

import csv
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from otel_ccmon.claude_code import Team, TeamPlan
from otel_ccmon.devstack.procs import wait_for
from otel_ccmon.devstack.repo import bin_dir
from otel_ccmon.devstack.stack import Stack
from tests.support import ROOT, venv_bin

COST = "claude_code_cost_usage_USD_total"
PLATFORM = (("department", "engineering"), ("team.id", "platform"), ("cost_center", "eng-123"))
WEB = (("department", "engineering"), ("team.id", "web"), ("cost_center", "eng-456"))


def total(stack: Stack, expr: str) -> float:
    result = stack.prom_query(f"sum({expr})")
    return float(result[0]["value"][1]) if result else 0.0


def by(stack: Stack, label: str, expr: str = COST) -> dict[str, float]:
    return {r["metric"].get(label, ""): float(r["value"][1]) for r in stack.prom_query(f"sum by ({label}) ({expr})")}


def near(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def test_spend_by_team_cost_centre_and_subagent_is_exact(make_stack: Callable[..., Stack], tmp_path: Path) -> None:
    stack = make_stack()
    plan = TeamPlan(users=4, sessions=12, seconds=8, seed=21, attribution=(PLATFORM, WEB), subagent_share=0.4)
    team = Team(stack.config.url("otlp_http"), plan)
    team.run()
    recorded = team.ledger.total("recorded", "claude_code.cost.usage")
    wait_for(lambda: near(total(stack, COST), recorded), 60, f"sum({COST}) == {recorded}")
    teams = {t: team.ledger.total("recorded", "claude_code.cost.usage", **{"team.id": t}) for t in ("platform", "web")}
    assert all(v > 0 for v in teams.values())
    got = by(stack, "team_id")
    assert set(got) == {"platform", "web"} and all(near(got[t], v) for t, v in teams.items()), (got, teams)
    centres = by(stack, "cost_center")
    assert near(centres["eng-123"], teams["platform"]) and near(centres["eng-456"], teams["web"])
    assert set(by(stack, "department")) == {"engineering"}
    # subagents' spend under their names, the rest without the label
    agents = {a: team.ledger.total("recorded", "claude_code.cost.usage", **{"agent.name": a}) for a in ("Explore",)}
    assert near(by(stack, "agent_name")["Explore"], agents["Explore"])
    # the event-derived metrics are cut by team too, and every subagent completion is counted
    events = [e for s in team.sessions for e in s.client.sent_events]
    subagents = sum(1 for name, _ in events if name == "subagent_completed")

    def derived() -> bool:
        return total(stack, 'ccmon_claude_code_events_total{event="subagent_completed"}') == subagents

    wait_for(derived, 60, "the events counted by name")
    assert set(by(stack, "team_id", "ccmon_claude_code_prompts_total")) == {"platform", "web"}
    assert total(stack, "ccmon_claude_code_subagents_total") == subagents > 0
    hooks = sum(1 for name, _ in events if name == "hook_execution_complete")
    assert total(stack, 'ccmon_claude_code_hook_executions_total{outcome="success"}') == hooks
    assert total(stack, 'ccmon_claude_code_mcp_connections_total{status="connected"}') == len(team.sessions)

    # the finance report: by team and user, 90 days, people named by the directory
    directory = tmp_path / "people.csv"
    people = sorted({s.client.identity.user_id for s in team.sessions})
    directory.write_text("id,name,team\n" + "".join(f"{u},Dev {i}\n" for i, u in enumerate(people)))
    out = tmp_path / "report"
    prometheus = stack.config.url("prometheus")
    argv = [venv_bin("ccmon"), "claude-code", "report", "--since", "90d", "--by", "team", "--by", "user",
            "--directory", str(directory), "--prometheus", prometheus, "--out", str(out)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=True)
    assert f"total  {recorded:.4f} USD" in done.stdout, done.stdout[-3000:]
    rows = list(csv.DictReader((out / "claude-code-report.csv").open()))
    assert {r["day"] for r in rows} and len({r["day"] for r in rows}) <= 2  # today (and yesterday near midnight)
    for t, v in teams.items():
        assert abs(sum(float(r["cost_usd"]) for r in rows if r["team_id"] == t) - v) <= 1e-5, t  # CSV: 6 decimals
    assert {r["user_name"] for r in rows} == {f"Dev {i}" for i in range(len(people))}
    for name in ("weekly", "monthly"):
        table = list(csv.DictReader((out / f"claude-code-{name}.csv").open()))
        for t, v in teams.items():
            assert abs(sum(float(r["cost_usd"]) for r in table if r["team_id"] == t) - v) <= 1e-5, (name, t)
        assert {r["whole_period"] for r in table} == {"no"}  # the window ends today, mid-period
    render(out / "claude-code-report.html", tmp_path)


def render(page: Path, work: Path) -> None:
    """The page in a real browser: a screenshot with the charts' bars drawn (their colours)."""
    browser = bin_dir(ROOT) / "chromium-headless-shell"
    if not browser.exists() and shutil.which("chromium-headless-shell") is None:
        pytest.skip("no chromium-headless-shell (scripts/bootstrap.sh browser installs it as root)")
    from PIL import Image

    shot = work / "report.png"
    argv = [str(browser if browser.exists() else shutil.which("chromium-headless-shell")), "--no-sandbox",
            "--disable-gpu", "--hide-scrollbars", f"--screenshot={shot}", "--window-size=1200,2400",
            page.as_uri()]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=work)
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    colours = {rgb for _, rgb in image.getcolors(maxcolors=1 << 20) or []}
    for bar in ((0x54, 0x70, 0xC6), (0x91, 0xCC, 0x75)):  # the first two bars of every chart
        assert bar in colours, f"bar colour {bar} not drawn"
    dom = subprocess.run([*argv[:4], "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.stdout.count('class="bar"') >= 4 and "By team_id" in dom.stdout and "Weekly" in dom.stdout


def test_capped_team_values_fold_and_are_counted(make_stack: Callable[..., Stack]) -> None:
    """More teams than max_values_per_key (here 2): the third and fourth team's spend is kept under
    __other__ and the folds are counted; the total stays exact."""
    stack = make_stack(collector_env={"CCMON_CLAUDE_CODE_MAX_VALUES_PER_KEY": "2"})
    attribution = tuple((("team.id", f"team-{i}"),) for i in range(4))
    plan = TeamPlan(users=4, sessions=8, seconds=6, seed=5, attribution=attribution)
    team = Team(stack.config.url("otlp_http"), plan)
    team.run()
    recorded = team.ledger.total("recorded", "claude_code.cost.usage")
    wait_for(lambda: near(total(stack, COST), recorded), 60, "the total exact whatever is folded")
    got = by(stack, "team_id")
    assert len(got) == 3 and "__other__" in got, got
    folded = 'otelcol_ccmon_claude_code_folded_values{key="team.id"}'
    assert wait_for(lambda: total(stack, folded) or None, 30, "the folds counted") > 0


def test_bad_attribution_values_and_malformed_traces(make_stack: Callable[..., Stack]) -> None:
    """Bad input (issue 21): a unicode team name is kept as it is, an endless one is cut to 128
    bytes, an empty one is no label; a malformed OTLP trace export is refused with a 400 and the
    collector carries on; the total stays exact."""
    stack = make_stack()
    endless = "x" * 100_000
    attribution = ((("team.id", "équipe-🚀"),), (("team.id", endless),), (("team.id", ""),))
    plan = TeamPlan(users=3, sessions=6, seconds=5, seed=9, attribution=attribution)
    team = Team(stack.config.url("otlp_http"), plan)
    team.run()
    recorded = team.ledger.total("recorded", "claude_code.cost.usage")
    wait_for(lambda: near(total(stack, COST), recorded), 60, "the total exact")
    assert set(by(stack, "team_id")) == {"équipe-🚀", "x" * 128, ""}
    garbage = httpx.post(
        stack.config.url("otlp_http", "/v1/traces"), content=b"\x00\xffnot protobuf",
        headers={"content-type": "application/x-protobuf"},
    )  # fmt: skip
    assert garbage.status_code == 400, garbage.text
    assert httpx.get(stack.config.url("collector_health", "/")).status_code == 200
