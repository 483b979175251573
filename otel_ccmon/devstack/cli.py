"""``ccmon stack up|down|status|backfill``: the local stack's command line (devstack.stack runs it).

Every failure is one line that says why and what to do; ``status`` shows our own components only.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from otel_ccmon._promql import Server, get_json, instant
from otel_ccmon.devstack.components import ALL_COMPONENTS, HA_COMPONENTS, connected_stores, running
from otel_ccmon.devstack.config import DEFAULT_PORTS, HA_PORTS, StackConfig
from otel_ccmon.devstack.ports import holder, owned_by_group
from otel_ccmon.devstack.procs import kill_group, pid_alive
from otel_ccmon.devstack.repo import bin_dir, find_repo
from otel_ccmon.devstack.stack import FAST_ALERTS, FAST_ALERTS_FACTOR, Stack, StackError, write_shortened_rules
from otel_ccmon.devstack.state import DEFAULT_WORKDIR, STATE_FILE, load_state, scheme, stack_workdir


def status_rows(prometheus: Server, thanos_query: Server | None = None) -> list[tuple[str, str]]:
    """What ``ccmon stack status`` shows: targets, points received, firing alerts (and the long-term
    tier's stores), from our own Prometheus (and Thanos Query)."""
    rows: list[tuple[str, str]] = []
    try:
        targets = get_json(prometheus, "/api/v1/targets")["data"]["activeTargets"]
        up = sum(t["health"] == "up" for t in targets)
        down = [t["labels"]["job"] for t in targets if t["health"] == "down"]
        pending = sum(t["health"] == "unknown" for t in targets)  # not scraped yet
        detail = ", ".join([*(f"down: {j}" for j in down), *([f"{pending} not scraped yet"] if pending else [])])
        rows.append(("targets up", f"{up}/{len(targets)}" + (f" ({detail})" if detail else "")))
        res = instant(prometheus, "sum(otelcol_receiver_accepted_metric_points)")
        rows.append(("points received by collector", res[0]["value"][1] if res else "0"))
        alerts = get_json(prometheus, "/api/v1/alerts")["data"]["alerts"]
        firing = sorted(
            f"{a['labels'].get('severity', '?')} {a['labels']['alertname']}" for a in alerts if a["state"] == "firing"
        )
        rows.append(("alerts firing", ", ".join(firing) if firing else "none"))
    except (OSError, ValueError, KeyError) as exc:
        rows.append(("prometheus", f"unreachable ({exc})"))
    if thanos_query is not None:
        rows.append(("long term (Thanos Query)", _long_term_row(thanos_query)))
    return rows


def _long_term_row(query: Server) -> str:
    """Thanos Query's stores (connected of each kind) and how far back the bucket reaches."""
    try:
        stores = get_json(query, "/api/v1/stores")["data"]
    except (OSError, ValueError, KeyError) as exc:
        return f"unreachable ({exc})"
    parts = []
    for kind in ("sidecar", "store"):
        up, broken = connected_stores(stores, kind)
        parts.append(f"{kind}s {up}/{up + len(broken)} connected")
    oldest = [m["minTime"] for m in stores.get("store") or [] if 0 < m.get("minTime", 0) < 2**62]
    if oldest:
        parts.append("bucket from " + time.strftime("%Y-%m-%d", time.gmtime(min(oldest) / 1000)))
    return ", ".join(parts)


def servers(workdir: Path, state: Mapping[str, Any]) -> tuple[Server, Server | None]:
    """A running stack's Prometheus and (HA mode) Thanos Query, as its state says: TLS with its CA
    and basic auth when it is secured."""
    ports = state["ports"]
    tls, auth = None, None
    if state.get("secure"):
        from otel_ccmon.devstack import security

        creds = security.Credentials(workdir / "secrets")
        tls, auth = creds.ssl_context(), creds.basic_auth()
    prometheus = Server(f"{scheme(dict(state), 'prometheus')}://127.0.0.1:{ports['prometheus']}", tls, auth, 3)
    thanos = Server(f"http://127.0.0.1:{ports['thanos_query']}", timeout=3) if "thanos_query" in ports else None
    return prometheus, thanos


def _print_status(stack: Stack) -> None:
    stamp = time.strftime("%H:%M:%S")
    thanos = stack.server("thanos_query") if "thanos_query" in running(stack.config) else None
    rows = status_rows(stack.server("prometheus"), thanos)
    print(f"[{stamp}] " + " | ".join(f"{k}: {v}" for k, v in rows), flush=True)


class _Refused(Exception):
    """A `ccmon stack up` argument that cannot work; the message says why and what to do."""


def _ports(args: argparse.Namespace) -> dict[str, int]:
    """The default ports (of the HA mode too with --ha), with the --port overrides."""
    ports = {**DEFAULT_PORTS, **(HA_PORTS if args.ha else {})}
    for item in args.port:
        key, _, value = item.partition("=")
        if key not in ports or not value.isdigit() or not 0 < int(value) < 65536:
            raise _Refused(f"bad --port {item!r}: use NAME=PORT (1-65535), NAME one of {', '.join(ports)}")
        ports[key] = int(value)
    clashes = sorted({p for p in ports.values() if list(ports.values()).count(p) > 1})
    if clashes:
        raise _Refused(f"--port gives two components the same port {clashes}")
    return ports


def _components(args: argparse.Namespace, binaries: Path) -> tuple[str, ...]:
    """The components to start: the base tier (and the HA tier with --ha) less --without."""
    skipped = set(args.without) | ({"collector"} if args.direct_otlp else set())
    components = tuple(c for c in (*ALL_COMPONENTS, *(HA_COMPONENTS if args.ha else ())) if c not in skipped)
    if not (binaries / "otelcol-ccmon").exists():
        raise _Refused("binaries missing; run `make bootstrap` (or `make run`)")
    if args.ha and not (binaries / "thanos").exists():
        raise _Refused("--ha runs the Thanos tier (docs/long-term.md); its binary is built on first use: "
                       "`bash scripts/bootstrap.sh thanos` (or `make run-ha`)")  # fmt: skip
    if "node_exporter" in components and shutil.which(str(binaries / "node_exporter")) is None:
        components = tuple(c for c in components if c != "node_exporter")
    return components


def _config(args: argparse.Namespace) -> StackConfig:
    """The stack `ccmon stack up ARGS` runs."""
    ports = _ports(args)
    repo = find_repo(args.repo)
    components = _components(args, bin_dir(repo))
    workdir = _workdir(args, repo)
    fast: dict[str, Any] = {}
    if args.fast_alerts:
        rules = write_shortened_rules(repo / "prometheus" / "rules", workdir / "rules-fast", FAST_ALERTS_FACTOR)
        fast = {**FAST_ALERTS, "rules_dir": rules}
    return StackConfig(
        workdir=workdir,
        repo=repo,
        ports=ports,
        components=components,
        die_with_parent=not args.detach,
        claude_code_team=not (args.direct_otlp or args.secure),
        direct_otlp=args.direct_otlp,
        push_metrics=args.push,
        ha=args.ha,
        secure=args.secure,
        **fast,
    )


def _up(args: argparse.Namespace) -> int:
    try:
        config = _config(args)
    except _Refused as exc:
        print(f"ccmon stack: {exc}", file=sys.stderr)
        return 2
    stack = Stack(config)
    try:
        stack.up()
    except StackError as exc:
        print(f"ccmon stack: {exc}", file=sys.stderr)
        print("ccmon stack: nothing was left running", file=sys.stderr)
        return 1
    _announce(stack, args.ha)
    if args.detach:
        return 0
    return _supervise(stack)


def _announce(stack: Stack, ha: bool) -> None:
    """Where the started stack answers."""
    print(
        "ccmon stack: up. Prometheus",
        stack.config.url("prometheus"),
        "| Alertmanager",
        stack.config.url("alertmanager"),
        "| demo app",
        stack.config.url("app", "/metrics"),
        "| receiver",
        stack.config.url("receiver", "/alerts"),
        *(
            ("| Thanos Query (both replicas, deduplicated, and the bucket)", stack.config.url("thanos_query"))
            if ha
            else ()
        ),
        f"| logs in {stack.logs}",
        flush=True,
    )
    if "app" in running(stack.config):
        app, token = stack.config.url("app"), stack.workdir / "secrets" / "receiver_token"
        print(
            "ccmon stack: next, try\n"
            f"  1. a fault that pages: curl -X POST {app}/faults/slow_db  (list: curl {app}/faults;"
            " `make run-fast` alerts within about a minute)\n"
            f"  2. the firing alerts: {stack.config.url('prometheus', '/alerts')}; what the receiver got:"
            f" ccmon alerts --url {stack.config.url('receiver')} --token-file {token}\n"
            "  3. every check with its fix: ccmon doctor  (and the Claude Code spend of the simulated team:"
            " ccmon claude-code report --since 1d)",
            flush=True,
        )


def _supervise(stack: Stack) -> int:
    """A status line every 5 s until Ctrl-C or SIGTERM; a component that exits is reported."""
    stopping = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        while not stopping:
            _print_status(stack)
            for _ in range(50):  # 5 s between status lines, but react to Ctrl-C at once
                if stopping:
                    break
                for name, proc in list(stack.procs.items()):
                    if not proc.running():
                        print(f"ccmon stack: {name} exited; see {proc.log_path}", file=sys.stderr, flush=True)
                        stack.procs.pop(name)
                time.sleep(0.1)
    except BrokenPipeError:  # our output went away (e.g. piped into `head`): stop quietly
        pass
    finally:
        stack.down()  # first: printing may fail when stdout is gone
        with contextlib.suppress(OSError):
            print("ccmon stack: stopped", flush=True)
    return 0


def _workdir(args: argparse.Namespace, repo: Path | None = None) -> Path:
    return stack_workdir(args.workdir, None) or (repo or find_repo(args.repo)) / DEFAULT_WORKDIR


def _down(args: argparse.Namespace) -> int:
    workdir = _workdir(args)
    state = load_state(workdir)
    if state is None:
        print("ccmon stack: not running")
        return 0
    for pid in reversed(list(state["pids"].values())):
        kill_group(int(pid), signal.SIGTERM)
    deadline = time.monotonic() + 15
    for pid in state["pids"].values():
        while pid_alive(int(pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_alive(int(pid)):
            kill_group(int(pid), signal.SIGKILL)
    (workdir / STATE_FILE).unlink(missing_ok=True)
    print("ccmon stack: stopped")
    return 0


STATUS_NOT_RUNNING = 3  # as LSB init scripts: 0 running, 1 partly dead, 3 not running


def _status(args: argparse.Namespace) -> int:
    """Our own components only: their processes, and figures from our own Prometheus."""
    workdir = _workdir(args)
    state = load_state(workdir)
    if state is None:
        print(f"ccmon stack: not running (no state in {workdir})")
        return STATUS_NOT_RUNNING
    dead = []
    for name, pid in state["pids"].items():
        alive = pid_alive(int(pid))
        print(f"{name:14} pid {pid:<8} {'running' if alive else 'DEAD'}")
        if not alive:
            dead.append(name)
    ports = state["ports"]
    prometheus_pid = state["pids"].get("prometheus")
    if prometheus_pid is None or "prometheus" in dead:
        print("figures: not shown (our Prometheus is not running)")
    elif owned_by_group(int(ports["prometheus"]), int(prometheus_pid)) is False:
        other = holder(int(ports["prometheus"])).describe()
        print(f"figures: not shown (port {ports['prometheus']} is answered by {other}, not by our Prometheus)")
    else:
        for key, value in status_rows(*servers(workdir, state)):
            print(f"{key}: {value}")
    if dead:
        print(f"ccmon stack: {len(dead)} of {len(state['pids'])} components dead ({', '.join(dead)}); "
              f"logs in {workdir / 'logs'}; restart: ccmon stack down && ccmon stack up --detach")  # fmt: skip
        return 1
    return 0


def _backfill(args: argparse.Namespace) -> int:
    from otel_ccmon.devstack.longterm import BackfillError, backfill

    bucket = Path(args.objstore_config) if args.objstore_config else _workdir(args) / "bucket.yml"
    if not bucket.exists():
        print(f"ccmon stack backfill: no bucket config at {bucket}: start the HA stack (`ccmon stack up --ha`) "
              "or pass --objstore-config", file=sys.stderr)  # fmt: skip
        return 2
    try:
        blocks = backfill(Path(args.file), bucket, repo=find_repo(args.repo))
    except BackfillError as exc:
        print(f"ccmon stack backfill: {exc}", file=sys.stderr)
        return 1
    samples = sum(b.samples for b in blocks)
    first = time.strftime("%Y-%m-%d", time.gmtime(min(b.min_time_ms for b in blocks) / 1000))
    last = time.strftime("%Y-%m-%d", time.gmtime(max(b.max_time_ms for b in blocks) / 1000))
    print(f"ccmon stack backfill: {len(blocks)} blocks, {samples:,} samples ({first} to {last}) uploaded to {bucket}")
    return 0


def add_commands(sub: Any) -> None:
    """Register ``ccmon stack up|down|status``."""
    stack = sub.add_parser("stack", help="run the local pipeline as child processes")
    stack_sub = stack.add_subparsers(dest="stack_command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--repo", help="the otel-ccmon checkout (default: $CCMON_REPO or the working directory)")
    common.add_argument("--workdir", help="state, logs and data (default: $CCMON_STACK_DIR or REPO/var/stack)")
    up = stack_sub.add_parser("up", parents=[common], help="start everything; Ctrl-C stops it all")
    up.add_argument(
        "--fast-alerts",
        action="store_true",
        help=f"demo mode: rules shortened {FAST_ALERTS_FACTOR}x and 1 s scrapes, so that an injected fault "
        "alerts within about a minute",
    )
    up.add_argument("--port", action="append", default=[], help="KEY=PORT, e.g. app=3100 (repeatable)")
    up.add_argument("--without", action="append", default=[], choices=ALL_COMPONENTS, help="skip a component")
    up.add_argument("--detach", action="store_true", help="start and return; stop with `ccmon stack down`")
    up.add_argument(
        "--ha",
        action="store_true",
        help="high availability: two Prometheus replicas and two clustered Alertmanagers (prometheus-ha.yml), "
        "Thanos sidecars shipping to a bucket (a local folder), store gateway, compactor and Query",
    )
    up.add_argument(
        "--secure",
        action="store_true",
        help="TLS and a bearer token on OTLP, TLS and basic auth on Prometheus/Alertmanager (docs/security.md)",
    )
    up.add_argument(
        "--direct-otlp",
        action="store_true",
        help="the app pushes OTLP straight into Prometheus (its OTLP receiver); no collector, no Claude Code team",
    )
    up.add_argument(
        "--push",
        action="store_true",
        help="the collector remote-writes its metrics into Prometheus instead of being scraped "
        "(collector/remote-write-only.yaml; for high ingest rates, docs/performance.md)",
    )
    up.set_defaults(func=_up)
    down = stack_sub.add_parser("down", parents=[common], help="stop a detached stack")
    down.set_defaults(func=_down)
    status = stack_sub.add_parser("status", parents=[common], help="processes, targets, points, alerts")
    status.set_defaults(func=_status)
    fill = stack_sub.add_parser(
        "backfill", parents=[common], help="upload history (an OpenMetrics file) to the HA stack's Thanos bucket"
    )
    fill.add_argument("file", help="OpenMetrics text with timestamps, ending in # EOF")
    fill.add_argument("--objstore-config", help="a Thanos bucket config (default: the running HA stack's)")
    fill.set_defaults(func=_backfill)
