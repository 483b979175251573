"""The metric catalog: the only place a metric of otel-ccmon is defined.

Every metric's OpenTelemetry name, Prometheus name, kind, unit, description,
attribute allowlist and histogram boundaries are written here and nowhere else.
Recording helpers, the README table, the contract tests and the rule/dashboard
checks all read this module.

Prometheus names are a public contract (they are the names of the spec). They
are *derived* by both the Python Prometheus exporter and the collector's
prometheus exporter from the OTel name, unit and kind; :func:`prometheus_name`
mirrors that translation and a test asserts it yields ``prom_name`` for every
entry, so a rename can never slip through silently.

Unit choice: the collector appends ``_ratio`` to a gauge with unit ``1`` unless
the name already ends in ``ratio``, while the Python exporter does not. Ratio
gauges whose contract name does not end in ``ratio`` therefore use the UCUM
annotation ``{ratio}``, which both translators drop.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass

from otel_ccmon import _agents, _privacy


class Kind(enum.Enum):
    """Instrument kind of a catalog metric."""

    COUNTER = "counter"
    HISTOGRAM = "histogram"
    GAUGE = "gauge"


class Source(enum.Enum):
    """Who records a metric."""

    APP = "app"  # the recording helpers of otel_ccmon
    RUNTIME = "runtime"  # otel_ccmon's runtime observers
    HTTP = "http"  # opentelemetry-instrumentation-fastapi (stable HTTP semconv)
    SELF = "self"  # otel_ccmon's own health
    RECEIVER = "receiver"  # the alert receiver service
    CLAUDE_CODE = "claude_code"  # Claude Code's own counters, as the CLI sends them
    CLAUDE_CODE_EVENTS = "claude_code_events"  # derived in the collector from Claude Code's log events
    AGENTS = "agents"  # every coding agent's metrics, in one vocabulary (the collector's claudecode processor)
    GENAI = "genai"  # an app's model calls, recorded by otel_ccmon/_genai.py (tokens, requests: mapped to AGENTS)


OVERFLOW_VALUE = "__overflow__"
"""Value that replaces an unbounded attribute's value once its cap is reached."""


@dataclass(frozen=True, slots=True)
class Attribute:
    """An attribute key, with its allowed values when the set is bounded.

    ``allowed is None`` means the values come from users (agent ids, reasons…):
    they are accepted up to a per-metric cap, then folded into ``OVERFLOW_VALUE``.
    """

    key: str
    allowed: frozenset[str] | None = None

    @property
    def bounded(self) -> bool:
        return self.allowed is not None


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One catalog entry."""

    otel_name: str
    prom_name: str
    kind: Kind
    unit: str
    description: str
    attributes: tuple[Attribute, ...] = ()
    buckets: tuple[float, ...] | None = None
    source: Source = Source.APP

    @property
    def attribute_keys(self) -> tuple[str, ...]:
        return tuple(a.key for a in self.attributes)

    @property
    def prom_label_keys(self) -> frozenset[str]:
        """Prometheus label names this metric's series may carry (without ``le``)."""
        return frozenset(_sanitize(k) for k in self.attribute_keys)

    @property
    def prom_series_names(self) -> tuple[str, ...]:
        """Every sample name this metric produces in the exposition format."""
        if self.kind is Kind.HISTOGRAM:
            return tuple(f"{self.prom_name}{s}" for s in ("_bucket", "_sum", "_count"))
        return (self.prom_name,)


def _values(*values: str) -> frozenset[str]:
    return frozenset(values)


OPERATION_TYPE = Attribute("operation_type", _values("learning", "retrieval", "extraction"))
PATTERN_TYPE = Attribute("pattern_type", _values("coordination", "optimization", "prediction"))
QUERY_TYPE = Attribute("query_type", _values("select", "insert", "update", "delete"))
TABLE = Attribute("table", _values("patterns", "embeddings", "trajectories"))
TASK_TYPE = Attribute("task_type", _values("feature", "bugfix", "refactor"))
STATUS = Attribute("status", _values("success", "failure"))
STATUS_FIRING = Attribute("status", _values("firing", "resolved"))
REJECTION_REASONS = (
    "unauthorized",
    "unsupported_media_type",
    "too_large",
    "malformed_json",
    "too_deep",
    "invalid_schema",
    "storage_unavailable",  # 503: the database cannot be written (disk full): Alertmanager retries
)
AGENT_ID = Attribute("agent_id")
REASON = Attribute("reason")
ERROR_TYPE = Attribute("error_type")
CACHE_TYPE = Attribute("cache_type")
PLAN_TYPE = Attribute("plan_type")

# Boundaries. Sub-second latencies: 0.5 ms … 1 s with an edge at exactly 10 ms,
# the spec's "<10ms pattern retrieval" objective, so the SLO is an exact bucket.
LATENCY_BUCKETS: tuple[float, ...] = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.0075,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
)
CONFIDENCE_BUCKETS: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
TRUTH_SCORE_BUCKETS: tuple[float, ...] = (
    0.1,
    0.2,
    0.3,
    0.4,
    0.5,
    0.6,
    0.7,
    0.75,
    0.8,
    0.85,
    0.9,
    0.95,
    1.0,
)
AGENT_TASK_BUCKETS: tuple[float, ...] = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
GOAP_BUCKETS: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
GENAI_BUCKETS: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
# Model calls of the app's agents (ccmon-instrument's GenAI instrumentation, otel_ccmon/_genai.py):
# which agent (its name, capped; the service's when none is set), provider, model
GENAI_AGENT = Attribute("gen_ai.agent.name")
GENAI_PROVIDER = Attribute("gen_ai.provider.name", _values("anthropic", "openai", "gcp.gen_ai"))
GC_BUCKETS: tuple[float, ...] = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0)
HTTP_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
)

_C, _H, _G = Kind.COUNTER, Kind.HISTOGRAM, Kind.GAUGE

CATALOG: tuple[MetricSpec, ...] = (
    # Neural system
    MetricSpec(
        "neural.operations",
        "neural_operations_total",
        _C,
        "{operation}",
        "Neural operations performed.",
        (OPERATION_TYPE,),
    ),
    MetricSpec(
        "pattern.confidence",
        "pattern_confidence",
        _H,
        "1",
        "Confidence score of learned patterns (0-1).",
        (PATTERN_TYPE,),
        CONFIDENCE_BUCKETS,
    ),
    MetricSpec("pattern.memory", "pattern_memory_bytes", _G, "By", "Memory held by stored patterns."),
    MetricSpec(
        "memory.compression.ratio",
        "memory_compression_ratio",
        _G,
        "1",
        "Compressed size divided by raw size of pattern memory (0-1).",
    ),
    MetricSpec("feedback_loop.cycles", "feedback_loop_cycles_total", _C, "{cycle}", "Feedback-loop cycles completed."),
    MetricSpec("patterns.learned", "patterns_learned_total", _C, "{pattern}", "Patterns learned.", (PATTERN_TYPE,)),
    MetricSpec("patterns.reused", "patterns_reused_total", _C, "{pattern}", "Stored patterns reused.", (PATTERN_TYPE,)),
    MetricSpec(
        "pattern.extraction.errors",
        "pattern_extraction_errors_total",
        _C,
        "{error}",
        "Errors while extracting patterns.",
        (ERROR_TYPE,),
    ),
    MetricSpec(
        "pattern.retrieval.duration",
        "pattern_retrieval_duration_seconds",
        _H,
        "s",
        "Time to retrieve a pattern.",
        (),
        LATENCY_BUCKETS,
    ),
    MetricSpec("patterns.active", "patterns_active", _G, "{pattern}", "Patterns currently stored."),
    MetricSpec(
        "patterns.unused",
        "patterns_unused",
        _G,
        "{pattern}",
        "Stored patterns not used within the configured idle period.",
    ),
    # Verification & truth
    MetricSpec(
        "truth.score",
        "truth_score",
        _H,
        "1",
        "Truth score of each verification (0-1).",
        (AGENT_ID,),
        TRUTH_SCORE_BUCKETS,
    ),
    MetricSpec(
        "verification.success",
        "verification_success_total",
        _C,
        "{verification}",
        "Verifications that passed.",
        (AGENT_ID,),
    ),
    MetricSpec(
        "verification.failures",
        "verification_failures_total",
        _C,
        "{verification}",
        "Verifications that failed.",
        (AGENT_ID, REASON),
    ),
    MetricSpec("auto.rollback", "auto_rollback_total", _C, "{rollback}", "Automatic rollbacks.", (REASON,)),
    MetricSpec(
        "agent.truth_score",
        "agent_truth_score",
        _G,
        "{ratio}",
        "Latest truth score per agent (0-1).",
        (AGENT_ID,),
    ),
    MetricSpec(
        "agent.task.duration",
        "agent_task_duration_seconds",
        _H,
        "s",
        "Duration of agent tasks.",
        (AGENT_ID, TASK_TYPE),
        AGENT_TASK_BUCKETS,
    ),
    # Model calls (issue 33): the collector maps tokens and requests onto the every-agent metrics
    # (agent_token_usage_tokens_total, agent_api_requests_total) and prices the tokens; the duration
    # stays the app's own
    MetricSpec(
        "genai.tokens",
        "genai_tokens_total",
        _C,
        "tokens",
        "Tokens of the app's model calls (Anthropic, OpenAI, Google GenAI SDKs; the collector moves them into "
        "agent_token_usage_tokens_total), by agent, model and type (types disjoint: "
        "input excludes cached input, output excludes reasoning).",
        (
            GENAI_AGENT,
            GENAI_PROVIDER,
            Attribute("gen_ai.response.model"),
            Attribute("type", _values(*_agents.TOKEN_TYPES)),
        ),
        source=Source.GENAI,
    ),
    MetricSpec(
        "genai.requests",
        "genai_requests_total",
        _C,
        "{request}",
        "The app's model API calls, by agent, model and HTTP status (error: no response).",
        (GENAI_AGENT, GENAI_PROVIDER, Attribute("gen_ai.request.model"), Attribute("status_code")),
        source=Source.GENAI,
    ),
    MetricSpec(
        "genai.duration",
        "genai_duration_seconds",
        _H,
        "s",
        "Duration of the app's model API calls (to the response; a stream: to its first event), by agent, "
        "model and outcome.",
        (GENAI_AGENT, GENAI_PROVIDER, Attribute("gen_ai.request.model"), Attribute("outcome", _values("ok", "error"))),
        GENAI_BUCKETS,
        source=Source.GENAI,
    ),
    # Database & cache
    MetricSpec(
        "db.query.duration",
        "db_query_duration_seconds",
        _H,
        "s",
        "Database query duration.",
        (QUERY_TYPE, TABLE),
        LATENCY_BUCKETS,
    ),
    MetricSpec(
        "database.connection.errors",
        "database_connection_errors_total",
        _C,
        "{error}",
        "Failures to connect to the database (not query errors).",
        (ERROR_TYPE,),
    ),
    MetricSpec("cache.hits", "cache_hits_total", _C, "{access}", "Cache hits.", (CACHE_TYPE,)),
    MetricSpec("cache.misses", "cache_misses_total", _C, "{access}", "Cache misses.", (CACHE_TYPE,)),
    MetricSpec(
        "cache.hit_rate",
        "cache_hit_rate",
        _G,
        "{ratio}",
        "Hits divided by all accesses since start, per cache (0-1).",
        (CACHE_TYPE,),
    ),
    # GOAP & coordination
    MetricSpec(
        "goap.planning.duration",
        "goap_planning_duration_seconds",
        _H,
        "s",
        "GOAP planning duration.",
        (PLAN_TYPE,),
        GOAP_BUCKETS,
    ),
    MetricSpec(
        "coordination.efficiency",
        "coordination_efficiency",
        _G,
        "{ratio}",
        "Agent coordination efficiency (0-1).",
    ),
    MetricSpec(
        "task.completed",
        "task_completed_total",
        _C,
        "{task}",
        "Tasks completed, by outcome.",
        (TASK_TYPE, STATUS),
    ),
    MetricSpec(
        "background_task.queue.length",
        "background_task_queue_length",
        _G,
        "{task}",
        "Background tasks waiting.",
    ),
    MetricSpec("errors", "errors_total", _C, "{error}", "Application errors.", (ERROR_TYPE,)),
    # Runtime (Python counterparts of the spec's Node default metrics)
    MetricSpec(
        "process.cpu",
        "process_cpu_seconds_total",
        _C,
        "s",
        "User and system CPU time of the process.",
        source=Source.RUNTIME,
    ),
    MetricSpec(
        "process.resident_memory",
        "process_resident_memory_bytes",
        _G,
        "By",
        "Resident set size of the process.",
        source=Source.RUNTIME,
    ),
    MetricSpec(
        "python.gc.duration",
        "python_gc_duration_seconds",
        _H,
        "s",
        "Garbage-collector pause per collection.",
        (Attribute("generation", _values("0", "1", "2")),),
        GC_BUCKETS,
        Source.RUNTIME,
    ),
    MetricSpec(
        "python.eventloop.lag",
        "python_eventloop_lag_seconds",
        _G,
        "s",
        "Asyncio event-loop lag: how late a scheduled wake-up ran.",
        source=Source.RUNTIME,
    ),
    # HTTP server (recorded by opentelemetry-instrumentation-fastapi, stable semconv)
    MetricSpec(
        "http.server.request.duration",
        "http_server_request_duration_seconds",
        _H,
        "s",
        "HTTP server request duration, by route template.",
        (
            Attribute("http.request.method"),
            Attribute("http.route"),
            Attribute("http.response.status_code"),
            Attribute("url.scheme"),
            Attribute("network.protocol.version"),
            Attribute("error.type"),
        ),
        HTTP_BUCKETS,
        Source.HTTP,
    ),
    # The alert receiver service
    MetricSpec(
        "alert_receiver.notifications",
        "alert_receiver_notifications_total",
        _C,
        "{notification}",
        "Notifications accepted from Alertmanager, by receiver and group status.",
        (Attribute("receiver"), STATUS_FIRING),
        source=Source.RECEIVER,
    ),
    MetricSpec(
        "alert_receiver.alert_events",
        "alert_receiver_alert_events_total",
        _C,
        "{event}",
        "Alert state changes stored, by alert status and severity.",
        (STATUS_FIRING, Attribute("severity")),
        source=Source.RECEIVER,
    ),
    MetricSpec(
        "alert_receiver.duplicates",
        "alert_receiver_duplicates_total",
        _C,
        "{notification}",
        "Notifications received again (retries, HA pairs) and not stored twice, by receiver and group status.",
        (Attribute("receiver"), STATUS_FIRING),
        source=Source.RECEIVER,
    ),
    MetricSpec(
        "alert_receiver.rejections",
        "alert_receiver_rejections_total",
        _C,
        "{request}",
        "Requests rejected, by reason.",
        (Attribute("reason", _values(*REJECTION_REASONS)),),
        source=Source.RECEIVER,
    ),
    MetricSpec(
        "alert_receiver.processing.duration",
        "alert_receiver_processing_duration_seconds",
        _H,
        "s",
        "Time to validate and durably store one notification.",
        (),
        LATENCY_BUCKETS,
        Source.RECEIVER,
    ),
    MetricSpec(
        "alert_receiver.hook.runs",
        "alert_receiver_hook_runs_total",
        _C,
        "{run}",
        "Alert hook runs, by hook and outcome.",
        (Attribute("hook"), Attribute("outcome", _values("ok", "failed", "timeout"))),
        source=Source.RECEIVER,
    ),
    # otel_ccmon's own health
    MetricSpec(
        "ccmon.dropped_measurements",
        "ccmon_dropped_measurements_total",
        _C,
        "{measurement}",
        "Measurements rejected as invalid, by metric and reason.",
        (Attribute("metric"), Attribute("reason")),
        source=Source.SELF,
    ),
    MetricSpec(
        "ccmon.series",
        "ccmon_series",
        _G,
        "{series}",
        "Attribute sets held by otel_ccmon's fast recording path (all metrics).",
        source=Source.SELF,
    ),
)

# Claude Code (NOTES.md §5; verified against the real CLI by tests/e2e/test_claude_code_cli.py).
# The attributes are those *kept* by the collector's claudecode processor: session.id,
# anthropic.custom_base_url, start_type and the agent/skill/plugin/MCP names are dropped (series
# churn); the identity keys (user.email, enduser.id) are kept as keyed pseudonyms unless the operator
# chooses drop or keep (CCMON_IDENTITY_POLICY; otel_ccmon/_privacy.py, docs/claude-code.md).
#
# Series per developer (issue 20): only who (the identity keys, one value per developer), the
# model and a bounded type are kept on per-developer metrics; terminal.type, provider,
# query_source, speed and effort would multiply every developer's series and answer no question
# the dashboard, alerts or report ask. Edit decisions by tool and language are kept per
# organisation only. mixin/collector_firewall.py sizes Claude Code's stream budget from this.
CLAUDE_CODE_SERVICE = "claude-code"
"""The ``service.name`` Claude Code reports (Claude Desktop's Code tab: ``claude-code-desktop``)."""

CLAUDE_CODE_IDENTITY_KEYS: tuple[str, ...] = (
    "user.id",
    "user.account_uuid",
    "organization.id",
    "user.email",
    "enduser.id",  # API-key, Bedrock and Vertex users, whom no account names (set in OTEL_RESOURCE_ATTRIBUTES)
)
"""Attributes that name the developer: one value each per developer, so they multiply no series."""

CLAUDE_CODE_ATTRIBUTION_KEYS: tuple[str, ...] = ("department", "team.id", "cost_center", "project")
"""Who pays (issue 21): the keys Claude Code's docs recommend in ``OTEL_RESOURCE_ATTRIBUTES``
(``department``, ``team.id``, ``cost_center``) and ``project``, set per repository through its
``.claude/settings.json`` (docs/claude-code.md). A label on every Claude Code metric; the default of
``claude_code.attribution_keys`` in mixin/settings.yml. Capped per key in the collector."""

CLAUDE_CODE_WORK_KEYS: tuple[str, ...] = ("agent.name", "skill.name", "plugin.name", "mcp_server.name", "mcp_tool.name")
"""What spent: the subagent, skill, plugin and MCP server or tool on cost and token points. Capped."""

CLAUDE_CODE_CAPPED_KEYS: tuple[str, ...] = (
    *CLAUDE_CODE_ATTRIBUTION_KEYS,
    *CLAUDE_CODE_WORK_KEYS,
    "agent_type",
    "error_name",
)
"""Keys whose values come from users or configuration: the collector keeps a bounded number of
distinct values of each (``claude_code.max_values_per_key``), folds the rest into ``__other__``
and counts them (``otelcol_ccmon_claude_code_folded_values``)."""

_CC_ORG = tuple(Attribute(k) for k in CLAUDE_CODE_ATTRIBUTION_KEYS)
_CC_USER = tuple(Attribute(k) for k in CLAUDE_CODE_IDENTITY_KEYS) + _CC_ORG
_CC_WORK = tuple(Attribute(k) for k in CLAUDE_CODE_WORK_KEYS)
_CC_MODEL = (Attribute("model"),)
TOKEN_TYPES: tuple[str, ...] = ("input", "output", "cacheRead", "cacheCreation")
"""The ``type`` values of ``claude_code.token.usage``, in Claude Code's spelling."""
CLAUDE_CODE_DURATION_BUCKETS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)

CLAUDE_CODE_EVENTS: tuple[str, ...] = tuple(_privacy.EVENTS)
"""The events Claude Code 2.1.332 sends, counted by name; others are ``other`` (otel_ccmon/_privacy.py;
the collector's claudecodeeventsconnector holds the same list: a unit test compares them)."""
CLAUDE_CODE_SPAN_TYPES: tuple[str, ...] = tuple(_privacy.SPANS)
"""The span names of Claude Code's traces beta, without their ``claude_code.`` prefix."""
TOOL_ORIGINS: tuple[str, ...] = ("model", "code_mode")
"""Who made a tool call: the model, or a Code Mode script (tool-use ids ``toolu_cc_``, ``repl_``)."""
HOOK_OUTCOMES: tuple[str, ...] = ("success", "blocking", "non_blocking_error", "cancelled")
MCP_CONNECTION_STATUSES: tuple[str, ...] = ("connected", "disconnected", "failed", "unknown")


def _event_metric(
    otel_name: str,
    prom_name: str,
    unit: str,
    description: str,
    attributes: tuple[Attribute, ...],
    *,
    histogram: bool = False,
) -> MetricSpec:
    kind = Kind.HISTOGRAM if histogram else Kind.COUNTER
    return MetricSpec(
        otel_name,
        prom_name,
        kind,
        unit,
        description,
        (*attributes, *_CC_ORG),
        CLAUDE_CODE_DURATION_BUCKETS if histogram else None,
        source=Source.CLAUDE_CODE_EVENTS,
    )


_EVENT_METRICS: tuple[MetricSpec, ...] = (
    _event_metric(
        "ccmon.claude_code.events",
        "ccmon_claude_code_events_total",
        "{event}",
        "Claude Code events by name (the documented names; others are `other`).",
        (Attribute("event", _values(*CLAUDE_CODE_EVENTS, "other")),),
    ),
    _event_metric(
        "ccmon.claude_code.api.retries_exhausted",
        "ccmon_claude_code_api_retries_exhausted_total",
        "{request}",
        "Claude Code API requests that failed after every retry (api_retries_exhausted), by model and status code.",
        (Attribute("model"), Attribute("status_code")),
    ),
    _event_metric(
        "ccmon.claude_code.api.refusals",
        "ccmon_claude_code_api_refusals_total",
        "{request}",
        "Claude Code API requests the model refused (api_refusal), by model.",
        (Attribute("model"),),
    ),
    _event_metric(
        "ccmon.claude_code.compactions",
        "ccmon_claude_code_compactions_total",
        "{compaction}",
        "Claude Code context compactions, by trigger (auto, manual) and success.",
        (Attribute("trigger"), Attribute("success", _values("true", "false", "unknown"))),
    ),
    _event_metric(
        "ccmon.claude_code.compaction.duration",
        "ccmon_claude_code_compaction_duration_seconds",
        "s",
        "Duration of Claude Code's context compactions.",
        (Attribute("trigger"),),
        histogram=True,
    ),
    _event_metric(
        "ccmon.claude_code.subagents",
        "ccmon_claude_code_subagents_total",
        "{subagent}",
        "Claude Code subagent runs completed, by agent type (custom agents: `custom`).",
        (Attribute("agent_type"),),
    ),
    _event_metric(
        "ccmon.claude_code.subagent.duration",
        "ccmon_claude_code_subagent_duration_seconds",
        "s",
        "Duration of Claude Code's subagent runs.",
        (Attribute("agent_type"),),
        histogram=True,
    ),
    _event_metric(
        "ccmon.claude_code.subagent.tokens",
        "ccmon_claude_code_subagent_tokens_total",
        "{token}",
        "Tokens used by Claude Code's subagent runs (subagent_completed.total_tokens).",
        (Attribute("agent_type"),),
    ),
    _event_metric(
        "ccmon.claude_code.hook.executions",
        "ccmon_claude_code_hook_executions_total",
        "{hook}",
        "Claude Code hook executions by hook event and outcome "
        "(non_blocking_error: failed; cancelled: timed out or aborted).",
        (Attribute("hook_event"), Attribute("outcome", _values(*HOOK_OUTCOMES))),
    ),
    _event_metric(
        "ccmon.claude_code.hook.duration",
        "ccmon_claude_code_hook_duration_seconds",
        "s",
        "Duration of Claude Code's hook runs (all hooks of one event together).",
        (Attribute("hook_event"),),
        histogram=True,
    ),
    _event_metric(
        "ccmon.claude_code.mcp.connections",
        "ccmon_claude_code_mcp_connections_total",
        "{connection}",
        "Claude Code MCP server connections by server (named only with OTEL_LOG_TOOL_DETAILS), status and transport.",
        (
            Attribute("mcp_server.name"),
            Attribute("status", _values(*MCP_CONNECTION_STATUSES)),
            Attribute("transport_type"),
        ),
    ),
    _event_metric(
        "ccmon.claude_code.internal_errors",
        "ccmon_claude_code_internal_errors_total",
        "{error}",
        "Claude Code internal errors by error name.",
        (Attribute("error_name"),),
    ),
    _event_metric(
        "ccmon.claude_code.span.duration",
        "ccmon_claude_code_span_duration_seconds",
        "s",
        "Duration of Claude Code's spans (traces beta), by span type (the 10 span names of 2.1.332), "
        "model, tool and, for tool spans, who called the tool (model or Code Mode).",
        (
            Attribute("span_type", _values(*CLAUDE_CODE_SPAN_TYPES)),
            Attribute("model"),
            Attribute("tool_name"),
            Attribute("origin", _values(*TOOL_ORIGINS)),
        ),
        histogram=True,
    ),
    _event_metric(
        "ccmon.claude_code.llm.ttft",
        "ccmon_claude_code_llm_ttft_seconds",
        "s",
        "Time to first token of Claude Code's LLM requests (the llm_request span's ttft_ms), by model.",
        (Attribute("model"),),
        histogram=True,
    ),
    _event_metric(
        "ccmon.claude_code.permission_mode.changes",
        "ccmon_claude_code_permission_mode_changes_total",
        "{change}",
        "Claude Code permission-mode changes, by the mode changed to.",
        (Attribute("to_mode"),),
    ),
)

CLAUDE_CODE_CATALOG: tuple[MetricSpec, ...] = (
    MetricSpec(
        "claude_code.session.count",
        "claude_code_session_count_total",
        _C,
        "",
        "Claude Code sessions started.",
        _CC_USER,
        source=Source.CLAUDE_CODE,
    ),
    MetricSpec(
        "claude_code.cost.usage",
        "claude_code_cost_usage_USD_total",
        _C,
        "USD",
        "Estimated cost of Claude Code's API requests (the client's estimate, not billing), by model and by the "
        "subagent, skill, plugin or MCP server that spent it.",
        _CC_USER + _CC_MODEL + _CC_WORK,
        source=Source.CLAUDE_CODE,
    ),
    MetricSpec(
        "claude_code.token.usage",
        "claude_code_token_usage_tokens_total",
        _C,
        "tokens",
        "Tokens used by Claude Code's API requests, by type.",
        (*_CC_USER, *_CC_MODEL, Attribute("type", _values(*TOKEN_TYPES)), *_CC_WORK),
        source=Source.CLAUDE_CODE,
    ),
    MetricSpec(
        "claude_code.active_time.total",
        "claude_code_active_time_seconds_total",
        _C,
        "s",
        "Time Claude Code was actively used (user typing or CLI working).",
        (*_CC_USER, Attribute("type", _values("user", "cli"))),
        source=Source.CLAUDE_CODE,
    ),
    MetricSpec(
        "claude_code.lines_of_code.count",
        "claude_code_lines_of_code_count_total",
        _C,
        "",
        "Lines of code added or removed by Claude Code.",
        (*_CC_USER, Attribute("type", _values("added", "removed"))),
        source=Source.CLAUDE_CODE,
    ),
    MetricSpec(
        "claude_code.commit.count",
        "claude_code_commit_count_total",
        _C,
        "",
        "Git commits created by Claude Code.",
        _CC_USER,
        source=Source.CLAUDE_CODE,
    ),
    MetricSpec(
        "claude_code.pull_request.count",
        "claude_code_pull_request_count_total",
        _C,
        "",
        "Pull requests created by Claude Code.",
        _CC_USER,
        source=Source.CLAUDE_CODE,
    ),
    MetricSpec(
        "claude_code.code_edit_tool.decision",
        "claude_code_code_edit_tool_decision_total",
        _C,
        "",
        "Decisions on Claude Code's edit tools (accept/reject), by tool, source and language (per organisation).",
        (Attribute("tool_name"), Attribute("decision"), Attribute("source"), Attribute("language"), *_CC_ORG),
        source=Source.CLAUDE_CODE,
    ),
    # derived in the collector (claudecode_events connector) from the log events
    MetricSpec(
        "ccmon.claude_code.api.requests",
        "ccmon_claude_code_api_requests_total",
        _C,
        "{request}",
        "Claude Code API requests by model and status code (200: api_request, others: api_error).",
        (Attribute("model"), Attribute("status_code"), *_CC_ORG),
        source=Source.CLAUDE_CODE_EVENTS,
    ),
    MetricSpec(
        "ccmon.claude_code.api.request.duration",
        "ccmon_claude_code_api_request_duration_seconds",
        _H,
        "s",
        "Duration of Claude Code's successful API requests (api_request.duration_ms).",
        (Attribute("model"), *_CC_ORG),
        CLAUDE_CODE_DURATION_BUCKETS,
        source=Source.CLAUDE_CODE_EVENTS,
    ),
    MetricSpec(
        "ccmon.claude_code.api.cost",
        "ccmon_claude_code_api_cost_USD_total",
        _C,
        "USD",
        "Cost of Claude Code's API requests from api_request.cost_usd (cross-check of cost.usage).",
        (Attribute("model"), Attribute("user.id"), Attribute("enduser.id"), *_CC_ORG),
        source=Source.CLAUDE_CODE_EVENTS,
    ),
    MetricSpec(
        "ccmon.claude_code.api.tokens",
        "ccmon_claude_code_api_tokens_total",
        _C,
        "{token}",
        "Tokens of Claude Code's API requests from the api_request events, by type.",
        (Attribute("model"), Attribute("type", _values(*TOKEN_TYPES)), *_CC_ORG),
        source=Source.CLAUDE_CODE_EVENTS,
    ),
    MetricSpec(
        "ccmon.claude_code.tool.results",
        "ccmon_claude_code_tool_results_total",
        _C,
        "{result}",
        "Claude Code tool executions by tool and success.",
        (
            Attribute("tool_name"),
            Attribute("success", _values("true", "false", "unknown")),
            Attribute("origin", _values(*TOOL_ORIGINS)),
            *_CC_ORG,
        ),
        source=Source.CLAUDE_CODE_EVENTS,
    ),
    MetricSpec(
        "ccmon.claude_code.tool.duration",
        "ccmon_claude_code_tool_duration_seconds",
        _H,
        "s",
        "Duration of Claude Code tool executions.",
        (Attribute("tool_name"), Attribute("origin", _values(*TOOL_ORIGINS)), *_CC_ORG),
        CLAUDE_CODE_DURATION_BUCKETS,
        source=Source.CLAUDE_CODE_EVENTS,
    ),
    MetricSpec(
        "ccmon.claude_code.tool.decisions",
        "ccmon_claude_code_tool_decisions_total",
        _C,
        "{decision}",
        "Claude Code permission decisions on tool use, by tool, decision and source.",
        (Attribute("tool_name"), Attribute("decision"), Attribute("source"), *_CC_ORG),
        source=Source.CLAUDE_CODE_EVENTS,
    ),
    MetricSpec(
        "ccmon.claude_code.prompts",
        "ccmon_claude_code_prompts_total",
        _C,
        "{prompt}",
        "Prompts submitted to Claude Code.",
        (Attribute("user.id"), Attribute("enduser.id"), *_CC_ORG),
        source=Source.CLAUDE_CODE_EVENTS,
    ),
    *_EVENT_METRICS,
)

# Every coding agent in one vocabulary (issue 32, otel_ccmon/_agents.py): made in the collector from
# each agent's own metrics; the agent label tells them apart, the types never overlap.
# the coding agents' names, and the agents of applications (ccmon-instrument): capped in the collector
_AGENT = (Attribute(_agents.AGENT_KEY),)
_AGENT_WHO = _AGENT + _CC_USER


def _agent_metric(
    otel_name: str, prom_name: str, unit: str, description: str, *attrs: Attribute, per_user: bool = True
) -> MetricSpec:
    who = _AGENT_WHO if per_user else (*_AGENT, *_CC_ORG)
    return MetricSpec(otel_name, prom_name, _C, unit, description, (*who, *attrs), source=Source.AGENTS)


AGENT_CATALOG: tuple[MetricSpec, ...] = (
    _agent_metric(
        _agents.TOKENS,
        "agent_token_usage_tokens_total",
        "tokens",
        "Tokens of every coding agent, by agent, model and type (types disjoint: input excludes cached input, "
        "output excludes reasoning).",
        *_CC_MODEL,
        Attribute("type", _values(*_agents.TOKEN_TYPES)),
    ),
    _agent_metric(
        _agents.COST,
        "agent_cost_usage_USD_total",
        "USD",
        "Cost of every coding agent: as the agent sends it (estimated=false, Claude Code's own estimate) or tokens "
        "x the price table (estimated=true).",
        *_CC_MODEL,
        Attribute("estimated", _values("true", "false")),
    ),
    _agent_metric(
        _agents.UNPRICED,
        "agent_token_unpriced_tokens_total",
        "tokens",
        "Tokens of a model the price table lacks (counted in agent_token_usage, in no cost): priced at nothing, "
        "never at 0.",
        *_CC_MODEL,
        Attribute("type", _values(*_agents.TOKEN_TYPES)),
    ),
    _agent_metric(
        _agents.REQUESTS,
        "agent_api_requests_total",
        "{request}",
        "Model API requests of every coding agent, by model and status code (per organisation, not per user).",
        *_CC_MODEL,
        Attribute("status_code"),
        per_user=False,
    ),
    _agent_metric(_agents.SESSIONS, "agent_session_count_total", "{session}", "Sessions of every coding agent."),
)

ALL_METRICS: tuple[MetricSpec, ...] = CATALOG + CLAUDE_CODE_CATALOG + AGENT_CATALOG
"""Every metric the pipeline knows: otel-ccmon's own, Claude Code's and the coding agents' shared ones
(rules and panels use these)."""

BY_OTEL_NAME: Mapping[str, MetricSpec] = {m.otel_name: m for m in ALL_METRICS}
BY_PROM_NAME: Mapping[str, MetricSpec] = {m.prom_name: m for m in ALL_METRICS}

# units the collector appends as they are (not UCUM annotations in braces)
_UNIT_SUFFIX = {"s": "seconds", "By": "bytes", "ms": "milliseconds", "USD": "USD", "tokens": "tokens"}
_INVALID = re.compile(r"[^a-zA-Z0-9_]")


def _sanitize(name: str) -> str:
    return _INVALID.sub("_", name)


def prometheus_name(otel_name: str, unit: str, kind: Kind, *, via_collector: bool = False) -> str:
    """Translate an OTel metric to the Prometheus name the exporters produce.

    Mirrors the Python Prometheus exporter and (``via_collector=True``) the
    collector's prometheus exporter for the units this catalog uses.

    >>> prometheus_name("db.query.duration", "s", Kind.HISTOGRAM)
    'db_query_duration_seconds'
    >>> prometheus_name("cache.hit_rate", "1", Kind.GAUGE, via_collector=True)
    'cache_hit_rate_ratio'
    """
    name = _sanitize(otel_name)
    if kind is Kind.COUNTER and name.endswith("_total"):
        # the exporters drop a "total" word before adding the unit and the _total suffix again
        name = name.removesuffix("_total")
    if unit and not unit.startswith("{"):
        suffix = _UNIT_SUFFIX.get(unit, "")
        if unit == "1" and via_collector and kind is Kind.GAUGE:
            suffix = "ratio"
        if suffix and not name.endswith(suffix):
            name = f"{name}_{suffix}"
    if kind is Kind.COUNTER and not name.endswith("_total"):
        name = f"{name}_total"
    return name
