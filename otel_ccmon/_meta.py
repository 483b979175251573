"""Facts about otel-ccmon that are written once: its version and the demo application's name."""

from __future__ import annotations

from importlib import metadata


def _version() -> str:
    try:
        return metadata.version("otel-ccmon")
    except metadata.PackageNotFoundError:  # imported from a source tree that was never installed
        return "0+unknown"


VERSION = _version()
"""The installed distribution's version (package metadata is the one source)."""

DEMO_SERVICE_NAME = "claude-code-app"
"""``service.name`` of the demo application, and so the ``job`` of its series in Prometheus."""
