"""The benchmark harness runs end to end (smoke mode) and writes every key; timings are not judged."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support import ROOT

REQUIRED = [
    "counter_helper_ns", "counter_otel_ns", "counter_promclient_ns", "counter_promclient_bound_ns",
    "histogram_helper_ns", "histogram_otel_ns", "histogram_promclient_ns", "render_1k_ratio",
    "render_10k_ratio", "fastapi_ratio", "freshness_s", "alert_latency_s", "collector_points_per_s",
    "environment", "targets", "otlp_export_us_per_series_1k", "otlp_export_us_per_series_100k",
    "otlp_export_sdk_us_per_series_100k", "p99_during_export_ratio_10k", "p99_during_export_ratio_100k",
    "collector_guarded_ratio", "collector_bytes_per_active_series", "claude_code_ingest", "claude_code_org",
    "claude_code_org_scraped", "claude_code_org_exact", "claude_code_org_delivered_every_time",
]  # fmt: skip


@pytest.mark.bench
def test_benchmark_smoke_run_writes_every_key() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke"], capture_output=True, text=True, timeout=900, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads((ROOT / "bench" / "out" / "smoke.json").read_text())
    missing = [k for k in REQUIRED if k not in data]
    assert not missing
    assert data["counter_helper_ns"]["median"] > 0 and data["freshness_s"]["p50"] > 0
    assert {"python", "opentelemetry_sdk", "cpu", "cores"} <= set(data["environment"])
    assert "otel-ccmon benchmarks" in result.stdout
    assert data["claude_code_org"]["exact"] and data["claude_code_ingest"]["processor_points_per_cpu_s"] > 0
    # the sizing figures the memory limit is derived from (devstack.sizing): pushed, and scraped beside it
    pushed, scraped = data["claude_code_org"], data["claude_code_org_scraped"]
    assert pushed["memory_limit_mib"] >= 512 and pushed["held_streams"] > 0 and pushed["accepted_points_per_s"] > 0
    assert pushed["delivery"] == "remote write" and pushed["remote_write_sent_points"] > 0
    assert pushed["remote_write_failed_points"] == 0 == pushed["remote_write_refused_requests"]
    assert scraped["exact"] and scraped["delivery"] == "scrape" and scraped["collector_scrape_min_up"] == 1
    assert data["targets"]["claude_code_org_delivered_every_time"]["met"]
    # the long-term part checked its readings against the known totals (raw and downsampled) before timing
    assert data["long_term"]["raw"]["report_90d_s"] > 0 and data["long_term"]["bucket_downsampled"].get("1h_bytes")
