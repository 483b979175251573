"""SQLite storage of notifications, alerts, their state history and pending hook runs.

WAL with ``synchronous=FULL``: a change is durable once COMMIT returns, before the 2xx is sent."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from otel_ccmon.receiver.models import HookRun, NotificationModel, _iso, dedup_key, hook_payload, second_precision

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
    finished_at REAL,
    payload BLOB
);
"""
Schedule = Callable[[Mapping[str, Any]], Iterable[str]]
"""Which hooks (by name) an alert state change runs: the receiver's hooks decide, the store keeps."""


@dataclass
class StoreResult:
    """What storing one notification did."""

    duplicate: bool
    new_events: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (event id, alert)
    hook_runs: list[HookRun] = field(default_factory=list)


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
        columns = {r["name"] for r in self._db.execute("PRAGMA table_info(hook_runs)")}
        if "payload" not in columns:  # a database of an earlier version: its pending runs rebuild theirs
            self._db.execute("ALTER TABLE hook_runs ADD COLUMN payload BLOB")
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._rollback()
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error:
                # a COMMIT that fails (disk full) leaves the transaction open: end it, or every
                # later BEGIN fails too, after the disk has space again
                self._rollback()
                raise

    def _rollback(self) -> None:
        if self._db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")

    def store(self, n: NotificationModel, raw: str, schedule: Schedule) -> StoreResult:
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
                    # one firing, one event: its start to the second (a restored `for` state's precision)
                    (
                        a.fingerprint,
                        a.status,
                        second_precision(a.startsAt),
                        alert["endsAt"],
                        n.receiver,
                        now,
                        notification_id,
                    ),
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
                payload = hook_payload(alert)
                for hook in schedule(alert):
                    run = db.execute(
                        "INSERT INTO hook_runs (event_id, fingerprint, hook, payload) VALUES (?, ?, ?, ?)",
                        (ev.lastrowid, a.fingerprint, hook, payload),
                    )
                    if run.lastrowid is not None:
                        result.hook_runs.append(HookRun(run.lastrowid, hook, payload))
            return result

    def pending_hook_runs(self) -> list[HookRun]:
        """Runs a crash interrupted, with the payload stored when they were scheduled."""
        with self._lock:
            rows = self._db.execute(
                "SELECT r.id AS run_id, r.hook, r.payload, a.*, e.status AS event_status, e.starts_at AS event_starts,"
                " e.ends_at AS event_ends, e.receiver AS event_receiver FROM hook_runs r"
                " JOIN alert_events e ON e.id = r.event_id JOIN alerts a ON a.fingerprint = r.fingerprint"
                " WHERE r.outcome = 'pending'"
            ).fetchall()
        out = []
        for r in rows:
            if r["payload"] is not None:
                out.append(HookRun(r["run_id"], r["hook"], bytes(r["payload"])))
                continue
            alert = _alert_row(r)  # scheduled by a version that kept no payload: rebuilt
            # the state change the hook was scheduled for, not the alert's latest state
            alert.update(
                status=r["event_status"],
                startsAt=r["event_starts"],
                endsAt=r["event_ends"],
                receiver=r["event_receiver"],
            )
            out.append(HookRun(r["run_id"], r["hook"], hook_payload(alert)))
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
