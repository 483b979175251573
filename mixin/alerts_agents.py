"""Alerts on every coding agent (issue 32): tokens without a price, API errors and rate limiting per
agent, an agent gone silent, team and cost-centre budgets over all agents. Thresholds: ``agents``
in mixin/settings.yml. Claude Code has its own API and silence alerts (mixin/alerts_claude_code.py):
the per-agent ones here select the other agents only, so one incident pages once."""

from __future__ import annotations

from mixin.config import APP_JOB, SETTINGS
from mixin.model import Alert, Scenario, histogram_series
from otel_ccmon._agents import AGENTS

AG = SETTINGS.agents
COST = "agent_cost_usage_USD_total"
TOKENS = "agent_token_usage_tokens_total"
UNPRICED = "agent_token_unpriced_tokens_total"
REQUESTS = "agent_api_requests_total"
TEAM_BUDGET = "ccmon:agents_team_budget_usd"
COST_CENTER_BUDGET = "ccmon:agents_cost_center_budget_usd"
NOT_CLAUDE = 'agent!~"{}"'.format("|".join(a.name for a in AGENTS if a.sends_cost))
"""The agents whose API errors and silence only these alerts watch (Claude Code has its own)."""
START, END = SETTINGS.claude_code.working_hours_utc
CODEX = 'job="codex_exec",agent="codex",model="gpt-5-codex"'
DURATION = "genai_duration_seconds"
APP_CALL = 'gen_ai_agent_name="planner-agent",gen_ai_provider_name="anthropic",gen_ai_request_model="claude-haiku-4-5",outcome="ok"'


def _spend_over_budget(label: str, budget_record: str) -> str:
    spend = [
        f'label_replace(sum by ({label}) (increase({COST}[{window}])), "period", "{period}", "", "")'
        for period, window in (("daily", "1d"), ("monthly", "30d"))
    ]
    return f"({spend[0]} or {spend[1]}) > on ({label}, period) group_left () {budget_record}"


def _budget_scenario(label: str, value: str, budget_record: str) -> Scenario:
    """A 10 USD daily budget; two agents spending 0.5 USD a minute each cross it at minute 11."""
    budget = {f'{budget_record}{{{label}="{value}",period="daily"}}': "10x200"}
    series = {
        f'{COST}{{job="gemini-cli",agent="gemini-cli",estimated="true",{label}="{value}"}}': "0+0.5x200",
        f'{COST}{{job="claude-code",agent="claude-code",estimated="false",{label}="{value}"}}': "0+0.5x200",
    }
    quiet = dict.fromkeys(series, "0+0.025x200")
    return Scenario(
        firing={**budget, **series},
        healthy={**budget, **quiet},
        value=11 + 6,
        labels={label: value, "period": "daily"},
        active_from=11,
    )


def _budget_alert(name: str, label: str, what: str, record: str, setting: str, example: str) -> Alert:
    return Alert(
        name=name,
        severity="P2",
        component="agents",
        expr=_spend_over_budget(label, record),
        summary=f"Coding agents' spend of {what} {{{{ $labels.{label} }}}} over its {{{{ $labels.period }}}} budget",
        description=(
            f"{what.capitalize()} {{{{ $labels.{label} }}}} spent {{{{ $value | humanize }}}} USD on every coding "
            "agent together over its {{ $labels.period }} window (1 day, or 30 days), above its budget."
        ),
        impact=f"The {what}'s spend on coding agents (all of them) is over plan.",
        meaning=(
            f"A {what}'s cost over every coding agent (agent_cost_usage_USD_total: Claude Code's own estimate plus "
            f"the other agents' tokens priced from agents.prices) over the last 1 day is above its daily_usd, or over "
            f"the last 30 days above its monthly_usd (agents.{setting} in mixin/settings.yml), for 5 minutes. "
            "Tokens of a model without a price are not in it (AgentTokensUnpriced)."
        ),
        diagnosis=(
            f'sum by (agent, model) (increase({COST}{{{label}="<{what}>"}}[1d]))',
            f"ccmon agents report --by {'team' if label == 'team_id' else 'cost_center'} --by agent --since 30d",
        ),
        mitigation=(
            "Find the agent and model behind the spend (diagnosis) and agree with the lead.",
            f"Raise the budget in agents.{setting} if the spend is planned; `make generate`.",
        ),
        scenario=_budget_scenario(label, example, record),
        for_="5m",
        group="agents",
        service_label=False,
        push_variant=False,
    )


AGENT_ALERTS: tuple[Alert, ...] = (
    Alert(
        name="AgentTokensUnpriced",
        severity="P3",
        component="agents",
        expr=f"sum by (agent, model) (increase({UNPRICED}[1h])) > 0",
        summary="{{ $labels.agent }} uses {{ $labels.model }}, which has no price",
        description=(
            "{{ $value | humanize }} tokens of {{ $labels.agent }} / {{ $labels.model }} in the last hour have no "
            "price in agents.prices: they are in the token totals, in no cost figure."
        ),
        impact="Spend is understated: budgets, the report's cost and the dashboard miss this model's cost.",
        meaning=(
            "A coding agent that sends no cost (Gemini CLI, Codex, Qwen Code) used a model (or a token type) that "
            "the price table (agents.prices in mixin/settings.yml) does not price, in the last 1 hour, for 5 "
            "minutes. Its tokens are counted in agent_token_unpriced_tokens_total, never priced at 0."
        ),
        diagnosis=(
            f"sum by (agent, model, type) (increase({UNPRICED}[1d]))",
            "ccmon agents report --by agent --since 7d   # UNPRICED lines name agent and model",
        ),
        mitigation=(
            'Add the model (or a prefix row, `model: "name*"`) with its USD per million tokens to agents.prices; '
            "`make generate`; restart the collector.",
            "Costs already counted as unpriced are not re-priced: the report names them.",
        ),
        scenario=Scenario(
            firing={f'{UNPRICED}{{job="qwen-code",agent="qwen-code",model="qwen-x",type="input"}}': "0+100x200"},
            healthy={f'{UNPRICED}{{job="qwen-code",agent="qwen-code",model="qwen-x",type="input"}}': "0x200"},
            value=700,  # at the check (minute 7): the last hour holds 7 minutes of 100
            labels={"agent": "qwen-code", "model": "qwen-x"},
        ),
        for_="5m",
        group="agents",
        service_label=False,
        push_variant=False,
    ),
    Alert(
        name="AgentAPIErrorRate",
        severity="P2",
        component="agents",
        expr=(
            f'sum by (agent, model) (rate({REQUESTS}{{{NOT_CLAUDE},status_code!~"2.."}}[10m]))'
            f" / sum by (agent, model) (rate({REQUESTS}{{{NOT_CLAUDE}}}[10m])) > {AG.api_error_ratio:g}"
        ),
        summary="{{ $labels.agent }}: API errors for {{ $labels.model }}",
        description=(
            "{{ $value | humanizePercentage }} of {{ $labels.agent }}'s requests to {{ $labels.model }} failed "
            f"(threshold {AG.api_error_ratio:.0%})."
        ),
        impact="Developers using this agent see failed or stalled sessions.",
        meaning=(
            f"The share of a coding agent's model API requests with a non-2xx status is above api_error_ratio "
            f"({AG.api_error_ratio:g}, agents in mixin/settings.yml) over 10 minutes, for 10 minutes. Claude Code "
            "is watched by ClaudeCodeAPIErrorRate."
        ),
        diagnosis=(f'sum by (agent, model, status_code) (rate({REQUESTS}{{agent="<agent>"}}[10m]))',),
        mitigation=(
            "5xx: a provider incident (Google AI Studio / Vertex, OpenAI, Alibaba Model Studio status pages).",
            "401/403: an expired key or a missing model entitlement.",
        ),
        scenario=Scenario(
            firing={
                f'{REQUESTS}{{{CODEX},status_code="200"}}': "0+9x200",
                f'{REQUESTS}{{{CODEX},status_code="500"}}': "0+1x200",
            },
            healthy={
                f'{REQUESTS}{{{CODEX},status_code="200"}}': "0+9x200",
                f'{REQUESTS}{{{CODEX},status_code="500"}}': "0x200",
                # Claude Code's errors are its own alert's
                f'{REQUESTS}{{job="claude-code",agent="claude-code",model="m",status_code="500"}}': "0+5x200",
                f'{REQUESTS}{{job="claude-code",agent="claude-code",model="m",status_code="200"}}': "0+5x200",
            },
            value=0.1,
            labels={"agent": "codex", "model": "gpt-5-codex"},
        ),
        for_="10m",
        threshold=AG.api_error_ratio,
        group="agents",
        service_label=False,
        push_variant=False,
    ),
    Alert(
        name="AgentRateLimitStorm",
        severity="P2",
        component="agents",
        expr=(
            f'sum by (agent, model) (increase({REQUESTS}{{{NOT_CLAUDE},status_code="429"}}[5m]))'
            f" > {AG.rate_limited_per_5m}"
        ),
        summary="{{ $labels.agent }}: requests rate-limited (429) for {{ $labels.model }}",
        description="{{ $value | humanize }} requests of {{ $labels.agent }} to {{ $labels.model }} got 429 in 5 minutes.",
        impact="The organisation's quota with this provider is exhausted: every developer on this agent slows down.",
        meaning=(
            f"More than rate_limited_per_5m ({AG.rate_limited_per_5m}, agents in mixin/settings.yml) of a coding "
            "agent's requests got 429 within 5 minutes, for 5 minutes."
        ),
        diagnosis=(
            f'sum by (agent, model) (increase({REQUESTS}{{status_code="429"}}[5m]))',
            f'topk(5, sum by (team_id) (rate({TOKENS}{{agent="<agent>"}}[5m])))',
        ),
        mitigation=(
            "Find the heaviest consumers (parallel agents, CI) and pause them.",
            "Raise the quota with the provider, or spread load over models.",
        ),
        scenario=Scenario(
            firing={f'{REQUESTS}{{{CODEX},status_code="429"}}': f"0+{AG.rate_limited_per_5m // 2 + 1}x200"},
            healthy={f'{REQUESTS}{{{CODEX},status_code="429"}}': "0+1x200"},
            value=5 * (AG.rate_limited_per_5m // 2 + 1),
            labels={"agent": "codex", "model": "gpt-5-codex"},
            active_from=AG.rate_limited_per_5m // (AG.rate_limited_per_5m // 2 + 1) + 1,
        ),
        for_="5m",
        threshold=float(AG.rate_limited_per_5m),
        group="agents",
        service_label=False,
        push_variant=False,
    ),
    Alert(
        name="AgentTelemetrySilent",
        severity="P3",
        component="agents",
        expr=(
            f"sum by (agent) (increase({TOKENS}{{{NOT_CLAUDE}}}[7d])) > 0"
            f" unless sum by (agent) (increase({TOKENS}{{{NOT_CLAUDE}}}[1h])) > 0"
            f" and on() (hour() >= {START} and hour() < {END})"
            " and on() (day_of_week() >= 1 and day_of_week() <= 5)"
        ),
        summary="{{ $labels.agent }} telemetry has gone silent",
        description="{{ $labels.agent }} used tokens in the last 7 days, none in the last hour of working hours.",
        impact="This agent's spend and errors are invisible: budgets and error alerts cannot see it.",
        meaning=(
            "A coding agent other than Claude Code (ClaudeCodeTelemetrySilent) that used tokens in the last 7 days "
            f"used none in the last 1 hour, during working hours (hour from {START} to before {END} UTC, day_of_week 1 "
            "to 5: Monday to Friday; claude_code.working_hours_utc), for 30 minutes. A settings rollout that lost the telemetry "
            "block, an upgrade that renamed a metric, or nobody working."
        ),
        diagnosis=(
            'sum by (outcome) (rate(otelcol_ccmon_claude_code_points[1h]))   # "unmapped": renamed metrics',
            "ccmon agents env <agent>   # the settings every developer must carry",
        ),
        mitigation=(
            "Compare a developer's settings file with `ccmon agents env <agent>`.",
            "After an agent upgrade: `ccmon agents list` names the tested version; see docs/agents.md.",
        ),
        scenario=Scenario(
            # promtool's day 0 is a Thursday: tokens until 02:00, then none; working hours start at START
            firing={
                f'{TOKENS}{{job="gemini-cli",agent="gemini-cli",model="m",type="input"}}': f"0+10x120 1200x{60 * START}"
            },
            healthy={
                f'{TOKENS}{{job="gemini-cli",agent="gemini-cli",model="m",type="input"}}': f"0+10x{60 * START + 60}"
            },
            value=1200,
            labels={"agent": "gemini-cli"},
            active_from=60 * START,
        ),
        for_="30m",
        group="agents",
        service_label=False,
        push_variant=False,
    ),
    Alert(
        name="AgentModelLatencyHigh",
        severity="P2",
        component="agents",
        expr=(
            "histogram_quantile(0.95, sum by (le, job, gen_ai_agent_name, gen_ai_request_model) "
            f"(rate({DURATION}_bucket[10m]))) > {AG.model_latency_p95_seconds:g}"
        ),
        summary="Model calls of {{ $labels.job }} / {{ $labels.gen_ai_agent_name }} are slow",
        description=(
            "p95 of {{ $labels.gen_ai_agent_name }}'s calls to {{ $labels.gen_ai_request_model }} is "
            f"{{{{ $value | humanizeDuration }}}} (threshold {AG.model_latency_p95_seconds:g} s)."
        ),
        impact="The agent's tasks wait on the model: plans and reviews take longer, queues grow.",
        meaning=(
            "The 95th percentile of an application agent's model API call duration (genai_duration_seconds, "
            "ccmon-instrument's hooks) over 10 minutes is above model_latency_p95_seconds "
            f"({AG.model_latency_p95_seconds:g} s, agents in mixin/settings.yml), for 10 minutes."
        ),
        diagnosis=(
            f'histogram_quantile(0.95, sum by (le, gen_ai_request_model) (rate({DURATION}_bucket{{job="<job>"}}[10m])))',
            f'sum by (status_code) (rate({REQUESTS}{{agent="<agent>"}}[10m]))   # retries and 429s make calls slow',
        ),
        mitigation=(
            "A provider slowdown: its status page; switch the agent to a faster model if latency matters more.",
            "Long generations: lower max_tokens, or stream the answer.",
        ),
        scenario=Scenario(
            firing=histogram_series({"5.0": 0, "10.0": 0, "20.0": 60, "+Inf": 60}, DURATION, APP_CALL),
            healthy=histogram_series({"5.0": 60, "10.0": 60, "20.0": 60, "+Inf": 60}, DURATION, APP_CALL),
            value=19.5,  # every call in (10, 20]: 0.95 of the way
            labels={"job": APP_JOB, "gen_ai_agent_name": "planner-agent", "gen_ai_request_model": "claude-haiku-4-5"},
        ),
        for_="10m",
        threshold=AG.model_latency_p95_seconds,
        group="agents",
        service_label=False,
        push_variant=False,
    ),
    Alert(
        name="AgentTokenBurnHigh",
        severity="P3",
        component="agents",
        expr=f"sum by (agent) (increase({TOKENS}{{{NOT_CLAUDE}}}[1h])) > {AG.tokens_per_hour}",
        summary="{{ $labels.agent }} burns tokens above its hourly budget",
        description=(
            "{{ $labels.agent }} used {{ $value | humanize }} tokens in the last hour "
            f"(budget {AG.tokens_per_hour:,} an hour)."
        ),
        impact="Spend grows beyond plan; an agent in a loop or a prompt that grew burns money and quota.",
        meaning=(
            "A coding agent or an application's agent (every agent but Claude Code, which has spend budgets) used "
            f"more than tokens_per_hour ({AG.tokens_per_hour}, agents in mixin/settings.yml) tokens of every type "
            "in the last 1 hour, for 10 minutes."
        ),
        diagnosis=(
            f'sum by (model, type) (increase({TOKENS}{{agent="<agent>"}}[1h]))',
            f'sum by (status_code) (increase({REQUESTS}{{agent="<agent>"}}[1h]))   # many calls, or long ones?',
        ),
        mitigation=(
            "An agent in a loop: stop it; cap its steps.",
            "A grown prompt (context, retrieved documents): trim it, or use prompt caching (cacheRead is cheaper).",
            "Planned growth: raise agents.tokens_per_hour; `make generate`.",
        ),
        scenario=Scenario(
            firing={
                f'{TOKENS}{{job="{APP_JOB}",agent="planner-agent",model="m",type="input"}}': f"0+{AG.tokens_per_hour // 50}x200"
            },
            healthy={
                f'{TOKENS}{{job="{APP_JOB}",agent="planner-agent",model="m",type="input"}}': f"0+{AG.tokens_per_hour // 120}x200"
            },
            value=AG.tokens_per_hour // 50 * 60,  # at the check: a full hour of the rate
            labels={"agent": "planner-agent"},
            active_from=51,
        ),
        for_="10m",
        threshold=float(AG.tokens_per_hour),
        group="agents",
        service_label=False,
        push_variant=False,
    ),
    _budget_alert("AgentsTeamOverBudget", "team_id", "team", TEAM_BUDGET, "team_budgets", "platform"),
    _budget_alert(
        "AgentsCostCenterOverBudget", "cost_center", "cost centre", COST_CENTER_BUDGET, "cost_center_budgets", "eng-123"
    ),
)
