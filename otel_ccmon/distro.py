"""Auto-instrumentation: the ``opentelemetry_distro`` / ``opentelemetry_configurator`` entry points.

``opentelemetry-instrument uvicorn app:app`` (or ``ccmon-instrument …``) loads the
distro first, then the configurator, then the instrumentations. The distro only
fills in defaults with ``os.environ.setdefault``: whatever the user set wins.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import MutableMapping
from typing import Any

from opentelemetry.sdk._configuration import _BaseConfigurator

from otel_ccmon._extras import require

require("auto-instrumentation", "instrument", "opentelemetry.instrumentation.distro")

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]

from otel_ccmon.fastapi import EXCLUDED_URLS

_log = logging.getLogger("otel_ccmon")
ENTRY_POINT_NAME = "otel_ccmon"

DEFAULTS: dict[str, str] = {
    # The SDK registers a configurator of its own; the distro runs before any
    # configurator is chosen, so it can name ours (unless the user named one).
    "OTEL_PYTHON_CONFIGURATOR": ENTRY_POINT_NAME,
    "OTEL_SEMCONV_STABILITY_OPT_IN": "http",
    "OTEL_PYTHON_FASTAPI_EXCLUDED_URLS": EXCLUDED_URLS,
    "OTEL_METRICS_EXPORTER": "prometheus",
    # otel-ccmon is a metrics distribution; traces/logs stay off unless asked for.
    "OTEL_TRACES_EXPORTER": "none",
    "OTEL_LOGS_EXPORTER": "none",
}


def apply_defaults(env: MutableMapping[str, str] | None = None) -> None:
    """Fill in otel-ccmon's defaults (in ``os.environ`` unless ``env`` is given) without overriding.

    >>> env = {"OTEL_METRICS_EXPORTER": "otlp"}
    >>> apply_defaults(env)
    >>> env["OTEL_METRICS_EXPORTER"], env["OTEL_SEMCONV_STABILITY_OPT_IN"]
    ('otlp', 'http')
    """
    target = os.environ if env is None else env
    for key, value in DEFAULTS.items():
        target.setdefault(key, value)


class CcmonDistro(BaseDistro):  # type: ignore[misc]
    """Distro entry point: environment defaults only."""

    def _configure(self, **kwargs: Any) -> None:  # noqa: ARG002 - signature of the base class
        apply_defaults()


class CcmonConfigurator(_BaseConfigurator):
    """Configurator entry point: sets up otel-ccmon's meter provider as the global one."""

    def _configure(self, **kwargs: Any) -> None:  # noqa: ARG002 - signature of the base class
        from otel_ccmon._api import initialize_metrics

        monitor = initialize_metrics()
        from otel_ccmon._tracing import configure_tracing

        configure_tracing(monitor.settings)  # only with OTEL_TRACES_EXPORTER=otlp
        if monitor.registry is not None:
            from otel_ccmon._core import start_metrics_server

            settings = monitor.settings
            start_metrics_server(monitor, settings.prometheus_host, settings.prometheus_port)
            _log.info(
                "otel_ccmon: Prometheus metrics on http://%s:%d/metrics",
                settings.prometheus_host,
                settings.prometheus_port,
            )


def instrument_main(argv: list[str] | None = None) -> None:
    """``ccmon-instrument CMD …``: ``opentelemetry-instrument`` with otel-ccmon selected.

    Example: ``ccmon-instrument uvicorn app:app --port 3000``.
    """
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0].startswith("-"):
        sys.exit("usage: ccmon-instrument COMMAND [ARGS...]  (e.g. ccmon-instrument uvicorn app:app)")
    if shutil.which(args[0]) is None:
        sys.exit(f"ccmon-instrument: command not found on PATH: {args[0]}")
    os.environ.setdefault("OTEL_PYTHON_DISTRO", ENTRY_POINT_NAME)
    apply_defaults()
    from opentelemetry.instrumentation.auto_instrumentation import run

    sys.argv = ["opentelemetry-instrument", *args]
    run()
