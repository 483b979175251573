"""The "Coding Agents" dashboard (issue 32): every agent's spend, tokens, requests and sessions from the
shared metrics the collector makes (docs/agents.md), by agent, model, team and cost centre. Written with
the panel module's building blocks; thresholds come from the agent alerts (mixin/alerts_agents.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mixin.config import SETTINGS
from mixin.panels import Board, Panel, Row, datasource_variable, label_variable, query

OUTPUT = Path("grafana") / "dashboards" / "agents.json"
COST = "agent_cost_usage_USD_total"
TOKENS = "agent_token_usage_tokens_total"
UNPRICED = "agent_token_unpriced_tokens_total"
REQUESTS = "agent_api_requests_total"
SESSIONS = "agent_session_count_total"
ORG_LABELS = tuple(key.replace(".", "_") for key in SETTINGS.claude_code.attribution_keys)
ORG = ",".join(f'{label}=~"${label}"' for label in ORG_LABELS)
SEL = f'agent=~"$agent",model=~"$model",{ORG}'
RI = "$__rate_interval"


def _variables() -> list[Any]:
    return [
        datasource_variable(),
        label_variable("agent", "Agent", f"label_values({TOKENS}, agent)"),
        *(
            label_variable(label, label.replace("_", " ").title(), f"label_values({TOKENS}, {label})")
            for label in ORG_LABELS
        ),
        label_variable("model", "Model", f"label_values({TOKENS}, model)"),
    ]


def _bar(title: str, expr: str, legend: str, unit: str, description: str = "") -> Panel:
    return Panel(
        kind="bargauge", title=title, queries=(query(expr, legend),), unit=unit, description=description, width=8
    )


ROWS: tuple[Row, ...] = (
    Row(
        title="Spend by Agent",
        panels=(
            Panel(
                kind="stat",
                title="Spend, All Agents (24h)",
                queries=(query(expr=f"sum(increase({COST}{{{SEL}}}[1d]))"),),
                unit="currencyUSD",
                description="Claude Code's own estimate plus the other agents' tokens x the price table.",
                width=6,
            ),
            Panel(
                kind="stat",
                title="Priced From the Table (24h)",
                queries=(
                    query(
                        expr=f'sum(increase({COST}{{{SEL},estimated="true"}}[1d])) / sum(increase({COST}{{{SEL}}}[1d]))'
                    ),
                ),
                unit="percentunit",
                description="Share of the spend computed by the collector from agents.prices (the rest the agents sent).",
                width=6,
            ),
            Panel(
                kind="stat",
                title="Unpriced Tokens (24h)",
                queries=(query(expr=f"sum(increase({UNPRICED}{{{SEL}}}[1d])) or vector(0)"),),
                unit="short",
                description="Tokens of models the price table lacks: in the token totals, in no cost. 0 means the spend is whole.",
                alert="AgentTokensUnpriced",
                width=6,
            ),
            Panel(
                kind="stat",
                title="Sessions (24h)",
                queries=(query(expr=f'sum(increase({SESSIONS}{{agent=~"$agent",{ORG}}}[1d]))'),),
                unit="short",
                width=6,
            ),
            Panel(
                kind="timeseries",
                title="Spend by Agent (1h)",
                queries=(query(expr=f"sum by (agent) (increase({COST}{{{SEL}}}[1h]))", legend="{{agent}}"),),
                unit="currencyUSD",
                width=12,
            ),
            Panel(
                kind="timeseries",
                title="Spend by Agent and Model (1h)",
                queries=(
                    query(expr=f"sum by (agent, model) (increase({COST}{{{SEL}}}[1h]))", legend="{{agent}} {{model}}"),
                ),
                unit="currencyUSD",
                width=12,
            ),
        ),
    ),
    Row(
        title="Tokens",
        panels=(
            Panel(
                kind="timeseries",
                title="Tokens by Agent and Type",
                queries=(
                    query(expr=f"sum by (agent, type) (rate({TOKENS}{{{SEL}}}[{RI}]))", legend="{{agent}} {{type}}"),
                ),
                unit="short",
                description="Tokens per second; the types never overlap (input excludes cached input, output excludes reasoning).",
                width=12,
            ),
            _bar("Tokens by Model (24h)", f"sum by (model) (increase({TOKENS}{{{SEL}}}[1d]))", "{{model}}", "short"),
            _bar(
                "Cache-Read Share by Agent (24h)",
                f'sum by (agent) (increase({TOKENS}{{{SEL},type="cacheRead"}}[1d])) / '
                f'sum by (agent) (increase({TOKENS}{{{SEL},type=~"input|cacheRead|cacheCreation"}}[1d]))',
                "{{agent}}",
                "percentunit",
                "Input tokens read from a cache, per agent.",
            ),
        ),
    ),
    Row(
        title="API Health by Agent",
        panels=(
            Panel(
                kind="timeseries",
                title="Error Share by Agent",
                queries=(
                    query(
                        expr=f'sum by (agent) (rate({REQUESTS}{{{SEL},status_code!~"2.."}}[{RI}])) / '
                        f"sum by (agent) (rate({REQUESTS}{{{SEL}}}[{RI}]))",
                        legend="{{agent}}",
                    ),
                ),
                unit="percentunit",
                alert="AgentAPIErrorRate",
                width=12,
            ),
            Panel(
                kind="timeseries",
                title="Rate-Limited Requests (429) by Agent (5m)",
                queries=(
                    query(
                        expr=f'sum by (agent) (increase({REQUESTS}{{{SEL},status_code="429"}}[5m]))',
                        legend="{{agent}}",
                    ),
                ),
                unit="short",
                alert="AgentRateLimitStorm",
                width=12,
            ),
        ),
    ),
    Row(
        title="Agent Applications (ccmon-instrument)",
        panels=(
            Panel(
                kind="timeseries",
                title="Model Call p95 by Agent",
                queries=(
                    query(
                        expr="histogram_quantile(0.95, sum by (le, gen_ai_agent_name) "
                        f'(rate(genai_duration_seconds_bucket{{gen_ai_agent_name=~"$agent"}}[{RI}])))',
                        legend="{{gen_ai_agent_name}}",
                    ),
                ),
                unit="s",
                description="95th percentile of the applications' model API calls, per agent (genai_duration_seconds).",
                alert="AgentModelLatencyHigh",
                width=8,
            ),
            Panel(
                kind="timeseries",
                title="Tokens per Hour by Agent",
                queries=(query(expr=f"sum by (agent) (increase({TOKENS}{{{SEL}}}[1h]))", legend="{{agent}}"),),
                unit="short",
                alert="AgentTokenBurnHigh",
                width=8,
            ),
            Panel(
                kind="timeseries",
                title="Model Calls by Agent and Status",
                queries=(
                    query(
                        expr=f"sum by (agent, status_code) (rate({REQUESTS}{{{SEL}}}[{RI}]))",
                        legend="{{agent}} {{status_code}}",
                    ),
                ),
                unit="reqps",
                width=8,
            ),
        ),
    ),
    Row(
        title="Teams and Cost Centres",
        panels=(
            *(
                _bar(
                    f"Spend by {label.replace('_', ' ').title()} (24h)",
                    f'topk(15, sum by ({label}) (increase({COST}{{{SEL},{label}!=""}}[1d])))',
                    f"{{{{{label}}}}}",
                    "currencyUSD",
                    f"Every agent's spend by {label} (the 15 largest; points without it are left out).",
                )
                for label in ORG_LABELS[:3]
            ),
            Panel(
                kind="table",
                title="Spend by Team and Agent (24h)",
                queries=(query(expr=f"sum by (team_id, agent) (increase({COST}{{{SEL}}}[1d]))"),),
                unit="currencyUSD",
                width=24,
            ),
        ),
    ),
)

AGENTS = Board(
    output=OUTPUT,
    uid="otel-ccmon-agents",
    title="otel-ccmon: Coding Agents",
    description="Every coding agent's spend, tokens, API health and teams, in one model (docs/agents.md).",
    tags=("otel-ccmon", "coding-agents", "opentelemetry"),
    rows=ROWS,
    variables=_variables,
    time_from="now-24h",
)
