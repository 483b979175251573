"""OTLP export cost and its effect on request latency: the direct encoder vs the plain SDK path.

``python -m bench.export cost N REPEATS`` prints JSON: per series, the time to collect and encode
an export and to send it (to a local HTTP sink), and the bytes sent, for our path (cells encoded
straight to protobuf) and for the plain SDK path (the same series on SDK instruments, the SDK's
encoder), in one process, alternating.

``python -m bench.export latency N SECONDS`` prints JSON: p50/p99 request latency of a FastAPI app
holding N series under steady load, side by side: export off; OTLP export every second (the default:
changed series, the others refreshed every 30 s); every series every export (the SDK's way); and
the collector-pulling candidate (/metrics scraped every second). Each mode runs twice, in ABBA
order (all modes, then all reversed), SECONDS/2 each, and its samples are pooled.
"""

from __future__ import annotations

import functools
import gc
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HISTOGRAM_SHARE = 5  # one series in five is a histogram (truth scores), the rest counters


class _Sink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        del args


def start_sink() -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1/metrics"


def ours(n: int, endpoint: str) -> tuple[Callable[[], bytes], Callable[[bytes], None]]:
    """Our path: cells on the fast path, the direct exporter's encoding, its HTTP client."""
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from otel_ccmon import _core
    from otel_ccmon._sdk_seam import DirectOtlpExporter
    from otel_ccmon._settings import Settings

    _core.reset_for_tests()
    settings = Settings(exporters=(), runtime_metrics=False, attribute_cap=n + 10, cardinality_limit=n + 100)
    sdk_reader = InMemoryMetricReader()  # the SDK's own part of a collection (small)
    monitor = _core.initialize(settings, extra_readers=[sdk_reader], set_global=False)
    assert monitor.store is not None
    _fill(monitor.recorder.add, monitor.recorder.observe, n)
    exporter = DirectOtlpExporter(OTLPMetricExporter(endpoint=endpoint), monitor.store)

    def collect_encode() -> bytes:
        data = sdk_reader.get_metrics_data()
        assert data is not None
        return exporter.encode(data)

    def send(body: bytes) -> None:
        assert exporter._inner._client.export(body).success  # type: ignore[attr-defined]

    return collect_encode, send


def sdk(n: int, endpoint: str) -> tuple[Callable[[], bytes], Callable[[bytes], None]]:
    """The plain SDK path on the same series: SDK instruments, collection, encoder and client."""
    from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View

    from otel_ccmon._catalog import BY_OTEL_NAME

    buckets = BY_OTEL_NAME["truth.score"].buckets
    reader = InMemoryMetricReader(cardinality_limits={Counter: n + 100, Histogram: n + 100})
    provider = MeterProvider(
        metric_readers=[reader],
        views=[View(instrument_name="truth.score", aggregation=ExplicitBucketHistogramAggregation(buckets))],
    )
    meter = provider.get_meter("otel_ccmon")
    counter = meter.create_counter("verification.failures")
    histogram = meter.create_histogram("truth.score")

    def add(_name: str, amount: float, agent: str, reason: str) -> None:
        counter.add(amount, {"agent_id": agent, "reason": reason})

    def observe(_name: str, value: float, agent: str) -> None:
        histogram.record(value, {"agent_id": agent})

    _fill(add, observe, n)
    exporter = OTLPMetricExporter(endpoint=endpoint)

    def collect_encode() -> bytes:
        data = reader.get_metrics_data()
        assert data is not None
        body: bytes = encode_metrics(data).SerializeToString()
        return body

    def send(body: bytes) -> None:
        assert exporter._client.export(body).success

    return collect_encode, send


def _fill(add: Callable[..., None], observe: Callable[..., None], n: int) -> None:
    for i in range(n):
        if i % HISTOGRAM_SHARE == 0:
            observe("truth.score", 0.5 + (i % 50) / 100, f"agent-{i}")
        else:
            add("verification.failures", 1, f"agent-{i}", "checks_failed")


def cost(n: int, repeats: int) -> dict[str, Any]:
    server, endpoint = start_sink()
    paths = {"ours": ours(n, endpoint), "sdk": sdk(n, endpoint)}
    timings: dict[str, dict[str, list[float]]] = {k: {"encode": [], "send": []} for k in paths}
    sizes: dict[str, int] = {}
    for _ in range(repeats):
        for name, (collect_encode, send) in paths.items():
            gc.collect()
            t0 = time.perf_counter()
            body = collect_encode()
            t1 = time.perf_counter()
            send(body)
            t2 = time.perf_counter()
            timings[name]["encode"].append(t1 - t0)
            timings[name]["send"].append(t2 - t1)
            sizes[name] = len(body)
    server.shutdown()
    out: dict[str, Any] = {"series": n}
    for name in paths:
        encode = statistics.median(timings[name]["encode"]) / n * 1e6
        send_us = statistics.median(timings[name]["send"]) / n * 1e6
        out[name] = {
            "collect_encode_us_per_series": encode,
            "send_us_per_series": send_us,
            "total_us_per_series": encode + send_us,
            "bytes": sizes[name],
        }
    return out


def refresh(n: int, exports: int) -> dict[str, Any]:
    """Encoding time of an export of N series where nothing changed: every series (refresh off)
    against the default (changed series, the others refreshed one in 30 exports), median ms."""
    from otel_ccmon import _core
    from otel_ccmon._otlp import encode_store_parts, join_yielding
    from otel_ccmon._settings import Settings

    _core.reset_for_tests()
    settings = Settings(exporters=(), runtime_metrics=False, attribute_cap=n + 10, cardinality_limit=n + 100)
    monitor = _core.initialize(settings, set_global=False)
    store = monitor.store
    assert store is not None
    _fill(monitor.recorder.add, monitor.recorder.observe, n)
    join_yielding(encode_store_parts(store))  # the first export builds every cell's cached bytes
    out: dict[str, Any] = {"series": n}
    for name, every in (("every_series_ms", 1), ("refreshed_ms", 30)):
        store.refresh_every = every
        times, sizes = [], []
        for _ in range(exports):
            t0 = time.perf_counter()
            sizes.append(len(join_yielding(encode_store_parts(store))))
            times.append(time.perf_counter() - t0)
        out[name] = statistics.median(times) * 1000
        out[name.replace("_ms", "_bytes")] = statistics.median(sizes)
    out["ratio"] = out["refreshed_ms"] / out["every_series_ms"]
    _core.reset_for_tests()
    return out


# -- latency ----------------------------------------------------------------------------------------------
APP = """
import os, sys
import otel_ccmon
from fastapi import FastAPI
n = int(sys.argv[1])
monitor = otel_ccmon.initialize_metrics(otel_ccmon.Settings.from_env(
    runtime_metrics=False, attribute_cap=n + 10, cardinality_limit=n + 100))
for i in range(n):
    if i % 5 == 0:
        monitor.recorder.observe("truth.score", 0.5, f"agent-{i}")
    else:
        monitor.recorder.add("verification.failures", 1, f"agent-{i}", "checks_failed")
app = FastAPI()
otel_ccmon.instrument_app(app, monitor)

@app.get("/work")
def work() -> dict[str, int]:
    otel_ccmon.record_neural_operation("learning")
    return {"ok": 1}
"""


WARM_UP_S = 5.0

# each mode: the metric exporters, extra environment, and whether a scraper pulls /metrics each second
MODES: dict[str, tuple[str, dict[str, str], bool]] = {
    "export_off": ("prometheus", {}, False),
    # the default: series that changed, the others refreshed every CCMON_OTLP_REFRESH_MS (30 s)
    "export_on": ("otlp,prometheus", {}, False),
    # every series every export (CCMON_OTLP_REFRESH_MS=0, as the SDK does; the path before issue 35)
    "export_every_series": ("otlp,prometheus", {"CCMON_OTLP_REFRESH_MS": "0"}, False),
    # the collector pulling instead: /metrics rendered for a scraper every second
    "pulled": ("prometheus", {}, True),
}


def _scrape_every_second(url: str, stop: threading.Event) -> None:
    import httpx

    with httpx.Client(timeout=30) as client:
        while not stop.wait(1.0):  # the scrape interval, not a synchronisation
            client.get(url).raise_for_status()


def latency(n: int, seconds: float) -> dict[str, Any]:
    import os
    import tempfile
    from pathlib import Path

    import httpx

    from otel_ccmon.devstack.ports import port_in_use
    from otel_ccmon.devstack.procs import free_port, http_ok, wait_for

    # the sink in a process of its own: reading 12 MB a second in this process would take the GIL
    # from the client loop that measures the latency (measured: it doubled the p99 we reported)
    sink_port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-m", "bench.export", "sink", str(sink_port), "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{sink_port}/v1/metrics"
    results: dict[str, Any] = {"series": n}
    with tempfile.TemporaryDirectory() as work:
        wait_for(functools.partial(port_in_use, sink_port), 60, "the OTLP sink")
        (Path(work) / "latency_app.py").write_text(APP)
        # ABBA: every mode twice, in order and then reversed, half the time each, the samples pooled,
        # so that the machine drifting during the run (other load, thermal) weighs on every mode alike
        samples_of: dict[str, list[float]] = {mode: [] for mode in MODES}
        for mode in [*MODES, *reversed(MODES)]:
            exporters, extra, pulled = MODES[mode]
            port = free_port()
            env = {
                **os.environ,
                "PYTHONPATH": work + os.pathsep + os.environ.get("PYTHONPATH", ""),
                "OTEL_METRICS_EXPORTER": exporters,
                "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint.removesuffix("/v1/metrics"),
                "OTEL_METRIC_EXPORT_INTERVAL": "1000",
                "CCMON_PROMETHEUS_PORT": str(free_port()),
                **extra,
            }
            script = (
                f"import sys; sys.argv = ['app', '{n}']; exec(open('{work}/latency_app.py').read()); import uvicorn; "
                f"uvicorn.run(app, host='127.0.0.1', port={port}, log_level='warning')"
            )
            argv = [sys.executable, "-c", script]
            proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            stop = threading.Event()
            scraper = None
            try:
                url = f"http://127.0.0.1:{port}/work"
                wait_for(functools.partial(http_ok, url), 120, "latency app")
                if pulled:
                    metrics_url = f"http://127.0.0.1:{port}/metrics"  # instrument_app's route
                    scraper = threading.Thread(target=_scrape_every_second, args=(metrics_url, stop), daemon=True)
                    scraper.start()
                samples = samples_of[mode]
                with httpx.Client() as client:
                    # warm-up: past the first exports, which build every cell's cached bytes once
                    # (≈ 1 s at 100k series): the steady state is what is measured
                    warm_until = time.perf_counter() + min(WARM_UP_S, seconds / 2)
                    while time.perf_counter() < warm_until:
                        client.get(url)
                    stop_at = time.perf_counter() + seconds / 2
                    while time.perf_counter() < stop_at:  # a steady closed loop of requests
                        t0 = time.perf_counter()
                        client.get(url).raise_for_status()
                        samples.append(time.perf_counter() - t0)
            finally:
                stop.set()
                if scraper is not None:
                    scraper.join(60)
                proc.terminate()
                proc.wait(30)
    sink.terminate()
    sink.wait(30)
    for mode, samples in samples_of.items():
        qs = statistics.quantiles(samples, n=100)
        results[mode] = {"requests": len(samples), "p50_ms": qs[49] * 1000, "p99_ms": qs[98] * 1000}
    off = results["export_off"]["p99_ms"]
    results["p99_ratio"] = results["export_on"]["p99_ms"] / off
    results["p99_ratio_every_series"] = results["export_every_series"]["p99_ms"] / off
    results["p99_ratio_pulled"] = results["pulled"]["p99_ms"] / off
    return results


def serve_sink(port: int) -> None:
    """The OTLP sink alone (``python -m bench.export sink PORT 0``), until terminated."""
    ThreadingHTTPServer(("127.0.0.1", port), _Sink).serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "sink":
        serve_sink(int(sys.argv[2]))
        sys.exit(0)
    kind, n, arg = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    runs: dict[str, Callable[[], dict[str, Any]]] = {
        "refresh": lambda: refresh(n, int(arg)),
        "cost": lambda: cost(n, int(arg)),
        "latency": lambda: latency(n, arg),
    }
    result = runs[kind]()
    print(json.dumps(result))
