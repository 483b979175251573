"""The settings that point Claude Code at otel-ccmon's collector (``ccmon claude-code env``)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping


def env_settings(
    endpoint: str,
    *,
    token: str | None = None,
    ca_file: str | None = None,
    metric_interval_ms: int = 60_000,
    logs_interval_ms: int = 5_000,
) -> dict[str, str]:
    """Environment variables for Claude Code: metrics and log events over OTLP/HTTP to ``endpoint``.

    Cumulative temporality is *not* required: the collector's claudecode processor counts delta
    (Claude Code's default) exactly. ``token`` adds the bearer header of a collector that
    requires one (docs/security.md). ``ca_file`` is the CA certificate of a collector with a
    private CA, as ``NODE_EXTRA_CA_CERTS``: the CLI (Node.js) trusts it for every TLS connection;
    it ignores ``OTEL_EXPORTER_OTLP_CERTIFICATE`` (measured with the real client, issue 20).

    >>> env = env_settings("https://otel.example.com:4318", token="s3cr3t")
    >>> env["OTEL_EXPORTER_OTLP_HEADERS"]
    'Authorization=Bearer s3cr3t'
    >>> env["OTEL_EXPORTER_OTLP_PROTOCOL"]
    'http/protobuf'
    >>> env_settings("https://otel.example.com:4318", ca_file="/etc/ccmon/ca.pem")["NODE_EXTRA_CA_CERTS"]
    '/etc/ccmon/ca.pem'
    """
    env = {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint.rstrip("/"),
        "OTEL_METRIC_EXPORT_INTERVAL": str(metric_interval_ms),
        "OTEL_LOGS_EXPORT_INTERVAL": str(logs_interval_ms),
    }
    if token:
        env["OTEL_EXPORTER_OTLP_HEADERS"] = f"Authorization=Bearer {token}"
    if ca_file:
        env["NODE_EXTRA_CA_CERTS"] = ca_file
    return env


def shell_exports(env: Mapping[str, str]) -> str:
    """``export NAME=value`` lines, quoted for a POSIX shell.

    >>> print(shell_exports({"A": "x y"}))
    export A='x y'
    """
    return "\n".join(f"export {k}={shlex.quote(v)}" for k, v in env.items())


def managed_settings(env: Mapping[str, str]) -> str:
    """The managed-settings file (``/etc/claude-code/managed-settings.json``) with its ``env`` block.

    >>> json.loads(managed_settings({"A": "1"}))
    {'env': {'A': '1'}}
    """
    return json.dumps({"env": dict(env)}, indent=2)
