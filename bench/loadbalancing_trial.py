"""The contrib `loadbalancing` exporter (v0.161.0) against our `gatewayroute`, on the gateway tier's
failover case (docs/pipeline.md): 12 services through one agent to two gateways (our collector),
each service's counter pushed every 0.3 s; which gateway holds which service; then ``kill -9`` of
gateway-a under load and, 20 pushes later, which of its services moved to gateway-b.

    .venv/bin/python -m bench.loadbalancing_trial      # builds the trial collector first (~5 min cold)

Measured (December 2026, 2 cores, two runs): sticky (8/4 and 4/8 services per gateway, none on
both); after the kill, none of gateway-a's services moved to gateway-b in 20 pushes (static
resolver: the ring keeps the dead gateway), while `gatewayroute` moves them within its 3 s
quarantine (tests/e2e/test_gateway_tier.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from otel_ccmon.devstack.procs import free_ports, wait_for
from tests.e2e.test_gateway_tier import SERVICES, Tier, start_gateway
from tests.otlp_payloads import counter_request
from tests.support import ROOT, Procs

KEYS = ("grpc", "http", "exporter", "health", "telemetry")
MANIFEST = ROOT / "collector" / "trials" / "loadbalancing-v0.161.0.yaml"
CACHE = Path.home() / ".cache" / "otel-ccmon" / "trials"


def build() -> Path:
    binary = CACHE / "otelcol-lb-trial"
    if binary.exists():
        return binary
    CACHE.mkdir(parents=True, exist_ok=True)
    gobin = CACHE / "gobin"
    subprocess.run(["go", "install", "go.opentelemetry.io/collector/cmd/builder@v0.161.0"],
                   env={**os.environ, "GOBIN": str(gobin)}, check=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(MANIFEST, Path(tmp) / "builder.yaml")
        subprocess.run([str(gobin / "builder"), "--config", "builder.yaml"], cwd=tmp, check=True)
        shutil.move(str(Path(tmp) / "_build" / "otelcol-lb-trial"), binary)
    return binary


def holdings(gateways: dict[str, dict[str, int]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name, ports in gateways.items():
        try:
            text = httpx.get(f"http://127.0.0.1:{ports['exporter']}/metrics", timeout=3).text
        except httpx.HTTPError:
            out[name] = {}
            continue
        out[name] = {
            line.split('job="')[1].split('"')[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("neural_operations_total{")
        }
    return out


def main() -> dict[str, object]:
    binary = build()
    with tempfile.TemporaryDirectory(prefix="ccmon-lb-") as tmp:
        work = Path(tmp)
        ports = iter(free_ports(2 * len(KEYS) + 3))
        gateways = {g: {k: next(ports) for k in KEYS} for g in ("gateway-a", "gateway-b")}
        tier = Tier(gateways, {}, 0, Procs(work), work=work)
        lb_http, lb_grpc, lb_tel = next(ports), next(ports), next(ports)
        hostnames = [f"127.0.0.1:{p['grpc']}" for p in gateways.values()]
        config = {
            "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"127.0.0.1:{lb_grpc}"},
                                                  "http": {"endpoint": f"127.0.0.1:{lb_http}"}}}},
            "exporters": {"loadbalancing": {"routing_key": "service",
                                            "protocol": {"otlp": {"tls": {"insecure": True}, "timeout": "2s"}},
                                            "resolver": {"static": {"hostnames": hostnames}}}},
            "service": {
                "telemetry": {"metrics": {"readers": [{"pull": {"exporter": {"prometheus": {
                    "host": "127.0.0.1", "port": lb_tel}}}}]}},
                "pipelines": {"metrics": {"receivers": ["otlp"], "exporters": ["loadbalancing"]}},
            },
        }  # fmt: skip
        (work / "lb.yaml").write_text(yaml.safe_dump(config))
        try:
            for name in gateways:
                start_gateway(tier, name, work)
            tier.procs.start("agent-lb", [str(binary), "--config", str(work / "lb.yaml")], {})
            wait_for(lambda: httpx.get(f"http://127.0.0.1:{lb_tel}/metrics").status_code == 200, 30, "the agent")
            start, value = time.time_ns(), 0.0

            def push(rounds: int) -> None:
                nonlocal value
                for _ in range(rounds):
                    value += 1
                    for service in SERVICES:
                        body = counter_request({"service.name": service}, "neural.operations", "operation_type",
                                               ["learning"], start, time.time_ns(), value)  # fmt: skip
                        httpx.post(f"http://127.0.0.1:{lb_http}/v1/metrics", content=body,
                                   headers={"content-type": "application/x-protobuf"}, timeout=5)  # fmt: skip
                    time.sleep(0.3)  # the services' export interval

            push(10)
            wait_for(lambda: sum(len(v) for v in holdings(gateways).values()) == len(SERVICES), 30, "every service")
            before = holdings(gateways)
            tier.started["gateway-a"].kill9()
            push(20)
            after = holdings(gateways)
        finally:
            tier.procs.close()
    moved = sorted(set(before["gateway-a"]) & set(after["gateway-b"]))
    return {
        "services_per_gateway": {g: len(v) for g, v in before.items()},
        "on_both": sorted(set(before["gateway-a"]) & set(before["gateway-b"])),
        "a_services_moved_to_b_after_kill": moved,
        "a_services": len(before["gateway-a"]),
    }


if __name__ == "__main__":
    print(json.dumps(main()))
