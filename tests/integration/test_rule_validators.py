"""Rules and routing through the real validators: promtool check/test rules, amtool route tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from mixin import alerts
from otel_ccmon._meta import DEMO_SERVICE_NAME
from otel_ccmon.devstack.repo import bin_dir
from tests.support import ROOT


def promtool(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(bin_dir() / "promtool"), *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_promtool_check_rules() -> None:
    r = promtool("check", "rules", "prometheus/rules/recording.yml", "prometheus/rules/alerts.yml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"SUCCESS: {len(alerts.ALL_ALERTS)} rules found" in r.stdout


def test_promtool_unit_tests_pass(tmp_path: Path) -> None:
    """Every group of prometheus/tests/alerts_test.yml passes. promtool runs a file's groups one after
    the other on one core (a minute and more), so the groups are dealt into two files run side by side."""
    source = ROOT / "prometheus" / "tests" / "alerts_test.yml"
    cases = yaml.safe_load(source.read_text())
    rule_files = [str((source.parent / f).resolve()) for f in cases["rule_files"]]
    halves = []
    for i in range(2):
        half = tmp_path / f"half{i}.yml"
        half.write_text(yaml.safe_dump({**cases, "rule_files": rule_files, "tests": cases["tests"][i::2]}))
        halves.append(half)
    assert sum(len(yaml.safe_load(h.read_text())["tests"]) for h in halves) == len(cases["tests"]) > 100
    runs = [
        subprocess.Popen(
            [str(bin_dir() / "promtool"), "test", "rules", str(h)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for h in halves
    ]
    try:
        outputs = [run.communicate(timeout=300)[0].decode() for run in runs]
    finally:
        for run in runs:
            run.kill()  # a no-op once it has exited; stops the other one when a run timed out
    for run, out in zip(runs, outputs, strict=True):
        assert run.returncode == 0, out
        assert "SUCCESS" in out


def test_promtool_unit_tests_catch_a_wrong_threshold(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "tests").mkdir()
    alerts = (ROOT / "prometheus/rules/alerts.yml").read_text()
    broken = alerts.replace(
        "job:db_query_duration_seconds:p95_rate5m > 0.010", "job:db_query_duration_seconds:p95_rate5m > 0.050"
    )
    assert broken != alerts
    (tmp_path / "rules" / "alerts.yml").write_text(broken)
    for name in ("recording.yml", "services.yml"):
        (tmp_path / "rules" / name).write_text((ROOT / "prometheus/rules" / name).read_text())
    # only the cases of the broken alert: the whole file passes in the test above (and takes a minute)
    cases = yaml.safe_load((ROOT / "prometheus/tests/alerts_test.yml").read_text())
    cases["tests"] = [t for t in cases["tests"] if t["name"].startswith("DatabaseSlowQueries ")]
    assert len(cases["tests"]) >= 2
    (tmp_path / "tests" / "t.yml").write_text(yaml.safe_dump(cases))
    r = promtool("test", "rules", "tests/t.yml", cwd=tmp_path)
    assert r.returncode != 0
    assert "DatabaseSlowQueries fires after 10m" in r.stdout + r.stderr


ROUTES = [
    ({"alertname": "ServiceDown", "severity": "P0", "service": DEMO_SERVICE_NAME}, "p0-critical"),
    ({"alertname": "DatabaseConnectionFailure", "severity": "P0", "component": "database"}, "p0-critical"),
    ({"alertname": "CacheHitRateLow", "severity": "P1", "service": DEMO_SERVICE_NAME}, "p1-high"),
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


def test_team_budget_alerts_route_to_the_teams_receiver(tmp_path: Path) -> None:
    """Issue 21: a team (or cost centre) budget that names a receiver routes its budget alert there,
    the others keep the severity routes; a receiver the file does not define is a clear error."""
    from mixin.config import SettingsError, SpendBudget
    from mixin.team_routes import team_routes, with_team_routes

    # the repository's file (receivers are its last key) with one more receiver: the team's own
    text = (ROOT / "alertmanager" / "alertmanager.yml").read_text()
    text += "  - name: team-platform\n    webhook_configs:\n      - url: http://127.0.0.1:9/x\n"
    routes = team_routes(
        {"platform": SpendBudget(daily_usd=10, receiver="team-platform"), "web": SpendBudget(daily_usd=5)},
        {"eng-123": SpendBudget(monthly_usd=100, receiver="team-platform")},
    )
    path = tmp_path / "alertmanager.yml"
    path.write_text(with_team_routes(text, routes))
    check = subprocess.run([str(bin_dir() / "amtool"), "check-config", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    cases = [
        ({"alertname": "ClaudeCodeTeamOverBudget", "severity": "P2", "team_id": "platform"}, "team-platform"),
        ({"alertname": "ClaudeCodeTeamOverBudget", "severity": "P2", "team_id": "web"}, "p2-medium"),
        ({"alertname": "ClaudeCodeCostCenterOverBudget", "severity": "P2", "cost_center": "eng-123"}, "team-platform"),
        ({"alertname": "ClaudeCodeAPIErrorRate", "severity": "P2", "team_id": "platform"}, "p2-medium"),
    ]
    for labels, receiver in cases:
        argv = [str(bin_dir() / "amtool"), "config", "routes", "test", f"--config.file={path}",
                *(f"{k}={v}" for k, v in labels.items())]  # fmt: skip
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        assert r.stdout.strip() == receiver, (labels, r.stdout, r.stderr)
    with pytest.raises(SettingsError, match="'team-missing' is not defined"):
        with_team_routes(text, team_routes({"x": SpendBudget(daily_usd=1, receiver="team-missing")}, {}))
