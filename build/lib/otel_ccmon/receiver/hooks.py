"""Alert hooks: commands or ``module:function`` entry points run off the request path, with a timeout.

Pending runs are stored in the same transaction as the alert change (see ``store``) and resumed
after a crash."""

from __future__ import annotations

import concurrent.futures
import json
import logging
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from otel_ccmon import _core
from otel_ccmon._extras import require

require("alert hooks", "receiver", "yaml")

import yaml

if TYPE_CHECKING:
    from otel_ccmon.receiver.store import AlertStore

_log = logging.getLogger("otel_ccmon.receiver")


@dataclass(frozen=True)
class Hook:
    """Run a command (the alert as JSON on stdin) when an alert state change matches."""

    name: str
    match: Mapping[str, str]
    command: tuple[str, ...]
    timeout: float = 10.0

    def matches(self, alert: Mapping[str, Any]) -> bool:
        return all(
            (alert["status"] if key == "status" else alert["labels"].get(key)) == value
            for key, value in self.match.items()
        )


def load_hooks(path: Path | None) -> tuple[Hook, ...]:
    """Hooks from YAML: ``hooks: [{name, match: {label: value, status: firing}, command|entry_point, timeout}]``.

    ``entry_point: "pkg.module:function"`` runs ``function(alert_dict)`` in a subprocess of
    this interpreter, so a hanging hook can be stopped at its timeout like a command.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "hooks.yml"
    >>> _ = p.write_text("hooks: [{name: h, match: {alertname: X}, command: [cat], timeout: 1}]")
    >>> load_hooks(p)[0].command
    ('cat',)
    """
    if path is None:
        return ()
    data = yaml.safe_load(path.read_text()) or {}
    hooks = []
    for i, item in enumerate(data.get("hooks", [])):
        name = str(item.get("name") or f"hook-{i}")
        if "command" in item:
            command = tuple(str(c) for c in item["command"])
        elif "entry_point" in item:
            command = (sys.executable, "-m", "otel_ccmon.receiver.hookrun", str(item["entry_point"]))
        else:
            raise ValueError(f"hook {name!r} needs `command` or `entry_point`")
        match = {str(k): str(v) for k, v in (item.get("match") or {}).items()}
        hooks.append(Hook(name, match, command, float(item.get("timeout", 10))))
    return tuple(hooks)


class HookRunner:
    """Runs hooks on worker threads with a timeout; outcomes go to the store."""

    def __init__(self, store: AlertStore, hooks: tuple[Hook, ...], workers: int) -> None:
        self._store = store
        self._hooks = {h.name: h for h in hooks}
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ccmon-hook")

    def submit(self, runs: list[tuple[int, str, dict[str, Any]]]) -> None:
        for run_id, name, alert in runs:
            hook = self._hooks.get(name)
            if hook is None:
                self._store.finish_hook_run(
                    run_id, "failed", None, f"hook {name!r} is no longer configured", time.time()
                )
                continue
            self._pool.submit(self._run, run_id, hook, alert)

    def _run(self, run_id: int, hook: Hook, alert: dict[str, Any]) -> None:
        started = time.time()
        try:
            proc = subprocess.run(
                hook.command,
                input=json.dumps(alert).encode(),
                capture_output=True,
                timeout=hook.timeout,
                check=False,
            )
            outcome = "ok" if proc.returncode == 0 else "failed"
            code: int | None = proc.returncode
            output = (proc.stdout + proc.stderr).decode(errors="replace")
        except subprocess.TimeoutExpired:
            outcome, code, output = "timeout", None, f"killed after {hook.timeout:g}s"
        except OSError as exc:
            outcome, code, output = "failed", None, f"could not start: {exc}"
        try:
            self._store.finish_hook_run(run_id, outcome, code, output, started)
        except sqlite3.Error:
            _log.exception("could not record the outcome of hook run %d", run_id)
        _rec_add("alert_receiver.hook.runs", hook.name, outcome)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _rec_add(metric: str, *values: str) -> None:
    monitor = _core.current()
    if monitor is not None:
        monitor.recorder.add(metric, 1, *values)
