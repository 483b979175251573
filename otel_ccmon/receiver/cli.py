"""``ccmon webhook`` (the alert receiver) and ``ccmon alerts`` (a terminal view of it)."""

from __future__ import annotations

import argparse
import faulthandler
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from otel_ccmon.devstack.ports import port_problem

SEVERITY_STYLE = {"P0": "bold white on red", "P1": "bold red", "P2": "yellow", "P3": "cyan"}


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _webhook(args: argparse.Namespace) -> int:
    # `kill -USR1 PID` writes every thread's stack to stderr: evidence for a stall (docs/reliability.md)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    from otel_ccmon.receiver.app import ReceiverSettings, check_bind, read_token, serve
    from otel_ccmon.receiver.hooks import load_hooks

    try:
        token = read_token(args.token_file)
        hooks = load_hooks(Path(args.hooks) if args.hooks else None)
    except (OSError, ValueError) as exc:
        print(f"ccmon webhook: {exc}", file=sys.stderr)
        return 2
    problem = check_bind(args.host, token, args.insecure_no_auth) or port_problem(args.host, args.port)
    if problem:
        print(f"ccmon webhook: {problem}", file=sys.stderr)
        return 2
    settings = ReceiverSettings(
        db_path=Path(args.db),
        token=token,
        max_body_bytes=args.max_body_bytes,
        hooks=hooks,
        retention_days=args.retention_days,
        max_alerts=args.max_alerts,
        runbooks_dir=Path(args.runbooks_dir) if args.runbooks_dir else None,
    )
    print(f"ccmon webhook: listening on http://{args.host}:{args.port} (db {args.db})", flush=True)
    serve(args.host, args.port, settings)
    return 0


def _alerts(args: argparse.Namespace) -> int:
    from otel_ccmon._extras import require

    require("ccmon alerts", "cli", "httpx", "rich")
    import httpx
    from rich.console import Console
    from rich.table import Table

    from otel_ccmon.receiver.app import read_token

    headers = {}
    token = read_token(args.token_file) if args.token_file else None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    params: dict[str, Any] = {"limit": args.limit}
    for key in ("status", "severity", "alertname"):
        if getattr(args, key):
            params[key] = getattr(args, key)
    try:
        resp = httpx.get(f"{args.url.rstrip('/')}/alerts", params=params, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        print(f"ccmon alerts: cannot reach {args.url}: {exc}", file=sys.stderr)
        return 1
    if resp.status_code != 200:
        print(f"ccmon alerts: {resp.status_code} {resp.text}", file=sys.stderr)
        return 1
    alerts = resp.json()["alerts"]
    table = Table(title=f"Alerts at {args.url} ({len(alerts)} shown, newest first)")
    for column in ("severity", "alert", "status", "service", "summary", "changed"):
        table.add_column(column)
    for a in alerts:
        style = SEVERITY_STYLE.get(a["severity"], "")
        table.add_row(
            a["severity"] or "-",
            a["alertname"],
            a["status"],
            a["labels"].get("service", "-"),
            a["annotations"].get("summary", ""),
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(a["last_change"])),
            style=style if a["status"] == "firing" else "dim",
        )
    Console(force_terminal=args.color or None, width=args.width).print(table)
    return 0


def add_commands(sub: Any) -> None:
    """Register ``ccmon webhook`` and ``ccmon alerts``."""
    w = sub.add_parser("webhook", help="run the alert receiver (Alertmanager webhook target)")
    w.add_argument("--host", default=_env("CCMON_RECEIVER_HOST", "127.0.0.1"))
    w.add_argument("--port", type=int, default=int(_env("CCMON_RECEIVER_PORT", "9095")))
    w.add_argument("--db", default=_env("CCMON_RECEIVER_DB", "var/receiver.sqlite"))
    w.add_argument("--token-file", default=os.environ.get("CCMON_RECEIVER_TOKEN_FILE"))
    w.add_argument("--insecure-no-auth", action="store_true", help="no token (loopback only)")
    w.add_argument("--max-body-bytes", type=int, default=int(_env("CCMON_RECEIVER_MAX_BODY", str(1024 * 1024))))
    w.add_argument("--hooks", default=os.environ.get("CCMON_RECEIVER_HOOKS"), help="YAML file of alert hooks")
    w.add_argument("--retention-days", type=float, default=float(_env("CCMON_RECEIVER_RETENTION_DAYS", "30")))
    w.add_argument("--max-alerts", type=int, default=int(_env("CCMON_RECEIVER_MAX_ALERTS", "100000")))
    w.add_argument(
        "--runbooks-dir",
        default=os.environ.get("CCMON_RECEIVER_RUNBOOKS_DIR"),
        help="serve the runbooks (docs/runbooks) at /runbooks/NAME.md, the alerts' default runbook_url",
    )
    w.set_defaults(func=_webhook)

    a = sub.add_parser("alerts", help="list recent alerts from a running receiver")
    a.add_argument("--url", default=_env("CCMON_RECEIVER_URL", "http://127.0.0.1:9095"))
    a.add_argument("--token-file", default=os.environ.get("CCMON_RECEIVER_TOKEN_FILE"))
    a.add_argument("--status", choices=("firing", "resolved"))
    a.add_argument("--severity", choices=("P0", "P1", "P2", "P3"))
    a.add_argument("--alertname")
    a.add_argument("--limit", type=int, default=20)
    a.add_argument("--color", action="store_true", help="force colour")
    a.add_argument("--width", type=int, default=None)
    a.set_defaults(func=_alerts)
