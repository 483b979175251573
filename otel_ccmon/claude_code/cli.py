"""``ccmon claude-code``: point Claude Code at the collector, simulate a team, report spend."""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from otel_ccmon._catalog import CLAUDE_CODE_SERVICE
from otel_ccmon._identity import KEY_ENV, KEY_FILE
from otel_ccmon.claude_code._env import env_settings, managed_settings, shell_exports
from otel_ccmon.claude_code._report import DIMENSIONS
from otel_ccmon.claude_code._simulator import Include, Team, TeamPlan


def _env(args: argparse.Namespace) -> int:
    token = Path(args.token_file).read_text().strip() if args.token_file else None
    ca_file = None
    if args.ca_file:
        ca = Path(args.ca_file).resolve()
        if not ca.is_file() or "BEGIN CERTIFICATE" not in ca.read_text(errors="replace"):
            print(f"ccmon claude-code env: {ca} is not a PEM certificate file", file=sys.stderr)
            return 2
        ca_file = str(ca)
    env = env_settings(args.endpoint, token=token, ca_file=ca_file)
    if args.format == "managed-settings":
        print(managed_settings(env))
    else:
        print(shell_exports(env))
    return 0


def run_team_forever(
    endpoint: str, plan: TeamPlan, stop: threading.Event, error_rate: Callable[[], float] | None = None
) -> None:
    """Play ``plan`` again and again (new sessions each round) until ``stop`` is set; ``error_rate``
    (read at every turn) overrides the plan's share of rate-limited turns."""
    round_ = 0
    while not stop.is_set():
        Team(endpoint, dataclasses.replace(plan, seed=plan.seed + round_), error_rate=error_rate).run(stop)
        round_ += 1


def _simulate(args: argparse.Namespace) -> int:
    plan = TeamPlan(
        users=args.users,
        sessions=args.sessions,
        seconds=args.seconds,
        export_interval=args.export_interval,
        temporality=args.temporality,
        seed=args.seed,
        service_name=args.service_name,
        include=Include(session_id=not args.no_session_id),
    )
    print(
        f"ccmon claude-code: simulating {plan.users} users, {plan.sessions} sessions per {plan.seconds:g} s", flush=True
    )
    if args.forever:
        run_team_forever(args.endpoint, plan, threading.Event())
        return 0
    team = Team(args.endpoint, plan)
    team.run()
    cost = team.ledger.total("recorded", "claude_code.cost.usage")
    lost = team.ledger.total("lost", "claude_code.cost.usage")
    print(f"ccmon claude-code: recorded {cost:.6f} USD; failed exports lost {lost:.6f} USD")
    return 0


_SINCE = re.compile(r"^(\d+)d$")


def _report(args: argparse.Namespace) -> int:
    from otel_ccmon.claude_code._report import CLAUDE_CODE

    return run_report(args, CLAUDE_CODE, "ccmon claude-code report")


def run_report(args: argparse.Namespace, spend: Any, prog: str) -> int:
    """A report of ``spend`` (Claude Code's, or every agent's) from parsed ``report`` arguments."""
    from otel_ccmon.claude_code._report import (
        Directory,
        DirectoryError,
        build_report,
        completeness_lines,
        text,
        write_csv,
        write_html,
        write_periods_csv,
    )

    match = _SINCE.match(args.since)
    if not match or not 1 <= int(match.group(1)) <= 3660:
        print(f"{prog}: --since takes days, like 7d or 90d (got {args.since!r})", file=sys.stderr)
        return 2
    days = int(match.group(1))
    by = tuple(dict.fromkeys(args.by or args.default_by))
    try:
        directory = Directory.load(Path(args.directory)) if args.directory else None
        key = Path(args.identity_key_file).read_text().strip() if args.identity_key_file else os.environ.get(KEY_ENV)
        if directory is not None and key:
            directory = directory.with_pseudonyms(key)  # the collector hashed e-mails and logins with it
    except (OSError, DirectoryError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    try:
        report = build_report(args.prometheus, days, by=by, directory=directory, spend=spend)
    except (OSError, ValueError) as exc:  # unreachable, or refused (Thanos Query with a store missing)
        print(f"{prog}: cannot query {args.prometheus}: {exc}", file=sys.stderr)
        return 1
    print(f"{spend.name} spend, last {days} days, by {', '.join(by)}")
    print(text(report))
    warnings = completeness_lines(report.cut) + report.unpriced_lines()
    for line in warnings:
        print(line)
    if not warnings:
        print(f"complete: no budget, cap or collector outage cut {spend.name} data in this window")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(report, out / f"{spend.slug}-report.csv")
    write_periods_csv(report, "week", out / f"{spend.slug}-weekly.csv")
    write_periods_csv(report, "month", out / f"{spend.slug}-monthly.csv")
    write_html(report, out / f"{spend.slug}-report.html")
    print(f"{prog}: wrote {out / (spend.slug + '-report.html')} and the daily, weekly, monthly CSV")
    return 0


def add_report_arguments(rep: Any, dimensions: Any, default_by: tuple[str, ...], slug: str) -> None:
    """The options of a ``report`` command (Claude Code's and every agent's)."""
    rep.add_argument("--since", default="7d", help="how many days back, e.g. 7d or 90d")
    rep.add_argument(
        "--by",
        action="append",
        choices=tuple(dimensions),
        help=f"a dimension to cut by (repeat for several; default: {' and '.join(default_by)})",
    )
    rep.add_argument(
        "--directory",
        help="CSV of people: id (user id, account uuid, e-mail or login, or its pseudonym), name, optional team, "
        "cost_center",
    )
    rep.add_argument(
        "--identity-key-file",
        help=f"the collector's identity hash key (default: ${KEY_ENV}; the local stack's: <stack folder>/{KEY_FILE}): "
        "directory ids in clear then match the pseudonyms in Prometheus",
    )
    rep.add_argument(
        "--prometheus",
        default="http://127.0.0.1:9090",
        help="Prometheus, or Thanos Query for history beyond Prometheus's retention (docs/long-term.md)",
    )
    rep.add_argument("--out", default=".", help=f"folder for {slug}-report.html and .csv")
    rep.set_defaults(default_by=default_by)


def _traces(args: argparse.Namespace) -> int:
    from otel_ccmon.claude_code._traces import describe, fetch, slowest

    try:
        found = fetch(args.jaeger, args.service, args.since, args.limit)
    except (OSError, ValueError) as exc:
        print(f"ccmon claude-code traces: cannot query {args.jaeger}: {exc}", file=sys.stderr)
        return 1
    if not found:
        print(f"ccmon claude-code traces: no {args.service} interaction in the last {args.since} at {args.jaeger}")
        return 0
    print(f"the {min(args.slowest, len(found))} slowest of {len(found)} prompts in the last {args.since}:")
    for interaction in slowest(found, args.slowest):
        print(describe(interaction))
    return 0


def add_commands(sub: Any) -> None:
    """Register ``ccmon claude-code``."""
    parser = sub.add_parser("claude-code", help="Claude Code as a source: settings, simulator, spend report")
    cc = parser.add_subparsers(dest="claude_code_command", required=True)
    env = cc.add_parser("env", help="the settings that point Claude Code at the collector")
    env.add_argument("--endpoint", default="http://127.0.0.1:4318", help="the collector's OTLP/HTTP endpoint")
    env.add_argument("--token-file", help="bearer token of a collector that requires one (read from this file)")
    env.add_argument(
        "--ca-file",
        help="the CA certificate (PEM) of a collector with a private CA; printed as NODE_EXTRA_CA_CERTS, "
        "which the CLI honours (OTEL_EXPORTER_OTLP_CERTIFICATE it does not)",
    )
    env.add_argument("--format", choices=("shell", "managed-settings"), default="shell")
    env.set_defaults(func=_env)
    sim = cc.add_parser("simulate", help="a simulated team emitting what Claude Code emits")
    sim.add_argument("--endpoint", default="http://127.0.0.1:4318")
    sim.add_argument("--users", type=int, default=5)
    sim.add_argument("--sessions", type=int, default=24)
    sim.add_argument("--seconds", type=float, default=60.0)
    sim.add_argument("--export-interval", type=float, default=1.0, help="seconds between a session's exports")
    sim.add_argument("--temporality", choices=("delta", "cumulative"), default="delta")
    sim.add_argument(
        "--service-name",
        default=CLAUDE_CODE_SERVICE,
        help="the client's service.name: claude-code (CLI) or claude-code-desktop (Claude Desktop's Code tab)",
    )
    sim.add_argument(
        "--no-session-id", action="store_true", help="as with OTEL_METRICS_INCLUDE_SESSION_ID=false on the clients"
    )
    sim.add_argument("--seed", type=int, default=7)
    sim.add_argument("--forever", action="store_true", help="start new rounds of sessions until stopped")
    sim.set_defaults(func=_simulate)
    rep = cc.add_parser(
        "report", help="cost and tokens by day, week and month, by team, cost centre, project, user, model (HTML, CSV)"
    )
    add_report_arguments(rep, DIMENSIONS, ("user", "model"), "claude-code")
    rep.set_defaults(func=_report)
    tr = cc.add_parser("traces", help="the slowest recent prompts with their LLM and tool breakdown (Jaeger API)")
    tr.add_argument("--jaeger", default="http://127.0.0.1:16686", help="a Jaeger query endpoint (v1 or v2)")
    tr.add_argument("--slowest", type=int, default=5)
    tr.add_argument("--since", default="1h", help="how far back (Jaeger's lookback: 1h, 2d, ...)")
    tr.add_argument("--service", default="claude-code")
    tr.add_argument("--limit", type=int, default=200, help="traces fetched to choose from")
    tr.set_defaults(func=_traces)
