"""A local stub of the Anthropic Messages API, so the real Claude Code CLI, the Anthropic SDK and the
demo's agents run offline (``ccmon model-stub``; the local stack starts it for the demo, issue 33).

A client is pointed at it with ``ANTHROPIC_BASE_URL``. Each ``POST /v1/messages`` is answered
from a script keyed by a marker in the last user message (``[[scenario]]``), so a test knows
exactly which token usage every request reports; the stub records every request it answered,
which is the ground truth the telemetry is compared with. Written by hand because no library
serves the Messages API's streaming format offline; it implements only what the CLI uses:
streaming (SSE) and non-streaming replies, ``tool_use`` turns, and error statuses.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MARKER = re.compile(r"\[\[([a-z0-9_-]+)\]\]")


@dataclass(frozen=True)
class Usage:
    """Token usage one reply reports."""

    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0


@dataclass(frozen=True)
class Turn:
    """One reply: text, or a tool call the CLI executes before asking again; or an error."""

    usage: Usage = Usage(10, 5)
    text: str = "done"
    tool: tuple[str, dict[str, Any]] | None = None
    status: int = 200
    delay: float = 0.0


@dataclass
class Served:
    """A request the stub answered: its scenario, model and the usage it reported."""

    scenario: str
    model: str
    status: int
    usage: Usage | None
    # the tool_result blocks the request's last message carried (is_error, content's start): what
    # the CLI's tool did, for a test's failure message
    tool_results: tuple[tuple[bool, str], ...] = ()


@dataclass
class Stub:
    """The scripts by scenario: the n-th request of a scenario in one conversation gets turn n."""

    scenarios: dict[str, tuple[Turn, ...]]
    served: list[Served] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pick(self, body: dict[str, Any]) -> tuple[str, Turn]:
        scenario, position = "default", 0
        for message in body.get("messages", []):
            if message.get("role") != "user":
                continue
            found = MARKER.search(json.dumps(message.get("content")))
            if found:
                scenario = found.group(1)
            # turns of a tool loop: each tool_result the CLI sends back moves one turn on
            if '"tool_result"' in json.dumps(message.get("content")):
                position += 1
        turns = self.scenarios.get(scenario, (Turn(),))
        return scenario, turns[min(position, len(turns) - 1)]


def _last_tool_results(body: dict[str, Any]) -> tuple[tuple[bool, str], ...]:
    messages = body.get("messages") or [{}]
    content = messages[-1].get("content")
    blocks = content if isinstance(content, list) else []
    return tuple(
        (bool(b.get("is_error")), json.dumps(b.get("content"))[:300])
        for b in blocks
        if isinstance(b, dict) and b.get("type") == "tool_result"
    )


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def _events(model: str, turn: Turn) -> Iterator[bytes]:
    u = turn.usage
    message_id = f"msg_{time.monotonic_ns()}"
    yield _sse(
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": u.input_tokens,
                    "output_tokens": 1,
                    "cache_read_input_tokens": u.cache_read_input_tokens,
                    "cache_creation_input_tokens": u.cache_creation_input_tokens,
                },
            },
        },
    )
    if turn.tool:
        name, tool_input = turn.tool
        yield _sse(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "tool_use", "id": f"toolu_{time.monotonic_ns()}", "name": name, "input": {}},
            },
        )
        yield _sse(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": json.dumps(tool_input)},
            },
        )
    else:
        yield _sse(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        )
        yield _sse(
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": turn.text}},
        )
    yield _sse("content_block_stop", {"type": "content_block_stop", "index": 0})
    yield _sse(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use" if turn.tool else "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": u.output_tokens},
        },
    )
    yield _sse("message_stop", {"type": "message_stop"})


def send_json(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    """Answer ``body`` as JSON with ``status`` (the stubs' replies, errors included)."""
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet: the tests read `served`
            pass

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            send_json(self, status, body)

        def do_GET(self) -> None:
            if self.path.split("?")[0] == "/health":  # the local stack's readiness check
                self._reply(200, {"status": "ok", "served": len(stub.served)})
                return
            self._reply(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})

        def do_HEAD(self) -> None:
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            path = self.path.split("?")[0]
            if path.endswith("/count_tokens"):
                self._reply(200, {"input_tokens": 10})
                return
            if not path.endswith("/v1/messages"):
                self._reply(404, {"type": "error", "error": {"type": "not_found_error", "message": path}})
                return
            model = str(body.get("model", "claude-sonnet-4-5"))
            scenario, turn = stub.pick(body)
            if turn.delay:
                time.sleep(turn.delay)  # the scenario's think time, so exports see idle gaps
            if turn.status != 200:
                with stub.lock:
                    stub.served.append(Served(scenario, model, turn.status, None))
                kind = "rate_limit_error" if turn.status == 429 else "api_error"
                self._reply(turn.status, {"type": "error", "error": {"type": kind, "message": "stubbed error"}})
                return
            with stub.lock:
                stub.served.append(Served(scenario, model, 200, turn.usage, _last_tool_results(body)))
            if body.get("stream"):
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.send_header("connection", "close")
                self.end_headers()
                for chunk in _events(model, turn):
                    self.wfile.write(chunk)
                self.wfile.flush()
                self.close_connection = True
                return
            u = turn.usage
            content: list[dict[str, Any]] = (
                [{"type": "tool_use", "id": "toolu_1", "name": turn.tool[0], "input": turn.tool[1]}]
                if turn.tool
                else [{"type": "text", "text": turn.text}]
            )
            self._reply(
                200,
                {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": content,
                    "stop_reason": "tool_use" if turn.tool else "end_turn",
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": u.input_tokens,
                        "output_tokens": u.output_tokens,
                        "cache_read_input_tokens": u.cache_read_input_tokens,
                        "cache_creation_input_tokens": u.cache_creation_input_tokens,
                    },
                },
            )

    return Handler


@contextlib.contextmanager
def serving(started: tuple[ThreadingHTTPServer, str]) -> Iterator[str]:
    """The base URL of a stub ``serve()`` started, until the block ends; then the stub is stopped.

    >>> with serving(serve(Stub({}))) as url:
    ...     url.startswith("http://127.0.0.1:")
    True
    """
    server, url = started
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def serve(stub: Stub) -> tuple[ThreadingHTTPServer, str]:
    """Start the stub on a free loopback port; returns the server and its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


DEMO_USAGE = Usage(300, 80, 1000, 0)
"""What every demo model call reports: about 0.0008 USD with claude-haiku-4-5 at the table's prices."""
DEMO_SCENARIOS: dict[str, tuple[Turn, ...]] = {
    "default": (Turn(DEMO_USAGE),),
    # the demo's faults (otel_ccmon/demo/app.py), named in the prompt as [[llm_errors]] / [[llm_slow]]
    "llm_errors": (Turn(status=500),),
    "llm_slow": (Turn(DEMO_USAGE, delay=12.0),),  # above AgentModelLatencyHigh's 10 s p95
}


def _serve_forever(args: argparse.Namespace) -> int:
    stub = Stub(DEMO_SCENARIOS)
    server = ThreadingHTTPServer((args.host, args.port), _handler(stub))
    server.daemon_threads = True
    print(f"ccmon model-stub: Messages API stub on http://{args.host}:{args.port}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def add_commands(sub: Any) -> None:
    """Register ``ccmon model-stub``."""
    parser = sub.add_parser("model-stub", help="a local stub of the Anthropic Messages API (the demo's model)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9098)
    parser.set_defaults(func=_serve_forever)
