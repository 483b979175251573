"""Contract: the demo app, run as a real process, exposes every catalog metric on /metrics."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx

from otel_ccmon import _catalog as cat
from otel_ccmon._catalog import Kind
from tests.demo_driver import exercise
from tests.support import ROOT, Procs, families, free_port, http_ok, parse_prometheus, venv_bin, wait_for, wait_for_text

SCOPE_LABELS = {"otel_scope_name", "otel_scope_version", "otel_scope_schema_url"}


def start_demo(procs: Procs, tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> str:
    port = free_port()
    procs.start(
        "demo",
        [venv_bin("ccmon"), "demo", "--port", str(port), "--tick", "0", "--db", str(tmp_path / "demo.sqlite"), *extra],
        env={"OTEL_METRICS_EXPORTER": "prometheus", **(env or {})},
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: http_ok(base + "/health"), 30, "demo app /health")
    return base


def test_every_catalog_metric_on_metrics(procs: Procs, tmp_path: Path) -> None:
    base = start_demo(procs, tmp_path)
    exercise(base)
    # the event-loop probe reports after its first interval
    text = wait_for_text(base + "/metrics", "python_eventloop_lag_seconds", 15, "loop lag")
    fams = families(text)
    samples = list(parse_prometheus(text))
    for spec in cat.CATALOG:
        if spec.source in (cat.Source.RECEIVER, cat.Source.GENAI):
            continue  # the receiver's own metrics: tests/test_receiver.py; model calls: tests/integration/test_genai.py
        expected_type = {Kind.COUNTER: "counter", Kind.GAUGE: "gauge", Kind.HISTOGRAM: "histogram"}[spec.kind]
        assert fams.get(spec.prom_name) == expected_type, spec.prom_name
        mine = [(n, labels) for n, labels, _ in samples if n in spec.prom_series_names]
        assert mine, spec.prom_name
        for name, labels in mine:
            keys = set(labels) - SCOPE_LABELS - {"le"}
            assert keys <= spec.prom_label_keys, (name, keys)
            for attr in spec.attributes:
                if attr.allowed is not None and attr.key in labels:
                    assert labels[attr.key] in attr.allowed, (name, labels)
        if spec.kind is Kind.HISTOGRAM:
            les = {float(labels["le"]) for n, labels in mine if n.endswith("_bucket")}
            assert les == {float(b) for b in spec.buckets or ()} | {float("inf")}, spec.prom_name


def test_counter_values_match_what_the_app_recorded(procs: Procs, tmp_path: Path) -> None:
    base = start_demo(procs, tmp_path)
    for _ in range(3):
        httpx.post(base + "/tick", timeout=30).raise_for_status()
    recorded = httpx.get(base + "/recorded").json()
    values: dict[str, float] = {}
    for name, labels, value in parse_prometheus(httpx.get(base + "/metrics").text):
        if name == "neural_operations_total":
            values[f"{name}:{labels['operation_type']}"] = value
        elif name.endswith("_total") and not name.startswith(("process_", "ccmon_")):
            values[name] = values.get(name, 0) + value
    for key, count in recorded.items():
        assert values.get(key) == count, key
    assert recorded["neural_operations_total:retrieval"] == round(172_000 * 0.6) * 3


def test_http_metrics_use_route_templates(procs: Procs, tmp_path: Path) -> None:
    base = start_demo(procs, tmp_path)
    for i in range(5):
        httpx.get(f"{base}/patterns/{1000 + i}")
    httpx.get(base + "/health")
    text = httpx.get(base + "/metrics").text
    routes = {
        labels.get("http_route")
        for name, labels, _ in parse_prometheus(text)
        if name == "http_server_request_duration_seconds_count"
    }
    assert "/patterns/{pattern_id}" in routes
    assert not any(r and r.startswith("/patterns/1") for r in routes)
    assert "/health" not in routes and "/metrics" not in routes  # excluded, anchored


def test_demo_rejects_unknown_fault_flag() -> None:
    import subprocess

    result = subprocess.run(
        [venv_bin("ccmon"), "demo", "--fault", "meteor"], capture_output=True, text=True, timeout=60, env=os.environ
    )
    assert result.returncode == 2 and "unknown fault" in result.stderr


def test_instrument_wrapper_reports_missing_command() -> None:
    import subprocess

    result = subprocess.run(
        [venv_bin("ccmon-instrument"), "no-such-command-xyz"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1 and "command not found on PATH: no-such-command-xyz" in result.stderr


def test_autoinstrumentation_subprocess(procs: Procs) -> None:
    app_port, prom_port = free_port(), free_port()
    procs.start(
        "auto",
        [venv_bin("ccmon-instrument"), "uvicorn", "tests.apps.plain_app:app", "--port", str(app_port)],
        env={
            "OTEL_EXPORTER_PROMETHEUS_PORT": str(prom_port),
            "OTEL_SERVICE_NAME": "user-chosen-name",  # the user's environment wins
            "PYTHONPATH": str(ROOT),
            "PATH": f"{Path(venv_bin('python')).parent}{os.pathsep}{os.environ['PATH']}",
        },
    )
    base = f"http://127.0.0.1:{app_port}"
    wait_for(lambda: http_ok(base + "/health"), 30, "auto-instrumented app")
    for i in range(3):
        assert httpx.get(f"{base}/items/{i}").status_code == 200
    started = time.monotonic()
    text = wait_for_text(
        f"http://127.0.0.1:{prom_port}/metrics", "http_server_request_duration_seconds_count", 15, "prometheus endpoint"
    )
    assert time.monotonic() - started < 15
    samples = list(parse_prometheus(text))
    counts = {labels["http_route"]: v for n, labels, v in samples if n == "http_server_request_duration_seconds_count"}
    assert counts == {"/items/{item_id}": 3.0}  # /health excluded
    info = [labels for n, labels, _ in samples if n == "target_info"]
    assert info and info[0]["service_name"] == "user-chosen-name"
    assert any(n == "process_cpu_seconds_total" for n, _, _ in samples)


def test_spec_quickstart_example_runs(procs: Procs) -> None:
    port = free_port()
    root = ROOT
    procs.start(
        "quickstart",
        [venv_bin("uvicorn"), "examples.quickstart:app", "--port", str(port)],
        env={"PYTHONPATH": str(root), "OTEL_METRICS_EXPORTER": "prometheus"},
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: http_ok(base + "/metrics"), 30, "quickstart app")
    assert httpx.get(base + "/patterns").json() == []
    assert httpx.get(base + "/plan/login").json()[0] == "analyse login"
    samples = {
        (n, tuple(sorted((k, v) for k, v in labels.items() if not k.startswith("otel_scope")))): v
        for n, labels, v in parse_prometheus(httpx.get(base + "/metrics").text)
    }
    assert samples[("neural_operations_total", (("operation_type", "learning"),))] == 1
    assert samples[("verification_success_total", (("agent_id", "coder-agent"),))] == 1
    assert samples[("agent_truth_score", (("agent_id", "coder-agent"),))] == 0.97
    assert samples[("db_query_duration_seconds_count", (("query_type", "select"), ("table", "patterns")))] == 1
    assert samples[("goap_planning_duration_seconds_count", (("plan_type", "feature-implementation"),))] == 1
    goap_sum = samples[("goap_planning_duration_seconds_sum", (("plan_type", "feature-implementation"),))]
    assert goap_sum >= 0.01  # the await was timed, not just the coroutine creation
