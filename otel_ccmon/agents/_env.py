"""What points each coding agent at otel-ccmon's collector (``ccmon agents env <agent>``).

Read from the real clients (NOTES.md §9; tests/e2e/test_agents.py runs each with what this prints):

- Gemini CLI and Qwen Code (a fork of it) read a ``telemetry`` block in their user settings file
  (``~/.gemini/settings.json``, ``~/.qwen/settings.json``) and send OTLP/HTTP (JSON) to its
  ``otlpEndpoint``; a bearer token through ``OTEL_EXPORTER_OTLP_HEADERS``, a private CA through
  ``NODE_EXTRA_CA_CERTS`` (Node.js).
- Codex reads ``[otel]`` in ``$CODEX_HOME/config.toml`` (``~/.codex``): one exporter per signal,
  each with its full URL, headers and an optional ``tls.ca-certificate``; without
  ``metrics_exporter`` its metrics go to the vendor, not to you.
- Claude Code: the variables of ``ccmon claude-code env``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from otel_ccmon._agents import BY_NAME
from otel_ccmon.claude_code._env import env_settings

_RESOURCE_VALUE = re.compile(r"[A-Za-z0-9._-]{1,128}")  # no ',' or '=': OTEL_RESOURCE_ATTRIBUTES' separators


@dataclass(frozen=True, slots=True)
class AgentSetup:
    """A settings file (its path relative to the home directory, and content) and environment."""

    agent: str
    path: str | None
    content: str | None
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def _gemini_like(folder: str, endpoint: str) -> str:
    settings: dict[str, object] = {
        "telemetry": {"enabled": True, "target": "local", "otlpEndpoint": endpoint, "otlpProtocol": "http"},
        # the vendor's own usage statistics are not the organisation's telemetry
        "privacy": {"usageStatisticsEnabled": False},
    }
    if folder == ".qwen":
        # Qwen Code's managed auto-memory makes a second model call per prompt: off, so that the
        # tokens are the developer's prompts' (turn it back on if you use it: it is counted too)
        settings["memory"] = {"enableManagedAutoMemory": False}
    return json.dumps(settings, indent=2) + "\n"


def _toml_string(s: str) -> str:
    return json.dumps(s)  # a TOML basic string is a JSON string for what we write (no control chars)


def _codex(endpoint: str, token: str | None, ca_file: str | None) -> str:
    extra = ""
    if token:
        extra += f", headers = {{ Authorization = {_toml_string('Bearer ' + token)} }}"
    if ca_file:
        extra += f", tls = {{ ca-certificate = {_toml_string(ca_file)} }}"
    lines = ["[otel]", 'environment = "prod"', "log_user_prompt = false"]
    for key, signal in (("exporter", "logs"), ("trace_exporter", "traces"), ("metrics_exporter", "metrics")):
        url = _toml_string(f"{endpoint}/v1/{signal}")
        lines.append(f'{key} = {{ otlp-http = {{ endpoint = {url}, protocol = "binary"{extra} }} }}')
    return "\n".join(lines) + "\n"


def agent_setup(agent: str, endpoint: str, *, token: str | None = None, ca_file: str | None = None) -> AgentSetup:
    """The file and environment that send ``agent``'s telemetry to the collector at ``endpoint``.

    >>> s = agent_setup("gemini-cli", "http://127.0.0.1:4318")
    >>> s.path, json.loads(s.content or "")["telemetry"]["otlpEndpoint"]
    ('.gemini/settings.json', 'http://127.0.0.1:4318')
    >>> "metrics_exporter" in (agent_setup("codex", "http://127.0.0.1:4318").content or "")
    True
    """
    if agent not in BY_NAME:
        raise ValueError(f"unknown agent {agent!r}; known: {', '.join(BY_NAME)}")
    endpoint = endpoint.rstrip("/")
    if BY_NAME[agent].sends_cost:  # Claude Code: environment only
        return AgentSetup(agent, None, None, MappingProxyType(env_settings(endpoint, token=token, ca_file=ca_file)))
    if agent == "codex":
        return AgentSetup(agent, ".codex/config.toml", _codex(endpoint, token, ca_file))
    env: dict[str, str] = {}
    if token:
        env["OTEL_EXPORTER_OTLP_HEADERS"] = f"Authorization=Bearer {token}"
    if ca_file:
        env["NODE_EXTRA_CA_CERTS"] = ca_file
    folder = ".gemini" if agent == "gemini-cli" else ".qwen"
    return AgentSetup(agent, f"{folder}/settings.json", _gemini_like(folder, endpoint), MappingProxyType(env))


def claude_agent_env(
    app: str,
    endpoint: str,
    *,
    team: str | None = None,
    cost_center: str | None = None,
    token: str | None = None,
    ca_file: str | None = None,
) -> dict[str, str]:
    """The ``env`` of ``ClaudeAgentOptions`` that attributes an Agent SDK app's sessions to it.

    The Claude Agent SDK runs the Claude Code CLI, whose telemetry is Claude Code's (its metrics,
    events, the ``agent="claude-code"`` share of the shared ones). The app is named by the
    ``project`` attribution key (with ``team.id`` and ``cost_center`` if given), the key every
    Claude Code metric, the reports (``--by project``) and the budgets already carry.

    >>> env = claude_agent_env("release-bot", "http://127.0.0.1:4318", team="platform")
    >>> env["OTEL_RESOURCE_ATTRIBUTES"], env["CLAUDE_CODE_ENABLE_TELEMETRY"]
    ('project=release-bot,team.id=platform', '1')
    """
    attributes = {"project": app, "team.id": team, "cost_center": cost_center}
    for key, value in attributes.items():
        if value is not None and not _RESOURCE_VALUE.fullmatch(value):
            raise ValueError(f"{key} {value!r}: letters, digits, '.', '_' and '-' only (1 to 128)")
    env = env_settings(endpoint, token=token, ca_file=ca_file)
    env["OTEL_RESOURCE_ATTRIBUTES"] = ",".join(f"{k}={v}" for k, v in attributes.items() if v is not None)
    return env
