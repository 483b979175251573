"""Alert and recording rules: generated files current, promtool, annotations, runbooks, routing."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from otel_ccmon import _catalog as cat
from otel_ccmon import _rules
from otel_ccmon._stack import ROOT, bin_dir

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


def promtool(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(bin_dir() / "promtool"), *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_generated_rule_files_are_current() -> None:
    stale = [
        str(p.relative_to(ROOT))
        for p, content in _rules.outputs().items()
        if not p.exists() or p.read_text() != content
    ]
    assert not stale, f"run `make rules`: stale {stale}"
    runbooks = {p.stem for p in (ROOT / "docs" / "runbooks").glob("*.md")}
    assert runbooks == set(_rules.BY_NAME), "runbooks without an alert (or the reverse)"


def test_promtool_check_rules() -> None:
    r = promtool("check", "rules", "prometheus/rules/recording.yml", "prometheus/rules/alerts.yml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"SUCCESS: {len(_rules.ALL_ALERTS)} rules found" in r.stdout


def test_promtool_unit_tests_pass() -> None:
    r = promtool("test", "rules", "prometheus/tests/alerts_test.yml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout


def test_promtool_unit_tests_catch_a_wrong_threshold(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "tests").mkdir()
    alerts = (ROOT / "prometheus/rules/alerts.yml").read_text()
    broken = alerts.replace(
        "job:db_query_duration_seconds:p95_rate5m > 0.010", "job:db_query_duration_seconds:p95_rate5m > 0.050"
    )
    assert broken != alerts
    (tmp_path / "rules" / "alerts.yml").write_text(broken)
    (tmp_path / "rules" / "recording.yml").write_text((ROOT / "prometheus/rules/recording.yml").read_text())
    (tmp_path / "tests" / "t.yml").write_text((ROOT / "prometheus/tests/alerts_test.yml").read_text())
    r = promtool("test", "rules", "tests/t.yml", cwd=tmp_path)
    assert r.returncode != 0
    assert "DatabaseSlowQueries fires after 10m" in r.stdout + r.stderr


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
        assert _rules.BY_NAME[name].severity == tier, name


def test_every_alert_has_a_firing_and_a_silent_promtool_case() -> None:
    tests = yaml.safe_load((ROOT / "prometheus/tests/alerts_test.yml").read_text())["tests"]
    names = {t["name"] for t in tests}
    for a in _rules.ALL_ALERTS:
        assert f"{a.name} fires after {a.duration}" in names
        assert a.name == "Watchdog" or f"{a.name} stays silent when healthy" in names


def test_slo_burn_rates_can_fire_at_their_objectives() -> None:
    for slo, (objective, _) in _rules.SLOS.items():
        max_burn = 1 / (1 - objective)
        for speed in _rules.BURN.values():
            for _, _, factor in speed:
                assert factor < max_burn, (slo, factor)


IDENT = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{|\[|\)|\s|$)")
PROMQL_WORDS = {
    "sum", "by", "rate", "increase", "histogram_quantile", "and", "or", "unless", "on", "avg", "max", "min",
    "avg_over_time", "max_over_time", "min_over_time", "deriv", "absent", "offset", "vector", "count", "le",
    "without", "ignoring", "group_left", "bool", "job", "instance",
}  # fmt: skip


def referenced_metrics(expr: str) -> set[str]:
    expr = re.sub(r'"[^"]*"', '""', expr)  # label values
    expr = re.sub(r"\{[^}]*\}", "{}", expr)  # label matchers
    expr = re.sub(r"\b(by|on|without|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)  # label lists
    return {m for m in IDENT.findall(expr) if m not in PROMQL_WORDS and not m[0].isdigit()}


def known_metric(name: str) -> bool:
    base = re.sub(r"_(bucket|sum|count)$", "", name)
    return (
        name in cat.BY_PROM_NAME
        or base in cat.BY_PROM_NAME
        or any(name in names for names in _rules.EXTERNAL_METRICS.values())
        or name in {r.record for r in (*_rules.RECORDING, *_rules.slo_recordings())}
    )


def test_every_metric_in_rules_is_known() -> None:
    for r in (*_rules.RECORDING, *_rules.slo_recordings()):
        unknown = {m for m in referenced_metrics(r.expr) if not known_metric(m)}
        assert not unknown, (r.record, unknown)
    for a in _rules.ALL_ALERTS:
        unknown = {m for m in referenced_metrics(a.expr) if not known_metric(m)}
        assert not unknown, (a.name, unknown)


def test_referenced_metrics_parser() -> None:
    expr = 'sum by (job, kind) (rate(x_total{a="b"}[5m])) / on (job) y > 0.1'
    assert referenced_metrics(expr) == {"x_total", "y"}


ROUTES = [
    ({"alertname": "ServiceDown", "severity": "P0", "service": "claude-code-app"}, "p0-critical"),
    ({"alertname": "DatabaseConnectionFailure", "severity": "P0", "component": "database"}, "p0-critical"),
    ({"alertname": "CacheHitRateLow", "severity": "P1", "service": "claude-code-app"}, "p1-high"),
    ({"alertname": "GOAPPlanningSlowdown", "severity": "P2", "component": "goap"}, "p2-medium"),
    ({"alertname": "LowDiskSpace", "severity": "P3"}, "p3-low"),
    ({"alertname": "Watchdog", "severity": "P3"}, "watchdog"),
    ({"alertname": "Unlabelled"}, "p2-medium"),
]


@pytest.mark.parametrize(("labels", "receiver"), ROUTES, ids=[r[1] + "-" + r[0]["alertname"] for r in ROUTES])
def test_amtool_routes(labels: dict[str, str], receiver: str) -> None:
    argv = [
        str(bin_dir() / "amtool"),
        "config",
        "routes",
        "test",
        f"--config.file={ROOT / 'alertmanager/alertmanager.yml'}",
        f"--verify.receivers={receiver}",
        *(f"{k}={v}" for k, v in labels.items()),
    ]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == receiver


def test_amtool_route_test_fails_on_wrong_receiver() -> None:
    config = f"--config.file={ROOT / 'alertmanager/alertmanager.yml'}"
    argv = [str(bin_dir() / "amtool"), "config", "routes", "test", config, "--verify.receivers=p3-low", "severity=P0"]
    assert subprocess.run(argv, capture_output=True, text=True, timeout=60).returncode != 0


def test_every_alert_routes_to_its_tier() -> None:
    routes = yaml.safe_load((ROOT / "alertmanager/alertmanager.yml").read_text())["route"]["routes"]
    by_severity = {
        r["matchers"][0].split("=")[1].strip('"'): r["receiver"] for r in routes if "severity" in r["matchers"][0]
    }
    assert by_severity == {"P0": "p0-critical", "P1": "p1-high", "P2": "p2-medium", "P3": "p3-low"}


def test_shorten_transformation() -> None:
    text = (ROOT / "prometheus/rules/alerts.yml").read_text()
    short = _rules.shorten(text, 60)
    assert "for: 10s" in short and "[5s]" in short and "offset 10s" in short
    assert re.sub(r"for: \d+s|\[\d+s\]|offset \d+s", "", short) == re.sub(
        r"for: [0-9smhd]+|\[[0-9smhd]+\]|offset [0-9smhd]+", "", text
    )
