"""The alert receiver: Alertmanager's webhook target, authenticated, validated, durable, idempotent.

Every accepted notification and alert state change is committed to SQLite (WAL,
``synchronous=FULL``) before the 2xx is sent, so a ``kill -9`` loses nothing that
was acknowledged. Re-deliveries (Alertmanager retries, both members of an HA pair)
are recognised by a content key and stored once. Hooks run off the request path;
their pending runs are part of the same transaction and are resumed after a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import hmac
import html
import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import otel_ccmon as ccmon
from otel_ccmon._extras import require

require("the alert receiver", "receiver", "fastapi", "pydantic", "uvicorn")

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from pydantic import ValidationError

from otel_ccmon.fastapi import instrument_app
from otel_ccmon.receiver.hooks import Hook, HookRunner, schedule
from otel_ccmon.receiver.models import MAX_JSON_DEPTH, NotificationModel, json_depth
from otel_ccmon.receiver.store import AlertStore

_log = logging.getLogger("otel_ccmon.receiver")

RUNBOOK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{0,99}\.md")
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


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
    runbooks_dir: Path | None = None  # serves <dir>/<AlertName>.md at /runbooks/<AlertName>.md
    # evidence of a stall (docs/reliability.md): a request slower than this is logged, and an event
    # loop blocked for stall_dump_s dumps every thread's stack to stderr (None: neither)
    slow_request_s: float | None = 2.0
    stall_dump_s: float | None = 10.0


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
    scheduled = schedule(settings.hooks)

    app = FastAPI(title="otel-ccmon alert receiver", lifespan=_lifespan(settings, store, runner))
    app.state.store = store
    monitor = instrument_app(app)
    if settings.slow_request_s is not None:
        app.add_middleware(SlowRequestLog, threshold_s=settings.slow_request_s)
    rec = monitor.recorder

    def authorized(request: Request) -> bool:
        return _authorized(request, settings.token)

    def reject(exc: _Reject) -> JSONResponse:
        rec.add("alert_receiver.rejections", 1, exc.reason)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"error": exc.reason, "detail": exc.detail}, status_code=exc.status, headers=headers)

    async def receive(request: Request, receiver_path: str | None) -> JSONResponse:
        started = time.perf_counter()
        try:
            notification, raw = await _parse(request, settings)
        except _Reject as exc:
            return reject(exc)
        if receiver_path is not None and receiver_path != notification.receiver:
            _log.info("path receiver %r differs from payload receiver %r", receiver_path, notification.receiver)
        try:
            result = await asyncio.to_thread(store.store, notification, raw.decode(), scheduled)
        except sqlite3.Error as exc:
            # nothing was acknowledged: a 5xx makes Alertmanager retry the same notification
            _log.error("cannot store the notification (%s); answering 503, Alertmanager retries", exc)
            return reject(_Reject(503, "storage_unavailable", str(exc)[:200]))
        rec.observe("alert_receiver.processing.duration", time.perf_counter() - started)
        if result.duplicate:
            rec.add("alert_receiver.duplicates", 1, notification.receiver, notification.status)
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

    _add_runbook_routes(app, settings.runbooks_dir)

    _add_query_routes(app, store, authorized, reject)
    return app


def _authorized(request: Request, token: str | None) -> bool:
    """The request carries the bearer token (any request does when none is configured)."""
    if token is None:
        return True
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(credentials.encode(), token.encode())


async def _read_limited(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
        raise _Reject(413, "too_large", f"body exceeds {max_bytes} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _Reject(413, "too_large", f"body exceeds {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _parse(request: Request, settings: ReceiverSettings) -> tuple[NotificationModel, bytes]:
    """An authorised, bounded, well-formed notification and its raw body; else :class:`_Reject`
    with the status and reason (nothing is stored)."""
    if not _authorized(request, settings.token):
        raise _Reject(401, "unauthorized", "missing or wrong bearer token")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise _Reject(415, "unsupported_media_type", "Content-Type must be application/json")
    raw = await _read_limited(request, settings.max_body_bytes)
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise _Reject(400, "too_deep", f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise _Reject(400, "malformed_json", str(exc)[:200]) from None
    try:
        return NotificationModel.model_validate(data), raw
    except ValidationError as exc:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()[:20]]
        raise _Reject(422, "invalid_schema", errors) from None


def _lifespan(
    settings: ReceiverSettings, store: AlertStore, runner: HookRunner
) -> Callable[[Any], contextlib.AbstractAsyncContextManager[None]]:
    """Start-up (resume interrupted hook runs, prune, the stall watchdog) and shutdown."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        runner.submit(store.pending_hook_runs())  # resume what a crash interrupted
        store.prune(max_age_s=settings.retention_days * 86400, max_alerts=settings.max_alerts)
        watchdog = asyncio.create_task(stall_watchdog(settings.stall_dump_s)) if settings.stall_dump_s else None
        try:
            yield
        finally:
            if watchdog is not None:
                watchdog.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watchdog
            runner.shutdown()
            store.close()
            ccmon.shutdown_metrics()

    return lifespan


def _add_query_routes(
    app: FastAPI,
    store: AlertStore,
    authorized: Callable[[Request], bool],
    reject: Callable[[_Reject], JSONResponse],
) -> None:
    """``/health`` (counts, no token) and the token-protected ``/alerts`` and ``/alerts/FINGERPRINT``."""

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


def _add_runbook_routes(app: FastAPI, runbooks_dir: Path | None) -> None:
    """``/runbooks/`` and ``/runbooks/NAME.md``: the runbooks, without a token (on-call opens them
    from a notification)."""

    @app.get("/runbooks/", response_model=None)
    def runbook_index() -> Any:
        # the dashboards' "Runbooks" link: one line per runbook
        if runbooks_dir is None:
            return JSONResponse({"error": "not_found", "detail": "no --runbooks-dir configured"}, status_code=404)
        names = sorted(p.name for p in runbooks_dir.glob("*.md") if RUNBOOK_NAME.fullmatch(p.name))
        items = "".join(f'<li><a href="{html.escape(n)}">{html.escape(n[:-3])}</a></li>' for n in names)
        return HTMLResponse(f"<!doctype html><title>otel-ccmon runbooks</title><h1>Runbooks</h1><ul>{items}</ul>")

    @app.get("/runbooks/{name}", response_model=None)
    def runbook(name: str) -> Any:
        # the alerts' runbook_url default: on-call opens it from Slack or email, without a token
        if runbooks_dir is None:
            return JSONResponse({"error": "not_found", "detail": "no --runbooks-dir configured"}, status_code=404)
        if not RUNBOOK_NAME.fullmatch(name):
            return JSONResponse({"error": "not_found"}, status_code=404)
        path = runbooks_dir / name
        if not path.is_file():
            return JSONResponse({"error": "not_found"}, status_code=404)
        return PlainTextResponse(path.read_text(), media_type="text/markdown; charset=utf-8")


async def stall_watchdog(after_s: float, period_s: float = 1.0) -> None:
    """Until cancelled: if this event loop stops for ``after_s``, every thread's stack is written
    to stderr (faulthandler's own thread, which needs no GIL, does it during the stall); a loop that
    resumes late logs by how much. Run as a task on the loop to watch.

    >>> async def main():
    ...     task = asyncio.create_task(stall_watchdog(5.0, period_s=0.01))
    ...     await asyncio.sleep(0.03)
    ...     task.cancel()
    >>> asyncio.run(main())
    """
    loop = asyncio.get_running_loop()
    try:
        while True:
            faulthandler.dump_traceback_later(after_s, exit=False)  # re-armed: fires only if we stop
            start = loop.time()
            await asyncio.sleep(period_s)
            late = loop.time() - start - period_s
            if late > 1.0:
                _log.warning("event loop resumed %.1f s late (blocked, or the process had no CPU)", late)
    finally:
        faulthandler.cancel_dump_traceback_later()


class SlowRequestLog:
    """ASGI middleware: a request slower than ``threshold_s`` is logged with the number of live
    threads (sync routes wait for a worker thread; a stall shows whether they were all busy)."""

    def __init__(self, app: Any, threshold_s: float) -> None:
        self.app = app
        self.threshold_s = threshold_s

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            took = time.perf_counter() - start
            if took > self.threshold_s:
                _log.warning(
                    "slow request: %s %s took %.1f s (%d threads)",
                    scope["method"], str(scope["path"])[:100], took, threading.active_count(),
                )  # fmt: skip


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
