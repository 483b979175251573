"""Alerts on Claude Code's telemetry: spend budgets, per-user spikes, API errors and rate-limit
storms, silent telemetry, cache efficiency. Thresholds: ``claude_code`` in mixin/settings.yml."""

from __future__ import annotations

from mixin.config import SETTINGS
from mixin.model import Alert, Scenario
from otel_ccmon.claude_code._completeness import cut_points_expr, dropped_value_expr

CC = SETTINGS.claude_code
COST = "claude_code_cost_usage_USD_total"
TOKENS = "claude_code_token_usage_tokens_total"
REQUESTS = "ccmon_claude_code_api_requests_total"
POINTS = "otelcol_ccmon_claude_code_points"
JOB = 'job="claude-code"'
OPUS = f'{JOB},user_id="u1",model="claude-opus-4-5"'
SONNET = f'{JOB},model="claude-sonnet-4-5"'
START, END = CC.working_hours_utc
SPEND_RATE = max(1, round(CC.daily_budget_usd / 100 + 1))  # USD per minute that crosses both budgets early


def _per_min(usd_per_min: float, minutes: int = 200) -> str:
    return f"0+{usd_per_min:g}x{minutes}"


def _over_budget(budget: float) -> Scenario:
    """Spend of SPEND_RATE USD a minute crosses ``budget`` (the 1-minute steps start at 0); half the
    hourly budget an hour (healthy) stays under both budgets."""
    crossed = int(budget / SPEND_RATE) + 1
    return Scenario(
        firing={f"{COST}{{{OPUS}}}": _per_min(SPEND_RATE)},
        healthy={f"{COST}{{{OPUS}}}": _per_min(CC.hourly_budget_usd / 120)},
        value=SPEND_RATE * (crossed + 6),  # at the check: 1 minute after `for: 5m`
        labels={},
        active_from=crossed,
    )


def _spend_over_budget(label: str, budget_record: str) -> str:
    """Spend of each ``label`` value over the last day and the last 30 days, against its budgets."""
    spend = [
        f'label_replace(sum by ({label}) (increase({COST}[{window}])), "period", "{period}", "", "")'
        for period, window in (("daily", "1d"), ("monthly", "30d"))
    ]
    return f"({spend[0]} or {spend[1]}) > on ({label}, period) group_left () {budget_record}"


def _budget_scenario(label: str, value: str, budget_record: str) -> Scenario:
    """A 10 USD daily budget; spend of 1 USD a minute crosses it at minute 11, 0.05 never does."""
    budget = {f'{budget_record}{{{label}="{value}",period="daily"}}': "10x200"}
    series = f'{COST}{{{OPUS},{label}="{value}"}}'
    return Scenario(
        firing={**budget, series: _per_min(1)},
        healthy={**budget, series: _per_min(0.05)},
        value=11 + 6,
        labels={label: value, "period": "daily"},
        active_from=11,
    )


RETRIES = "ccmon_claude_code_api_retries_exhausted_total"
REFUSALS = "ccmon_claude_code_api_refusals_total"
MCP = "ccmon_claude_code_mcp_connections_total"
HOOKS = "ccmon_claude_code_hook_executions_total"
TEAM_BUDGET = "ccmon:claude_code_team_budget_usd"
COST_CENTER_BUDGET = "ccmon:claude_code_cost_center_budget_usd"

CLAUDE_CODE_ALERTS: tuple[Alert, ...] = (
    Alert(
        name="ClaudeCodeHourlySpendOverBudget",
        severity="P2",
        component="claude-code",
        expr=f"sum(increase({COST}[1h])) > {CC.hourly_budget_usd:g}",
        summary="Claude Code spend over the hourly budget",
        description=f"Claude Code spent {{{{ $value | humanize }}}} USD in the last hour (budget {CC.hourly_budget_usd:g} USD).",
        impact="Spend runs ahead of plan; at this pace the daily budget is exhausted early.",
        meaning=f"The team's estimated Claude Code cost over the last 1 hour is above hourly_budget_usd ({CC.hourly_budget_usd:g} USD), for 5 minutes.",
        diagnosis=(
            f"topk(5, sum by (user_id) (increase({COST}[1h])))",
            f"sum by (model) (increase({COST}[1h]))",
            "ccmon claude-code report --since 1d",
        ),
        mitigation=(
            "Find the users and models behind the spend on the Claude Code dashboard.",
            "Expensive model for routine work? Agree on defaults (the managed settings' model).",
            "Raise hourly_budget_usd in mixin/settings.yml if the spend is planned.",
        ),
        scenario=_over_budget(CC.hourly_budget_usd),
        for_="5m",
        threshold=CC.hourly_budget_usd,
        group="claude_code",
        service_label=False,
        push_variant=False,
    ),
    Alert(
        name="ClaudeCodeDailySpendOverBudget",
        severity="P1",
        component="claude-code",
        expr=f"sum(increase({COST}[1d])) > {CC.daily_budget_usd:g}",
        summary="Claude Code spend over the daily budget",
        description=f"Claude Code spent {{{{ $value | humanize }}}} USD in the last 24 hours (budget {CC.daily_budget_usd:g} USD).",
        impact="The daily Claude Code budget is exceeded: cost overrun until usage slows down.",
        meaning=f"The team's estimated Claude Code cost over the last 1 day is above daily_budget_usd ({CC.daily_budget_usd:g} USD), for 5 minutes.",
        diagnosis=(f"topk(10, sum by (user_id, model) (increase({COST}[1d])))", "ccmon claude-code report --since 7d"),
        mitigation=(
            "Tell the heaviest users; check for runaway automation (agents in loops, CI jobs).",
            "Raise daily_budget_usd in mixin/settings.yml if the spend is planned.",
        ),
        scenario=_over_budget(CC.daily_budget_usd),
        for_="5m",
        threshold=CC.daily_budget_usd,
        group="claude_code",
        service_label=False,
        push_variant=False,
    ),
    Alert(
        name="ClaudeCodeTeamOverBudget",
        severity="P2",
        component="claude-code",
        expr=_spend_over_budget("team_id", TEAM_BUDGET),
        summary="Claude Code spend of team {{ $labels.team_id }} over its {{ $labels.period }} budget",
        description=(
            "Team {{ $labels.team_id }} spent {{ $value | humanize }} USD over its {{ $labels.period }} window "
            "(1 day, or 30 days for the monthly budget), above its budget."
        ),
        impact="The team's Claude Code spend is over plan; finance's chargeback for the team grows past its budget.",
        meaning=(
            "A team's (team.id) estimated Claude Code cost over the last 1 day is above its daily_usd, or over the "
            "last 30 days above its monthly_usd (claude_code.team_budgets in mixin/settings.yml), for 5 minutes. "
            "The 30-day window needs 30 days of data: with Prometheus's 15-day retention it sees 15 days at most "
            "(a long-term store answers the whole month, docs/long-term.md)."
        ),
        diagnosis=(
            f'topk(10, sum by (user_id, model) (increase({COST}{{team_id="<team>"}}[1d])))',
            f'sum by (agent_name, skill_name, mcp_server_name) (increase({COST}{{team_id="<team>"}}[1d]))',
            "ccmon claude-code report --by team --by user --since 30d",
        ),
        mitigation=(
            "Tell the team's lead; look for runaway automation (agents in loops, CI jobs) under the team's users.",
            "Raise the team's budget in claude_code.team_budgets if the spend is planned; `make generate`.",
        ),
        scenario=_budget_scenario("team_id", "platform", TEAM_BUDGET),
        for_="5m",
        group="claude_code",
        service_label=False,
        push_variant=False,
    ),
    Alert(
        name="ClaudeCodeCostCenterOverBudget",
        severity="P2",
        component="claude-code",
        expr=_spend_over_budget("cost_center", COST_CENTER_BUDGET),
        summary="Claude Code spend of cost centre {{ $labels.cost_center }} over its {{ $labels.period }} budget",
        description=(
            "Cost centre {{ $labels.cost_center }} spent {{ $value | humanize }} USD over its {{ $labels.period }} "
            "window (1 day, or 30 days for the monthly budget), above its budget."
        ),
        impact="A cost centre's Claude Code spend is over plan: its chargeback exceeds what finance agreed.",
        meaning=(
            "A cost centre's (cost_center) estimated Claude Code cost over the last 1 day is above its daily_usd, "
            "or over the last 30 days above its monthly_usd (claude_code.cost_center_budgets in "
            "mixin/settings.yml), for 5 minutes."
        ),
        diagnosis=(
            f'sum by (team_id, department) (increase({COST}{{cost_center="<cost centre>"}}[1d]))',
            "ccmon claude-code report --by cost_center --by team --since 30d",
        ),
        mitigation=(
            "Find the teams behind the spend (diagnosis) and agree with their leads.",
            "Raise the budget in claude_code.cost_center_budgets if the spend is planned; `make generate`.",
        ),
        scenario=_budget_scenario("cost_center", "eng-123", COST_CENTER_BUDGET),
        for_="5m",
        group="claude_code",
        service_label=False,
        push_variant=False,
    ),
    Alert(
        name="ClaudeCodeUserSpendSpike",
        severity="P2",
        component="claude-code",
        expr=(
            f"sum by (user_id) (increase({COST}[1h])) > {CC.user_hourly_spike_usd:g}"
            f" and sum by (user_id) (increase({COST}[1h])) > 3 * sum by (user_id) (increase({COST}[1d])) / 24"
        ),
        summary="Claude Code spend spike of user {{ $labels.user_id }}",
        description=(
            "User {{ $labels.user_id }} spent {{ $value | humanize }} USD in the last hour, "
            f"above {CC.user_hourly_spike_usd:g} USD and three times their daily average."
        ),
        impact="One user (or an automation under their identity) drives spend far above their habit.",
        meaning=(
            f"A user's estimated cost over the last 1 hour is above user_hourly_spike_usd ({CC.user_hourly_spike_usd:g} USD) "
            "and more than 3 times their average hourly cost over the last 1 day, for 10 minutes."
        ),
        diagnosis=(
            f'sum by (model) (increase({COST}{{user_id="<user>"}}[1h]))',
            "sum by (tool_name) (increase(ccmon_claude_code_tool_results_total[1h]))",
        ),
        mitigation=(
            "Ask the user: a long agent run, a loop, a leaked API key used by a script?",
            "If a key leaked: revoke it in the Anthropic console.",
        ),
        scenario=Scenario(
            firing={f"{COST}{{{OPUS}}}": _per_min(1)},
            healthy={f"{COST}{{{OPUS}}}": _per_min(CC.user_hourly_spike_usd / 120)},
            value=int(CC.user_hourly_spike_usd) + 1 + 11,
            labels={"user_id": "u1"},
            active_from=int(CC.user_hourly_spike_usd) + 1,
        ),
        for_="10m",
        threshold=CC.user_hourly_spike_usd,
        group="claude_code",
        service_label=False,
        push_variant=False,
    ),
    Alert(
        name="ClaudeCodeAPIErrorRate",
        severity="P2",
        component="claude-code",
        expr=(
            f'sum by (model) (rate({REQUESTS}{{status_code!="200"}}[10m])) / sum by (model) (rate({REQUESTS}[10m]))'
            f" > {CC.api_error_ratio:g}"
        ),
        summary="Claude Code API errors for {{ $labels.model }}",
        description=(
            "{{ $value | humanizePercentage }} of Claude Code's requests to {{ $labels.model }} failed "
            f"(threshold {CC.api_error_ratio:.0%})."
        ),
        impact="Developers' sessions fail or stall; work is retried and time is lost.",
        meaning=f"The share of Claude Code API requests that finally failed (api_error events) is above api_error_ratio ({CC.api_error_ratio:g}) over 10 minutes, for 10 minutes.",
        diagnosis=(f"sum by (model, status_code) (rate({REQUESTS}[10m]))", "https://status.anthropic.com"),
        mitigation=(
            "5xx: a provider incident; check the status page and wait, or switch model.",
            "401/403: a credential problem (expired key, missing model access).",
        ),
        scenario=Scenario(
            firing={
                f'{REQUESTS}{{{SONNET},status_code="200"}}': "0+9x200",
                f'{REQUESTS}{{{SONNET},status_code="500"}}': "0+1x200",
            },
            healthy={
                f'{REQUESTS}{{{SONNET},status_code="200"}}': "0+9x200",
                f'{REQUESTS}{{{SONNET},status_code="500"}}': "0x200",
            },
            value=0.1,
            labels={"model": "claude-sonnet-4-5"},
        ),
        for_="10m",
        threshold=CC.api_error_ratio,
        group="claude_code",
        service_label=False,
        push_variant=False,
    ),
    Alert(
        name="ClaudeCodeRateLimitStorm",
        severity="P2",
        component="claude-code",
        expr=f'sum by (model) (increase({REQUESTS}{{status_code="429"}}[5m])) > {CC.rate_limited_per_5m}',
        summary="Claude Code requests rate-limited (429) for {{ $labels.model }}",
        description="{{ $value | humanize }} Claude Code requests to {{ $labels.model }} ended in 429 in 5 minutes.",
        impact="The organisation's rate limit is exhausted: every developer's session slows down or fails.",
        meaning=f"More than rate_limited_per_5m ({CC.rate_limited_per_5m}) requests finally failed with 429 within 5 minutes, for 5 minutes.",
        diagnosis=(
            f'sum by (model) (increase({REQUESTS}{{status_code="429"}}[5m]))',
            f"topk(5, sum by (user_id) (rate({TOKENS}[5m])))",
        ),
        mitigation=(
            "Find the heaviest token consumers (often parallel agents or CI) and pause them.",
            "Ask Anthropic for a higher rate limit or spread load across models.",
        ),
        scenario=Scenario(
            firing={f'{REQUESTS}{{{SONNET},status_code="429"}}': f"0+{CC.rate_limited_per_5m // 2 + 1}x200"},
            healthy={f'{REQUESTS}{{{SONNET},status_code="429"}}': "0+1x200"},
            value=5 * (CC.rate_limited_per_5m // 2 + 1),
            labels={"model": "claude-sonnet-4-5"},
            active_from=CC.rate_limited_per_5m // (CC.rate_limited_per_5m // 2 + 1) + 1,
        ),
        for_="5m",
        threshold=float(CC.rate_limited_per_5m),
        group="claude_code",
        service_label=False,
        push_variant=False,
    ),
    Alert(
        name="ClaudeCodeTelemetrySilent",
        severity="P3",
        component="claude-code",
        expr=(
            f'sum(rate({POINTS}{{outcome="added"}}[1h])) == 0'
            f" and on() (hour() >= {START} and hour() < {END})"
            " and on() (day_of_week() >= 1 and day_of_week() <= 5)"
        ),
        summary="Claude Code telemetry has gone silent",
        description="Claude Code data points per second over the last hour: {{ $value }}, during working hours.",
        impact="Spend, errors and usage of Claude Code are invisible: budget and error alerts cannot fire.",
        meaning=(
            "No Claude Code data point reached the collector in the last 1 hour, during working hours "
            f"(hour from {START} to before {END} UTC, day_of_week 1 to 5: Monday to Friday; working_hours_utc in "
            "mixin/settings.yml), for 30 minutes, although this collector has received Claude Code data since it "
            "started (the counter exists)."
        ),
        diagnosis=(
            f"sum by (outcome) (rate({POINTS}[1h]))",
            "ccmon claude-code env   # the settings every developer (or the managed settings) must carry",
        ),
        mitigation=(
            "Check the managed settings rollout (CLAUDE_CODE_ENABLE_TELEMETRY, OTEL_* variables).",
            "Check that developers' machines reach the collector's OTLP endpoint (and its token, if required).",
            "A holiday: silence the alert for the day.",
        ),
        scenario=Scenario(
            # promtool's day 0 is a Thursday; silent all along, the working day starts at START o'clock
            firing={f'{POINTS}{{job="otel-collector",instance="c1",outcome="added"}}': f"100x{60 * START + 60}"},
            healthy={f'{POINTS}{{job="otel-collector",instance="c1",outcome="added"}}': f"0+10x{60 * START + 60}"},
            value=0,
            labels={},
            active_from=60 * START,
        ),
        for_="30m",
        group="claude_code",
        service_label=False,
        push_variant=False,
    ),
    Alert(
        name="ClaudeCodeTotalsIncomplete",
        severity="P2",
        component="claude-code",
        expr=f"{cut_points_expr('15m', CC.services)} > 0",
        summary="Claude Code totals are incomplete: a stream budget cuts data",
        description=(
            "{{ $value | humanize }} Claude Code data points were cut in the last 15 minutes by the collector's "
            "stream budget: spend and tokens shown for this time are too low."
        ),
        impact="Spend, token and budget figures (dashboard, report, budget alerts) read low for every affected window.",
        meaning=(
            "The collector dropped Claude Code data points (claudecode processor: over_limit; cardinality guard: "
            "over_budget, too_many_services or value_not_allowed for the Claude Code services) in the last 15 minutes, "
            "for 5 minutes."
        ),
        diagnosis=(
            cut_points_expr("1h", CC.services),
            dropped_value_expr("claude_code.cost.usage", "1h") + "   # USD not counted, at least",
            'otelcol_ccmon_claude_code_streams, otelcol_ccmon_guard_stream_budget{service=~"claude-code.*"}',
            "ccmon claude-code report --since 1d   # names the incomplete days and the missing amount",
        ),
        mitigation=(
            "More developers than claude_code.expected_developers in mixin/settings.yml: raise it, `make generate`, "
            "roll out the collector config (or set CCMON_CLAUDE_CODE_STREAM_BUDGET).",
            "A client sending unexpected attribute values (a new model family is fine; IDs are not): see which "
            "metric grows in otelcol_ccmon_claude_code_streams and fix the client's OTEL_RESOURCE_ATTRIBUTES.",
        ),
        scenario=Scenario(
            firing={f'{POINTS}{{job="otel-collector",instance="c1",outcome="over_limit"}}': "0+10x200"},
            healthy={f'{POINTS}{{job="otel-collector",instance="c1",outcome="over_limit"}}': "0x200"},
            value=70,
            labels={},
            active_from=1,
        ),
        for_="5m",
        threshold=0,
        group="claude_code",
        service_label=False,
        push_variant=False,
    ),
    Alert(
        name="ClaudeCodeCacheEfficiencyLow",
        severity="P3",
        component="claude-code",
        expr=(
            f'sum(increase({TOKENS}{{type="cacheRead"}}[1h])) / sum(increase({TOKENS}{{type=~"input|cacheRead|cacheCreation"}}[1h]))'
            f" < {CC.cache_read_share_min:g}"
            f' and on() sum(increase({TOKENS}{{type=~"input|cacheRead|cacheCreation"}}[1h])) > {CC.cache_min_tokens_per_hour}'
        ),
        summary="Claude Code prompt-cache efficiency is low",
        description=(
            "Only {{ $value | humanizePercentage }} of Claude Code's input tokens were read from the prompt cache "
            f"in the last hour (floor {CC.cache_read_share_min:.0%})."
        ),
        impact="Input tokens are paid at full price instead of the cache-read price (a tenth): spend is higher than needed.",
        meaning=(
            f"Cache reads are below cache_read_share_min ({CC.cache_read_share_min:g}) of all input tokens over the last 1 hour, "
            f"with more than {CC.cache_min_tokens_per_hour} input tokens in that hour, for 1 hour."
        ),
        diagnosis=(f"sum by (model, type) (increase({TOKENS}[1h]))",),
        mitigation=(
            "Many short sessions or frequently changing system prompts (CLAUDE.md, MCP tools) defeat the cache.",
            "Keep sessions longer; avoid editing CLAUDE.md mid-session.",
        ),
        scenario=Scenario(
            firing={
                f'{TOKENS}{{{SONNET},type="input"}}': "0+5000x200",
                f'{TOKENS}{{{SONNET},type="cacheRead"}}': "0+500x200",
                f'{TOKENS}{{{SONNET},type="cacheCreation"}}': "0x200",
            },
            healthy={
                f'{TOKENS}{{{SONNET},type="input"}}': "0+5000x200",
                f'{TOKENS}{{{SONNET},type="cacheRead"}}': "0+20000x200",
                f'{TOKENS}{{{SONNET},type="cacheCreation"}}': "0x200",
            },
            value=500 / 5500,
            labels={},
            active_from=int(CC.cache_min_tokens_per_hour / 5500) + 1,
        ),
        for_="1h",
        threshold=CC.cache_read_share_min,
        group="claude_code",
        service_label=False,
        push_variant=False,
    ),
    Alert(
        name="ClaudeCodeRetriesExhausted",
        severity="P2",
        component="claude-code",
        expr=f"sum by (model) (increase({RETRIES}[10m])) > {CC.retries_exhausted_per_10m}",
        summary="Claude Code requests to {{ $labels.model }} fail after every retry",
        description=(
            "{{ $value | humanize }} Claude Code requests to {{ $labels.model }} gave up after every retry "
            "in 10 minutes (api_retries_exhausted)."
        ),
        impact="Developers' turns end in errors after minutes of retrying: work stops, not just slows down.",
        meaning=(
            f"More than retries_exhausted_per_10m ({CC.retries_exhausted_per_10m}) Claude Code API requests to one "
            "model exhausted their retries within 10 minutes, for 5 minutes."
        ),
        diagnosis=(
            f"sum by (model, status_code) (increase({RETRIES}[10m]))",
            f"sum by (model, status_code) (rate({REQUESTS}[10m]))",
            "https://status.anthropic.com",
        ),
        mitigation=(
            "529/5xx: a provider incident or overload; check the status page, switch model meanwhile.",
            "429: the organisation's rate limit (see ClaudeCodeRateLimitStorm).",
        ),
        scenario=Scenario(
            firing={f'{RETRIES}{{{SONNET},status_code="529"}}': "0+1x200"},
            healthy={f'{RETRIES}{{{SONNET},status_code="529"}}': "0+0.1x200"},
            value=10,
            labels={"model": "claude-sonnet-4-5"},
            active_from=CC.retries_exhausted_per_10m + 1,
        ),
        for_="5m",
        threshold=float(CC.retries_exhausted_per_10m),
        group="claude_code",
        service_label=False,
        push_variant=False,
    ),
    Alert(
        name="ClaudeCodeRefusalStorm",
        severity="P3",
        component="claude-code",
        expr=f"sum by (model) (increase({REFUSALS}[10m])) > {CC.refusals_per_10m}",
        summary="Claude Code requests to {{ $labels.model }} are refused",
        description="{{ $value | humanize }} Claude Code requests to {{ $labels.model }} were refused in 10 minutes.",
        impact="Developers get refusals instead of work: a prompt pattern, a tool or a repository trips the model's policy.",
        meaning=(
            f"More than refusals_per_10m ({CC.refusals_per_10m}) Claude Code API requests to one model were refused "
            "(api_refusal) within 10 minutes, for 10 minutes."
        ),
        diagnosis=(
            f"sum by (model, team_id) (increase({REFUSALS}[1h]))",
            'sum by (team_id, project) (increase(ccmon_claude_code_events_total{event="api_refusal"}[1h]))',
        ),
        mitigation=(
            "Find the team or project behind them (diagnosis) and the automation or prompt that triggers them.",
        ),
        scenario=Scenario(
            firing={f"{REFUSALS}{{{SONNET}}}": "0+2x200"},
            healthy={f"{REFUSALS}{{{SONNET}}}": "0+0.5x200"},
            value=20,
            labels={"model": "claude-sonnet-4-5"},
            active_from=CC.refusals_per_10m // 2 + 1,
        ),
        for_="10m",
        threshold=float(CC.refusals_per_10m),
        group="claude_code",
        service_label=False,
        push_variant=False,
    ),
    Alert(
        name="ClaudeCodeMCPServerFailing",
        severity="P3",
        component="claude-code",
        expr=(
            f'sum by (mcp_server_name, transport_type) (increase({MCP}{{status="failed"}}[30m])) '
            f"> {CC.mcp_failures_per_30m}"
        ),
        summary="Claude Code cannot connect to MCP server {{ $labels.mcp_server_name }}",
        description=(
            "{{ $value | humanize }} Claude Code connections to MCP server {{ $labels.mcp_server_name }} "
            "({{ $labels.transport_type }}) failed in 30 minutes."
        ),
        impact="Developers' sessions lack that server's tools: tasks that need it fail or take detours.",
        meaning=(
            f"More than mcp_failures_per_30m ({CC.mcp_failures_per_30m}) connections to one MCP server failed "
            "(mcp_server_connection, status failed) within 30 minutes, for 10 minutes. The server is named only "
            "when clients log tool details (OTEL_LOG_TOOL_DETAILS=1); otherwise `unknown`."
        ),
        diagnosis=(
            f"sum by (mcp_server_name, status, team_id) (increase({MCP}[1h]))",
            "claude mcp list   # on a developer's machine: the server's own error",
        ),
        mitigation=(
            "A remote server: check its status and credentials (OAuth tokens expire).",
            "A local (stdio) server: a missing binary or a changed path after an update; fix the MCP config rollout.",
        ),
        scenario=Scenario(
            firing={
                f'{MCP}{{{JOB},mcp_server_name="github",status="failed",transport_type="http"}}': "0+1x200",
            },
            healthy={
                f'{MCP}{{{JOB},mcp_server_name="github",status="connected",transport_type="http"}}': "0+1x200",
            },
            value=CC.mcp_failures_per_30m + 1 + 11,  # 1 a minute, checked 1 minute after `for: 10m`
            labels={"mcp_server_name": "github", "transport_type": "http"},
            active_from=CC.mcp_failures_per_30m + 1,
        ),
        for_="10m",
        threshold=float(CC.mcp_failures_per_30m),
        group="claude_code",
        service_label=False,
        push_variant=False,
    ),
    Alert(
        name="ClaudeCodeHooksFailing",
        severity="P3",
        component="claude-code",
        expr=(
            f'sum by (hook_event) (increase({HOOKS}{{outcome=~"non_blocking_error|cancelled"}}[30m])) '
            f"/ sum by (hook_event) (increase({HOOKS}[30m])) > {CC.hook_failure_ratio:g}"
        ),
        summary="Claude Code {{ $labels.hook_event }} hooks fail or time out",
        description=(
            "{{ $value | humanizePercentage }} of Claude Code's {{ $labels.hook_event }} hook runs failed or timed "
            "out in 30 minutes."
        ),
        impact=(
            "What the hooks enforce or record (policy checks, formatting, audit logs) silently does not happen for "
            "those runs."
        ),
        meaning=(
            f"The share of hook runs of one hook event that ended in an error or were cancelled (timed out) is above "
            f"hook_failure_ratio ({CC.hook_failure_ratio:g}) over 30 minutes, for 15 minutes."
        ),
        diagnosis=(
            f"sum by (hook_event, outcome, team_id) (increase({HOOKS}[1h]))",
            "histogram_quantile(0.95, sum by (hook_event, le) (rate(ccmon_claude_code_hook_duration_seconds_bucket[1h])))",
        ),
        mitigation=(
            "Timeouts: a hook calling a slow service; raise its timeout or make it asynchronous.",
            "Errors: a hook script broken by a rollout (managed settings, a plugin update); roll it back.",
        ),
        scenario=Scenario(
            firing={
                f'{HOOKS}{{{JOB},hook_event="PreToolUse",outcome="success"}}': "0+2x200",
                f'{HOOKS}{{{JOB},hook_event="PreToolUse",outcome="cancelled"}}': "0+2x200",
            },
            healthy={
                f'{HOOKS}{{{JOB},hook_event="PreToolUse",outcome="success"}}': "0+20x200",
                f'{HOOKS}{{{JOB},hook_event="PreToolUse",outcome="cancelled"}}': "0+1x200",
            },
            value=0.5,
            labels={"hook_event": "PreToolUse"},
        ),
        for_="15m",
        threshold=CC.hook_failure_ratio,
        group="claude_code",
        service_label=False,
        push_variant=False,
    ),
)
