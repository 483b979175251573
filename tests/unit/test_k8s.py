"""The Kubernetes manifests (kubernetes/, `make k8s`) are current and miss nothing: every alert,
recording rule, scrape job, dashboard and collector config of the repository is in them."""

from __future__ import annotations

from typing import Any

import yaml

from mixin import generate, k8s
from tests.support import ROOT, pinned_versions


def manifests() -> list[dict[str, Any]]:
    return [d for p in sorted((ROOT / "kubernetes").glob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in manifests() if d["kind"] == kind]


def test_committed_manifests_are_current() -> None:
    generated = generate.k8s_outputs(ROOT)
    assert {p.name for p in generated} == {p.name for p in (ROOT / "kubernetes").glob("*.yaml")}
    for path, content in generated.items():
        assert path.read_text() == content, f"run `make k8s` ({path.name})"


def rules_in(path: str, key: str) -> set[str]:
    groups = yaml.safe_load((ROOT / path).read_text())["groups"]
    return {r[key] for g in groups for r in g["rules"] if key in r}


def test_every_alert_and_recording_rule_is_a_prometheus_rule() -> None:
    groups = [g for d in of_kind("PrometheusRule") for g in d["spec"]["groups"]]
    alerts = {r["alert"] for g in groups for r in g["rules"] if "alert" in r}
    records = {r["record"] for g in groups for r in g["rules"] if "record" in r}
    assert alerts == rules_in("prometheus/rules/alerts.yml", "alert")
    expected = rules_in("prometheus/rules/recording.yml", "record") | rules_in(
        "prometheus/rules/services.yml", "record"
    )
    assert records == expected
    exprs = {r["alert"]: r["expr"] for g in groups for r in g["rules"] if "alert" in r}
    source_groups = yaml.safe_load((ROOT / "prometheus/rules/alerts.yml").read_text())["groups"]
    source = {r["alert"]: r["expr"] for g in source_groups for r in g["rules"]}
    assert exprs == source


def test_every_scrape_job_has_a_service_monitor_with_its_job_label() -> None:
    # every job of the HA configuration: the base jobs and the Thanos tier's
    jobs = {
        j["job_name"]: j for j in yaml.safe_load((ROOT / "prometheus/prometheus-ha.yml").read_text())["scrape_configs"]
    }
    monitors = {}
    for sm in of_kind("ServiceMonitor"):
        (endpoint,) = sm["spec"]["endpoints"]
        job = next(r["replacement"] for r in endpoint["relabelings"] if r["targetLabel"] == "job")
        monitors[job] = endpoint
    assert set(monitors) == set(jobs)
    assert monitors["app-metrics"].get("honorLabels") is True  # job/instance of each app, as in prometheus.yml
    assert monitors["claude-code-app"]["metricRelabelings"][0]["action"] == "drop"


def test_dashboards_alertmanager_and_collector_are_in() -> None:
    dashboards = {
        k for d in of_kind("ConfigMap") if d["metadata"]["labels"].get("grafana_dashboard") == "1" for k in d["data"]
    }
    assert dashboards == {p.name for p in (ROOT / "grafana/dashboards").glob("*.json")}
    (secret,) = [d for d in of_kind("Secret") if d["metadata"]["name"] == "otel-ccmon-alertmanager"]
    am = yaml.safe_load(secret["stringData"]["alertmanager.yaml"])
    source = yaml.safe_load((ROOT / "alertmanager/alertmanager.yml").read_text())
    assert [r["name"] for r in am["receivers"]] == [r["name"] for r in source["receivers"]]
    assert "/run/secrets/" not in secret["stringData"]["alertmanager.yaml"]
    assert f"/etc/alertmanager/secrets/{k8s.AM_SECRETS}/" in secret["stringData"]["alertmanager.yaml"]
    (collector_cm,) = [d for d in of_kind("ConfigMap") if d["metadata"]["name"] == "otel-ccmon-collector"]
    for name in ("config.yaml", "firewall.yaml", "agent.yaml"):
        assert collector_cm["data"][name] == (ROOT / "collector" / name).read_text()
    kinds = {(d["kind"], d["metadata"]["name"]) for d in manifests()}
    assert {
        ("DaemonSet", "otel-ccmon-agent"),
        ("StatefulSet", "otel-ccmon-gateway"),
        ("Service", "otel-ccmon-gateway"),
    } <= kinds
    images = {
        c["image"]
        for d in of_kind("DaemonSet") + of_kind("StatefulSet") + of_kind("Deployment")
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert k8s.COLLECTOR_IMAGE in images  # our distribution, the image collector/Dockerfile builds


def test_agents_list_every_gateway_of_the_statefulset() -> None:
    (gateways,) = [s for s in of_kind("StatefulSet") if s["metadata"]["name"] == "otel-ccmon-gateway"]
    (agents,) = of_kind("DaemonSet")
    env = {e["name"]: e.get("value") for e in agents["spec"]["template"]["spec"]["containers"][0]["env"]}
    listed = yaml.safe_load(env["CCMON_GATEWAY_ENDPOINTS"])
    replicas = gateways["spec"]["replicas"]
    assert replicas >= 2 and len(listed) == replicas
    for i, url in enumerate(listed):
        assert url.startswith(f"http://otel-ccmon-gateway-{i}.{gateways['spec']['serviceName']}.")


def test_long_term_tier_is_the_ha_pair_with_thanos() -> None:
    """kubernetes/long-term.yaml: the Prometheus CR of two replicas with the operator's Thanos sidecar
    (bucket config from the Secret), store gateway and one compactor with the settings' retention,
    Query fanning out to the sidecars and the store gateway, Grafana's datasource on Query."""
    docs = [d for d in yaml.safe_load_all((ROOT / "kubernetes/long-term.yaml").read_text()) if d]
    by = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    versions = pinned_versions()
    prom = by[("Prometheus", "otel-ccmon")]["spec"]
    assert prom["replicas"] == 2 and prom["replicaExternalLabelName"] == "replica"
    assert prom["thanos"]["objectStorageConfig"] == {"name": "thanos-objstore", "key": "objstore.yml"}
    assert prom["thanos"]["image"].endswith(f":v{versions['THANOS_VERSION']}")
    assert prom["version"] == f"v{versions['PROMETHEUS_VERSION']}"
    assert "objstore.yml" in by[("Secret", "thanos-objstore")]["stringData"]
    compact = by[("StatefulSet", "thanos-compact")]["spec"]
    assert compact["replicas"] == 1
    args = compact["template"]["spec"]["containers"][0]["args"]
    lt = yaml.safe_load((ROOT / "mixin/settings.yml").read_text())["long_term"]
    for res in ("raw", "5m", "1h"):
        assert f"--retention.resolution-{res}={lt[f'retention_{res}']}" in args
    query = by[("Deployment", "thanos-query")]["spec"]["template"]["spec"]["containers"][0]["args"]
    endpoints = {a.split("_tcp.")[1].split(".")[0] for a in query if a.startswith("--endpoint=dnssrv+_grpc._tcp.")}
    assert endpoints == {"thanos-sidecar", "thanos-store"} and "--query.replica-label=replica" in query
    for name in ("thanos-sidecar", "thanos-store", "thanos-query"):
        ports = {p["name"]: p["port"] for p in by[("Service", name)]["spec"]["ports"]}
        assert ports["grpc"] == 10901 and ports["http"] == 10902, name
    datasource = by[("ConfigMap", "otel-ccmon-grafana-datasource")]
    assert datasource["metadata"]["labels"]["grafana_datasource"] == "1"
    assert "url: http://thanos-query.otel-ccmon.svc.cluster.local:10902" in datasource["data"]["datasources.yml"]
