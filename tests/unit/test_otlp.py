"""The direct OTLP encoding of the fast path decodes to exactly what the SDK exporter would send."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.sdk.metrics.export import MetricsData

import otel_ccmon as ccmon
from otel_ccmon import _core
from otel_ccmon._otlp import encode_store, varint
from otel_ccmon._sdk_seam import MergingInMemoryReader
from otel_ccmon._settings import Settings


def normalized(body: bytes) -> dict[tuple[Any, ...], Any]:
    """Points by (resource, scope, metric, attributes): independent of how the request groups them."""
    request = ExportMetricsServiceRequest.FromString(body)
    out: dict[tuple[Any, ...], Any] = {}
    for rm in request.resource_metrics:
        resource = tuple(sorted((kv.key, str(kv.value)) for kv in rm.resource.attributes))
        for sm in rm.scope_metrics:
            scope = (sm.scope.name, sm.scope.version, sm.schema_url)
            for metric in sm.metrics:
                kind = metric.WhichOneof("data")
                data = getattr(metric, kind)
                shape = {k: v for k, v in MessageToDict(data).items() if k != "dataPoints"}
                for point in data.data_points:
                    as_dict = MessageToDict(point)
                    attrs = tuple(sorted((a["key"], str(a["value"])) for a in as_dict.pop("attributes", [])))
                    key = (resource, scope, metric.name, metric.description, metric.unit, kind, attrs)
                    assert key not in out, key
                    out[key] = (shape, as_dict)
    return out


def workload() -> None:
    for i in range(50):
        ccmon.record_neural_operation(("learning", "retrieval", "extraction")[i % 3], count=i + 1)
        ccmon.record_verification(f"agent-{i % 7}", 0.5 + (i % 5) / 10, i % 4 != 0, reason="mismatch")
        ccmon.record_db_query("select", "patterns", lambda: None)
        ccmon.record_goap_planning("tactical", lambda: None)
    ccmon.set_coordination_efficiency(0.93)
    ccmon.set_background_queue_length(7)
    ccmon.record_cache_access("embeddings", hit=True)
    ccmon.record_cache_access("embeddings", hit=False)
    ccmon.set_memory_compression_ratio(0.125)


@pytest.fixture
def fast_reader() -> Iterator[MergingInMemoryReader]:
    _core.reset_for_tests()
    reader = MergingInMemoryReader()
    _core.initialize(Settings(exporters=(), runtime_metrics=False), extra_readers=[reader], set_global=False)
    yield reader
    _core.reset_for_tests()


def test_direct_encoding_equals_the_sdk_encoding(fast_reader: MergingInMemoryReader) -> None:
    workload()
    monitor = _core.current()
    assert monitor is not None and monitor.store is not None
    merged = fast_reader.get_metrics_data()  # SDK metrics + the fast path as SDK points
    assert merged is not None
    expected = normalized(encode_metrics(merged).SerializeToString())

    # the same collection through the direct path: the SDK encodes its part, we encode the cells
    sdk_only = MetricsData(
        resource_metrics=[
            rm.__class__(
                resource=rm.resource,
                scope_metrics=[
                    sm.__class__(
                        scope=sm.scope,
                        metrics=[m for m in sm.metrics if m.name not in {s.otel_name for s in _fast_specs(monitor)}],
                        schema_url=sm.schema_url,
                    )
                    for sm in rm.scope_metrics
                ],
                schema_url=rm.schema_url,
            )
            for rm in merged.resource_metrics
        ]
    )
    now = _time_of(expected)
    direct = encode_metrics(sdk_only).SerializeToString() + encode_store(monitor.store, now)
    got = normalized(direct)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == value, key
    assert len(got) >= 40  # counters, gauges and histograms with several attribute sets
    assert {key[5] for key in got} == {"sum", "gauge", "histogram"}


def _fast_specs(monitor: Any) -> list[Any]:
    return [m.spec for m in monitor.store.metrics if m.cells]


def _time_of(points: dict[tuple[Any, ...], Any]) -> int:
    times = {int(point["timeUnixNano"]) for _, point in points.values()}
    return max(times)


@pytest.mark.usefixtures("fast_reader")
def test_int_and_double_values_keep_their_types() -> None:
    ccmon.record_neural_operation("learning", count=3)  # int
    ccmon.set_coordination_efficiency(0.5)  # double
    monitor = _core.current()
    assert monitor is not None and monitor.store is not None
    points = {key[2]: point for key, (_, point) in normalized(encode_store(monitor.store)).items()}
    assert points["neural.operations"]["asInt"] == "3"
    assert points["coordination.efficiency"]["asDouble"] == 0.5
    assert encode_store(monitor.store)  # cached prefixes are reused on the next export
    assert normalized(encode_store(monitor.store, 1)).keys() == normalized(encode_store(monitor.store, 2)).keys()


@pytest.mark.usefixtures("fast_reader")
def test_nothing_recorded_encodes_to_nothing() -> None:
    monitor = _core.current()
    assert monitor is not None and monitor.store is not None
    assert encode_store(monitor.store) == b""


def test_varint_matches_protobuf() -> None:
    for value in (0, 1, 127, 128, 300, 2**21, 2**35 + 7):
        assert varint(value) == ExportMetricsServiceRequest(resource_metrics=[]).SerializeToString() + _pb_varint(value)


def _pb_varint(value: int) -> bytes:
    from google.protobuf.internal.encoder import _VarintBytes

    result: bytes = _VarintBytes(value)
    return result


def _sent(body: bytes) -> dict[tuple[str, tuple[Any, ...]], dict[str, Any]]:
    return {(key[2], key[6]): point for key, (_, point) in normalized(body).items()}


def _verified_store(every: int, agents: str) -> Any:
    """The current store, refreshing one in ``every`` exports, with a verification per agent."""
    monitor = _core.current()
    assert monitor is not None and monitor.store is not None
    monitor.store.refresh_every = every
    for agent in agents:
        ccmon.record_verification(agent, 0.9, True)
    return monitor.store


@pytest.mark.usefixtures("fast_reader")
def test_unchanged_series_are_refreshed_not_resent_every_export() -> None:
    store = _verified_store(3, "abcdef")
    first = _sent(encode_store(store, 1))
    assert len(first) == 18  # per agent: verifications, the truth score histogram and gauge
    ccmon.record_verification("a", 0.5, False)  # changes a's truth score; a new failure series
    seen: dict[tuple[str, tuple[Any, ...]], list[int]] = {}
    for export in (2, 3, 4):
        for key in _sent(encode_store(store, export)):
            seen.setdefault(key, []).append(export)
    changed = [k for k in seen if ("agent_id", "{'stringValue': 'a'}") in k[1] and k[0] != "verification.success"]
    # what changed goes out in the next export; each unchanged series once in the next three
    assert all(seen[k][0] == 2 for k in changed) and len(changed) == 3
    assert set(seen) == set(first) | set(changed)
    assert all(len(v) == 1 for k, v in seen.items() if k not in changed)
    assert max(len(_sent(encode_store(store, e))) for e in (5, 6, 7)) < len(seen)  # spread, not in one export
    # the refresh strides over the cells in creation order, a list kept beside the dict
    assert all(m.order == list(m.cells.values()) for m in store.metrics)
    # a refresh carries the whole cumulative value
    refreshed = {k: p for e in (8, 9, 10) for k, p in _sent(encode_store(store, e)).items()}
    assert refreshed.keys() == seen.keys()
    assert refreshed[("truth.score", (("agent_id", "{'stringValue': 'a'}"),))]["count"] == "2"
    assert refreshed[("agent.truth_score", (("agent_id", "{'stringValue': 'a'}"),))]["asDouble"] == 0.5
    # after a failed export the next one sends everything
    store.resend_all = True
    assert len(_sent(encode_store(store, 11))) == len(seen)
    assert len(_sent(encode_store(store, 12))) < len(seen)


def test_refresh_follows_the_export_interval() -> None:
    _core.reset_for_tests()
    try:
        settings = Settings(exporters=(), runtime_metrics=False, export_interval_ms=1_000, otlp_refresh_ms=30_000)
        monitor = _core.initialize(settings, set_global=False)
        assert monitor.store is not None and monitor.store.refresh_every == 30
    finally:
        _core.reset_for_tests()
    with pytest.raises(ValueError, match="otlp_refresh_ms"):
        Settings(otlp_refresh_ms=-1)
    assert Settings.from_env({"CCMON_OTLP_REFRESH_MS": "0"}).otlp_refresh_ms == 0


@pytest.mark.usefixtures("fast_reader")
def test_a_failed_export_makes_the_next_send_every_series() -> None:
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    from otel_ccmon._sdk_seam import DirectOtlpExporter

    store = _verified_store(1000, "abc")
    encode_store(store, 1)  # sent once: from now on only changes (and rare refreshes) go out
    assert len(_sent(encode_store(store, 2))) < 9
    # nothing listens on port 9: the request fails and the exporter says so
    exporter = DirectOtlpExporter(OTLPMetricExporter(endpoint="http://127.0.0.1:9/v1/metrics", timeout=1), store)
    ccmon.record_verification("a", 0.1, False)
    assert exporter.export(MetricsData(resource_metrics=[])).name == "FAILURE"
    assert store.resend_all
    assert len(_sent(encode_store(store, 4))) == 10  # everything, the failed export's change included
    assert not store.resend_all
