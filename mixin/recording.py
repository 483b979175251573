"""Recording rules (level:metric:operations). Alerts and dashboards use these names."""

from __future__ import annotations

from mixin.model import Recording, zero_safe_ratio

RECORDING: tuple[Recording, ...] = (
    Recording(
        record="job:neural_operations:rate5m", expr="sum by (job) (rate(neural_operations_total[5m]))", group="neural"
    ),
    Recording(
        record="job_operation_type:neural_operations:rate5m",
        expr="sum by (job, operation_type) (rate(neural_operations_total[5m]))",
        group="neural",
    ),
    Recording(
        record="job:pattern_confidence:avg_rate15m",
        expr="sum by (job) (rate(pattern_confidence_sum[15m])) / sum by (job) (rate(pattern_confidence_count[15m]))",
        group="neural",
    ),
    Recording(
        record="job:pattern_retrieval_duration_seconds:p95_rate5m",
        expr="histogram_quantile(0.95, sum by (job, le) (rate(pattern_retrieval_duration_seconds_bucket[5m])))",
        group="neural",
    ),
    Recording(
        record="job:truth_score:p95_rate5m",
        expr="histogram_quantile(0.95, sum by (job, le) (rate(truth_score_bucket[5m])))",
        group="verification",
    ),
    Recording(
        record="job:verification_failures:ratio_rate15m",
        expr=zero_safe_ratio(
            "sum by (job) (rate(verification_failures_total[15m]))",
            "sum by (job) (rate(verification_success_total[15m]))",
        ),
        group="verification",
    ),
    Recording(
        record="job:db_query_duration_seconds:p95_rate5m",
        expr="histogram_quantile(0.95, sum by (job, le) (rate(db_query_duration_seconds_bucket[5m])))",
        group="database",
    ),
    Recording(
        record="job_cache_type:cache_hit_ratio:rate5m",
        expr="sum by (job, cache_type) (rate(cache_hits_total[5m])) / (sum by (job, cache_type) (rate(cache_hits_total[5m]))"
        " + sum by (job, cache_type) (rate(cache_misses_total[5m])))",
        group="database",
    ),
    Recording(
        record="job:goap_planning_duration_seconds:p95_rate5m",
        expr="histogram_quantile(0.95, sum by (job, le) (rate(goap_planning_duration_seconds_bucket[5m])))",
        group="goap",
    ),
    Recording(
        record="job_status:task_completed:rate5m",
        expr="sum by (job, status) (rate(task_completed_total[5m]))",
        group="goap",
    ),
    Recording(
        record="job:http_server_errors:ratio_rate5m",
        expr='(sum by (job) (rate(http_server_request_duration_seconds_count{http_response_status_code=~"5.."}[5m]))'
        " or 0 * sum by (job) (rate(http_server_request_duration_seconds_count[5m])))"
        " / sum by (job) (rate(http_server_request_duration_seconds_count[5m]))",
        group="http",
    ),
)
