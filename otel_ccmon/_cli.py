"""The ``ccmon`` command: one entry point for the services and the checkout tooling.

Each command group is registered from its own module. A group whose extra is not installed
still appears in ``ccmon --help`` and, when run, says which extra to install.
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from otel_ccmon._extras import MissingExtraError
from otel_ccmon._meta import VERSION
from otel_ccmon.devstack.repo import RepoNotFoundError, bin_dir

# module that registers the commands -> the commands (with their help) it registers
COMMAND_GROUPS: Mapping[str, Mapping[str, str]] = {
    "otel_ccmon.demo.cli": {"demo": "run the demo agent application"},
    "otel_ccmon._catalog_cli": {"catalog": "your own metrics: check a catalog file"},
    "otel_ccmon.devstack.cli": {"stack": "run the local pipeline as child processes"},
    "otel_ccmon.devstack.sink": {"sink": "local Slack/PagerDuty/SMTP stand-ins that record notifications"},
    "otel_ccmon.devstack.anthropic_stub": {
        "model-stub": "a local stub of the Anthropic Messages API (the demo's model)"
    },
    "otel_ccmon.claude_code.cli": {"claude-code": "Claude Code: collector settings, team simulator, spend report"},
    "otel_ccmon.agents.cli": {"agents": "every coding agent: collector settings, report"},
    "otel_ccmon.devstack.security": {"security": "credentials of the secured topology: TLS, OTLP token, web auth"},
    "otel_ccmon.devstack.doctor": {"doctor": "diagnose a running stack: each problem with its cause and fix"},
    "otel_ccmon.receiver.cli": {
        "webhook": "run the alert receiver (Alertmanager webhook target)",
        "alerts": "list recent alerts from a running receiver",
    },
}


def _unavailable(problem: MissingExtraError) -> Any:
    def run(_args: argparse.Namespace) -> int:
        raise problem

    return run


BINARIES = ("otelcol-ccmon", "prometheus", "promtool", "alertmanager", "amtool", "node_exporter")


def version_report() -> str:
    """The package version and the versions of the binaries the local stack would run."""
    lines = [f"otel-ccmon {VERSION}"]
    try:
        binaries = bin_dir()
    except RepoNotFoundError:
        return "\n".join([*lines, "binaries: no otel-ccmon checkout here (they belong to a checkout's bootstrap)"])
    for name in BINARIES:
        path = binaries / name
        if not path.exists():
            lines.append(f"{name}: not installed ({path}; run `make bootstrap`)")
            continue
        try:
            out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=10, check=False)
            first = (out.stdout or out.stderr).strip().splitlines()
            lines.append(f"{name}: {first[0] if first else 'unknown'}")
        except (OSError, subprocess.TimeoutExpired) as exc:
            lines.append(f"{name}: cannot run ({exc})")
    return "\n".join(lines)


class _VersionAction(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, *_args: Any, **_kwargs: Any) -> None:
        print(version_report())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``ccmon``.

    >>> build_parser().parse_args(["demo", "--port", "3001"]).port
    3001
    """
    parser = argparse.ArgumentParser(prog="ccmon", description="otel-ccmon: monitoring for agent systems")
    parser.add_argument(
        "--version", action=_VersionAction, nargs=0, help="the package version and the binaries' versions"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
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


def _quiet_stdout() -> None:
    # stdout is a closed pipe (`ccmon … | head`): point it at /dev/null so that the interpreter's
    # final flush does not raise again, and end as `cat` does, without a message
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``ccmon``: every failure is one line with a cause and a hint, never a traceback
    (``--debug`` shows it)."""
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
        sys.stdout.flush()
    except (MissingExtraError, RepoNotFoundError) as exc:
        print(f"ccmon {args.command}: {exc}", file=sys.stderr)
        code = 2
    except BrokenPipeError:
        _quiet_stdout()
        code = 0
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:
        if args.debug:
            raise
        print(f"ccmon {args.command}: {type(exc).__name__}: {exc} (--debug shows the traceback)", file=sys.stderr)
        code = 1
    sys.exit(code)
