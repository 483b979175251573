"""Settings of the mixin: ``mixin/settings.yml`` (validated), alert tiers, and the metric names of
the exporters that rules and dashboards may use besides the catalog."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, ValidationError, field_validator

from otel_ccmon import _privacy
from otel_ccmon._catalog import CLAUDE_CODE_ATTRIBUTION_KEYS, CLAUDE_CODE_IDENTITY_KEYS
from otel_ccmon._meta import DEMO_SERVICE_NAME

SETTINGS_FILE = Path(__file__).with_name("settings.yml")
INFRASTRUCTURE_JOBS: tuple[str, ...] = (
    "otel-collector",
    "prometheus",
    "alertmanager",
    "grafana",
    "node-exporter",
    "alert-receiver",
    "thanos-sidecar",
    "thanos-store",
    "thanos-compact",
    "thanos-query",
)
"""The stack's own scrape jobs: the application alerts' generic process metrics (memory, CPU)
never select them; ComponentMemoryHigh gives each its own threshold (issue 23)."""
NOT_INFRASTRUCTURE = f'job!~"{"|".join(INFRASTRUCTURE_JOBS)}"'
"""Label matcher of every job that is not one of the stack's own components."""
APPLICATION_ROLE = 'ccmon_role="application"'
"""Label matcher of the scrape jobs that watch applications directly (their `up` is liveness)."""


class SpendBudget(BaseModel):
    """A team's or a cost centre's Claude Code budget, and where its alerts go."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    daily_usd: float | None = Field(default=None, gt=0)
    monthly_usd: float | None = Field(default=None, gt=0)
    # an Alertmanager receiver of alertmanager/alertmanager.yml; None: the severity routes
    receiver: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")


def _attribute_names(keys: tuple[str, ...], what: str, pattern: str) -> tuple[str, ...]:
    """``keys`` if each is an attribute name of ``pattern``'s shape, else a ``ValueError`` naming it."""
    for key in keys:
        if not re.fullmatch(pattern, key):
            lower = "lower-case " if pattern.startswith("[a-z]") else ""
            raise ValueError(f"{what} {key!r}: {lower}letters, digits, '_' and '.' only")
    return keys


class ClaudeCodeSettings(BaseModel):
    """Thresholds of the Claude Code alerts (``claude_code:`` in ``mixin/settings.yml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hourly_budget_usd: float = Field(default=50.0, gt=0)
    daily_budget_usd: float = Field(default=500.0, gt=0)
    user_hourly_spike_usd: float = Field(default=20.0, gt=0)
    api_error_ratio: float = Field(default=0.05, gt=0, lt=1)
    rate_limited_per_5m: int = Field(default=10, ge=1)
    cache_read_share_min: float = Field(default=0.2, gt=0, lt=1)
    cache_min_tokens_per_hour: int = Field(default=100_000, ge=1)
    retries_exhausted_per_10m: int = Field(default=5, ge=1)  # requests given up after every retry
    refusals_per_10m: int = Field(default=10, ge=1)
    mcp_failures_per_30m: int = Field(default=3, ge=1)  # failed MCP server connections, per server
    hook_failure_ratio: float = Field(default=0.2, gt=0, lt=1)  # hooks failed or timed out, per hook event
    working_hours_utc: tuple[int, int] = (8, 18)  # telemetry is expected from the first hour to before the second
    # the service.name values handled as Claude Code (the CLI; Claude Desktop's Code tab)
    services: tuple[str, ...] = Field(default=("claude-code", "claude-code-desktop"), min_length=1, max_length=20)
    # sizes Claude Code's stream budget (mixin/collector_firewall.py): developers x series each
    expected_developers: int = Field(default=2000, ge=1, le=1_000_000)
    models_per_developer: int = Field(default=3, ge=1, le=50)
    # who pays (issue 21): OTEL_RESOURCE_ATTRIBUTES keys kept as labels on every Claude Code metric
    attribution_keys: tuple[str, ...] = Field(default=CLAUDE_CODE_ATTRIBUTION_KEYS, max_length=10)
    # distinct values kept per attribution, subagent, skill, plugin or MCP key; the rest: __other__
    max_values_per_key: int = Field(default=200, ge=1, le=100_000)
    projects_per_developer: int = Field(default=1, ge=1, le=100)  # raise it when `project` is set
    # distinct subagent / skill / plugin / MCP contexts a developer's spend splits over, per model
    work_contexts_per_developer: int = Field(default=2, ge=1, le=100)
    expected_teams: int = Field(default=20, ge=1, le=10_000)
    team_budgets: dict[str, SpendBudget] = Field(default_factory=dict)  # by team.id
    cost_center_budgets: dict[str, SpendBudget] = Field(default_factory=dict)  # by cost_center
    # privacy (issue 30, otel_ccmon/_privacy.py): further attributes that name a person (hashed,
    # dropped or kept with user.email, enduser.id and process.owner), and the content attributes an
    # organisation chooses to keep in its own log or trace store (none by default)
    identity_keys: tuple[str, ...] = Field(default=(), max_length=20)
    keep_content: tuple[str, ...] = Field(default=(), max_length=len(_privacy.CONTENT))

    @field_validator("keep_content")
    @classmethod
    def _keep_content(cls, keys: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(keys) - set(_privacy.CONTENT))
        if unknown:
            raise ValueError(f"keep_content: {unknown} are not content keys; known: {sorted(_privacy.CONTENT)}")
        return keys

    @field_validator("identity_keys")
    @classmethod
    def _identity_keys(cls, keys: tuple[str, ...]) -> tuple[str, ...]:
        return _attribute_names(keys, "identity key", r"[A-Za-z][A-Za-z0-9_.]{0,63}")

    @field_validator("attribution_keys")
    @classmethod
    def _attribution_keys(cls, keys: tuple[str, ...]) -> tuple[str, ...]:
        identity = [k for k in keys if k in CLAUDE_CODE_IDENTITY_KEYS]
        if identity:
            raise ValueError(f"attribution key {identity[0]!r} is an identity key (kept per developer already)")
        return _attribute_names(keys, "attribution key", r"[a-z][a-z0-9_.]{0,63}")


DURATION = r"^[0-9]+(ms|s|m|h|d|w|y)$"


class LongTermSettings(BaseModel):
    """Retention per resolution in the Thanos bucket (``long_term:``; docs/long-term.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    retention_raw: str = Field(default="30d", pattern=DURATION)
    retention_5m: str = Field(default="180d", pattern=DURATION)
    retention_1h: str = Field(default="2y", pattern=DURATION)


class PriceRow(BaseModel):
    """USD per million tokens of one model (``agents.prices`` in ``mixin/settings.yml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    agent: str = Field(default="*", pattern=r"^(\*|[a-z0-9-]+)$")  # "*": any agent
    model: str = Field(min_length=1, max_length=128)  # a trailing "*" matches a prefix
    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_read: float | None = Field(default=None, ge=0, alias="cacheRead")
    cache_creation: float | None = Field(default=None, ge=0, alias="cacheCreation")
    # billed as output (Gemini thinking, OpenAI reasoning) and as input (Gemini tool-use prompts)
    # unless the row says otherwise
    reasoning: float | None = Field(default=None, ge=0)
    tool: float | None = Field(default=None, ge=0)

    def per_million(self) -> dict[str, float]:
        """The row as the collector reads it: our token type -> USD per million; a type the row
        does not price (no cache price given) is left out, so its tokens are counted as unpriced."""
        out = {
            "input": self.input,
            "output": self.output,
            "reasoning": self.output if self.reasoning is None else self.reasoning,
            "tool": self.input if self.tool is None else self.tool,
        }
        if self.cache_read is not None:
            out["cacheRead"] = self.cache_read
        if self.cache_creation is not None:
            out["cacheCreation"] = self.cache_creation
        return out


class AgentsSettings(BaseModel):
    """Every coding agent (``agents:``; docs/agents.md): the price table and the alert thresholds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prices_as_of: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    prices: tuple[PriceRow, ...] = Field(default=(), max_length=1000)
    api_error_ratio: float = Field(default=0.05, gt=0, lt=1)
    rate_limited_per_5m: int = Field(default=10, ge=1)
    # applications' model calls (issue 33): p95 latency per agent and model, tokens per agent and hour
    model_latency_p95_seconds: float = Field(default=10.0, gt=0)
    tokens_per_hour: int = Field(default=5_000_000, ge=1)
    # budgets over every coding agent together, by team.id and cost_center (like claude_code's)
    team_budgets: dict[str, SpendBudget] = Field(default_factory=dict)
    cost_center_budgets: dict[str, SpendBudget] = Field(default_factory=dict)

    @field_validator("prices")
    @classmethod
    def _unique(cls, rows: tuple[PriceRow, ...]) -> tuple[PriceRow, ...]:
        seen: set[tuple[str, str]] = set()
        for row in rows:
            if (row.agent, row.model) in seen:
                raise ValueError(f"prices: {row.agent}/{row.model} is listed twice")
            seen.add((row.agent, row.model))
        return rows


class MixinSettings(BaseModel):
    """The user's settings of the mixin (``mixin/settings.yml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    runbook_base_url: AnyHttpUrl
    claude_code: ClaudeCodeSettings = ClaudeCodeSettings()
    agents: AgentsSettings = AgentsSettings(prices_as_of="2026-12-01")
    long_term: LongTermSettings = LongTermSettings()
    expected_services: tuple[str, ...] = Field(default=(), max_length=500)
    # applications' own catalogs (otel_ccmon.load_catalog), relative to the repository: their metrics
    # join the collector's allowlist, a dashboard row each, an alert per declared objective
    app_catalogs: tuple[str, ...] = Field(default=(), max_length=100)
    series_budget_per_service: int | None = Field(default=None, ge=1, le=10_000_000)
    prometheus_head_series_limit: int = Field(default=200_000, ge=1000)
    # resident memory (MiB) above which ComponentMemoryHigh fires, per infrastructure job
    component_memory_mib: dict[str, int] = Field(
        default_factory=lambda: {"prometheus": 4096, "alertmanager": 512, "alert-receiver": 512, "node-exporter": 256}
    )


class SettingsError(ValueError):
    """The mixin's settings file is invalid; the message names the field."""


def load_settings(path: Path = SETTINGS_FILE) -> MixinSettings:
    """Read and validate the settings; :class:`SettingsError` names the field at fault.

    >>> load_settings().runbook_base_url.scheme
    'http'
    """
    try:
        data = yaml.safe_load(path.read_text()) or {}
        return MixinSettings.model_validate(data)
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML ({exc})") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SettingsError(f"{path}: {problems}") from None


SETTINGS = load_settings()
RUNBOOK_BASE = str(SETTINGS.runbook_base_url).rstrip("/")
APP_JOB = DEMO_SERVICE_NAME
"""The demo app's job: used only in the input series of promtool scenarios, never in a rule."""
SECOND_SERVICE = "indep-agents"
"""A push-only service (no scrape target) every application alert is also tested for."""
TIER_FOR = {"P0": "2m", "P1": "10m", "P2": "30m", "P3": "1h"}

# Metric names of the exporters our rules and dashboards may reference (besides the catalog).
EXTERNAL_METRICS: Mapping[str, frozenset[str]] = {
    "prometheus-scrape": frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"}),
    "otelcol": frozenset(
        {
            "otelcol_receiver_accepted_metric_points",
            "otelcol_receiver_refused_metric_points",
            "otelcol_receiver_failed_metric_points",
            "otelcol_receiver_accepted_spans",
            "otelcol_receiver_refused_spans",
            "otelcol_exporter_sent_metric_points",
            "otelcol_exporter_send_failed_metric_points",
            "otelcol_exporter_queue_size",
            "otelcol_exporter_queue_capacity",
            "otelcol_processor_memory_limiter_refused_metric_points",
            "otelcol_process_memory_rss",
            # our cardinalityguard processor (collector/cardinalityguardprocessor)
            "otelcol_ccmon_guard_points",
            "otelcol_ccmon_guard_active_streams",
            "otelcol_ccmon_guard_stream_budget",
            # our claudecode processor and claudecode_events connector
            "otelcol_ccmon_claude_code_points",
            "otelcol_ccmon_claude_code_dropped_value",
            "otelcol_ccmon_claude_code_folded_values",
            "otelcol_ccmon_claude_code_streams",
            "otelcol_ccmon_claude_code_events",
        }
    ),
    "prometheus": frozenset(
        {
            "prometheus_rule_evaluation_failures_total",
            "prometheus_notifications_errors_total",
            "prometheus_notifications_dropped_total",
            "prometheus_notifications_alertmanagers_discovered",
            "prometheus_config_last_reload_successful",
            "prometheus_tsdb_head_series",
            "ALERTS",
        }
    ),
    "alertmanager": frozenset(
        {
            "alertmanager_notifications_failed_total",
            "alertmanager_notifications_total",
            "alertmanager_cluster_members",
            "alertmanager_cluster_enabled",
            "alertmanager_cluster_failed_peers",
        }
    ),
    # the long-term tier (Thanos v0.42; docs/long-term.md)
    "thanos": frozenset(
        {
            "thanos_compact_halted",
            "thanos_shipper_upload_failures_total",
            "thanos_shipper_dir_sync_failures_total",
            "thanos_shipper_uploads_total",
            "thanos_objstore_bucket_operation_failures_total",
            "thanos_store_nodes_grpc_connections",
            "grpc_client_handled_total",
        }
    ),
    "node-exporter": frozenset({"node_filesystem_avail_bytes", "node_filesystem_size_bytes", "node_cpu_seconds_total"}),
}
