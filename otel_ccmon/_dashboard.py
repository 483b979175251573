"""The Grafana dashboard as code (grafana-foundation-sdk), generated from the catalog and the rules.

``python -m otel_ccmon._dashboard`` (``make dashboards``) writes
``grafana/dashboards/otel-ccmon.json``, provisionable as is; a test regenerates it and fails on
any difference. Thresholds come from the alert definitions in ``otel_ccmon._rules`` (one source);
every metric a query uses must exist in the catalog or a known exporter's set (tested).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import bargauge, gauge, heatmap, stat, table, timeseries
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import prometheus as prom
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    Threshold,
    ThresholdsMode,
    ValueMap,
    ValueMappingResult,
    VariableOption,
    VariableRefresh,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from otel_ccmon._rules import BY_NAME

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "grafana" / "dashboards" / "otel-ccmon.json"
UID = "otel-ccmon-overview"
DATASOURCE_UID = "ccmon-prometheus"  # fixed uid of the provisioned Prometheus datasource
DS = DataSourceRef(type_val="prometheus", uid="${datasource}")
J = 'job=~"$job"'
JI = 'job=~"$job",instance=~"$instance"'
RI = "$__rate_interval"


@dataclass(frozen=True)
class P:
    """One panel: kind, title, queries (expr, legend), unit and where its threshold comes from."""

    kind: str  # timeseries | stat | gauge | bargauge | heatmap | table
    title: str
    queries: tuple[tuple[str, str], ...]
    unit: str
    description: str = ""
    alert: str | None = None  # threshold from this alert's definition
    threshold: float | None = None  # a target that is not an alert threshold (e.g. 95 % truth)
    low_is_bad: bool = False  # red below the threshold (rates, ratios) rather than above
    min: float | None = None
    max: float | None = None
    width: int = 8
    mappings: bool = False

    def threshold_value(self) -> float | None:
        if self.alert is not None:
            return BY_NAME[self.alert].threshold
        return self.threshold


@dataclass(frozen=True)
class Row:
    title: str
    panels: tuple[P, ...] = field(default_factory=tuple)


def q(expr: str, legend: str = "") -> tuple[str, str]:
    return (expr, legend)


def quantiles(metric: str, by: str = "", qs: tuple[float, ...] = (0.5, 0.95, 0.99)) -> tuple[tuple[str, str], ...]:
    extra = f", {by}" if by else ""
    return tuple(
        q(
            f"histogram_quantile({x}, sum by (le{extra}) (rate({metric}_bucket{{{J}}}[{RI}])))",
            f"p{round(x * 100)}" + (f" {{{{{by}}}}}" if by else ""),
        )
        for x in qs
    )


ROWS: tuple[Row, ...] = (
    Row(
        "System Overview",
        (
            P(
                "stat",
                "Service Status",
                (q(f"up{{{J}}}", "{{instance}}"),),
                "none",
                "Liveness scrape of the application.",
                mappings=True,
                width=4,
            ),
            P(
                "stat",
                "Neural Operations/sec",
                (q(f"sum(job:neural_operations:rate5m{{{J}}})"),),
                "ops",
                "Target 150K+.",
                "NeuralOperationsDegraded",
                low_is_bad=True,
                width=4,
            ),
            P(
                "stat",
                "Cache Hit Rate",
                (q(f"avg(job_cache_type:cache_hit_ratio:rate5m{{{J}}})"),),
                "percentunit",
                "Target 80%+.",
                "CacheHitRateLow",
                low_is_bad=True,
                width=4,
            ),
            P(
                "stat",
                "Truth Score P95",
                (q(f"max(job:truth_score:p95_rate5m{{{J}}})"),),
                "percentunit",
                "Target 95%+; P0 below 70%.",
                threshold=0.95,
                low_is_bad=True,
                width=4,
            ),
            P(
                "stat",
                "Memory Usage",
                (q(f"max(process_resident_memory_bytes{{{JI}}})"),),
                "bytes",
                "Target under 100 MB.",
                "HighMemoryUsage",
                width=4,
            ),
            P(
                "stat",
                "Firing Alerts",
                (q('count(ALERTS{alertstate="firing"}) or vector(0)'),),
                "none",
                "Includes the always-firing Watchdog.",
                width=4,
            ),
            P(
                "stat",
                "Verification Success Rate",
                (q(f"1 - max(job:verification_failures:ratio_rate15m{{{J}}})"),),
                "percentunit",
                "Target 95%+.",
                threshold=0.95,
                low_is_bad=True,
                width=6,
            ),
            P(
                "gauge",
                "Verification Error Budget Left",
                (q(f"min(job:slo_verification:error_budget_remaining{{{J}}})"),),
                "percentunit",
                "3-day window of a 95% SLO.",
                threshold=0,
                low_is_bad=True,
                min=-1,
                max=1,
                width=6,
            ),
            P(
                "gauge",
                "Retrieval Latency Error Budget Left",
                (q(f"min(job:slo_pattern_retrieval_latency:error_budget_remaining{{{J}}})"),),
                "percentunit",
                "99% under 10 ms, 3-day window.",
                threshold=0,
                low_is_bad=True,
                min=-1,
                max=1,
                width=6,
            ),
            P(
                "stat",
                "Scrape Targets Up",
                (q("sum(up)", "up"), q("count(up)", "total")),
                "none",
                "Targets Prometheus scrapes successfully.",
                width=6,
            ),
        ),
    ),
    Row(
        "Neural System Performance",
        (
            P(
                "timeseries",
                "Neural Operations Rate",
                (
                    q(f"sum(job:neural_operations:rate5m{{{J}}})", "5m average"),
                    q(f"sum(rate(neural_operations_total{{{J}}}[1h]))", "1h average"),
                ),
                "ops",
                "",
                "NeuralOperationsDegraded",
                low_is_bad=True,
                width=12,
            ),
            P(
                "timeseries",
                "Neural Operations by Type",
                (
                    q(
                        f"sum by (operation_type) (job_operation_type:neural_operations:rate5m{{{J}}})",
                        "{{operation_type}}",
                    ),
                ),
                "ops",
                width=12,
            ),
            P(
                "heatmap",
                "Pattern Confidence Distribution",
                (q(f"sum by (le) (increase(pattern_confidence_bucket{{{J}}}[{RI}]))", "{{le}}"),),
                "none",
                "Histogram of confidence scores.",
            ),
            P(
                "timeseries",
                "Average Pattern Confidence",
                (q(f"job:pattern_confidence:avg_rate15m{{{J}}}", "{{job}}"),),
                "percentunit",
                "",
                "PatternConfidenceDeclining",
                low_is_bad=True,
            ),
            P(
                "timeseries",
                "Feedback Loop Cycles",
                (q(f"sum(increase(feedback_loop_cycles_total{{{J}}}[10m]))", "cycles / 10m"),),
                "none",
                "FeedbackLoopStalled fires at 0.",
            ),
            P("timeseries", "Pattern Memory Size", (q(f"sum(pattern_memory_bytes{{{J}}})", "bytes"),), "bytes"),
            P(
                "gauge",
                "Memory Compression Ratio",
                (q(f"avg(memory_compression_ratio{{{J}}})"),),
                "percentunit",
                "Fraction of memory saved.",
                "MemoryCompressionRateLow",
                low_is_bad=True,
                min=0,
                max=1,
            ),
            P(
                "timeseries",
                "Patterns Learned and Reused",
                (
                    q(f"sum by (pattern_type) (rate(patterns_learned_total{{{J}}}[{RI}]))", "learned {{pattern_type}}"),
                    q(f"sum by (pattern_type) (rate(patterns_reused_total{{{J}}}[{RI}]))", "reused {{pattern_type}}"),
                ),
                "ops",
            ),
            P(
                "timeseries",
                "Pattern Extraction Errors",
                (
                    q(
                        f"sum by (error_type) (increase(pattern_extraction_errors_total{{{J}}}[15m])) or vector(0)",
                        "{{error_type}}",
                    ),
                ),
                "none",
            ),
        ),
    ),
    Row(
        "Verification & Truth System",
        (
            P(
                "timeseries",
                "Truth Score Percentiles",
                quantiles("truth_score"),
                "percentunit",
                "",
                "TruthScoreCriticallyLow",
                low_is_bad=True,
                width=12,
            ),
            P(
                "timeseries",
                "Verification Success Rate",
                (q(f"1 - job:verification_failures:ratio_rate15m{{{J}}}", "{{job}}"),),
                "percentunit",
                "",
                threshold=0.95,
                low_is_bad=True,
                width=12,
            ),
            P(
                "stat",
                "Auto Rollbacks (1h)",
                (q(f"sum(increase(auto_rollback_total{{{J}}}[1h])) or vector(0)"),),
                "none",
                "",
                threshold=1,
            ),
            P(
                "bargauge",
                "Agent Reliability",
                (q(f'agent_truth_score{{{J},agent_id=~"$agent_id"}}', "{{agent_id}}"),),
                "percentunit",
                "Latest truth score per agent.",
                "AgentReliabilityLow",
                low_is_bad=True,
                min=0,
                max=1,
            ),
            P(
                "timeseries",
                "Verifications per Second",
                (
                    q(f"sum(rate(verification_success_total{{{J}}}[{RI}]))", "success"),
                    q(f"sum(rate(verification_failures_total{{{J}}}[{RI}])) or vector(0)", "failure"),
                ),
                "ops",
            ),
            P(
                "timeseries",
                "Verification Failures by Reason",
                (q(f"sum by (reason) (rate(verification_failures_total{{{J}}}[{RI}])) or vector(0)", "{{reason}}"),),
                "ops",
            ),
            P(
                "timeseries",
                "Verification SLO Burn (1h error ratio)",
                (q(f"job:slo_verification_errors:ratio_rate1h{{{J}}}", "{{job}}"),),
                "percentunit",
                "Page when both 1h and 5m exceed 14.4 × budget.",
            ),
            P(
                "timeseries",
                "Truth Score by Agent (p50)",
                (
                    q(
                        f'histogram_quantile(0.5, sum by (le, agent_id) (rate(truth_score_bucket{{{J},agent_id=~"$agent_id"}}[{RI}])))',
                        "{{agent_id}}",
                    ),
                ),
                "percentunit",
            ),
        ),
    ),
    Row(
        "Database & Caching",
        (
            P(
                "timeseries",
                "Database Query Duration",
                quantiles("db_query_duration_seconds"),
                "s",
                "",
                "DatabaseSlowQueries",
                width=12,
            ),
            P(
                "table",
                "Slowest Queries (p95)",
                (
                    q(
                        f"histogram_quantile(0.95, sum by (le, query_type, table) (rate(db_query_duration_seconds_bucket{{{J}}}[5m])))"
                    ),
                ),
                "s",
                "",
                "DatabaseSlowQueries",
                width=12,
            ),
            P(
                "timeseries",
                "Cache Performance",
                (
                    q(f"sum(rate(cache_hits_total{{{J}}}[{RI}]))", "hits"),
                    q(f"sum(rate(cache_misses_total{{{J}}}[{RI}]))", "misses"),
                ),
                "ops",
            ),
            P(
                "timeseries",
                "Cache Hit Rate by Cache",
                (q(f"job_cache_type:cache_hit_ratio:rate5m{{{J}}}", "{{cache_type}}"),),
                "percentunit",
                "",
                "CacheHitRateLow",
                low_is_bad=True,
            ),
            P(
                "timeseries",
                "Database Connection Errors",
                (
                    q(
                        f"sum by (error_type) (rate(database_connection_errors_total{{{J}}}[{RI}])) or vector(0)",
                        "{{error_type}}",
                    ),
                ),
                "ops",
                "",
                "DatabaseConnectionFailure",
            ),
            P(
                "timeseries",
                "Pattern Retrieval Performance",
                quantiles("pattern_retrieval_duration_seconds"),
                "s",
                "",
                "PatternRetrievalSlow",
                width=12,
            ),
            P(
                "timeseries",
                "Queries per Second by Type",
                (q(f"sum by (query_type) (rate(db_query_duration_seconds_count{{{J}}}[{RI}]))", "{{query_type}}"),),
                "ops",
                width=12,
            ),
        ),
    ),
    Row(
        "GOAP Planning & Coordination",
        (
            P(
                "timeseries",
                "GOAP Planning Duration",
                quantiles("goap_planning_duration_seconds", qs=(0.5, 0.95)),
                "s",
                "",
                "GOAPPlanningSlowdown",
            ),
            P(
                "gauge",
                "Coordination Efficiency",
                (q(f"avg(coordination_efficiency{{{J}}})"),),
                "percentunit",
                "",
                "AgentCoordinationEfficiency",
                low_is_bad=True,
                min=0,
                max=1,
            ),
            P(
                "gauge",
                "Pattern Reuse Rate",
                (
                    q(
                        f"sum(rate(patterns_reused_total{{{J}}}[5m])) / (sum(rate(patterns_reused_total{{{J}}}[5m])) + sum(rate(patterns_learned_total{{{J}}}[5m])))"
                    ),
                ),
                "percentunit",
                "Reused ÷ (reused + learned).",
                min=0,
                max=1,
            ),
            P(
                "timeseries",
                "Task Completion Rate",
                (q(f"sum by (status) (job_status:task_completed:rate5m{{{J}}})", "{{status}}"),),
                "ops",
            ),
            P("stat", "Active Patterns Count", (q(f"sum(patterns_active{{{J}}})"),), "none"),
            P(
                "stat",
                "Unused Patterns",
                (q(f"sum(patterns_unused{{{J}}})"),),
                "none",
                "",
                "UnusedPatternsAccumulating",
            ),
            P(
                "bargauge",
                "Agent Task Duration p95",
                (
                    q(
                        f'histogram_quantile(0.95, sum by (le, agent_id) (rate(agent_task_duration_seconds_bucket{{{J},agent_id=~"$agent_id"}}[5m])))',
                        "{{agent_id}}",
                    ),
                ),
                "s",
            ),
            P(
                "timeseries",
                "Background Task Queue",
                (q(f"sum(background_task_queue_length{{{J}}})", "queued"),),
                "none",
                "",
                "BackgroundTaskQueueLength",
            ),
            P(
                "timeseries",
                "Task Failure Ratio",
                (
                    q(
                        f'sum(job_status:task_completed:rate5m{{{J},status="failure"}} or 0 * job_status:task_completed:rate5m{{{J}}}) / sum(job_status:task_completed:rate5m{{{J}}})',
                        "failure ratio",
                    ),
                ),
                "percentunit",
                "",
                "TaskFailureRateHigh",
            ),
        ),
    ),
    Row(
        "System Resources",
        (
            P(
                "timeseries",
                "CPU Usage",
                (q(f"rate(process_cpu_seconds_total{{{JI}}}[{RI}])", "{{job}} {{instance}}"),),
                "percentunit",
                "Share of one CPU.",
                "CPUUsageHigh",
            ),
            P(
                "timeseries",
                "Memory Usage Over Time",
                (q(f"process_resident_memory_bytes{{{JI}}}", "{{job}} {{instance}}"),),
                "bytes",
                "",
                "HighMemoryUsage",
            ),
            P(
                "timeseries",
                "Error Rates by Type",
                (q(f"sum by (error_type) (rate(errors_total{{{J}}}[{RI}]))", "{{error_type}}"),),
                "ops",
            ),
            P(
                "timeseries",
                "GC Pause p99",
                (
                    q(
                        f"histogram_quantile(0.99, sum by (le, generation) (rate(python_gc_duration_seconds_bucket{{{J}}}[5m])))",
                        "gen {{generation}}",
                    ),
                ),
                "s",
            ),
            P(
                "timeseries",
                "Event Loop Lag",
                (q(f"python_eventloop_lag_seconds{{{JI}}}", "{{job}} {{instance}}"),),
                "s",
                "",
                "EventLoopLagHigh",
            ),
            P(
                "gauge",
                "Disk Space Available (/)",
                (
                    q(
                        'min(node_filesystem_avail_bytes{mountpoint="/",fstype!~"tmpfs|overlay"} / node_filesystem_size_bytes{mountpoint="/",fstype!~"tmpfs|overlay"})'
                    ),
                ),
                "percentunit",
                "",
                "LowDiskSpace",
                low_is_bad=True,
                min=0,
                max=1,
            ),
            P(
                "timeseries",
                "Dropped Measurements",
                (
                    q(
                        f"sum by (metric, reason) (increase(ccmon_dropped_measurements_total{{{J}}}[1h])) or vector(0)",
                        "{{metric}} {{reason}}",
                    ),
                ),
                "none",
                "Invalid input rejected by otel_ccmon.",
            ),
            P(
                "timeseries",
                "Pattern Memory Growth per Day",
                (q(f"deriv(pattern_memory_bytes{{{J}}}[1h]) * 86400", "{{job}}"),),
                "bytes",
                "",
                "PatternMemoryGrowth",
            ),
        ),
    ),
    Row(
        "HTTP",
        (
            P(
                "timeseries",
                "Request Rate by Route",
                (
                    q(
                        f"sum by (http_route) (rate(http_server_request_duration_seconds_count{{{J}}}[{RI}]))",
                        "{{http_route}}",
                    ),
                ),
                "reqps",
            ),
            P(
                "timeseries",
                "Server Error Ratio",
                (q(f"job:http_server_errors:ratio_rate5m{{{J}}}", "{{job}}"),),
                "percentunit",
                "",
                "HTTPErrorRateHigh",
            ),
            P(
                "timeseries",
                "Request Duration p95 by Route",
                (
                    q(
                        f"histogram_quantile(0.95, sum by (le, http_route) (rate(http_server_request_duration_seconds_bucket{{{J}}}[{RI}])))",
                        "{{http_route}}",
                    ),
                ),
                "s",
            ),
            P(
                "bargauge",
                "Responses by Status Code",
                (
                    q(
                        f"sum by (http_response_status_code) (increase(http_server_request_duration_seconds_count{{{J}}}[1h]))",
                        "{{http_response_status_code}}",
                    ),
                ),
                "none",
            ),
        ),
    ),
    Row(
        "Pipeline Health",
        (
            P(
                "timeseries",
                "Collector Points Received",
                (
                    q(f"sum(rate(otelcol_receiver_accepted_metric_points[{RI}]))", "accepted"),
                    q(f"sum(rate(otelcol_receiver_refused_metric_points[{RI}])) or vector(0)", "refused"),
                ),
                "ops",
                "OTelCollectorRefusingPoints fires on any refusal.",
            ),
            P(
                "timeseries",
                "Collector Points Sent",
                (
                    q(f"sum by (exporter) (rate(otelcol_exporter_sent_metric_points[{RI}]))", "sent {{exporter}}"),
                    q(
                        f"sum by (exporter) (rate(otelcol_exporter_send_failed_metric_points[{RI}])) or vector(0)",
                        "failed {{exporter}}",
                    ),
                ),
                "ops",
                "OTelCollectorExportFailing fires on any failure.",
            ),
            P(
                "timeseries",
                "Exporter Queue Usage",
                (
                    q(
                        "max by (exporter) (otelcol_exporter_queue_size / otelcol_exporter_queue_capacity) or vector(0)",
                        "{{exporter}}",
                    ),
                ),
                "percentunit",
                "",
                "OTelCollectorQueueNearlyFull",
            ),
            P(
                "bargauge",
                "Scrape Health",
                (q("up", "{{job}} {{instance}}"),),
                "none",
                "1 = scraped, 0 = down.",
                min=0,
                max=1,
                mappings=True,
            ),
            P(
                "timeseries",
                "Rule Evaluation Failures",
                (q(f"sum(rate(prometheus_rule_evaluation_failures_total[{RI}]))", "failures/s"),),
                "ops",
            ),
            P(
                "timeseries",
                "Notification Failures",
                (
                    q(
                        f"sum(rate(prometheus_notifications_errors_total[{RI}])) or vector(0)",
                        "Prometheus → Alertmanager",
                    ),
                    q(
                        f"sum by (integration) (rate(alertmanager_notifications_failed_total[{RI}]))",
                        "Alertmanager {{integration}}",
                    ),
                ),
                "ops",
                "Any failure fires an alert.",
            ),
            P(
                "bargauge",
                "Firing Alerts by Severity",
                (q('count by (severity) (ALERTS{alertstate="firing"})', "{{severity}}"),),
                "none",
            ),
            P("timeseries", "Collector Memory", (q("otelcol_process_memory_rss", "{{instance}}"),), "bytes"),
        ),
    ),
)


def panels() -> list[tuple[str, P]]:
    """Every data panel with its row title, in dashboard order."""
    return [(row.title, p) for row in ROWS for p in row.panels]


def _thresholds(p: P) -> dash.ThresholdsConfig:
    value = p.threshold_value()
    ok, bad = "green", "red"
    steps = [Threshold(value=None, color=bad if p.low_is_bad else ok)]
    if value is not None:
        steps.append(Threshold(value=value, color=ok if p.low_is_bad else bad))
    return dash.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(steps)


def _targets(p: P) -> list[prom.Dataquery]:
    out = []
    for i, (expr, legend) in enumerate(p.queries):
        target = prom.Dataquery().expr(expr).ref_id(chr(ord("A") + i)).datasource(DS)
        if legend:
            target = target.legend_format(legend)
        if p.kind == "heatmap":
            target = target.format(PromQueryFormat.HEATMAP)
        if p.kind == "table":
            target = target.format(PromQueryFormat.TABLE).instant()
        out.append(target)
    return out


_UP_DOWN = [
    ValueMap(
        options={
            "0": ValueMappingResult(text="DOWN", color="red"),
            "1": ValueMappingResult(text="UP", color="green"),
        }
    )
]


def build_panel(p: P, panel_id: int) -> Any:
    builders: dict[str, Any] = {
        "timeseries": timeseries.Panel,
        "stat": stat.Panel,
        "gauge": gauge.Panel,
        "bargauge": bargauge.Panel,
        "heatmap": heatmap.Panel,
        "table": table.Panel,
    }
    panel = builders[p.kind]().id(panel_id).title(p.title).datasource(DS).height(8).span(p.width)
    if p.description:
        panel = panel.description(p.description)
    for target in _targets(p):
        panel = panel.with_target(target)
    panel = panel.unit(p.unit)
    if p.kind != "heatmap":  # a heatmap colours by density, not by thresholds
        panel = panel.thresholds(_thresholds(p))
        if p.min is not None:
            panel = panel.min(p.min)
        if p.max is not None:
            panel = panel.max(p.max)
        if p.mappings:
            panel = panel.mappings(_UP_DOWN)
    if p.kind == "timeseries" and p.threshold_value() is not None:
        panel = panel.thresholds_style(dash_threshold_style())
    return panel


def dash_threshold_style() -> Any:
    from grafana_foundation_sdk.builders.common import GraphThresholdsStyleConfig
    from grafana_foundation_sdk.models.common import GraphThresholdsStyleMode

    return GraphThresholdsStyleConfig().mode(GraphThresholdsStyleMode.LINE)


def _variables() -> list[Any]:
    ds_ref = DataSourceRef(type_val="prometheus", uid="${datasource}")
    default_ds = VariableOption(selected=True, text="Prometheus", value=DATASOURCE_UID)
    return [
        dash.DatasourceVariable("datasource").label("Data source").type("prometheus").current(default_ds),
        dash.QueryVariable("job")
        .label("Service")
        .datasource(ds_ref)
        .query("label_values(target_info, job)")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .multi(True)
        .include_all(True)
        .all_value(".*"),
        dash.QueryVariable("instance")
        .label("Instance")
        .datasource(ds_ref)
        .query('label_values(target_info{job=~"$job"}, instance)')
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .multi(True)
        .include_all(True)
        .all_value(".*"),
        dash.QueryVariable("agent_id")
        .label("Agent")
        .datasource(ds_ref)
        .query('label_values(agent_truth_score{job=~"$job"}, agent_id)')
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .multi(True)
        .include_all(True)
        .all_value(".*"),
    ]


def build() -> dict[str, Any]:
    """The dashboard model as a JSON-ready dict (what Grafana's file provisioning reads)."""
    builder = (
        dash.Dashboard("otel-ccmon: Agent System Overview")
        .uid(UID)
        .tags(["otel-ccmon", "agents", "opentelemetry"])
        .description("Neural system, verification, database, GOAP, resources, HTTP and pipeline health.")
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("browser")
        .editable()
    )
    for variable in _variables():
        builder = builder.with_variable(variable)
    panel_id = 1
    for row in ROWS:
        builder = builder.with_row(dash.Row(row.title).id(panel_id))
        panel_id += 1
        for p in row.panels:
            builder = builder.with_panel(build_panel(p, panel_id))
            panel_id += 1
    model: dict[str, Any] = json.loads(JSONEncoder(sort_keys=True, indent=2).encode(builder.build()))
    return model


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


def main() -> None:
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(panels())} data panels)")


if __name__ == "__main__":
    main()
