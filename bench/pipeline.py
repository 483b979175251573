"""Pipeline benchmarks on the real binaries: freshness, alert latency, collector throughput.

``python -m bench.pipeline freshness SAMPLES``, ``alert RUNS``, ``collector SECONDS`` print JSON.
"""

from __future__ import annotations

import functools
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from mixin.model import minutes
from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.procs import rss_bytes, wait_for
from otel_ccmon.devstack.stack import Stack, shorten
from tests.support import ROOT

EXPORT_MS, SCRAPE = 1000, "1s"


def _stack(work: Path, **kwargs: Any) -> Stack:
    options: dict[str, Any] = {
        "scrape_interval": SCRAPE,
        "evaluation_interval": SCRAPE,
        "export_interval_ms": EXPORT_MS,
        "app_args": ("--tick", "0"),
        **kwargs,
    }
    stack = Stack(StackConfig.with_free_ports(work, **options))
    stack.up()
    return stack


def _total(stack: Stack, expr: str) -> float:
    result = stack.prom_query(f"sum({expr})")
    return float(result[0]["value"][1]) if result else 0.0


def _grew(stack: Stack, before: float) -> bool:
    return _total(stack, "feedback_loop_cycles_total") > before


def freshness(samples: int) -> dict[str, float]:
    """Seconds from a recorded increment to Prometheus showing it (app → collector → Prometheus)."""
    with tempfile.TemporaryDirectory() as work:
        stack = _stack(Path(work), components=("collector", "prometheus", "app"))
        try:
            app = stack.config.url("app")
            httpx.post(f"{app}/tick").raise_for_status()
            wait_for(lambda: _total(stack, "feedback_loop_cycles_total") >= 1, 60, "first data", 0.05)
            out = []
            for _ in range(samples):
                before = _total(stack, "feedback_loop_cycles_total")
                started = time.perf_counter()
                httpx.post(f"{app}/tick").raise_for_status()
                wait_for(functools.partial(_grew, stack, before), 60, "fresh data", 0.02)
                out.append(time.perf_counter() - started)
        finally:
            stack.down()
    out.sort()
    return {
        "p50": statistics.median(out),
        "p95": out[min(len(out) - 1, round(0.95 * (len(out) - 1)))],
        "export_interval_s": EXPORT_MS / 1000,
        "scrape_interval_s": float(SCRAPE[:-1]),
        "samples": len(out),
    }


def alert_latency(runs: int, factor: int = 60) -> dict[str, float]:
    """Seconds from fault injection to the notification at the receiver, minus the rule's `for`.

    Uses the repository's rules shortened ``factor``× (the documented test transformation), 1 s
    scrape/evaluation, Alertmanager group_wait 1 s: the figure is the pipeline's own delay.
    """
    with tempfile.TemporaryDirectory() as work:
        rules = Path(work) / "rules"
        rules.mkdir()
        for name in ("alerts.yml", "recording.yml"):
            (rules / name).write_text(shorten((ROOT / "prometheus" / "rules" / name).read_text(), factor))
        stack = _stack(
            Path(work) / "stack",
            components=("sink", "collector", "prometheus", "alertmanager", "receiver", "app"),
            rules_dir=rules,
            resend_delay="1s",
            app_args=("--tick", "0.25"),
            alertmanager_timing={"group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
        )
        for_s = minutes("10m") * 60 / factor  # DatabaseSlowQueries: `for: 10m`
        out = []
        try:
            headers = {"Authorization": f"Bearer {stack.receiver_token()}"}
            app = stack.config.url("app")
            time.sleep(3)  # pacing: a healthy baseline in the rule's window before the first fault
            for _ in range(runs):
                started = time.perf_counter()
                httpx.post(f"{app}/faults/slow_db").raise_for_status()
                wait_for(lambda: _receiver_count(stack, headers, "firing") > 0, 180, "alert", 0.1)
                out.append(time.perf_counter() - started - for_s)
                httpx.delete(f"{app}/faults/slow_db")
                wait_for(lambda: _receiver_count(stack, headers, "firing") == 0, 180, "resolution", 0.2)
        finally:
            stack.down()
    return {"median": statistics.median(out), "max": max(out), "runs": len(out), "for_s": for_s}


def _receiver_count(stack: Stack, headers: dict[str, str], status: str) -> int:
    params = {"alertname": "DatabaseSlowQueries", "status": status}
    return len(httpx.get(stack.config.url("receiver", "/alerts"), params=params, headers=headers).json()["alerts"])


def plain_collector_config(work: Path) -> Path:
    """config.yaml without firewall.yaml's components (the cardinality firewall and Claude Code's
    normalisation): the baseline of the guarded pipeline."""
    import yaml

    config = yaml.safe_load((ROOT / "collector" / "config.yaml").read_text())
    generated = yaml.safe_load((ROOT / "collector" / "firewall.yaml").read_text())
    ours = {*generated.get("processors", {}), *generated.get("connectors", {})}
    pipelines = config["service"]["pipelines"]
    for name in list(pipelines):
        pipeline = pipelines[name]
        pipeline["processors"] = [p for p in pipeline["processors"] if p not in ours]
        pipeline["receivers"] = [r for r in pipeline["receivers"] if r not in ours]
        pipeline["exporters"] = [e for e in pipeline["exporters"] if e not in ours]
        if not pipeline["exporters"]:
            del pipelines[name]  # the logs pipeline only feeds the connector
    path = work / "plain.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def collector_throughput(
    seconds: float, variant: str = "guarded", threads: int = 2, points_per_request: int = 1000
) -> dict[str, float]:
    """Sustained metric points/s the collector accepts, with its CPU per 100k points, for the
    plain pipeline or the guarded one (cardinality firewall)."""
    from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.resources import Resource

    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader], resource=Resource.create({"service.name": "loadgen"}))
    counter = provider.get_meter("loadgen").create_counter("loadgen.points")
    for i in range(points_per_request):
        counter.add(1, {"series": str(i)})
    data = reader.get_metrics_data()
    assert data is not None
    body = encode_metrics(data).SerializeToString()

    with tempfile.TemporaryDirectory() as work:
        configs = (plain_collector_config(Path(work)),) if variant == "plain" else ()
        stack = _stack(Path(work), components=("collector",), collector_configs=configs)
        url = f"http://127.0.0.1:{stack.config.ports['otlp_http']}/v1/metrics"
        telemetry = stack.config.url("collector_telemetry", "/metrics")
        pid = stack.procs["collector"].pid
        try:
            stop = time.perf_counter() + seconds
            sent, refused = [0], [0]
            lock = threading.Lock()

            def send() -> None:
                with httpx.Client(headers={"Content-Type": "application/x-protobuf"}) as client:
                    while time.perf_counter() < stop:
                        r = client.post(url, content=body)
                        with lock:
                            if r.status_code == 200:
                                sent[0] += points_per_request
                            else:
                                refused[0] += points_per_request

            accepted0, cpu0, t0 = _accepted(telemetry), _cpu_seconds(pid), time.perf_counter()
            pool = [threading.Thread(target=send) for _ in range(threads)]
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            elapsed = time.perf_counter() - t0
            accepted = wait_for(lambda: (a := _accepted(telemetry)) >= accepted0 + sent[0] and a, 30, "accounting")
            cpu = _cpu_seconds(pid) - cpu0
        finally:
            stack.down()
    points = accepted - accepted0
    return {
        "points_per_s": points / elapsed,
        "cpu_s_per_100k_points": cpu / points * 100_000 if points else 0.0,
        "refused_points": float(refused[0]),
        "load_threads": float(threads),
    }


def collector_memory_per_series(series: int) -> dict[str, float]:
    """Resident memory of the guarded collector per active series: RSS growth after ``series``
    distinct series (one service, budget above them) have arrived and been exported once."""
    from tests.otlp_payloads import counter_request

    def request(first: int, count: int) -> bytes:
        now = time.time_ns()
        values = (f"s{i}" for i in range(first, first + count))
        return counter_request({"service.name": "memory-probe"}, "memory.probe", "series", values, now, now)

    with tempfile.TemporaryDirectory() as work:
        stack = _stack(Path(work), components=("collector",), collector_env={"CCMON_SERIES_BUDGET": str(series * 2)})
        url = f"http://127.0.0.1:{stack.config.ports['otlp_http']}/v1/metrics"
        pid = stack.procs["collector"].pid
        assert pid is not None, "the collector is running"
        try:
            with httpx.Client(headers={"Content-Type": "application/x-protobuf"}, timeout=60) as client:
                exposition = stack.config.url("collector_prometheus", "/metrics")
                client.post(url, content=request(0, 100)).raise_for_status()  # warm: pipelines, exporter
                wait_for(lambda: 'series="s99"' in httpx.get(exposition, timeout=60).text, 60, "warm-up exported")
                before = rss_bytes(pid)
                for first in range(0, series, 10_000):
                    client.post(url, content=request(100 + first, min(10_000, series - first))).raise_for_status()
                wait_for(lambda: f'series="s{series + 99}"' in httpx.get(exposition, timeout=60).text, 60, "exported")
                after = rss_bytes(pid)
        finally:
            stack.down()
    return {"series": float(series), "bytes_per_series": (after - before) / series}


def _accepted(url: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    return sum(
        s.value
        for family in text_string_to_metric_families(httpx.get(url).text)
        for s in family.samples
        if s.name.startswith("otelcol_receiver_accepted_metric_points")
    )


def _cpu_seconds(pid: int | None) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, clock ticks (100 Hz)


if __name__ == "__main__":
    kind, arg = sys.argv[1], float(sys.argv[2])
    result: dict[str, float] = {
        "freshness": lambda: freshness(int(arg)),
        "alert": lambda: alert_latency(int(arg)),
        "collector": lambda: collector_throughput(arg),
        "collector-plain": lambda: collector_throughput(arg, "plain"),
        "collector-memory": lambda: collector_memory_per_series(int(arg)),
    }[kind]()
    print(json.dumps(result))
