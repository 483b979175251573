"""Recording helpers against an InMemoryMetricReader: values, attributes, bad input, caps."""

from __future__ import annotations

import asyncio
import math
from types import ModuleType

import pytest

import otel_ccmon as ccmon
from otel_ccmon import _catalog as cat
from tests.conftest import Reader


def _assert_allowlisted(reader: Reader) -> None:
    for spec in cat.CATALOG:
        for point in reader.points(spec.otel_name):
            keys = set(point.attributes)
            assert keys <= set(spec.attribute_keys), (spec.otel_name, keys)
            for attr in spec.attributes:
                if attr.allowed is not None and attr.key in point.attributes:
                    assert point.attributes[attr.key] in attr.allowed


def test_counters(metrics: Reader) -> None:
    ccmon.record_neural_operation("learning")
    ccmon.record_neural_operation("learning", count=171_999)
    ccmon.record_feedback_cycle()
    ccmon.record_pattern_learned("coordination")
    ccmon.record_pattern_reused("prediction", 3)
    ccmon.record_pattern_extraction_error("parse_error")
    ccmon.record_auto_rollback("low_truth")
    ccmon.record_db_connection_error("timeout")
    ccmon.record_task_completed("feature", "failure")
    ccmon.record_error("ValueError")
    assert metrics.value("neural.operations", operation_type="learning") == 172_000
    assert metrics.value("feedback_loop.cycles") == 1
    assert metrics.value("patterns.learned", pattern_type="coordination") == 1
    assert metrics.value("patterns.reused", pattern_type="prediction") == 3
    assert metrics.value("pattern.extraction.errors", error_type="parse_error") == 1
    assert metrics.value("auto.rollback", reason="low_truth") == 1
    assert metrics.value("database.connection.errors", error_type="timeout") == 1
    assert metrics.value("task.completed", task_type="feature", status="failure") == 1
    assert metrics.value("errors", error_type="ValueError") == 1
    _assert_allowlisted(metrics)


def test_verification_updates_histogram_counters_and_gauge(metrics: Reader) -> None:
    ccmon.record_verification("coder-agent", 0.97, True)
    ccmon.record_verification("coder-agent", 0.5, False, reason="tests_failed")
    ccmon.record_verification("coder-agent", 0.6, False)
    (hist,) = metrics.points("truth.score")
    assert hist.count == 3 and hist.sum == pytest.approx(2.07)
    assert list(hist.explicit_bounds) == list(cat.TRUTH_SCORE_BUCKETS)
    assert metrics.value("verification.success", agent_id="coder-agent") == 1
    assert metrics.value("verification.failures", agent_id="coder-agent", reason="tests_failed") == 1
    assert metrics.value("verification.failures", agent_id="coder-agent", reason="unspecified") == 1
    assert metrics.value("agent.truth_score", agent_id="coder-agent") == 0.6
    _assert_allowlisted(metrics)


def test_cache_hit_rate_is_derived_from_counts(metrics: Reader) -> None:
    for hit in (True, True, True, False):
        ccmon.record_cache_access("patterns", hit)
    ccmon.record_cache_access("embeddings", False)
    assert metrics.value("cache.hits", cache_type="patterns") == 3
    assert metrics.value("cache.misses", cache_type="patterns") == 1
    assert metrics.value("cache.hit_rate", cache_type="patterns") == 0.75
    assert metrics.value("cache.hit_rate", cache_type="embeddings") == 0.0


def test_gauges(metrics: Reader) -> None:
    ccmon.set_pattern_memory(1024)
    ccmon.set_memory_compression_ratio(0.4)
    ccmon.set_coordination_efficiency(0.97)
    ccmon.set_background_queue_length(12)
    ccmon.set_patterns_active(50)
    ccmon.set_patterns_unused(7)
    assert metrics.value("pattern.memory") == 1024
    assert metrics.value("memory.compression.ratio") == 0.4
    assert metrics.value("coordination.efficiency") == 0.97
    assert metrics.value("background_task.queue.length") == 12
    assert metrics.value("patterns.active") == 50
    assert metrics.value("patterns.unused") == 7


def test_timers_sync_async_context_and_decorator(metrics: Reader) -> None:
    assert ccmon.record_db_query("select", "patterns", lambda: 42) == 42

    async def query() -> str:
        await asyncio.sleep(0)
        return "rows"

    assert asyncio.run(ccmon.record_db_query("insert", "embeddings", query)) == "rows"
    with ccmon.record_db_query("update", "trajectories"):
        pass

    @ccmon.record_goap_planning("feature-implementation")
    async def plan() -> list[str]:
        return ["a", "b"]

    assert asyncio.run(plan()) == ["a", "b"]
    assert ccmon.record_agent_task("coder-agent", "bugfix", lambda: 1) == 1
    with ccmon.record_pattern_retrieval():
        pass
    counts = {tuple(sorted(p.attributes.items())): p.count for p in metrics.points("db.query.duration")}
    assert counts == {
        (("query_type", "select"), ("table", "patterns")): 1,
        (("query_type", "insert"), ("table", "embeddings")): 1,
        (("query_type", "update"), ("table", "trajectories")): 1,
    }
    assert metrics.points("goap.planning.duration")[0].count == 1
    assert metrics.points("agent.task.duration")[0].count == 1
    assert metrics.points("pattern.retrieval.duration")[0].count == 1
    assert list(metrics.points("db.query.duration")[0].explicit_bounds) == list(cat.LATENCY_BUCKETS)


def test_timer_records_failure_and_reraises(metrics: Reader) -> None:
    def broken() -> None:
        raise ConnectionRefusedError("db down")

    with pytest.raises(ConnectionRefusedError):
        ccmon.record_db_query("select", "patterns", broken)

    async def bad_plan() -> None:
        raise RuntimeError("no plan")

    with pytest.raises(RuntimeError, match="no plan"):
        asyncio.run(ccmon.record_goap_planning("p", bad_plan))
    assert metrics.value("database.connection.errors", error_type="ConnectionRefusedError") == 1
    assert metrics.value("errors", error_type="ConnectionRefusedError") == 1
    assert metrics.value("errors", error_type="RuntimeError") == 1
    assert metrics.points("db.query.duration")[0].count == 1  # the failed query is still timed


def test_query_errors_are_not_connection_errors(metrics: Reader) -> None:
    with pytest.raises(KeyError):
        ccmon.record_db_query("select", "patterns", lambda: dict[str, int]()["missing"])
    assert metrics.points("database.connection.errors") == []
    assert metrics.value("errors", error_type="KeyError") == 1


BAD_INPUTS = [
    (lambda: ccmon.record_neural_operation("dreaming"), "neural.operations", "unknown_attribute_value"),
    (lambda: ccmon.record_neural_operation("learning", count=-1), "neural.operations", "invalid_value"),
    (lambda: ccmon.record_neural_operation("learning", count=math.inf), "neural.operations", "invalid_value"),  # type: ignore[arg-type]
    (lambda: ccmon.record_verification("a", math.nan, True), "truth.score", "invalid_value"),
    (lambda: ccmon.record_verification("a", 1.5, True), "truth.score", "invalid_value"),
    (lambda: ccmon.record_verification("", 0.9, True), "truth.score", "invalid_attribute"),
    (lambda: ccmon.record_pattern_confidence("coordination", -0.1), "pattern.confidence", "invalid_value"),
    (lambda: ccmon.observe_db_query("select", "users", 0.1), "db.query.duration", "unknown_attribute_value"),
    (lambda: ccmon.set_coordination_efficiency(1.2), "coordination.efficiency", "invalid_value"),
    (lambda: ccmon.set_background_queue_length(-3), "background_task.queue.length", "invalid_value"),
    (lambda: ccmon.record_task_completed("feature", "maybe"), "task.completed", "unknown_attribute_value"),
]


@pytest.mark.parametrize(("call", "metric", "reason"), BAD_INPUTS)
def test_bad_input_is_dropped_and_counted(metrics: Reader, call: object, metric: str, reason: str) -> None:
    call()  # type: ignore[operator]
    assert metrics.value("ccmon.dropped_measurements", metric=metric, reason=reason) == 1
    # nothing was recorded for the bad input itself, and nothing of the good data is lost
    assert metrics.points(metric) == []


@pytest.mark.parametrize(("call", "metric", "reason"), BAD_INPUTS)
def test_bad_input_raises_in_strict_mode(strict_metrics: Reader, call: object, metric: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        call()  # type: ignore[operator]
    assert strict_metrics.points(metric) == []


def test_unbounded_attributes_are_capped(capped_metrics: Reader) -> None:
    for i in range(6):
        ccmon.record_verification(f"agent-{i}", 0.9, True)
    agents = {p.attributes["agent_id"]: p.value for p in capped_metrics.points("verification.success")}
    assert agents == {"agent-0": 1, "agent-1": 1, "agent-2": 1, cat.OVERFLOW_VALUE: 3}
    ccmon.record_verification("agent-1", 0.9, True)  # a known value keeps its own series
    assert capped_metrics.value("verification.success", agent_id="agent-1") == 2


def test_long_ids_are_truncated(metrics: Reader) -> None:
    ccmon.record_error("E" * 1000)
    (point,) = metrics.points("errors")
    assert len(point.attributes["error_type"]) == 128


@pytest.mark.usefixtures("metrics")
def test_initialize_is_idempotent() -> None:
    first = ccmon.initialize_metrics()
    assert ccmon.initialize_metrics() is first
    assert ccmon.configure is ccmon.initialize_metrics


def test_public_api_is_explicit() -> None:
    public = {
        name for name in dir(ccmon) if not name.startswith("_") and not isinstance(getattr(ccmon, name), ModuleType)
    }
    assert set(ccmon.__all__) == public - {"annotations"} | {"__version__"}
