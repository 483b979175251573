"""The ``ccmon`` command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


def _demo(args: argparse.Namespace) -> int:
    from otel_ccmon._demo import FAULTS, DemoConfig, run

    unknown = set(args.fault) - set(FAULTS)
    if unknown:
        print(f"ccmon demo: unknown fault(s) {sorted(unknown)}; choose from {sorted(FAULTS)}", file=sys.stderr)
        return 2
    os.environ.setdefault("OTEL_SERVICE_NAME", "claude-code-app")
    config = DemoConfig(
        tick_seconds=args.tick,
        neural_rate=args.rate,
        seed=args.seed,
        db_path=args.db,
        idle_seconds=args.idle_seconds,
        faults=frozenset(args.fault),
    )
    print(f"ccmon demo: serving on http://{args.host}:{args.port} (metrics at /metrics)", flush=True)
    run(args.host, args.port, config)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``ccmon``.

    >>> build_parser().parse_args(["demo", "--port", "3001"]).port
    3001
    """
    parser = argparse.ArgumentParser(prog="ccmon", description="otel-ccmon: monitoring for agent systems")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the demo agent application")
    demo.add_argument("--host", default=os.environ.get("CCMON_DEMO_HOST", "127.0.0.1"))
    demo.add_argument("--port", type=int, default=int(os.environ.get("CCMON_DEMO_PORT", "3000")))
    demo.add_argument("--tick", type=float, default=1.0, help="seconds per simulation step (0: only POST /tick)")
    demo.add_argument("--rate", type=float, default=172_000.0, help="neural operations per second")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--db", default=":memory:", help="SQLite database path")
    demo.add_argument("--idle-seconds", type=float, default=3600.0, help="idle time after which a pattern is unused")
    demo.add_argument("--fault", action="append", default=[], help="start with this fault injected (repeatable)")
    demo.set_defaults(func=_demo)

    from otel_ccmon import _alerts_cli, _sink, _stack

    _stack.add_commands(sub)
    _sink.add_commands(sub)
    _alerts_cli.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``ccmon``."""
    args = build_parser().parse_args(argv)
    sys.exit(args.func(args))
