"""Claude Code's totals exact in every documented setup (issue 20), on the real binaries: the real
CLI with traces on, against the secured stack with exactly what ``ccmon claude-code env`` prints,
as Claude Desktop's Code tab, with the ``OTEL_METRICS_INCLUDE_*`` switches; and an organisation of
simulated developers beyond one application's stream budget. Each of these read low before."""

from __future__ import annotations

import csv
import json
import shlex
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from otel_ccmon.claude_code import Include, Team, TeamPlan
from otel_ccmon.claude_code._simulator import cost_usd
from otel_ccmon.devstack import security
from otel_ccmon.devstack.procs import free_ports, http_ok, wait_for
from otel_ccmon.devstack.repo import bin_dir
from otel_ccmon.devstack.stack import Stack
from tests.anthropic_stub import Stub
from tests.e2e.test_claude_code_cli import CLAUDE, RUNS, SCENARIOS, assert_exact_totals, finish, run_cli, total
from tests.otlp_capture import otlp_capture
from tests.support import ROOT, Procs, venv_bin

cli_only = pytest.mark.skipif(not CLAUDE.exists(), reason="the Claude Code CLI is not installed (bootstrap)")


def report(stack: Stack, out: Path) -> subprocess.CompletedProcess[str]:
    """`ccmon claude-code report --since 1d` against the stack's Prometheus, into ``out``."""
    argv = [venv_bin("ccmon"), "claude-code", "report", "--since", "1d", "--prometheus", stack.config.url("prometheus")]
    return subprocess.run([*argv, "--out", str(out)], capture_output=True, text=True, timeout=120, check=True)


def env_from_ccmon(*args: str) -> dict[str, str]:
    """What ``ccmon claude-code env ARGS`` prints (shell format), as a mapping."""
    out = subprocess.run(
        [venv_bin("ccmon"), "claude-code", "env", *args], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    env = {}
    for line in out.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = shlex.split(value)[0]
    return env


@cli_only
def test_traces_on_keeps_totals_exact(stub: tuple[Stub, str], make_stack: Callable[..., Stack]) -> None:
    """Anthropic's documented traces beta (issue 21): totals stay exact (a 404 on /v1/traces cost the
    client half its metrics before); the spans reach a trace backend as one tree per prompt
    (interaction -> LLM requests and tools) without prompt text or e-mail, even with
    OTEL_LOG_USER_PROMPTS on; span metrics count every LLM request, with its time to first token."""
    s, base = stub
    with otlp_capture() as backend:
        stack = make_stack(
            collector_overlays=("forward-traces-otlp.yaml",),
            collector_env={"CCMON_FORWARD_TRACES_OTLP_ENDPOINT": backend.url},
        )
        traces = {
            "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA": "1",
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_LOG_USER_PROMPTS": "1",  # the prompt is then on the interaction span: we remove it
            "OTEL_TRACES_EXPORT_INTERVAL": "1000",
        }
        otlp = stack.config.url("otlp_http")
        finish([run_cli(base, otlp, *run, protocol="http/protobuf", extra=traces) for run in RUNS])
        assert_exact_totals(stack, s, RUNS)
        requests = sum(1 for x in s.served if x.usage is not None)
        spans = 'otelcol_receiver_accepted_spans{job="otel-collector"}'
        wait_for(lambda: total(stack, spans) > 0, 30, "accepted spans counted")
        assert total(stack, 'otelcol_receiver_refused_spans{job="otel-collector"}') == 0
        llm = 'ccmon_claude_code_span_duration_seconds_count{span_type="llm_request"}'
        wait_for(lambda: total(stack, llm) == requests, 60, f"{requests} LLM request spans in the span metrics")
        interaction = 'ccmon_claude_code_span_duration_seconds_count{span_type="interaction"}'
        assert total(stack, interaction) == len(RUNS)
        ttft = total(stack, "ccmon_claude_code_llm_ttft_seconds_count")
        # the trace backend: every LLM request span under its prompt's interaction span, no content
        wait_for(lambda: sum(1 for x in backend.spans() if x[0] == "claude_code.llm_request") >= requests, 30,
                 "the LLM request spans at the trace backend")  # fmt: skip
        got = backend.spans()
        interactions = {tid for name, tid, _, _ in got if name == "claude_code.interaction"}
        assert len(interactions) == len(RUNS)
        assert all(tid in interactions for name, tid, _, _ in got if name == "claude_code.llm_request")
        assert {name for name, _, _, _ in got} >= {
            "claude_code.interaction",
            "claude_code.llm_request",
            "claude_code.tool",
        }
        for name, _, _, attrs in got:
            assert "user_prompt" not in attrs and "please do it" not in " ".join(attrs.values()), (name, attrs)
            assert attrs.get("user.email", "sha256:").startswith("sha256:"), (name, attrs)  # a pseudonym
        # exemplars: the span histograms carry trace ids of spans the backend holds
        trace_ids = {tid.hex() for _, tid, _, _ in got}

        def exemplars() -> set[str] | None:
            url = stack.config.url("prometheus", "/api/v1/query_exemplars")
            params: dict[str, str | float] = {"query": "ccmon_claude_code_span_duration_seconds_bucket",
                                              "start": time.time() - 600, "end": time.time() + 60}  # fmt: skip
            data = httpx.get(url, params=params, timeout=10).json()["data"]
            ids = {e["labels"].get("trace_id", "") for series in data for e in series["exemplars"]}
            return ids or None

        linked = wait_for(exemplars, 60, "exemplars on the span histograms")
        assert linked <= trace_ids and linked, (linked, trace_ids)
        print(f"traces: {len(got)} spans, {requests} LLM requests, {ttft:g} with a time to first token, "
              f"{len(linked)} traces linked by exemplars")  # fmt: skip


@cli_only
def test_secured_stack_with_what_ccmon_env_prints(
    stub: tuple[Stub, str], make_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    """TLS with a private CA and the token: exactly the variables `ccmon claude-code env --token-file
    --ca-file` prints (it printed no CA before, and the documented OTEL_EXPORTER_OTLP_CERTIFICATE
    delivered nothing)."""
    s, base = stub
    stack = make_stack(secure=True)
    secrets = stack.workdir / "secrets"
    otlp = stack.config.url("otlp_http")
    assert otlp.startswith("https://")
    args = ("--endpoint", otlp, "--token-file", str(secrets / "otlp_token"), "--ca-file", str(secrets / security.CA))
    settings = env_from_ccmon(*args)
    assert settings["NODE_EXTRA_CA_CERTS"] == str((secrets / security.CA).resolve())
    assert "OTEL_EXPORTER_OTLP_CERTIFICATE" not in settings
    # half the sessions from the shell exports, half from the managed-settings format's env block
    # (written as the user's settings file: the same env block; /etc is not ours to write in a test)
    managed = subprocess.run(
        [venv_bin("ccmon"), "claude-code", "env", *args, "--format", "managed-settings"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert json.loads(managed)["env"] == settings
    home = tmp_path / "managed"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude" / "settings.json").write_text(managed)
    procs = [run_cli(base, otlp, *run, protocol="http/protobuf", settings=settings) for run in RUNS[:3]]
    procs += [run_cli(base, otlp, *run, protocol="http/protobuf", settings={}, home=str(home)) for run in RUNS[3:]]
    finish(procs)
    assert_exact_totals(stack, s, RUNS)


def test_ccmon_env_refuses_a_ca_file_that_is_not_a_certificate(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    done = subprocess.run(
        [venv_bin("ccmon"), "claude-code", "env", "--ca-file", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "is not a PEM certificate file" in done.stderr and not done.stdout


@cli_only
def test_claude_desktop_service_name_is_counted_exactly(
    stub: tuple[Stub, str], make_stack: Callable[..., Stack]
) -> None:
    """Claude Desktop's Code tab reports service.name=claude-code-desktop (0.0188 of 0.0753 USD before)."""
    s, base = stub
    stack = make_stack()
    desktop = {"OTEL_SERVICE_NAME": "claude-code-desktop"}
    finish(
        [run_cli(base, stack.config.url("otlp_http"), *run, protocol="http/protobuf", extra=desktop) for run in RUNS]
    )
    assert_exact_totals(stack, s, RUNS, job="claude-code-desktop")
    assert not stack.prom_query('{job="claude-code"}'), "nothing is attributed to the CLI's service"


@cli_only
@pytest.mark.parametrize("temporality", ["delta", "cumulative"])
def test_include_switches_keep_totals_exact(
    stub: tuple[Stub, str], make_stack: Callable[..., Stack], temporality: str, tmp_path: Path
) -> None:
    """The documented OTEL_METRICS_INCLUDE_* switches: without session.id (parallel sessions then send
    identical streams), with the version and entrypoint, without the account uuid (sessions read
    13 of 10 with the cumulative preference before)."""
    s, base = stub
    stack = make_stack()
    switches = {
        "OTEL_METRICS_INCLUDE_SESSION_ID": "false",
        "OTEL_METRICS_INCLUDE_VERSION": "true",
        "OTEL_METRICS_INCLUDE_ENTRYPOINT": "true",
        "OTEL_METRICS_INCLUDE_ACCOUNT_UUID": "false",
    }
    runs = [(scenario, model, temporality) for scenario, model, _ in RUNS]
    otlp = stack.config.url("otlp_http")
    home = str(tmp_path / "one-developer")  # parallel sessions of one developer: identical streams
    Path(home).mkdir()
    # the first session creates the developer's id in HOME; the others then run in parallel
    finish([run_cli(base, otlp, *runs[0], protocol="http/protobuf", extra=switches, home=home)])
    finish([run_cli(base, otlp, *run, protocol="http/protobuf", extra=switches, home=home) for run in runs[1:]])
    assert_exact_totals(stack, s, runs)
    users = {r["metric"]["user_id"] for r in stack.prom_query("claude_code_session_count_total")}
    assert len(users) == 1, users


def test_an_organisation_beyond_one_applications_budget_is_exact(
    make_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    """800 developers, 1,600 sessions (the simulator): Claude Code's budget is sized from
    claude_code.expected_developers, not the 8,378 streams of one application (Prometheus held
    328.97 of 728.43 USD before); the report says the totals are complete."""
    stack = make_stack()
    plan = TeamPlan(users=800, sessions=1600, seconds=20, export_interval=5.0, seed=5)
    team = Team(stack.config.url("otlp_http"), plan)
    team.run()
    ledger = team.ledger
    assert not ledger.lost, "every export reached the collector"
    cost = ledger.total("recorded", "claude_code.cost.usage")
    sessions = ledger.total("recorded", "claude_code.session.count")
    assert sessions == 1600

    def exact() -> bool:
        return abs(total(stack, "claude_code_cost_usage_USD_total") - cost) <= 1e-9 * cost

    wait_for(exact, 90, f"sum(claude_code_cost_usage_USD_total) == {cost}")
    wait_for(lambda: total(stack, "claude_code_session_count_total") == sessions, 30, "sessions")
    assert total(stack, 'otelcol_ccmon_guard_points{service="claude-code",reason="over_budget"}') == 0
    assert total(stack, 'otelcol_ccmon_claude_code_points{outcome="over_limit"}') == 0
    assert len({r["metric"]["user_id"] for r in stack.prom_query("claude_code_session_count_total")}) == 800
    out = tmp_path / "report"
    done = report(stack, out)
    assert "complete: no budget, cap or collector outage cut" in done.stdout, done.stdout[-2000:]
    rows = list(csv.DictReader((out / "claude-code-report.csv").open()))
    assert {r["complete"] for r in rows} == {"yes"}


def test_a_cut_is_flagged_with_the_missing_amount(make_stack: Callable[..., Stack], tmp_path: Path) -> None:
    """A stream budget too small for the team: the report, its CSV and HTML and the dashboard's query
    say the totals are incomplete, and by how much at least; what Prometheus holds plus that amount
    is exactly what the clients recorded."""
    stack = make_stack(collector_env={"CCMON_CLAUDE_CODE_STREAM_BUDGET": "60"})
    team = Team(stack.config.url("otlp_http"), TeamPlan(users=12, sessions=24, seconds=10, export_interval=1.0))
    team.run()
    recorded = team.ledger.total("recorded", "claude_code.cost.usage")
    missing = 'otelcol_ccmon_claude_code_dropped_value{metric="claude_code.cost.usage"}'

    def accounted() -> bool:
        held = total(stack, "claude_code_cost_usage_USD_total")
        cut = total(stack, missing)
        return cut > 0 and abs(held + cut - recorded) <= 1e-9 * recorded

    wait_for(accounted, 60, "Prometheus's total + the counted cut == what the clients recorded")
    held = total(stack, "claude_code_cost_usage_USD_total")
    assert held < recorded
    out = tmp_path / "report"
    done = report(stack, out)
    flagged = [line for line in done.stdout.splitlines() if "INCOMPLETE" in line]
    assert len(flagged) == 1 and "cut by a stream budget" in flagged[0], done.stdout[-2000:]
    at_least = float(flagged[0].split("at least ")[1].split(" USD")[0])
    assert at_least == pytest.approx(recorded - held, abs=1e-4)
    rows = list(csv.DictReader((out / "claude-code-report.csv").open()))
    assert {r["complete"] for r in rows} == {"no"}
    assert float(rows[0]["missing_at_least_usd"]) == pytest.approx(recorded - held, abs=1e-6)
    page = (out / "claude-code-report.html").read_text()
    assert "These totals are incomplete." in page and "cut by a stream budget" in page


@pytest.mark.parametrize("temporality", ["delta", "cumulative"])
def test_simulated_desktop_without_session_ids_is_exact(make_stack: Callable[..., Stack], temporality: str) -> None:
    """The simulator as Claude Desktop, with session.id left out and the version on: sessions and
    spend exact for either temporality (parallel sessions send identical streams)."""
    stack = make_stack()
    include = Include(session_id=False, account_uuid=False, version=True)
    plan = TeamPlan(
        users=3, sessions=12, seconds=10, temporality=temporality, service_name="claude-code-desktop", include=include
    )
    team = Team(stack.config.url("otlp_http"), plan)
    team.run()
    cost = team.ledger.total("recorded", "claude_code.cost.usage")
    job = '{job="claude-code-desktop"}'

    def exact() -> bool:
        return (
            abs(total(stack, f"claude_code_cost_usage_USD_total{job}") - cost) <= 1e-9 * cost
            and total(stack, f"claude_code_session_count_total{job}") == 12
        )

    wait_for(exact, 45, f"12 sessions and {cost} USD under claude-code-desktop")


def test_real_cli_spend_by_team_is_exact(
    stub: tuple[Stub, str], make_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    """Issue 21, the real client: two teams, two runs each. Team platform names itself the documented
    way (OTEL_RESOURCE_ATTRIBUTES in the environment, as managed settings would set it); team web
    through its repository's .claude/settings.json (the project key with it). Spend per team, cost
    centre and project exact; no e-mail anywhere."""
    s, base = stub
    stack = make_stack()
    otlp = stack.config.url("otlp_http")
    platform = [("multi", "claude-sonnet-4-5", "delta"), ("multi", "claude-opus-4-5", "cumulative")]
    web = [("plain", "claude-haiku-4-5", "delta"), ("cached", "claude-sonnet-4-5", "delta")]
    attribution = "department=engineering,team.id=platform,cost_center=eng-123,user.email=a@example.com"
    team_env = {"OTEL_RESOURCE_ATTRIBUTES": attribution}
    procs = [run_cli(base, otlp, *run, protocol="http/protobuf", extra=team_env) for run in platform]
    repo = tmp_path / "webapp"
    (repo / ".claude").mkdir(parents=True)
    project = {"OTEL_RESOURCE_ATTRIBUTES": "department=engineering,team.id=web,cost_center=eng-456,project=webapp"}
    (repo / ".claude" / "settings.json").write_text(json.dumps({"env": project}))
    procs += [run_cli(base, otlp, *run, protocol="http/protobuf", email=False, home=str(repo)) for run in web]
    finish(procs)
    assert_exact_totals(stack, s, platform + web)

    def cost_of(scenarios: set[str]) -> float:
        served = [x for x in s.served if x.usage is not None and x.scenario in scenarios]
        return sum(
            cost_usd(
                x.model,
                (
                    x.usage.input_tokens,
                    x.usage.output_tokens,
                    x.usage.cache_read_input_tokens,
                    x.usage.cache_creation_input_tokens,
                ),
            )
            for x in served
            if x.usage is not None
        )

    expected = {"platform": cost_of({"multi"}), "web": cost_of({"plain", "cached"})}
    by_team = {
        r["metric"].get("team_id", ""): float(r["value"][1])
        for r in stack.prom_query("sum by (team_id) (claude_code_cost_usage_USD_total)")
    }
    assert set(by_team) == set(expected) and all(
        by_team[t] == pytest.approx(v, rel=1e-9) for t, v in expected.items()
    ), (by_team, expected)
    centres = {
        r["metric"]["cost_center"] for r in stack.prom_query("sum by (cost_center) (claude_code_cost_usage_USD_total)")
    }
    assert centres == {"eng-123", "eng-456"}
    projects = {
        r["metric"].get("project", "") for r in stack.prom_query("sum by (project) (claude_code_cost_usage_USD_total)")
    }
    assert projects == {"webapp", ""}, projects  # the repository's settings name its project
    # the event-derived metrics are cut by team as well
    prompts = {
        r["metric"].get("team_id", "") for r in stack.prom_query("sum by (team_id) (ccmon_claude_code_prompts_total)")
    }
    assert prompts == {"platform", "web"}
    assert not [r for r in stack.prom_query('{user_email!=""}') if "@" in r["metric"]["user_email"]], "no e-mail"


@pytest.fixture
def jaeger(tmp_path: Path) -> Iterator[str]:
    """Jaeger v2 (built by scripts/bootstrap.sh jaeger) with the repository's config on free ports;
    yields its base URL (query API; OTLP/HTTP on the port in ``JAEGER_OTLP``)."""
    binary = bin_dir(ROOT) / "jaeger"
    if not binary.exists():
        pytest.skip("Jaeger is not built: bash scripts/bootstrap.sh jaeger")
    keys = ("QUERY_PORT", "QUERY_GRPC_PORT", "HEALTH_PORT", "METRICS_PORT", "OTLP_GRPC_PORT", "OTLP_HTTP_PORT")
    ports = dict(zip(keys, free_ports(len(keys)), strict=True))
    env = {f"CCMON_JAEGER_{k}": str(p) for k, p in ports.items()}
    procs = Procs(tmp_path)
    try:
        procs.start("jaeger", [str(binary), f"--config={ROOT / 'jaeger' / 'config.yaml'}"], env)
        url = f"http://127.0.0.1:{ports['QUERY_PORT']}"
        wait_for(lambda: http_ok(f"{url}/api/services"), 60, "Jaeger's query API")
        JAEGER_OTLP[url] = f"http://127.0.0.1:{ports['OTLP_HTTP_PORT']}"
        yield url
    finally:
        procs.close()


JAEGER_OTLP: dict[str, str] = {}


@cli_only
def test_traces_in_jaeger_and_the_slowest_prompts(
    stub: tuple[Stub, str], make_stack: Callable[..., Stack], jaeger: str
) -> None:
    """The real CLI's traces in the trace store that runs here: one trace per prompt with its LLM
    requests and tools under the interaction span, no prompt text; `ccmon claude-code traces
    --slowest 5` lists them with their breakdown from Jaeger's API."""
    _, base = stub
    stack = make_stack(
        collector_overlays=("forward-traces-otlp.yaml",),
        collector_env={"CCMON_FORWARD_TRACES_OTLP_ENDPOINT": JAEGER_OTLP[jaeger]},
    )
    traces = {"CLAUDE_CODE_ENHANCED_TELEMETRY_BETA": "1", "OTEL_TRACES_EXPORTER": "otlp", "OTEL_LOG_USER_PROMPTS": "1"}
    runs = RUNS[:3]
    finish([run_cli(base, stack.config.url("otlp_http"), *run, protocol="http/protobuf", extra=traces) for run in runs])
    query = f"{jaeger}/api/traces?service=claude-code&operation=claude_code.interaction&lookback=1h&limit=50"

    def stored() -> list[dict[str, Any]] | None:
        data: list[dict[str, Any]] = httpx.get(query, timeout=10).json().get("data") or []
        return data if len(data) == len(runs) else None

    found = wait_for(stored, 60, f"{len(runs)} interaction traces in Jaeger")
    requests = 0
    for trace in found:
        spans = {sp["spanID"]: sp for sp in trace["spans"]}
        (root,) = [sp for sp in spans.values() if sp["operationName"] == "claude_code.interaction"]
        for sp in spans.values():
            tags = {t["key"]: t["value"] for t in sp.get("tags", [])}
            assert "user_prompt" not in tags and "please do it" not in json.dumps(tags), sp["operationName"]
            if sp["operationName"] in ("claude_code.llm_request", "claude_code.tool"):
                requests += sp["operationName"] == "claude_code.llm_request"
                parents = [r["spanID"] for r in sp.get("references", []) if r["refType"] == "CHILD_OF"]
                assert parents == [root["spanID"]], (sp["operationName"], parents)
    assert requests == sum(len(SCENARIOS[r[0]]) for r in runs)
    done = subprocess.run(
        [venv_bin("ccmon"), "claude-code", "traces", "--jaeger", jaeger, "--slowest", "5"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert f"the {len(runs)} slowest of {len(runs)} prompts" in done.stdout, done.stdout
    assert done.stdout.count("LLM requests") == len(runs) and "tools" in done.stdout, done.stdout
    print(done.stdout)
