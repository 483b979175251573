"""Alert hooks: commands or ``module:function`` entry points run off the request path, with a timeout.

Pending runs are stored in the same transaction as the alert change (see ``store``) and resumed
after a crash."""

from __future__ import annotations

import concurrent.futures
import logging
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from otel_ccmon import _core
from otel_ccmon._extras import require

require("alert hooks", "receiver", "yaml", "pydantic")

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from otel_ccmon.receiver.models import HookRun

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


def schedule(hooks: Iterable[Hook]) -> Callable[[Mapping[str, Any]], list[str]]:
    """The names of the hooks an alert state change runs (what the store schedules with it).

    >>> schedule([Hook("page", {"severity": "P0"}, ("true",))])({"status": "firing", "labels": {"severity": "P0"}})
    ['page']
    """
    chosen = tuple(hooks)
    return lambda alert: [h.name for h in chosen if h.matches(alert)]


class _HookSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    match: dict[str, str | int | float | bool] = Field(default_factory=dict, max_length=50)
    command: list[str | int | float] | None = Field(default=None, min_length=1, max_length=100)
    entry_point: str | None = Field(default=None, pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    timeout: float = Field(default=10.0, gt=0, le=3600)


class _HooksFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hooks: list[_HookSpec] = Field(default_factory=list, max_length=1000)


MAX_HOOKS_FILE_BYTES = 1024 * 1024


def load_hooks(path: Path | None) -> tuple[Hook, ...]:
    """Hooks from YAML: ``hooks: [{name, match: {label: value, status: firing}, command|entry_point, timeout}]``.

    ``entry_point: "pkg.module:function"`` runs ``function(alert_dict)`` in a subprocess of
    this interpreter, so a hanging hook can be stopped at its timeout like a command. Any problem
    with the file is a ``ValueError`` that names the file and the field.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "hooks.yml"
    >>> _ = p.write_text("hooks: [{name: h, match: {alertname: X}, command: [cat], timeout: 1}]")
    >>> load_hooks(p)[0].command
    ('cat',)
    >>> _ = p.write_text("hooks: [{name: h, command: [cat], timeout: -1}]")
    >>> load_hooks(p)
    Traceback (most recent call last):
    ...
    ValueError: hooks file ...hooks.yml: hooks.0.timeout: Input should be greater than 0
    """
    if path is None:
        return ()
    if path.stat().st_size > MAX_HOOKS_FILE_BYTES:
        raise ValueError(f"hooks file {path}: larger than {MAX_HOOKS_FILE_BYTES} bytes")
    try:
        data = yaml.safe_load(path.read_text()) or {}
        spec = _HooksFile.model_validate(data)
    except yaml.YAMLError as exc:
        raise ValueError(f"hooks file {path}: not valid YAML ({exc})") from None
    except RecursionError:
        raise ValueError(f"hooks file {path}: nested too deeply") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ValueError(f"hooks file {path}: {where}: {first['msg']}") from None
    hooks = []
    for i, item in enumerate(spec.hooks):
        name = item.name or f"hook-{i}"
        if item.command is not None and item.entry_point is None:
            command = tuple(str(part) for part in item.command)
        elif item.entry_point is not None and item.command is None:
            command = (sys.executable, "-m", "otel_ccmon.receiver.hookrun", item.entry_point)
        else:
            raise ValueError(f"hooks file {path}: hook {name!r} needs exactly one of `command` and `entry_point`")
        match = {
            key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in item.match.items()
        }
        hooks.append(Hook(name, match, command, item.timeout))
    return tuple(hooks)


class HookRunner:
    """Runs hooks on worker threads with a timeout; outcomes go to the store."""

    def __init__(self, store: AlertStore, hooks: tuple[Hook, ...], workers: int) -> None:
        self._store = store
        self._hooks = {h.name: h for h in hooks}
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ccmon-hook")

    def submit(self, runs: list[HookRun]) -> None:
        for run in runs:
            hook = self._hooks.get(run.hook)
            if hook is None:
                self._store.finish_hook_run(
                    run.run_id, "failed", None, f"hook {run.hook!r} is no longer configured", time.time()
                )
                continue
            self._pool.submit(self._run, run, hook)

    def _run(self, run: HookRun, hook: Hook) -> None:
        started = time.time()
        run_id = run.run_id
        try:
            proc = subprocess.run(
                hook.command,
                input=run.payload,
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
