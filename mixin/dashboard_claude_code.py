"""The "Claude Code" dashboard: spend, tokens, activity, API health and top users, from Claude
Code's own counters and the metrics the collector derives from its log events. Written with the
building blocks of the panel module (``mixin.panels``); thresholds come from the Claude Code alerts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mixin.config import SETTINGS
from mixin.panels import Board, Panel, Row, datasource_variable, label_variable, query
from otel_ccmon.claude_code._completeness import cut_points_expr, dropped_value_expr

OUTPUT = Path("grafana") / "dashboards" / "claude-code.json"
COST = "claude_code_cost_usage_USD_total"
TOKENS = "claude_code_token_usage_tokens_total"
REQUESTS = "ccmon_claude_code_api_requests_total"
ORG_LABELS = tuple(key.replace(".", "_") for key in SETTINGS.claude_code.attribution_keys)
"""Prometheus labels of the attribution keys (team.id -> team_id): a template variable each."""
ORG = ",".join(f'{label}=~"${label}"' for label in ORG_LABELS)
SEL = f'user_id=~"$user",model=~"$model",{ORG}'
MODEL = f'model=~"$model",{ORG}'
USER = f'user_id=~"$user",{ORG}'
RI = "$__rate_interval"
EVENTS = "ccmon_claude_code_events_total"
HOOKS = "ccmon_claude_code_hook_executions_total"
MCP = "ccmon_claude_code_mcp_connections_total"
WORK = (
    ("agent_name", "Subagent"),
    ("skill_name", "Skill"),
    ("plugin_name", "Plugin"),
    ("mcp_server_name", "MCP Server"),
)
INPUT_TYPES = 'type=~"input|cacheRead|cacheCreation"'


def _variables() -> list[Any]:
    return [
        datasource_variable(),
        *(
            label_variable(label, label.replace("_", " ").title(), f"label_values({COST}, {label})")
            for label in ORG_LABELS
        ),
        label_variable("user", "User", f"label_values({COST}, user_id)"),
        label_variable("model", "Model", f"label_values({COST}, model)"),
    ]


def _by(label: str, title: str, metric: str = COST, window: str = "1d") -> Panel:
    return Panel(
        kind="bargauge",
        title=f"Spend by {title} (24h)",
        queries=(
            query(
                expr=f'topk(15, sum by ({label}) (increase({metric}{{{SEL},{label}!=""}}[{window}])))',
                legend=f"{{{{{label}}}}}",
            ),
        ),
        unit="currencyUSD",
        description=f"Estimated cost of the last 24 hours by {label} (the 15 largest; points without it are left out).",
        width=6,
    )


ROWS: tuple[Row, ...] = (
    Row(
        title="Spend",
        panels=(
            Panel(
                kind="stat",
                title="Spend (1h)",
                queries=(query(expr=f"sum(increase({COST}{{{SEL}}}[1h]))"),),
                unit="currencyUSD",
                description="Estimated cost over the last hour (the client's estimate, not billing).",
                alert="ClaudeCodeHourlySpendOverBudget",
                width=4,
            ),
            Panel(
                kind="stat",
                title="Spend (24h)",
                queries=(query(expr=f"sum(increase({COST}{{{SEL}}}[1d]))"),),
                unit="currencyUSD",
                description="Estimated cost over the last 24 hours.",
                alert="ClaudeCodeDailySpendOverBudget",
                width=4,
            ),
            Panel(
                kind="stat",
                title="Events vs Counters (24h)",
                queries=(
                    query(
                        expr=f"sum(increase(ccmon_claude_code_api_cost_USD_total{{{SEL}}}[1d])) / sum(increase({COST}{{{SEL}}}[1d]))"
                    ),
                ),
                unit="percentunit",
                description="Cost from api_request events over cost.usage: 100% when both agree.",
                width=4,
            ),
            Panel(
                kind="stat",
                title="Data Points Cut (range)",
                queries=(query(expr=cut_points_expr("$__range", SETTINGS.claude_code.services)),),
                unit="short",
                description=(
                    "Claude Code points the collector's stream budget dropped in the dashboard's time range: "
                    "0 means the totals shown are complete; more means they read low (by at least the next panel)."
                ),
                alert="ClaudeCodeTotalsIncomplete",
                width=6,
            ),
            Panel(
                kind="stat",
                title="Spend Not Counted, at Least (range)",
                queries=(query(expr=dropped_value_expr("claude_code.cost.usage", "$__range")),),
                unit="currencyUSD",
                description="USD of the cost points that were cut in the time range (increase(), so approximate; `ccmon claude-code report` gives the exact lower bound): the spend shown is low by about this.",
                alert="ClaudeCodeTotalsIncomplete",
                width=6,
            ),
            Panel(
                kind="timeseries",
                title="Spend per Day",
                queries=(query(expr=f"sum(increase({COST}{{{SEL}}}[1d]))", legend="USD / 24h"),),
                unit="currencyUSD",
                width=12,
            ),
            Panel(
                kind="timeseries",
                title="Spend by Model (1h)",
                queries=(query(expr=f"sum by (model) (increase({COST}{{{SEL}}}[1h]))", legend="{{model}}"),),
                unit="currencyUSD",
                width=12,
            ),
            Panel(
                kind="timeseries",
                title="Spend by User (1h)",
                queries=(query(expr=f"sum by (user_id) (increase({COST}{{{SEL}}}[1h]))", legend="{{user_id}}"),),
                unit="currencyUSD",
                alert="ClaudeCodeUserSpendSpike",
                width=12,
            ),
        ),
    ),
    Row(
        title="Tokens",
        panels=(
            Panel(
                kind="timeseries",
                title="Tokens by Type",
                queries=(query(expr=f"sum by (type) (rate({TOKENS}{{{SEL}}}[{RI}]))", legend="{{type}}"),),
                unit="short",
                description="Tokens per second.",
                width=12,
            ),
            Panel(
                kind="stat",
                title="Cache-Read Share (1h)",
                queries=(
                    query(
                        expr=f'sum(increase({TOKENS}{{{SEL},type="cacheRead"}}[1h])) / sum(increase({TOKENS}{{{SEL},{INPUT_TYPES}}}[1h]))'
                    ),
                ),
                unit="percentunit",
                description="Input tokens read from the prompt cache (a tenth of the input price).",
                alert="ClaudeCodeCacheEfficiencyLow",
                low_is_bad=True,
                width=6,
            ),
            Panel(
                kind="bargauge",
                title="Tokens by Model (24h)",
                queries=(query(expr=f"sum by (model) (increase({TOKENS}{{{SEL}}}[1d]))", legend="{{model}}"),),
                unit="short",
                width=6,
            ),
        ),
    ),
    Row(
        title="Activity",
        panels=(
            Panel(
                kind="stat",
                title="Sessions (24h)",
                queries=(query(expr=f"sum(increase(claude_code_session_count_total{{{USER}}}[1d]))"),),
                unit="short",
                width=4,
            ),
            Panel(
                kind="timeseries",
                title="Active Time (1h)",
                queries=(
                    query(
                        expr=f"sum by (type) (increase(claude_code_active_time_seconds_total{{{USER}}}[1h]))",
                        legend="{{type}}",
                    ),
                ),
                unit="s",
                description="user: typing; cli: Claude Code working.",
                width=8,
            ),
            Panel(
                kind="timeseries",
                title="Lines of Code (1h)",
                queries=(
                    query(
                        expr=f"sum by (type) (increase(claude_code_lines_of_code_count_total{{{USER}}}[1h]))",
                        legend="{{type}}",
                    ),
                ),
                unit="short",
                width=6,
            ),
            Panel(
                kind="stat",
                title="Commits and Pull Requests (24h)",
                queries=(
                    query(expr=f"sum(increase(claude_code_commit_count_total{{{USER}}}[1d]))", legend="commits"),
                    query(
                        expr=f"sum(increase(claude_code_pull_request_count_total{{{USER}}}[1d]))",
                        legend="pull requests",
                    ),
                ),
                unit="short",
                width=6,
            ),
            Panel(
                kind="bargauge",
                title="Edit Acceptance by Tool and Language (24h)",
                queries=(
                    query(
                        expr=(
                            "sum by (tool_name, language) (increase(claude_code_code_edit_tool_decision_total"
                            '{decision="accept"}[1d])) / sum by (tool_name, language) '
                            "(increase(claude_code_code_edit_tool_decision_total[1d]))"
                        ),
                        legend="{{tool_name}} {{language}}",
                    ),
                ),
                unit="percentunit",
                min=0,
                max=1,
                width=8,
            ),
        ),
    ),
    Row(
        title="API and Tools",
        panels=(
            Panel(
                kind="timeseries",
                title="API Requests by Model and Status",
                queries=(
                    query(
                        expr=f"sum by (model, status_code) (rate({REQUESTS}{{{MODEL}}}[{RI}]))",
                        legend="{{model}} {{status_code}}",
                    ),
                ),
                unit="reqps",
                width=8,
            ),
            Panel(
                kind="timeseries",
                title="API Error Rate by Model",
                queries=(
                    query(
                        expr=(
                            f'sum by (model) (rate({REQUESTS}{{{MODEL},status_code!="200"}}[10m])) '
                            f"/ sum by (model) (rate({REQUESTS}{{{MODEL}}}[10m]))"
                        ),
                        legend="{{model}}",
                    ),
                ),
                unit="percentunit",
                alert="ClaudeCodeAPIErrorRate",
                width=8,
            ),
            Panel(
                kind="timeseries",
                title="Rate-Limited Requests (5m)",
                queries=(
                    query(
                        expr=f'sum by (model) (increase({REQUESTS}{{{MODEL},status_code="429"}}[5m]))',
                        legend="{{model}}",
                    ),
                ),
                unit="short",
                alert="ClaudeCodeRateLimitStorm",
                width=8,
            ),
            Panel(
                kind="timeseries",
                title="API Latency by Model",
                queries=tuple(
                    query(
                        expr=(
                            f"histogram_quantile({q}, sum by (le, model) "
                            f"(rate(ccmon_claude_code_api_request_duration_seconds_bucket{{{MODEL}}}[{RI}])))"
                        ),
                        legend=f"p{round(q * 100)} {{{{model}}}}",
                    )
                    for q in (0.5, 0.95)
                ),
                unit="s",
                width=8,
            ),
            Panel(
                kind="timeseries",
                title="Tool Results by Tool and Success",
                queries=(
                    query(
                        expr=f"sum by (tool_name, success) (rate(ccmon_claude_code_tool_results_total[{RI}]))",
                        legend="{{tool_name}} {{success}}",
                    ),
                ),
                unit="ops",
                width=8,
            ),
            Panel(
                kind="timeseries",
                title="Tool Decisions by Source",
                queries=(
                    query(
                        expr=f"sum by (source, decision) (rate(ccmon_claude_code_tool_decisions_total[{RI}]))",
                        legend="{{source}} {{decision}}",
                    ),
                ),
                unit="ops",
                width=8,
            ),
        ),
    ),
    Row(
        title="Teams, Cost Centres, Projects",
        panels=(
            _by("team_id", "Team"),
            _by("cost_center", "Cost Centre"),
            _by("department", "Department"),
            _by("project", "Project"),
            Panel(
                kind="bargauge",
                title="Team Budget Used (24h)",
                queries=(
                    query(
                        expr=(
                            f"sum by (team_id) (increase({COST}{{{SEL}}}[1d])) / on (team_id) "
                            'ccmon:claude_code_team_budget_usd{period="daily"}'
                        ),
                        legend="{{team_id}}",
                    ),
                ),
                unit="percentunit",
                description="Spend of the last 24 hours over each team's daily budget (claude_code.team_budgets).",
                threshold=1.0,
                width=12,
            ),
            Panel(
                kind="timeseries",
                title="Attribution Values Folded",
                queries=(
                    query(expr=f"sum by (key) (rate(otelcol_ccmon_claude_code_folded_values[{RI}]))", legend="{{key}}"),
                ),
                unit="short",
                description=(
                    "Points whose team, cost centre, project, subagent, skill, plugin or MCP name was folded into "
                    "__other__ (max_values_per_key reached): 0 unless a client sends too many distinct values."
                ),
                width=12,
            ),
        ),
    ),
    Row(
        title="Subagents, Skills, Plugins, MCP",
        panels=(
            *(_by(label, title) for label, title in WORK),
            Panel(
                kind="timeseries",
                title="Subagent Runs and Duration (p95)",
                queries=(
                    query(
                        expr=f"sum by (agent_type) (rate(ccmon_claude_code_subagents_total{{{ORG}}}[{RI}]))",
                        legend="{{agent_type}} runs/s",
                    ),
                    query(
                        expr=(
                            "histogram_quantile(0.95, sum by (agent_type, le) "
                            f"(rate(ccmon_claude_code_subagent_duration_seconds_bucket{{{ORG}}}[{RI}])))"
                        ),
                        legend="{{agent_type}} p95 s",
                    ),
                ),
                unit="short",
                width=12,
            ),
            Panel(
                kind="timeseries",
                title="MCP Server Connections by Status",
                queries=(
                    query(
                        expr=f"sum by (mcp_server_name, status) (rate({MCP}{{{ORG}}}[{RI}]))",
                        legend="{{mcp_server_name}} {{status}}",
                    ),
                ),
                unit="short",
                alert="ClaudeCodeMCPServerFailing",
                width=12,
            ),
        ),
    ),
    Row(
        title="Events",
        panels=(
            Panel(
                kind="timeseries",
                title="Events by Name",
                queries=(query(expr=f"sum by (event) (rate({EVENTS}{{{ORG}}}[{RI}]))", legend="{{event}}"),),
                unit="short",
                description="Every Claude Code event, by its documented name (others: other).",
                width=12,
            ),
            Panel(
                kind="timeseries",
                title="Retries Exhausted and Refusals by Model",
                queries=(
                    query(
                        expr=f"sum by (model) (increase(ccmon_claude_code_api_retries_exhausted_total{{{MODEL}}}[10m]))",
                        legend="{{model}} retries exhausted",
                    ),
                    query(
                        expr=f"sum by (model) (increase(ccmon_claude_code_api_refusals_total{{{MODEL}}}[10m]))",
                        legend="{{model}} refusals",
                    ),
                ),
                unit="short",
                alert="ClaudeCodeRetriesExhausted",
                width=12,
            ),
            Panel(
                kind="timeseries",
                title="Hook Executions by Outcome",
                queries=(
                    query(
                        expr=f"sum by (hook_event, outcome) (rate({HOOKS}{{{ORG}}}[{RI}]))",
                        legend="{{hook_event}} {{outcome}}",
                    ),
                ),
                unit="short",
                width=8,
            ),
            Panel(
                kind="timeseries",
                title="Hook Duration (p95)",
                queries=(
                    query(
                        expr=(
                            "histogram_quantile(0.95, sum by (hook_event, le) "
                            f"(rate(ccmon_claude_code_hook_duration_seconds_bucket{{{ORG}}}[{RI}])))"
                        ),
                        legend="{{hook_event}}",
                    ),
                ),
                unit="s",
                width=8,
            ),
            Panel(
                kind="timeseries",
                title="Compactions, Internal Errors, Mode Changes",
                queries=(
                    query(
                        expr=f"sum by (trigger) (increase(ccmon_claude_code_compactions_total{{{ORG}}}[1h]))",
                        legend="compactions {{trigger}}",
                    ),
                    query(
                        expr=f"sum by (error_name) (increase(ccmon_claude_code_internal_errors_total{{{ORG}}}[1h]))",
                        legend="internal error {{error_name}}",
                    ),
                    query(
                        expr=(
                            f"sum by (to_mode) (increase(ccmon_claude_code_permission_mode_changes_total{{{ORG}}}[1h]))"
                        ),
                        legend="mode -> {{to_mode}}",
                    ),
                ),
                unit="short",
                width=8,
            ),
        ),
    ),
    Row(
        title="Top Users and Models",
        panels=(
            Panel(
                kind="table",
                title="Top Users by Spend (24h)",
                queries=(query(expr=f"topk(10, sum by (user_id) (increase({COST}{{{SEL}}}[1d])))"),),
                unit="currencyUSD",
                width=12,
            ),
            Panel(
                kind="table",
                title="Top Models by Spend (24h)",
                queries=(query(expr=f"topk(10, sum by (model) (increase({COST}{{{SEL}}}[1d])))"),),
                unit="currencyUSD",
                width=12,
            ),
        ),
    ),
)

CLAUDE_CODE = Board(
    output=OUTPUT,
    uid="otel-ccmon-claude-code",
    title="otel-ccmon: Claude Code",
    description="Claude Code spend, tokens, activity, API health and top users (docs/claude-code.md).",
    tags=("otel-ccmon", "claude-code", "opentelemetry"),
    rows=ROWS,
    variables=_variables,
    time_from="now-24h",
)
