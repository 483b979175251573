"""Where a local stack keeps its state: its working directory and ``state.json`` (ports, pids).

Read by ``ccmon stack`` and ``ccmon doctor``; dependency-free, so that both can use it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"
TLS_PORTS = frozenset(
    {"prometheus", "prometheus_b", "alertmanager", "alertmanager_b", "otlp_http", "collector_prometheus"}
)
"""Ports that serve TLS (and, Prometheus's and Alertmanager's, basic auth) in the secured mode
(`ccmon stack up --secure`); a running stack says in its state whether it is secured."""


def scheme(state: dict[str, Any] | None, port_key: str) -> str:
    """``https`` for a TLS port of a secured stack's ``state``, else ``http``.

    >>> scheme({"secure": True}, "prometheus"), scheme({"secure": True}, "receiver"), scheme(None, "prometheus")
    ('https', 'http', 'http')
    """
    return "https" if state is not None and state.get("secure") and port_key in TLS_PORTS else "http"


DEFAULT_WORKDIR = Path("var") / "stack"
"""The working directory of the local stack, relative to the checkout."""


def stack_workdir(explicit: str | Path | None, repo: Path | None) -> Path | None:
    """The stack's working directory: ``explicit``, else ``$CCMON_STACK_DIR``, else ``REPO/var/stack``
    (``None`` without a checkout).

    >>> str(stack_workdir("/tmp/w", None))
    '/tmp/w'
    """
    chosen = explicit or os.environ.get("CCMON_STACK_DIR")
    if chosen:
        return Path(chosen).resolve()
    return repo / DEFAULT_WORKDIR if repo is not None else None


def load_state(workdir: Path) -> dict[str, Any] | None:
    """The state a running stack wrote into ``workdir``, or ``None`` when none runs there."""
    path = workdir / STATE_FILE
    if not path.exists():
        return None
    state: dict[str, Any] = json.loads(path.read_text())
    return state
