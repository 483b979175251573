"""An app on the real Claude Agent SDK (0.2.184, driving the pinned Claude Code CLI offline against
the Messages API stub), its sessions attributed by ``claude_agent_env`` (issue 33): Claude Code's
exact tokens and cost under ``project="release-bot"`` and the app's team, in Claude Code's own
metrics and in the shared ones, and ``ccmon agents report --by project`` names the app."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable

import pytest

from otel_ccmon.claude_code._simulator import cost_usd
from otel_ccmon.devstack.procs import wait_for
from otel_ccmon.devstack.stack import Stack
from tests.anthropic_stub import Stub
from tests.e2e.test_claude_code_cli import CLAUDE, total
from tests.support import ROOT, venv_bin

pytestmark = pytest.mark.skipif(not CLAUDE.exists(), reason="the Claude Code CLI is not installed (bootstrap)")


def test_agent_sdk_sessions_are_attributed_to_the_app(stub: tuple[Stub, str], make_stack: Callable[..., Stack]) -> None:
    s, base = stub
    stack = make_stack()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ANTHROPIC_BASE_URL": base,
        "ANTHROPIC_API_KEY": "sk-ant-test-not-a-key",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "CCMON_CLAUDE_CLI": str(CLAUDE),
        "HOME": str(stack.workdir),
    }
    run = subprocess.run(
        [venv_bin("python"), str(ROOT / "tests" / "apps" / "agent_sdk_app.py"), stack.config.url("otlp_http")],
        env=env, capture_output=True, text=True, timeout=180, check=False, cwd=stack.workdir,
    )  # fmt: skip
    assert run.returncode == 0 and "result success" in run.stdout, run.stdout + run.stderr[-3000:]
    served = [x for x in s.served if x.usage is not None]
    assert served, s.served
    usage = {
        "input": sum(x.usage.input_tokens for x in served if x.usage),
        "output": sum(x.usage.output_tokens for x in served if x.usage),
        "cacheRead": sum(x.usage.cache_read_input_tokens for x in served if x.usage),
        "cacheCreation": sum(x.usage.cache_creation_input_tokens for x in served if x.usage),
    }
    cost = sum(
        cost_usd(x.model, (x.usage.input_tokens, x.usage.output_tokens, x.usage.cache_read_input_tokens,
                           x.usage.cache_creation_input_tokens))
        for x in served if x.usage
    )  # fmt: skip
    app = 'project="release-bot",team_id="platform"'
    expected = {f'claude_code_token_usage_tokens_total{{{app},type="{k}"}}': float(v) for k, v in usage.items()}
    expected |= {
        f'agent_token_usage_tokens_total{{agent="claude-code",{app},type="{k}"}}': float(v) for k, v in usage.items()
    }

    def arrived() -> bool:
        exact = all(total(stack, e) == v for e, v in expected.items())
        return exact and abs(total(stack, f"agent_cost_usage_USD_total{{{app}}}") - cost) <= 1e-9

    try:
        wait_for(arrived, 60, "the Agent SDK app's Claude Code totals under its project")
    finally:
        got = {e: total(stack, e) for e in expected}
        assert got == expected, got
    assert total(stack, f"claude_code_cost_usage_USD_total{{{app}}}") == pytest.approx(cost, rel=1e-9)
    report = subprocess.run(
        [venv_bin("ccmon"), "agents", "report", "--since", "1d", "--by", "project", "--by", "agent",
         "--prometheus", stack.config.url("prometheus"), "--out", str(stack.workdir / "report")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    assert "release-bot" in report.stdout and f"{cost:.4f} USD" in report.stdout, report.stdout
