"""Alerts on the application's metrics: the spec's P0–P3 alerts and the original's others."""

from __future__ import annotations

from mixin.config import APP_JOB, APPLICATION_ROLE, NOT_INFRASTRUCTURE
from mixin.model import (
    BASE_LABELS,
    JOB_ONLY,
    UP,
    Alert,
    Scenario,
    app_series,
    constant_values,
    counter_values,
    histogram_series,
)

ALERTS: tuple[Alert, ...] = (
    # ---------------------------------------------------------------- P0
    Alert(
        name="ServiceDown",
        severity="P0",
        component="availability",
        expr=f"up{{{APPLICATION_ROLE}}} == 0",
        summary="{{ $labels.job }} is down",
        description="Prometheus cannot scrape {{ $labels.job }} ({{ $labels.instance }}) for liveness.",
        impact="The agent system is unavailable: no neural operations, verifications or plans are served.",
        meaning=(
            "The liveness scrape of an application target (a scrape job labelled ccmon_role=application) "
            "failed for 1 minute. Push-only services are watched by ServiceNotReporting instead; a service "
            "that never started by ExpectedServiceMissing."
        ),
        diagnosis=(f"up{{{APPLICATION_ROLE}}}", "ccmon stack status / docker compose ps app"),
        mitigation=(
            "Check the process or container and its logs (`var/stack/logs/app.log`, `docker compose logs app`).",
            "Restart it; if it crashes again, roll back the last deployment.",
        ),
        scenario=Scenario(
            firing={UP: "0x30"},
            healthy={UP: "1x30"},
            value=0,
            labels={**BASE_LABELS, "ccmon_role": "application"},
            active_from=0,
        ),
        for_="1m",
        push_variant=False,  # a scrape-target alert by definition
    ),
    Alert(
        name="ServiceNotReporting",
        severity="P0",
        component="availability",
        expr=(
            "group by (job) (max_over_time(ccmon_series[1h])) unless on (job) group by (job) (ccmon_series)"
            f" unless on (job) up{{{APPLICATION_ROLE}}}"
        ),
        summary="{{ $labels.job }} stopped reporting",
        description="{{ $labels.job }} reported metrics within the last hour and has sent none since its series expired.",
        impact="A push-only service is down or cut off from the collector: its own alerts cannot fire.",
        meaning=(
            "A service that pushes over OTLP (no scrape target) and reported ccmon_series at some point in the last 1 hour has had no current ccmon_series for 2 minutes: it stopped exporting longer ago than the collector's metric expiration (5 minutes). The OTLP equivalent of ServiceDown."
        ),
        diagnosis=("max_over_time(ccmon_series[1h])", "otelcol_receiver_accepted_metric_points", "the service's logs"),
        mitigation=(
            "Check the process and its OTLP endpoint and token (OTEL_EXPORTER_OTLP_ENDPOINT / _HEADERS).",
            "Check that the collector accepts its points (otelcol_receiver_refused_metric_points).",
        ),
        scenario=Scenario(
            firing={app_series("ccmon_series"): "3x60 _x140"},
            healthy={app_series("ccmon_series"): "3x200"},
            value=1,
            labels=JOB_ONLY,
            active_from=65,  # 65 on Prometheus 3 (left-open lookback), 66 on 2.x: both pass the checks at 66 and 68
        ),
        for_="2m",
    ),
    Alert(
        name="ExpectedServiceMissing",
        severity="P1",
        component="availability",
        expr=(
            "ccmon:expected_service unless on (job)"
            f" (group by (job) (ccmon_series) or group by (job) (up{{{APPLICATION_ROLE}}} == 1))"
        ),
        summary="Expected service {{ $labels.job }} is not reporting",
        description="{{ $labels.job }} is in the expected-services list but has no live series.",
        impact="A service that should run is not running (or never started): nothing of it is monitored.",
        meaning=(
            "A service named in mixin/settings.yml (expected_services) has neither a ccmon_series series nor an "
            "application scrape target that is up, for 5 minutes."
        ),
        diagnosis=("ccmon:expected_service", "group by (job) (ccmon_series)", "ccmon stack status"),
        mitigation=(
            "Start the service, or fix its OTLP export (endpoint, token, service.name).",
            "If the service was retired, remove it from expected_services and regenerate the rules.",
        ),
        scenario=Scenario(
            firing={UP: "0x200"},
            healthy={app_series("ccmon_series"): "3x200"},
            value=1,
            labels=JOB_ONLY,
            active_from=0,
        ),
        for_="5m",
        push_variant=False,  # the list names services; the test covers the demo's
    ),
    Alert(
        name="DatabaseConnectionFailure",
        severity="P0",
        component="database",
        expr="sum by (job) (rate(database_connection_errors_total[5m])) > 0.1",
        summary="{{ $labels.job }} cannot connect to its database",
        description="{{ $value | humanize }} connection errors per second over 5 minutes (threshold 0.1/s).",
        impact="Pattern storage, embeddings and trajectories are unreachable; learning and retrieval fail.",
        meaning="Database connection errors of a service, as a 5-minute rate, exceed 0.1 per second (one every 10 seconds), for 2 minutes.",
        diagnosis=("sum by (job, error_type) (rate(database_connection_errors_total[5m]))",),
        mitigation=(
            "Check the database process, disk and credentials.",
            "Fail over to a replica if the primary is gone.",
        ),
        scenario=Scenario(
            firing={app_series("database_connection_errors_total", 'error_type="unable_to_open"'): counter_values(60)},
            healthy={app_series("database_connection_errors_total", 'error_type="unable_to_open"'): counter_values(1)},
            value=0.8,  # 1/s, with the 5m window only 4m full at evaluation (Prometheus' extrapolation)
            labels=JOB_ONLY,
        ),
        threshold=0.1,
    ),
    Alert(
        name="TruthScoreCriticallyLow",
        severity="P0",
        component="verification",
        expr="job:truth_score:p95_rate5m < 0.70",
        summary="Truth scores of {{ $labels.job }} are critically low",
        description="p95 truth score is {{ $value | humanize }} (threshold 0.70).",
        impact="Verification is failing: agent output cannot be trusted and auto-rollbacks follow.",
        meaning="The 95th percentile of truth scores over the last 5 minutes is below 0.70, for 2 minutes: at least 95 % of recent verifications scored below 0.70.",
        diagnosis=(
            "job:truth_score:p95_rate5m",
            "histogram_quantile(0.95, sum by (agent_id, le) (rate(truth_score_bucket[5m])))",
        ),
        mitigation=(
            "Find the agents with low scores; pause their deployments.",
            "Roll back recent model or prompt changes.",
        ),
        scenario=Scenario(
            firing=histogram_series(
                {"0.5": 60, "0.6": 60, "0.7": 60, "+Inf": 60}, "truth_score", 'agent_id="coder-agent"'
            ),
            healthy=histogram_series(
                {"0.5": 0, "0.9": 0, "0.95": 60, "+Inf": 60}, "truth_score", 'agent_id="coder-agent"'
            ),
            value=0.475,  # every observation in the lowest bucket (0, 0.5]: 0.95 × 0.5
            labels=JOB_ONLY,
        ),
        threshold=0.70,
    ),
    # ---------------------------------------------------------------- P1
    Alert(
        name="NeuralOperationsDegraded",
        severity="P1",
        component="neural",
        expr="job:neural_operations:rate5m < 150000",
        summary="Neural operations of {{ $labels.job }} are degraded",
        description="{{ $value | humanize }} operations per second (target 150k+).",
        impact="Learning and retrieval fall behind demand; latency and backlog grow.",
        meaning="The neural operations of a service, as a 5-minute rate, are below 150,000 per second, for 10 minutes.",
        diagnosis=("job_operation_type:neural_operations:rate5m", "rate(process_cpu_seconds_total[5m])"),
        mitigation=("Check CPU saturation and the background queue.", "Scale out workers or shed non-critical load."),
        scenario=Scenario(
            firing={
                app_series("neural_operations_total", 'operation_type="learning"'): counter_values(6_000_000),
                UP: "1x200",
            },
            healthy={
                app_series("neural_operations_total", 'operation_type="learning"'): counter_values(10_320_000),
                UP: "1x200",
            },
            value=100_000,
            labels=JOB_ONLY,
        ),
        threshold=150_000,
    ),
    Alert(
        name="CacheHitRateLow",
        severity="P1",
        component="cache",
        expr="job_cache_type:cache_hit_ratio:rate5m < 0.80",
        summary="Cache hit rate of {{ $labels.cache_type }} is low",
        description="{{ $value | humanizePercentage }} of {{ $labels.cache_type }} look-ups hit the cache (target 80%).",
        impact="More queries reach the database; pattern retrieval slows down.",
        meaning="Hits divided by all look-ups of a cache, as 5-minute rates, are below 80 % (0.80), for 10 minutes.",
        diagnosis=("job_cache_type:cache_hit_ratio:rate5m", "sum by (cache_type) (rate(cache_misses_total[5m]))"),
        mitigation=("Check for evictions (cache too small) or a cache flush.", "Warm the cache; raise its size."),
        scenario=Scenario(
            firing={
                app_series("cache_hits_total", 'cache_type="embeddings"'): counter_values(60),
                app_series("cache_misses_total", 'cache_type="embeddings"'): counter_values(60),
            },
            healthy={
                app_series("cache_hits_total", 'cache_type="embeddings"'): counter_values(570),
                app_series("cache_misses_total", 'cache_type="embeddings"'): counter_values(30),
            },
            value=0.5,
            labels={"job": APP_JOB, "cache_type": "embeddings"},
        ),
        threshold=0.80,
    ),
    Alert(
        name="DatabaseSlowQueries",
        severity="P1",
        component="database",
        expr="job:db_query_duration_seconds:p95_rate5m > 0.010",
        summary="Database queries of {{ $labels.job }} are slow",
        description="p95 query time is {{ $value | humanizeDuration }} (threshold 10ms).",
        impact="Pattern retrieval and learning slow down with every query.",
        meaning="The 95th percentile of database query time over the last 5 minutes exceeds 10 ms (0.010 s), for 10 minutes: more than 5 % of queries take longer than 10 ms.",
        diagnosis=(
            "job:db_query_duration_seconds:p95_rate5m",
            "histogram_quantile(0.95, sum by (query_type, table, le) (rate(db_query_duration_seconds_bucket[5m])))",
        ),
        mitigation=(
            "Find the slow query type and table; check indexes and locks.",
            "Check disk latency of the database host.",
        ),
        scenario=Scenario(
            firing=histogram_series(
                {"0.005": 0, "0.01": 0, "0.025": 60, "+Inf": 60},
                "db_query_duration_seconds",
                'query_type="select",table="patterns"',
            ),
            healthy=histogram_series(
                {"0.005": 60, "0.01": 60, "0.025": 60, "+Inf": 60},
                "db_query_duration_seconds",
                'query_type="select",table="patterns"',
            ),
            value=0.02425,
            labels=JOB_ONLY,
        ),
        threshold=0.010,
    ),
    Alert(
        name="PatternRetrievalSlow",
        severity="P1",
        component="neural",
        expr="job:pattern_retrieval_duration_seconds:p95_rate5m > 0.010",
        summary="Pattern retrieval of {{ $labels.job }} is slow",
        description="p95 retrieval time is {{ $value | humanizeDuration }} (target under 10ms).",
        impact="Agents wait for patterns; the latency SLO burns.",
        meaning="The 95th percentile of pattern retrieval time over the last 5 minutes exceeds 10 ms (0.010 s), for 10 minutes: more than 5 % of retrievals take longer than 10 ms.",
        diagnosis=(
            "job:pattern_retrieval_duration_seconds:p95_rate5m",
            "job:slo_pattern_retrieval_latency:error_budget_remaining",
        ),
        mitigation=("Check the cache hit rate and database latency.", "Check pattern memory size and compression."),
        scenario=Scenario(
            firing=histogram_series(
                {"0.005": 0, "0.01": 0, "0.025": 60, "+Inf": 60}, "pattern_retrieval_duration_seconds"
            ),
            healthy=histogram_series(
                {"0.005": 60, "0.01": 60, "0.025": 60, "+Inf": 60}, "pattern_retrieval_duration_seconds"
            ),
            value=0.02425,
            labels=JOB_ONLY,
        ),
        threshold=0.010,
    ),
    Alert(
        name="PatternConfidenceDeclining",
        severity="P1",
        component="neural",
        expr="job:pattern_confidence:avg_rate15m < 0.7",
        summary="Pattern confidence of {{ $labels.job }} is declining",
        description="Average pattern confidence over 15 minutes is {{ $value | humanize }} (threshold 0.7).",
        impact="Learned patterns are less reliable; plans and predictions degrade.",
        meaning="The mean confidence of the patterns scored in the last 15 minutes is below 0.7, for 10 minutes.",
        diagnosis=(
            "job:pattern_confidence:avg_rate15m",
            "sum by (pattern_type) (rate(pattern_confidence_sum[15m])) / sum by (pattern_type) (rate(pattern_confidence_count[15m]))",
        ),
        mitigation=(
            "Check recent training data and feedback-loop health.",
            "Roll back the last model update if it coincides.",
        ),
        scenario=Scenario(
            firing={
                app_series("pattern_confidence_sum", 'pattern_type="coordination"'): counter_values(30),
                app_series("pattern_confidence_count", 'pattern_type="coordination"'): counter_values(60),
            },
            healthy={
                app_series("pattern_confidence_sum", 'pattern_type="coordination"'): counter_values(54),
                app_series("pattern_confidence_count", 'pattern_type="coordination"'): counter_values(60),
            },
            value=0.5,
            labels=JOB_ONLY,
        ),
        threshold=0.7,
    ),
    Alert(
        name="HighMemoryUsage",
        severity="P1",
        component="resources",
        # the application's target: the stack's own components have theirs (ComponentMemoryHigh)
        expr=f"process_resident_memory_bytes{{{NOT_INFRASTRUCTURE}}} > 104857600",
        summary="{{ $labels.job }} uses more than 100 MiB of memory",
        description="Resident memory is {{ $value | humanize1024 }}B (target under 100MiB).",
        impact="Risk of the process being killed for memory; pauses from garbage collection.",
        meaning=(
            "The application process's resident set is above 100 MiB (104857600 bytes), for 10 minutes "
            "(the stack's own components are excluded: see ComponentMemoryHigh)."
        ),
        diagnosis=("process_resident_memory_bytes", "deriv(process_resident_memory_bytes[1h])"),
        mitigation=(
            "Look for growth (a leak) versus a one-off load.",
            "Restart after taking a heap profile; cap caches.",
        ),
        scenario=Scenario(
            firing={app_series("process_resident_memory_bytes"): constant_values(157286400)},
            # Prometheus itself at 150 MiB is healthy: not the application's 100 MiB target
            healthy={
                app_series("process_resident_memory_bytes"): constant_values(52428800),
                'process_resident_memory_bytes{job="prometheus",instance="p1"}': constant_values(157286400),
            },
            value=157286400,
            labels=BASE_LABELS,
            active_from=0,
        ),
        threshold=104857600,
        group="resources",
    ),
    Alert(
        name="FeedbackLoopStalled",
        severity="P1",
        component="neural",
        expr=(
            "group by (job) (max_over_time(feedback_loop_cycles_total[1h]))"
            " unless on (job) (sum by (job) (increase(feedback_loop_cycles_total[10m])) > 0)"
        ),
        summary="Feedback loop of {{ $labels.job }} is stalled",
        description="No feedback-loop cycle completed in the last 10 minutes.",
        impact="The system stops learning from outcomes; confidence and truth scores drift.",
        meaning=(
            "A service that reported feedback_loop_cycles_total in the last 1 hour did not increase it for 10 minutes, "
            "for 5 minutes more."
        ),
        diagnosis=("increase(feedback_loop_cycles_total[10m])", "background_task_queue_length"),
        mitigation=("Check the feedback worker's logs and the background queue.", "Restart the worker."),
        scenario=Scenario(
            firing={app_series("feedback_loop_cycles_total"): "5x200"},
            healthy={app_series("feedback_loop_cycles_total"): counter_values(1)},
            value=1,
            labels=JOB_ONLY,
            active_from=0,
        ),
        for_="5m",
    ),
    Alert(
        name="AutoRollbackTriggered",
        severity="P1",
        component="verification",
        expr="sum by (job, reason) (increase(auto_rollback_total[10m]) > 0"
        " or (auto_rollback_total > 0 unless auto_rollback_total offset 10m))",
        summary="{{ $labels.job }} rolled back automatically ({{ $labels.reason }})",
        description="{{ $value | humanize }} automatic rollbacks in the last 10 minutes, reason {{ $labels.reason }}.",
        impact="A change was reverted because verification failed; the work of that change is lost.",
        meaning="The verification system triggered at least one automatic rollback in the last 10 minutes (an increase, or the first rollback of a new reason); it fires at once.",
        diagnosis=("sum by (reason) (increase(auto_rollback_total[1h]))", "job:truth_score:p95_rate5m"),
        mitigation=("Read the rollback reason and the failing verification.", "Fix forward or keep the rollback."),
        scenario=Scenario(
            firing={
                app_series(
                    "auto_rollback_total", 'reason="truth_score_below_threshold"'
                ): "0 0 0 1 2 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3"
            },
            healthy={app_series("auto_rollback_total", 'reason="truth_score_below_threshold"'): "0x30"},
            value=2,  # increase() at 4m: 0→2, not extrapolated below zero at the start
            labels={"job": APP_JOB, "reason": "truth_score_below_threshold"},
            active_from=3,
        ),
        for_="0m",
    ),
    # ---------------------------------------------------------------- P2
    Alert(
        name="VerificationFailureRate",
        severity="P2",
        component="verification",
        expr="job:verification_failures:ratio_rate15m > 0.05",
        summary="Verification failures of {{ $labels.job }} above 5%",
        description="{{ $value | humanizePercentage }} of verifications failed over 15 minutes (threshold 5%).",
        impact="More agent work is rejected; throughput drops and rollbacks rise.",
        meaning="Failed verifications divided by all verifications, as 15-minute rates, exceed 5 % (0.05), for 30 minutes.",
        diagnosis=(
            "job:verification_failures:ratio_rate15m",
            "sum by (agent_id, reason) (rate(verification_failures_total[15m]))",
        ),
        mitigation=(
            "Find the agents and reasons behind the failures.",
            "Check the verification service's dependencies.",
        ),
        scenario=Scenario(
            firing={
                app_series(
                    "verification_failures_total", 'agent_id="coder-agent",reason="checks_failed"'
                ): counter_values(15),
                app_series("verification_success_total", 'agent_id="coder-agent"'): counter_values(45),
            },
            healthy={
                app_series(
                    "verification_failures_total", 'agent_id="coder-agent",reason="checks_failed"'
                ): counter_values(1),
                app_series("verification_success_total", 'agent_id="coder-agent"'): counter_values(99),
            },
            value=0.25,
            labels=JOB_ONLY,
        ),
        threshold=0.05,
    ),
    Alert(
        name="GOAPPlanningSlowdown",
        severity="P2",
        component="goap",
        expr="job:goap_planning_duration_seconds:p95_rate5m > 5",
        summary="GOAP planning of {{ $labels.job }} is slow",
        description="p95 planning time is {{ $value | humanizeDuration }} (threshold 5s).",
        impact="Tasks wait longer for plans; coordination suffers.",
        meaning="The 95th percentile of GOAP planning time over the last 5 minutes exceeds 5 seconds, for 30 minutes.",
        diagnosis=(
            "job:goap_planning_duration_seconds:p95_rate5m",
            "histogram_quantile(0.95, sum by (plan_type, le) (rate(goap_planning_duration_seconds_bucket[5m])))",
        ),
        mitigation=(
            "Check the planner's search depth and goal complexity.",
            "Cap planning time; fall back to cached plans.",
        ),
        scenario=Scenario(
            firing=histogram_series(
                {"1": 0, "5": 0, "10": 60, "+Inf": 60},
                "goap_planning_duration_seconds",
                'plan_type="feature-implementation"',
            ),
            healthy=histogram_series(
                {"1": 60, "5": 60, "10": 60, "+Inf": 60},
                "goap_planning_duration_seconds",
                'plan_type="feature-implementation"',
            ),
            value=9.75,
            labels=JOB_ONLY,
        ),
        threshold=5,
    ),
    Alert(
        name="AgentCoordinationEfficiency",
        severity="P2",
        component="goap",
        expr="avg by (job) (avg_over_time(coordination_efficiency[10m])) < 0.95",
        summary="Agent coordination efficiency of {{ $labels.job }} below 95%",
        description="Coordination efficiency is {{ $value | humanizePercentage }} (target 95%).",
        impact="Agents duplicate or wait for each other's work.",
        meaning="The coordination-efficiency gauge averaged over 10 minutes is below 0.95, for 30 minutes.",
        diagnosis=("coordination_efficiency", "job:goap_planning_duration_seconds:p95_rate5m"),
        mitigation=(
            "Check agent assignment conflicts and planner health.",
            "Reduce concurrency of conflicting agents.",
        ),
        scenario=Scenario(
            firing={app_series("coordination_efficiency"): constant_values(0.8)},
            healthy={app_series("coordination_efficiency"): constant_values(0.97)},
            value=0.8,
            labels=JOB_ONLY,
            active_from=0,
        ),
        threshold=0.95,
    ),
    Alert(
        name="PatternExtractionErrors",
        severity="P2",
        component="neural",
        expr="sum by (job, error_type) (increase(pattern_extraction_errors_total[15m]) > 0"
        " or (pattern_extraction_errors_total > 0 unless pattern_extraction_errors_total offset 15m))",
        summary="Pattern extraction errors in {{ $labels.job }} ({{ $labels.error_type }})",
        description="{{ $value | humanize }} extraction errors of type {{ $labels.error_type }} in 15 minutes.",
        impact="Fewer patterns are learned; knowledge goes stale.",
        meaning="Pattern extraction raised errors within every 15-minute window (an increase, or the first error of a new type), for 30 minutes.",
        diagnosis=("sum by (error_type) (increase(pattern_extraction_errors_total[1h]))",),
        mitigation=("Read the extractor's logs for the error type.", "Quarantine the inputs that fail."),
        scenario=Scenario(
            firing={app_series("pattern_extraction_errors_total", 'error_type="parse_error"'): counter_values(2)},
            healthy={app_series("pattern_extraction_errors_total", 'error_type="parse_error"'): "0x200"},
            value=30,
            labels={"job": APP_JOB, "error_type": "parse_error"},
            active_from=1,
        ),
    ),
    Alert(
        name="MemoryCompressionRateLow",
        severity="P2",
        component="neural",
        expr="avg by (job) (avg_over_time(memory_compression_ratio[15m])) < 0.60",
        summary="Memory compression of {{ $labels.job }} is low",
        description="Compression saves {{ $value | humanizePercentage }} of pattern memory (target 60%+).",
        impact="Pattern memory grows faster; retrieval and costs suffer.",
        meaning="The fraction of memory saved by compression, averaged over 15 minutes, is below 0.60, for 30 minutes.",
        diagnosis=("memory_compression_ratio", "pattern_memory_bytes"),
        mitigation=("Check the compression job and the kind of new patterns.", "Re-run compaction."),
        scenario=Scenario(
            firing={app_series("memory_compression_ratio"): constant_values(0.4)},
            healthy={app_series("memory_compression_ratio"): constant_values(0.72)},
            value=0.4,
            labels=JOB_ONLY,
            active_from=0,
        ),
        threshold=0.60,
    ),
    Alert(
        name="AgentReliabilityLow",
        severity="P2",
        component="verification",
        expr="avg_over_time(agent_truth_score[15m]) < 0.85",
        summary="Agent {{ $labels.agent_id }} is unreliable",
        description="Truth score of {{ $labels.agent_id }} averages {{ $value | humanize }} (threshold 0.85).",
        impact="That agent's output fails verification more often; its tasks need review.",
        meaning="An agent's truth-score gauge averaged over 15 minutes is below 0.85, for 30 minutes.",
        diagnosis=(
            'agent_truth_score{agent_id="<agent>"}',
            "sum by (agent_id) (rate(verification_failures_total[15m]))",
        ),
        mitigation=("Review that agent's recent tasks and configuration.", "Take it out of rotation until fixed."),
        scenario=Scenario(
            firing={app_series("agent_truth_score", 'agent_id="tester-agent"'): constant_values(0.5)},
            healthy={app_series("agent_truth_score", 'agent_id="tester-agent"'): constant_values(0.96)},
            value=0.5,
            labels={**BASE_LABELS, "agent_id": "tester-agent"},
            active_from=0,
        ),
        threshold=0.85,
    ),
    Alert(
        name="CPUUsageHigh",
        severity="P2",
        component="resources",
        expr=f"rate(process_cpu_seconds_total{{{NOT_INFRASTRUCTURE}}}[5m]) > 0.8",
        summary="{{ $labels.job }} uses more than 80% of a CPU",
        description="The process uses {{ $value | humanizePercentage }} of one CPU (threshold 80%).",
        impact="Latency rises and throughput drops under load.",
        meaning=(
            "The application process uses more than 0.8 CPU seconds per second (80 % of one core) as a 5-minute "
            "rate, for 30 minutes (the stack's own components are excluded)."
        ),
        diagnosis=("rate(process_cpu_seconds_total[5m])", "job:neural_operations:rate5m"),
        mitigation=("Profile the process; check the neural operation rate.", "Scale out."),
        # partial windows: the extrapolated rate first exceeds 0.8 at 4m
        scenario=Scenario(
            firing={app_series("process_cpu_seconds_total"): counter_values(54)},
            healthy={
                app_series("process_cpu_seconds_total"): counter_values(12),
                'process_cpu_seconds_total{job="prometheus",instance="p1"}': counter_values(54),
            },
            value=0.9,
            labels=BASE_LABELS,
            active_from=4,
        ),
        threshold=0.8,
        group="resources",
    ),
    Alert(
        name="HTTPErrorRateHigh",
        severity="P2",
        component="http",
        expr="job:http_server_errors:ratio_rate5m > 0.05",
        summary="{{ $labels.job }} answers more than 5% of requests with errors",
        description="{{ $value | humanizePercentage }} of HTTP requests failed with 5xx over 5 minutes.",
        impact="Clients of the service see failures.",
        meaning="5xx responses divided by all requests, as 5-minute rates, exceed 5 % (0.05), for 30 minutes.",
        diagnosis=(
            'sum by (http_route, http_response_status_code) (rate(http_server_request_duration_seconds_count{http_response_status_code=~"5.."}[5m]))',
        ),
        mitigation=(
            "Find the failing route; read the application's logs.",
            "Roll back the last deployment if it coincides.",
        ),
        scenario=Scenario(
            firing={
                app_series(
                    "http_server_request_duration_seconds_count", 'http_route="/tick",http_response_status_code="500"'
                ): counter_values(30),
                app_series(
                    "http_server_request_duration_seconds_count", 'http_route="/tick",http_response_status_code="200"'
                ): counter_values(30),
            },
            healthy={
                app_series(
                    "http_server_request_duration_seconds_count", 'http_route="/tick",http_response_status_code="500"'
                ): counter_values(0),
                app_series(
                    "http_server_request_duration_seconds_count", 'http_route="/tick",http_response_status_code="200"'
                ): counter_values(60),
            },
            value=0.5,
            labels=JOB_ONLY,
        ),
        threshold=0.05,
        group="http",
    ),
    Alert(
        name="TaskFailureRateHigh",
        severity="P2",
        component="goap",
        expr='sum by (job) (job_status:task_completed:rate5m{status="failure"}) / sum by (job) (job_status:task_completed:rate5m) > 0.10',
        summary="More than 10% of {{ $labels.job }}'s tasks fail",
        description="{{ $value | humanizePercentage }} of completed tasks failed over 5 minutes.",
        impact="Features, fixes and refactors are not delivered.",
        meaning="Failed tasks divided by all completed tasks, as 5-minute rates, exceed 10 % (0.10), for 30 minutes.",
        diagnosis=(
            "job_status:task_completed:rate5m",
            'sum by (task_type) (rate(task_completed_total{status="failure"}[5m]))',
        ),
        mitigation=("Find the task types that fail and why.", "Check the verification and planning alerts."),
        scenario=Scenario(
            firing={
                app_series("task_completed_total", 'task_type="feature",status="failure"'): counter_values(30),
                app_series("task_completed_total", 'task_type="feature",status="success"'): counter_values(30),
            },
            healthy={
                app_series("task_completed_total", 'task_type="feature",status="failure"'): counter_values(0),
                app_series("task_completed_total", 'task_type="feature",status="success"'): counter_values(60),
            },
            value=0.5,
            labels=JOB_ONLY,
        ),
        threshold=0.10,
    ),
    Alert(
        name="EventLoopLagHigh",
        severity="P2",
        component="resources",
        expr="avg_over_time(python_eventloop_lag_seconds[5m]) > 0.1",
        summary="Event loop of {{ $labels.job }} lags",
        description="Scheduled wake-ups run {{ $value | humanizeDuration }} late on average (threshold 100ms).",
        impact="Every request and timer of the service is delayed.",
        meaning="The asyncio event loop's lag averaged over 5 minutes exceeds 0.1 seconds, for 30 minutes: blocking work runs on the loop.",
        diagnosis=("python_eventloop_lag_seconds", "rate(process_cpu_seconds_total[5m])"),
        mitigation=(
            "Find blocking calls on the loop (sync I/O, CPU-heavy code).",
            "Move them to threads or processes.",
        ),
        scenario=Scenario(
            firing={app_series("python_eventloop_lag_seconds"): constant_values(0.25)},
            healthy={app_series("python_eventloop_lag_seconds"): constant_values(0.001)},
            value=0.25,
            labels=BASE_LABELS,
            active_from=0,
        ),
        threshold=0.1,
        group="resources",
    ),
    # ---------------------------------------------------------------- P3
    Alert(
        name="PatternMemoryGrowth",
        severity="P3",
        component="capacity",
        expr="deriv(pattern_memory_bytes[1h]) * 86400 > 10485760",
        summary="Pattern memory of {{ $labels.job }} grows more than 10MB/day",
        description="Pattern memory grows by {{ $value | humanize1024 }}B per day (threshold 10MiB).",
        impact="Storage and memory needs rise; plan capacity.",
        meaning="The trend of pattern memory over the last 1 hour extrapolates to more than 10 MiB (10485760 bytes) per day, for 1 hour.",
        diagnosis=("deriv(pattern_memory_bytes[6h]) * 86400", "patterns_active"),
        mitigation=("Check whether unused patterns are being pruned.", "Plan more storage or tighten retention."),
        scenario=Scenario(
            firing={app_series("pattern_memory_bytes"): "0+12000x200"},
            healthy={app_series("pattern_memory_bytes"): "0+1000x200"},
            value=17280000,
            labels=BASE_LABELS,
        ),
        threshold=10485760,
        group="capacity",
    ),
    Alert(
        name="BackgroundTaskQueueLength",
        severity="P3",
        component="capacity",
        expr="background_task_queue_length > 100",
        summary="Background queue of {{ $labels.job }} is long",
        description="{{ $value | humanize }} background tasks are waiting (threshold 100).",
        impact="Background work (compaction, feedback) is delayed.",
        meaning="More than 100 background tasks are waiting, for 1 hour.",
        diagnosis=("background_task_queue_length", "rate(process_cpu_seconds_total[5m])"),
        mitigation=("Check worker health and throughput.", "Add workers."),
        scenario=Scenario(
            firing={app_series("background_task_queue_length"): constant_values(250)},
            healthy={app_series("background_task_queue_length"): constant_values(5)},
            value=250,
            labels=BASE_LABELS,
            active_from=0,
        ),
        threshold=100,
        group="capacity",
    ),
    Alert(
        name="LowDiskSpace",
        severity="P3",
        component="capacity",
        expr='node_filesystem_avail_bytes{mountpoint="/",fstype!~"tmpfs|overlay"}'
        ' / node_filesystem_size_bytes{mountpoint="/",fstype!~"tmpfs|overlay"} < 0.20',
        summary="Less than 20% disk space left on {{ $labels.instance }}",
        description="{{ $value | humanizePercentage }} of / is available on {{ $labels.instance }}.",
        impact="The database and Prometheus stop writing when the disk fills.",
        meaning="The root file system has less than 20 % (0.20) of its space free, for 1 hour.",
        diagnosis=('node_filesystem_avail_bytes{mountpoint="/"}', "du -sh on the data directories"),
        mitigation=("Free space: prune old data, logs, images.", "Grow the volume."),
        scenario=Scenario(
            firing={
                'node_filesystem_avail_bytes{job="node-exporter",instance="n1",mountpoint="/",fstype="ext4",device="/dev/vda"}': constant_values(
                    10
                ),
                'node_filesystem_size_bytes{job="node-exporter",instance="n1",mountpoint="/",fstype="ext4",device="/dev/vda"}': constant_values(
                    100
                ),
            },
            healthy={
                'node_filesystem_avail_bytes{job="node-exporter",instance="n1",mountpoint="/",fstype="ext4",device="/dev/vda"}': constant_values(
                    50
                ),
                'node_filesystem_size_bytes{job="node-exporter",instance="n1",mountpoint="/",fstype="ext4",device="/dev/vda"}': constant_values(
                    100
                ),
            },
            value=0.1,
            labels={
                "job": "node-exporter",
                "instance": "n1",
                "mountpoint": "/",
                "fstype": "ext4",
                "device": "/dev/vda",
            },
            active_from=0,
        ),
        threshold=0.20,
        group="capacity",
    ),
    Alert(
        name="UnusedPatternsAccumulating",
        severity="P3",
        component="capacity",
        expr="patterns_unused > 1000",
        summary="Unused patterns accumulate in {{ $labels.job }}",
        description="{{ $value | humanize }} patterns were not used within the idle period (threshold 1000).",
        impact="Memory is spent on patterns nobody uses.",
        meaning="More than 1,000 stored patterns are idle, for 1 hour.",
        diagnosis=("patterns_unused", "patterns_active"),
        mitigation=("Run the pattern pruning job.", "Shorten the idle period if it is too generous."),
        scenario=Scenario(
            firing={app_series("patterns_unused"): constant_values(2500)},
            healthy={app_series("patterns_unused"): constant_values(10)},
            value=2500,
            labels=BASE_LABELS,
            active_from=0,
        ),
        threshold=1000,
        group="capacity",
    ),
    Alert(
        name="MeasurementsDropped",
        severity="P3",
        component="instrumentation",
        expr="sum by (job, metric, reason) (increase(ccmon_dropped_measurements_total[1h]) > 0"
        " or (ccmon_dropped_measurements_total > 0 unless ccmon_dropped_measurements_total offset 1h))",
        summary="{{ $labels.job }} records invalid measurements ({{ $labels.metric }})",
        description="{{ $value | humanize }} measurements of {{ $labels.metric }} were dropped in an hour ({{ $labels.reason }}).",
        impact="Dashboards and alerts based on that metric undercount.",
        meaning="otel_ccmon rejected invalid input from the application (unknown attribute value, negative count, NaN) within every 1-hour window, for 1 hour.",
        diagnosis=("sum by (metric, reason) (increase(ccmon_dropped_measurements_total[1h]))",),
        mitigation=(
            "Find the call site passing the bad value (the log line names it).",
            "Fix it; run with CCMON_STRICT=1 in tests.",
        ),
        scenario=Scenario(
            firing={
                app_series(
                    "ccmon_dropped_measurements_total", 'metric="truth.score",reason="invalid_value"'
                ): counter_values(1)
            },
            healthy={
                app_series("ccmon_dropped_measurements_total", 'metric="truth.score",reason="invalid_value"'): "0x200"
            },
            value=60,
            labels={"job": APP_JOB, "metric": "truth.score", "reason": "invalid_value"},
            active_from=1,
        ),
        group="instrumentation",
    ),
)
