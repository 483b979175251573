"""``ccmon demo``: serve the demo agent application."""

from __future__ import annotations

import argparse
import faulthandler
import os
import signal
import sys
from typing import Any

from otel_ccmon._meta import DEMO_SERVICE_NAME
from otel_ccmon.devstack.ports import port_problem


def _demo(args: argparse.Namespace) -> int:
    from otel_ccmon.demo.app import FAULTS, DemoConfig, run

    unknown = set(args.fault) - set(FAULTS)
    if unknown:
        print(f"ccmon demo: unknown fault(s) {sorted(unknown)}; choose from {sorted(FAULTS)}", file=sys.stderr)
        return 2
    problem = port_problem(args.host, args.port)
    if problem:
        print(f"ccmon demo: {problem}", file=sys.stderr)
        return 2
    # `kill -USR1 PID` writes every thread's stack to stderr (the stack's app.log): the evidence
    # for an intermittent stall seen once on a healthy stack (issue 23, docs/reliability.md)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    os.environ.setdefault("OTEL_SERVICE_NAME", DEMO_SERVICE_NAME)
    config = DemoConfig(
        tick_seconds=args.tick,
        neural_rate=args.rate,
        seed=args.seed,
        db_path=args.db,
        idle_seconds=args.idle_seconds,
        faults=frozenset(args.fault),
        claude_code_team=args.claude_code_team,
        model_url=args.model_url,
    )
    if args.claude_code_team:
        print(f"ccmon demo: simulated Claude Code team exporting to {args.claude_code_team}", flush=True)
    print(f"ccmon demo: serving on http://{args.host}:{args.port} (metrics at /metrics)", flush=True)
    run(args.host, args.port, config)
    return 0


def add_commands(sub: Any) -> None:
    """Register ``ccmon demo``."""
    demo = sub.add_parser("demo", help="run the demo agent application")
    demo.add_argument("--host", default=os.environ.get("CCMON_DEMO_HOST", "127.0.0.1"))
    demo.add_argument("--port", type=int, default=int(os.environ.get("CCMON_DEMO_PORT", "3000")))
    demo.add_argument("--tick", type=float, default=1.0, help="seconds per simulation step (0: only POST /tick)")
    demo.add_argument("--rate", type=float, default=172_000.0, help="neural operations per second")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--db", default=":memory:", help="SQLite database path")
    demo.add_argument("--idle-seconds", type=float, default=3600.0, help="idle time after which a pattern is unused")
    demo.add_argument("--fault", action="append", default=[], help="start with this fault injected (repeatable)")
    demo.add_argument(
        "--claude-code-team",
        metavar="OTLP_URL",
        help="also run a simulated Claude Code team exporting to this endpoint",
    )
    demo.add_argument(
        "--model-url",
        default=os.environ.get("ANTHROPIC_BASE_URL"),
        help="the Messages API the agents call (default: $ANTHROPIC_BASE_URL; the local stack's stub); none: no calls",
    )
    demo.set_defaults(func=_demo)
