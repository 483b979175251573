"""Frozen settings, read from the standard ``OTEL_*`` variables and ``CCMON_*`` extras."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_EXPORTERS = frozenset({"prometheus", "otlp", "console", "none"})
_PROTOCOLS = frozenset({"http/protobuf", "grpc"})


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be {'positive' if minimum else 'at least 0'}, got {value}")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _resource_attribute(env: Mapping[str, str], key: str) -> str | None:
    # OTEL_RESOURCE_ATTRIBUTES is "k1=v1,k2=v2"; the SDK parses it again, we only
    # need to know whether the user set these two keys themselves.
    for item in env.get("OTEL_RESOURCE_ATTRIBUTES", "").split(","):
        name, sep, value = item.partition("=")
        if sep and name.strip() == key and value.strip():
            return value.strip()
    return None


def default_instance_id() -> str:
    """A readable ``service.instance.id`` that is unique per host and process.

    Constant for the life of the process, so every export of this process lands
    in the same series; two processes of one service never share series.

    >>> default_instance_id().count("-") >= 1
    True
    """
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True, slots=True)
class Settings:
    """Options of otel-ccmon; build with :meth:`from_env` to honour the environment.

    >>> Settings(service_name="svc", exporters=("prometheus",)).strict
    False
    """

    service_name: str = "otel-ccmon-app"
    service_instance_id: str = field(default_factory=default_instance_id)
    exporters: tuple[str, ...] = ("prometheus",)
    otlp_endpoint: str | None = None
    otlp_protocol: str = "http/protobuf"
    export_interval_ms: int = 60_000
    export_timeout_ms: int = 2_000
    # OTLP/HTTP: a series whose value has not changed is sent again at least this often, not
    # every export (0: every series every export, as the SDK does); below the collector's 5 min
    # metric expiry, so Prometheus keeps every series
    otlp_refresh_ms: int = 30_000
    shutdown_timeout_ms: int = 2_000
    strict: bool = False
    attribute_cap: int = 100
    attribute_max_length: int = 128
    cardinality_limit: int = 2000  # series per metric in the SDK's readers (OTel default)
    runtime_metrics: bool = True
    prometheus_host: str = "127.0.0.1"
    prometheus_port: int = 9464

    def __post_init__(self) -> None:
        unknown = set(self.exporters) - _EXPORTERS
        if unknown:
            raise ValueError(f"unknown metrics exporter(s) {sorted(unknown)}; expected {sorted(_EXPORTERS)}")
        if self.otlp_protocol not in _PROTOCOLS:
            raise ValueError(f"unknown OTLP protocol {self.otlp_protocol!r}; expected {sorted(_PROTOCOLS)}")
        for name in (
            "export_interval_ms",
            "export_timeout_ms",
            "shutdown_timeout_ms",
            "attribute_cap",
            "cardinality_limit",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.otlp_refresh_ms < 0:
            raise ValueError("otlp_refresh_ms must be 0 (every export) or positive")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``OTEL_*``/``CCMON_*`` variables; keyword arguments win.

        >>> Settings.from_env({"OTEL_METRICS_EXPORTER": "otlp,prometheus"}).exporters
        ('otlp', 'prometheus')
        """
        env = os.environ if env is None else env
        d = cls()
        raw_exporters = env.get("OTEL_METRICS_EXPORTER", "").strip()
        exporters = tuple(e.strip() for e in raw_exporters.split(",") if e.strip()) or d.exporters
        if "none" in exporters:
            exporters = ()
        service_name = env.get("OTEL_SERVICE_NAME") or _resource_attribute(env, "service.name") or d.service_name
        instance = _resource_attribute(env, "service.instance.id") or env.get("CCMON_INSTANCE_ID")
        values: dict[str, Any] = {
            "service_name": service_name,
            "exporters": exporters,
            "otlp_endpoint": env.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT"),
            "otlp_protocol": env.get("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL")
            or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
            or d.otlp_protocol,
            "export_interval_ms": _int(env, "OTEL_METRIC_EXPORT_INTERVAL", d.export_interval_ms),
            "export_timeout_ms": _int(env, "OTEL_METRIC_EXPORT_TIMEOUT", d.export_timeout_ms),
            "otlp_refresh_ms": _int(env, "CCMON_OTLP_REFRESH_MS", d.otlp_refresh_ms, minimum=0),
            "shutdown_timeout_ms": _int(env, "CCMON_SHUTDOWN_TIMEOUT_MS", d.shutdown_timeout_ms),
            "strict": _flag(env, "CCMON_STRICT", d.strict),
            "attribute_cap": _int(env, "CCMON_ATTRIBUTE_CAP", d.attribute_cap),
            "cardinality_limit": _int(env, "CCMON_CARDINALITY_LIMIT", d.cardinality_limit),
            "runtime_metrics": _flag(env, "CCMON_RUNTIME_METRICS", d.runtime_metrics),
            "prometheus_host": env.get("OTEL_EXPORTER_PROMETHEUS_HOST") or d.prometheus_host,
            "prometheus_port": _int(env, "OTEL_EXPORTER_PROMETHEUS_PORT", d.prometheus_port),
        }
        if instance:
            values["service_instance_id"] = instance
        values.update(overrides)
        return cls(**values)
