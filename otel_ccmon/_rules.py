"""Prometheus rules as code: the one source of recording rules, alerts, their tests and runbooks.

``python -m otel_ccmon._rules`` (``make rules``) writes:

- ``prometheus/rules/recording.yml`` and ``prometheus/rules/alerts.yml``
- ``prometheus/tests/alerts_test.yml``: for every alert, one promtool case just before and one
  just after ``for`` (all labels and annotations asserted) and one healthy case
- ``docs/runbooks/<AlertName>.md``: Meaning, Impact, Diagnosis, Mitigation

A test regenerates all of them and fails on any difference. Dashboards read thresholds and
recording-rule names from here too, so a threshold is written once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
RUNBOOK_BASE = "https://github.com/otel-ccmon/otel-ccmon/blob/main/docs/runbooks"
APP_JOB = "claude-code-app"
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


# -- humanize functions of Prometheus' templates, for the expected annotations in tests -----------
def _g4(v: float) -> str:
    return f"{v:.4g}"


def humanize(v: float) -> str:
    """Prometheus' ``humanize``.

    >>> humanize(172000.0), humanize(0.25)
    ('172k', '250m')
    """
    if v == 0 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    prefixes = ("k", "M", "G", "T", "P", "E", "Z", "Y") if abs(v) >= 1 else ("m", "u", "n", "p", "f", "a", "z", "y")
    prefix = ""
    for p in prefixes:
        if (abs(v) < 1000) if abs(v) >= 1 else (abs(v) >= 1):
            break
        prefix = p
        v = v / 1000 if prefixes[0] == "k" else v * 1000
    return f"{_g4(v)}{prefix}"


def humanize_percentage(v: float) -> str:
    """Prometheus' ``humanizePercentage``.

    >>> humanize_percentage(0.5)
    '50%'
    """
    return f"{_g4(v * 100)}%"


def humanize_1024(v: float) -> str:
    """Prometheus' ``humanize1024``.

    >>> humanize_1024(157286400.0)
    '150Mi'
    """
    if abs(v) <= 1 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    prefix = ""
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(v) < 1024:
            break
        prefix = p
        v /= 1024
    return f"{_g4(v)}{prefix}"


def humanize_duration(v: float) -> str:
    """Prometheus' ``humanizeDuration``.

    >>> humanize_duration(8.0), humanize_duration(0.025), humanize_duration(600.0)
    ('8s', '25ms', '10m 0s')
    """
    if math.isnan(v) or math.isinf(v):
        return _g4(v)
    if v == 0:
        return f"{_g4(v)}s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        d = int(v)
        seconds, minutes, hours, days = d % 60, (d // 60) % 60, (d // 3600) % 24, d // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(v)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return f"{_g4(v)}{prefix}s"


_FILTERS = {
    "humanize": humanize,
    "humanizePercentage": humanize_percentage,
    "humanize1024": humanize_1024,
    "humanizeDuration": humanize_duration,
}


def render_template(template: str, value: float, labels: Mapping[str, str]) -> str:
    """Render the subset of Go templates our annotations use (for promtool expectations).

    >>> render_template("{{ $labels.job }} at {{ $value | humanizePercentage }}", 0.25, {"job": "a"})
    'a at 25%'
    """

    def sub(m: re.Match[str]) -> str:
        expr = m.group(1).strip()
        if expr.startswith("$labels."):
            return labels.get(expr.removeprefix("$labels."), "")
        if expr == "$value":
            return _g4(value) if value != int(value) else str(int(value)) if abs(value) < 1e15 else _g4(value)
        name = expr.removeprefix("$value").strip().removeprefix("|").strip()
        return _FILTERS[name](value)

    return re.sub(r"{{(.*?)}}", sub, template)


# -- definitions --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recording:
    """A recording rule."""

    record: str
    expr: str
    group: str


@dataclass(frozen=True)
class Scenario:
    """A promtool scenario: input series (1-minute steps) that make the alert fire, and healthy ones.

    ``active_from`` is the first evaluation (minutes) at which the expression is true with the
    firing series; ``value`` the expression's value then (for the annotation templates);
    ``labels`` the labels of the alert besides those from the rule.
    """

    firing: Mapping[str, str]
    healthy: Mapping[str, str]
    value: float
    labels: Mapping[str, str]
    active_from: int = 1


@dataclass(frozen=True)
class Alert:
    """An alert with its annotations, runbook text and test scenario."""

    name: str
    severity: str
    component: str
    expr: str
    summary: str
    description: str
    impact: str
    meaning: str
    diagnosis: tuple[str, ...]
    mitigation: tuple[str, ...]
    scenario: Scenario
    for_: str | None = None  # default: the tier's
    threshold: float | None = None  # for dashboards; same number as in expr
    group: str = "application"
    service_label: bool = True

    @property
    def duration(self) -> str:
        return self.for_ if self.for_ is not None else TIER_FOR[self.severity]

    @property
    def runbook_url(self) -> str:
        return f"{RUNBOOK_BASE}/{self.name}.md"

    def labels(self) -> dict[str, str]:
        out = {"severity": self.severity, "component": self.component}
        if self.service_label:
            out["service"] = "{{ $labels.job }}"
        return out

    def annotations(self) -> dict[str, str]:
        return {
            "summary": self.summary,
            "description": self.description,
            "impact": self.impact,
            "runbook_url": self.runbook_url,
        }


def minutes(duration: str) -> int:
    """Whole minutes of a Prometheus duration (``"1h"`` → 60, ``"0s"`` → 0)."""
    total = 0.0
    for number, unit in re.findall(r"(\d+)([smhd])", duration):
        total += int(number) * {"s": 1 / 60, "m": 1, "h": 60, "d": 1440}[unit]
    return math.ceil(total)


J = f'job="{APP_JOB}"'
I_ = 'instance="i1"'
APP = f"{{{J},{I_}"  # opening of an app series' label set in scenarios


def s(name: str, extra: str = "") -> str:
    """An app series selector for scenarios: ``s("x_total", 'a="b"')``."""
    return f"{name}{APP}{',' + extra if extra else ''}}}"


def zero_safe_ratio(bad: str, good: str) -> str:
    """``bad / (bad + good)`` that is 0, not empty, while ``bad`` has no series yet (no failure ever).

    >>> zero_safe_ratio("a", "b")
    '(a or 0 * b) / ((a or 0 * b) + b)'
    """
    safe_bad = f"({bad} or 0 * {good})"
    return f"{safe_bad} / ({safe_bad} + {good})"


# Recording rules (level:metric:operations). Alerts and dashboards use these names.
RECORDING: tuple[Recording, ...] = (
    Recording("job:neural_operations:rate5m", "sum by (job) (rate(neural_operations_total[5m]))", "neural"),
    Recording(
        "job_operation_type:neural_operations:rate5m",
        "sum by (job, operation_type) (rate(neural_operations_total[5m]))",
        "neural",
    ),
    Recording(
        "job:pattern_confidence:avg_rate15m",
        "sum by (job) (rate(pattern_confidence_sum[15m])) / sum by (job) (rate(pattern_confidence_count[15m]))",
        "neural",
    ),
    Recording(
        "job:pattern_retrieval_duration_seconds:p95_rate5m",
        "histogram_quantile(0.95, sum by (job, le) (rate(pattern_retrieval_duration_seconds_bucket[5m])))",
        "neural",
    ),
    Recording(
        "job:truth_score:p95_rate5m",
        "histogram_quantile(0.95, sum by (job, le) (rate(truth_score_bucket[5m])))",
        "verification",
    ),
    Recording(
        "job:verification_failures:ratio_rate15m",
        zero_safe_ratio(
            "sum by (job) (rate(verification_failures_total[15m]))",
            "sum by (job) (rate(verification_success_total[15m]))",
        ),
        "verification",
    ),
    Recording(
        "job:db_query_duration_seconds:p95_rate5m",
        "histogram_quantile(0.95, sum by (job, le) (rate(db_query_duration_seconds_bucket[5m])))",
        "database",
    ),
    Recording(
        "job_cache_type:cache_hit_ratio:rate5m",
        "sum by (job, cache_type) (rate(cache_hits_total[5m])) / (sum by (job, cache_type) (rate(cache_hits_total[5m]))"
        " + sum by (job, cache_type) (rate(cache_misses_total[5m])))",
        "database",
    ),
    Recording(
        "job:goap_planning_duration_seconds:p95_rate5m",
        "histogram_quantile(0.95, sum by (job, le) (rate(goap_planning_duration_seconds_bucket[5m])))",
        "goap",
    ),
    Recording("job_status:task_completed:rate5m", "sum by (job, status) (rate(task_completed_total[5m]))", "goap"),
    Recording(
        "job:http_server_errors:ratio_rate5m",
        '(sum by (job) (rate(http_server_request_duration_seconds_count{http_response_status_code=~"5.."}[5m]))'
        " or 0 * sum by (job) (rate(http_server_request_duration_seconds_count[5m])))"
        " / sum by (job) (rate(http_server_request_duration_seconds_count[5m]))",
        "http",
    ),
)

# SLOs: verification success ≥ 95 %; pattern retrieval ≥ 99 % under 10 ms.
SLO_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
SLOS: Mapping[str, tuple[float, str]] = {
    "verification": (
        0.95,
        zero_safe_ratio(
            "sum by (job) (rate(verification_failures_total[{w}]))",
            "sum by (job) (rate(verification_success_total[{w}]))",
        ),
    ),
    "pattern_retrieval_latency": (
        0.99,
        "(sum by (job) (rate(pattern_retrieval_duration_seconds_count[{w}]))"
        ' - sum by (job) (rate(pattern_retrieval_duration_seconds_bucket{{le="0.01"}}[{w}])))'
        " / sum by (job) (rate(pattern_retrieval_duration_seconds_count[{w}]))",
    ),
}


def slo_recordings() -> tuple[Recording, ...]:
    out = []
    for slo, (objective, template) in SLOS.items():
        for w in SLO_WINDOWS:
            expr = template.format(w=w)
            out.append(Recording(f"job:slo_{slo}_errors:ratio_rate{w}", expr, "slo"))
        out.append(
            Recording(
                f"job:slo_{slo}:error_budget_remaining",
                f"1 - job:slo_{slo}_errors:ratio_rate3d / {1 - objective:.2f}",
                "slo",
            )
        )
    return tuple(out)


# Burn rates: page when 2 % of a 30-day budget burns in 1 h (14.4) or 5 % in 6 h (6); ticket at
# 10 % in 1 d (3) or 10 % in 3 d (1). With a 95 % objective the largest possible burn rate is
# 1 / 0.05 = 20, so 14.4 can fire; with 99 % it is 100.
BURN = {"fast": (("1h", "5m", 14.4), ("6h", "30m", 6.0)), "slow": (("1d", "2h", 3.0), ("3d", "6h", 1.0))}


def burn_expr(slo: str, speed: str) -> str:
    objective = SLOS[slo][0]
    budget = f"{1 - objective:.2f}"
    parts = [
        f"(job:slo_{slo}_errors:ratio_rate{long_} > ({factor} * {budget})"
        f" and job:slo_{slo}_errors:ratio_rate{short} > ({factor} * {budget}))"
        for long_, short, factor in BURN[speed]
    ]
    return " or ".join(parts)


def _counter(rate_per_min: int, minutes_: int = 200) -> str:
    return f"0+{rate_per_min}x{minutes_}"


def _const(value: float, minutes_: int = 200) -> str:
    return f"{value}x{minutes_}"


def _hist(buckets: Mapping[str, int], name: str, extra: str = "", minutes_: int = 200) -> dict[str, str]:
    """Input series of a histogram whose buckets grow by the given counts per minute (cumulative)."""
    out = {}
    for le, per_min in buckets.items():
        sep = "," if extra else ""
        out[f'{name}_bucket{APP},{extra}{sep}le="{le}"}}'] = _counter(per_min, minutes_)
    total = max(buckets.values())
    out[s(f"{name}_count", extra)] = _counter(total, minutes_)
    out[s(f"{name}_sum", extra)] = _counter(total, minutes_)
    return out


UP = 'up{job="claude-code-app",instance="i1"}'
BASE_LABELS = {"job": APP_JOB, "instance": "i1"}
JOB_ONLY = {"job": APP_JOB}

ALERTS: tuple[Alert, ...] = (
    # ---------------------------------------------------------------- P0
    Alert(
        "ServiceDown",
        "P0",
        "availability",
        f'up{{job="{APP_JOB}"}} == 0 or absent(up{{job="{APP_JOB}"}}) == 1',
        "{{ $labels.job }} is down",
        "Prometheus cannot scrape {{ $labels.job }} ({{ $labels.instance }}) for liveness.",
        "The agent system is unavailable: no neural operations, verifications or plans are served.",
        "The liveness scrape of the application failed, or the target is missing.",
        (f'up{{job="{APP_JOB}"}}', "ccmon stack status / docker compose ps app"),
        (
            "Check the process or container and its logs (`var/stack/logs/app.log`, `docker compose logs app`).",
            "Restart it; if it crashes again, roll back the last deployment.",
        ),
        Scenario({UP: "0x30"}, {UP: "1x30"}, 0, BASE_LABELS, active_from=0),
        for_="1m",
    ),
    Alert(
        "DatabaseConnectionFailure",
        "P0",
        "database",
        "sum by (job) (rate(database_connection_errors_total[5m])) > 0.1",
        "{{ $labels.job }} cannot connect to its database",
        "{{ $value | humanize }} connection errors per second over 5 minutes (threshold 0.1/s).",
        "Pattern storage, embeddings and trajectories are unreachable; learning and retrieval fail.",
        "Connection attempts to the database fail at more than 0.1 per second.",
        ("sum by (job, error_type) (rate(database_connection_errors_total[5m]))",),
        ("Check the database process, disk and credentials.", "Fail over to a replica if the primary is gone."),
        Scenario(
            {s("database_connection_errors_total", 'error_type="unable_to_open"'): _counter(60)},
            {s("database_connection_errors_total", 'error_type="unable_to_open"'): _counter(1)},
            0.8,  # 1/s, with the 5m window only 4m full at evaluation (Prometheus' extrapolation)
            JOB_ONLY,
        ),
        threshold=0.1,
    ),
    Alert(
        "TruthScoreCriticallyLow",
        "P0",
        "verification",
        "job:truth_score:p95_rate5m < 0.70",
        "Truth scores of {{ $labels.job }} are critically low",
        "p95 truth score is {{ $value | humanize }} (threshold 0.70).",
        "Verification is failing: agent output cannot be trusted and auto-rollbacks follow.",
        "Even the best 5 % of verifications score below 0.70.",
        (
            "job:truth_score:p95_rate5m",
            "histogram_quantile(0.95, sum by (agent_id, le) (rate(truth_score_bucket[5m])))",
        ),
        ("Find the agents with low scores; pause their deployments.", "Roll back recent model or prompt changes."),
        Scenario(
            _hist({"0.5": 60, "0.6": 60, "0.7": 60, "+Inf": 60}, "truth_score", 'agent_id="coder-agent"'),
            _hist({"0.5": 0, "0.9": 0, "0.95": 60, "+Inf": 60}, "truth_score", 'agent_id="coder-agent"'),
            0.475,  # every observation in the lowest bucket (0, 0.5]: 0.95 × 0.5
            JOB_ONLY,
        ),
        threshold=0.70,
    ),
    # ---------------------------------------------------------------- P1
    Alert(
        "NeuralOperationsDegraded",
        "P1",
        "neural",
        f'job:neural_operations:rate5m < 150000 and on (job) up{{job="{APP_JOB}"}} == 1',
        "Neural operations of {{ $labels.job }} are degraded",
        "{{ $value | humanize }} operations per second (target 150k+).",
        "Learning and retrieval fall behind demand; latency and backlog grow.",
        "The neural system runs below 150,000 operations per second while the service is up.",
        ("job_operation_type:neural_operations:rate5m", "rate(process_cpu_seconds_total[5m])"),
        ("Check CPU saturation and the background queue.", "Scale out workers or shed non-critical load."),
        Scenario(
            {s("neural_operations_total", 'operation_type="learning"'): _counter(6_000_000), UP: "1x200"},
            {s("neural_operations_total", 'operation_type="learning"'): _counter(10_320_000), UP: "1x200"},
            100_000,
            JOB_ONLY,
        ),
        threshold=150_000,
    ),
    Alert(
        "CacheHitRateLow",
        "P1",
        "cache",
        "job_cache_type:cache_hit_ratio:rate5m < 0.80",
        "Cache hit rate of {{ $labels.cache_type }} is low",
        "{{ $value | humanizePercentage }} of {{ $labels.cache_type }} look-ups hit the cache (target 80%).",
        "More queries reach the database; pattern retrieval slows down.",
        "Fewer than 80 % of cache look-ups are hits.",
        ("job_cache_type:cache_hit_ratio:rate5m", "sum by (cache_type) (rate(cache_misses_total[5m]))"),
        ("Check for evictions (cache too small) or a cache flush.", "Warm the cache; raise its size."),
        Scenario(
            {
                s("cache_hits_total", 'cache_type="embeddings"'): _counter(60),
                s("cache_misses_total", 'cache_type="embeddings"'): _counter(60),
            },
            {
                s("cache_hits_total", 'cache_type="embeddings"'): _counter(570),
                s("cache_misses_total", 'cache_type="embeddings"'): _counter(30),
            },
            0.5,
            {"job": APP_JOB, "cache_type": "embeddings"},
        ),
        threshold=0.80,
    ),
    Alert(
        "DatabaseSlowQueries",
        "P1",
        "database",
        "job:db_query_duration_seconds:p95_rate5m > 0.010",
        "Database queries of {{ $labels.job }} are slow",
        "p95 query time is {{ $value | humanizeDuration }} (threshold 10ms).",
        "Pattern retrieval and learning slow down with every query.",
        "The 95th percentile of database query time exceeds 10 ms.",
        (
            "job:db_query_duration_seconds:p95_rate5m",
            "histogram_quantile(0.95, sum by (query_type, table, le) (rate(db_query_duration_seconds_bucket[5m])))",
        ),
        ("Find the slow query type and table; check indexes and locks.", "Check disk latency of the database host."),
        Scenario(
            _hist(
                {"0.005": 0, "0.01": 0, "0.025": 60, "+Inf": 60},
                "db_query_duration_seconds",
                'query_type="select",table="patterns"',
            ),
            _hist(
                {"0.005": 60, "0.01": 60, "0.025": 60, "+Inf": 60},
                "db_query_duration_seconds",
                'query_type="select",table="patterns"',
            ),
            0.02425,
            JOB_ONLY,
        ),
        threshold=0.010,
    ),
    Alert(
        "PatternRetrievalSlow",
        "P1",
        "neural",
        "job:pattern_retrieval_duration_seconds:p95_rate5m > 0.010",
        "Pattern retrieval of {{ $labels.job }} is slow",
        "p95 retrieval time is {{ $value | humanizeDuration }} (target under 10ms).",
        "Agents wait for patterns; the latency SLO burns.",
        "The 95th percentile of pattern retrieval exceeds 10 ms.",
        (
            "job:pattern_retrieval_duration_seconds:p95_rate5m",
            "job:slo_pattern_retrieval_latency:error_budget_remaining",
        ),
        ("Check the cache hit rate and database latency.", "Check pattern memory size and compression."),
        Scenario(
            _hist({"0.005": 0, "0.01": 0, "0.025": 60, "+Inf": 60}, "pattern_retrieval_duration_seconds"),
            _hist({"0.005": 60, "0.01": 60, "0.025": 60, "+Inf": 60}, "pattern_retrieval_duration_seconds"),
            0.02425,
            JOB_ONLY,
        ),
        threshold=0.010,
    ),
    Alert(
        "PatternConfidenceDeclining",
        "P1",
        "neural",
        "job:pattern_confidence:avg_rate15m < 0.7",
        "Pattern confidence of {{ $labels.job }} is declining",
        "Average pattern confidence over 15 minutes is {{ $value | humanize }} (threshold 0.7).",
        "Learned patterns are less reliable; plans and predictions degrade.",
        "The mean confidence of newly scored patterns is below 0.7.",
        (
            "job:pattern_confidence:avg_rate15m",
            "sum by (pattern_type) (rate(pattern_confidence_sum[15m])) / sum by (pattern_type) (rate(pattern_confidence_count[15m]))",
        ),
        ("Check recent training data and feedback-loop health.", "Roll back the last model update if it coincides."),
        Scenario(
            {
                s("pattern_confidence_sum", 'pattern_type="coordination"'): _counter(30),
                s("pattern_confidence_count", 'pattern_type="coordination"'): _counter(60),
            },
            {
                s("pattern_confidence_sum", 'pattern_type="coordination"'): _counter(54),
                s("pattern_confidence_count", 'pattern_type="coordination"'): _counter(60),
            },
            0.5,
            JOB_ONLY,
        ),
        threshold=0.7,
    ),
    Alert(
        "HighMemoryUsage",
        "P1",
        "resources",
        "process_resident_memory_bytes > 104857600",
        "{{ $labels.job }} uses more than 100 MiB of memory",
        "Resident memory is {{ $value | humanize1024 }}B (target under 100MiB).",
        "Risk of the process being killed for memory; pauses from garbage collection.",
        "The process's resident set is above 100 MiB.",
        ("process_resident_memory_bytes", "deriv(process_resident_memory_bytes[1h])"),
        ("Look for growth (a leak) versus a one-off load.", "Restart after taking a heap profile; cap caches."),
        Scenario(
            {s("process_resident_memory_bytes"): _const(157286400)},
            {s("process_resident_memory_bytes"): _const(52428800)},
            157286400,
            BASE_LABELS,
            0,
        ),
        threshold=104857600,
        group="resources",
    ),
    Alert(
        "FeedbackLoopStalled",
        "P1",
        "neural",
        f'(up{{job="{APP_JOB}"}} == 1) unless on (job) (sum by (job) (increase(feedback_loop_cycles_total[10m])) > 0)',
        "Feedback loop of {{ $labels.job }} is stalled",
        "No feedback-loop cycle completed in the last 10 minutes while the service is up.",
        "The system stops learning from outcomes; confidence and truth scores drift.",
        "The service is up but the feedback-loop counter did not increase for 10 minutes (or never existed).",
        ("increase(feedback_loop_cycles_total[10m])", "background_task_queue_length"),
        ("Check the feedback worker's logs and the background queue.", "Restart the worker."),
        Scenario(
            {UP: "1x200", s("feedback_loop_cycles_total"): "5x200"},
            {UP: "1x200", s("feedback_loop_cycles_total"): _counter(1)},
            1,
            BASE_LABELS,
            0,
        ),
        for_="5m",
    ),
    Alert(
        "AutoRollbackTriggered",
        "P1",
        "verification",
        "sum by (job, reason) (increase(auto_rollback_total[10m]) > 0"
        " or (auto_rollback_total > 0 unless auto_rollback_total offset 10m))",
        "{{ $labels.job }} rolled back automatically ({{ $labels.reason }})",
        "{{ $value | humanize }} automatic rollbacks in the last 10 minutes, reason {{ $labels.reason }}.",
        "A change was reverted because verification failed; the work of that change is lost.",
        "The verification system triggered at least one automatic rollback.",
        ("sum by (reason) (increase(auto_rollback_total[1h]))", "job:truth_score:p95_rate5m"),
        ("Read the rollback reason and the failing verification.", "Fix forward or keep the rollback."),
        Scenario(
            {
                s(
                    "auto_rollback_total", 'reason="truth_score_below_threshold"'
                ): "0 0 0 1 2 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3"
            },
            {s("auto_rollback_total", 'reason="truth_score_below_threshold"'): "0x30"},
            2,  # increase() at 4m: 0→2, not extrapolated below zero at the start
            {"job": APP_JOB, "reason": "truth_score_below_threshold"},
            3,
        ),
        for_="0m",
    ),
    # ---------------------------------------------------------------- P2
    Alert(
        "VerificationFailureRate",
        "P2",
        "verification",
        "job:verification_failures:ratio_rate15m > 0.05",
        "Verification failures of {{ $labels.job }} above 5%",
        "{{ $value | humanizePercentage }} of verifications failed over 15 minutes (threshold 5%).",
        "More agent work is rejected; throughput drops and rollbacks rise.",
        "Failed verifications divided by all verifications exceed 5 %.",
        (
            "job:verification_failures:ratio_rate15m",
            "sum by (agent_id, reason) (rate(verification_failures_total[15m]))",
        ),
        ("Find the agents and reasons behind the failures.", "Check the verification service's dependencies."),
        Scenario(
            {
                s("verification_failures_total", 'agent_id="coder-agent",reason="checks_failed"'): _counter(15),
                s("verification_success_total", 'agent_id="coder-agent"'): _counter(45),
            },
            {
                s("verification_failures_total", 'agent_id="coder-agent",reason="checks_failed"'): _counter(1),
                s("verification_success_total", 'agent_id="coder-agent"'): _counter(99),
            },
            0.25,
            JOB_ONLY,
        ),
        threshold=0.05,
    ),
    Alert(
        "GOAPPlanningSlowdown",
        "P2",
        "goap",
        "job:goap_planning_duration_seconds:p95_rate5m > 5",
        "GOAP planning of {{ $labels.job }} is slow",
        "p95 planning time is {{ $value | humanizeDuration }} (threshold 5s).",
        "Tasks wait longer for plans; coordination suffers.",
        "The 95th percentile of GOAP planning time exceeds 5 seconds.",
        (
            "job:goap_planning_duration_seconds:p95_rate5m",
            "histogram_quantile(0.95, sum by (plan_type, le) (rate(goap_planning_duration_seconds_bucket[5m])))",
        ),
        ("Check the planner's search depth and goal complexity.", "Cap planning time; fall back to cached plans."),
        Scenario(
            _hist(
                {"1": 0, "5": 0, "10": 60, "+Inf": 60},
                "goap_planning_duration_seconds",
                'plan_type="feature-implementation"',
            ),
            _hist(
                {"1": 60, "5": 60, "10": 60, "+Inf": 60},
                "goap_planning_duration_seconds",
                'plan_type="feature-implementation"',
            ),
            9.75,
            JOB_ONLY,
        ),
        threshold=5,
    ),
    Alert(
        "AgentCoordinationEfficiency",
        "P2",
        "goap",
        "avg by (job) (avg_over_time(coordination_efficiency[10m])) < 0.95",
        "Agent coordination efficiency of {{ $labels.job }} below 95%",
        "Coordination efficiency is {{ $value | humanizePercentage }} (target 95%).",
        "Agents duplicate or wait for each other's work.",
        "The coordination-efficiency gauge averaged over 10 minutes is below 0.95.",
        ("coordination_efficiency", "job:goap_planning_duration_seconds:p95_rate5m"),
        ("Check agent assignment conflicts and planner health.", "Reduce concurrency of conflicting agents."),
        Scenario(
            {s("coordination_efficiency"): _const(0.8)}, {s("coordination_efficiency"): _const(0.97)}, 0.8, JOB_ONLY, 0
        ),
        threshold=0.95,
    ),
    Alert(
        "PatternExtractionErrors",
        "P2",
        "neural",
        "sum by (job, error_type) (increase(pattern_extraction_errors_total[15m]) > 0"
        " or (pattern_extraction_errors_total > 0 unless pattern_extraction_errors_total offset 15m))",
        "Pattern extraction errors in {{ $labels.job }} ({{ $labels.error_type }})",
        "{{ $value | humanize }} extraction errors of type {{ $labels.error_type }} in 15 minutes.",
        "Fewer patterns are learned; knowledge goes stale.",
        "Pattern extraction raised errors in the last 15 minutes.",
        ("sum by (error_type) (increase(pattern_extraction_errors_total[1h]))",),
        ("Read the extractor's logs for the error type.", "Quarantine the inputs that fail."),
        Scenario(
            {s("pattern_extraction_errors_total", 'error_type="parse_error"'): _counter(2)},
            {s("pattern_extraction_errors_total", 'error_type="parse_error"'): "0x200"},
            30,
            {"job": APP_JOB, "error_type": "parse_error"},
            1,
        ),
    ),
    Alert(
        "MemoryCompressionRateLow",
        "P2",
        "neural",
        "avg by (job) (avg_over_time(memory_compression_ratio[15m])) < 0.60",
        "Memory compression of {{ $labels.job }} is low",
        "Compression saves {{ $value | humanizePercentage }} of pattern memory (target 60%+).",
        "Pattern memory grows faster; retrieval and costs suffer.",
        "The fraction of memory saved by compression is below 0.60.",
        ("memory_compression_ratio", "pattern_memory_bytes"),
        ("Check the compression job and the kind of new patterns.", "Re-run compaction."),
        Scenario(
            {s("memory_compression_ratio"): _const(0.4)},
            {s("memory_compression_ratio"): _const(0.72)},
            0.4,
            JOB_ONLY,
            0,
        ),
        threshold=0.60,
    ),
    Alert(
        "AgentReliabilityLow",
        "P2",
        "verification",
        "avg_over_time(agent_truth_score[15m]) < 0.85",
        "Agent {{ $labels.agent_id }} is unreliable",
        "Truth score of {{ $labels.agent_id }} averages {{ $value | humanize }} (threshold 0.85).",
        "That agent's output fails verification more often; its tasks need review.",
        "An agent's latest truth scores average below 0.85 over 15 minutes.",
        ('agent_truth_score{agent_id="<agent>"}', "sum by (agent_id) (rate(verification_failures_total[15m]))"),
        ("Review that agent's recent tasks and configuration.", "Take it out of rotation until fixed."),
        Scenario(
            {s("agent_truth_score", 'agent_id="tester-agent"'): _const(0.5)},
            {s("agent_truth_score", 'agent_id="tester-agent"'): _const(0.96)},
            0.5,
            {**BASE_LABELS, "agent_id": "tester-agent"},
            0,
        ),
        threshold=0.85,
    ),
    Alert(
        "CPUUsageHigh",
        "P2",
        "resources",
        "rate(process_cpu_seconds_total[5m]) > 0.8",
        "{{ $labels.job }} uses more than 80% of a CPU",
        "The process uses {{ $value | humanizePercentage }} of one CPU (threshold 80%).",
        "Latency rises and throughput drops under load.",
        "The process's CPU time grows faster than 0.8 seconds per second.",
        ("rate(process_cpu_seconds_total[5m])", "job:neural_operations:rate5m"),
        ("Profile the process; check the neural operation rate.", "Scale out."),
        # partial windows: the extrapolated rate first exceeds 0.8 at 4m
        Scenario(
            {s("process_cpu_seconds_total"): _counter(54)},
            {s("process_cpu_seconds_total"): _counter(12)},
            0.9,
            BASE_LABELS,
            4,
        ),
        threshold=0.8,
        group="resources",
    ),
    Alert(
        "HTTPErrorRateHigh",
        "P2",
        "http",
        "job:http_server_errors:ratio_rate5m > 0.05",
        "{{ $labels.job }} answers more than 5% of requests with errors",
        "{{ $value | humanizePercentage }} of HTTP requests failed with 5xx over 5 minutes.",
        "Clients of the service see failures.",
        "Server errors divided by all requests exceed 5 %.",
        (
            'sum by (http_route, http_response_status_code) (rate(http_server_request_duration_seconds_count{http_response_status_code=~"5.."}[5m]))',
        ),
        ("Find the failing route; read the application's logs.", "Roll back the last deployment if it coincides."),
        Scenario(
            {
                s(
                    "http_server_request_duration_seconds_count", 'http_route="/tick",http_response_status_code="500"'
                ): _counter(30),
                s(
                    "http_server_request_duration_seconds_count", 'http_route="/tick",http_response_status_code="200"'
                ): _counter(30),
            },
            {
                s(
                    "http_server_request_duration_seconds_count", 'http_route="/tick",http_response_status_code="500"'
                ): _counter(0),
                s(
                    "http_server_request_duration_seconds_count", 'http_route="/tick",http_response_status_code="200"'
                ): _counter(60),
            },
            0.5,
            JOB_ONLY,
        ),
        threshold=0.05,
        group="http",
    ),
    Alert(
        "TaskFailureRateHigh",
        "P2",
        "goap",
        'sum by (job) (job_status:task_completed:rate5m{status="failure"}) / sum by (job) (job_status:task_completed:rate5m) > 0.10',
        "More than 10% of {{ $labels.job }}'s tasks fail",
        "{{ $value | humanizePercentage }} of completed tasks failed over 5 minutes.",
        "Features, fixes and refactors are not delivered.",
        "Failed tasks divided by all completed tasks exceed 10 %.",
        ("job_status:task_completed:rate5m", 'sum by (task_type) (rate(task_completed_total{status="failure"}[5m]))'),
        ("Find the task types that fail and why.", "Check the verification and planning alerts."),
        Scenario(
            {
                s("task_completed_total", 'task_type="feature",status="failure"'): _counter(30),
                s("task_completed_total", 'task_type="feature",status="success"'): _counter(30),
            },
            {
                s("task_completed_total", 'task_type="feature",status="failure"'): _counter(0),
                s("task_completed_total", 'task_type="feature",status="success"'): _counter(60),
            },
            0.5,
            JOB_ONLY,
        ),
        threshold=0.10,
    ),
    Alert(
        "EventLoopLagHigh",
        "P2",
        "resources",
        "avg_over_time(python_eventloop_lag_seconds[5m]) > 0.1",
        "Event loop of {{ $labels.job }} lags",
        "Scheduled wake-ups run {{ $value | humanizeDuration }} late on average (threshold 100ms).",
        "Every request and timer of the service is delayed.",
        "Blocking work runs on the asyncio event loop.",
        ("python_eventloop_lag_seconds", "rate(process_cpu_seconds_total[5m])"),
        ("Find blocking calls on the loop (sync I/O, CPU-heavy code).", "Move them to threads or processes."),
        Scenario(
            {s("python_eventloop_lag_seconds"): _const(0.25)},
            {s("python_eventloop_lag_seconds"): _const(0.001)},
            0.25,
            BASE_LABELS,
            0,
        ),
        threshold=0.1,
        group="resources",
    ),
    # ---------------------------------------------------------------- P3
    Alert(
        "PatternMemoryGrowth",
        "P3",
        "capacity",
        "deriv(pattern_memory_bytes[1h]) * 86400 > 10485760",
        "Pattern memory of {{ $labels.job }} grows more than 10MB/day",
        "Pattern memory grows by {{ $value | humanize1024 }}B per day (threshold 10MiB).",
        "Storage and memory needs rise; plan capacity.",
        "The trend of pattern memory over the last hour extrapolates to more than 10 MiB per day.",
        ("deriv(pattern_memory_bytes[6h]) * 86400", "patterns_active"),
        ("Check whether unused patterns are being pruned.", "Plan more storage or tighten retention."),
        Scenario(
            {s("pattern_memory_bytes"): "0+12000x200"}, {s("pattern_memory_bytes"): "0+1000x200"}, 17280000, BASE_LABELS
        ),
        threshold=10485760,
        group="capacity",
    ),
    Alert(
        "BackgroundTaskQueueLength",
        "P3",
        "capacity",
        "background_task_queue_length > 100",
        "Background queue of {{ $labels.job }} is long",
        "{{ $value | humanize }} background tasks are waiting (threshold 100).",
        "Background work (compaction, feedback) is delayed.",
        "More than 100 background tasks are waiting.",
        ("background_task_queue_length", "rate(process_cpu_seconds_total[5m])"),
        ("Check worker health and throughput.", "Add workers."),
        Scenario(
            {s("background_task_queue_length"): _const(250)},
            {s("background_task_queue_length"): _const(5)},
            250,
            BASE_LABELS,
            0,
        ),
        threshold=100,
        group="capacity",
    ),
    Alert(
        "LowDiskSpace",
        "P3",
        "capacity",
        'node_filesystem_avail_bytes{mountpoint="/",fstype!~"tmpfs|overlay"}'
        ' / node_filesystem_size_bytes{mountpoint="/",fstype!~"tmpfs|overlay"} < 0.20',
        "Less than 20% disk space left on {{ $labels.instance }}",
        "{{ $value | humanizePercentage }} of / is available on {{ $labels.instance }}.",
        "The database and Prometheus stop writing when the disk fills.",
        "The root file system has less than 20 % free space.",
        ('node_filesystem_avail_bytes{mountpoint="/"}', "du -sh on the data directories"),
        ("Free space: prune old data, logs, images.", "Grow the volume."),
        Scenario(
            {
                'node_filesystem_avail_bytes{job="node-exporter",instance="n1",mountpoint="/",fstype="ext4",device="/dev/vda"}': _const(
                    10
                ),
                'node_filesystem_size_bytes{job="node-exporter",instance="n1",mountpoint="/",fstype="ext4",device="/dev/vda"}': _const(
                    100
                ),
            },
            {
                'node_filesystem_avail_bytes{job="node-exporter",instance="n1",mountpoint="/",fstype="ext4",device="/dev/vda"}': _const(
                    50
                ),
                'node_filesystem_size_bytes{job="node-exporter",instance="n1",mountpoint="/",fstype="ext4",device="/dev/vda"}': _const(
                    100
                ),
            },
            0.1,
            {"job": "node-exporter", "instance": "n1", "mountpoint": "/", "fstype": "ext4", "device": "/dev/vda"},
            0,
        ),
        threshold=0.20,
        group="capacity",
    ),
    Alert(
        "UnusedPatternsAccumulating",
        "P3",
        "capacity",
        "patterns_unused > 1000",
        "Unused patterns accumulate in {{ $labels.job }}",
        "{{ $value | humanize }} patterns were not used within the idle period (threshold 1000).",
        "Memory is spent on patterns nobody uses.",
        "More than 1000 stored patterns are idle.",
        ("patterns_unused", "patterns_active"),
        ("Run the pattern pruning job.", "Shorten the idle period if it is too generous."),
        Scenario({s("patterns_unused"): _const(2500)}, {s("patterns_unused"): _const(10)}, 2500, BASE_LABELS, 0),
        threshold=1000,
        group="capacity",
    ),
    Alert(
        "MeasurementsDropped",
        "P3",
        "instrumentation",
        "sum by (job, metric, reason) (increase(ccmon_dropped_measurements_total[1h]) > 0"
        " or (ccmon_dropped_measurements_total > 0 unless ccmon_dropped_measurements_total offset 1h))",
        "{{ $labels.job }} records invalid measurements ({{ $labels.metric }})",
        "{{ $value | humanize }} measurements of {{ $labels.metric }} were dropped in an hour ({{ $labels.reason }}).",
        "Dashboards and alerts based on that metric undercount.",
        "otel_ccmon rejected invalid input (unknown attribute value, negative count, NaN) from the application.",
        ("sum by (metric, reason) (increase(ccmon_dropped_measurements_total[1h]))",),
        (
            "Find the call site passing the bad value (the log line names it).",
            "Fix it; run with CCMON_STRICT=1 in tests.",
        ),
        Scenario(
            {s("ccmon_dropped_measurements_total", 'metric="truth.score",reason="invalid_value"'): _counter(1)},
            {s("ccmon_dropped_measurements_total", 'metric="truth.score",reason="invalid_value"'): "0x200"},
            60,
            {"job": APP_JOB, "metric": "truth.score", "reason": "invalid_value"},
            1,
        ),
        group="instrumentation",
    ),
)


def _pipeline_scenario(
    series: str, firing: str, healthy: str, value: float, labels: Mapping[str, str], active: int = 1
) -> Scenario:
    return Scenario({series: firing}, {series: healthy}, value, labels, active)


COLLECTOR = {"job": "otel-collector", "instance": "c1"}
COL = '{job="otel-collector",instance="c1"'

PIPELINE: tuple[Alert, ...] = (
    Alert(
        "OTelCollectorDown",
        "P1",
        "pipeline",
        'up{job="otel-collector"} == 0 or absent(up{job="otel-collector"}) == 1',
        "The OpenTelemetry Collector is down",
        "Prometheus cannot scrape the collector's own telemetry ({{ $labels.instance }}).",
        "Application metrics stop arriving: dashboards freeze and metric-based alerts go blind.",
        "The collector process is down or unreachable.",
        ('up{job="otel-collector"}', "curl -s http://otel-collector:13133/"),
        ("Check the collector's logs; validate its config with `otelcol-ccmon validate`.", "Restart it."),
        _pipeline_scenario('up{job="otel-collector",instance="c1"}', "0x30", "1x30", 0, COLLECTOR, 0),
        for_="2m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        "OTelCollectorRefusingPoints",
        "P1",
        "pipeline",
        "sum by (job, instance, receiver) (rate(otelcol_receiver_refused_metric_points[5m])) > 0",
        "The collector refuses metric points",
        "{{ $value | humanize }} points per second are refused by receiver {{ $labels.receiver }}.",
        "Applications' exports fail; data is lost until they export again.",
        "The collector's receiver refuses data, usually because the memory limiter is engaged.",
        ("rate(otelcol_receiver_refused_metric_points[5m])", "otelcol_process_memory_rss"),
        ("Check memory limiter and exporter health.", "Give the collector more memory or scale it out."),
        _pipeline_scenario(
            f'otelcol_receiver_refused_metric_points{COL},receiver="otlp",transport="http"}}',
            _counter(60),
            "0x200",
            1,
            {**COLLECTOR, "receiver": "otlp"},
        ),
        for_="5m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        "OTelCollectorExportFailing",
        "P1",
        "pipeline",
        "sum by (job, instance, exporter) (rate(otelcol_exporter_send_failed_metric_points[5m])) > 0",
        "The collector fails to send to {{ $labels.exporter }}",
        "{{ $value | humanize }} points per second fail to be sent by {{ $labels.exporter }}.",
        "A backend does not receive data; queued data waits and may be dropped when the queue fills.",
        "An exporter of the collector fails to deliver.",
        ("rate(otelcol_exporter_send_failed_metric_points[5m])", "otelcol_exporter_queue_size"),
        ("Check the backend's availability and the credentials of the exporter.", "Watch the queue."),
        _pipeline_scenario(
            f'otelcol_exporter_send_failed_metric_points{COL},exporter="otlp_http/forward"}}',
            _counter(60),
            "0x200",
            1,
            {**COLLECTOR, "exporter": "otlp_http/forward"},
        ),
        for_="5m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        "OTelCollectorQueueNearlyFull",
        "P2",
        "pipeline",
        "max by (job, instance, exporter) (otelcol_exporter_queue_size / otelcol_exporter_queue_capacity) > 0.8",
        "The sending queue of {{ $labels.exporter }} is nearly full",
        "The queue is {{ $value | humanizePercentage }} full.",
        "When full, new data for that backend is dropped.",
        "A backend is slow or down and the exporter's queue fills.",
        ("otelcol_exporter_queue_size / otelcol_exporter_queue_capacity",),
        ("Fix the backend; raise the queue size if outages are expected.",),
        Scenario(
            {
                f'otelcol_exporter_queue_size{COL},exporter="otlp_http/forward"}}': _const(900),
                f'otelcol_exporter_queue_capacity{COL},exporter="otlp_http/forward"}}': _const(1000),
            },
            {
                f'otelcol_exporter_queue_size{COL},exporter="otlp_http/forward"}}': _const(10),
                f'otelcol_exporter_queue_capacity{COL},exporter="otlp_http/forward"}}': _const(1000),
            },
            0.9,
            {**COLLECTOR, "exporter": "otlp_http/forward"},
            0,
        ),
        threshold=0.8,
        for_="10m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        "OTelCollectorMemoryLimiterRefusing",
        "P1",
        "pipeline",
        "sum by (job, instance) (rate(otelcol_processor_memory_limiter_refused_metric_points[5m])) > 0",
        "The collector's memory limiter refuses data",
        "{{ $value | humanize }} points per second are refused by the memory limiter.",
        "Applications' exports are refused until memory use falls.",
        "The collector is at its memory limit.",
        ("rate(otelcol_processor_memory_limiter_refused_metric_points[5m])", "otelcol_process_memory_rss"),
        ("Raise CCMON_COLLECTOR_MEMORY_LIMIT_MIB with the container limit, or scale out.",),
        _pipeline_scenario(
            f"otelcol_processor_memory_limiter_refused_metric_points{COL}}}", _counter(60), "0x200", 1, COLLECTOR
        ),
        for_="5m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        "TargetDown",
        "P2",
        "pipeline",
        f'up{{job!="{APP_JOB}"}} == 0',
        "Scrape target {{ $labels.job }} is down",
        "Prometheus cannot scrape {{ $labels.job }} at {{ $labels.instance }}.",
        "Metrics of that component are missing; its alerts go blind.",
        "A scrape target other than the application fails.",
        ("up == 0", "Prometheus → Status → Targets"),
        ("Check the component and its network reachability.",),
        _pipeline_scenario(
            'up{job="node-exporter",instance="n1"}', "0x60", "1x60", 0, {"job": "node-exporter", "instance": "n1"}, 0
        ),
        for_="10m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        "PrometheusRuleEvaluationFailures",
        "P1",
        "pipeline",
        "sum by (job, instance, rule_group) (increase(prometheus_rule_evaluation_failures_total[5m])) > 0",
        "Prometheus fails to evaluate rules",
        "{{ $value | humanize }} rule evaluations failed in group {{ $labels.rule_group }} in 5 minutes.",
        "Alerts of that group may not fire.",
        "Rule evaluation returns errors (e.g. many-to-many matching, bad data).",
        ("increase(prometheus_rule_evaluation_failures_total[5m])", "Prometheus → Status → Rules"),
        ("Read the rule's error in the Prometheus UI; fix the rule and test it with promtool.",),
        _pipeline_scenario(
            'prometheus_rule_evaluation_failures_total{job="prometheus",instance="p1",rule_group="/etc/prometheus/rules/alerts.yml;application"}',
            _counter(6),
            "0x200",
            30,
            {"job": "prometheus", "instance": "p1", "rule_group": "/etc/prometheus/rules/alerts.yml;application"},
        ),
        for_="5m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        "PrometheusNotificationsFailing",
        "P1",
        "pipeline",
        "sum by (job, instance) (rate(prometheus_notifications_errors_total[5m])) > 0",
        "Prometheus fails to send alerts to Alertmanager",
        "{{ $value | humanize }} alert notifications per second fail.",
        "Alerts do not reach Alertmanager: nobody is notified.",
        "Prometheus cannot deliver alerts to Alertmanager.",
        ("rate(prometheus_notifications_errors_total[5m])", "prometheus_notifications_alertmanagers_discovered"),
        ("Check Alertmanager's availability and Prometheus' alerting config.",),
        _pipeline_scenario(
            'prometheus_notifications_errors_total{job="prometheus",instance="p1",alertmanager="http://am:9093/api/v2/alerts"}',
            _counter(60),
            "0x200",
            1,
            {"job": "prometheus", "instance": "p1"},
        ),
        for_="5m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        "AlertmanagerNotificationsFailing",
        "P1",
        "pipeline",
        "sum by (job, instance, integration) (rate(alertmanager_notifications_failed_total[5m])) > 0",
        "Alertmanager fails to deliver {{ $labels.integration }} notifications",
        "{{ $value | humanize }} {{ $labels.integration }} notifications per second fail.",
        "People are not paged or informed through that channel.",
        "A receiver integration (Slack, PagerDuty, email, webhook) returns errors.",
        ("rate(alertmanager_notifications_failed_total[5m])", "Alertmanager logs: level=error"),
        ("Check the integration's secret file and endpoint.", "Test the route with `amtool config routes test`."),
        _pipeline_scenario(
            'alertmanager_notifications_failed_total{job="alertmanager",instance="a1",integration="slack"}',
            _counter(60),
            "0x200",
            1,
            {"job": "alertmanager", "instance": "a1", "integration": "slack"},
        ),
        for_="5m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        "Watchdog",
        "P3",
        "pipeline",
        "vector(1)",
        "Watchdog: the alerting pipeline works",
        "This alert always fires. If the alert receiver stops getting it, alerting is broken.",
        "None while it fires; its absence means alerts are not delivered.",
        "A dead man's switch: always firing, delivered to the watchdog receiver every minute.",
        ('ALERTS{alertname="Watchdog"}', "ccmon alerts --alertname Watchdog"),
        ("If it stopped arriving, check Prometheus → Alertmanager → receiver in that order.",),
        Scenario({'up{job="x"}': "1x10"}, {}, 1, {}, 0),
        for_="0m",
        group="pipeline",
        service_label=False,
    ),
    Alert(
        "AlertReceiverRejecting",
        "P2",
        "pipeline",
        "sum by (job, instance, reason) (rate(alert_receiver_rejections_total[15m])) > 0",
        "The alert receiver rejects requests ({{ $labels.reason }})",
        "{{ $value | humanize }} requests per second are rejected ({{ $labels.reason }}).",
        "Notifications may be lost if Alertmanager's token or payloads are wrong.",
        "The receiver answers 4xx: wrong token, bad payloads, or oversized bodies.",
        ("sum by (reason) (rate(alert_receiver_rejections_total[15m]))",),
        ("For `unauthorized`: compare the receiver token file with Alertmanager's credentials_file.",),
        _pipeline_scenario(
            'alert_receiver_rejections_total{job="alert-receiver",instance="r1",reason="unauthorized"}',
            _counter(60),
            "0x200",
            1,
            {"job": "alert-receiver", "instance": "r1", "reason": "unauthorized"},
        ),
        for_="15m",
        group="pipeline",
        service_label=False,
    ),
)


def _slo_alert(slo: str, speed: str) -> Alert:
    objective = SLOS[slo][0]
    nice = {"verification": "Verification success", "pattern_retrieval_latency": "Pattern retrieval latency"}[slo]
    title = f"{''.join(w.capitalize() for w in slo.split('_'))}ErrorBudgetBurn{speed.capitalize()}"
    fast = speed == "fast"
    # firing: every request fails (error ratio 1, above every burn threshold); healthy: none fails
    long_run = 4400  # minutes: the 3-day window of the slowest burn alert needs data
    if slo == "verification":
        fail, ok = (
            s("verification_failures_total", 'agent_id="a",reason="r"'),
            s("verification_success_total", 'agent_id="a"'),
        )
        firing = {fail: _counter(60, long_run), ok: f"0x{long_run}"}
        healthy = {fail: f"0x{long_run}", ok: _counter(60, long_run)}
    else:
        name = "pattern_retrieval_duration_seconds"
        firing = _hist({"0.01": 0, "+Inf": 60}, name, minutes_=long_run)
        healthy = _hist({"0.01": 60, "+Inf": 60}, name, minutes_=long_run)
    return Alert(
        title,
        "P1" if fast else "P2",
        "slo",
        burn_expr(slo, speed),
        f"{nice} SLO ({objective:.0%}) error budget burns {'fast' if fast else 'steadily'}",
        f"{nice} errors are {{{{ $value | humanizePercentage }}}} of requests over the long window (budget {1 - objective:.0%}).",
        "At this rate the 30-day error budget is gone in "
        + ("about 2 days (page)." if fast else "under 10 days (ticket)."),
        f"Multi-window burn-rate alert on the {nice.lower()} SLO ({'page' if fast else 'ticket'}).",
        (f"job:slo_{slo}_errors:ratio_rate1h", f"job:slo_{slo}:error_budget_remaining"),
        (
            "Find the cause with the related threshold alerts and dashboards.",
            "Freeze risky changes until the burn stops.",
        ),
        Scenario(firing, healthy, 1, JOB_ONLY, 1),
        for_="2m" if fast else "15m",
        group="slo",
    )


SLO_ALERTS: tuple[Alert, ...] = tuple(_slo_alert(slo, speed) for slo in SLOS for speed in ("fast", "slow"))
ALL_ALERTS: tuple[Alert, ...] = ALERTS + PIPELINE + SLO_ALERTS
BY_NAME: Mapping[str, Alert] = {a.name: a for a in ALL_ALERTS}


# -- generators --------------------------------------------------------------------------------------------
HEADER_RECORDING = (
    "# GENERATED by `make rules` from otel_ccmon/_rules.py: edit there, not here.\n"
    "# Recording rules of otel-ccmon (level:metric:operations). Read by Prometheus (rule_files in\n"
    "# prometheus.yml); used by prometheus/rules/alerts.yml and the Grafana dashboard.\n"
)
HEADER_ALERTS = (
    "# GENERATED by `make rules` from otel_ccmon/_rules.py: edit there, not here.\n"
    "# Alert rules of otel-ccmon, severities P0–P3, each with a runbook in docs/runbooks/.\n"
    "# Read by Prometheus (rule_files in prometheus.yml); tested by prometheus/tests/alerts_test.yml.\n"
)
HEADER_TESTS = (
    "# GENERATED by `make rules` from otel_ccmon/_rules.py: edit there, not here.\n"
    "# promtool unit tests of every alert (just before and just after `for`, and healthy) and of the\n"
    "# recording rules. Run: promtool test rules prometheus/tests/alerts_test.yml\n"
)


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_presenter)


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=4096, allow_unicode=True)


def recording_yaml() -> str:
    groups: dict[str, list[dict[str, str]]] = {}
    for r in (*RECORDING, *slo_recordings()):
        groups.setdefault(r.group, []).append({"record": r.record, "expr": r.expr})
    return HEADER_RECORDING + _dump(
        {"groups": [{"name": f"ccmon-{g}-recording", "rules": rules} for g, rules in groups.items()]}
    )


def alert_rule(a: Alert) -> dict[str, Any]:
    return {"alert": a.name, "expr": a.expr, "for": a.duration, "labels": a.labels(), "annotations": a.annotations()}


def alerts_yaml() -> str:
    groups: dict[str, list[dict[str, Any]]] = {}
    for a in ALL_ALERTS:
        groups.setdefault(a.group, []).append(alert_rule(a))
    return HEADER_ALERTS + _dump({"groups": [{"name": f"ccmon-{g}", "rules": rules} for g, rules in groups.items()]})


def _expected(a: Alert) -> dict[str, Any]:
    labels = dict(a.scenario.labels)
    rendered_labels = {k: render_template(v, a.scenario.value, labels) for k, v in a.labels().items()}
    return {
        "exp_labels": {**labels, **rendered_labels},
        "exp_annotations": {k: render_template(v, a.scenario.value, labels) for k, v in a.annotations().items()},
    }


def _series(mapping: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"series": k, "values": v} for k, v in mapping.items()]


def tests_yaml() -> str:
    tests: list[dict[str, Any]] = []
    for a in ALL_ALERTS:
        sc, f = a.scenario, minutes(a.duration)
        fire_at = sc.active_from + f
        cases: list[dict[str, Any]] = []
        if f > 0 or sc.active_from > 0:
            cases.append({"eval_time": f"{fire_at - 1}m", "alertname": a.name, "exp_alerts": []})
        cases.append({"eval_time": f"{fire_at + 1}m", "alertname": a.name, "exp_alerts": [_expected(a)]})
        tests.append(
            {
                "name": f"{a.name} fires after {a.duration}",
                "interval": "1m",
                "input_series": _series(sc.firing),
                "alert_rule_test": cases,
            }
        )
        if a.name != "Watchdog":
            tests.append(
                {
                    "name": f"{a.name} stays silent when healthy",
                    "interval": "1m",
                    "input_series": _series(sc.healthy),
                    "alert_rule_test": [{"eval_time": f"{fire_at + 1}m", "alertname": a.name, "exp_alerts": []}],
                }
            )
    tests.extend(RECORDING_TESTS)
    doc = {
        "rule_files": ["../rules/recording.yml", "../rules/alerts.yml"],
        "evaluation_interval": "1m",
        "tests": tests,
    }
    return HEADER_TESTS + _dump(doc)


RECORDING_TESTS: list[dict[str, Any]] = [
    {
        "name": "recording rules",
        "interval": "1m",
        "input_series": _series(
            {
                s("neural_operations_total", 'operation_type="learning"'): _counter(600),
                s("neural_operations_total", 'operation_type="retrieval"'): _counter(1200),
                s("cache_hits_total", 'cache_type="embeddings"'): _counter(90),
                s("cache_misses_total", 'cache_type="embeddings"'): _counter(30),
                s("verification_failures_total", 'agent_id="a",reason="r"'): _counter(6),
                s("verification_success_total", 'agent_id="a"'): _counter(54),
                s("task_completed_total", 'task_type="feature",status="success"'): _counter(60),
                s("pattern_confidence_sum", 'pattern_type="coordination"'): _counter(45),
                s("pattern_confidence_count", 'pattern_type="coordination"'): _counter(60),
                s(
                    "http_server_request_duration_seconds_count", 'http_route="/tick",http_response_status_code="200"'
                ): _counter(60),
            }
        ),
        "promql_expr_test": [
            {  # no 5xx at all: the ratio is 0, not empty
                "expr": "job:http_server_errors:ratio_rate5m",
                "eval_time": "10m",
                "exp_samples": [{"labels": f"job:http_server_errors:ratio_rate5m{{{J}}}", "value": 0}],
            },
            {
                "expr": "job:neural_operations:rate5m",
                "eval_time": "10m",
                "exp_samples": [{"labels": f"job:neural_operations:rate5m{{{J}}}", "value": 30}],
            },
            {
                "expr": "job_operation_type:neural_operations:rate5m",
                "eval_time": "10m",
                "exp_samples": [
                    {
                        "labels": f'job_operation_type:neural_operations:rate5m{{{J},operation_type="learning"}}',
                        "value": 10,
                    },
                    {
                        "labels": f'job_operation_type:neural_operations:rate5m{{{J},operation_type="retrieval"}}',
                        "value": 20,
                    },
                ],
            },
            {
                "expr": "job_cache_type:cache_hit_ratio:rate5m",
                "eval_time": "10m",
                "exp_samples": [
                    {"labels": f'job_cache_type:cache_hit_ratio:rate5m{{{J},cache_type="embeddings"}}', "value": 0.75}
                ],
            },
            {
                "expr": "job:verification_failures:ratio_rate15m",
                "eval_time": "30m",
                "exp_samples": [{"labels": f"job:verification_failures:ratio_rate15m{{{J}}}", "value": 0.1}],
            },
            {
                "expr": "job:pattern_confidence:avg_rate15m",
                "eval_time": "30m",
                "exp_samples": [{"labels": f"job:pattern_confidence:avg_rate15m{{{J}}}", "value": 0.75}],
            },
            {
                "expr": "job_status:task_completed:rate5m",
                "eval_time": "10m",
                "exp_samples": [{"labels": f'job_status:task_completed:rate5m{{{J},status="success"}}', "value": 1}],
            },
            {
                "expr": "job:slo_verification_errors:ratio_rate1h",
                "eval_time": "90m",
                "exp_samples": [{"labels": f"job:slo_verification_errors:ratio_rate1h{{{J}}}", "value": 0.1}],
            },
        ],
    }
]


def runbook(a: Alert) -> str:
    diagnosis = "\n".join(f"- `{q}`" for q in a.diagnosis)
    mitigation = "\n".join(f"{i}. {m}" for i, m in enumerate(a.mitigation, 1))
    return (
        f"<!-- GENERATED by `make rules` from otel_ccmon/_rules.py: edit there, not here. -->\n"
        f"# {a.name}\n\n"
        f"**Severity:** {a.severity} · **Component:** {a.component} · **For:** {a.duration}\n\n"
        f"```promql\n{a.expr}\n```\n\n"
        f"## Meaning\n\n{a.meaning}\n\n"
        f"## Impact\n\n{a.impact}\n\n"
        f"## Diagnosis\n\nRun in Prometheus (or Grafana Explore):\n\n{diagnosis}\n\n"
        f"## Mitigation\n\n{mitigation}\n"
    )


def outputs() -> dict[Path, str]:
    """Every generated file and its content."""
    out = {
        ROOT / "prometheus" / "rules" / "recording.yml": recording_yaml(),
        ROOT / "prometheus" / "rules" / "alerts.yml": alerts_yaml(),
        ROOT / "prometheus" / "tests" / "alerts_test.yml": tests_yaml(),
    }
    for a in ALL_ALERTS:
        out[ROOT / "docs" / "runbooks" / f"{a.name}.md"] = runbook(a)
    return out


def shorten(rules_text: str, factor: int) -> str:
    """The documented test transformation: divide every ``for`` and range-vector duration by ``factor``.

    Only for end-to-end tests that cannot wait minutes; nothing else in the rules changes.

    >>> shorten("rate(x[5m]) > 1\\nfor: 10m", 20)
    'rate(x[15s]) > 1\\nfor: 30s'
    """

    def seconds(text: str) -> int:
        return sum(int(n) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[u] for n, u in re.findall(r"(\d+)([smhd])", text))

    def scaled(text: str) -> str:
        return f"{max(1, seconds(text) // factor)}s"

    text = re.sub(r"\[((?:\d+[smhd])+)\]", lambda m: f"[{scaled(m.group(1))}]", rules_text)
    text = re.sub(r"offset ((?:\d+[smhd])+)", lambda m: f"offset {scaled(m.group(1))}", text)
    return re.sub(r"for: ((?:\d+[smhd])+)", lambda m: f"for: {scaled(m.group(1))}", text)


def main() -> None:
    for path, content in outputs().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    print(f"wrote {len(outputs())} files")


if __name__ == "__main__":
    main()
