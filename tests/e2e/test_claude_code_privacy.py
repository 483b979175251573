"""Private by construction (issue 30), with the real Claude Code CLI (pinned 2.1.332): every content
switch and the traces beta on, the identity the organisation-configured collector mode adds
(``enduser.id`` = the sign-in e-mail, ``process.owner`` = the OS user name), one run under an
administrator's own ``service.name``; the collector with the log and trace forward overlays to a
capture server. Nothing personal or typed leaves the collector; identities arrive as the one
pseudonym, which the report maps back to a directory's e-mail with the key; totals stay exact;
every event and span is known by name."""

from __future__ import annotations

import csv
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from otel_ccmon._identity import KEY_ENV, pseudonym
from otel_ccmon.devstack.procs import wait_for
from otel_ccmon.devstack.stack import Stack
from tests.anthropic_stub import Stub
from tests.e2e.test_claude_code_cli import CLAUDE, assert_exact_totals, finish, run_cli, total
from tests.otlp_capture import otlp_capture
from tests.support import venv_bin

pytestmark = pytest.mark.skipif(not CLAUDE.exists(), reason="the Claude Code CLI is not installed (bootstrap)")

KEY = "privacy-test-key-0123456789"
EMAIL, OWNER = "jane.doe@example.com", "janedoe-os-user"
PROMPT = "PROMPTSECRET-1234 refactor the billing module"
SECRETS = ("example.com", OWNER, "PROMPTSECRET", "TOOLSECRET", "billing module")
EVERYTHING_ON = {
    "OTEL_LOG_USER_PROMPTS": "1",
    "OTEL_LOG_TOOL_DETAILS": "1",
    "OTEL_LOG_ASSISTANT_RESPONSES": "1",
    "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA": "1",
    "OTEL_TRACES_EXPORTER": "otlp",
    "OTEL_TRACES_EXPORT_INTERVAL": "1000",
    # what 2.1.331+ adds in the organisation-configured collector mode, and a team
    "OTEL_RESOURCE_ATTRIBUTES": f"enduser.id={EMAIL},process.owner={OWNER},team.id=platform,user.email={EMAIL}",
}


def forwarding_to(url: str) -> dict[str, Any]:
    """Stack options: the log and trace forward overlays, both to ``url`` (a capture server)."""
    return {
        "collector_overlays": ("forward-logs-otlp.yaml", "forward-traces-otlp.yaml"),
        "collector_env": {"CCMON_FORWARD_LOGS_OTLP_ENDPOINT": url, "CCMON_FORWARD_TRACES_OTLP_ENDPOINT": url},
    }


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def test_nothing_personal_or_typed_leaves_the_collector(
    stub: tuple[Stub, str], make_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    s, base = stub
    with otlp_capture() as backend:
        forward = forwarding_to(backend.url)
        stack = make_stack(**{**forward, "collector_env": {**forward["collector_env"], "CCMON_IDENTITY_HASH_KEY": KEY}})
        otlp = stack.config.url("otlp_http")
        runs = [("secret", "claude-sonnet-4-5", "delta"), ("secret", "claude-haiku-4-5", "cumulative")]
        admin_named = {**EVERYTHING_ON, "OTEL_SERVICE_NAME": "acme-ai-assistant"}
        finish(
            [
                run_cli(base, otlp, *runs[0], protocol="http/protobuf", extra=EVERYTHING_ON, prompt=PROMPT),
                run_cli(base, otlp, *runs[1], protocol="http/protobuf", extra=admin_named, prompt=PROMPT),
            ]
        )
        # the CLI really ran the tool and sent content: the stub saw the command's round trip
        assert sum(len(x.tool_results) for x in s.served) == 2, [x.tool_results for x in s.served]
        # totals exact, both runs under claude-code (the admin's service.name recognised by scope)
        assert_exact_totals(stack, s, runs)
        assert not stack.prom_query('{job="acme-ai-assistant"}'), "the admin-named run is Claude Code's"
        wait_for(lambda: backend.spans() and len(backend.log_attributes()) > 10, 30, "records and spans forwarded")
        wait_for(lambda: any(n == "claude_code.tool" for n, _, _, _ in backend.spans()), 30, "the tool span forwarded")

        # 1. the capture (log and trace backends): the whole requests, resource and body included
        with backend.lock:
            dumped = "\n".join(str(r) for r in (*backend.logs, *backend.traces))
        assert not leaks(dumped), (leaks(dumped), [line for line in dumped.splitlines() if leaks(line)][:10])
        records, spans = backend.log_attributes(), backend.spans()
        me, owner = pseudonym(EMAIL, KEY), pseudonym(OWNER, KEY)
        events = {r.get("event.name") for r in records}
        assert {"user_prompt", "api_request", "tool_result"} <= events, events
        for r in records:
            assert r.get("enduser.id") == me and r.get("process.owner") == owner, r
            assert "prompt" not in r and "tool_input" not in r and "tool_parameters" not in r, r
        tool_spans = [a for n, _, _, a in spans if n == "claude_code.tool"]
        assert tool_spans and all("full_command" not in a for a in tool_spans), tool_spans
        assert all(a.get("enduser.id") == me for _, _, _, a in spans), "the same pseudonym on spans"

        # 2. Prometheus: every series' labels, target_info included
        series = stack.prom_query('{__name__=~".+"}')
        text = "\n".join(str(r["metric"]) for r in series)
        assert not leaks(text), [r["metric"] for r in series if leaks(str(r["metric"]))][:5]
        ids = {r["metric"].get("enduser_id") for r in stack.prom_query('{job="claude-code", enduser_id!=""}')}
        assert ids == {me}, ids
        assert all(re.fullmatch("sha256:[0-9a-f]{16}", v) for v in ids)

        # 3. every event and span name of 2.1.332 known: none counted as other
        wait_for(lambda: total(stack, "ccmon_claude_code_events_total") >= len(records), 30, "every event counted")
        assert total(stack, 'ccmon_claude_code_events_total{event="other"}') == 0
        assert total(stack, 'otelcol_ccmon_claude_code_spans{outcome="converted"}') > 0
        assert total(stack, 'otelcol_ccmon_claude_code_spans{span_type="other"}') == 0
        # 4. the report maps the pseudonym back with the key: a directory that lists the e-mail
        people = tmp_path / "people.csv"
        people.write_text(f"id,name,team\n{EMAIL},Jane Doe,platform\n")
        report = subprocess.run(
            [venv_bin("ccmon"), "claude-code", "report", "--since", "1d", "--by", "user", "--directory", str(people),
             "--prometheus", stack.config.url("prometheus"), "--out", str(tmp_path / "report")],
            capture_output=True, text=True, timeout=120, check=False, env={**os.environ, KEY_ENV: KEY},
        )  # fmt: skip
        assert report.returncode == 0, report.stdout + report.stderr
        with (tmp_path / "report" / "claude-code-report.csv").open() as f:
            names = {row["user_name"] for row in csv.DictReader(f)}
        assert names == {"Jane Doe"}, names
        print(f"privacy: {len(records)} records ({len(events)} event names), {len(spans)} spans, "
              f"{len(series)} series: no e-mail, OS user, prompt or command text")  # fmt: skip
