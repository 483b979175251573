"""End to end through the real collector, Prometheus and VictoriaMetrics binaries."""

from __future__ import annotations

import json
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from otel_ccmon import _catalog as cat
from otel_ccmon._catalog import Kind
from otel_ccmon._meta import DEMO_SERVICE_NAME
from otel_ccmon.devstack.components import COLLECTOR_CONFIGS
from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.ports import port_in_use
from otel_ccmon.devstack.procs import Proc, free_port, http_ok, wait_for
from otel_ccmon.devstack.repo import bin_dir
from otel_ccmon.devstack.stack import Stack
from tests.demo_driver import exercise
from tests.stack_queries import prom_total, recorded, tick, wait_total
from tests.support import ROOT

FAST = {"scrape_interval": "1s", "evaluation_interval": "1s", "export_interval_ms": 500}
PIPELINE = ("collector", "prometheus", "app")
# Series that only the HTTP instrumentation or runtime produce are checked by the contract test;
# here everything the app exports must arrive. Prometheus' metadata API gives each family's type.
PROM_TYPES = {Kind.COUNTER: "counter", Kind.GAUGE: "gauge", Kind.HISTOGRAM: "histogram"}


@pytest.fixture
def make_stack(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    stacks: list[Stack] = []

    def make(**kwargs: Any) -> Stack:
        options = {**FAST, "components": PIPELINE, "app_args": ("--tick", "0"), **kwargs}
        stack = Stack(StackConfig.with_free_ports(tmp_path / f"stack{len(stacks)}", **options))
        stacks.append(stack)
        stack.up()
        return stack

    try:
        yield make
    finally:
        for stack in stacks:
            stack.down()


@pytest.mark.parametrize("push", [False, True], ids=["scraped", "remote-written"])
def test_every_catalog_metric_reaches_prometheus_exactly(make_stack: Callable[..., Stack], push: bool) -> None:
    stack = make_stack(push_metrics=push)
    if push:  # remote-write-only.yaml: nothing to scrape, the collector opens no exporter port

        def jobs() -> set[str]:
            targets = httpx.get(stack.config.url("prometheus", "/api/v1/targets")).json()["data"]["activeTargets"]
            return {t["labels"]["job"] for t in targets}

        wait_for(jobs, 30, "Prometheus's targets")
        assert "app-metrics" not in jobs() and "otel-collector" in jobs(), jobs()
        assert not port_in_use(stack.config.ports["collector_prometheus"])
    exercise(stack.config.url("app"))
    counts = recorded(stack)
    wait_total(stack, "neural_operations_total", sum(v for k, v in counts.items() if k.startswith("neural")))
    # model calls are checked by tests/e2e/test_agent_apps.py
    specs = [s for s in cat.CATALOG if s.source not in (cat.Source.RECEIVER, cat.Source.GENAI)]

    def family(spec: cat.MetricSpec) -> str:
        return spec.prom_name if spec.kind is not Kind.COUNTER else spec.prom_name.removesuffix("_total")

    def fetch_metadata() -> dict[str, Any]:
        data: dict[str, Any] = httpx.get(stack.config.url("prometheus", "/api/v1/metadata")).json()["data"]
        return data

    def complete_metadata() -> dict[str, Any] | None:
        # remote write carries the metadata in requests of its own, which may follow the samples
        data = fetch_metadata()
        return data if all(family(s) in data or s.prom_name in data for s in specs) else None

    # the metadata of every family, or (after the deadline) what there is, for the assertions below to name
    try:
        types_of = wait_for(complete_metadata, 60, "every family's metadata")
    except TimeoutError:
        types_of = fetch_metadata()
    for spec in specs:
        series = stack.prom_query(f'{{__name__=~"{"|".join(spec.prom_series_names)}",job="{DEMO_SERVICE_NAME}"}}')
        assert series, f"{spec.prom_name} did not reach Prometheus"
        types = {m["type"] for m in types_of.get(family(spec), types_of.get(spec.prom_name, []))}
        assert PROM_TYPES[spec.kind] in types, (spec.prom_name, types)
        for s in series:
            labels = {k for k in s["metric"] if not k.startswith("otel_scope_")} - {"__name__", "job", "instance", "le"}
            assert labels <= spec.prom_label_keys, (spec.prom_name, labels)
        if spec.kind is Kind.HISTOGRAM:
            les = {float(s["metric"]["le"]) for s in series if s["metric"]["__name__"].endswith("_bucket")}
            assert les == {float(b) for b in spec.buckets or ()} | {float("inf")}, spec.prom_name
    # counters equal exactly what the app recorded
    assert (
        prom_total(stack, 'neural_operations_total{operation_type="retrieval"}')
        == counts["neural_operations_total:retrieval"]
    )
    for name in ("verification_success_total", "cache_hits_total", "cache_misses_total", "task_completed_total"):
        wait_total(stack, name, counts[name])


def test_nothing_lost_when_collector_is_killed_and_prometheus_restarted(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    stop = threading.Event()
    errors: list[BaseException] = []

    def load() -> None:  # records a known number of operations through the public API
        try:
            while not stop.is_set():
                tick(stack)
        except BaseException as exc:
            errors.append(exc)

    loader = threading.Thread(target=load)
    loader.start()
    try:
        wait_for(lambda: prom_total(stack, "neural_operations_total"), 30, "first data")
        stack.kill9("collector")
        wait_for(lambda: recorded(stack).get("feedback_loop_cycles_total", 0) >= 10, 60, "ticks while collector down")
        stack.start("collector")
        wait_for(lambda: recorded(stack).get("feedback_loop_cycles_total", 0) >= 15, 60, "ticks after restart")
    finally:
        stop.set()
        loader.join(60)
    assert not errors
    total = sum(v for k, v in recorded(stack).items() if k.startswith("neural"))
    wait_total(stack, "neural_operations_total", total, timeout=30)
    wait_total(stack, "feedback_loop_cycles_total", recorded(stack)["feedback_loop_cycles_total"])

    # Prometheus restart: what it stored survives in its TSDB
    before = time.time()
    stack.stop("app")
    stack.stop("prometheus")
    stack.start("prometheus")
    url = stack.config.url("prometheus", "/api/v1/query")
    result = httpx.get(url, params={"query": "sum(neural_operations_total)", "time": f"{before:.3f}"}).json()
    assert float(result["data"]["result"][0]["value"][1]) == total


def test_app_unaffected_while_collector_down(
    make_stack: Callable[..., Stack], capsys: pytest.CaptureFixture[str]
) -> None:
    stack = make_stack()
    url = stack.config.url("app", "/patterns/1")

    def latencies(n: int = 300) -> list[float]:
        out = []
        with httpx.Client() as client:
            for _ in range(n):
                t = time.perf_counter()
                assert client.get(url).status_code == 200  # no error reaches the app's callers
                out.append(time.perf_counter() - t)
        return out

    tick(stack)
    healthy = statistics.median(latencies())
    stack.kill9("collector")
    down = statistics.median(latencies())
    tick(stack, 3)  # recording and export attempts while the collector is gone
    assert httpx.get(stack.config.url("app", "/health")).json()["status"] == "ok"
    with capsys.disabled():
        print(
            f"\n[pipeline] median request latency healthy {healthy * 1e3:.2f} ms, collector down {down * 1e3:.2f} ms"
            f" (ratio {down / healthy:.2f})"
        )
    assert down < healthy * 2 + 0.005  # loose bound; the 10 % target is reported, not asserted

    app = stack.procs["app"]
    started = time.monotonic()
    app.stop(timeout=20)
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(f"[pipeline] app shutdown with the collector down took {elapsed:.2f} s")
    # uvicorn re-raises SIGTERM after its graceful shutdown: -15 with the lifespan completed
    assert app.popen is not None and app.popen.returncode in (0, -15)
    assert "ccmon demo: stopped, metrics flushed" in app.tail()
    assert elapsed < 3.0  # 2 s metrics shutdown bound plus the web server's own stop


def test_shutdown_bounded_with_blackholed_collector() -> None:
    """An endpoint that accepts connections but never answers: shutdown still returns in ~2 s."""
    from otel_ccmon._core import Monitor, build_provider
    from otel_ccmon._recorder import Recorder
    from otel_ccmon._settings import Settings

    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(100)
        port = hole.getsockname()[1]
        settings = Settings(
            exporters=("otlp",),
            otlp_endpoint=f"http://127.0.0.1:{port}",
            export_interval_ms=60_000,
            runtime_metrics=False,
        )
        provider, registry, store = build_provider(settings)
        monitor = Monitor(settings, provider, Recorder(provider.get_meter("t"), settings, store), registry)
        monitor.recorder.add("neural.operations", 5, "learning")
        started = time.monotonic()
        monitor.shutdown()
        elapsed = time.monotonic() - started
    assert elapsed < 2.5, elapsed


# -- vendor-neutral export ------------------------------------------------------------------------
def start_victoria(tmp_path: Path, port: int) -> Proc:
    proc = Proc(
        "victoria-metrics",
        [
            str(bin_dir() / "victoria-metrics"),
            f"-httpListenAddr=127.0.0.1:{port}",
            f"-storageDataPath={tmp_path / 'vm-data'}",
            "-search.latencyOffset=0s",
            "-retentionPeriod=1d",
        ],
        tmp_path / "victoria-metrics.log",
    ).start()
    wait_for(lambda: http_ok(f"http://127.0.0.1:{port}/health"), 30, "victoria-metrics")
    return proc


def vm_series(port: int, name: str) -> list[list[tuple[float, float]]]:
    """Raw (timestamp, value) samples of each series of one family, from /api/v1/export.

    Per series, not summed per timestamp: the app sends an unchanged series only at its refresh
    turn, so a later timestamp may carry one series alone (a per-timestamp sum raced the refresh)."""
    body = httpx.get(f"http://127.0.0.1:{port}/api/v1/export", params={"match[]": name}, timeout=10).text
    rows = [json.loads(line) for line in body.splitlines()]
    return [sorted(zip((t / 1000 for t in r["timestamps"]), r["values"], strict=True)) for r in rows]


def vm_total(port: int, name: str) -> float:
    """The family's total in VictoriaMetrics: each series' latest value, summed."""
    return sum(samples[-1][1] for samples in vm_series(port, name) if samples)


def second_collector(tmp_path: Path) -> tuple[Proc, int, int]:
    otlp, prom, health = free_port(), free_port(), free_port()
    (tmp_path / "c2").mkdir(exist_ok=True)
    proc = Proc(
        "collector-2",
        [str(bin_dir() / "otelcol-ccmon")] + [f"--config={ROOT / 'collector' / part}" for part in COLLECTOR_CONFIGS],
        tmp_path / "collector-2.log",
        {
            "CCMON_OTLP_HTTP_ENDPOINT": f"127.0.0.1:{otlp}",
            "CCMON_OTLP_GRPC_ENDPOINT": f"127.0.0.1:{free_port()}",
            "CCMON_PROMETHEUS_EXPORTER_ENDPOINT": f"127.0.0.1:{prom}",
            "CCMON_COLLECTOR_HEALTH_ENDPOINT": f"127.0.0.1:{health}",
            "CCMON_COLLECTOR_TELEMETRY_PORT": str(free_port()),
            "CCMON_COLLECTOR_STORAGE_DIR": str(tmp_path / "c2"),
        },
    ).start()
    wait_for(lambda: http_ok(f"http://127.0.0.1:{health}/"), 30, "second collector")
    return proc, otlp, prom


def forwarded_total(prom_port: int) -> float:
    from tests.support import parse_prometheus

    text = httpx.get(f"http://127.0.0.1:{prom_port}/metrics").text
    return sum(v for n, _, v in parse_prometheus(text) if n == "neural_operations_total")


def test_vendor_neutral_export_survives_backend_outage(make_stack: Callable[..., Stack], tmp_path: Path) -> None:
    vm_port = free_port()
    vm = start_victoria(tmp_path, vm_port)
    c2, c2_otlp, c2_prom = second_collector(tmp_path)
    stacks: list[Stack] = []
    try:
        stack = make_stack(
            collector_overlays=("forward-otlp.yaml", "remote-write.yaml"),
            collector_env={
                "CCMON_REMOTE_WRITE_URL": f"http://127.0.0.1:{vm_port}/api/v1/write",
                "CCMON_REMOTE_WRITE_INSECURE": "true",
                "CCMON_FORWARD_OTLP_ENDPOINT": f"http://127.0.0.1:{c2_otlp}",
            },
        )
        stacks.append(stack)
        tick(stack, 2)
        total = sum(v for k, v in recorded(stack).items() if k.startswith("neural"))
        wait_for(lambda: vm_total(vm_port, "neural_operations_total") == total, 60, "VM")
        wait_for(lambda: forwarded_total(c2_prom) == total, 60, "OTLP forward")

        # outage of both backends while the app keeps recording
        vm.stop()
        c2.kill9()
        outage_start = time.time()
        for _ in range(6):
            tick(stack)
            time.sleep(0.5)  # pacing of the load: spreads exports over the outage window
        outage_end = time.time()
        total = sum(v for k, v in recorded(stack).items() if k.startswith("neural"))
        vm = start_victoria(tmp_path, vm_port)
        c2 = Proc(c2.name, c2.argv, c2.log_path, c2.env).start()
        wait_for(lambda: vm_total(vm_port, "neural_operations_total") == total, 90, "VM after")
        wait_for(lambda: forwarded_total(c2_prom) == total, 90, "OTLP forward after outage")
        # remote write delivered the samples taken *during* the outage (queued, not skipped)
        series = vm_series(vm_port, "neural_operations_total")
        during = [[v for ts, v in samples if outage_start < ts < outage_end] for samples in series]
        assert any(during), "no samples from the outage window reached VictoriaMetrics"
        assert all(values == sorted(values) for values in during), during  # each counter in order
    finally:
        for stack in stacks:  # the stack first, so its exporters do not log the backends' teardown
            stack.down()
        vm.stop()
        c2.stop()
