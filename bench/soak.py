"""Soak (issue 23): the default stack under a steady load for an hour (configurable), every
component's memory and CPU sampled each minute, the growth per hour after warm-up reported.

    make bench-soak                                   # 60 min, 20 services, 500 developers
    .venv/bin/python -m bench.soak --minutes 15 --warmup 5 --sample-s 30

The load: ``--services`` push-only services (one process each, the package's own OTLP exporter,
every catalog family a service records), the demo app, and ``--developers`` simulated Claude
Code developers (metrics every 60 s and events every 5 s: the client's defaults) with the
collector's Claude Code budget sized for them. Samples: RSS and CPU of every stack component,
Prometheus's head series and WAL size. The slope is a least-squares fit over the samples after
the warm-up (MiB per hour): a leak shows as a slope that does not flatten. Results are printed
as a Markdown table and written as JSON (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.pipeline import _cpu_seconds, _total
from mixin.collector_firewall import claude_code_stream_budget
from mixin.config import SETTINGS
from otel_ccmon.claude_code import TeamPlan
from otel_ccmon.claude_code.cli import run_team_forever
from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.procs import pid_alive, rss_bytes, wait_for
from otel_ccmon.devstack.stack import Stack

MIB = 2**20


def service(name: str, endpoint: str, interval_ms: int) -> None:
    """One push-only service: records a steady mix of the catalog's metrics until SIGTERM."""
    import random

    import otel_ccmon as ccmon

    ccmon.initialize_metrics(
        service_name=name, exporters=("otlp",), otlp_endpoint=endpoint, export_interval_ms=interval_ms
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    rng = random.Random(name)
    while not stop.wait(1.0):
        ccmon.record_neural_operation(rng.choice(("learning", "inference", "training")))
        ccmon.record_feedback_cycle()
        ccmon.record_task_completed(rng.choice(("feature", "bugfix", "refactor")))
        ccmon.observe_db_query("select", "patterns", rng.uniform(0.001, 0.2))
        ccmon.observe_goap_planning("standard", rng.uniform(0.01, 2.0))
        ccmon.record_verification(f"agent-{rng.randrange(5)}", rng.uniform(0.8, 1.0), True)
        ccmon.set_patterns_active(rng.randrange(100, 200))
    ccmon.shutdown_metrics()


@dataclass
class Samples:
    t: list[float] = field(default_factory=list)  # minutes since the start
    rss_mib: dict[str, list[float]] = field(default_factory=dict)
    cpu_s: dict[str, list[float]] = field(default_factory=dict)
    head_series: list[float] = field(default_factory=list)
    wal_mib: list[float] = field(default_factory=list)


def slope_per_hour(t_min: list[float], values: list[float]) -> float:
    """Least-squares slope of ``values`` over ``t_min`` (minutes), per hour.

    >>> round(slope_per_hour([0, 1, 2, 3], [10, 11, 12, 13]), 6)
    60.0
    """
    n = len(t_min)
    if n < 2:
        return 0.0
    mt, mv = sum(t_min) / n, sum(values) / n
    var = sum((t - mt) ** 2 for t in t_min)
    return 60 * sum((t - mt) * (v - mv) for t, v in zip(t_min, values, strict=True)) / var if var else 0.0


def _dir_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / MIB if path.exists() else 0.0


def soak(
    minutes: float, warmup: float, sample_s: float, services: int, developers: int, cover: bool = True
) -> dict[str, Any]:
    budget = claude_code_stream_budget(SETTINGS.claude_code.model_copy(update={"expected_developers": developers}))
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        work = Path(tmp)
        stack = Stack(
            StackConfig.with_free_ports(
                work / "stack",
                collector_env={"CCMON_CLAUDE_CODE_STREAM_BUDGET": str(budget)},
                claude_code_team=False,
            )
        )
        stack.up()
        loaders: list[subprocess.Popen[bytes]] = []
        try:
            wait_for(lambda: _total(stack, 'up{job="otel-collector"}') == 1, 60, "Prometheus scraping the collector")
            endpoint = stack.config.url("otlp_http")
            for i in range(services):
                code = f"from bench.soak import service; service('soak-svc-{i:02d}', {endpoint!r}, 10000)"
                log = (work / f"svc-{i:02d}.log").open("wb")
                loaders.append(subprocess.Popen([sys.executable, "-c", code], stdout=log, stderr=log))
            # rounds of 10 minutes, new sessions each round (the same developers): a steady state, so
            # that growth after the warm-up is the components', not the workload's ramp. With cover,
            # every session opens with each of its attribute combinations: all series exist after the
            # first round (without, random work contexts add new series for hours: +12.9 k/h measured)
            plan = TeamPlan(
                users=developers,
                sessions=developers * 2,
                seconds=min(600.0, minutes * 60),
                export_interval=60.0,
                logs_interval=5.0,
                error_rate=0.0,
                seed=23,
                cover_combinations=cover,
            )
            team_stop = threading.Event()
            runner = threading.Thread(target=run_team_forever, args=(endpoint, plan, team_stop), daemon=True)
            runner.start()
            samples = Samples()
            pids = {name: proc.pid for name, proc in stack.procs.items() if proc.pid is not None}
            data = work / "stack" / "prometheus-data"
            started = time.monotonic()
            deadline = started + minutes * 60
            while True:
                now = time.monotonic()
                samples.t.append((now - started) / 60)
                for name, pid in pids.items():
                    alive = pid_alive(pid)
                    samples.rss_mib.setdefault(name, []).append(rss_bytes(pid) / MIB if alive else float("nan"))
                    samples.cpu_s.setdefault(name, []).append(_cpu_seconds(pid) if alive else float("nan"))
                live = [p.pid for p in loaders if p.poll() is None]
                samples.rss_mib.setdefault("services (sum)", []).append(sum(rss_bytes(p) for p in live) / MIB)
                samples.cpu_s.setdefault("services (sum)", []).append(sum(_cpu_seconds(p) for p in live))
                samples.head_series.append(_total(stack, 'prometheus_tsdb_head_series{job="prometheus"}'))
                samples.wal_mib.append(_dir_mib(data / "wal"))
                print(
                    f"soak: {samples.t[-1]:5.1f} min  collector {samples.rss_mib['collector'][-1]:.0f} MiB  "
                    f"prometheus {samples.rss_mib['prometheus'][-1]:.0f} MiB  head series "
                    f"{samples.head_series[-1]:.0f}  WAL {samples.wal_mib[-1]:.1f} MiB",
                    flush=True,
                )
                if now >= deadline:
                    break
                time.sleep(min(sample_s, max(0.0, deadline - now)))  # the sampling period, not a synchronisation
            team_stop.set()
            runner.join(timeout=120)
            dead = [name for name, pid in pids.items() if not pid_alive(pid)]
            result = _summary(samples, warmup, sample_s, services, developers, budget, dead, stack)
            result["cover_combinations"] = cover
            return result
        finally:
            for p in loaders:
                p.terminate()
            for p in loaders:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
            stack.down()


def _summary(
    s: Samples,
    warmup: float,
    sample_s: float,
    services: int,
    developers: int,
    budget: int,
    dead: list[str],
    stack: Stack,
) -> dict[str, Any]:
    after = [i for i, t in enumerate(s.t) if t >= warmup]
    t_after = [s.t[i] for i in after]
    components = {}
    for name, rss in s.rss_mib.items():
        cpu = s.cpu_s[name]
        span_min = s.t[-1] - s.t[after[0]] if after else 0.0
        components[name] = {
            "rss_mib_start": rss[after[0]] if after else float("nan"),
            "rss_mib_end": rss[-1],
            "rss_mib_max": max(rss),
            "rss_mib_per_hour": slope_per_hour(t_after, [rss[i] for i in after]),
            "cpu_percent": 100 * (cpu[-1] - cpu[after[0]]) / (span_min * 60) if after and span_min else 0.0,
        }
    return {
        "minutes": s.t[-1],
        "warmup_minutes": warmup,
        "sample_s": sample_s,
        "services": services,
        "developers": developers,
        "claude_code_stream_budget": budget,
        "dead_components": dead,
        "claude_code_usd_in_prometheus": _total(stack, "claude_code_cost_usage_USD_total"),
        "claude_code_points_cut": _total(stack, 'otelcol_ccmon_claude_code_points{outcome="over_limit"}'),
        "components": components,
        "head_series_start": s.head_series[after[0]] if after else float("nan"),
        "head_series_end": s.head_series[-1],
        "head_series_per_hour": slope_per_hour(t_after, [s.head_series[i] for i in after]),
        "wal_mib_end": s.wal_mib[-1],
        "wal_mib_max": max(s.wal_mib),
        "samples": {"t_min": s.t, "rss_mib": s.rss_mib, "head_series": s.head_series, "wal_mib": s.wal_mib},
    }


def markdown(result: dict[str, Any]) -> str:
    """The table of docs/reliability.md."""
    lines = [
        f"{result['minutes']:.0f} min ({result['warmup_minutes']:.0f} min warm-up), {result['services']} services, "
        f"{result['developers']} Claude Code developers "
        f"({'every combination in the first round' if result.get('cover_combinations') else 'random work contexts'}); "
        f"dead components: {result['dead_components'] or 'none'}",
        "",
        "| component | RSS after warm-up → end (MiB) | max | growth (MiB/h) | CPU (% of a core) |",
        "|---|---|---|---|---|",
    ]
    for name, c in result["components"].items():
        lines.append(
            f"| {name} | {c['rss_mib_start']:.0f} → {c['rss_mib_end']:.0f} | {c['rss_mib_max']:.0f} | "
            f"{c['rss_mib_per_hour']:+.1f} | {c['cpu_percent']:.1f} |"
        )
    lines += [
        "",
        f"Prometheus head series {result['head_series_start']:.0f} → {result['head_series_end']:.0f} "
        f"({result['head_series_per_hour']:+.0f}/h); WAL {result['wal_mib_end']:.1f} MiB at the end "
        f"(max {result['wal_mib_max']:.1f}).",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("CCMON_SOAK_MINUTES", 60)))
    parser.add_argument(
        "--warmup", type=float, default=15.0, help="minutes left out of the slope (one workload round: 10)"
    )
    parser.add_argument("--sample-s", type=float, default=60.0)
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--developers", type=int, default=500)
    parser.add_argument(
        "--random-contexts",
        action="store_true",
        help="work contexts drawn per turn: new series keep appearing for hours (the first soak's workload)",
    )
    parser.add_argument("--out", type=Path, default=Path("bench/out/soak.json"))
    args = parser.parse_args()
    warmup = min(args.warmup, args.minutes / 2)
    result = soak(args.minutes, warmup, args.sample_s, args.services, args.developers, not args.random_contexts)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(markdown(result))
    return 1 if result["dead_components"] else 0


if __name__ == "__main__":
    sys.exit(main())
