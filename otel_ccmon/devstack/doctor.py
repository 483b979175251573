"""``ccmon doctor``: the spec's Troubleshooting section, made executable.

Against a running stack (the local one, or any given by its URLs) it checks each symptom a user
meets: metrics not appearing, alerts not firing, a dashboard that stays empty, and says for
each finding what is wrong and how to fix it. docs/troubleshooting.md mirrors the checks.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import ssl
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from otel_ccmon._extras import require

require("ccmon doctor", "cli", "httpx")

import httpx

from otel_ccmon._catalog import CATALOG
from otel_ccmon._durations import duration_seconds
from otel_ccmon._promql import Server, instant
from otel_ccmon.devstack import sizing
from otel_ccmon.devstack.components import BY_NAME, connected_stores
from otel_ccmon.devstack.config import DEFAULT_PORTS, HA_PORTS
from otel_ccmon.devstack.repo import RepoNotFoundError, find_repo
from otel_ccmon.devstack.state import load_state, scheme, stack_workdir

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Finding:
    """One check's outcome: what was checked, what was found, and the fix when it is not ok."""

    check: str
    status: str
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class Endpoints:
    """Where the stack's components answer."""

    prometheus: str
    alertmanager: str
    collector_health: str | None = None
    collector_metrics: str | None = None
    receiver: str | None = None
    receiver_token: str | None = None
    dashboards: tuple[Path, ...] = field(default_factory=tuple)
    datasource_uids: frozenset[str] = frozenset()
    thanos_query: str | None = None  # the long-term tier (HA topology): what Grafana and reports read
    runbooks: Path | None = None  # docs/runbooks: the fix of a firing alert is its runbook's mitigation
    ca_file: Path | None = None  # a secured stack's CA: its TLS endpoints are trusted by it alone
    web_auth: tuple[str, str] | None = None  # a secured stack's basic auth (Prometheus, Alertmanager)
    collector_memory_limit_mib: int | None = None  # the memory limiter's limit_mib (not in its telemetry)


class _Client:
    def __init__(self, timeout: float = 5.0, ca_file: Path | None = None, web_auth: tuple[str, str] | None = None):
        self._tls = ssl.create_default_context(cafile=str(ca_file)) if ca_file is not None else None
        self._http = httpx.Client(timeout=timeout, verify=self._tls or True)
        self._web_auth = web_auth

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        if url.startswith("https://") and self._web_auth is not None and "auth" not in kwargs:
            kwargs["auth"] = self._web_auth  # the secured stack's web endpoints; never the receiver's
        return self._http.get(url, **kwargs)

    def json(self, url: str, **kwargs: Any) -> Any:
        response = self.get(url, **kwargs)
        response.raise_for_status()
        return response.json()

    def query(self, prometheus: str, expr: str) -> list[dict[str, Any]]:
        """An instant query through the project's one Prometheus client (TLS and auth of a secured
        stack); unreachable is an ``httpx.TransportError`` like every other check's."""
        secured = prometheus.startswith("https://")
        server = Server(prometheus, self._tls if secured else None, self._web_auth if secured else None, 5)
        try:
            return instant(server, expr)
        except OSError as exc:
            raise httpx.TransportError(f"{prometheus}: {exc}") from exc

    def close(self) -> None:
        self._http.close()


def _reachable(client: _Client, name: str, url: str | None, fix: str) -> Finding:
    if url is None:
        return Finding(f"{name} reachable", WARN, "no URL given: not checked", f"pass its URL to ccmon doctor ({fix})")
    try:
        response = client.get(url)
    except httpx.HTTPError as exc:
        return Finding(f"{name} reachable", FAIL, f"{url}: {type(exc).__name__}: {exc}", fix)
    if response.status_code != 200:
        return Finding(f"{name} reachable", FAIL, f"{url} answered {response.status_code}", fix)
    return Finding(f"{name} reachable", OK, url)


def check_components(client: _Client, ep: Endpoints) -> list[Finding]:
    """Each component answers its readiness endpoint (the one the stack waits on: devstack.components)."""

    def ready(name: str, base: str | None) -> str | None:
        return f"{base}{BY_NAME[name].ready_path}" if base else None

    return [
        _reachable(
            client, "Prometheus", ready("prometheus", ep.prometheus), "start it (`ccmon stack up`) or check its log"
        ),
        _reachable(
            client, "Alertmanager", ready("alertmanager", ep.alertmanager), "start it, or check its config with amtool"
        ),
        _reachable(client, "OTel Collector", ep.collector_health, "start it; `otelcol-ccmon validate --config=…`"),
        _reachable(
            client, "alert receiver", ready("receiver", ep.receiver), "start it: `ccmon webhook --token-file …`"
        ),
    ]


def check_receiver_token(client: _Client, ep: Endpoints) -> list[Finding]:
    """The token Alertmanager and `ccmon alerts` use is the one the receiver accepts."""
    if ep.receiver is None or ep.receiver_token is None:
        return []
    name = "receiver token accepted"
    try:
        response = client.get(f"{ep.receiver}/alerts", headers={"Authorization": f"Bearer {ep.receiver_token}"})
    except httpx.HTTPError as exc:
        return [Finding(name, FAIL, f"{ep.receiver}: {exc}", "start the receiver")]
    if response.status_code == 401:
        return [
            Finding(
                name,
                FAIL,
                "the receiver answers 401 to this token: notifications from Alertmanager are rejected too",
                "use the same file for the receiver's --token-file and Alertmanager's credentials_file "
                "(secrets/receiver_token), then restart the receiver",
            )
        ]
    return [Finding(name, OK if response.status_code == 200 else FAIL, f"GET /alerts → {response.status_code}")]


def check_targets(client: _Client, ep: Endpoints) -> list[Finding]:
    """Metrics not appearing (1): every scrape target is up."""
    try:
        targets = client.json(f"{ep.prometheus}/api/v1/targets")["data"]["activeTargets"]
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        return [Finding("scrape targets up", FAIL, f"cannot read targets: {exc}", "fix Prometheus first")]
    down = [t for t in targets if t.get("health") == "down"]
    if not targets:
        return [
            Finding("scrape targets up", FAIL, "Prometheus has no targets", "check scrape_configs in prometheus.yml")
        ]
    if not down:
        return [Finding("scrape targets up", OK, f"{len(targets)} targets up or pending")]
    return [
        Finding(
            f"scrape target {t['labels'].get('job')} up",
            FAIL,
            f"{t.get('scrapeUrl')}: {t.get('lastError') or 'down'}",
            "start the component, or fix its address in prometheus.yml (inside compose: service names, not localhost)",
        )
        for t in down
    ]


def _scalar(client: _Client, ep: Endpoints, expr: str) -> float | None:
    result = client.query(ep.prometheus, expr)
    return float(result[0]["value"][1]) if result else None


def check_collector_flow(client: _Client, ep: Endpoints) -> list[Finding]:
    """Metrics not appearing (2): the collector accepts points and its exporters deliver them."""
    findings = []
    checks = (
        (
            "collector accepts points",
            "sum(increase(otelcol_receiver_refused_metric_points[10m]))",
            "the collector refused points (memory limiter or bad input): raise its memory limit or find the sender",
        ),
        (
            "collector exports points",
            "sum(increase(otelcol_exporter_send_failed_metric_points[10m]))",
            "an exporter failed to send: check the backend's address and credentials in the collector config",
        ),
        (
            "collector memory limiter",
            "sum(increase(otelcol_processor_memory_limiter_refused_metric_points[10m]))",
            "the memory limiter refused data: raise limit_mib or reduce the load",
        ),
    )
    try:
        accepted = _scalar(client, ep, "sum(otelcol_receiver_accepted_metric_points)")
        for name, expr, fix in checks:
            value = _scalar(client, ep, expr)
            if value:
                findings.append(Finding(name, FAIL, f"{value:g} points in the last 10 minutes ({expr})", fix))
            else:
                findings.append(Finding(name, OK, "none refused or failed in the last 10 minutes"))
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        return [Finding("collector flow", FAIL, f"cannot query Prometheus: {exc}", "fix Prometheus first")]
    if accepted is None:
        findings.append(
            Finding(
                "collector receives points",
                WARN,
                "no otelcol_receiver_accepted_metric_points: the collector is not scraped or has received nothing",
                "point the app at the collector (OTEL_EXPORTER_OTLP_ENDPOINT) and scrape its :8888 telemetry",
            )
        )
    return findings


DEVELOPERS = "count(count by (user_id) (last_over_time(agent_session_count_total[1d])))"
"""Developers whose coding agents reported a session in the last day (Claude Code included)."""


INGEST = (
    'max_over_time(sum(rate({__name__=~"otelcol_receiver_accepted_(metric_points|log_records)",receiver="otlp"}[5m]))'
    "[1d:5m])"
)
"""Points and log records the collector accepted per second over OTLP at the last day's peak."""
PUSHING = 'sum(otelcol_exporter_sent_metric_points{exporter="prometheus_remote_write/push"})'
"""Present when the collector pushes its metrics (remote-write-only.yaml) instead of being scraped."""


def check_collector_sizing(client: _Client, ep: Endpoints) -> list[Finding]:
    """The collector is sized for what it serves: the claudecode processor's stream budget against the
    developers seen in the last day, and the memory limit against the larger of two needs
    (devstack.sizing's measurement): those developers at the clients' default intervals, and the
    streams held and the day's peak ingest rate as they are, scraped or pushed."""
    try:
        developers = int(_scalar(client, ep, DEVELOPERS) or 0)
        held = _scalar(client, ep, "sum(otelcol_ccmon_claude_code_streams)")
        budget = _scalar(client, ep, "min(otelcol_ccmon_claude_code_max_streams)")
        rss = _scalar(client, ep, 'max({__name__=~"otelcol_process_memory_rss(_bytes)?"})')
        ingest = _scalar(client, ep, INGEST) or 0.0
        pushed = bool(_scalar(client, ep, PUSHING))
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        return [Finding("collector sizing", FAIL, f"cannot query Prometheus: {exc}", "fix Prometheus first")]
    if not developers:
        return [Finding("collector sizing", OK, "no coding agent reported a session in the last day: nothing to size")]
    findings = []
    if held and budget:
        room = int(budget * developers / held)
        detail = f"{developers} developers hold {held:,.0f} of {budget:,.0f} streams; the budget holds about {room:,}"
        if held >= 0.8 * budget:
            fix = (
                "raise claude_code.expected_developers in mixin/settings.yml and `make generate` "
                "(or set CCMON_CLAUDE_CODE_STREAM_BUDGET on the collector)"
            )
            findings.append(Finding("collector stream budget", WARN, detail, fix))
        else:
            findings.append(Finding("collector stream budget", OK, detail))
    findings.append(_memory_finding(ep.collector_memory_limit_mib, developers, held or 0.0, ingest, pushed, rss))
    return findings


def _memory_finding(
    limit: int | None, developers: int, held: float, ingest: float, pushed: bool, rss: float | None
) -> Finding:
    path = "pushed" if pushed else "scraped"
    needed = sizing.needed_limit_mib(developers, held, ingest, pushed=pushed)
    load = (
        f"{developers:,} developers, {held:,.0f} streams, {ingest:,.0f} points and records/s at the day's peak "
        f"({path}) need about {needed} MiB"
    )
    now = f"; resident now {rss / 2**20:.0f} MiB" if rss else ""
    if limit is None:
        return Finding(
            "collector memory limit",
            WARN,
            f"unknown; {load}{now}",
            "pass --collector-memory-limit-mib (the memory limiter's limit_mib)",
        )
    holds = f"{limit} MiB holds about {sizing.developers_within(limit, pushed=pushed):,} developers at 60 s / 5 s"
    if limit >= needed:
        return Finding("collector memory limit", OK, f"{holds}; {load}{now}")
    fix = f"set CCMON_COLLECTOR_MEMORY_LIMIT_MIB={needed} (and the container's memory above it)"
    if not pushed:
        push_needed = sizing.needed_limit_mib(developers, held, ingest, pushed=True)
        fix += f", or push (collector/remote-write-only.yaml), measured to need about {push_needed} MiB"
    return Finding("collector memory limit", WARN, f"{holds}; {load} (measured: {sizing.MEASURED}){now}", fix)


EXPORTER_JOB = "app-metrics"
"""The scrape of the collector's prometheus exporter (prometheus/prometheus.yml)."""
SLOWEST_SCRAPE = f'max_over_time(scrape_duration_seconds{{job="{EXPORTER_JOB}"}}[1d])'
SCRAPE_HEADROOM = 0.8
"""The slowest scrape of the day may use this share of the timeout: the exporter's render time grows
with the series and with the load (docs/performance.md "Pull or push")."""


def check_exporter_scrapes(client: _Client, ep: Endpoints) -> list[Finding]:
    """The collector's exporter answered every scrape of the last day well within its timeout; a
    scrape past the timeout loses every series of the collector at once (they go stale)."""
    try:
        targets = client.json(f"{ep.prometheus}/api/v1/targets")["data"]["activeTargets"]
        scraped = [t for t in targets if t.get("labels", {}).get("job") == EXPORTER_JOB]
        if not scraped:
            return [Finding("collector exporter scrapes", OK, f"no {EXPORTER_JOB} job: metrics are pushed or absent")]
        timeout = min(duration_seconds(t["scrapeTimeout"]) for t in scraped)
        slowest = _scalar(client, ep, f"max({SLOWEST_SCRAPE})") or 0.0
        lines = _scalar(client, ep, f'max(scrape_samples_scraped{{job="{EXPORTER_JOB}"}})') or 0.0
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        return [Finding("collector exporter scrapes", FAIL, f"cannot query Prometheus: {exc}", "fix Prometheus first")]
    detail = f"slowest scrape of the last day {slowest:.2f} s of a {timeout:g} s timeout ({lines:,.0f} samples now)"
    if slowest < SCRAPE_HEADROOM * timeout:
        return [Finding("collector exporter scrapes", OK, detail)]
    fix = (
        "push instead of being scraped: add collector/remote-write-only.yaml (`ccmon stack up --push`; measured "
        f"cheaper, docs/performance.md), or raise scrape_timeout of job {EXPORTER_JOB}"
    )
    return [Finding("collector exporter scrapes", WARN, detail, fix)]


def check_catalog_names(client: _Client, ep: Endpoints) -> list[Finding]:
    """Metrics not appearing (3): our series carry the catalog's names, not a variant of them."""
    expected = {name for spec in CATALOG for name in spec.prom_series_names}
    try:
        result = client.query(ep.prometheus, 'group by (__name__) ({otel_scope_name=~"otel_ccmon.*"})')
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        return [Finding("catalog names", FAIL, f"cannot query Prometheus: {exc}", "fix Prometheus first")]
    names = {r["metric"]["__name__"] for r in result}
    if not names:
        return [
            Finding(
                "catalog names",
                WARN,
                "no series of otel_ccmon in Prometheus yet",
                "is the app running with initialize_metrics()? is its target up or its OTLP export reaching the "
                "collector?",
            )
        ]
    odd = sorted(names - expected)
    if odd:
        return [
            Finding(
                "catalog names",
                FAIL,
                f"series named unlike the catalog: {', '.join(odd[:10])}",
                "an exporter renames them (e.g. a unit suffix): use otel_ccmon's exporters/collector config, or "
                "check the collector's prometheus exporter settings (add_metric_suffixes)",
            )
        ]
    return [Finding("catalog names", OK, f"{len(names)} series names, all from the catalog")]


def check_rules(client: _Client, ep: Endpoints) -> list[Finding]:
    """Alerts not firing (1): rules loaded, evaluating without errors, config reload succeeded."""
    findings = []
    try:
        groups = client.json(f"{ep.prometheus}/api/v1/rules")["data"]["groups"]
        # from the runtime status, not the self-scraped metric: right after a reload it is current
        reload_ok = client.json(f"{ep.prometheus}/api/v1/status/runtimeinfo")["data"]["reloadConfigSuccess"]
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        return [Finding("rules loaded", FAIL, f"cannot read rules: {exc}", "fix Prometheus first")]
    alerts = sum(1 for g in groups for r in g["rules"] if r.get("type") == "alerting")
    if alerts == 0:
        findings.append(
            Finding("rules loaded", FAIL, "no alerting rules loaded", "list prometheus/rules/*.yml in rule_files")
        )
    else:
        findings.append(Finding("rules loaded", OK, f"{len(groups)} groups, {alerts} alerting rules"))
    if reload_ok is False:
        findings.append(
            Finding(
                "last config reload",
                FAIL,
                "Prometheus rejected its last reload: it still runs the previous rules",
                "run `promtool check rules prometheus/rules/*.yml` and `promtool check config`, fix, reload",
            )
        )
    broken = [
        (g["name"], r["name"], r.get("lastError")) for g in groups for r in g["rules"] if r.get("health") == "err"
    ]
    findings.extend(
        Finding(f"rule {rule} evaluates", FAIL, f"group {group}: {error}", "fix the expression; promtool test rules")
        for group, rule, error in broken
    )
    return findings


def check_alertmanager_link(client: _Client, ep: Endpoints) -> list[Finding]:
    """Alerts not firing (2): Prometheus knows an Alertmanager to send to."""
    try:
        active = client.json(f"{ep.prometheus}/api/v1/alertmanagers")["data"]["activeAlertmanagers"]
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        return [Finding("Prometheus → Alertmanager", FAIL, f"cannot read: {exc}", "fix Prometheus first")]
    if not active:
        return [
            Finding(
                "Prometheus → Alertmanager",
                FAIL,
                "Prometheus has no active Alertmanager: alerts fire but are sent nowhere",
                "set alerting.alertmanagers in prometheus.yml to Alertmanager's address and reload",
            )
        ]
    return [Finding("Prometheus → Alertmanager", OK, ", ".join(a["url"] for a in active))]


def check_alertmanager_state(client: _Client, ep: Endpoints) -> list[Finding]:
    """Alerts not firing (3): silenced or inhibited alerts; failing notification integrations."""
    findings = []
    try:
        alerts = client.json(f"{ep.alertmanager}/api/v2/alerts")
        metrics = client.get(f"{ep.alertmanager}/metrics").text
    except (httpx.HTTPError, ValueError) as exc:
        return [Finding("Alertmanager state", FAIL, f"cannot read: {exc}", "start Alertmanager")]
    for alert in alerts:
        status = alert.get("status", {})
        name = alert["labels"].get("alertname", "?")
        if status.get("silencedBy"):
            findings.append(
                Finding(
                    f"{name} not silenced",
                    WARN,
                    f"silenced by {', '.join(status['silencedBy'])}",
                    "expire the silence (amtool silence expire ID) if it is no longer wanted",
                )
            )
        if status.get("inhibitedBy"):
            findings.append(
                Finding(
                    f"{name} not inhibited",
                    WARN,
                    f"inhibited by {', '.join(status['inhibitedBy'])} (a firing higher-tier alert)",
                    "resolve the inhibiting alert first; see inhibit_rules in alertmanager.yml",
                )
            )
    failed = _failed_integrations(metrics)
    findings.extend(
        Finding(
            f"notifications via {integration}",
            FAIL,
            f"{count:g} failed notifications",
            f"check the {integration} receiver's URL and credentials files in alertmanager.yml; Alertmanager's log",
        )
        for integration, count in sorted(failed.items())
    )
    if not failed:
        findings.append(Finding("notification integrations", OK, "no failed notifications"))
    return findings


def _failed_integrations(metrics_text: str) -> dict[str, float]:
    """``integration -> failures`` from Alertmanager's own metrics.

    >>> _failed_integrations('alertmanager_notifications_failed_total{integration="slack"} 2\\n')
    {'slack': 2.0}
    """
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[str, float] = {}
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "alertmanager_notifications_failed_total" and sample.value > 0:
                integration = sample.labels.get("integration", "?")
                out[integration] = out.get(integration, 0.0) + sample.value
    return out


def substitute(expr: str) -> str:
    """A panel query with Grafana's variables set to "everything", runnable against Prometheus.

    >>> substitute('rate(x{job=~"$job",user_id=~"$user"}[$__rate_interval])')
    'rate(x{job=~".*",user_id=~".*"}[1m])'
    >>> substitute("increase(x[$__range])")
    'increase(x[1h])'
    """
    # every dashboard variable is a multi-value label matcher (`label=~"$name"`) with "All" = .*;
    # the time range is taken as the last hour (Grafana's default)
    expr = expr.replace("$__rate_interval", "1m").replace("$__range", "1h")
    return re.sub(r'=~"\$\w+"', '=~".*"', expr)


def dashboard_queries(dashboard: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(panel title, expr)`` of every query of a dashboard model."""
    return [
        (panel.get("title", "?"), target["expr"])
        for panel in dashboard.get("panels", [])
        for target in panel.get("targets", [])
        if target.get("expr")
    ]


def check_dashboards(client: _Client, ep: Endpoints) -> list[Finding]:
    """Dashboard empty: the datasource it names is provisioned, and its queries return data."""
    findings = []
    for path in ep.dashboards:
        model = json.loads(path.read_text())
        default_uids = {
            v.get("current", {}).get("value")
            for v in model.get("templating", {}).get("list", [])
            if v.get("type") == "datasource"
        }
        if ep.datasource_uids and not default_uids & ep.datasource_uids:
            findings.append(
                Finding(
                    f"dashboard {path.name} datasource",
                    FAIL,
                    f"its default datasource {sorted(u for u in default_uids if u)} is not provisioned "
                    f"({sorted(ep.datasource_uids)})",
                    "give the Prometheus datasource the uid the dashboard expects (grafana/provisioning/datasources)",
                )
            )
        try:
            empty = [
                title
                for title, expr in dashboard_queries(model)
                if not client.query(ep.thanos_query or ep.prometheus, substitute(expr))
            ]
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            findings.append(Finding(f"dashboard {path.name} data", FAIL, f"cannot query: {exc}", "fix Prometheus"))
            continue
        if empty:
            findings.append(
                Finding(
                    f"dashboard {path.name} data",
                    WARN,
                    f"{len(empty)} panels without data: {', '.join(sorted(set(empty))[:8])}",
                    "their metrics have no series yet: is the app running and scraped? some panels need events "
                    "(faults, rollbacks) before they show data",
                )
            )
        else:
            findings.append(Finding(f"dashboard {path.name} data", OK, "every panel query returns data"))
    return findings


def _mitigation(runbooks: Path | None, alert: str) -> str:
    """The first step of an alert's runbook (its Mitigation section), with the runbook's path."""
    path = runbooks / f"{alert}.md" if runbooks else None
    if path is None or not path.exists():
        return f"see the runbook of {alert}"
    lines = path.read_text().splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip().lower().startswith("## mitigation"))
    except StopIteration:
        return f"see {path}"
    first = next((line.lstrip("-* 1234567890.").strip() for line in lines[start + 1 :] if line.strip()), "")
    return f"{first} ({path})"


def check_long_term(client: _Client, ep: Endpoints) -> list[Finding]:
    """The Thanos tier (HA topology): Query answers, each of its stores is connected (both sidecars, a
    store gateway), the pair is deduplicated, and no Thanos alert fires (each named with its fix)."""
    if ep.thanos_query is None:
        return []
    fix = "start it (`ccmon stack up --ha`) or check its log"
    reachable = _reachable(client, "Thanos Query", f"{ep.thanos_query}/-/ready", fix)
    if reachable.status != OK:
        return [reachable]
    findings = [reachable]
    try:
        stores = client.json(f"{ep.thanos_query}/api/v1/stores")["data"]
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        return [*findings, Finding("Thanos stores", FAIL, f"cannot read: {exc}", "check Thanos Query's log")]
    for kind, want, what in (("sidecar", 2, "a sidecar per Prometheus replica"), ("store", 1, "the store gateway")):
        healthy, broken = connected_stores(stores, kind)
        if broken or healthy < want:
            detail = f"{healthy} of {want} connected" + (f"; {'; '.join(broken)}" if broken else "")
            findings.append(Finding(f"Thanos {kind}s", FAIL, detail, f"start {what}; its log names the error"))
        else:
            findings.append(Finding(f"Thanos {kind}s", OK, f"{healthy} connected"))
    try:
        replicas = client.json(
            f"{ep.thanos_query}/api/v1/query", params={"query": "count by (replica) (up)", "dedup": "false"}
        )["data"]["result"]
        deduplicated = client.query(ep.thanos_query, 'count(up{job="prometheus"})')
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        return [*findings, Finding("Thanos Query answers", FAIL, f"cannot query: {exc}", "check Thanos Query's log")]
    names = sorted(r["metric"].get("replica", "(none)") for r in replicas)
    if len(names) >= 2 and "(none)" not in names:
        per_replica = [float(r["value"][1]) for r in replicas]
        total = float(deduplicated[0]["value"][1]) if deduplicated else 0.0
        detail = f"{', '.join(names)}: one answer ({total:g} Prometheus targets, not {sum(per_replica):g})"
        findings.append(Finding("replicas deduplicated", OK, detail))
    else:
        findings.append(
            Finding(
                "replicas deduplicated",
                WARN,
                f"Query sees replicas {names}",
                "each Prometheus needs a distinct `replica` external label and a sidecar (prometheus-ha.yml)",
            )
        )
    try:
        alerts = client.json(f"{ep.prometheus}/api/v1/alerts")["data"]["alerts"]
    except (httpx.HTTPError, KeyError, ValueError):
        alerts = []
    names_firing = (a["labels"].get("alertname", "") for a in alerts if a["state"] == "firing")
    firing = sorted({name for name in names_firing if name.startswith("Thanos")})
    findings.extend(Finding(f"{name} not firing", FAIL, "firing", _mitigation(ep.runbooks, name)) for name in firing)
    if not firing:
        findings.append(Finding("Thanos alerts", OK, "none firing"))
    return findings


CHECKS: tuple[Callable[[_Client, Endpoints], list[Finding]], ...] = (
    check_components,
    check_receiver_token,
    check_targets,
    check_collector_flow,
    check_collector_sizing,
    check_exporter_scrapes,
    check_catalog_names,
    check_rules,
    check_alertmanager_link,
    check_alertmanager_state,
    check_dashboards,
    check_long_term,
)


def run_checks(
    endpoints: Endpoints, checks: Iterable[Callable[[_Client, Endpoints], list[Finding]]] = CHECKS
) -> list[Finding]:
    """Run ``checks`` against ``endpoints``; checks that need Prometheus are skipped when it is down.

    >>> [f.status for f in run_checks(Endpoints("http://127.0.0.1:1", "http://127.0.0.1:1"))][:2]
    ['fail', 'fail']
    """
    client = _Client(ca_file=endpoints.ca_file, web_auth=endpoints.web_auth)
    findings: list[Finding] = []
    try:
        for check in checks:
            found = check(client, endpoints)
            findings.extend(found)
            if check is check_components and any(f.check == "Prometheus reachable" and f.status == FAIL for f in found):
                break  # every other check asks Prometheus: one cause, one finding
    finally:
        client.close()
    return findings


def render(findings: Iterable[Finding]) -> str:
    """One line per finding, with its fix on the next line when it is not ok."""
    lines = []
    for f in findings:
        lines.append(f"{f.status.upper():4}  {f.check}: {f.detail}")
        if f.status != OK and f.fix:
            lines.append(f"      fix: {f.fix}")
    return "\n".join(lines)


def _endpoints(args: argparse.Namespace) -> Endpoints:
    ports: dict[str, int] = {}
    repo: Path | None = None
    try:
        repo = find_repo(args.repo)
    except RepoNotFoundError:
        repo = None
    workdir = stack_workdir(args.workdir, repo)
    token_file = args.receiver_token_file
    state = load_state(workdir) if workdir is not None else None
    if workdir is not None and state is not None:
        ports = state["ports"]
        if token_file is None and (workdir / "secrets" / "receiver_token").exists():
            token_file = str(workdir / "secrets" / "receiver_token")

    def local(key: str, path: str = "") -> str:
        port = ports.get(key) or {**DEFAULT_PORTS, **HA_PORTS}[key]  # the stack's defaults (devstack.config)
        return f"{scheme(state, key)}://127.0.0.1:{port}{path}"

    ca_file, web_auth = None, None
    if workdir is not None and state is not None and state.get("secure"):
        from otel_ccmon.devstack import security

        creds = security.Credentials(workdir / "secrets")
        ca_file, web_auth = creds.path(security.CA), creds.basic_auth()

    dashboards: tuple[Path, ...] = ()
    uids: frozenset[str] = frozenset()
    if repo is not None:
        import yaml

        dashboards = tuple(sorted((repo / "grafana" / "dashboards").glob("*.json")))
        provisioning = yaml.safe_load((repo / "grafana/provisioning/datasources/datasources.yml").read_text())
        uids = frozenset(d["uid"] for d in provisioning.get("datasources", []) if d.get("uid"))
    return Endpoints(
        prometheus=(args.prometheus or local("prometheus")).rstrip("/"),
        alertmanager=(args.alertmanager or local("alertmanager")).rstrip("/"),
        collector_health=args.collector_health or local("collector_health", "/"),
        receiver=(args.receiver or local("receiver")).rstrip("/"),
        receiver_token=Path(token_file).read_text().strip() if token_file else None,
        dashboards=dashboards,
        datasource_uids=uids,
        thanos_query=(args.thanos_query or (local("thanos_query") if "thanos_query" in ports else None)),
        runbooks=repo / "docs" / "runbooks" if repo is not None else None,
        ca_file=ca_file,
        web_auth=web_auth,
        collector_memory_limit_mib=args.collector_memory_limit_mib or sizing.configured_limit_mib(repo),
    )


def _doctor(args: argparse.Namespace) -> int:
    findings = run_checks(_endpoints(args))
    print(render(findings))
    failed = sum(f.status == FAIL for f in findings)
    warned = sum(f.status == WARN for f in findings)
    print(f"ccmon doctor: {len(findings)} checks, {failed} failed, {warned} warnings", file=sys.stderr)
    return 1 if failed else 0


def add_commands(sub: Any) -> None:
    """Register ``ccmon doctor``."""
    doctor = sub.add_parser("doctor", help="diagnose a running stack: each problem with its cause and fix")
    doctor.add_argument("--repo", help="the checkout (dashboards, datasources; default: working directory)")
    doctor.add_argument("--workdir", help="a local stack's workdir (default: REPO/var/stack): its ports and token")
    doctor.add_argument("--prometheus", default=os.environ.get("CCMON_PROMETHEUS_URL"), help="e.g. http://prom:9090")
    doctor.add_argument("--alertmanager", default=os.environ.get("CCMON_ALERTMANAGER_URL"))
    doctor.add_argument(
        "--thanos-query",
        default=os.environ.get("CCMON_THANOS_QUERY_URL"),
        help="the HA topology's Thanos Query (default: the local HA stack's); dashboards are checked through it",
    )
    doctor.add_argument("--collector-health", default=os.environ.get("CCMON_COLLECTOR_HEALTH_URL"))
    doctor.add_argument("--receiver", default=os.environ.get("CCMON_RECEIVER_URL"))
    doctor.add_argument("--receiver-token-file", default=os.environ.get("CCMON_RECEIVER_TOKEN_FILE"))
    doctor.add_argument(
        "--collector-memory-limit-mib",
        type=int,
        help="the collector's memory limit (default: CCMON_COLLECTOR_MEMORY_LIMIT_MIB, else collector/config.yaml's)",
    )
    doctor.set_defaults(func=_doctor)
