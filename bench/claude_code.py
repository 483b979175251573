"""Claude Code ingest benchmarks (issue 20), printed as JSON for ``bench.run``.

``python -m bench.claude_code ingest`` runs the Go benchmarks of the claudecode processor and the
claudecode_events connector (one goroutine: points and events per CPU-second).

``python -m bench.claude_code org DEVELOPERS SECONDS METRIC_S LOGS_S [MEMORY_LIMIT_MIB] [push]`` plays an
organisation of simulated developers (one session each, metrics and events at the given intervals: the client's
defaults are 60 s and 5 s) through the real collector and Prometheus, with Claude Code's budget
and memory limit sized for that many developers (devstack.sizing; or the limit given), and reports
whether the totals are exact, what the memory limiter refused, whether Prometheus scraped the
collector within its timeout every time, the collector's CPU seconds and peak RSS (per 1,000
developers too), and Prometheus's head series. With ``push`` the collector remote-writes into
Prometheus instead of being scraped (collector/remote-write-only.yaml): then whether every write
was delivered replaces the scrape's health.
"""

from __future__ import annotations

import json
import math
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
from otel_ccmon.devstack import sizing
from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.procs import rss_bytes, wait_for
from otel_ccmon.devstack.stack import Stack
from tests.support import ROOT

_OTLP = '{receiver="otlp"}'  # what the clients sent (not the events connector's derived points)
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


def organisation(
    developers: int,
    seconds: float,
    metric_s: float,
    logs_s: float,
    memory_limit_mib: int | None = None,
    push: bool = False,
) -> dict[str, Any]:
    """One organisation's run; ``memory_limit_mib`` sets the collector's memory limiter (default: the
    limit devstack.sizing derives for ``developers``; a large one measures the unconstrained peak);
    ``push`` remote-writes the metrics instead of the scrape."""
    budget = claude_code_stream_budget(SETTINGS.claude_code.model_copy(update={"expected_developers": developers}))
    limit = memory_limit_mib or sizing.memory_limit_mib(developers, pushed=push)
    env = {
        "CCMON_CLAUDE_CODE_STREAM_BUDGET": str(budget),
        "CCMON_COLLECTOR_MEMORY_LIMIT_MIB": str(limit),
        "CCMON_COLLECTOR_MEMORY_SPIKE_MIB": str(sizing.spike_limit_mib(limit)),
    }
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(
            StackConfig.with_free_ports(
                Path(tmp), components=("collector", "prometheus"), collector_env=env, push_metrics=push
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
            window = f"{math.ceil(time.monotonic() - t0) + 30}s"
            cpu_s = _cpu_seconds(pid) - cpu0
            series = _total(stack, 'count({__name__=~"claude_code_.+|ccmon_claude_code_.+"})')
            if push:
                delivery = {
                    "delivery": "remote write",
                    "remote_write_sent_points": _total(stack, "otelcol_exporter_sent_metric_points"),
                    "remote_write_failed_points": _total(stack, "otelcol_exporter_send_failed_metric_points"),
                    # what Prometheus refused of the writes (out of order, malformed): never retried
                    "remote_write_refused_requests": _total(
                        stack, 'prometheus_http_requests_total{handler="/api/v1/write",code!~"2.."}'
                    ),
                }
                delivered = delivery["remote_write_failed_points"] == 0 == delivery["remote_write_refused_requests"]
            else:
                delivery = {
                    "delivery": "scrape",
                    # the prometheus exporter (job app-metrics) answered every scrape in time: never down, slowest
                    "collector_scrape_min_up": _total(stack, f'min_over_time(up{{job="app-metrics"}}[{window}])'),
                    "collector_scrape_max_s": _total(
                        stack, f'max_over_time(scrape_duration_seconds{{job="app-metrics"}}[{window}])'
                    ),
                }
                delivered = delivery["collector_scrape_min_up"] == 1
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
                "collector_cpu_s": cpu_s,
                "collector_rss_peak_mib": peak / 2**20,
                "memory_limit_mib": limit,
                "collector_cpu_s_per_1000_developers": cpu_s / developers * 1000,
                "collector_rss_mib_per_1000_developers": max(0.0, peak / 2**20 - sizing.BASE_MIB) / developers * 1000,
                # refused by the memory limiter: data the clients had to retry or lost
                "refused_points": _total(stack, "otelcol_processor_memory_limiter_refused_metric_points")
                + _total(stack, "otelcol_receiver_refused_metric_points"),
                "refused_log_records": _total(stack, "otelcol_receiver_refused_log_records"),
                # every scrape answered in time, or every remote write delivered
                "delivered_every_time": delivered,
                **delivery,
                # the ingest rate over the run: with the series held, what sizes the collector (devstack.sizing)
                "accepted_points_per_s": _total(stack, f"otelcol_receiver_accepted_metric_points{_OTLP}") / run_s,
                "accepted_log_records_per_s": _total(stack, f"otelcol_receiver_accepted_log_records{_OTLP}") / run_s,
                "held_streams": _total(stack, "sum(otelcol_ccmon_claude_code_streams)"),
                "claude_code_series": series,
                "prometheus_head_series": _total(stack, 'prometheus_tsdb_head_series{job="prometheus"}'),
                "series_per_developer": series / developers,
            }
        finally:
            stack.down()


if __name__ == "__main__":
    if sys.argv[1] == "ingest":
        print(json.dumps(ingest(sys.argv[2] if len(sys.argv) > 2 else "2s")))
    else:
        developers, seconds, metric_s, logs_s = sys.argv[2:6]
        limit = int(sys.argv[6]) if len(sys.argv) > 6 and sys.argv[6].isdigit() else None
        push = sys.argv[-1] == "push"
        print(json.dumps(organisation(int(developers), float(seconds), float(metric_s), float(logs_s), limit, push)))
