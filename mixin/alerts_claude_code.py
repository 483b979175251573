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
)
