"""Local stubs of the Gemini and OpenAI APIs, so the real Gemini CLI, Codex CLI and Qwen Code run offline.

One server answers the three wire formats the coding agents use (NOTES.md §9):

- Gemini ``POST /v1beta/models/{model}:streamGenerateContent?alt=sse`` (and ``:generateContent``,
  ``:countTokens``): Gemini CLI, pointed here with ``GOOGLE_GEMINI_BASE_URL``;
- OpenAI Responses ``POST /v1/responses`` (SSE): Codex CLI, through a ``model_providers`` entry;
- OpenAI Chat Completions ``POST /v1/chat/completions`` (SSE, usage in the last chunk): Qwen Code,
  through ``OPENAI_BASE_URL``.

Every reply reports the same fixed :class:`Usage`, in each API's own spelling (Gemini and OpenAI
count cached input *inside* the input, and OpenAI reasoning inside the output); every request
answered is recorded, the ground truth a test compares the telemetry with. Written by hand because
no library serves these streaming formats offline; only what the three clients use is implemented.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from otel_ccmon.devstack.anthropic_stub import send_json


@dataclass(frozen=True)
class Usage:
    """One reply's usage, without overlaps: ``input`` excludes cached input, ``output`` excludes reasoning."""

    input: int = 100
    cached: int = 40
    output: int = 30
    reasoning: int = 7


@dataclass(frozen=True)
class Served:
    """A request the stub answered: which API, the model asked for, the status and the usage reported."""

    api: str  # gemini | responses | chat
    model: str
    status: int
    usage: Usage | None


@dataclass
class ModelStub:
    """The usage every reply reports, and what was served. ``status`` != 200 answers errors instead."""

    usage: Usage = Usage()
    status: int = 200
    served: list[Served] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, api: str, model: str) -> Usage | None:
        usage = self.usage if self.status == 200 else None
        with self.lock:
            self.served.append(Served(api, model, self.status, usage))
        return usage

    def of(self, api: str) -> list[Served]:
        with self.lock:
            return [s for s in self.served if s.api == api and s.status == 200]


def _data(payload: dict[str, Any], event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(payload)}\n\n".encode()


def _gemini_usage(u: Usage) -> dict[str, int]:
    prompt = u.input + u.cached
    return {
        "promptTokenCount": prompt,
        "cachedContentTokenCount": u.cached,
        "candidatesTokenCount": u.output,
        "thoughtsTokenCount": u.reasoning,
        "totalTokenCount": prompt + u.output + u.reasoning,
    }


def _gemini(model: str, u: Usage, text: str) -> dict[str, Any]:
    return {
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": _gemini_usage(u),
        "modelVersion": model,
        "responseId": f"r{time.monotonic_ns()}",
    }


def _openai_usage(u: Usage) -> dict[str, Any]:
    return {
        "input_tokens": u.input + u.cached,
        "input_tokens_details": {"cached_tokens": u.cached},
        "output_tokens": u.output + u.reasoning,
        "output_tokens_details": {"reasoning_tokens": u.reasoning},
        "total_tokens": u.input + u.cached + u.output + u.reasoning,
    }


def _responses(model: str, u: Usage, text: str) -> Iterator[bytes]:
    rid, iid = f"resp_{time.monotonic_ns()}", f"msg_{time.monotonic_ns()}"
    base = {"id": rid, "object": "response", "created_at": int(time.time()), "model": model, "output": []}
    yield _data({"type": "response.created", "response": {**base, "status": "in_progress"}}, "response.created")
    item = {"id": iid, "type": "message", "role": "assistant", "status": "in_progress", "content": []}
    yield _data({"type": "response.output_item.added", "output_index": 0, "item": item}, "response.output_item.added")
    yield _data(
        {"type": "response.output_text.delta", "item_id": iid, "output_index": 0, "content_index": 0, "delta": text},
        "response.output_text.delta",
    )
    done = {**item, "status": "completed", "content": [{"type": "output_text", "text": text, "annotations": []}]}
    yield _data({"type": "response.output_item.done", "output_index": 0, "item": done}, "response.output_item.done")
    completed = {**base, "status": "completed", "output": [done], "usage": _openai_usage(u)}
    yield _data({"type": "response.completed", "response": completed}, "response.completed")


def _chat_usage(u: Usage) -> dict[str, Any]:
    """Chat Completions' usage: cached input inside prompt_tokens, reasoning inside completion_tokens."""
    return {
        "prompt_tokens": u.input + u.cached,
        "prompt_tokens_details": {"cached_tokens": u.cached},
        "completion_tokens": u.output + u.reasoning,
        "completion_tokens_details": {"reasoning_tokens": u.reasoning},
        "total_tokens": u.input + u.cached + u.output + u.reasoning,
    }


def _chat(model: str, u: Usage, text: str) -> Iterator[bytes]:
    cid = f"chatcmpl-{time.monotonic_ns()}"
    chunk = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
    yield _data({**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}}]})
    yield _data({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    yield _data({**chunk, "choices": [], "usage": _chat_usage(u)})
    yield b"data: [DONE]\n\n"


def _plain(api: str, model: str, u: Usage) -> dict[str, Any]:
    if api == "responses":
        *_, completed = _responses(model, u, "done")
        return dict(json.loads(completed.decode().split("data: ", 1)[1])["response"])
    message = {"role": "assistant", "content": "done"}
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": _chat_usage(u),
    }


def _handler(stub: ModelStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet: tests read `served`
            pass

        def _json(self, status: int, body: dict[str, Any]) -> None:
            send_json(self, status, body)

        def _stream(self, chunks: Iterator[bytes]) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("cache-control", "no-cache")
            self.send_header("connection", "close")
            self.end_headers()
            for chunk in chunks:
                self.wfile.write(chunk)
            self.wfile.flush()
            self.close_connection = True

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path.endswith("/models"):  # model listings some clients ask for at start
                self._json(200, {"object": "list", "data": [], "models": []})
                return
            self._json(404, {"error": {"message": path}})

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            path = self.path.split("?")[0]
            if path.endswith(":countTokens"):
                self._json(200, {"totalTokens": 10})
                return
            if ":generateContent" in path or ":streamGenerateContent" in path:
                api, model = "gemini", path.rsplit("/", 1)[-1].split(":")[0]
            elif path.endswith("/responses"):
                api, model = "responses", str(body.get("model", ""))
            elif path.endswith("/chat/completions"):
                api, model = "chat", str(body.get("model", ""))
            else:
                self._json(404, {"error": {"message": path}})
                return
            usage = stub.record(api, model)
            if usage is None:
                self._json(stub.status, {"error": {"code": stub.status, "message": "stubbed error", "status": "ERROR"}})
            elif api == "gemini" and "stream" in path:
                self._stream(iter([_data(_gemini(model, usage, "done"))]))
            elif api == "gemini":
                # the `auto` model's routers (classifier, numerical) ask for a JSON verdict, not streamed
                verdict = json.dumps(
                    {
                        "reasoning": "simple",
                        "model_choice": "flash",
                        "complexity_reasoning": "simple",
                        "complexity_score": 10,
                    }
                )
                self._json(200, _gemini(model, usage, verdict))
            elif not body.get("stream"):  # a plain (not streamed) OpenAI reply: the last event's object
                self._json(200, _plain(api, model, usage))
            elif api == "responses":
                self._stream(_responses(model, usage, "done"))
            else:
                self._stream(_chat(model, usage, "done"))

    return Handler


def serve(stub: ModelStub) -> tuple[ThreadingHTTPServer, str]:
    """Start the stub on a free loopback port; returns the server and its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
