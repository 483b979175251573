"""An unchanged agent application on the Anthropic and OpenAI SDKs (tests/apps/sdk_app.py: two plain
and two streamed Claude calls, one OpenAI Responses call) under ``ccmon-instrument``, OTLP to the stack
(issue 33): its tokens land exactly in the shared token metric under the app's name, with cache
tokens apart, a positive cost from the price table, its requests beside the coding agents', and no
prompt text anywhere in Prometheus."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from mixin.config import SETTINGS
from otel_ccmon.devstack.stack import Stack
from tests.anthropic_stub import Stub, Turn, Usage, serve, serving
from tests.e2e.test_claude_code_cli import total
from tests.model_stubs import ModelStub
from tests.model_stubs import Usage as OpenAIUsage
from tests.model_stubs import serve as serve_models
from tests.stack_queries import wait_exact
from tests.support import ROOT, venv_bin

CLAUDE = Usage(input_tokens=1200, output_tokens=300, cache_read_input_tokens=5000, cache_creation_input_tokens=800)
GPT = OpenAIUsage(input=100, cached=40, output=30, reasoning=7)
APP = "swarm-planner"


def per_million(model: str) -> dict[str, float]:
    rows = [r for r in SETTINGS.agents.prices if r.model.endswith("*") and model.startswith(r.model[:-1])]
    return max(rows, key=lambda r: len(r.model)).per_million()


def test_unchanged_sdk_app_lands_in_the_shared_metrics_exactly(
    make_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    claude, gpt = Stub({"default": (Turn(CLAUDE),)}), ModelStub(GPT)
    with serving(serve(claude)) as claude_url, serving(serve_models(gpt)) as gpt_url:
        stack = make_stack()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PATH": f"{Path(venv_bin('python')).parent}{os.pathsep}{os.environ['PATH']}",
            "OTEL_SERVICE_NAME": APP,
            "OTEL_RESOURCE_ATTRIBUTES": "team.id=planning",
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": stack.config.url("otlp_http"),
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "ANTHROPIC_BASE_URL": claude_url,
            "ANTHROPIC_API_KEY": "sk-ant-test",
            "OPENAI_BASE_URL": f"{gpt_url}/v1",
            "OPENAI_API_KEY": "sk-test",
        }
        run = subprocess.run(
            [venv_bin("ccmon-instrument"), "python", str(ROOT / "tests" / "apps" / "sdk_app.py")],
            env=env, capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
        )  # fmt: skip
        assert run.returncode == 0 and "done" in run.stdout, run.stdout + run.stderr[-3000:]
    assert len(claude.served) == 4 and len(gpt.served) == 1

    sel = f'agent="{APP}",team_id="planning"'
    expected: dict[str, float] = {
        f'agent_token_usage_tokens_total{{{sel},model="claude-haiku-4-5",type="input"}}': 4 * 1200,
        f'agent_token_usage_tokens_total{{{sel},model="claude-haiku-4-5",type="output"}}': 4 * 300,
        f'agent_token_usage_tokens_total{{{sel},model="claude-haiku-4-5",type="cacheRead"}}': 4 * 5000,
        f'agent_token_usage_tokens_total{{{sel},model="claude-haiku-4-5",type="cacheCreation"}}': 4 * 800,
        f'agent_token_usage_tokens_total{{{sel},model="gpt-5-mini",type="input"}}': 100,
        f'agent_token_usage_tokens_total{{{sel},model="gpt-5-mini",type="cacheRead"}}': 40,
        f'agent_token_usage_tokens_total{{{sel},model="gpt-5-mini",type="output"}}': 30,
        f'agent_token_usage_tokens_total{{{sel},model="gpt-5-mini",type="reasoning"}}': 7,
        f'agent_api_requests_total{{agent="{APP}",model="claude-haiku-4-5",status_code="200"}}': 4,
        f'agent_api_requests_total{{agent="{APP}",model="gpt-5-mini",status_code="200"}}': 1,
    }
    h, g = per_million("claude-haiku-4-5"), per_million("gpt-5-mini")
    cost = {
        "claude-haiku-4-5": 4
        * (1200 * h["input"] + 300 * h["output"] + 5000 * h["cacheRead"] + 800 * h["cacheCreation"])
        / 1e6,
        "gpt-5-mini": (100 * g["input"] + 40 * g["cacheRead"] + 30 * g["output"] + 7 * g["reasoning"]) / 1e6,
    }
    for model, usd in cost.items():
        expected[f'agent_cost_usage_USD_total{{{sel},model="{model}",estimated="true"}}'] = usd

    wait_exact(stack, expected, "the app's model calls in Prometheus")
    assert all(usd > 0 for usd in cost.values())
    # the app's own duration metric arrives (create() calls: messages.stream() is counted, not timed);
    # its genai token and request metrics are the shared ones now
    assert total(stack, f'genai_duration_seconds_count{{job="{APP}"}}') == 3
    assert not stack.prom_query('{__name__=~"genai_tokens_total|genai_requests_total"}')
    # no prompt text in any series
    series = "\n".join(str(r["metric"]) for r in stack.prom_query('{__name__=~".+"}'))
    assert "SECRET-PROMPT" not in series
