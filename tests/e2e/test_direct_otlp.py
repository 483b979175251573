"""Direct OTLP into Prometheus (its OTLP receiver) versus through the collector: the same app
produces the same series names, types, labels and buckets on both paths.

Documented differences (docs/pipeline.md), both harmless to our rules and panels:
- the collector's prometheus exporter adds the instrumentation scope as ``otel_scope_*`` labels,
  Prometheus's OTLP receiver does not (no rule or panel uses them);
- ``le`` of a whole-number bound is ``"1.0"`` when scraped (Prometheus 3 normalises it) and ``"1"``
  through OTLP: buckets are compared by value, and every ``le`` a rule names is spelled the same
  on both paths.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from otel_ccmon import _catalog as cat
from otel_ccmon._catalog import Kind
from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.procs import free_port, wait_for
from otel_ccmon.devstack.stack import Stack
from tests.demo_driver import exercise
from tests.support import ROOT, Procs, venv_bin

PATHS = {"via-collector": "collector", "via-direct": "prometheus"}
SCOPE_LABELS = {"otel_scope_name", "otel_scope_version", "otel_scope_schema_url"}
TYPES = {Kind.COUNTER: "counter", Kind.GAUGE: "gauge", Kind.HISTOGRAM: "histogram"}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Stack, dict[str, str]]]:
    st = Stack(
        StackConfig.with_free_ports(
            tmp_path / "stack",
            scrape_interval="1s",
            evaluation_interval="1s",
            components=("collector", "prometheus"),
            direct_otlp=True,
        )
    )
    procs = Procs(tmp_path)
    try:
        st.up()
        apps = {}
        for service, path in PATHS.items():
            port = free_port()
            endpoint = (
                st.config.url("otlp_http", "/v1/metrics")
                if path == "collector"
                else st.config.url("prometheus", "/api/v1/otlp/v1/metrics")
            )
            env = {
                "OTEL_SERVICE_NAME": service,
                "OTEL_METRICS_EXPORTER": "otlp",
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": endpoint,
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                "OTEL_METRIC_EXPORT_INTERVAL": "500",
            }
            argv = [venv_bin("ccmon"), "demo", "--port", str(port), "--tick", "0", "--seed", "3"]
            procs.start(service, argv, env)
            apps[service] = f"http://127.0.0.1:{port}"
            wait_for(functools.partial(healthy, apps[service]), 60, f"{service} up")
        yield st, apps
    finally:
        procs.close()
        st.down()


def healthy(url: str) -> bool:
    return httpx.get(url + "/health").status_code == 200


def series(stack: Stack, job: str, names: tuple[str, ...]) -> list[dict[str, str]]:
    return [r["metric"] for r in stack.prom_query(f'{{__name__=~"{"|".join(names)}",job="{job}"}}')]


def shape(rows: list[dict[str, str]]) -> tuple[frozenset[str], frozenset[str], frozenset[float]]:
    """Names, label keys (without job/instance and the scope labels) and bucket bounds (by value)."""
    names = frozenset(r["__name__"] for r in rows)
    keys = frozenset(k for r in rows for k in r) - {"__name__", "job", "instance", "le"} - SCOPE_LABELS
    les = frozenset(float(r["le"]) for r in rows if "le" in r)
    return names, keys, les


def spelled_le(rows: list[dict[str, str]]) -> set[str]:
    return {r["le"] for r in rows if "le" in r}


def metadata_types(stack: Stack, family: str) -> set[str]:
    data: dict[str, Any] = httpx.get(
        stack.config.url("prometheus", "/api/v1/metadata"), params={"metric": family}
    ).json()
    return {m["type"] for m in data["data"].get(family, [])}


def test_same_series_through_collector_and_direct(stack: tuple[Stack, dict[str, str]]) -> None:
    st, apps = stack
    for url in apps.values():
        exercise(url)
    specs = [s for s in cat.CATALOG if s.source in (cat.Source.APP, cat.Source.SELF)]

    def arrived() -> bool:
        return all(series(st, job, s.prom_series_names) for job in PATHS for s in specs if s.kind is not Kind.GAUGE)

    wait_for(arrived, 60, "every app counter and histogram on both paths")
    compared = 0
    for spec in specs:
        via_collector = series(st, "via-collector", spec.prom_series_names)
        direct = series(st, "via-direct", spec.prom_series_names)
        if not via_collector and not direct:
            continue  # a gauge the workload did not set
        assert shape(via_collector) == shape(direct), spec.prom_name
        assert shape(direct)[1] <= spec.prom_label_keys, spec.prom_name
        family = spec.prom_name.removesuffix("_total") if spec.kind is Kind.COUNTER else spec.prom_name
        types = metadata_types(st, family) | metadata_types(st, spec.prom_name)
        assert TYPES[spec.kind] in types, (spec.prom_name, types)
        compared += 1
    assert compared >= 25
    # every `le` a rule selects is spelled the same on both paths
    rules = (ROOT / "prometheus" / "rules" / "recording.yml").read_text() + (
        ROOT / "prometheus" / "rules" / "alerts.yml"
    ).read_text()
    named = set(re.findall(r'le="([0-9.]+)"', rules))
    assert named
    for spec in specs:
        if spec.kind is Kind.HISTOGRAM:
            for le in named & spelled_le(series(st, "via-collector", spec.prom_series_names)):
                assert le in spelled_le(series(st, "via-direct", spec.prom_series_names)), (spec.prom_name, le)
    # the documented differences, and nothing else
    assert any(SCOPE_LABELS & set(r) for r in series(st, "via-collector", ("neural_operations_total",)))
    assert not any(SCOPE_LABELS & set(r) for r in series(st, "via-direct", ("neural_operations_total",)))
    # both paths feed target_info with the app's resource
    assert st.prom_query('target_info{job="via-direct"}') and st.prom_query('target_info{job="via-collector"}')
