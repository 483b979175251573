"""The local stack's configuration: what runs where (:class:`StackConfig`) and the default ports.

Read by :mod:`otel_ccmon.devstack.components` (each component's argv and environment are made from
it) and :mod:`otel_ccmon.devstack.stack` (which renders the config files and runs the components);
it imports neither, so neither imports the other back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from otel_ccmon.devstack.procs import free_ports
from otel_ccmon.devstack.repo import find_repo
from otel_ccmon.devstack.state import TLS_PORTS

DEFAULT_PORTS: Mapping[str, int] = {
    "app": 3000,
    "otlp_grpc": 4317,
    "otlp_http": 4318,
    "collector_telemetry": 8888,
    "collector_prometheus": 8889,
    "collector_health": 13133,
    "prometheus": 9090,
    "alertmanager": 9093,
    "receiver": 9095,
    "node_exporter": 9100,
    "sink_http": 9097,
    "sink_smtp": 9025,
    "model_stub": 9098,
}
HA_PORTS: Mapping[str, int] = {
    "prometheus_b": 9190,
    "alertmanager_b": 9193,
    "alertmanager_cluster": 9094,
    "alertmanager_b_cluster": 9194,
    # the Thanos tier (Thanos's own defaults are 10901 gRPC / 10902 HTTP for every component)
    "thanos_sidecar": 10902,
    "thanos_sidecar_grpc": 10901,
    "thanos_sidecar_b": 10912,
    "thanos_sidecar_b_grpc": 10911,
    "thanos_store": 10906,
    "thanos_store_grpc": 10905,
    "thanos_compact": 10908,
    "thanos_query": 10904,
    "thanos_query_grpc": 10903,
}
"""Ports of the high-availability mode (`ccmon stack up --ha`): the second replicas, the gossip, Thanos."""


@dataclass(frozen=True)
class StackConfig:
    """What to run where. Tests use free ports and short intervals; ``ccmon stack`` the defaults."""

    workdir: Path
    repo: Path = field(default_factory=find_repo)
    ports: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    # the components to start (names of devstack.components); None: the base tier, as `make run`
    components: tuple[str, ...] | None = None
    scrape_interval: str = "5s"
    evaluation_interval: str = "5s"
    export_interval_ms: int = 2000
    resend_delay: str = "1m"
    collector_overlays: tuple[str, ...] = ()
    collector_configs: tuple[Path, ...] = ()  # replaces config.yaml + firewall.yaml (benchmarks)
    collector_env: Mapping[str, str] = field(default_factory=dict)
    app_args: tuple[str, ...] = ()
    app_env: Mapping[str, str] = field(default_factory=dict)
    rules_dir: Path | None = None  # a transformed copy of prometheus/rules (tests)
    alertmanager_timing: Mapping[str, str] | None = None  # group_wait etc. overrides (tests)
    die_with_parent: bool = True  # children stop when this process dies (not for --detach)
    claude_code_team: bool = False  # the demo app also runs a simulated Claude Code team (make run)
    direct_otlp: bool = False  # the app pushes OTLP to Prometheus's own receiver (no collector needed)
    # the collector remote-writes its metrics into Prometheus instead of being scraped (remote-write-only.yaml)
    push_metrics: bool = False
    ha: bool = False  # two Prometheus replicas, two clustered Alertmanagers (prometheus-ha.yml)
    receiver_db: Path | None = None  # the receiver's SQLite file (default: in the workdir)
    secure: bool = False  # TLS + token on OTLP, TLS + basic auth on Prometheus/Alertmanager (docs/security.md)
    # the Thanos tier of the HA mode (docs/long-term.md)
    objstore_config: Path | None = None  # the bucket (Thanos objstore YAML); default: a folder in the workdir
    block_duration: str = "2h"  # Prometheus's block length: what the sidecar ships, and how late
    local_retention: str = "15d"  # Prometheus's own retention; older data comes from the bucket
    retention: tuple[str, str, str] | None = None  # raw, 5m, 1h; default: mixin/settings.yml long_term
    thanos_sync_interval: str = "3m"  # how often the store gateway and the compactor read the bucket
    thanos_consistency_delay: str = "30m"  # the compactor leaves younger blocks alone (partial uploads)
    thanos_delete_delay: str = "48h"  # blocks the compactor replaced are deleted this much later

    @classmethod
    def with_free_ports(cls, workdir: Path, **kwargs: Any) -> StackConfig:
        keys = [*DEFAULT_PORTS, *HA_PORTS]
        return cls(workdir=workdir, ports=dict(zip(keys, free_ports(len(keys)), strict=True)), **kwargs)

    def url(self, component: str, path: str = "") -> str:
        scheme = "https" if self.secure and component in TLS_PORTS else "http"
        return f"{scheme}://127.0.0.1:{self.ports[component]}{path}"
