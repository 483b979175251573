"""Every coding agent in one model (issue 32), with the real clients: Gemini CLI 0.61.0, Codex CLI
0.171.0, Qwen Code 0.24.4 (each offline against tests/model_stubs.py) and Claude Code 2.1.332
(against tests/anthropic_stub.py), each pointed at the stack by what ``ccmon agents env`` prints.

One token metric and one cost metric hold all four; tokens are exact and never counted twice
(the stubs report cached input inside input and reasoning inside output, as the real APIs do);
cost is tokens x the price table (Claude Code's as sent); a model without a price is counted as
unpriced, not priced at 0; the agents' own metrics and session ids stay out of Prometheus; and
``ccmon agents report`` cuts the spend by agent and team."""

from __future__ import annotations

import csv
import json
import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from mixin.config import SETTINGS
from otel_ccmon.devstack.repo import bin_dir
from otel_ccmon.devstack.stack import Stack
from tests.anthropic_stub import Stub, serving
from tests.e2e.test_claude_code_cli import CLAUDE, finish, run_cli, total
from tests.model_stubs import ModelStub, Usage, serve
from tests.stack_queries import wait_exact
from tests.support import ROOT, venv_bin

BINARIES = {name: bin_dir(ROOT) / name for name in ("gemini", "codex", "qwen")}
pytestmark = pytest.mark.skipif(
    not all(b.exists() for b in (*BINARIES.values(), CLAUDE)),
    reason="a coding agent's CLI is not installed (scripts/bootstrap.sh agents, claude-code)",
)
USAGE = Usage(input=100, cached=40, output=30, reasoning=7)
UNLISTED = "qwen-unlisted-1"  # a model the price table does not know


@pytest.fixture
def models() -> Iterator[tuple[ModelStub, str]]:
    s = ModelStub(USAGE)
    with serving(serve(s)) as url:
        yield s, url


def printed(agent: str, otlp: str, fmt: str) -> str:
    """What ``ccmon agents env`` prints: the command a user runs."""
    out = subprocess.run(
        [venv_bin("ccmon"), "agents", "env", agent, "--endpoint", otlp, "--format", fmt],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return out.stdout


def run_agent(
    agent: str, base: str, otlp: str, model: str | None, team: str, extra: Mapping[str, str]
) -> subprocess.Popen[str]:
    """One real session of ``agent``; the settings file is what ``ccmon agents env`` printed, plus
    the user's own model-provider choice (the stub)."""
    home = Path(tempfile.mkdtemp(prefix=f"{agent}-home-"))
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "OTEL_RESOURCE_ATTRIBUTES": f"team.id={team}"}
    content = printed(agent, otlp, "file")
    if agent == "codex":
        provider = (
            f'model = "{model}"\nmodel_provider = "stub"\n'
            f'[model_providers.stub]\nname = "stub"\nbase_url = "{base}/v1"\nenv_key = "STUB_API_KEY"\n'
            'wire_api = "responses"\n[analytics]\nenabled = false\n'
        )
        (home / ".codex").mkdir()
        (home / ".codex" / "config.toml").write_text(provider + content)
        env |= {"CODEX_HOME": str(home / ".codex"), "STUB_API_KEY": "x", **extra}
        argv = [str(BINARIES["codex"]), "exec", "--skip-git-repo-check", "say done"]
    else:
        settings = json.loads(content)
        auth = "gemini-api-key" if agent == "gemini-cli" else "openai"
        settings["security"] = {"auth": {"selectedType": auth}, "folderTrust": {"enabled": False}}
        folder = home / (".gemini" if agent == "gemini-cli" else ".qwen")
        folder.mkdir()
        (folder / "settings.json").write_text(json.dumps(settings))
        if agent == "gemini-cli":
            env |= {"GEMINI_API_KEY": "x", "GOOGLE_GEMINI_BASE_URL": base}
            argv = [str(BINARIES["gemini"]), *(("-m", model) if model else ()), "-p", "say done"]
        else:
            env |= {"OPENAI_API_KEY": "x", "OPENAI_BASE_URL": f"{base}/v1", "OPENAI_MODEL": model or ""}
            argv = [str(BINARIES["qwen"]), "-p", "say done"]
    env |= extra
    return subprocess.Popen(
        argv, env=env, cwd=home, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def per_million(agent: str, model: str) -> dict[str, float]:
    """The price row the collector uses (the most specific: agent's own, exact, longest prefix)."""
    rows = [
        r
        for r in SETTINGS.agents.prices
        if r.agent in ("*", agent) and (r.model == model or (r.model.endswith("*") and model.startswith(r.model[:-1])))
    ]
    best = max(rows, key=lambda r: (r.agent == agent, r.model == model, len(r.model)))
    return best.per_million()


def expected_cost(agent: str, model: str, requests: int) -> float:
    p = per_million(agent, model)
    u = USAGE
    return (
        requests
        * (u.input * p["input"] + u.cached * p["cacheRead"] + u.output * p["output"] + u.reasoning * p["reasoning"])
        / 1e6
    )


RUNS = [  # (agent, model, team, extra environment); model None: the agent's default (Gemini: auto)
    ("gemini-cli", "gemini-2.5-flash", "alpha", {}),
    # auto: a router call and the routed one, each counted under its model; delta temporality
    ("gemini-cli", None, "alpha", {"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "delta"}),
    ("codex", "gpt-5-codex", "beta", {}),
    ("qwen-code", "qwen3-coder-plus", "beta", {}),
    ("qwen-code", UNLISTED, "alpha", {}),
]
API = {"gemini": "gemini-cli", "responses": "codex", "chat": "qwen-code"}
TYPES = (("input", USAGE.input), ("cacheRead", USAGE.cached), ("output", USAGE.output), ("reasoning", USAGE.reasoning))


def priced(agent: str, model: str) -> bool:
    return any(
        r.agent in ("*", agent) and (r.model == model or (r.model.endswith("*") and model.startswith(r.model[:-1])))
        for r in SETTINGS.agents.prices
    )


def test_every_agent_in_one_token_and_one_cost_metric(
    models: tuple[ModelStub, str], stub: tuple[Stub, str], make_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    m, base = models
    claude_stub, claude_base = stub
    stack = make_stack()
    otlp = stack.config.url("otlp_http")
    claude_env = dict(
        shlex.split(line.removeprefix("export "))[0].split("=", 1)
        for line in printed("claude-code", otlp, "shell").splitlines()
    )
    procs = [run_agent(agent, base, otlp, model, team, extra) for agent, model, team, extra in RUNS]
    procs.append(
        run_cli(claude_base, otlp, "plain", "claude-sonnet-4-5", "delta", "http/protobuf", settings=claude_env,
                extra={"OTEL_RESOURCE_ATTRIBUTES": "team.id=alpha"})
    )  # fmt: skip
    finish(procs)

    # the ground truth: what the stubs served, per agent and model (Gemini's auto: router and routed)
    served: dict[tuple[str, str], int] = {}
    for x in m.served:
        assert x.status == 200
        served[(API[x.api], x.model)] = served.get((API[x.api], x.model), 0) + 1
    gemini_models = {model for agent, model in served if agent == "gemini-cli"}
    assert len(gemini_models) >= 3, f"auto mode adds a router call and its routed model: {served}"
    claude_served = [x.usage for x in claude_stub.served if x.usage is not None]
    assert len(claude_served) == 1
    expected: dict[str, float] = {}
    unpriced: dict[tuple[str, str], float] = {}
    for (agent, model), n in served.items():
        for typ, v in TYPES:
            expected[f'agent_token_usage_tokens_total{{agent="{agent}",model="{model}",type="{typ}"}}'] = n * v
        if priced(agent, model):
            expected[f'agent_cost_usage_USD_total{{agent="{agent}",model="{model}",estimated="true"}}'] = expected_cost(
                agent, model, n
            )
        else:
            unpriced[(agent, model)] = n * float(sum(v for _, v in TYPES))
            expected[f'agent_token_unpriced_tokens_total{{agent="{agent}",model="{model}"}}'] = unpriced[(agent, model)]
    assert ("qwen-code", UNLISTED) in unpriced
    cu = claude_served[0]
    for typ, v in (("input", cu.input_tokens), ("output", cu.output_tokens), ("cacheRead", cu.cache_read_input_tokens),
                   ("cacheCreation", cu.cache_creation_input_tokens)):  # fmt: skip
        expected[f'agent_token_usage_tokens_total{{agent="claude-code",type="{typ}"}}'] = float(v)

    wait_exact(stack, expected, "every agent's tokens and cost in Prometheus")

    # Claude Code: in the shared metrics exactly as in its own ones, its cost as sent
    own = total(stack, 'claude_code_cost_usage_USD_total{job="claude-code"}')
    assert own > 0
    assert total(stack, 'agent_cost_usage_USD_total{agent="claude-code",estimated="false"}') == pytest.approx(
        own, rel=1e-12
    )
    assert total(stack, 'agent_cost_usage_USD_total{agent="claude-code",estimated="true"}') == 0
    # the unpriced model: in tokens, in no cost
    assert not stack.prom_query(f'agent_cost_usage_USD_total{{model="{UNLISTED}"}}')
    # every agent's sessions and requests
    for agent in ("gemini-cli", "codex", "qwen-code", "claude-code"):
        assert total(stack, f'agent_session_count_total{{agent="{agent}"}}') >= 1, agent
    assert total(stack, 'agent_api_requests_total{agent="codex",status_code="200"}') == served[("codex", "gpt-5-codex")]
    # the agents' own metrics and their per-session ids stay out of Prometheus
    names = {r["metric"]["__name__"] for r in stack.prom_query('{__name__=~"gemini_cli.*|codex.*|qwen.*"}')}
    assert not names, names
    labelled = stack.prom_query('{__name__=~"agent_.+", session_id!=""} or {__name__=~"agent_.+", installation_id!=""}')
    assert not labelled, labelled[:3]
    teams = {
        (r["metric"].get("agent"), r["metric"].get("team_id"))
        for r in stack.prom_query("agent_token_usage_tokens_total")
    }
    assert teams == {
        ("gemini-cli", "alpha"),
        ("codex", "beta"),
        ("qwen-code", "beta"),
        ("qwen-code", "alpha"),
        ("claude-code", "alpha"),
    }

    # the report: by agent and team, the unpriced model named
    out = tmp_path / "report"
    report = subprocess.run(
        [venv_bin("ccmon"), "agents", "report", "--since", "1d", "--by", "agent", "--by", "team",
         "--prometheus", stack.config.url("prometheus"), "--out", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert report.returncode == 0, report.stdout + report.stderr
    for (agent, model), tokens in unpriced.items():
        assert f"UNPRICED: {tokens:,.0f} tokens of {agent} / {model}" in report.stdout, report.stdout
    with (out / "agents-report.csv").open() as f:
        rows = list(csv.DictReader(f))
    by: dict[tuple[str, str], tuple[float, float]] = {}
    for r in rows:  # one row per day and (agent, team): a run across midnight has two days
        cost, tokens = by.get((r["agent"], r["team_id"]), (0.0, 0.0))
        by[(r["agent"], r["team_id"])] = (cost + float(r["cost_usd"]), tokens + float(r["tokens"]))
    qwen_beta = expected_cost("qwen-code", "qwen3-coder-plus", served[("qwen-code", "qwen3-coder-plus")])
    assert by[("qwen-code", "beta")][0] == pytest.approx(qwen_beta, abs=1e-6)
    assert by[("qwen-code", "alpha")][0] == 0  # the unpriced model's cost is not there...
    assert by[("qwen-code", "alpha")][1] == unpriced[("qwen-code", UNLISTED)]  # ...its tokens are
    assert by[("codex", "beta")][0] == pytest.approx(
        expected_cost("codex", "gpt-5-codex", served[("codex", "gpt-5-codex")]), abs=1e-6
    )
    assert by[("claude-code", "alpha")][0] == pytest.approx(own, abs=1e-6)
    gemini_tokens = sum(n for (agent, _), n in served.items() if agent == "gemini-cli") * sum(v for _, v in TYPES)
    assert by[("gemini-cli", "alpha")][1] == gemini_tokens
    teams_cost = {t: sum(c for (_, tt), (c, _) in by.items() if tt == t) for t in ("alpha", "beta")}
    assert teams_cost["beta"] == pytest.approx(by[("codex", "beta")][0] + qwen_beta, abs=1e-6)
