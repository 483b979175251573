"""``ccmon sink``: local stand-ins for Slack, PagerDuty and an SMTP server.

Records every notification as one JSON line (``--out``), so the local stack shows
what would have been delivered and the end-to-end tests can assert on it; Slack and
PagerDuty can be made to fail (``PUT /faults/slack/error`` or ``…/hang``), and what
they refused is recorded with ``"refused"``. Not a production component. HTTP uses the
standard library (a recorder needs no framework); SMTP uses aiosmtpd, a real SMTP server
implementation.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from otel_ccmon._extras import require

require("the notification sink", "cli", "aiosmtpd")


FAULT_MODES = ("error", "hang")
"""Outside-world faults a channel can be given (``PUT /faults/slack/error``, ``DELETE /faults/slack``):
``error`` answers 500 (the request is recorded as refused), ``hang`` answers nothing for
``HANG_SECONDS`` (longer than Alertmanager's notification timeout) and then 500."""
HANG_SECONDS = 30.0


class _Recorder:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.lock = threading.Lock()
        self.faults: dict[str, str] = {}

    def write(self, record: dict[str, Any]) -> None:
        record["received_at"] = time.time()
        line = json.dumps(record, sort_keys=True)
        with self.lock, open(self.out, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()


def _handler(recorder: _Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._reply(200, b'{"status":"ok"}')

        def do_PUT(self) -> None:
            parts = self.path.strip("/").split("/")
            if (
                len(parts) == 3
                and parts[0] == "faults"
                and parts[1] in ("slack", "pagerduty")
                and parts[2] in FAULT_MODES
            ):
                recorder.faults[parts[1]] = parts[2]
                self._reply(200, json.dumps(recorder.faults).encode())
            else:
                self._reply(404, b'{"error":"PUT /faults/{slack|pagerduty}/{error|hang}"}')

        def do_DELETE(self) -> None:
            parts = self.path.strip("/").split("/")
            if len(parts) == 2 and parts[0] == "faults":
                recorder.faults.pop(parts[1], None)
                self._reply(200, json.dumps(recorder.faults).encode())
            else:
                self._reply(404, b'{"error":"DELETE /faults/{slack|pagerduty}"}')

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            kind = "pagerduty" if self.path.startswith("/pagerduty") else "slack"
            fault = recorder.faults.get(kind)
            if fault is not None:
                recorder.write({"channel": kind, "path": self.path, "body": body, "refused": fault})
                if fault == "hang":
                    time.sleep(HANG_SECONDS)  # the outage being simulated: no answer
                self._reply(500, b'{"error":"injected fault"}')
                return
            recorder.write({"channel": kind, "path": self.path, "body": body})
            self._reply(202 if kind == "pagerduty" else 200, b'{"status":"success"}' if kind == "pagerduty" else b"ok")

        def _reply(self, code: int, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _SmtpHandler:
    def __init__(self, recorder: _Recorder) -> None:
        self.recorder = recorder

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: ARG002 - aiosmtpd API
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("html", "plain"))
        self.recorder.write(
            {
                "channel": "email",
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "subject": str(message["Subject"]),
                "body": body.get_content() if body is not None else "",
            }
        )
        return "250 Message accepted for delivery"


def serve(http_port: int, smtp_port: int, out: Path, host: str = "127.0.0.1") -> None:
    """Run both sinks until SIGTERM/SIGINT."""
    from aiosmtpd.controller import Controller

    recorder = _Recorder(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.touch()
    smtp = Controller(_SmtpHandler(recorder), hostname=host, port=smtp_port)
    smtp.start()
    httpd = ThreadingHTTPServer((host, http_port), _handler(recorder))
    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        httpd.serve_forever()
    finally:
        httpd.server_close()
        smtp.stop()


def add_commands(sub: Any) -> None:
    """Register ``ccmon sink``."""
    p = sub.add_parser("sink", help="local Slack/PagerDuty/SMTP stand-ins that record notifications")
    p.add_argument("--http-port", type=int, default=9097)
    p.add_argument("--smtp-port", type=int, default=9025)
    p.add_argument("--out", default="var/stack/sink.jsonl")

    def run(args: argparse.Namespace) -> int:
        serve(args.http_port, args.smtp_port, Path(args.out))
        return 0

    p.set_defaults(func=run)
