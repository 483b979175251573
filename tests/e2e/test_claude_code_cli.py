"""The real Claude Code CLI (pinned, installed by scripts/bootstrap.sh) against a stub of the Messages
API: exact totals in Prometheus through our collector, and the simulator checked against it."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

from otel_ccmon.claude_code import CLIENT_VERSION, Client, Identity, Ledger, cost_usd, env_settings
from otel_ccmon.claude_code._simulator import TOKEN_KINDS
from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.procs import wait_for
from otel_ccmon.devstack.repo import bin_dir
from otel_ccmon.devstack.stack import Stack
from tests.anthropic_stub import Stub, Turn, Usage
from tests.otlp_capture import otlp_capture
from tests.support import ROOT, pinned_versions

CLAUDE = bin_dir(ROOT) / "claude"
UNAVAILABLE = ROOT / ".cache" / "claude-code.unavailable"

pytestmark = pytest.mark.skipif(
    not CLAUDE.exists(),
    reason=(
        "the Claude Code CLI is not installed: npm was unreachable during bootstrap "
        f"({UNAVAILABLE.read_text().strip().splitlines()[-1] if UNAVAILABLE.exists() else 'run scripts/bootstrap.sh'})"
    ),
)

SCENARIOS = {
    # a tool loop with an idle gap longer than the export interval between the two turns: the case
    # in which a plain collector lost the later turns' spend (issue 11)
    "multi": (
        Turn(Usage(1200, 300, 5000, 800), tool=("Bash", {"command": "echo hi", "description": "say hi"})),
        Turn(Usage(2000, 450, 6000, 0), delay=2.5),
    ),
    "plain": (Turn(Usage(700, 120, 0, 1500)),),
    "cached": (Turn(Usage(90, 60, 12000, 0)),),
    # a command whose text must never leave the collector (issue 30's privacy test)
    "secret": (
        Turn(
            Usage(800, 200, 3000, 400),
            tool=("Bash", {"command": "echo TOOLSECRET-4711 >/dev/null", "description": "x"}),
        ),
        Turn(Usage(1500, 300, 4000, 0)),
    ),
}
RUNS = [  # (scenario, model, temporality): parallel sessions, three models, both preferences
    ("multi", "claude-sonnet-4-5", "delta"),
    ("multi", "claude-opus-4-5", "delta"),
    ("plain", "claude-haiku-4-5", "delta"),
    ("cached", "claude-sonnet-4-5", "delta"),
    ("multi", "claude-haiku-4-5", "cumulative"),
    ("plain", "claude-opus-4-5", "cumulative"),
]


def run_cli(
    base_url: str,
    otlp: str,
    scenario: str,
    model: str,
    temporality: str,
    protocol: str,
    *,
    email: bool = True,
    settings: Mapping[str, str] | None = None,
    extra: Mapping[str, str] | None = None,
    home: str | None = None,
    prompt: str = "please do it",
    binary: Path = CLAUDE,
) -> subprocess.Popen[str]:
    """One real CLI session. ``settings`` replaces what ``ccmon claude-code env`` would print for
    ``otlp`` (a test passes that command's own output); ``extra`` adds or overrides variables;
    sessions sharing ``home`` are one developer's (one ``user.id``), each else its own."""
    home = home or tempfile.mkdtemp(prefix="cc-home-")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": home,
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": "sk-ant-test-not-a-key",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        **(settings if settings is not None else env_settings(otlp)),
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
        "OTEL_LOGS_EXPORT_INTERVAL": "1000",
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": temporality,
    }
    if email:
        # Claude Code copies these onto every point and event: a stand-in for the user.email a
        # logged-in user's points carry (an API-key run has none)
        env["OTEL_RESOURCE_ATTRIBUTES"] = "user.email=dev@example.com,team=platform"
    env.update(extra or {})
    argv = [str(binary), "-p", f"[[{scenario}]] {prompt}", "--model", model, "--allowedTools", "Bash"]
    return subprocess.Popen(argv, env=env, cwd=home, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(procs: list[subprocess.Popen[str]]) -> None:
    try:
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, (p.args, out[-500:], err[-2000:])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    st = Stack(
        StackConfig.with_free_ports(
            tmp_path / "stack", scrape_interval="1s", evaluation_interval="1s", components=("collector", "prometheus")
        )
    )
    try:
        st.up()
        wait_for(lambda: st.prom_query('up{job="otel-collector"} == 1'), 30, "Prometheus scraping the collector")
        yield st
    finally:
        st.down()


def total(stack: Stack, expr: str) -> float:
    result = stack.prom_query(f"sum({expr})")
    return float(result[0]["value"][1]) if result else 0.0


def served_totals(s: Stub, runs: list[tuple[str, str, str]]) -> tuple[dict[str, int], float, int]:
    """Tokens by type, cost and request count of every request the stub answered for ``runs``."""
    served = [x for x in s.served if x.usage is not None]
    assert len(served) == sum(len(SCENARIOS[r[0]]) for r in runs), [(x.scenario, x.model) for x in s.served]
    tokens = dict.fromkeys(TOKEN_KINDS, 0)
    cost = 0.0
    for x in served:
        assert x.usage is not None
        usage = (
            x.usage.input_tokens,
            x.usage.output_tokens,
            x.usage.cache_read_input_tokens,
            x.usage.cache_creation_input_tokens,
        )
        for kind, n in zip(TOKEN_KINDS, usage, strict=True):
            tokens[kind] += n
        cost += cost_usd(x.model, usage)
    return tokens, cost, len(served)


def assert_exact_totals(
    stack: Stack, s: Stub, runs: list[tuple[str, str, str]], job: str = "claude-code", timeout: float = 45
) -> None:
    """Prometheus holds exactly what the stub served to ``runs``: tokens by type, cost (counters and
    events), requests and sessions, all under ``job``."""
    tokens, cost, requests = served_totals(s, runs)
    j = f'job="{job}"'
    expected = {f'claude_code_token_usage_tokens_total{{{j},type="{k}"}}': float(v) for k, v in tokens.items()}
    expected |= {
        f'ccmon_claude_code_api_requests_total{{{j},status_code="200"}}': float(requests),
        f"ccmon_claude_code_api_tokens_total{{{j}}}": float(sum(tokens.values())),
        f"claude_code_session_count_total{{{j}}}": float(len(runs)),
    }
    costs = (f"claude_code_cost_usage_USD_total{{{j}}}", f"ccmon_claude_code_api_cost_USD_total{{{j}}}")

    def arrived() -> bool:
        exact = all(total(stack, e) == v for e, v in expected.items())
        return exact and all(abs(total(stack, c) - cost) <= 1e-9 for c in costs)

    try:
        wait_for(arrived, timeout, "the CLI's totals in Prometheus")
    finally:
        got = {e: total(stack, e) for e in (*expected, *costs)}
        assert {e: got[e] for e in expected} == expected, (got, cost)
        for c in costs:
            assert got[c] == pytest.approx(cost, rel=1e-9), (c, got[c], cost)


def test_real_cli_totals_are_exact_in_prometheus(stub: tuple[Stub, str], stack: Stack) -> None:
    s, base = stub
    procs = [run_cli(base, stack.config.url("otlp_http"), *run, protocol="http/protobuf") for run in RUNS]
    finish(procs)
    assert_exact_totals(stack, s, RUNS)
    # the tool_result events can come in another export than the api_request events: wait for all three
    results = 'ccmon_claude_code_tool_results_total{job="claude-code"}'
    bash = [t for x in s.served for t in x.tool_results]
    try:
        wait_for(lambda: total(stack, results) >= 3, 30, "the three Bash tool_result events in Prometheus")
    finally:
        series = {tuple(sorted(r["metric"].items())): r["value"][1] for r in stack.prom_query(results)}
        ok = total(stack, 'ccmon_claude_code_tool_results_total{tool_name="Bash",success="true"}')
        assert ok == 3, ("series", series, "what the CLI sent back to the stub (is_error, content)", bash)
    assert [err for err, _ in bash] == [False] * 3, bash
    labels = {k for r in stack.prom_query('{job="claude-code"}') for k in r["metric"]}
    assert "session_id" not in labels and "user_id" in labels and "model" in labels
    emails = {r["metric"]["user_email"] for r in stack.prom_query('{user_email!=""}')}
    assert emails and all(re.fullmatch("sha256:[0-9a-f]{16}", e) for e in emails), ("only pseudonyms", emails)
    assert not stack.prom_query('{__name__=~".+", team!=""}'), "unknown attributes are not labels"


def shape(metrics: list[ExportMetricsServiceRequest], logs: list[ExportLogsServiceRequest]) -> dict[str, Any]:
    """What must match between the real client and the simulator (not values or ids)."""
    out: dict[str, Any] = {"metrics": {}, "events": {}, "resource": set(), "scopes": set()}
    for req in metrics:
        for rm in req.resource_metrics:
            out["resource"] |= {kv.key for kv in rm.resource.attributes}
            for sm in rm.scope_metrics:
                out["scopes"].add(sm.scope.name)
                for m in sm.metrics:
                    keys: set[str] = set()
                    for p in m.sum.data_points:
                        keys |= {kv.key for kv in p.attributes}
                        assert p.WhichOneof("value") == "as_double", m.name
                    out["metrics"][m.name] = (m.unit, m.sum.aggregation_temporality, m.sum.is_monotonic, keys)
    for req in logs:
        for rl in req.resource_logs:
            for sl in rl.scope_logs:
                out["scopes"].add(sl.scope.name)
                for r in sl.log_records:
                    attrs = {kv.key: kv.value.WhichOneof("value") for kv in r.attributes}
                    name = next(kv.value.string_value for kv in r.attributes if kv.key == "event.name")
                    assert r.body.string_value == f"claude_code.{name}"
                    out["events"].setdefault(name, {}).update(attrs)
    return out


def test_simulator_emits_what_the_real_client_emits(stub: tuple[Stub, str]) -> None:
    _, base = stub
    with otlp_capture() as captured:
        finish([run_cli(base, captured.url, "multi", "claude-sonnet-4-5", "delta", "http/protobuf", email=False)])
        real = shape(captured.metrics, captured.logs)
        captured.clear()
        sim = Client(captured.url, Identity("u1"), ledger=Ledger())
        sim.prompt()
        sim.tool("Bash")
        sim.api_request("claude-sonnet-4-5", (1200, 300, 5000, 800), duration_ms=88)
        sim.api_request("claude-sonnet-4-5", (2000, 450, 6000, 0))
        sim.add("claude_code.active_time.total", 1.0, type="cli")
        sim.close()
        simulated = shape(captured.metrics, captured.logs)
        resource = {kv.key: kv.value.string_value for kv in captured.metrics[0].resource_metrics[0].resource.attributes}
    assert simulated["resource"] == real["resource"]
    assert simulated["scopes"] == real["scopes"]
    assert set(simulated["metrics"]) == set(real["metrics"])
    for name, (unit, temporality, monotonic, keys) in simulated["metrics"].items():
        r_unit, r_temporality, r_monotonic, r_keys = real["metrics"][name]
        assert (unit, temporality, monotonic) == (r_unit, r_temporality, r_monotonic), name
        assert keys <= r_keys, (name, keys - r_keys)
    for event in ("user_prompt", "api_request", "tool_result", "tool_decision"):
        for key, kind in simulated["events"][event].items():
            assert real["events"][event].get(key) == kind, (event, key, kind, real["events"][event].get(key))
    assert resource["service.version"] == CLIENT_VERSION


def test_cli_version_is_the_pinned_one() -> None:
    out = subprocess.run([str(CLAUDE), "--version"], capture_output=True, text=True, timeout=60, check=True).stdout
    pinned = pinned_versions()["CLAUDE_CODE_VERSION"]
    assert out.startswith(pinned) and pinned == CLIENT_VERSION
