"""Settings of the mixin: the application job, alert tiers, runbook links, and the metric names
of the exporters that rules and dashboards may use besides the catalog."""

from __future__ import annotations

from collections.abc import Mapping

from otel_ccmon._meta import DEMO_SERVICE_NAME

RUNBOOK_BASE = "https://github.com/otel-ccmon/otel-ccmon/blob/main/docs/runbooks"
APP_JOB = DEMO_SERVICE_NAME
TIER_FOR = {"P0": "2m", "P1": "10m", "P2": "30m", "P3": "1h"}

# Metric names of the exporters our rules and dashboards may reference (besides the catalog).
EXTERNAL_METRICS: Mapping[str, frozenset[str]] = {
    "prometheus-scrape": frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"}),
    "otelcol": frozenset(
        {
            "otelcol_receiver_accepted_metric_points",
            "otelcol_receiver_refused_metric_points",
            "otelcol_receiver_failed_metric_points",
            "otelcol_exporter_sent_metric_points",
            "otelcol_exporter_send_failed_metric_points",
            "otelcol_exporter_queue_size",
            "otelcol_exporter_queue_capacity",
            "otelcol_processor_memory_limiter_refused_metric_points",
            "otelcol_process_memory_rss",
        }
    ),
    "prometheus": frozenset(
        {
            "prometheus_rule_evaluation_failures_total",
            "prometheus_notifications_errors_total",
            "prometheus_notifications_dropped_total",
            "prometheus_notifications_alertmanagers_discovered",
            "prometheus_config_last_reload_successful",
            "ALERTS",
        }
    ),
    "alertmanager": frozenset({"alertmanager_notifications_failed_total", "alertmanager_notifications_total"}),
    "node-exporter": frozenset({"node_filesystem_avail_bytes", "node_filesystem_size_bytes", "node_cpu_seconds_total"}),
}
