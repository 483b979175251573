"""Claude Code ingest benchmarks (issue 20), printed as JSON for ``bench.run``.

``python -m bench.claude_code ingest`` runs the Go benchmarks of the claudecode processor and the
claudecode_events connector (one goroutine: points and events per CPU-second).

``python -m bench.claude_code org DEVELOPERS SECONDS METRIC_S LOGS_S`` plays an organisation of
simulated developers (one session each, metrics and events at the given intervals: the client's
defaults are 60 s and 5 s) through the real collector and Prometheus, with Claude Code's budget
sized for that many developers, and reports whether the totals are exact, the collector's CPU
seconds and peak RSS, and Prometheus's head series.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.pipeline import _cpu_seconds, _total
from mixin.collector_firewall import claude_code_stream_budget
from mixin.config import SETTINGS
from otel_ccmon.claude_code import Team, TeamPlan
from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.procs import rss_bytes, wait_for
from otel_ccmon.devstack.stack import Stack
from tests.support import ROOT

_METRIC = re.compile(r"^Benchmark\S+\s+\d+\s+[\d.]+ ns/op\s+([\d.]+) (points|events|spans)/s", re.MULTILINE)


def _go_bench(module: str, benchtime: str, name: str = ".") -> float:
    out = subprocess.run(
        ["go", "test", "-run", "^$", "-bench", name, "-benchtime", benchtime, "-cpu", "1"],
        cwd=ROOT / "collector" / module, capture_output=True, text=True, timeout=600, check=True,
    ).stdout  # fmt: skip
    found = _METRIC.search(out)
    if not found:
        raise RuntimeError(f"no benchmark figure in:\n{out}")
    return float(found.group(1))


def ingest(benchtime: str) -> dict[str, float]:
    return {
        "processor_points_per_cpu_s": _go_bench("claudecodeprocessor", benchtime),
        "connector_events_per_cpu_s": _go_bench("claudecodeeventsconnector", benchtime, "^BenchmarkDerive$"),
        "connector_spans_per_cpu_s": _go_bench("claudecodeeventsconnector", benchtime, "^BenchmarkSpans$"),
    }


def organisation(developers: int, seconds: float, metric_s: float, logs_s: float) -> dict[str, Any]:
    budget = claude_code_stream_budget(SETTINGS.claude_code.model_copy(update={"expected_developers": developers}))
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(
            StackConfig.with_free_ports(
                Path(tmp),
                components=("collector", "prometheus"),
                collector_env={"CCMON_CLAUDE_CODE_STREAM_BUDGET": str(budget)},
            )
        )
        stack.up()
        try:
            wait_for(lambda: _total(stack, 'up{job="otel-collector"}') == 1, 60, "Prometheus scraping the collector")
            pid = stack.procs["collector"].pid
            assert pid is not None
            plan = TeamPlan(
                users=developers,
                sessions=developers,
                seconds=seconds,
                export_interval=metric_s,
                logs_interval=logs_s,
                seed=20,
                # as an organisation attributes it (issue 21): teams, cost centres, one project each
                attribution=tuple(
                    (
                        ("department", "engineering"),
                        ("team.id", f"team-{t}"),
                        ("cost_center", f"cc-{t % 3}"),
                        ("project", f"repo-{t}"),
                    )
                    for t in range(10)
                ),
            )
            team = Team(stack.config.url("otlp_http"), plan)
            cpu0, t0, peak = _cpu_seconds(pid), time.monotonic(), 0
            done = threading.Event()

            def play() -> None:
                team.run()
                done.set()

            runner = threading.Thread(target=play)
            runner.start()
            while not done.wait(1.0):
                peak = max(peak, rss_bytes(pid))
            runner.join()
            run_s = time.monotonic() - t0
            recorded = team.ledger.total("recorded", "claude_code.cost.usage")
            sessions = team.ledger.total("recorded", "claude_code.session.count")

            def exact() -> bool:
                held = _total(stack, "claude_code_cost_usage_USD_total")
                return abs(held - recorded) <= 1e-9 * recorded

            settled = True
            try:
                wait_for(exact, 180, "exact totals")
            except TimeoutError:
                settled = False
            peak = max(peak, rss_bytes(pid))
            return {
                "developers": developers,
                "seconds": seconds,
                "metric_interval_s": metric_s,
                "logs_interval_s": logs_s,
                "stream_budget": budget,
                "simulator_wall_s": run_s,
                "recorded_usd": recorded,
                "prometheus_usd": _total(stack, "claude_code_cost_usage_USD_total"),
                "exact": settled,
                "sessions_recorded": sessions,
                "sessions_in_prometheus": _total(stack, "claude_code_session_count_total"),
                "lost_exports_usd": team.ledger.total("lost", "claude_code.cost.usage"),
                "collector_cpu_s": _cpu_seconds(pid) - cpu0,
                "collector_rss_peak_mib": peak / 2**20,
                "claude_code_series": _total(stack, 'count({__name__=~"claude_code_.+|ccmon_claude_code_.+"})'),
                "prometheus_head_series": _total(stack, 'prometheus_tsdb_head_series{job="prometheus"}'),
                "series_per_developer": _total(stack, 'count({__name__=~"claude_code_.+|ccmon_claude_code_.+"})')
                / developers,
            }
        finally:
            stack.down()


if __name__ == "__main__":
    if sys.argv[1] == "ingest":
        print(json.dumps(ingest(sys.argv[2] if len(sys.argv) > 2 else "2s")))
    else:
        developers, seconds, metric_s, logs_s = sys.argv[2:6]
        print(json.dumps(organisation(int(developers), float(seconds), float(metric_s), float(logs_s))))
