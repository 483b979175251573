"""Agent -> gateway tier on the real binaries: 2 agents (collector/agent.yaml, gatewayroute
exporter) -> 2 gateways (config.yaml + firewall.yaml) -> Prometheus.

Counters arrive exactly; every service lands on one gateway (the gateways' own per-service guard
metrics show it); ``kill -9`` of a gateway under load: the agents fail over and, for cumulative
counters, nothing is lost (measured: the last value sent per service is the last value in
Prometheus).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from otel_ccmon.devstack.procs import free_ports, wait_for
from otel_ccmon.devstack.repo import bin_dir
from tests.otlp_payloads import attribute
from tests.support import ROOT, Procs

SERVICES = [f"svc-{i:02d}" for i in range(12)]


@dataclass
class Tier:
    gateways: dict[str, dict[str, int]]
    agents: dict[str, dict[str, int]]
    prometheus: int
    procs: Procs
    work: Path
    started: dict[str, Any] = field(default_factory=dict)

    def query(self, expr: str) -> list[dict[str, Any]]:
        body = httpx.get(f"http://127.0.0.1:{self.prometheus}/api/v1/query", params={"query": expr}).json()
        result: list[dict[str, Any]] = body["data"]["result"]
        return result


def collector_env(ports: dict[str, int], storage: Path) -> dict[str, str]:
    storage.mkdir(parents=True, exist_ok=True)
    return {
        "CCMON_OTLP_GRPC_ENDPOINT": f"127.0.0.1:{ports['grpc']}",
        "CCMON_OTLP_HTTP_ENDPOINT": f"127.0.0.1:{ports['http']}",
        "CCMON_PROMETHEUS_EXPORTER_ENDPOINT": f"127.0.0.1:{ports['exporter']}",
        "CCMON_COLLECTOR_HEALTH_ENDPOINT": f"127.0.0.1:{ports['health']}",
        "CCMON_COLLECTOR_TELEMETRY_HOST": "127.0.0.1",
        "CCMON_COLLECTOR_TELEMETRY_PORT": str(ports["telemetry"]),
        "CCMON_COLLECTOR_STORAGE_DIR": str(storage),
    }


def healthy(port: int) -> bool:
    return httpx.get(f"http://127.0.0.1:{port}/").status_code == 200


def start_gateway(tier: Tier, name: str, work: Path) -> None:
    argv = [str(bin_dir(ROOT) / "otelcol-ccmon")]
    for config in ("config.yaml", "firewall.yaml"):
        argv += ["--config", str(ROOT / "collector" / config)]
    ports = tier.gateways[name]
    tier.started[name] = tier.procs.start(name, argv, collector_env(ports, work / name))
    wait_for(functools.partial(healthy, ports["health"]), 30, f"{name} healthy")


def start_agent(tier: Tier, name: str, work: Path) -> None:
    endpoints = "[" + ", ".join(f"http://127.0.0.1:{p['http']}" for p in tier.gateways.values()) + "]"
    ports = tier.agents[name]
    env = {**collector_env(ports, work / name), "CCMON_GATEWAY_ENDPOINTS": endpoints, "CCMON_GATEWAY_QUARANTINE": "3s"}
    argv = [str(bin_dir(ROOT) / "otelcol-ccmon"), "--config", str(ROOT / "collector" / "agent.yaml")]
    tier.started[name] = tier.procs.start(name, argv, env)
    wait_for(functools.partial(healthy, ports["health"]), 30, f"{name} healthy")


@pytest.fixture
def tier(tmp_path: Path) -> Iterator[Tier]:
    keys = ("grpc", "http", "exporter", "health", "telemetry")
    ports = iter(free_ports(4 * len(keys) + 1))
    gateways = {g: {k: next(ports) for k in keys} for g in ("gateway-a", "gateway-b")}
    agents = {a: {k: next(ports) for k in keys} for a in ("agent-0", "agent-1")}
    t = Tier(gateways, agents, next(ports), Procs(tmp_path), work=tmp_path)
    try:
        for name in gateways:
            start_gateway(t, name, tmp_path)
        for name in agents:
            start_agent(t, name, tmp_path)
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
            "scrape_configs": [
                {
                    "job_name": "app-metrics",
                    "honor_labels": True,
                    "static_configs": [{"targets": [f"127.0.0.1:{p['exporter']}" for p in gateways.values()]}],
                },
                {
                    "job_name": "otel-collector",
                    "static_configs": [
                        {"targets": [f"127.0.0.1:{p['telemetry']}"], "labels": {"tier": name}}
                        for name, p in {**gateways, **agents}.items()
                    ],
                },
            ],
        }
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
        t.procs.start(
            "prometheus",
            [
                str(bin_dir(ROOT) / "prometheus"), f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'prom-data'}", f"--web.listen-address=127.0.0.1:{t.prometheus}",
            ],
        )  # fmt: skip
        wait_for(lambda: httpx.get(f"http://127.0.0.1:{t.prometheus}/-/ready").status_code == 200, 30, "Prometheus")
        yield t
    finally:
        t.procs.close()


def push(tier: Tier, service: str, value: float) -> None:
    """A cumulative counter of ``service`` through its agent (services alternate between agents)."""
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
    from opentelemetry.proto.metrics.v1 import metrics_pb2
    from opentelemetry.proto.resource.v1.resource_pb2 import Resource

    now = time.time_ns()
    point = metrics_pb2.NumberDataPoint(
        attributes=[attribute("operation_type", "learning")],
        start_time_unix_nano=1,
        time_unix_nano=now,
        as_double=value,
    )
    metric = metrics_pb2.Metric(
        name="neural.operations",
        sum=metrics_pb2.Sum(
            data_points=[point],
            aggregation_temporality=metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE,
            is_monotonic=True,
        ),
    )
    request = ExportMetricsServiceRequest(
        resource_metrics=[
            metrics_pb2.ResourceMetrics(
                resource=Resource(attributes=[attribute("service.name", service)]),
                scope_metrics=[metrics_pb2.ScopeMetrics(metrics=[metric])],
            )
        ]
    )
    agent = tier.agents[f"agent-{SERVICES.index(service) % 2}"]
    response = httpx.post(
        f"http://127.0.0.1:{agent['http']}/v1/metrics",
        content=request.SerializeToString(),
        headers={"content-type": "application/x-protobuf"},
    )
    response.raise_for_status()


def last_values(tier: Tier) -> dict[str, float]:
    return {r["metric"]["job"]: float(r["value"][1]) for r in tier.query("neural_operations_total")}


def gateway_of_service(tier: Tier) -> dict[str, set[str]]:
    """From the gateways' own telemetry: which gateway holds streams of each service."""
    out: dict[str, set[str]] = {}
    for r in tier.query('otelcol_ccmon_guard_active_streams{tier=~"gateway-.*"} > 0'):
        out.setdefault(r["metric"]["service"], set()).add(r["metric"]["tier"])
    return out


def test_sticky_exact_and_failover_without_loss(tier: Tier) -> None:
    for step in range(1, 4):
        for service in SERVICES:
            push(tier, service, step)
    wait_for(lambda: last_values(tier) == dict.fromkeys(SERVICES, 3.0), 30, "every service's counter, exact")

    def placed() -> dict[str, set[str]] | None:
        found = gateway_of_service(tier)
        return found if set(found) >= set(SERVICES) else None

    placement = wait_for(placed, 30, "guard streams per gateway")
    assert all(len(placement[s]) == 1 for s in SERVICES), placement  # one gateway per service
    used = {next(iter(placement[s])) for s in SERVICES}
    assert used == {"gateway-a", "gateway-b"}, "rendezvous hashing spreads services over both gateways"

    # load continues while gateway-a is killed: its services fail over to gateway-b
    victims = [s for s in SERVICES if placement[s] == {"gateway-a"}]
    sent: dict[str, float] = {}
    stop = threading.Event()

    def load() -> None:
        step = 3
        while not stop.is_set():
            step += 1
            for service in SERVICES:
                push(tier, service, step)
                sent[service] = step
            time.sleep(0.1)  # the load's pace, not a synchronisation

    loader = threading.Thread(target=load)
    loader.start()
    try:
        time.sleep(1)  # load before the crash
        tier.started["gateway-a"].kill9()
        time.sleep(3)  # load during the outage and the failover
    finally:
        stop.set()
        loader.join()
    # cumulative counters lose nothing: the last value sent is the last value in Prometheus
    wait_for(lambda: last_values(tier) == sent, 60, "the last values of every service after the failover")

    def failed_over() -> dict[str, set[str]] | None:
        found = gateway_of_service(tier)
        return found if all("gateway-b" in found.get(s, set()) for s in victims) else None

    moved = wait_for(failed_over, 30, "the failed gateway's services on the survivor")
    assert all(moved[s] == {"gateway-b"} for s in SERVICES if s not in victims)  # the others did not move
    routed = {
        (r["metric"]["endpoint"], r["metric"]["outcome"])
        for r in tier.query('otelcol_ccmon_route_items{tier=~"agent-.*"} > 0')
    }
    assert any(outcome == "failed" for _, outcome in routed), "the agents saw the failure and failed over"


def test_agent_killed_under_load_counters_exact_after_its_restart(tier: Tier) -> None:
    """Chaos for the agent tier (issue 23): ``kill -9`` of an agent while its services push. Its
    services' exports are refused while it is down (an SDK retries, then drops that export); what
    the agent had accepted sits in its persistent queue; after the restart (the supervisor's job,
    done here as an operator would) the next cumulative export makes every counter exact again.
    The other agent's services are not touched."""
    for service in SERVICES:
        push(tier, service, 1)
    wait_for(lambda: last_values(tier) == dict.fromkeys(SERVICES, 1.0), 30, "every service's counter, exact")
    sent: dict[str, float] = {}
    refused: dict[str, int] = dict.fromkeys(SERVICES, 0)
    stop = threading.Event()

    def load() -> None:
        step = 1
        while not stop.is_set():
            step += 1
            for service in SERVICES:
                try:
                    push(tier, service, step)
                except httpx.TransportError:
                    refused[service] += 1  # the agent is down: this export is lost, the next one covers it
                else:
                    sent[service] = step
            time.sleep(0.1)  # the load's pace, not a synchronisation

    loader = threading.Thread(target=load)
    loader.start()
    try:
        wait_for(lambda: len(sent) == len(SERVICES), 30, "load on every service")
        tier.started["agent-0"].kill9()
        wait_for(lambda: refused[SERVICES[0]] >= 3, 30, "exports refused while agent-0 is down")
        last_before_restart = sent[SERVICES[0]]
        start_agent(tier, "agent-0", tier.work)
        wait_for(lambda: sent[SERVICES[0]] > last_before_restart, 30, "agent-0's services accepted again")
    finally:
        stop.set()
        loader.join()
    wait_for(lambda: last_values(tier) == sent, 60, "the last value of every service after the agent's restart")
    on_agent_0 = {s for s in SERVICES if SERVICES.index(s) % 2 == 0}
    assert all(refused[s] > 0 for s in on_agent_0), refused
    assert all(refused[s] == 0 for s in SERVICES if s not in on_agent_0), "agent-1's services were not touched"
