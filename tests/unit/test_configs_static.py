"""Config files read as data: the collector manifest matches the configs; no inline secrets."""

from __future__ import annotations

import yaml

from tests.support import ROOT


def test_collector_manifest_matches_configs() -> None:
    """The builder manifest holds exactly the component types the configs use, at one release."""
    manifest = yaml.safe_load((ROOT / "collector" / "builder-config.yaml").read_text())
    used: set[str] = set()
    for f in sorted(p.name for p in (ROOT / "collector").glob("*.yaml") if p.name != "builder-config.yaml"):
        cfg = yaml.safe_load((ROOT / "collector" / f).read_text())
        for section in ("receivers", "processors", "exporters", "extensions", "connectors"):
            used |= {name.split("/")[0] for name in cfg.get(section, {})}
    module_types = {
        "otlpreceiver": "otlp", "memorylimiterprocessor": "memory_limiter", "batchprocessor": "batch",
        "resourceprocessor": "resource", "otlpexporter": "otlp_grpc", "otlphttpexporter": "otlp_http",
        "debugexporter": "debug", "nopexporter": "nop", "prometheusexporter": "prometheus",
        "prometheusremotewriteexporter": "prometheus_remote_write", "healthcheckextension": "health_check",
        "filestorage": "file_storage", "bearertokenauthextension": "bearertokenauth",
        "cardinalityguardprocessor": "cardinalityguard",
        "claudecodeprocessor": "claudecode", "claudecodeeventsconnector": "claudecode_events",
        "gatewayrouteexporter": "gatewayroute",
    }  # fmt: skip
    built = set()
    versions = set()
    for section in ("receivers", "processors", "exporters", "extensions", "connectors"):
        for entry in manifest[section]:
            module, version = entry["gomod"].split()
            built.add(module_types[module.rsplit("/", 1)[1]])
            versions.add(version)
    # debug and otlp_grpc are kept for operators (debugging, gRPC backends); everything used is built
    assert used <= built
    assert built - used <= {"debug", "otlp_grpc"}
    assert versions == {"v0.165.0", "v0.165.1", "v0.0.0"}  # v0.0.0: ours, built from their folders


def test_no_placeholders_or_inline_secrets_in_alertmanager() -> None:
    cfg = yaml.safe_load((ROOT / "alertmanager" / "alertmanager.yml").read_text())
    values = yaml.safe_dump(cfg)  # comments excluded: they may mention the pitfall
    assert "${" not in values
    assert "service_key" not in values  # PagerDuty Events v1
    for key in ("slack_api_url", "smtp_auth_password"):
        assert key not in cfg["global"]
    for receiver in cfg["receivers"]:
        for pd in receiver.get("pagerduty_configs", []):
            assert "routing_key_file" in pd and "routing_key" not in pd
        for hook in receiver.get("webhook_configs", []):
            assert "credentials_file" in hook["http_config"]["authorization"]
