"""The overview dashboard (``grafana/dashboards/otel-ccmon.json``): the agent system's neural
operations, verification, database, GOAP, resources, HTTP and pipeline health, generated from the
catalog and the rules with the panel module (``mixin.panels``).

``python -m mixin dashboards`` (``make dashboards``) writes it, provisionable as is; a test
regenerates it and fails on any difference; every metric a query uses must exist in the catalog or
a known exporter's set (tested).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mixin.panels import (
    JOB_INSTANCE_MATCH,
    JOB_MATCH,
    RATE_INTERVAL,
    Board,
    Panel,
    Row,
    datasource_variable,
    label_variable,
    quantiles,
    query,
)

OUTPUT = Path("grafana") / "dashboards" / "otel-ccmon.json"
UID = "otel-ccmon-overview"

ROWS: tuple[Row, ...] = (
    Row(
        title="System Overview",
        panels=(
            Panel(
                kind="stat",
                title="Service Status",
                queries=(query(expr=f"up{{{JOB_MATCH}}}", legend="{{instance}}"),),
                unit="none",
                description="Liveness scrape of the application.",
                mappings=True,
                width=4,
            ),
            Panel(
                kind="stat",
                title="Neural Operations/sec",
                queries=(query(expr=f"sum(job:neural_operations:rate5m{{{JOB_MATCH}}})"),),
                unit="ops",
                description="Target 150K+.",
                alert="NeuralOperationsDegraded",
                low_is_bad=True,
                width=4,
            ),
            Panel(
                kind="stat",
                title="Cache Hit Rate",
                queries=(query(expr=f"avg(job_cache_type:cache_hit_ratio:rate5m{{{JOB_MATCH}}})"),),
                unit="percentunit",
                description="Target 80%+.",
                alert="CacheHitRateLow",
                low_is_bad=True,
                width=4,
            ),
            Panel(
                kind="stat",
                title="Truth Score P95",
                queries=(query(expr=f"max(job:truth_score:p95_rate5m{{{JOB_MATCH}}})"),),
                unit="percentunit",
                description="Target 95%+; P0 below 70%.",
                threshold=0.95,
                low_is_bad=True,
                width=4,
            ),
            Panel(
                kind="stat",
                title="Memory Usage",
                queries=(query(expr=f"max(process_resident_memory_bytes{{{JOB_INSTANCE_MATCH}}})"),),
                unit="bytes",
                description="Target under 100 MB.",
                alert="HighMemoryUsage",
                width=4,
            ),
            Panel(
                kind="stat",
                title="Firing Alerts",
                queries=(query(expr='count(ALERTS{alertstate="firing"}) or vector(0)'),),
                unit="none",
                description="Includes the always-firing Watchdog.",
                width=4,
            ),
            Panel(
                kind="stat",
                title="Verification Success Rate",
                queries=(query(expr=f"1 - max(job:verification_failures:ratio_rate15m{{{JOB_MATCH}}})"),),
                unit="percentunit",
                description="Target 95%+.",
                threshold=0.95,
                low_is_bad=True,
                width=6,
            ),
            Panel(
                kind="gauge",
                title="Verification Error Budget Left",
                queries=(query(expr=f"min(job:slo_verification:error_budget_remaining{{{JOB_MATCH}}})"),),
                unit="percentunit",
                description="3-day window of a 95% SLO.",
                threshold=0,
                low_is_bad=True,
                min=-1,
                max=1,
                width=6,
            ),
            Panel(
                kind="gauge",
                title="Retrieval Latency Error Budget Left",
                queries=(query(expr=f"min(job:slo_pattern_retrieval_latency:error_budget_remaining{{{JOB_MATCH}}})"),),
                unit="percentunit",
                description="99% under 10 ms, 3-day window.",
                threshold=0,
                low_is_bad=True,
                min=-1,
                max=1,
                width=6,
            ),
            Panel(
                kind="stat",
                title="Scrape Targets Up",
                queries=(query(expr="sum(up)", legend="up"), query(expr="count(up)", legend="total")),
                unit="none",
                description="Targets Prometheus scrapes successfully.",
                width=6,
            ),
        ),
    ),
    Row(
        title="Neural System Performance",
        panels=(
            Panel(
                kind="timeseries",
                title="Neural Operations Rate",
                queries=(
                    query(expr=f"sum(job:neural_operations:rate5m{{{JOB_MATCH}}})", legend="5m average"),
                    query(expr=f"sum(rate(neural_operations_total{{{JOB_MATCH}}}[1h]))", legend="1h average"),
                ),
                unit="ops",
                description="",
                alert="NeuralOperationsDegraded",
                low_is_bad=True,
                width=12,
            ),
            Panel(
                kind="timeseries",
                title="Neural Operations by Type",
                queries=(
                    query(
                        expr=f"sum by (operation_type) (job_operation_type:neural_operations:rate5m{{{JOB_MATCH}}})",
                        legend="{{operation_type}}",
                    ),
                ),
                unit="ops",
                width=12,
            ),
            Panel(
                kind="heatmap",
                title="Pattern Confidence Distribution",
                queries=(
                    query(
                        expr=f"sum by (le) (increase(pattern_confidence_bucket{{{JOB_MATCH}}}[{RATE_INTERVAL}]))",
                        legend="{{le}}",
                    ),
                ),
                unit="none",
                description="Histogram of confidence scores.",
            ),
            Panel(
                kind="timeseries",
                title="Average Pattern Confidence",
                queries=(query(expr=f"job:pattern_confidence:avg_rate15m{{{JOB_MATCH}}}", legend="{{job}}"),),
                unit="percentunit",
                description="",
                alert="PatternConfidenceDeclining",
                low_is_bad=True,
            ),
            Panel(
                kind="timeseries",
                title="Feedback Loop Cycles",
                queries=(
                    query(expr=f"sum(increase(feedback_loop_cycles_total{{{JOB_MATCH}}}[10m]))", legend="cycles / 10m"),
                ),
                unit="none",
                description="FeedbackLoopStalled fires at 0.",
            ),
            Panel(
                kind="timeseries",
                title="Pattern Memory Size",
                queries=(query(expr=f"sum(pattern_memory_bytes{{{JOB_MATCH}}})", legend="bytes"),),
                unit="bytes",
            ),
            Panel(
                kind="gauge",
                title="Memory Compression Ratio",
                queries=(query(expr=f"avg(memory_compression_ratio{{{JOB_MATCH}}})"),),
                unit="percentunit",
                description="Fraction of memory saved.",
                alert="MemoryCompressionRateLow",
                low_is_bad=True,
                min=0,
                max=1,
            ),
            Panel(
                kind="timeseries",
                title="Patterns Learned and Reused",
                queries=(
                    query(
                        expr=f"sum by (pattern_type) (rate(patterns_learned_total{{{JOB_MATCH}}}[{RATE_INTERVAL}]))",
                        legend="learned {{pattern_type}}",
                    ),
                    query(
                        expr=f"sum by (pattern_type) (rate(patterns_reused_total{{{JOB_MATCH}}}[{RATE_INTERVAL}]))",
                        legend="reused {{pattern_type}}",
                    ),
                ),
                unit="ops",
            ),
            Panel(
                kind="timeseries",
                title="Pattern Extraction Errors",
                queries=(
                    query(
                        expr=f"sum by (error_type) (increase(pattern_extraction_errors_total{{{JOB_MATCH}}}[15m])) or vector(0)",
                        legend="{{error_type}}",
                    ),
                ),
                unit="none",
            ),
        ),
    ),
    Row(
        title="Verification & Truth System",
        panels=(
            Panel(
                kind="timeseries",
                title="Truth Score Percentiles",
                queries=quantiles("truth_score"),
                unit="percentunit",
                description="",
                alert="TruthScoreCriticallyLow",
                low_is_bad=True,
                width=12,
            ),
            Panel(
                kind="timeseries",
                title="Verification Success Rate",
                queries=(query(expr=f"1 - job:verification_failures:ratio_rate15m{{{JOB_MATCH}}}", legend="{{job}}"),),
                unit="percentunit",
                description="",
                threshold=0.95,
                low_is_bad=True,
                width=12,
            ),
            Panel(
                kind="stat",
                title="Auto Rollbacks (1h)",
                queries=(query(expr=f"sum(increase(auto_rollback_total{{{JOB_MATCH}}}[1h])) or vector(0)"),),
                unit="none",
                description="",
                threshold=1,
            ),
            Panel(
                kind="bargauge",
                title="Agent Reliability",
                queries=(query(expr=f'agent_truth_score{{{JOB_MATCH},agent_id=~"$agent_id"}}', legend="{{agent_id}}"),),
                unit="percentunit",
                description="Latest truth score per agent.",
                alert="AgentReliabilityLow",
                low_is_bad=True,
                min=0,
                max=1,
            ),
            Panel(
                kind="timeseries",
                title="Verifications per Second",
                queries=(
                    query(
                        expr=f"sum(rate(verification_success_total{{{JOB_MATCH}}}[{RATE_INTERVAL}]))", legend="success"
                    ),
                    query(
                        expr=f"sum(rate(verification_failures_total{{{JOB_MATCH}}}[{RATE_INTERVAL}])) or vector(0)",
                        legend="failure",
                    ),
                ),
                unit="ops",
            ),
            Panel(
                kind="timeseries",
                title="Verification Failures by Reason",
                queries=(
                    query(
                        expr=f"sum by (reason) (rate(verification_failures_total{{{JOB_MATCH}}}[{RATE_INTERVAL}])) or vector(0)",
                        legend="{{reason}}",
                    ),
                ),
                unit="ops",
            ),
            Panel(
                kind="timeseries",
                title="Verification SLO Burn (1h error ratio)",
                queries=(query(expr=f"job:slo_verification_errors:ratio_rate1h{{{JOB_MATCH}}}", legend="{{job}}"),),
                unit="percentunit",
                description="Page when both 1h and 5m exceed 14.4 × budget.",
            ),
            Panel(
                kind="timeseries",
                title="Truth Score by Agent (p50)",
                queries=(
                    query(
                        expr=f'histogram_quantile(0.5, sum by (le, agent_id) (rate(truth_score_bucket{{{JOB_MATCH},agent_id=~"$agent_id"}}[{RATE_INTERVAL}])))',
                        legend="{{agent_id}}",
                    ),
                ),
                unit="percentunit",
            ),
        ),
    ),
    Row(
        title="Database & Caching",
        panels=(
            Panel(
                kind="timeseries",
                title="Database Query Duration",
                queries=quantiles("db_query_duration_seconds"),
                unit="s",
                description="",
                alert="DatabaseSlowQueries",
                width=12,
            ),
            Panel(
                kind="table",
                title="Slowest Queries (p95)",
                queries=(
                    query(
                        expr=f"histogram_quantile(0.95, sum by (le, query_type, table) (rate(db_query_duration_seconds_bucket{{{JOB_MATCH}}}[5m])))"
                    ),
                ),
                unit="s",
                description="",
                alert="DatabaseSlowQueries",
                width=12,
            ),
            Panel(
                kind="timeseries",
                title="Cache Performance",
                queries=(
                    query(expr=f"sum(rate(cache_hits_total{{{JOB_MATCH}}}[{RATE_INTERVAL}]))", legend="hits"),
                    query(expr=f"sum(rate(cache_misses_total{{{JOB_MATCH}}}[{RATE_INTERVAL}]))", legend="misses"),
                ),
                unit="ops",
            ),
            Panel(
                kind="timeseries",
                title="Cache Hit Rate by Cache",
                queries=(query(expr=f"job_cache_type:cache_hit_ratio:rate5m{{{JOB_MATCH}}}", legend="{{cache_type}}"),),
                unit="percentunit",
                description="",
                alert="CacheHitRateLow",
                low_is_bad=True,
            ),
            Panel(
                kind="timeseries",
                title="Database Connection Errors",
                queries=(
                    query(
                        expr=f"sum by (error_type) (rate(database_connection_errors_total{{{JOB_MATCH}}}[{RATE_INTERVAL}])) or vector(0)",
                        legend="{{error_type}}",
                    ),
                ),
                unit="ops",
                description="",
                alert="DatabaseConnectionFailure",
            ),
            Panel(
                kind="timeseries",
                title="Pattern Retrieval Performance",
                queries=quantiles("pattern_retrieval_duration_seconds"),
                unit="s",
                description="",
                alert="PatternRetrievalSlow",
                width=12,
            ),
            Panel(
                kind="timeseries",
                title="Queries per Second by Type",
                queries=(
                    query(
                        expr=f"sum by (query_type) (rate(db_query_duration_seconds_count{{{JOB_MATCH}}}[{RATE_INTERVAL}]))",
                        legend="{{query_type}}",
                    ),
                ),
                unit="ops",
                width=12,
            ),
        ),
    ),
    Row(
        title="GOAP Planning & Coordination",
        panels=(
            Panel(
                kind="timeseries",
                title="GOAP Planning Duration",
                queries=quantiles("goap_planning_duration_seconds", qs=(0.5, 0.95)),
                unit="s",
                description="",
                alert="GOAPPlanningSlowdown",
            ),
            Panel(
                kind="gauge",
                title="Coordination Efficiency",
                queries=(query(expr=f"avg(coordination_efficiency{{{JOB_MATCH}}})"),),
                unit="percentunit",
                description="",
                alert="AgentCoordinationEfficiency",
                low_is_bad=True,
                min=0,
                max=1,
            ),
            Panel(
                kind="gauge",
                title="Pattern Reuse Rate",
                queries=(
                    query(
                        expr=f"sum(rate(patterns_reused_total{{{JOB_MATCH}}}[5m])) / (sum(rate(patterns_reused_total{{{JOB_MATCH}}}[5m])) + sum(rate(patterns_learned_total{{{JOB_MATCH}}}[5m])))"
                    ),
                ),
                unit="percentunit",
                description="Reused ÷ (reused + learned).",
                min=0,
                max=1,
            ),
            Panel(
                kind="timeseries",
                title="Task Completion Rate",
                queries=(
                    query(
                        expr=f"sum by (status) (job_status:task_completed:rate5m{{{JOB_MATCH}}})", legend="{{status}}"
                    ),
                ),
                unit="ops",
            ),
            Panel(
                kind="stat",
                title="Active Patterns Count",
                queries=(query(expr=f"sum(patterns_active{{{JOB_MATCH}}})"),),
                unit="none",
            ),
            Panel(
                kind="stat",
                title="Unused Patterns",
                queries=(query(expr=f"sum(patterns_unused{{{JOB_MATCH}}})"),),
                unit="none",
                description="",
                alert="UnusedPatternsAccumulating",
            ),
            Panel(
                kind="bargauge",
                title="Agent Task Duration p95",
                queries=(
                    query(
                        expr=f'histogram_quantile(0.95, sum by (le, agent_id) (rate(agent_task_duration_seconds_bucket{{{JOB_MATCH},agent_id=~"$agent_id"}}[5m])))',
                        legend="{{agent_id}}",
                    ),
                ),
                unit="s",
            ),
            Panel(
                kind="timeseries",
                title="Background Task Queue",
                queries=(query(expr=f"sum(background_task_queue_length{{{JOB_MATCH}}})", legend="queued"),),
                unit="none",
                description="",
                alert="BackgroundTaskQueueLength",
            ),
            Panel(
                kind="timeseries",
                title="Task Failure Ratio",
                queries=(
                    query(
                        expr=f'sum(job_status:task_completed:rate5m{{{JOB_MATCH},status="failure"}} or 0 * job_status:task_completed:rate5m{{{JOB_MATCH}}}) / sum(job_status:task_completed:rate5m{{{JOB_MATCH}}})',
                        legend="failure ratio",
                    ),
                ),
                unit="percentunit",
                description="",
                alert="TaskFailureRateHigh",
            ),
        ),
    ),
    Row(
        title="System Resources",
        panels=(
            Panel(
                kind="timeseries",
                title="CPU Usage",
                queries=(
                    query(
                        expr=f"rate(process_cpu_seconds_total{{{JOB_INSTANCE_MATCH}}}[{RATE_INTERVAL}])",
                        legend="{{job}} {{instance}}",
                    ),
                ),
                unit="percentunit",
                description="Share of one CPU.",
                alert="CPUUsageHigh",
            ),
            Panel(
                kind="timeseries",
                title="Memory Usage Over Time",
                queries=(
                    query(expr=f"process_resident_memory_bytes{{{JOB_INSTANCE_MATCH}}}", legend="{{job}} {{instance}}"),
                ),
                unit="bytes",
                description="",
                alert="HighMemoryUsage",
            ),
            Panel(
                kind="timeseries",
                title="Error Rates by Type",
                queries=(
                    query(
                        expr=f"sum by (error_type) (rate(errors_total{{{JOB_MATCH}}}[{RATE_INTERVAL}]))",
                        legend="{{error_type}}",
                    ),
                ),
                unit="ops",
            ),
            Panel(
                kind="timeseries",
                title="GC Pause p99",
                queries=(
                    query(
                        expr=f"histogram_quantile(0.99, sum by (le, generation) (rate(python_gc_duration_seconds_bucket{{{JOB_MATCH}}}[5m])))",
                        legend="gen {{generation}}",
                    ),
                ),
                unit="s",
            ),
            Panel(
                kind="timeseries",
                title="Event Loop Lag",
                queries=(
                    query(expr=f"python_eventloop_lag_seconds{{{JOB_INSTANCE_MATCH}}}", legend="{{job}} {{instance}}"),
                ),
                unit="s",
                description="",
                alert="EventLoopLagHigh",
            ),
            Panel(
                kind="gauge",
                title="Disk Space Available (/)",
                queries=(
                    query(
                        expr='min(node_filesystem_avail_bytes{mountpoint="/",fstype!~"tmpfs|overlay"} / node_filesystem_size_bytes{mountpoint="/",fstype!~"tmpfs|overlay"})'
                    ),
                ),
                unit="percentunit",
                description="",
                alert="LowDiskSpace",
                low_is_bad=True,
                min=0,
                max=1,
            ),
            Panel(
                kind="timeseries",
                title="Dropped Measurements",
                queries=(
                    query(
                        expr=f"sum by (metric, reason) (increase(ccmon_dropped_measurements_total{{{JOB_MATCH}}}[1h])) or vector(0)",
                        legend="{{metric}} {{reason}}",
                    ),
                ),
                unit="none",
                description="Invalid input rejected by otel_ccmon.",
            ),
            Panel(
                kind="timeseries",
                title="Pattern Memory Growth per Day",
                queries=(query(expr=f"deriv(pattern_memory_bytes{{{JOB_MATCH}}}[1h]) * 86400", legend="{{job}}"),),
                unit="bytes",
                description="",
                alert="PatternMemoryGrowth",
            ),
        ),
    ),
    Row(
        title="HTTP",
        panels=(
            Panel(
                kind="timeseries",
                title="Request Rate by Route",
                queries=(
                    query(
                        expr=f"sum by (http_route) (rate(http_server_request_duration_seconds_count{{{JOB_MATCH}}}[{RATE_INTERVAL}]))",
                        legend="{{http_route}}",
                    ),
                ),
                unit="reqps",
            ),
            Panel(
                kind="timeseries",
                title="Server Error Ratio",
                queries=(query(expr=f"job:http_server_errors:ratio_rate5m{{{JOB_MATCH}}}", legend="{{job}}"),),
                unit="percentunit",
                description="",
                alert="HTTPErrorRateHigh",
            ),
            Panel(
                kind="timeseries",
                title="Request Duration p95 by Route",
                queries=(
                    query(
                        expr=f"histogram_quantile(0.95, sum by (le, http_route) (rate(http_server_request_duration_seconds_bucket{{{JOB_MATCH}}}[{RATE_INTERVAL}])))",
                        legend="{{http_route}}",
                    ),
                ),
                unit="s",
            ),
            Panel(
                kind="bargauge",
                title="Responses by Status Code",
                queries=(
                    query(
                        expr=f"sum by (http_response_status_code) (increase(http_server_request_duration_seconds_count{{{JOB_MATCH}}}[1h]))",
                        legend="{{http_response_status_code}}",
                    ),
                ),
                unit="none",
            ),
        ),
    ),
    Row(
        title="Pipeline Health",
        panels=(
            Panel(
                kind="timeseries",
                title="Collector Points Received",
                queries=(
                    query(
                        expr=f"sum(rate(otelcol_receiver_accepted_metric_points[{RATE_INTERVAL}]))", legend="accepted"
                    ),
                    query(
                        expr=f"sum(rate(otelcol_receiver_refused_metric_points[{RATE_INTERVAL}])) or vector(0)",
                        legend="refused",
                    ),
                ),
                unit="ops",
                description="OTelCollectorRefusingPoints fires on any refusal.",
            ),
            Panel(
                kind="timeseries",
                title="Collector Points Sent",
                queries=(
                    query(
                        expr=f"sum by (exporter) (rate(otelcol_exporter_sent_metric_points[{RATE_INTERVAL}]))",
                        legend="sent {{exporter}}",
                    ),
                    query(
                        expr=f"sum by (exporter) (rate(otelcol_exporter_send_failed_metric_points[{RATE_INTERVAL}])) or vector(0)",
                        legend="failed {{exporter}}",
                    ),
                ),
                unit="ops",
                description="OTelCollectorExportFailing fires on any failure.",
            ),
            Panel(
                kind="timeseries",
                title="Exporter Queue Usage",
                queries=(
                    query(
                        expr="max by (exporter) (otelcol_exporter_queue_size / otelcol_exporter_queue_capacity) or vector(0)",
                        legend="{{exporter}}",
                    ),
                ),
                unit="percentunit",
                description="",
                alert="OTelCollectorQueueNearlyFull",
            ),
            Panel(
                kind="bargauge",
                title="Scrape Health",
                queries=(query(expr="up", legend="{{job}} {{instance}}"),),
                unit="none",
                description="1 = scraped, 0 = down.",
                min=0,
                max=1,
                mappings=True,
            ),
            Panel(
                kind="timeseries",
                title="Rule Evaluation Failures",
                queries=(
                    query(
                        expr=f"sum(rate(prometheus_rule_evaluation_failures_total[{RATE_INTERVAL}]))",
                        legend="failures/s",
                    ),
                ),
                unit="ops",
            ),
            Panel(
                kind="timeseries",
                title="Notification Failures",
                queries=(
                    query(
                        expr=f"sum(rate(prometheus_notifications_errors_total[{RATE_INTERVAL}])) or vector(0)",
                        legend="Prometheus → Alertmanager",
                    ),
                    query(
                        expr=f"sum by (integration) (rate(alertmanager_notifications_failed_total[{RATE_INTERVAL}]))",
                        legend="Alertmanager {{integration}}",
                    ),
                ),
                unit="ops",
                description="Any failure fires an alert.",
            ),
            Panel(
                kind="bargauge",
                title="Firing Alerts by Severity",
                queries=(query(expr='count by (severity) (ALERTS{alertstate="firing"})', legend="{{severity}}"),),
                unit="none",
            ),
            Panel(
                kind="timeseries",
                title="Collector Memory",
                queries=(query(expr="otelcol_process_memory_rss", legend="{{instance}}"),),
                unit="bytes",
            ),
        ),
    ),
)


def _variables() -> list[Any]:
    return [
        datasource_variable(),
        label_variable("job", "Service", "label_values(target_info, job)"),
        label_variable("instance", "Instance", 'label_values(target_info{job=~"$job"}, instance)'),
        label_variable("agent_id", "Agent", 'label_values(agent_truth_score{job=~"$job"}, agent_id)'),
    ]


OVERVIEW = Board(
    output=OUTPUT,
    uid=UID,
    title="otel-ccmon: Agent System Overview",
    description="Neural system, verification, database, GOAP, resources, HTTP and pipeline health.",
    tags=("otel-ccmon", "agents", "opentelemetry"),
    rows=ROWS,
    variables=_variables,
)


def panels() -> list[tuple[str, Panel]]:
    """Every data panel of the overview dashboard with its row title, in dashboard order."""
    return OVERVIEW.panels()
