"""The mixin's rules: generated files current, annotations, runbooks, tiers, SLOs, known metrics."""

from __future__ import annotations

import re

import yaml

from mixin import alerts, generate, recording, slos
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
        assert ann["runbook_url"].endswith(f"docs/runbooks/{r['alert']}.md")
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


def test_shorten_transformation() -> None:
    text = (ROOT / "prometheus/rules/alerts.yml").read_text()
    short = shorten(text, 60)
    assert "for: 10s" in short and "[5s]" in short and "offset 10s" in short
    assert re.sub(r"for: \d+s|\[\d+s\]|offset \d+s", "", short) == re.sub(
        r"for: [0-9smhd]+|\[[0-9smhd]+\]|offset [0-9smhd]+", "", text
    )
