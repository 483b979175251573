"""The local stack's components as data: one entry per process (argv, environment, readiness,
data folder, ports), in start order. Adding a component is adding an entry to ``COMPONENTS``.

:mod:`otel_ccmon.devstack.stack` renders the config files these argv point at and runs the
entries; the tiers say which entries a mode starts (``base`` always, ``ha`` with ``--ha``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from otel_ccmon._durations import duration_seconds
from otel_ccmon._identity import KEY_ENV, stack_key
from otel_ccmon._meta import DEMO_SERVICE_NAME
from otel_ccmon.devstack import sizing
from otel_ccmon.devstack.config import StackConfig

COLLECTOR_CONFIGS = ("config.yaml", "firewall.yaml")
"""The collector's base configuration: the overlays (forward, remote write) add to these."""
REPLICA_LABEL = "replica"
"""The external label that tells the two Prometheus replicas apart; Thanos Query and the compactor
deduplicate on it (prometheus-ha.yml sets it from $PROMETHEUS_REPLICA)."""
RETENTION_DEFAULT = ("30d", "180d", "2y")
"""Thanos compactor retention per resolution (raw, 5m, 1h) when mixin/settings.yml has no `long_term`."""


@dataclass(frozen=True)
class Context:
    """What a component's argv and environment are made from."""

    cfg: StackConfig
    bin: Path
    work: Path
    otlp_credentials: Callable[[], dict[str, str]]
    """The standard OTel variables by which an app authenticates to the secured collector."""

    def port(self, key: str) -> int:
        return self.cfg.ports[key]

    def listen(self, key: str) -> str:
        return f"127.0.0.1:{self.cfg.ports[key]}"


def _no_env(_ctx: Context) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Component:
    """One process of the stack."""

    name: str
    tier: str  # "base": every stack; "ha": `ccmon stack up --ha` (replicas and the Thanos tier)
    ports: tuple[str, ...]  # keys of StackConfig.ports it binds (the first serves readiness)
    ready_path: str
    argv: Callable[[Context], list[str]]
    env: Callable[[Context], dict[str, str]] = field(default=_no_env)
    data: str | None = None  # its data folder in the workdir, created before it starts


def venv_bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


# -- the collector -----------------------------------------------------------------------------------
def _collector_argv(ctx: Context) -> list[str]:
    cfg = ctx.cfg
    argv = [str(ctx.bin / "otelcol-ccmon")]
    for config in cfg.collector_configs or tuple(cfg.repo / "collector" / c for c in COLLECTOR_CONFIGS):
        argv += ["--config", str(config)]
    pushed = ("remote-write-only.yaml",) if cfg.push_metrics else ()
    for overlay in (*cfg.collector_overlays, *pushed, *(("secure.yaml",) if cfg.secure else ())):
        argv += ["--config", str(cfg.repo / "collector" / overlay)]
    return argv


def _collector_env(ctx: Context) -> dict[str, str]:
    cfg, w = ctx.cfg, ctx.work
    return {
        "CCMON_OTLP_GRPC_ENDPOINT": ctx.listen("otlp_grpc"),
        "CCMON_OTLP_HTTP_ENDPOINT": ctx.listen("otlp_http"),
        "CCMON_PROMETHEUS_EXPORTER_ENDPOINT": ctx.listen("collector_prometheus"),
        "CCMON_COLLECTOR_HEALTH_ENDPOINT": ctx.listen("collector_health"),
        "CCMON_COLLECTOR_TELEMETRY_HOST": "127.0.0.1",
        "CCMON_COLLECTOR_TELEMETRY_PORT": str(ctx.port("collector_telemetry")),
        "CCMON_COLLECTOR_STORAGE_DIR": str(w / "collector-storage"),
        # Claude Code totals: sent every scrape interval; a new stream shows 0 for three
        # scrapes so that Prometheus scrapes the zero and increase() counts its first value
        "CCMON_CLAUDE_CODE_EMIT_INTERVAL": cfg.scrape_interval,
        "CCMON_CLAUDE_CODE_FIRST_VALUE_DELAY": f"{3 * duration_seconds(cfg.scrape_interval):g}s",
        # the secured mode's files (secure.yaml); paths only, never the secrets themselves
        "CCMON_OTLP_TOKEN_FILE": str(w / "secrets" / "otlp_token"),
        "CCMON_TLS_CERT_FILE": str(w / "secrets" / "tls_cert.pem"),
        "CCMON_TLS_KEY_FILE": str(w / "secrets" / "tls_key.pem"),
        # identities are hashed with a key kept in the stack folder (the report maps them back)
        KEY_ENV: stack_key(w),
        **(
            {"CCMON_REMOTE_WRITE_URL": cfg.url("prometheus", "/api/v1/write"), "CCMON_REMOTE_WRITE_INSECURE": "true"}
            if cfg.push_metrics
            else {}
        ),
        # the Go runtime collects before the memory limiter's soft limit (devstack.sizing)
        "GOMEMLIMIT": sizing.go_memory_limit(
            sizing.configured_limit_mib(cfg.repo, {**os.environ, **cfg.collector_env}) or 512
        ),
        **cfg.collector_env,
    }


# -- Prometheus, Alertmanager ---------------------------------------------------------------------
def _prometheus(name: str, data: str, replica: str) -> Component:
    def argv(ctx: Context) -> list[str]:
        cfg, w = ctx.cfg, ctx.work
        out = [
            str(ctx.bin / "prometheus"),
            f"--config.file={w / 'prometheus.yml'}",
            f"--storage.tsdb.path={w / data}",
            f"--web.listen-address={ctx.listen(name)}",
            "--web.enable-lifecycle",
            f"--rules.alert.resend-delay={cfg.resend_delay}",
            # span histograms carry the trace id of an example span (Claude Code's traces)
            "--enable-feature=exemplar-storage",
        ]
        if cfg.direct_otlp:
            out.append("--web.enable-otlp-receiver")
        if cfg.push_metrics:
            out.append("--web.enable-remote-write-receiver")
        if cfg.secure:
            out.append(f"--web.config.file={w / 'secrets' / 'web_config.yml'}")
        if cfg.ha:
            out += [
                "--enable-feature=expand-external-labels",
                f"--storage.tsdb.retention.time={cfg.local_retention}",
                # the Thanos sidecar uploads the blocks; Prometheus must not compact them itself
                f"--storage.tsdb.min-block-duration={cfg.block_duration}",
                f"--storage.tsdb.max-block-duration={cfg.block_duration}",
            ]
        return out

    def env(ctx: Context) -> dict[str, str]:
        return {"PROMETHEUS_REPLICA": replica} if ctx.cfg.ha else {}

    tier = "base" if name == "prometheus" else "ha"
    return Component(name, tier, (name,), "/-/ready", argv, env, data)


def _alertmanager(name: str, data: str, own: str, peer: str) -> Component:
    def argv(ctx: Context) -> list[str]:
        cfg, w = ctx.cfg, ctx.work
        out = [
            str(ctx.bin / "alertmanager"),
            f"--config.file={w / 'alertmanager.yml'}",
            f"--storage.path={w / data}",
            f"--web.listen-address={ctx.listen(name)}",
        ]
        if cfg.ha:
            out += [
                f"--cluster.listen-address={ctx.listen(own)}",
                f"--cluster.peer={ctx.listen(peer)}",
                "--cluster.settle-timeout=5s",
                "--cluster.peer-timeout=5s",
            ]
        else:
            out.append("--cluster.listen-address=")
        if cfg.secure:
            out.append(f"--web.config.file={w / 'secrets' / 'web_config.yml'}")
        return out

    tier = "base" if name == "alertmanager" else "ha"
    return Component(name, tier, (name, own), "/-/ready", argv, data=data)


# -- the Thanos tier (issue 22, docs/long-term.md) ------------------------------------------------------
def _thanos(ctx: Context, command: str, http: str, grpc: str | None) -> list[str]:
    """One binary for every Thanos component: its subcommand and its two listen addresses."""
    grpc_flag = [f"--grpc-address={ctx.listen(grpc)}"] if grpc else []
    return [str(ctx.bin / "thanos"), command, f"--http-address={ctx.listen(http)}", *grpc_flag]


def _objstore(ctx: Context) -> str:
    return f"--objstore.config-file={ctx.cfg.objstore_config or ctx.work / 'bucket.yml'}"


def _sidecar(name: str, prometheus: str, data: str) -> Component:
    def argv(ctx: Context) -> list[str]:
        return [
            *_thanos(ctx, "sidecar", name, f"{name}_grpc"),
            f"--tsdb.path={ctx.work / data}",
            f"--prometheus.url=http://{ctx.listen(prometheus)}",
            _objstore(ctx),
            # backfilled blocks (promtool tsdb create-blocks-from) are compacted ones: ship them too
            "--shipper.upload-compacted",
        ]

    return Component(name, "ha", (name, f"{name}_grpc"), "/-/ready", argv)


def _store_argv(ctx: Context) -> list[str]:
    return [
        *_thanos(ctx, "store", "thanos_store", "thanos_store_grpc"),
        f"--data-dir={ctx.work / 'thanos-store'}",
        _objstore(ctx),
        f"--sync-block-duration={ctx.cfg.thanos_sync_interval}",
        # blocks the compactor replaced are marked for deletion and deleted after its delete delay:
        # the store gateway stops reading them at half that (Thanos's own defaults: 24h of 48h)
        f"--ignore-deletion-marks-delay={duration_seconds(ctx.cfg.thanos_delete_delay) / 2:g}s",
    ]


def _compact_argv(ctx: Context) -> list[str]:
    cfg = ctx.cfg
    raw, five_minutes, one_hour = cfg.retention or RETENTION_DEFAULT
    return [
        *_thanos(ctx, "compact", "thanos_compact", None),
        f"--data-dir={ctx.work / 'thanos-compact'}",
        _objstore(ctx),
        "--wait",
        f"--wait-interval={cfg.thanos_sync_interval}",
        f"--consistency-delay={cfg.thanos_consistency_delay}",
        f"--delete-delay={cfg.thanos_delete_delay}",
        f"--retention.resolution-raw={raw}",
        f"--retention.resolution-5m={five_minutes}",
        f"--retention.resolution-1h={one_hour}",
    ]


def _query_argv(ctx: Context) -> list[str]:
    endpoints = [c for c in ("thanos_sidecar", "thanos_sidecar_b", "thanos_store") if c in running(ctx.cfg)]
    return [
        *_thanos(ctx, "query", "thanos_query", "thanos_query_grpc"),
        f"--query.replica-label={REPLICA_LABEL}",
        *(f"--endpoint={ctx.listen(f'{c}_grpc')}" for c in endpoints),
        # a store that does not answer makes a partial response (flagged, and alerted on), not a hang
        "--store.response-timeout=10s",
    ]


# -- our own Python processes ----------------------------------------------------------------------
def _app_argv(ctx: Context) -> list[str]:
    cfg = ctx.cfg
    argv = [venv_bin("ccmon"), "demo", "--port", str(ctx.port("app")), "--db", str(ctx.work / "demo.sqlite")]
    if cfg.claude_code_team:
        argv += ["--claude-code-team", f"http://{ctx.listen('otlp_http')}"]
    return [*argv, *cfg.app_args]


def _app_env(ctx: Context) -> dict[str, str]:
    cfg = ctx.cfg
    # the demo's agents call a model when the stack runs the Messages API stub (issue 33)
    model = (
        {"ANTHROPIC_BASE_URL": f"http://{ctx.listen('model_stub')}", "ANTHROPIC_API_KEY": "sk-ant-demo-stub"}
        if "model_stub" in running(cfg)
        else {}
    )
    return {
        **model,
        "OTEL_SERVICE_NAME": DEMO_SERVICE_NAME,
        "OTEL_METRICS_EXPORTER": "otlp,prometheus",
        "OTEL_EXPORTER_OTLP_ENDPOINT": cfg.url("otlp_http"),
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_METRIC_EXPORT_INTERVAL": str(cfg.export_interval_ms),
        **(
            {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": cfg.url("prometheus", "/api/v1/otlp/v1/metrics")}
            if cfg.direct_otlp
            else {}
        ),
        **(ctx.otlp_credentials() if cfg.secure else {}),
        **cfg.app_env,
    }


def _receiver_argv(ctx: Context) -> list[str]:
    cfg, w = ctx.cfg, ctx.work
    return [
        venv_bin("ccmon"),
        "webhook",
        "--host",
        "127.0.0.1",
        "--port",
        str(ctx.port("receiver")),
        "--db",
        str(cfg.receiver_db or w / "receiver.sqlite"),
        "--token-file",
        str(w / "secrets" / "receiver_token"),
        "--runbooks-dir",
        str(cfg.repo / "docs" / "runbooks"),
    ]


def _sink_argv(ctx: Context) -> list[str]:
    return [
        venv_bin("ccmon"),
        "sink",
        "--http-port",
        str(ctx.port("sink_http")),
        "--smtp-port",
        str(ctx.port("sink_smtp")),
        "--out",
        str(ctx.work / "sink.jsonl"),
    ]


COMPONENTS: tuple[Component, ...] = (
    Component("sink", "base", ("sink_http", "sink_smtp"), "/health", _sink_argv),
    Component(
        "model_stub",
        "base",
        ("model_stub",),
        "/health",
        lambda ctx: [venv_bin("ccmon"), "model-stub", "--port", str(ctx.port("model_stub"))],
    ),
    Component(
        "receiver", "base", ("receiver",), "/health", _receiver_argv, lambda _: {"OTEL_SERVICE_NAME": "alert-receiver"}
    ),
    _alertmanager("alertmanager", "alertmanager-data", "alertmanager_cluster", "alertmanager_b_cluster"),
    _alertmanager("alertmanager_b", "alertmanager-b-data", "alertmanager_b_cluster", "alertmanager_cluster"),
    Component(
        "collector",
        "base",
        ("collector_health", "otlp_grpc", "otlp_http", "collector_telemetry", "collector_prometheus"),
        "/",
        _collector_argv,
        _collector_env,
        "collector-storage",
    ),
    Component(
        "node_exporter",
        "base",
        ("node_exporter",),
        "/metrics",
        lambda ctx: [str(ctx.bin / "node_exporter"), f"--web.listen-address={ctx.listen('node_exporter')}"],
    ),
    Component("app", "base", ("app",), "/health", _app_argv, _app_env),
    # Prometheus after its targets: its first scrape then finds every target up, so no `up == 0`
    # alert starts pending while the stack starts (issue 23)
    _prometheus("prometheus", "prometheus-data", "prometheus-0"),
    _prometheus("prometheus_b", "prometheus-b-data", "prometheus-1"),
    # the sidecars after their Prometheus (ready once they have its external labels); Query last
    _sidecar("thanos_sidecar", "prometheus", "prometheus-data"),
    _sidecar("thanos_sidecar_b", "prometheus_b", "prometheus-b-data"),
    Component(
        "thanos_store", "ha", ("thanos_store", "thanos_store_grpc"), "/-/ready", _store_argv, data="thanos-store"
    ),
    Component("thanos_compact", "ha", ("thanos_compact",), "/-/ready", _compact_argv, data="thanos-compact"),
    Component("thanos_query", "ha", ("thanos_query", "thanos_query_grpc"), "/-/ready", _query_argv),
)


def connected_stores(stores: Mapping[str, Any], kind: str) -> tuple[int, list[str]]:
    """Thanos Query's stores of one kind (its ``/api/v1/stores`` data): how many are connected, and
    ``name: error`` of the others (read by ``ccmon stack status`` and ``ccmon doctor``).

    >>> connected_stores({"sidecar": [{"name": "a"}, {"name": "b", "lastError": "refused"}]}, "sidecar")
    (1, ['b: refused'])
    """
    members = stores.get(kind) or []
    broken = [f"{m['name']}: {m['lastError']}" for m in members if m.get("lastError")]
    return len(members) - len(broken), broken


BY_NAME: Mapping[str, Component] = {c.name: c for c in COMPONENTS}
START_ORDER = tuple(c.name for c in COMPONENTS)
ALL_COMPONENTS = tuple(c.name for c in COMPONENTS if c.tier == "base")
HA_COMPONENTS = tuple(c.name for c in COMPONENTS if c.tier == "ha")
THANOS_COMPONENTS = tuple(c for c in HA_COMPONENTS if c.startswith("thanos_"))
PORT_COMPONENT: Mapping[str, str] = {key: c.name for c in COMPONENTS for key in c.ports}


def running(cfg: StackConfig) -> tuple[str, ...]:
    """The components a configuration starts: those it names, else the base tier.

    >>> running(StackConfig(workdir=Path("w"), repo=Path("r"))) == ALL_COMPONENTS
    True
    """
    return cfg.components if cfg.components is not None else ALL_COMPONENTS


"""The component that binds each port."""
