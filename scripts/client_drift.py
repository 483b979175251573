"""What the newest Claude Code sends that the pipeline does not know (issue 30; `make client-drift`,
not in CI: it installs from the npm registry whatever is newest today).

Installs the newest published CLI (cached by version), runs the real-client scenario against the
Messages API stub twice with every telemetry switch on and an organisation identity: once straight
into a capture server (what the client sends), once through the stack's collector with the log and
trace forward overlays (what leaves the collector). Prints:

- whether the totals in Prometheus are exact;
- every metric, event, span and attribute name the client sent that the pipeline does not know
  (the catalog, otel_ccmon/_privacy.py's tables);
- every attribute that reached an export without being on the allowlist (must be none).

Exit status 0 when the totals are exact and nothing passed the allowlist; unknown names are a
report (they are dropped safely), not a failure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mixin.collector_firewall import allowlist, identity_keys  # noqa: E402
from otel_ccmon import _privacy  # noqa: E402
from otel_ccmon._catalog import CLAUDE_CODE_CATALOG  # noqa: E402
from otel_ccmon.devstack.config import StackConfig  # noqa: E402
from otel_ccmon.devstack.procs import wait_for  # noqa: E402
from otel_ccmon.devstack.stack import Stack  # noqa: E402
from tests.anthropic_stub import Stub, serve  # noqa: E402
from tests.e2e.conftest import FAST  # noqa: E402
from tests.e2e.test_claude_code_cli import SCENARIOS, assert_exact_totals, finish, run_cli  # noqa: E402
from tests.e2e.test_claude_code_privacy import EVERYTHING_ON, forwarding_to  # noqa: E402
from tests.otlp_capture import Captured, otlp_capture  # noqa: E402

CACHE = Path(
    os.environ.get("CCMON_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "otel-ccmon"
)
SWITCHES = {  # the privacy test's switches, and the label switches that are off by default
    **EVERYTHING_ON,
    "OTEL_METRICS_INCLUDE_VERSION": "true",
    "OTEL_METRICS_INCLUDE_ENTRYPOINT": "true",
}
RUNS = [("secret", "claude-sonnet-4-5", "delta"), ("multi", "claude-haiku-4-5", "cumulative")]


def install(version: str | None) -> tuple[str, Path]:
    """The CLI of ``version`` (default: the newest the registry serves), installed once per version."""
    version = (
        version
        or subprocess.run(
            ["npm", "view", "@anthropic-ai/claude-code", "version"],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout.strip()
    )
    folder = CACHE / "claude-code" / version
    binary = folder / "node_modules" / "@anthropic-ai" / "claude-code-linux-x64" / "claude"
    if not binary.exists():
        print(f"installing @anthropic-ai/claude-code@{version} (npm, ~400 MB)", file=sys.stderr)
        subprocess.run(
            ["npm", "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--ignore-scripts",
             f"@anthropic-ai/claude-code@{version}"],
            check=True, capture_output=True, timeout=1800,
        )  # fmt: skip
    return version, binary


def _attrs(kvs: Iterable[object]) -> set[str]:
    return {kv.key for kv in kvs}  # type: ignore[attr-defined]


def sent(c: Captured) -> dict[str, dict[str, set[str]]]:
    """Names and attribute keys per metric, event, span and the resource, as captured."""
    out: dict[str, dict[str, set[str]]] = {"metric": {}, "event": {}, "span": {}, "resource": {"resource": set()}}
    with c.lock:
        for mreq in c.metrics:
            for rm in mreq.resource_metrics:
                out["resource"]["resource"] |= _attrs(rm.resource.attributes)
                for sm in rm.scope_metrics:
                    for m in sm.metrics:
                        points = getattr(m, m.WhichOneof("data") or "sum").data_points
                        out["metric"].setdefault(m.name, set()).update(*(_attrs(p.attributes) for p in points))
        for lreq in c.logs:
            for rl in lreq.resource_logs:
                out["resource"]["resource"] |= _attrs(rl.resource.attributes)
                for sl in rl.scope_logs:
                    for r in sl.log_records:
                        keys = _attrs(r.attributes)
                        name = next((kv.value.string_value for kv in r.attributes if kv.key == "event.name"), "?")
                        out["event"].setdefault(name, set()).update(keys)
        for treq in c.traces:
            for rs in treq.resource_spans:
                out["resource"]["resource"] |= _attrs(rs.resource.attributes)
                for ss in rs.scope_spans:
                    for span in ss.spans:
                        name = span.name.removeprefix("claude_code.")
                        out["span"].setdefault(name, set()).update(_attrs(span.attributes))
    return out


def unknown(raw: dict[str, dict[str, set[str]]]) -> list[str]:
    """What the client sent that the pipeline's tables do not name."""
    known_metrics = {m.otel_name: set(m.attribute_keys) for m in CLAUDE_CODE_CATALOG}
    lines = []
    for name, keys in sorted(raw["metric"].items()):
        if name not in known_metrics:
            lines.append(f"metric {name} (attributes {sorted(keys)})")
    for kind, table in (("event", _privacy.EVENTS), ("span", _privacy.SPANS)):
        for name, keys in sorted(raw[kind].items()):
            if name not in table:
                lines.append(f"{kind} {name} (attributes {sorted(keys)})")
                continue
            new = (
                keys
                - set(table[name])
                - set(allowlist()["common"])
                - set(identity_keys())
                - {"anthropic.custom_base_url"}
            )
            if new:
                lines.append(f"{kind} {name}: attributes not in the table {sorted(new)}")
    return lines


def passed(forwarded: dict[str, dict[str, set[str]]]) -> list[str]:
    """Attributes that reached an export without being on the allowlist (must be none)."""
    allow = allowlist()
    common = set(allow["common"]) | set(identity_keys())
    lines = []
    extra = forwarded["resource"]["resource"] - set(allow["resource"]) - set(identity_keys())
    if extra:
        lines.append(f"resource: {sorted(extra)}")
    for kind, table in (("event", allow["events"]), ("span", allow["spans"])):
        for name, keys in sorted(forwarded[kind].items()):
            extra = keys - common - set(table.get(name, ()))
            if extra:
                lines.append(f"{kind} {name}: {sorted(extra)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", help="a CLI version (default: the newest published)")
    args = parser.parse_args(argv)
    version, binary = install(args.version)
    stub = Stub(SCENARIOS)
    server, base = serve(stub)
    work = Path(tempfile.mkdtemp(prefix="ccmon-drift-"))
    stacks: list[Stack] = []
    try:
        with otlp_capture() as raw, otlp_capture() as forwarded:
            finish([run_cli(base, raw.url, *RUNS[0], protocol="http/protobuf", extra=SWITCHES, binary=binary)])
            stub.served.clear()
            stack = Stack(StackConfig.with_free_ports(work / "stack", **FAST, **forwarding_to(forwarded.url)))
            stacks.append(stack)
            stack.up()
            wait_for(lambda: stack.prom_query('up{job="otel-collector"} == 1'), 60, "Prometheus scraping the collector")
            otlp = stack.config.url("otlp_http")
            finish([run_cli(base, otlp, *run, protocol="http/protobuf", extra=SWITCHES, binary=binary) for run in RUNS])
            try:
                assert_exact_totals(stack, stub, RUNS)
                exact = "exact"
            except AssertionError as exc:
                exact = f"NOT exact: {exc}"
            wait_for(lambda: bool(forwarded.logs), 30, "forwarded records")
            unknown_names, leaked = unknown(sent(raw)), passed(sent(forwarded))
    finally:
        for stack in stacks:
            stack.down()
        server.shutdown()
        server.server_close()
    today = datetime.now(UTC).date().isoformat()
    print(f"client drift, {today}: Claude Code {version} (pinned {_privacy.CLIENT_VERSION})")
    print(f"totals: {exact}")
    print(f"names and attributes the pipeline does not know: {len(unknown_names) or 'none'}")
    for line in unknown_names:
        print(f"  {line}")
    print(f"attributes that passed without being on the allowlist: {len(leaked) or 'none'}")
    for line in leaked:
        print(f"  {line}")
    print(json.dumps({"version": version, "exact": exact == "exact", "unknown": len(unknown_names), "leaked": leaked}))
    return 0 if exact == "exact" and not leaked else 1


if __name__ == "__main__":
    raise SystemExit(main())
