"""Claude Code's telemetry counted exactly: simulated teams through the real collector and Prometheus.

The acceptance of issue 11, point 2: ``sum(increase(...))`` over a window in Prometheus equals what
the clients reported, for cost and every token type, within 1 %, with >= 20 parallel sessions of
several users and models, sessions starting and ending, both temporality preferences, and a
``kill -9`` of the collector mid-scenario (the loss stays within the stated bound).
"""

from __future__ import annotations

import csv
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from otel_ccmon import _catalog as cat
from otel_ccmon._identity import pseudonym
from otel_ccmon.claude_code import Client, Identity, Ledger, Team, TeamPlan
from otel_ccmon.claude_code._report import collect
from otel_ccmon.claude_code._simulator import TOKEN_KINDS, WORK_CONTEXTS
from otel_ccmon.devstack.procs import wait_for
from otel_ccmon.devstack.stack import Stack
from tests.otlp_capture import otlp_capture
from tests.support import venv_bin

COST, TOKENS = "claude_code_cost_usage_USD_total", "claude_code_token_usage_tokens_total"


def scalar(stack: Stack, expr: str, at: float | None = None) -> float:
    result = stack.prom_query(expr, at)
    return float(result[0]["value"][1]) if result else 0.0


def settle(stack: Stack, expr: str, expected: float, timeout: float = 45) -> float:
    """Wait until the raw totals equal ``expected``; returns the newest sample's time."""

    def done() -> bool:
        return abs(scalar(stack, f"sum({expr})") - expected) <= 1e-9 * max(1.0, expected)

    wait_for(done, timeout, f"sum({expr}) == {expected}")
    return scalar(stack, f"max(timestamp({expr}))")


def increase(stack: Stack, expr: str, at: float, by: str = "") -> dict[str, float]:
    """``sum by (by) (increase(expr[15m]))`` evaluated at ``at`` (the newest scrape)."""
    grouping = f" by ({by})" if by else ""
    return {
        ",".join(r["metric"].get(k, "") for k in by.split(",") if k): float(r["value"][1])
        for r in stack.prom_query(f"sum{grouping} (increase({expr}[15m]))", at)
    }


def within(measured: float, expected: float, tolerance: float = 0.01) -> bool:
    return abs(measured - expected) <= tolerance * expected


@pytest.mark.parametrize("temporality", ["delta", "cumulative"])
def test_parallel_sessions_counted_exactly(make_stack: Callable[..., Stack], temporality: str) -> None:
    stack = make_stack()
    plan = TeamPlan(users=5, sessions=24, seconds=16, export_interval=1.0, temporality=temporality)
    team = Team(stack.config.url("otlp_http"), plan)
    team.run()
    ledger = team.ledger
    assert not ledger.lost, "every export reached the collector"
    cost = ledger.total("recorded", "claude_code.cost.usage")
    at = settle(stack, COST, cost)
    # the acceptance: sum(increase()) over a window equals what the clients reported, within 1 %
    measured = increase(stack, COST, at)[""]
    assert within(measured, cost), (measured, cost)
    by_type = increase(stack, TOKENS, at, "type")
    for kind in TOKEN_KINDS:
        expected = ledger.total("recorded", "claude_code.token.usage", type=kind)
        assert within(by_type[kind], expected), (kind, by_type[kind], expected)
    # per user and per model too (the dashboard's and the report's breakdowns)
    by_model = increase(stack, COST, at, "model")
    for model in plan.models:
        assert within(by_model[model], ledger.total("recorded", "claude_code.cost.usage", model=model)), model
    by_user = increase(stack, COST, at, "user_id")
    assert len(by_user) == plan.users
    for session in team.sessions:
        user = session.client.identity.user_id
        assert within(by_user[user], ledger.total("recorded", "claude_code.cost.usage", **{"user.id": user}))
    # no session.id, no e-mail in clear: parallel sessions were merged, identities hashed by default
    found = stack.prom_query('{job="claude-code"}')
    labels = {k for r in found for k in r["metric"]}
    assert "session_id" not in labels, labels
    assert not [r["metric"] for r in found if any("@" in v for v in r["metric"].values())], "no e-mail in clear"
    assert {"user_id", "model", "type"} <= labels
    assert not labels & {"terminal_type", "query_source", "anthropic_provider"}, "not per developer (issue 20)"
    # churn bound: series = users x models x kept attribute values, not x sessions
    series = scalar(stack, 'count({job="claude-code", __name__=~"claude_code_.*"})')
    # per user: each model's cost + 4 token types, for the main loop and each work context (subagent,
    # skill, plugin, MCP tool: issue 21); session, 2 active-time types, 2 line types, commits, pull
    # requests; Edit decisions per organisation (tool x decision)
    per_model = (1 + 4) * (1 + len(WORK_CONTEXTS))
    assert series <= plan.users * (len(plan.models) * per_model + 1 + 2 + 2 + 1 + 1) + 3 * 2, series


def test_events_become_metrics_and_agree_with_the_counters(make_stack: Callable[..., Stack], tmp_path: Path) -> None:
    stack = make_stack()
    team = Team(stack.config.url("otlp_http"), TeamPlan(users=3, sessions=8, seconds=8, seed=11))
    team.run()
    cost = team.ledger.total("recorded", "claude_code.cost.usage")
    at = settle(stack, "ccmon_claude_code_api_cost_USD_total", cost)
    # cost from api_request.cost_usd equals cost.usage (the cross-check the dashboard shows)
    assert within(increase(stack, "ccmon_claude_code_api_cost_USD_total", at)[""], cost, 1e-6)
    events = [r for s in team.sessions for r in s.client.sent_events]
    requests = sum(1 for name, _ in events if name == "api_request")
    errors = sum(1 for name, _ in events if name == "api_error")
    tools = sum(1 for name, _ in events if name == "tool_result")
    assert requests > 0 and tools > 0
    expected = {
        'sum(ccmon_claude_code_api_requests_total{status_code="200"})': requests,
        'sum(ccmon_claude_code_api_requests_total{status_code="429"})': errors,
        "sum(ccmon_claude_code_tool_results_total)": tools,
        "sum(ccmon_claude_code_api_request_duration_seconds_count)": requests,
        "sum(ccmon_claude_code_prompts_total)": requests,
    }
    # each new stream shows its value after first_value_delay: wait for all, then compare
    wait_for(lambda: all(scalar(stack, e) == v for e, v in expected.items()), 30, "derived metrics complete")
    assert {e: scalar(stack, e) for e in expected} == expected
    # the report's totals are Prometheus's: per user and model, and in its CSV and HTML
    out = tmp_path / "report"
    cli = [venv_bin("ccmon"), "claude-code", "report", "--since", "1d"]
    done = subprocess.run(
        [*cli, "--prometheus", stack.config.url("prometheus"), "--out", str(out)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    rows = list(csv.DictReader((out / "claude-code-report.csv").open()))
    assert within(sum(float(r["cost_usd"]) for r in rows), cost)
    for user in {s.client.identity.user_id for s in team.sessions}:
        reported = sum(float(r["cost_usd"]) for r in rows if r["user_id"] == user)
        assert within(reported, team.ledger.total("recorded", "claude_code.cost.usage", **{"user.id": user}))
    assert f"{sum(float(r['cost_usd']) for r in rows):.4f}" in done.stdout
    page = (out / "claude-code-report.html").read_text()
    assert "<svg" in page and "<script" not in page and "http" not in page.split("<svg", 1)[0].lower()
    # and exactly Prometheus's own numbers for the same window and evaluation time
    at = scalar(stack, f"max(timestamp({COST}))")
    day = datetime.fromtimestamp(at, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    rows_at = collect(stack.config.url("prometheus"), 1, now=datetime.fromtimestamp(at, UTC))
    window = max(1, int(at - day.timestamp()))
    by_user_model = {
        (r["metric"].get("user_id", ""), r["metric"].get("model", "")): float(r["value"][1])
        for r in stack.prom_query(f"sum by (user_id, model) (increase({COST}[{window}s]))", at)
    }
    assert {(r.get("user_id"), r.get("model")): r.cost_usd for r in rows_at} == by_user_model


def test_collector_kill9_loses_at_most_the_stated_bound(make_stack: Callable[..., Stack]) -> None:
    """Loss bound: what clients sent while the collector was down (their failed exports) plus what
    reached it in the last first_value_delay + emit + scrape interval before the crash (a stream
    still shown at 0 loses everything it had; an older one at most what came after its last scrape)."""
    stack = make_stack()
    plan = TeamPlan(users=4, sessions=20, seconds=24, export_interval=1.0, seed=3)
    team = Team(stack.config.url("otlp_http"), plan)
    stop = threading.Event()
    runner = threading.Thread(target=team.run, args=(stop,))
    runner.start()
    try:
        wait_for(lambda: scalar(stack, f"sum({COST})") > 0, 30, "first totals in Prometheus")
        time.sleep(3)  # workload time: let totals build up before the crash (not a synchronisation)
        killed_at = time.time()
        stack.kill9("collector")
        time.sleep(2)  # the outage being measured
        stack.start("collector")
        restarted_at = time.time()
        runner.join(timeout=120)
    finally:
        stop.set()
        runner.join()
    ledger = team.ledger
    recorded = ledger.total("recorded", "claude_code.cost.usage")
    # after the restart the totals start again from zero: settle on what the new collector got
    after = sum(v for t, m, _, v in ledger.deliveries if m == "claude_code.cost.usage" and t > killed_at)
    at = settle(stack, COST, after)
    measured = increase(stack, COST, at)[""]
    lost_in_flight = ledger.total("lost", "claude_code.cost.usage")
    unscraped = _unscraped(ledger, killed_at)
    bound = lost_in_flight + unscraped
    loss = recorded - measured
    assert lost_in_flight > 0, "the outage must have cost some exports, or the test shows nothing"
    assert -1e-9 <= loss <= bound * 1.0001 + 1e-9, (loss, bound)
    print(
        f"\nkill -9: recorded {recorded:.6f} USD, in Prometheus {measured:.6f}, lost {loss:.6f} "
        f"({100 * loss / recorded:.2f} %): {lost_in_flight:.6f} in failed exports during "
        f"{restarted_at - killed_at:.1f} s down, {unscraped:.6f} delivered but not scraped"
    )


def _unscraped(ledger: Ledger, killed_at: float) -> float:
    """Cost delivered in the last first_value_delay (3 s) + emit (1 s) + scrape (1 s) before the kill."""
    return sum(
        v for t, m, _, v in ledger.deliveries if m == "claude_code.cost.usage" and killed_at - 5 <= t <= killed_at
    )


def test_bad_input_is_refused_or_counted_and_never_corrupts_totals(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    otlp = stack.config.url("otlp_http")
    garbage = httpx.post(
        f"{otlp}/v1/metrics", content=b"\x00garbage", headers={"content-type": "application/x-protobuf"}
    )
    assert garbage.status_code == 400
    ledger = Ledger()
    client = Client(otlp, Identity("u-bad"), ledger=ledger)
    client.api_request("claude-haiku-4-5", (100, 10, 0, 0))
    client.export_metrics()  # one export each: a NaN must not take the valid point with it
    client.event("api_request", model="claude-haiku-4-5", input_tokens=1, output_tokens=1, cache_read_tokens=0,
                 cache_creation_tokens=0, cost_usd="lots", duration_ms=5)  # fmt: skip
    client.event("api_request", model="claude-haiku-4-5", input_tokens=10**12, output_tokens=1, cache_read_tokens=0,
                 cache_creation_tokens=0, cost_usd=99.0, duration_ms=5)  # fmt: skip
    for bad in (float("nan"), -5.0):
        client.add("claude_code.cost.usage", bad, model="claude-haiku-4-5", query_source="main")
        client.export_metrics()
    client.close()
    good = 100 * 1.0 / 1e6 + 10 * 5.0 / 1e6
    settle(stack, "ccmon_claude_code_api_cost_USD_total", good)
    wait_for(
        lambda: scalar(stack, 'sum(otelcol_ccmon_claude_code_events{outcome=~"invalid_cost|invalid_tokens"})') == 2,
        30,
        "invalid events counted",
    )
    assert scalar(stack, 'sum(otelcol_ccmon_claude_code_points{outcome=~"invalid|negative"})') == 2
    assert scalar(stack, f"sum({COST})") == pytest.approx(good)
    assert httpx.get(stack.config.url("collector_health", "/")).status_code == 200
    assert cat.BY_PROM_NAME[COST].source is cat.Source.CLAUDE_CODE


def test_privacy_hashed_email_and_logs_forwarded_without_content(make_stack: Callable[..., Stack]) -> None:
    """user.email: hashed by default (never the address); the log events forwarded to a log
    backend keep neither the address nor content, even when the client sends the prompt; the
    pseudonym is the one otel_ccmon._identity makes with the same key (the report's mapping)."""
    with otlp_capture() as backend:
        stack = make_stack(
            collector_overlays=("forward-logs-otlp.yaml",),
            collector_env={
                "CCMON_FORWARD_LOGS_OTLP_ENDPOINT": backend.url,
                "CCMON_IDENTITY_HASH_KEY": "test-key-0123456789",
            },
        )
        client = Client(stack.config.url("otlp_http"), Identity("u-priv", "dev@example.com"), ledger=Ledger())
        client.event("user_prompt", prompt_length="12", prompt="secret plans")  # OTEL_LOG_USER_PROMPTS=1
        client.api_request("claude-sonnet-4-5", (10, 5, 0, 0))
        client.close()
        wait_for(lambda: len(backend.log_attributes()) >= 2, 30, "the events at the log backend")
        records = backend.log_attributes()
        assert {r["event.name"] for r in records} >= {"user_prompt", "api_request"}
        for r in records:
            assert "prompt" not in r and all("example.com" not in v for v in r.values()), r
            assert r["user.email"].startswith("sha256:"), r
        settle(stack, COST, client.ledger.total("recorded", "claude_code.cost.usage"))
        emails = {r["metric"].get("user_email") for r in stack.prom_query(COST)}
        assert emails == {records[0]["user.email"]} == {pseudonym("dev@example.com", "test-key-0123456789")}, emails
        assert not stack.prom_query('{user_email=~".*example.com.*"}')
