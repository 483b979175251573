"""The mixin's rules: generated files current, annotations, runbooks, tiers, SLOs, known metrics."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from mixin import alerts, alerts_apps, collector_firewall, config, generate, recording, slos
from mixin.rule_files import RULE_FILES
from otel_ccmon import _catalog as cat
from otel_ccmon.devstack.components import ALL_COMPONENTS, HA_COMPONENTS
from otel_ccmon.devstack.stack import shorten
from tests.promql import known_metric, referenced_metrics
from tests.support import ROOT

# The spec's named alerts and their tiers.
SPEC_ALERTS = {
    "ServiceDown": "P0",
    "DatabaseConnectionFailure": "P0",
    "TruthScoreCriticallyLow": "P0",
    "NeuralOperationsDegraded": "P1",
    "CacheHitRateLow": "P1",
    "DatabaseSlowQueries": "P1",
    "PatternConfidenceDeclining": "P1",
    "FeedbackLoopStalled": "P1",
    "VerificationFailureRate": "P2",
    "GOAPPlanningSlowdown": "P2",
    "AgentCoordinationEfficiency": "P2",
    "PatternExtractionErrors": "P2",
    "PatternMemoryGrowth": "P3",
    "BackgroundTaskQueueLength": "P3",
    "LowDiskSpace": "P3",
    "UnusedPatternsAccumulating": "P3",
    # the original's others
    "HighMemoryUsage": "P1",
    "AutoRollbackTriggered": "P1",
    "PatternRetrievalSlow": "P1",
    "MemoryCompressionRateLow": "P2",
    "AgentReliabilityLow": "P2",
    "CPUUsageHigh": "P2",
}


def test_generated_rule_files_are_current() -> None:
    stale = [
        str(p.relative_to(ROOT))
        for p, content in generate.rule_outputs(ROOT).items()
        if not p.exists() or p.read_text() != content
    ]
    assert not stale, f"run `make rules`: stale {stale}"
    runbooks = {p.stem for p in (ROOT / "docs" / "runbooks").glob("*.md")}
    assert runbooks == set(alerts.BY_NAME), "runbooks without an alert (or the reverse)"


def test_at_least_30_alerts_with_required_fields() -> None:
    groups = yaml.safe_load((ROOT / "prometheus/rules/alerts.yml").read_text())["groups"]
    rules = [r for g in groups for r in g["rules"]]
    assert len(rules) >= 30
    for r in rules:
        assert r["labels"]["severity"] in {"P0", "P1", "P2", "P3"}, r["alert"]
        ann = r["annotations"]
        assert set(ann) >= {"summary", "description", "impact", "runbook_url"}, r["alert"]
        assert "{{" in ann["description"] or r["alert"] in {"Watchdog", "FeedbackLoopStalled"}, r["alert"]
        assert ann["runbook_url"] == f"{config.RUNBOOK_BASE}/{r['alert']}.md"
        runbook = (ROOT / "docs/runbooks" / f"{r['alert']}.md").read_text()
        for section in ("## Meaning", "## Impact", "## Diagnosis", "## Mitigation"):
            assert section in runbook, (r["alert"], section)


def test_spec_alerts_exist_at_spec_tiers() -> None:
    for name, tier in SPEC_ALERTS.items():
        assert alerts.BY_NAME[name].severity == tier, name


def test_every_alert_has_a_firing_and_a_silent_promtool_case() -> None:
    tests = yaml.safe_load((ROOT / "prometheus/tests/alerts_test.yml").read_text())["tests"]
    names = {t["name"] for t in tests}
    for a in alerts.ALL_ALERTS:
        assert f"{a.name} fires after {a.duration}" in names
        assert a.name == "Watchdog" or f"{a.name} stays silent when healthy" in names


def test_slo_burn_rates_can_fire_at_their_objectives() -> None:
    for slo, (objective, _) in slos.SLOS.items():
        max_burn = 1 / (1 - objective)
        for speed in slos.BURN.values():
            for _, _, factor in speed:
                assert factor < max_burn, (slo, factor)


def test_every_metric_in_rules_is_known() -> None:
    for r in (*recording.RECORDING, *slos.slo_recordings()):
        unknown = {m for m in referenced_metrics(r.expr) if not known_metric(m)}
        assert not unknown, (r.record, unknown)
    for a in alerts.ALL_ALERTS:
        unknown = {m for m in referenced_metrics(a.expr) if not known_metric(m)}
        assert not unknown, (a.name, unknown)


def test_referenced_metrics_parser() -> None:
    expr = 'sum by (job, kind) (rate(x_total{a="b"}[5m])) / on (job) y > 0.1'
    assert referenced_metrics(expr) == {"x_total", "y"}


def test_every_alert_routes_to_its_tier() -> None:
    routes = yaml.safe_load((ROOT / "alertmanager/alertmanager.yml").read_text())["route"]["routes"]
    by_severity = {
        r["matchers"][0].split("=")[1].strip('"'): r["receiver"] for r in routes if "severity" in r["matchers"][0]
    }
    assert by_severity == {"P0": "p0-critical", "P1": "p1-high", "P2": "p2-medium", "P3": "p3-low"}


def test_every_component_has_a_start_position() -> None:
    from otel_ccmon.devstack.components import COMPONENTS, START_ORDER
    from otel_ccmon.devstack.config import DEFAULT_PORTS, HA_PORTS

    assert sorted(START_ORDER) == sorted((*ALL_COMPONENTS, *HA_COMPONENTS))
    at = START_ORDER.index
    targets = ("sink", "receiver", "alertmanager", "alertmanager_b", "collector", "node_exporter", "app")
    assert min(at("prometheus"), at("prometheus_b")) > max(map(at, targets)), "Prometheus starts after its targets"
    assert at("thanos_sidecar") > at("prometheus") and at("thanos_sidecar_b") > at("prometheus_b")
    assert START_ORDER[-1] == "thanos_query", "Query starts after the stores it fans out to"
    bound = [key for c in COMPONENTS for key in c.ports]
    assert sorted(bound) == sorted({*DEFAULT_PORTS, *HA_PORTS}), "every port is bound by exactly one component"


def test_shorten_transformation() -> None:
    text = (ROOT / "prometheus/rules/alerts.yml").read_text()
    short = shorten(text, 60)
    assert "for: 10s" in short and "[10s]" in short and "[15s]" in short and "offset 10s" in short
    assert re.sub(r"for: \d+s|\[\d+s\]|offset \d+s", "", short) == re.sub(
        r"for: [0-9smhd]+|\[[0-9smhd]+\]|offset [0-9smhd]+", "", text
    )


def rule_expressions() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name in RULE_FILES:
        for group in yaml.safe_load((ROOT / "prometheus" / "rules" / name).read_text())["groups"]:
            out.extend((rule.get("alert") or rule["record"], rule["expr"]) for rule in group["rules"])
    return out


def test_no_rule_expression_names_an_application_job() -> None:
    """Every application alert works per service: no expression is tied to one application's job."""
    names = {config.APP_JOB, config.SECOND_SERVICE, *config.SETTINGS.expected_services}
    offenders = [(rule, name) for rule, expr in rule_expressions() for name in names if name in expr]
    assert offenders == []
    assert len(rule_expressions()) > 60


def test_every_runbook_link_uses_the_configured_base_and_exists() -> None:
    for alert in alerts.ALL_ALERTS:
        url = alert.annotations()["runbook_url"]
        assert url.startswith(config.RUNBOOK_BASE + "/"), url
        assert (ROOT / "docs" / "runbooks" / url.removeprefix(config.RUNBOOK_BASE + "/")).is_file(), url


def _number_forms(number: str) -> set[str]:
    value = float(number)
    forms = {number}
    if value == int(value):
        whole = int(value)
        forms |= {str(whole), f"{whole:,}"}
        if whole % (1024 * 1024) == 0:
            forms.add(f"{whole // (1024 * 1024)} MiB")
    else:
        forms |= {f"{value:g}", f"{value:.2f}", f"{round(value * 100)} %"}
    return forms


_UNIT_WORDS = {"s": "second", "m": "minute", "h": "hour", "d": "day"}


def _window_forms(window: str) -> set[str]:
    count, unit = int(window[:-1]), window[-1]
    if count == 0:
        return {"at once"}
    word = _UNIT_WORDS[unit]
    return {f"{count} {word}", f"{count}-{word}", f"{count} {word}s"}


def test_every_meaning_names_the_threshold_and_windows_of_its_rule() -> None:
    """A runbook's Meaning must say what the expression says: its thresholds, its windows (range
    selectors, offsets, the windows in recording-rule names) and its `for`."""
    missing = {}
    for alert in alerts.ALL_ALERTS:
        expr = re.sub(r'"[^"]*"', '""', alert.expr)
        thresholds = [n for n in re.findall(r"[<>]=?\s*\(?\s*(\d+(?:\.\d+)?)", expr) if float(n) != 0]
        thresholds += re.findall(r"(\d+(?:\.\d+)?) \*", expr)  # factors, e.g. burn rates
        windows = set(re.findall(r"\[(\d+[smhd])\]", expr)) | set(re.findall(r"offset (\d+[smhd])", expr))
        windows |= set(re.findall(r"_rate(\d+[smhd])\b", expr)) | {alert.duration}
        gaps = [n for n in thresholds if not _number_forms(n) & _words_in(alert.meaning)]
        gaps += [w for w in sorted(windows) if not any(form in alert.meaning for form in _window_forms(w))]
        if gaps:
            missing[alert.name] = gaps
    assert missing == {}


def _words_in(text: str) -> set[str]:
    """Every substring candidate a number form could match, as a set for intersection."""
    return {form for form in _all_forms() if form in text}


def _all_forms() -> set[str]:
    forms: set[str] = set()
    for alert in alerts.ALL_ALERTS:
        for number in re.findall(r"\d+(?:\.\d+)?", alert.expr):
            forms |= _number_forms(number)
    return forms


def test_truth_score_meaning_reads_the_quantile_the_right_way() -> None:
    meaning = alerts.BY_NAME["TruthScoreCriticallyLow"].meaning
    assert "95th percentile" in meaning and "at least 95 %" in meaning
    assert "best 5 %" not in meaning


def test_settings_are_validated_with_clear_errors(tmp_path: Path) -> None:
    good = yaml.safe_load(config.SETTINGS_FILE.read_text())
    cases = {
        "runbook_base_url": ("not a url", "runbook_base_url"),
        "series_budget_per_service": (0, "series_budget_per_service"),
        "expected_services": ("claude-code-app", "expected_services"),
    }
    for key, (value, named) in cases.items():
        broken = tmp_path / f"{key}.yml"
        broken.write_text(yaml.safe_dump({**good, key: value}))
        with pytest.raises(config.SettingsError, match=named):
            config.load_settings(broken)
    claude_code = {
        "attribution_keys": (["Team Name"], "attribution_keys"),
        "team_budgets": ({"platform": {"daily_usd": -5}}, "daily_usd"),
        "cost_center_budgets": ({"eng-1": {"receiver": "no spaces allowed"}}, "receiver"),
    }
    for key, (value, named) in claude_code.items():
        broken = tmp_path / f"cc-{key}.yml"
        broken.write_text(yaml.safe_dump({**good, "claude_code": {**good["claude_code"], key: value}}))
        with pytest.raises(config.SettingsError, match=named):
            config.load_settings(broken)
    identity = tmp_path / "identity.yml"
    identity_keys = {**good["claude_code"], "attribution_keys": ["user.id"]}
    identity.write_text(yaml.safe_dump({**good, "claude_code": identity_keys}))
    with pytest.raises(config.SettingsError, match="identity key"):
        config.load_settings(identity)
    typo = tmp_path / "typo.yml"
    typo.write_text(yaml.safe_dump({**good, "runbook_base": "http://x"}))
    with pytest.raises(config.SettingsError, match="runbook_base"):
        config.load_settings(typo)


def test_collector_firewall_is_current_and_sized_for_the_catalog() -> None:
    ((path, content),) = generate.collector_outputs(ROOT).items()
    assert path.read_text() == content, "run `make generate`"
    guard = yaml.safe_load(content)["processors"]["cardinalityguard"]
    # otel-ccmon's metrics and the applications' own (app_catalogs in mixin/settings.yml), allowlisted alike
    apps = tuple(m for c in alerts_apps.CATALOGS for m in c.metrics)
    assert {m.otel_name for m in apps} >= {"invoices.processed", "invoices.queue.depth"}
    assert set(guard["catalog"]) == {spec.otel_name for spec in (*cat.ALL_METRICS, *apps)}
    for spec in (*cat.ALL_METRICS, *apps):
        rule = guard["catalog"][spec.otel_name]["attributes"]
        assert set(rule) == set(spec.attribute_keys)
        for attribute in spec.attributes:
            assert set(rule[attribute.key]) == set(attribute.allowed or ())
    # Claude Code: the processor keeps exactly the catalog's keys (so the guard never merges totals)
    claude = yaml.safe_load(content)["processors"]["claudecode"]
    for spec in cat.CLAUDE_CODE_CATALOG:  # the attribution keys: the settings' (default: the catalog's)
        assert set(claude["metrics"][spec.otel_name]["attributes"]) == set(spec.attribute_keys)
    assert config.SETTINGS.claude_code.attribution_keys == cat.CLAUDE_CODE_ATTRIBUTION_KEYS
    assert claude["from_resource"] == [*cat.CLAUDE_CODE_ATTRIBUTION_KEYS, "enduser.id", "user.email"]
    assert set(claude["capped_keys"]) == {*cat.CLAUDE_CODE_CAPPED_KEYS, "agent"}  # and the agents of apps
    events = yaml.safe_load(content)["connectors"]["claudecode_events"]
    assert events["duration_buckets"] == list(cat.CLAUDE_CODE_DURATION_BUCKETS)
    budget = config.SETTINGS.series_budget_per_service or collector_firewall.default_budget()
    assert guard["max_streams_per_service"] == f"${{env:CCMON_SERIES_BUDGET:-{budget}}}"


def test_generic_process_alerts_never_select_the_stacks_own_jobs() -> None:
    """HighMemoryUsage and CPUUsageHigh are the application's targets: every scrape job of the
    stack is either an application path (app-metrics, ccmon_role=application) or excluded by name
    (issue 23: Prometheus at 114 MiB paged the team)."""
    for name in ("prometheus.yml", "prometheus-ha.yml", "prometheus-secure.yml"):
        cfg = yaml.safe_load((ROOT / "prometheus" / name).read_text())
        for job in cfg["scrape_configs"]:
            labels = {k: v for sc in job.get("static_configs", []) for k, v in sc.get("labels", {}).items()}
            app = job["job_name"] == "app-metrics" or labels.get("ccmon_role") == "application"
            assert app or job["job_name"] in config.INFRASTRUCTURE_JOBS, (name, job["job_name"])
    exprs = {a.name: a.expr for a in alerts.ALL_ALERTS}
    for alert in ("HighMemoryUsage", "CPUUsageHigh"):
        assert config.NOT_INFRASTRUCTURE in exprs[alert], alert


def test_the_privacy_allowlist_keeps_content_only_where_opted_in() -> None:
    """Issue 30: content keys are left out of the collector's allowlist unless an organisation opts
    in per key; an unknown key in keep_content is refused with the known ones named; every event
    and span of the table is in the generated configuration; identities include the operator's."""
    from otel_ccmon import _privacy

    plain = collector_firewall.allowlist(config.ClaudeCodeSettings())
    assert "prompt" not in plain["events"]["user_prompt"] and "full_command" not in plain["spans"]["tool"]
    assert set(plain["events"]) == set(_privacy.EVENTS) and set(plain["spans"]) == set(_privacy.SPANS)
    kept = {k for keys in (*plain["events"].values(), *plain["spans"].values()) for k in keys}
    assert not kept & set(_privacy.CONTENT)
    opted = collector_firewall.allowlist(config.ClaudeCodeSettings(keep_content=("prompt",)))
    assert "prompt" in opted["events"]["user_prompt"] and "user_prompt" not in opted["spans"]["interaction"]
    with pytest.raises(ValueError, match="not content keys"):
        config.ClaudeCodeSettings(keep_content=("prompt", "session.id"))
    own = collector_firewall.identity_keys(config.ClaudeCodeSettings(identity_keys=("acme.login",)))
    assert own == ["user.email", "enduser.id", "process.owner", "acme.login"]
    generated = yaml.safe_load((ROOT / "collector" / "firewall.yaml").read_text())["processors"]["claudecode"]
    assert generated["identity"]["policy"] == "${env:CCMON_IDENTITY_POLICY:-hash}"
    assert generated["allowlist"] == plain
