"""``ccmon agents``: the coding agents the collector knows, and what points each at it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from otel_ccmon._agents import AGENTS
from otel_ccmon.agents._env import agent_setup
from otel_ccmon.claude_code._env import shell_exports
from otel_ccmon.claude_code._report import AGENT_DIMENSIONS
from otel_ccmon.claude_code.cli import add_report_arguments


def _read_ca(path: str | None) -> str | None:
    if not path:
        return None
    ca = Path(path).resolve()
    if not ca.is_file() or "BEGIN CERTIFICATE" not in ca.read_text(errors="replace"):
        raise ValueError(f"{ca} is not a PEM certificate file")
    return str(ca)


def _env(args: argparse.Namespace) -> int:
    token = Path(args.token_file).read_text().strip() if args.token_file else None
    try:
        setup = agent_setup(args.agent, args.endpoint, token=token, ca_file=_read_ca(args.ca_file))
    except ValueError as e:
        print(f"ccmon agents env: {e}", file=sys.stderr)
        return 2
    if args.format == "file":
        if setup.content is None:
            print(f"ccmon agents env: {args.agent} is configured by environment only (--format shell)", file=sys.stderr)
            return 2
        sys.stdout.write(setup.content)
        return 0
    if args.format == "shell":
        print(shell_exports(setup.env))
        return 0
    if setup.path:
        where = "$CODEX_HOME/config.toml, default " if args.agent == "codex" else ""
        print(f"# {where}~/{setup.path} (merge into an existing file)")
        sys.stdout.write(setup.content or "")
    if setup.env:
        print("# environment")
        print(shell_exports(setup.env))
    return 0


def _list(_args: argparse.Namespace) -> int:
    for agent in AGENTS:
        cost = "sends its cost" if agent.sends_cost else "tokens priced from the table"
        print(f"{agent.name:20} {agent.title} {agent.version} (service.name {', '.join(agent.services)}; {cost})")
    return 0


def _report(args: argparse.Namespace) -> int:
    from otel_ccmon.claude_code._report import ALL_AGENTS
    from otel_ccmon.claude_code.cli import run_report

    return run_report(args, ALL_AGENTS, "ccmon agents report")


def add_commands(sub: Any) -> None:
    """Register ``ccmon agents``."""
    parser = sub.add_parser("agents", help="coding agents (Claude Code, Gemini CLI, Codex, Qwen Code): settings")
    ag = parser.add_subparsers(dest="agents_command", required=True)
    env = ag.add_parser("env", help="the settings file and environment that point an agent at the collector")
    env.add_argument("agent", choices=[a.name for a in AGENTS])
    env.add_argument("--endpoint", default="http://127.0.0.1:4318", help="the collector's OTLP/HTTP endpoint")
    env.add_argument("--token-file", help="bearer token of a collector that requires one (read from this file)")
    env.add_argument("--ca-file", help="the CA certificate (PEM) of a collector with a private CA")
    env.add_argument(
        "--format",
        choices=("all", "file", "shell"),
        default="all",
        help="file: the settings file's content only; shell: the environment only; all: both, annotated",
    )
    env.set_defaults(func=_env)
    ls = ag.add_parser("list", help="the agents the collector maps, with their tested versions")
    ls.set_defaults(func=_list)
    rep = ag.add_parser(
        "report", help="every agent's cost and tokens by day, week and month, by agent, team, cost centre, model"
    )
    add_report_arguments(rep, AGENT_DIMENSIONS, ("agent", "team"), "agents")
    rep.set_defaults(func=_report)
