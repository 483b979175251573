"""docker-compose.yml, statically: it loads with compose-go, is pinned, has no default credentials,
mounts secrets as files and agrees with the other configs (service names, ports, paths)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from otel_ccmon.devstack.repo import bin_dir
from tests.support import ROOT, pinned_versions

LOOPBACK_ONLY = {"otel-collector", "prometheus", "alertmanager", "alert-receiver", "node-exporter"}


def load(
    env: dict[str, str] | None = None, files: tuple[str, ...] = ("docker-compose.yml",)
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GRAFANA_", "CCMON_"))}
    return subprocess.run(
        [str(bin_dir() / "composecheck"), ",".join(str(ROOT / f) for f in files)],
        capture_output=True, text=True, timeout=60, env={**environ, **(env or {})}, cwd=ROOT,
    )  # fmt: skip


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    result = load({"GRAFANA_ADMIN_PASSWORD": "test-only"})
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_compose_loads_and_requires_grafana_password() -> None:
    result = load()
    assert result.returncode != 0
    assert "GRAFANA_ADMIN_PASSWORD" in result.stderr


def test_services(project: dict[str, Any]) -> None:
    assert set(project["services"]) == {
        "app", "otel-collector", "prometheus", "alertmanager", "grafana", "node-exporter", "alert-receiver",
        "model-stub",  # the demo agents' model (issue 33)
    }  # fmt: skip


def test_images_are_pinned_to_the_tested_release_lines(project: dict[str, Any]) -> None:
    v = pinned_versions()
    expected = {
        "prometheus": f"prom/prometheus:v{v['PROMETHEUS_VERSION']}",
        "alertmanager": f"prom/alertmanager:v{v['ALERTMANAGER_VERSION']}",
        "node-exporter": f"prom/node-exporter:v{v['NODE_EXPORTER_DEB'].split('-')[0]}",
        "otel-collector": f"otelcol-ccmon:{v['OTELCOL_CORE_VERSION']}",
    }
    for service, image in expected.items():
        assert project["services"][service]["image"] == image
    for name, service in project["services"].items():
        tag = service["image"].rsplit(":", 1)[-1]
        assert re.fullmatch(r"v?\d+\.\d+\.\d+", tag), (name, service["image"])
    dockerfile = (ROOT / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    assert bases and all(re.search(r":\d+\.\d+\.\d+-", b) for b in bases)
    assert re.search(r"^USER 10001$", dockerfile, re.M)


def test_manifest_and_image_share_the_collector_release() -> None:
    manifest = (ROOT / "collector/builder-config.yaml").read_text()
    core = pinned_versions()["OTELCOL_CORE_VERSION"]
    assert f"v{core}" in manifest
    minor = ".".join(core.split(".")[:2])
    upstream = re.findall(r"gomod: (?!github.com/otel-ccmon/)\S+ (v0\.\d+\.\d+)", manifest)
    assert upstream and all(v.startswith(f"v{minor}.") for v in upstream)


def test_collector_image_is_built_from_the_tested_manifest(project: dict[str, Any]) -> None:
    """The image compose runs and the binary the tests run come from one manifest and component set."""
    service = project["services"]["otel-collector"]
    assert service["build"]["context"].endswith("/collector")
    dockerfile = (ROOT / "collector" / "Dockerfile").read_text()
    core = pinned_versions()["OTELCOL_CORE_VERSION"]
    assert re.search(rf"^ARG OTELCOL_CORE_VERSION={re.escape(core)}$", dockerfile, re.M)
    assert service["build"]["args"]["OTELCOL_CORE_VERSION"] == core
    go_version = subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True, check=True).stdout
    assert re.search(rf"^ARG GO_VERSION={re.escape(go_version.strip().removeprefix('go'))}$", dockerfile, re.M)
    # the builder gets the very manifest and processor sources that bootstrap builds from
    assert "COPY builder-config.yaml ./" in dockerfile
    manifest = yaml.safe_load((ROOT / "collector/builder-config.yaml").read_text())
    ours = [
        m["path"].removeprefix("./")
        for kind in manifest.values()
        if isinstance(kind, list)
        for m in kind
        if "path" in m
    ]
    assert len(ours) == 4
    shared = [r.split("=>")[1].strip().removeprefix("./") for r in manifest.get("replaces", []) if "=> ./" in r]
    assert shared == ["ccmonattr"]  # the helpers our components share, replaced by the local folder
    for folder in (*ours, *shared):
        assert f"COPY {folder} ./{folder}" in dockerfile
    assert "RUN CGO_ENABLED=0 builder --config builder-config.yaml" in dockerfile
    # the binary built here reports the manifest's components, and its configs are in the image
    built = subprocess.run(
        [str(bin_dir() / "otelcol-ccmon"), "components"], capture_output=True, text=True, check=True
    ).stdout
    for kind in ("receivers", "processors", "exporters", "extensions", "connectors"):
        for module in manifest[kind]:
            assert module["gomod"].split()[0] in built, module["gomod"]
    copied = re.search(r"^COPY ([a-z-]+\.yaml .*) /etc/otelcol-ccmon/$", dockerfile, re.M)
    assert copied and set(copied.group(1).split()) == {p.name for p in (ROOT / "collector").glob("*.yaml")} - {
        "builder-config.yaml"
    }
    assert re.search(r"^USER 10001:10001$", dockerfile, re.M)
    assert "--config=/etc/otelcol-ccmon/firewall.yaml" in " ".join(service["command"])


def test_only_app_and_grafana_are_published_beyond_loopback(project: dict[str, Any]) -> None:
    for name, service in project["services"].items():
        for port in service.get("ports", []):
            if name in LOOPBACK_ONLY:
                assert port["host_ip"] == "127.0.0.1", (name, port)
            else:
                assert name in {"app", "grafana"}


def test_no_default_credentials_and_secrets_are_files(project: dict[str, Any]) -> None:
    grafana = project["services"]["grafana"]["environment"]
    assert grafana["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"] == "test-only"  # from the environment, no default
    text = (ROOT / "docker-compose.yml").read_text()
    assert "admin/admin" not in text and "hooks.slack.com" not in text
    for name, secret in project["secrets"].items():
        assert secret["file"] == str(ROOT / "secrets" / name)
    assert "/secrets/" in (ROOT / ".gitignore").read_text()
    assert ".env\n" in (ROOT / ".gitignore").read_text()
    am_secrets = {s["source"] for s in project["services"]["alertmanager"]["secrets"]}
    files = set(re.findall(r"/run/secrets/(\w+)", (ROOT / "alertmanager/alertmanager.yml").read_text()))
    assert files == am_secrets


def test_bind_mounts_exist_in_the_repository(project: dict[str, Any]) -> None:
    for name, service in project["services"].items():
        for volume in service.get("volumes", []):
            if volume["type"] == "bind" and volume["source"].startswith(str(ROOT)):
                assert os.path.exists(volume["source"]), (name, volume["source"])
                assert volume.get("read_only"), (name, volume["source"])


def listening_ports(project: dict[str, Any]) -> dict[str, set[int]]:
    """Container ports each service listens on, from its command or environment."""
    services = project["services"]
    out: dict[str, set[int]] = {
        "prometheus": {9090}, "alertmanager": {9093}, "grafana": {3000}, "node-exporter": {9100},
    }  # fmt: skip
    for name in ("app", "alert-receiver"):
        command = services[name]["command"]
        out[name] = {int(command[command.index("--port") + 1])}
    env = services["otel-collector"]["environment"]
    out["otel-collector"] = {
        int(env[k].rsplit(":", 1)[1])
        for k in (
            "CCMON_OTLP_GRPC_ENDPOINT",
            "CCMON_OTLP_HTTP_ENDPOINT",
            "CCMON_PROMETHEUS_EXPORTER_ENDPOINT",
            "CCMON_COLLECTOR_HEALTH_ENDPOINT",
        )
    } | {int(env["CCMON_COLLECTOR_TELEMETRY_PORT"])}
    return out


def assert_address(project: dict[str, Any], host: str, port: int, where: str) -> None:
    ports = listening_ports(project)
    assert host in ports, f"{where}: {host} is not a compose service"
    assert port in ports[host], f"{where}: {host} does not listen on {port} (it does on {ports[host]})"


def test_prometheus_targets_match_compose(project: dict[str, Any]) -> None:
    cfg = yaml.safe_load((ROOT / "prometheus/prometheus.yml").read_text())
    for job in cfg["scrape_configs"]:
        for sc in job["static_configs"]:
            for target in sc["targets"]:
                host, port = target.rsplit(":", 1)
                assert host != "localhost", job["job_name"]
                assert_address(project, host, int(port), f"prometheus job {job['job_name']}")
    for am in cfg["alerting"]["alertmanagers"]:
        for target in am["static_configs"][0]["targets"]:
            host, port = target.rsplit(":", 1)
            assert_address(project, host, int(port), "alerting")


def test_other_configs_match_compose(project: dict[str, Any]) -> None:
    app_env = project["services"]["app"]["environment"]
    otlp = urlparse(app_env["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert_address(project, otlp.hostname or "", otlp.port or 0, "app OTLP endpoint")
    for ds in yaml.safe_load((ROOT / "grafana/provisioning/datasources/datasources.yml").read_text())["datasources"]:
        url = urlparse(ds["url"])
        assert_address(project, url.hostname or "", url.port or 0, f"Grafana datasource {ds['name']}")
    am = yaml.safe_load((ROOT / "alertmanager/alertmanager.yml").read_text())
    for receiver in am["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            # the receiver's URL comes from a secret file (url_file, Alertmanager 0.26+)
            assert hook == {**hook, "url_file": "/run/secrets/alert_receiver_url"}, receiver["name"]
            assert "url" not in hook
    assert "alert_receiver_url" in project["services"]["alertmanager"]["secrets"][-1]["source"]
    documented = re.search(r"'(http://[^']+)' > secrets/alert_receiver_url", (ROOT / "docs/secrets.md").read_text())
    assert documented, "docs/secrets.md shows the receiver URL to put in the secret"
    url = urlparse(documented.group(1))
    assert_address(project, url.hostname or "", url.port or 0, "alert receiver URL (secret)")
    provider = yaml.safe_load((ROOT / "grafana/provisioning/dashboards/dashboards.yml").read_text())["providers"][0]
    mounts = {v["target"]: v["source"] for v in project["services"]["grafana"]["volumes"]}
    assert mounts[provider["options"]["path"]] == str(ROOT / "grafana/dashboards")
    collector_cmd = project["services"]["otel-collector"]["command"][0]
    mounted = {v["target"]: v["source"] for v in project["services"]["otel-collector"]["volumes"]}
    config_path = collector_cmd.split("=", 1)[1]
    directory, filename = config_path.rsplit("/", 1)
    assert os.path.exists(os.path.join(mounted[directory], filename))


def test_every_config_file_has_a_header() -> None:
    files = [
        "docker-compose.yml", "docker-compose.ha.yml", "prometheus/prometheus.yml", "prometheus/prometheus-ha.yml",
        "alertmanager/alertmanager.yml",
        "collector/config.yaml", "collector/forward-otlp.yaml", "collector/remote-write.yaml",
        "collector/remote-write-only.yaml",
        "collector/forward-logs-otlp.yaml", "collector/forward-traces-otlp.yaml", "collector/firewall.yaml",
        "collector/builder-config.yaml", "grafana/provisioning/datasources/datasources.yml",
        "grafana/provisioning/dashboards/dashboards.yml", "prometheus/rules/alerts.yml",
        "prometheus/rules/recording.yml", "prometheus/tests/alerts_test.yml", "pyproject.toml",
        "Dockerfile", ".env.example", "scripts/versions.env", "Makefile", "thanos/bucket.yml",
        "thanos/bucket-s3.example.yml", "grafana/long-term/datasources.yml",
    ]  # fmt: skip
    for f in files:
        first = (ROOT / f).read_text().splitlines()[0]
        assert first.startswith("#"), f


def test_ha_overlay_runs_two_replicas_and_a_cluster() -> None:
    """docker-compose.ha.yml over the base: the HA topology the local `ccmon stack up --ha` runs."""
    result = load({"GRAFANA_ADMIN_PASSWORD": "test-only"}, ("docker-compose.yml", "docker-compose.ha.yml"))
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    base = json.loads(load({"GRAFANA_ADMIN_PASSWORD": "test-only"}).stdout)["services"]
    thanos = {"thanos-sidecar", "thanos-sidecar-b", "thanos-store", "thanos-compact", "thanos-query"}
    assert set(services) == set(base) | {"prometheus-b", "alertmanager-b"} | thanos
    replicas = {}
    for name in ("prometheus", "prometheus-b"):
        svc = services[name]
        assert svc["image"] == base["prometheus"]["image"]
        assert "--config.file=/etc/prometheus/prometheus-ha.yml" in svc["command"]
        assert "--enable-feature=expand-external-labels" in svc["command"]
        replicas[name] = svc["environment"]["PROMETHEUS_REPLICA"]
    assert sorted(replicas.values()) == ["prometheus-0", "prometheus-1"]
    ha = yaml.safe_load((ROOT / "prometheus/prometheus-ha.yml").read_text())
    targets = {t for am in ha["alerting"]["alertmanagers"] for sc in am["static_configs"] for t in sc["targets"]}
    assert targets == {"alertmanager:9093", "alertmanager-b:9093"}
    for name, peer in (("alertmanager", "alertmanager-b"), ("alertmanager-b", "alertmanager")):
        svc = services[name]
        assert svc["image"] == base["alertmanager"]["image"]
        assert f"--cluster.peer={peer}:9094" in svc["command"]
        assert {s["source"] for s in svc["secrets"]} == {s["source"] for s in base["alertmanager"]["secrets"]}
    for name in ("prometheus-b", "alertmanager-b", "thanos-query"):
        host = {p["host_ip"] for p in services[name]["ports"]}
        assert host == {"127.0.0.1"}, name


def test_ha_overlay_runs_the_long_term_tier() -> None:
    """The Thanos tier of docker-compose.ha.yml: pinned like the local build, each sidecar beside the
    data of its replica, Query fanning out to every store, the compactor's retention the settings'."""
    result = load({"GRAFANA_ADMIN_PASSWORD": "test-only"}, ("docker-compose.yml", "docker-compose.ha.yml"))
    services = json.loads(result.stdout)["services"]
    version = pinned_versions()["THANOS_VERSION"]
    for name in ("thanos-sidecar", "thanos-sidecar-b", "thanos-store", "thanos-compact", "thanos-query"):
        assert services[name]["image"] == f"quay.io/thanos/thanos:v{version}", name
    for sidecar, prometheus in (("thanos-sidecar", "prometheus"), ("thanos-sidecar-b", "prometheus-b")):
        cmd = services[sidecar]["command"]
        assert f"--prometheus.url=http://{prometheus}:9090" in cmd
        data = {v["source"] for v in services[sidecar]["volumes"] if v["target"] == "/prometheus"}
        assert data == {v["source"] for v in services[prometheus]["volumes"] if v["target"] == "/prometheus"}
        prom_cmd = services[prometheus]["command"]
        assert "--storage.tsdb.min-block-duration=2h" in prom_cmd and "--storage.tsdb.max-block-duration=2h" in prom_cmd
    query = services["thanos-query"]["command"]
    assert {c for c in query if c.startswith("--endpoint=")} == {
        "--endpoint=thanos-sidecar:10901", "--endpoint=thanos-sidecar-b:10901", "--endpoint=thanos-store:10901"
    }  # fmt: skip
    assert "--query.replica-label=replica" in query
    lt = yaml.safe_load((ROOT / "mixin/settings.yml").read_text())["long_term"]
    compact = services["thanos-compact"]["command"]
    for res in ("raw", "5m", "1h"):
        assert f"--retention.resolution-{res}={lt[f'retention_{res}']}" in compact
    for name in ("thanos-sidecar", "thanos-store", "thanos-compact"):
        assert "--objstore.config-file=/run/secrets/thanos_objstore" in services[name]["command"]
    grafana = {v["source"].rsplit("/", 2)[-2] + "/" + v["source"].rsplit("/", 1)[-1]: v["target"]
               for v in services["grafana"]["volumes"] if v["type"] == "bind"}  # fmt: skip
    assert grafana["long-term/datasources.yml"] == "/etc/grafana/provisioning/datasources/datasources.yml"
    ds = yaml.safe_load((ROOT / "grafana/long-term/datasources.yml").read_text())["datasources"]
    assert ds[0]["uid"] == "ccmon-prometheus" and ds[0]["url"] == "http://thanos-query:10902"


def test_secure_overlay_mounts_every_file_its_configs_read() -> None:
    """docker-compose.secure.yml: each /run/secrets path a secured config reads is a secret of that
    service, and no secret value is inline (the token comes from .env, the rest from files)."""
    env = {"GRAFANA_ADMIN_PASSWORD": "test-only", "CCMON_OTLP_TOKEN": "from-dotenv"}
    result = load(env, ("docker-compose.yml", "docker-compose.secure.yml"))
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    missing = load({"GRAFANA_ADMIN_PASSWORD": "x"}, ("docker-compose.yml", "docker-compose.secure.yml"))
    assert missing.returncode != 0 and "CCMON_OTLP_TOKEN" in missing.stderr

    def mounted(service: str) -> set[str]:
        return {f"/run/secrets/{s['source']}" for s in services[service].get("secrets", [])}

    def paths(text: str) -> set[str]:
        return set(re.findall(r"/run/secrets/[\w.]+", text))

    reads = {
        "otel-collector": paths((ROOT / "collector/secure.yaml").read_text()),
        "prometheus": paths((ROOT / "prometheus/prometheus-secure.yml").read_text())
        | paths(" ".join(services["prometheus"]["command"])),
        "alertmanager": paths(" ".join(services["alertmanager"]["command"]))
        | paths((ROOT / "alertmanager/alertmanager.yml").read_text()),
        "grafana": paths((ROOT / "grafana/secure/datasources.yml").read_text()),
        "app": {services["app"]["environment"]["OTEL_EXPORTER_OTLP_CERTIFICATE"]},
    }  # fmt: skip
    for service, needed in reads.items():
        assert needed and needed <= mounted(service), (service, needed - mounted(service))
    assert "--config=/etc/otelcol-ccmon/secure.yaml" in services["otel-collector"]["command"]
    assert services["app"]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"].startswith("https://")
    # web config: TLS files and the password's hash come from `ccmon security init` (docs/security.md)
    assert "ccmon security init" in (ROOT / "docs/security.md").read_text()


def test_traces_overlay_adds_jaeger_fed_by_the_collector() -> None:
    """docker-compose.traces.yml: Jaeger (the v2 release of the module the tests build) with the
    repository's config, the collector forwarding traces to it, Grafana's Jaeger datasource."""
    result = load({"GRAFANA_ADMIN_PASSWORD": "test-only"}, ("docker-compose.yml", "docker-compose.traces.yml"))
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    jaeger = services["jaeger"]
    assert jaeger["image"] == "jaegertracing/jaeger:2.12.0" and pinned_versions()["JAEGER_VERSION"] == "1.75.0"
    assert {p["host_ip"] for p in jaeger["ports"]} == {"127.0.0.1"}
    collector = services["otel-collector"]
    assert "--config=/etc/otelcol-ccmon/forward-traces-otlp.yaml" in collector["command"]
    config = yaml.safe_load((ROOT / "jaeger" / "config.yaml").read_text())
    otlp_http = config["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    assert collector["environment"]["CCMON_FORWARD_TRACES_OTLP_ENDPOINT"] == "http://jaeger:" + otlp_http.split(":-")[
        -1
    ].rstrip("}")
    mounts = {v["target"]: v["source"] for v in services["grafana"]["volumes"]}
    source = mounts["/etc/grafana/provisioning/datasources/jaeger.yml"]
    datasources = yaml.safe_load(Path(source).read_text())
    assert {d["type"]: d["url"] for d in datasources["datasources"]} == {"jaeger": "http://jaeger:16686"}
