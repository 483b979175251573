"""The alert receiver: Alertmanager's webhook target, authenticated, validated, durable, idempotent.

Every accepted notification and alert state change is committed to SQLite (WAL,
``synchronous=FULL``) before the 2xx is sent, so a ``kill -9`` loses nothing that
was acknowledged. Re-deliveries (Alertmanager retries, both members of an HA pair)
are recognised by a content key and stored once. Hooks run off the request path;
their pending runs are part of the same transaction and are resumed after a crash.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import hmac
import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

import otel_ccmon as ccmon
from otel_ccmon import _core

_log = logging.getLogger("otel_ccmon.receiver")

LabelMap = dict[str, str]
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


# -- payload models (Alertmanager webhook, version 4) -------------------------------------------
class AlertModel(BaseModel):
    """One alert of a notification."""

    model_config = ConfigDict(extra="ignore")

    status: Literal["firing", "resolved"]
    labels: LabelMap = Field(max_length=200)
    annotations: LabelMap = Field(default_factory=dict, max_length=200)
    startsAt: datetime
    endsAt: datetime | None = None
    generatorURL: str = Field(default="", max_length=4096)
    fingerprint: str = Field(min_length=1, max_length=64, pattern=r"^[0-9a-fA-F]+$")


class NotificationModel(BaseModel):
    """An Alertmanager webhook notification."""

    model_config = ConfigDict(extra="ignore")

    version: Literal["4"]
    groupKey: str = Field(max_length=4096)
    truncatedAlerts: int = Field(default=0, ge=0)
    status: Literal["firing", "resolved"]
    receiver: str = Field(min_length=1, max_length=256)
    groupLabels: LabelMap = Field(default_factory=dict)
    commonLabels: LabelMap = Field(default_factory=dict)
    commonAnnotations: LabelMap = Field(default_factory=dict)
    externalURL: str = Field(default="", max_length=4096)
    alerts: list[AlertModel] = Field(min_length=1, max_length=5000)


# -- hooks ---------------------------------------------------------------------------------------
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
            command = (sys.executable, "-m", "otel_ccmon._hookrun", str(item["entry_point"]))
        else:
            raise ValueError(f"hook {name!r} needs `command` or `entry_point`")
        match = {str(k): str(v) for k, v in (item.get("match") or {}).items()}
        hooks.append(Hook(name, match, command, float(item.get("timeout", 10))))
    return tuple(hooks)


# -- storage ---------------------------------------------------------------------------------------
_SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY,
    dedup_key TEXT NOT NULL UNIQUE,
    received_at REAL NOT NULL,
    receiver TEXT NOT NULL,
    status TEXT NOT NULL,
    group_key TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
    fingerprint TEXT PRIMARY KEY,
    alertname TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    receiver TEXT NOT NULL,
    labels TEXT NOT NULL,
    annotations TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT,
    first_seen REAL NOT NULL,
    last_change REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_last_change ON alerts(last_change);
CREATE TABLE IF NOT EXISTS alert_events (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT,
    receiver TEXT NOT NULL,
    received_at REAL NOT NULL,
    notification_id INTEGER NOT NULL,
    UNIQUE (fingerprint, status, starts_at, receiver)
);
CREATE INDEX IF NOT EXISTS alert_events_fp ON alert_events(fingerprint);
CREATE TABLE IF NOT EXISTS hook_runs (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    hook TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT 'pending',
    exit_code INTEGER,
    output TEXT,
    started_at REAL,
    finished_at REAL
);
"""


def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat()


def dedup_key(n: NotificationModel) -> str:
    """Content key of a notification: same receiver, group, status and alert states → same key.

    Both members of an HA pair and Alertmanager's retries produce the same key.
    """
    parts = [
        n.receiver,
        n.groupKey,
        n.status,
        *sorted(f"{a.fingerprint}|{a.status}|{_iso(a.startsAt)}|{_iso(a.endsAt)}" for a in n.alerts),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@dataclass
class StoreResult:
    """What storing one notification did."""

    duplicate: bool
    new_events: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (event id, alert)
    hook_runs: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)  # (run id, hook, alert)


class AlertStore:
    """SQLite storage of notifications, alerts, their state history and hook runs."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # durable once COMMIT returns, before the 2xx
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def store(self, n: NotificationModel, raw: str, hooks: tuple[Hook, ...]) -> StoreResult:
        now = time.time()
        key = dedup_key(n)
        with self._tx() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO notifications (dedup_key, received_at, receiver, status, group_key, body)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (key, now, n.receiver, n.status, n.groupKey, raw),
            )
            if cur.rowcount == 0:
                return StoreResult(duplicate=True)
            notification_id = cur.lastrowid
            result = StoreResult(duplicate=False)
            for a in n.alerts:
                alert = {
                    "fingerprint": a.fingerprint,
                    "status": a.status,
                    "labels": a.labels,
                    "annotations": a.annotations,
                    "startsAt": _iso(a.startsAt),
                    "endsAt": _iso(a.endsAt),
                    "generatorURL": a.generatorURL,
                    "receiver": n.receiver,
                }
                ev = db.execute(
                    "INSERT OR IGNORE INTO alert_events"
                    " (fingerprint, status, starts_at, ends_at, receiver, received_at, notification_id)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (a.fingerprint, a.status, alert["startsAt"], alert["endsAt"], n.receiver, now, notification_id),
                )
                db.execute(
                    "INSERT INTO alerts (fingerprint, alertname, severity, status, receiver, labels, annotations,"
                    " starts_at, ends_at, first_seen, last_change) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT(fingerprint) DO UPDATE SET status=excluded.status, receiver=excluded.receiver,"
                    " labels=excluded.labels, annotations=excluded.annotations, starts_at=excluded.starts_at,"
                    " ends_at=excluded.ends_at, last_change=excluded.last_change",
                    (
                        a.fingerprint,
                        a.labels.get("alertname", ""),
                        a.labels.get("severity", ""),
                        a.status,
                        n.receiver,
                        json.dumps(a.labels, sort_keys=True),
                        json.dumps(a.annotations, sort_keys=True),
                        alert["startsAt"],
                        alert["endsAt"],
                        now,
                        now,
                    ),
                )
                if ev.rowcount == 0 or ev.lastrowid is None:
                    continue  # this state change was already stored through another notification
                result.new_events.append((ev.lastrowid, alert))
                for hook in hooks:
                    if hook.matches(alert):
                        run = db.execute(
                            "INSERT INTO hook_runs (event_id, fingerprint, hook) VALUES (?, ?, ?)",
                            (ev.lastrowid, a.fingerprint, hook.name),
                        )
                        if run.lastrowid is not None:
                            result.hook_runs.append((run.lastrowid, hook.name, alert))
            return result

    def pending_hook_runs(self) -> list[tuple[int, str, dict[str, Any]]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT r.id AS run_id, r.hook, a.*, e.status AS event_status, e.starts_at AS event_starts,"
                " e.ends_at AS event_ends, e.receiver AS event_receiver FROM hook_runs r"
                " JOIN alert_events e ON e.id = r.event_id JOIN alerts a ON a.fingerprint = r.fingerprint"
                " WHERE r.outcome = 'pending'"
            ).fetchall()
        out = []
        for r in rows:
            alert = _alert_row(r)
            # the state change the hook was scheduled for, not the alert's latest state
            alert.update(
                status=r["event_status"],
                startsAt=r["event_starts"],
                endsAt=r["event_ends"],
                receiver=r["event_receiver"],
            )
            out.append((r["run_id"], r["hook"], alert))
        return out

    def finish_hook_run(self, run_id: int, outcome: str, exit_code: int | None, output: str, started: float) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE hook_runs SET outcome=?, exit_code=?, output=?, started_at=?, finished_at=? WHERE id=?",
                (outcome, exit_code, output[-4000:], started, time.time(), run_id),
            )

    def list_alerts(
        self,
        *,
        status: str | None = None,
        severity: str | None = None,
        alertname: str | None = None,
        receiver: str | None = None,
        since: float | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        clauses: list[str] = []
        params: list[object] = []
        for column, value in (
            ("status", status),
            ("severity", severity),
            ("alertname", alertname),
            ("receiver", receiver),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            clauses.append("last_change >= ?")
            params.append(since)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM alerts {where} ORDER BY last_change DESC, fingerprint LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
        return [_alert_row(r) for r in rows]

    def alert(self, fingerprint: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM alerts WHERE fingerprint = ?", (fingerprint,)).fetchone()
            if row is None:
                return None
            events = self._db.execute(
                "SELECT status, starts_at, ends_at, receiver, received_at FROM alert_events"
                " WHERE fingerprint = ? ORDER BY id",
                (fingerprint,),
            ).fetchall()
            runs = self._db.execute(
                "SELECT hook, outcome, exit_code, output, started_at, finished_at FROM hook_runs"
                " WHERE fingerprint = ? ORDER BY id",
                (fingerprint,),
            ).fetchall()
        out = _alert_row(row)
        out["history"] = [dict(e) for e in events]
        out["hook_runs"] = [dict(r) for r in runs]
        return out

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                table: int(self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                for table in ("notifications", "alerts", "alert_events", "hook_runs")
            }

    def prune(self, *, max_age_s: float, max_alerts: int, now: float | None = None) -> int:
        """Delete resolved alerts older than ``max_age_s`` or beyond ``max_alerts``; never firing ones."""
        now = time.time() if now is None else now
        with self._tx() as db:
            doomed = {
                r[0]
                for r in db.execute(
                    "SELECT fingerprint FROM alerts WHERE status = 'resolved' AND last_change < ?", (now - max_age_s,)
                )
            }
            total = int(db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0])
            excess = total - len(doomed) - max_alerts
            if excess > 0:
                doomed |= {
                    r[0]
                    for r in db.execute(
                        "SELECT fingerprint FROM alerts WHERE status = 'resolved' ORDER BY last_change LIMIT ?",
                        (excess + len(doomed),),
                    )
                }
            for fp in doomed:
                db.execute("DELETE FROM alert_events WHERE fingerprint = ?", (fp,))
                db.execute("DELETE FROM hook_runs WHERE fingerprint = ?", (fp,))
                db.execute("DELETE FROM alerts WHERE fingerprint = ?", (fp,))
            db.execute(
                "DELETE FROM notifications WHERE received_at < ? AND id NOT IN"
                " (SELECT notification_id FROM alert_events)",
                (now - max_age_s,),
            )
        return len(doomed)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _alert_row(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "fingerprint": row["fingerprint"],
        "alertname": row["alertname"],
        "severity": row["severity"],
        "status": row["status"],
        "receiver": row["receiver"],
        "labels": json.loads(row["labels"]),
        "annotations": json.loads(row["annotations"]),
        "startsAt": row["starts_at"],
        "endsAt": row["ends_at"],
        "first_seen": row["first_seen"],
        "last_change": row["last_change"],
    }


# -- service ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReceiverSettings:
    """Options of the alert receiver."""

    db_path: Path
    token: str | None
    max_body_bytes: int = 1024 * 1024
    hooks: tuple[Hook, ...] = ()
    retention_days: float = 30.0
    max_alerts: int = 100_000
    hook_workers: int = 4


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


class _Reject(Exception):
    def __init__(self, status: int, reason: str, detail: Any) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail


def create_app(settings: ReceiverSettings) -> Any:
    """The receiver's FastAPI app.

    >>> import tempfile, pathlib
    >>> app = create_app(ReceiverSettings(db_path=pathlib.Path(tempfile.mkdtemp()) / "r.db", token="t"))
    >>> sorted(r.path for r in app.routes if r.path.startswith("/webhook"))
    ['/webhook', '/webhook/{receiver}']
    """
    store = AlertStore(settings.db_path)
    runner = HookRunner(store, settings.hooks, settings.hook_workers)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        runner.submit(store.pending_hook_runs())  # resume what a crash interrupted
        store.prune(max_age_s=settings.retention_days * 86400, max_alerts=settings.max_alerts)
        try:
            yield
        finally:
            runner.shutdown()
            store.close()
            ccmon.shutdown_metrics()

    app = FastAPI(title="otel-ccmon alert receiver", lifespan=lifespan)
    app.state.store = store
    monitor = ccmon.instrument_app(app)
    rec = monitor.recorder

    def authorized(request: Request) -> bool:
        if settings.token is None:
            return True
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(credentials.encode(), settings.token.encode())

    def reject(exc: _Reject) -> JSONResponse:
        rec.add("alert_receiver.rejections", 1, exc.reason)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"error": exc.reason, "detail": exc.detail}, status_code=exc.status, headers=headers)

    async def read_limited(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > settings.max_body_bytes):
            raise _Reject(413, "too_large", f"body exceeds {settings.max_body_bytes} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > settings.max_body_bytes:
                raise _Reject(413, "too_large", f"body exceeds {settings.max_body_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def receive(request: Request, receiver_path: str | None) -> JSONResponse:
        started = time.perf_counter()
        try:
            if not authorized(request):
                raise _Reject(401, "unauthorized", "missing or wrong bearer token")
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype != "application/json":
                raise _Reject(415, "unsupported_media_type", "Content-Type must be application/json")
            raw = await read_limited(request)
            try:
                data = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as exc:
                raise _Reject(400, "malformed_json", str(exc)) from None
            try:
                notification = NotificationModel.model_validate(data)
            except ValidationError as exc:
                errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()[:20]]
                raise _Reject(422, "invalid_schema", errors) from None
        except _Reject as exc:
            return reject(exc)
        if receiver_path is not None and receiver_path != notification.receiver:
            _log.info("path receiver %r differs from payload receiver %r", receiver_path, notification.receiver)
        result = await asyncio.to_thread(store.store, notification, raw.decode(), settings.hooks)
        rec.observe("alert_receiver.processing.duration", time.perf_counter() - started)
        if result.duplicate:
            rec.add("alert_receiver.duplicates", 1)
        else:
            rec.add("alert_receiver.notifications", 1, notification.receiver, notification.status)
            for _, alert in result.new_events:
                rec.add("alert_receiver.alert_events", 1, alert["status"], alert["labels"].get("severity") or "none")
            runner.submit(result.hook_runs)
        return JSONResponse(
            {"status": "ok", "duplicate": result.duplicate, "new_events": len(result.new_events)}, status_code=200
        )

    @app.post("/webhook")
    async def webhook(request: Request) -> JSONResponse:
        return await receive(request, None)

    @app.post("/webhook/{receiver}")
    async def webhook_receiver(receiver: str, request: Request) -> JSONResponse:
        return await receive(request, receiver)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", **store.counts()}

    @app.get("/alerts", response_model=None)
    def alerts(
        request: Request,
        status: Literal["firing", "resolved"] | None = None,
        severity: str | None = None,
        alertname: str | None = None,
        receiver: str | None = None,
        since: float | None = Query(None, description="unix time; alerts changed since then"),
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0),
    ) -> Any:
        if not authorized(request):
            return reject(_Reject(401, "unauthorized", "missing or wrong bearer token"))
        items = store.list_alerts(
            status=status, severity=severity, alertname=alertname, receiver=receiver, since=since,
            limit=limit, offset=offset,
        )  # fmt: skip
        return {"alerts": items, "limit": limit, "offset": offset}

    @app.get("/alerts/{fingerprint}", response_model=None)
    def alert(fingerprint: str, request: Request) -> Any:
        if not authorized(request):
            return reject(_Reject(401, "unauthorized", "missing or wrong bearer token"))
        found = store.alert(fingerprint)
        if found is None:
            return JSONResponse({"error": "not_found"}, status_code=404)
        return found

    return app


def read_token(path: str | None) -> str | None:
    """The bearer token from a file (surrounding whitespace removed); ``None`` without a path."""
    if not path:
        return None
    token = Path(path).read_text().strip()
    if not token:
        raise ValueError(f"token file {path} is empty")
    return token


def serve(host: str, port: int, settings: ReceiverSettings) -> None:
    """Run the receiver with uvicorn (blocking)."""
    import uvicorn

    os.environ.setdefault("OTEL_SERVICE_NAME", "alert-receiver")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


def check_bind(host: str, token: str | None, insecure: bool) -> str | None:
    """An error message if this combination must not start, else ``None``.

    >>> check_bind("0.0.0.0", None, True)
    '--insecure-no-auth only binds to loopback (127.0.0.1, ::1, localhost)'
    >>> check_bind("127.0.0.1", None, False)
    'a token is required: --token-file PATH (or --insecure-no-auth on loopback)'
    """
    if token is None and not insecure:
        return "a token is required: --token-file PATH (or --insecure-no-auth on loopback)"
    if token is None and host not in _LOOPBACK:
        return "--insecure-no-auth only binds to loopback (127.0.0.1, ::1, localhost)"
    return None
