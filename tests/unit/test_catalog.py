"""The catalog is the contract: exact Prometheus names, kinds, labels and buckets."""

from __future__ import annotations

import pytest

from otel_ccmon import _agents
from otel_ccmon import _catalog as cat
from otel_ccmon._catalog import Kind

# The public contract of the spec (issue "Foundation"), written out once more on purpose:
# a change to the catalog that breaks it must fail here.
CONTRACT: dict[str, tuple[Kind, frozenset[str]]] = {
    "neural_operations_total": (Kind.COUNTER, frozenset({"operation_type"})),
    "pattern_confidence": (Kind.HISTOGRAM, frozenset({"pattern_type"})),
    "pattern_memory_bytes": (Kind.GAUGE, frozenset()),
    "memory_compression_ratio": (Kind.GAUGE, frozenset()),
    "feedback_loop_cycles_total": (Kind.COUNTER, frozenset()),
    "patterns_learned_total": (Kind.COUNTER, frozenset({"pattern_type"})),
    "patterns_reused_total": (Kind.COUNTER, frozenset({"pattern_type"})),
    "pattern_extraction_errors_total": (Kind.COUNTER, frozenset({"error_type"})),
    "pattern_retrieval_duration_seconds": (Kind.HISTOGRAM, frozenset()),
    "patterns_active": (Kind.GAUGE, frozenset()),
    "patterns_unused": (Kind.GAUGE, frozenset()),
    "truth_score": (Kind.HISTOGRAM, frozenset({"agent_id"})),
    "verification_success_total": (Kind.COUNTER, frozenset({"agent_id"})),
    "verification_failures_total": (Kind.COUNTER, frozenset({"agent_id", "reason"})),
    "auto_rollback_total": (Kind.COUNTER, frozenset({"reason"})),
    "agent_truth_score": (Kind.GAUGE, frozenset({"agent_id"})),
    "agent_task_duration_seconds": (Kind.HISTOGRAM, frozenset({"agent_id", "task_type"})),
    "db_query_duration_seconds": (Kind.HISTOGRAM, frozenset({"query_type", "table"})),
    "database_connection_errors_total": (Kind.COUNTER, frozenset({"error_type"})),
    "cache_hits_total": (Kind.COUNTER, frozenset({"cache_type"})),
    "cache_misses_total": (Kind.COUNTER, frozenset({"cache_type"})),
    "cache_hit_rate": (Kind.GAUGE, frozenset({"cache_type"})),
    "goap_planning_duration_seconds": (Kind.HISTOGRAM, frozenset({"plan_type"})),
    "coordination_efficiency": (Kind.GAUGE, frozenset()),
    "task_completed_total": (Kind.COUNTER, frozenset({"task_type", "status"})),
    "background_task_queue_length": (Kind.GAUGE, frozenset()),
    "errors_total": (Kind.COUNTER, frozenset({"error_type"})),
}


def test_contract_names_kinds_and_labels() -> None:
    for prom_name, (kind, labels) in CONTRACT.items():
        spec = cat.BY_PROM_NAME[prom_name]
        assert spec.kind is kind, prom_name
        assert spec.prom_label_keys == labels, prom_name


@pytest.mark.parametrize("spec", cat.ALL_METRICS, ids=lambda s: s.prom_name)
def test_prometheus_name_is_what_both_exporters_derive(spec: cat.MetricSpec) -> None:
    if spec not in cat.CLAUDE_CODE_CATALOG:  # Claude Code's metrics only ever pass the collector
        assert cat.prometheus_name(spec.otel_name, spec.unit, spec.kind) == spec.prom_name
    assert cat.prometheus_name(spec.otel_name, spec.unit, spec.kind, via_collector=True) == spec.prom_name


# Claude Code's names as the collector exposes them (observed, NOTES.md §5): written out again
CLAUDE_CODE_CONTRACT = {
    "claude_code_cost_usage_USD_total",
    "claude_code_token_usage_tokens_total",
    "claude_code_active_time_seconds_total",
    "claude_code_session_count_total",
}


def test_claude_code_source() -> None:
    assert {s.prom_name for s in cat.CLAUDE_CODE_CATALOG} >= CLAUDE_CODE_CONTRACT
    for spec in cat.CLAUDE_CODE_CATALOG:
        assert spec.source in (cat.Source.CLAUDE_CODE, cat.Source.CLAUDE_CODE_EVENTS)
        assert "session.id" not in spec.attribute_keys, "sessions are aggregated away (series churn)"
    token_type = next(a for a in cat.BY_OTEL_NAME["claude_code.token.usage"].attributes if a.key == "type")
    assert token_type.allowed == frozenset(cat.TOKEN_TYPES)


def test_names_are_unique_and_dotted() -> None:
    assert len(cat.BY_OTEL_NAME) == len(cat.ALL_METRICS) == len(cat.BY_PROM_NAME)
    for spec in cat.ALL_METRICS:
        assert "." in spec.otel_name or spec.otel_name == "errors", spec.otel_name


def test_buckets() -> None:
    for spec in cat.ALL_METRICS:
        if spec.kind is Kind.HISTOGRAM:
            assert spec.buckets and list(spec.buckets) == sorted(set(spec.buckets)), spec.prom_name
        else:
            assert spec.buckets is None
    assert cat.BY_PROM_NAME["pattern_confidence"].buckets == tuple(round(0.1 * i, 1) for i in range(1, 11))
    # the spec's own words: 0.1 to 0.7 in steps of 0.1, then 0.75 to 1 in steps of 0.05
    steps = (*(round(0.1 * i, 1) for i in range(1, 8)), *(round(0.75 + 0.05 * i, 2) for i in range(6)))
    assert cat.BY_PROM_NAME["truth_score"].buckets == steps
    assert cat.BY_PROM_NAME["goap_planning_duration_seconds"].buckets == (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
    agent = cat.BY_PROM_NAME["agent_task_duration_seconds"].buckets or ()
    assert (agent[0], agent[-1]) == (0.1, 300.0)
    for name in ("pattern_retrieval_duration_seconds", "db_query_duration_seconds"):
        buckets = cat.BY_PROM_NAME[name].buckets or ()
        assert buckets[0] == 0.0005 and buckets[-1] == 1.0 and 0.01 in buckets


def test_ratio_gauges_avoid_the_collector_ratio_suffix() -> None:
    # a unit-"1" gauge would become <name>_ratio through the collector
    for spec in cat.CATALOG:
        if spec.kind is Kind.GAUGE and spec.unit == "1":
            assert spec.prom_name.endswith("ratio"), spec.prom_name


def test_bounded_attributes_have_allowed_values() -> None:
    assert cat.OPERATION_TYPE.allowed == frozenset({"learning", "retrieval", "extraction"})
    assert cat.QUERY_TYPE.allowed == frozenset({"select", "insert", "update", "delete"})
    assert cat.TABLE.allowed == frozenset({"patterns", "embeddings", "trajectories"})
    assert cat.TASK_TYPE.allowed == frozenset({"feature", "bugfix", "refactor"})
    assert cat.STATUS.allowed == frozenset({"success", "failure"})


def test_claude_code_doc_names_every_metric_and_alert() -> None:
    from mixin.alerts_claude_code import CLAUDE_CODE_ALERTS
    from tests.support import ROOT

    doc = (ROOT / "docs" / "claude-code.md").read_text()
    for spec in cat.CLAUDE_CODE_CATALOG:
        assert spec.prom_name in doc, spec.prom_name
    for alert in CLAUDE_CODE_ALERTS:
        assert alert.name in doc, alert.name


def test_claude_code_series_per_developer_is_bounded_and_sizes_the_budget() -> None:
    """Per-developer metrics keep only identity keys, the model and bounded types (issue 20)."""
    from mixin.collector_firewall import (
        CLAUDE_CODE_ORG_STREAMS_PER_TEAM,
        claude_code_series_per_developer,
        claude_code_stream_budget,
        default_budget,
        firewall,
    )
    from mixin.config import ClaudeCodeSettings

    assert claude_code_series_per_developer(1) == 20 and claude_code_series_per_developer(3) == 42
    # per developer: sessions 1, cost M x W, tokens 4 M x W, active time 2, lines 2, commits 1,
    # pull requests 1, event cost M, prompts 1; all of it once per project (issue 21); and the
    # every-agent metrics (issue 32): tokens 4 M, cost M, sessions 1
    m, w, p = 3, 2, 2
    assert claude_code_series_per_developer(m, p, w) == p * (5 * m * w + m + 8 + 5 * m + 1) == 114
    settings = ClaudeCodeSettings(expected_developers=5000, models_per_developer=3, work_contexts_per_developer=1)
    assert claude_code_stream_budget(settings) == 5000 * 42 * 3 // 2 + CLAUDE_CODE_ORG_STREAMS_PER_TEAM * 20
    cfg = firewall()
    services = cfg["processors"]["claudecode"]["services"]
    assert services == ["claude-code", "claude-code-desktop"] == cfg["connectors"]["claudecode_events"]["services"]
    budget = cfg["processors"]["claudecode"]["max_streams"]
    agents = [s for a in _agents.AGENTS for s in a.services if s not in services]
    assert agents == ["gemini-cli", "codex_exec", "codex_tui", "qwen-code"]
    by_service = cfg["processors"]["cardinalityguard"]["max_streams_by_service"]
    # the example application's catalog (mixin/settings.yml): the per-service budget plus its metrics' streams
    invoices = by_service.pop("invoices")
    assert by_service == dict.fromkeys(services + agents, budget)
    assert invoices == f"${{env:CCMON_SERIES_BUDGET:-{default_budget() + 9 + 3 + 1 + 101}}}"
    for spec in cat.CLAUDE_CODE_CATALOG:
        if "user.id" in spec.attribute_keys:
            assert not {"terminal.type", "query_source", "session.id"} & set(spec.attribute_keys), spec.otel_name


def test_documented_events_are_the_connectors() -> None:
    """The catalog's list of Claude Code events (the `event` label's values) is the one the
    collector's connector counts by name, and so are the span names (issue 30: 2.1.332 sends 28
    event names and 10 span names, none counted as other)."""
    import re

    from tests.support import ROOT

    connector = ROOT / "collector" / "claudecodeeventsconnector"
    source = (connector / "deriver.go").read_text()
    block = source.split("var DocumentedEvents = []string{", 1)[1].split("}", 1)[0]
    assert sorted(re.findall(r'"([a-z_]+)"', block)) == sorted(cat.CLAUDE_CODE_EVENTS)
    assert len(cat.CLAUDE_CODE_EVENTS) == 28 + 2  # and api_request_body, api_response_body
    spans = (connector / "spans.go").read_text().split("var spanTypes = map[string]struct{}{", 1)[1].split("\n}", 1)[0]
    assert sorted(re.findall(r'"([a-z_.]+)"', spans)) == sorted(cat.CLAUDE_CODE_SPAN_TYPES)
    assert len(cat.CLAUDE_CODE_SPAN_TYPES) == 10
