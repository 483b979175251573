"""Native validators on every config: otelcol validate, promtool check config, amtool check-config.

Each validator also gets a broken copy, so a validator that accepts anything fails the test.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from otel_ccmon.devstack.components import COLLECTOR_CONFIGS
from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.repo import bin_dir
from otel_ccmon.devstack.stack import localize_alertmanager, write_local_secrets
from tests.support import ROOT

BASE = COLLECTOR_CONFIGS  # config.yaml + the generated firewall.yaml
COLLECTOR_SETS = [
    BASE,
    (*BASE, "forward-otlp.yaml"),
    (*BASE, "remote-write.yaml"),
    (*BASE, "remote-write-only.yaml"),
    (*BASE, "forward-otlp.yaml", "remote-write.yaml"),
    (*BASE, "forward-logs-otlp.yaml"),
    (*BASE, "forward-traces-otlp.yaml"),
    (*BASE, "secure.yaml"),
    ("agent.yaml",),
]


def run(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(argv, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})


def collector_env(tmp_path: Path) -> dict[str, str]:
    return {
        "CCMON_COLLECTOR_STORAGE_DIR": str(tmp_path),
        "CCMON_FORWARD_OTLP_ENDPOINT": "https://otlp.example.net",
        "CCMON_REMOTE_WRITE_URL": "https://rw.example.net/api/v1/write",
        "CCMON_FORWARD_LOGS_OTLP_ENDPOINT": "https://logs.example.net",
        "CCMON_FORWARD_TRACES_OTLP_ENDPOINT": "https://traces.example.net",
        "CCMON_OTLP_TOKEN_FILE": str(tmp_path / "otlp_token"),
        "CCMON_TLS_CERT_FILE": str(tmp_path / "tls_cert.pem"),
        "CCMON_TLS_KEY_FILE": str(tmp_path / "tls_key.pem"),
    }


@pytest.mark.parametrize("files", COLLECTOR_SETS, ids=lambda f: "+".join(f))
def test_otelcol_validate(files: tuple[str, ...], tmp_path: Path) -> None:
    argv = [str(bin_dir() / "otelcol-ccmon"), "validate"]
    for f in files:
        argv += ["--config", str(ROOT / "collector" / f)]
    result = run(argv, collector_env(tmp_path))
    assert result.returncode == 0, result.stderr


def test_otelcol_validate_rejects_broken_config(tmp_path: Path) -> None:
    cfg = yaml.safe_load((ROOT / "collector" / "config.yaml").read_text())
    cfg["processors"]["batch"]["send_batch_sizee"] = 10  # a typo
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(cfg))
    firewall = str(ROOT / "collector" / "firewall.yaml")
    result = run(
        [str(bin_dir() / "otelcol-ccmon"), "validate", "--config", str(broken), "--config", firewall],
        collector_env(tmp_path),
    )
    assert result.returncode != 0
    assert "send_batch_sizee" in result.stderr


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        ("lots", "'max_streams_per_service' expected type 'int'"),
        ("0", "max_streams_per_service must be at least 1 (got 0)"),
        ("-5", "max_streams_per_service must be at least 1 (got -5)"),
    ],
)
def test_otelcol_validate_rejects_a_malformed_series_budget(tmp_path: Path, budget: str, message: str) -> None:
    argv = [str(bin_dir() / "otelcol-ccmon"), "validate"]
    for f in BASE:
        argv += ["--config", str(ROOT / "collector" / f)]
    result = run(argv, {**collector_env(tmp_path), "CCMON_SERIES_BUDGET": budget})
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


def test_promtool_check_config() -> None:
    result = run([str(bin_dir() / "promtool"), "check", "config", str(ROOT / "prometheus" / "prometheus.yml")])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_rejects_broken_config(tmp_path: Path) -> None:
    cfg = yaml.safe_load((ROOT / "prometheus" / "prometheus.yml").read_text())
    cfg["global"]["scrape_interval"] = "fifteen seconds"
    (tmp_path / "rules").mkdir()
    broken = tmp_path / "prometheus.yml"
    cfg["rule_files"] = []
    broken.write_text(yaml.safe_dump(cfg))
    result = run([str(bin_dir() / "promtool"), "check", "config", str(broken)])
    assert result.returncode != 0


def localized_alertmanager(tmp_path: Path) -> Path:
    ports = StackConfig.with_free_ports(tmp_path).ports
    write_local_secrets(tmp_path / "secrets", ports)
    am = localize_alertmanager(
        yaml.safe_load((ROOT / "alertmanager" / "alertmanager.yml").read_text()),
        ports,
        secrets_dir=tmp_path / "secrets",
        templates_dir=ROOT / "alertmanager" / "templates",
    )
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(am))
    return path


def test_amtool_check_config_repository_file() -> None:
    result = run([str(bin_dir() / "amtool"), "check-config", str(ROOT / "alertmanager" / "alertmanager.yml")])
    assert result.returncode == 0, result.stdout + result.stderr


def test_amtool_check_config_localized(tmp_path: Path) -> None:
    result = run([str(bin_dir() / "amtool"), "check-config", str(localized_alertmanager(tmp_path))])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 receivers" in result.stdout


def test_amtool_rejects_broken_config(tmp_path: Path) -> None:
    cfg = yaml.safe_load((ROOT / "alertmanager" / "alertmanager.yml").read_text())
    cfg["route"]["routes"][1]["receiver"] = "no-such-receiver"
    broken = tmp_path / "am.yml"
    broken.write_text(yaml.safe_dump(cfg))
    result = run([str(bin_dir() / "amtool"), "check-config", str(broken)])
    assert result.returncode != 0
    assert "no-such-receiver" in result.stdout + result.stderr


def test_promtool_checks_the_generated_web_config(tmp_path: Path) -> None:
    """`ccmon security init`'s web config (TLS + bcrypt basic auth) passes promtool; a broken one does not."""
    from otel_ccmon.devstack import security

    creds = security.init(tmp_path / "secrets")
    good = run([str(bin_dir() / "promtool"), "check", "web-config", str(creds.path(security.WEB_CONFIG))])
    assert good.returncode == 0 and "SUCCESS" in good.stdout + good.stderr, good.stdout + good.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "tls_server_config:\n  cert_file: /nonexistent.pem\n  key_file: /nonexistent.key\n"
        "basic_auth_users: {u: not-a-hash}\n"
    )
    bad = run([str(bin_dir() / "promtool"), "check", "web-config", str(broken)])
    assert bad.returncode != 0
