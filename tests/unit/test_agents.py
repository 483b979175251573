"""The every-agent vocabulary (otel_ccmon/_agents.py): each mapping lands in the shared metrics with
our token types, the pinned versions agree, the collector's configuration is what the source says,
and ``ccmon agents env`` prints what each real client reads (tests/e2e/test_agents.py runs them)."""

from __future__ import annotations

import json
import tomllib

import pytest
import yaml

from otel_ccmon import _agents
from otel_ccmon import _catalog as cat
from otel_ccmon._cli import main
from otel_ccmon.agents import agent_setup
from tests.support import ROOT

SHARED = {spec.otel_name for spec in cat.AGENT_CATALOG}


@pytest.mark.parametrize("agent", _agents.AGENTS, ids=lambda a: a.name)
def test_every_mapping_lands_in_the_shared_vocabulary(agent: _agents.Agent) -> None:
    targets = {m.target for m in agent.mappings}
    assert _agents.TOKENS in targets and _agents.SESSIONS in targets, agent.name
    assert targets <= SHARED
    for m in agent.mappings:
        assert set(m.types.values()) <= set(_agents.TOKEN_TYPES), m.source
        # a type is taken out of another of ours, never of itself
        assert set(m.within) | set(m.within.values()) <= set(_agents.TOKEN_TYPES), m.source
        assert all(k != v for k, v in m.within.items())
        assert m.target == _agents.TOKENS or not (m.types or m.within), m.source
    if agent.sends_cost:
        assert any(m.target == _agents.COST and m.constant == {"estimated": "false"} for m in agent.mappings)
    else:
        assert all(m.target != _agents.COST for m in agent.mappings), "no cost is sent: it is priced"


def test_what_each_agent_counts_twice_is_taken_out() -> None:
    """What the real clients send (NOTES.md §9, measured with tests/model_stubs.py: 100 fresh + 40
    cached input, 30 output + 7 reasoning): Gemini 140/40/30/7, Qwen 140/40/37/7, Codex 140/40/37/7."""
    within = {a.name: next(m.within for m in a.mappings if m.target == _agents.TOKENS) for a in _agents.AGENTS}
    assert within["gemini-cli"] == {"cacheRead": "input"}
    assert within["qwen-code"] == within["codex"] == {"cacheRead": "input", "reasoning": "output"}
    assert within["claude-code"] == {}


def test_versions_are_the_pinned_ones() -> None:
    pins = dict(
        line.split("=", 1) for line in (ROOT / "scripts" / "versions.env").read_text().splitlines() if "=" in line
    )
    by = {a.name: a.version for a in _agents.AGENTS}
    assert by["gemini-cli"] == pins["GEMINI_CLI_VERSION"]
    assert by["codex"] == pins["CODEX_VERSION"]
    assert by["qwen-code"] == pins["QWEN_CODE_VERSION"]
    assert by["claude-code"] == pins["CLAUDE_CODE_VERSION"]


def test_collector_config_is_the_source() -> None:
    cfg = yaml.safe_load((ROOT / "collector" / "firewall.yaml").read_text())["processors"]["claudecode"]
    assert [a["name"] for a in cfg["agents"]] == [a.name for a in _agents.AGENTS]
    codex = next(a for a in cfg["agents"] if a["name"] == "codex")
    assert codex["metrics"]["codex.turn.token_usage"]["rename"] == {"token_type": "type"}
    assert "total" not in codex["metrics"]["codex.turn.token_usage"]["types"]
    assert "prompt" not in codex["records"] and "model" in codex["records"]
    assert set(cfg["outputs"]) == SHARED
    assert cfg["pricing"]["tokens"] == _agents.TOKENS and cfg["pricing"]["unpriced"] == _agents.UNPRICED
    for row in cfg["pricing"]["prices"]:
        assert set(row["per_million"]) <= set(_agents.TOKEN_TYPES)


def test_env_prints_what_each_client_reads() -> None:
    gemini = json.loads(agent_setup("gemini-cli", "https://otel.example.com:4318/").content or "")
    assert gemini["telemetry"] == {
        "enabled": True, "target": "local", "otlpEndpoint": "https://otel.example.com:4318", "otlpProtocol": "http"
    }  # fmt: skip
    qwen = agent_setup("qwen-code", "http://c:4318", token="t0k", ca_file="/ca.pem")
    assert json.loads(qwen.content or "")["memory"] == {"enableManagedAutoMemory": False}
    assert dict(qwen.env) == {
        "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer t0k",
        "NODE_EXTRA_CA_CERTS": "/ca.pem",
    }
    codex = tomllib.loads(agent_setup("codex", "http://c:4318", token="t0k", ca_file="/ca.pem").content or "")
    for key, signal in (("exporter", "logs"), ("trace_exporter", "traces"), ("metrics_exporter", "metrics")):
        http = codex["otel"][key]["otlp-http"]
        assert http["endpoint"] == f"http://c:4318/v1/{signal}" and http["protocol"] == "binary"
        assert http["headers"] == {"Authorization": "Bearer t0k"} and http["tls"] == {"ca-certificate": "/ca.pem"}
    claude = agent_setup("claude-code", "http://c:4318")
    assert claude.path is None and claude.env["CLAUDE_CODE_ENABLE_TELEMETRY"] == "1"
    with pytest.raises(ValueError, match="unknown agent 'cursor'"):
        agent_setup("cursor", "http://c:4318")


def test_cli_refuses_a_file_for_an_env_only_agent(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["agents", "env", "claude-code", "--format", "file"])
    assert refused.value.code == 2 and "environment only" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:
        main(["agents", "env", "codex", "--format", "file", "--endpoint", "http://c:4318"])
    assert done.value.code == 0
    assert tomllib.loads(capsys.readouterr().out)["otel"]["metrics_exporter"]
