"""The ``ccmon`` command: one entry point for the services and the checkout tooling.

Each command group is registered from its own module. A group whose extra is not installed
still appears in ``ccmon --help`` and, when run, says which extra to install.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from otel_ccmon._extras import MissingExtraError
from otel_ccmon._meta import VERSION
from otel_ccmon.devstack.repo import RepoNotFoundError

# module that registers the commands -> the commands (with their help) it registers
COMMAND_GROUPS: Mapping[str, Mapping[str, str]] = {
    "otel_ccmon.demo.cli": {"demo": "run the demo agent application"},
    "otel_ccmon.devstack.stack": {"stack": "run the local pipeline as child processes"},
    "otel_ccmon.devstack.sink": {"sink": "local Slack/PagerDuty/SMTP stand-ins that record notifications"},
    "otel_ccmon.receiver.cli": {
        "webhook": "run the alert receiver (Alertmanager webhook target)",
        "alerts": "list recent alerts from a running receiver",
    },
}


def _unavailable(problem: MissingExtraError) -> Any:
    def run(_args: argparse.Namespace) -> int:
        raise problem

    return run


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``ccmon``.

    >>> build_parser().parse_args(["demo", "--port", "3001"]).port
    3001
    """
    parser = argparse.ArgumentParser(prog="ccmon", description="otel-ccmon: monitoring for agent systems")
    parser.add_argument("--version", action="version", version=f"otel-ccmon {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True)
    for module_name, commands in COMMAND_GROUPS.items():
        try:
            module = importlib.import_module(module_name)
        except MissingExtraError as problem:
            for name, help_text in commands.items():
                placeholder = sub.add_parser(name, help=f"{help_text} (not installed)", add_help=False)
                placeholder.add_argument("rest", nargs=argparse.REMAINDER)
                placeholder.set_defaults(func=_unavailable(problem))
            continue
        module.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``ccmon``."""
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except (MissingExtraError, RepoNotFoundError) as exc:
        print(f"ccmon {args.command}: {exc}", file=sys.stderr)
        code = 2
    sys.exit(code)
