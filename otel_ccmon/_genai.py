"""The model calls of an application's agents, exact (issue 33): tokens, requests and duration of the
Anthropic, OpenAI and Google GenAI Python SDKs' calls, recorded as the catalog's ``genai.*`` metrics; the collector
maps tokens and requests onto the every-agent metrics (docs/agents.md) and prices the tokens.

Switched on by ``ccmon-instrument`` (the ``opentelemetry_instrumentor`` entry points
``ccmon_anthropic``, ``ccmon_openai`` and ``ccmon_google_genai``, loaded when the SDK is installed) or by
:func:`instrument_genai`. Nothing of a prompt or an answer is read or recorded: only the usage
block, the model, the status and the time.

Written here, not taken from the maintained instrumentations, because none is exact here (measured
with the SDKs against tests/anthropic_stub.py and tests/model_stubs.py, docs/agents.md "Agent
applications"): OpenLLMetry's ``opentelemetry-instrumentation-anthropic`` 0.62.4 counts a streamed
call's output one token high (it adds message_start's output to message_delta's running total) and
records cached input inside input with no split; the contrib ``opentelemetry-instrumentation-openai-v2``
2.4b0 records no usage for streamed calls and needs ``opentelemetry-util-genai`` < 1.0 while
``-google-genai`` 1.3b0 needs 1.x, so both cannot be installed together.

Where the SDKs are hooked: ``create`` of Messages (Anthropic), Chat Completions and Responses
(OpenAI), sync and async, for the request count, duration and a non-streamed reply's usage; the
SDKs' ``Stream.__stream__`` for a streamed reply's usage (every streamed call, ``messages.stream()``
included, passes there). A streamed Chat Completion reports usage only when the app asks for it
(``stream_options={"include_usage": True}``); without it its tokens cannot be counted.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

from otel_ccmon import _core

_AGENT: contextvars.ContextVar[str | None] = contextvars.ContextVar("ccmon_genai_agent", default=None)
_COUNTED = "_ccmon_request_counted"  # set on a stream whose request create() counted already


@contextlib.contextmanager
def genai_agent(name: str) -> Iterator[None]:
    """Attribute the model calls made inside the block to the agent ``name`` (the ``agent`` label).

    >>> with genai_agent("coder"):
    ...     current_agent()
    'coder'
    """
    token = _AGENT.set(name)
    try:
        yield
    finally:
        _AGENT.reset(token)


def current_agent() -> str:
    """The agent model calls are attributed to: the innermost :func:`genai_agent`, else the service."""
    name = _AGENT.get()
    if name:
        return name
    monitor = _core.current()
    return monitor.settings.service_name if monitor is not None else "unknown"


@dataclass(frozen=True, slots=True)
class Usage:
    """One reply's tokens, without overlaps (as the shared token metric counts them)."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_creation: int = 0
    reasoning: int = 0
    tool: int = 0

    def by_type(self) -> tuple[tuple[str, int], ...]:
        return (
            ("input", self.input),
            ("output", self.output),
            ("cacheRead", self.cache_read),
            ("cacheCreation", self.cache_creation),
            ("reasoning", self.reasoning),
            ("tool", self.tool),
        )


def _n(obj: Any, name: str) -> int:
    value = getattr(obj, name, None) if obj is not None else None
    return value if isinstance(value, int) and value >= 0 else 0


def anthropic_usage(u: Any) -> Usage:
    """The Messages API's usage: input already excludes cache reads and writes."""
    return Usage(
        input=_n(u, "input_tokens"),
        output=_n(u, "output_tokens"),
        cache_read=_n(u, "cache_read_input_tokens"),
        cache_creation=_n(u, "cache_creation_input_tokens"),
    )


def openai_usage(u: Any) -> Usage:
    """Chat Completions' or Responses' usage: cached input is inside input, reasoning inside output."""
    if hasattr(u, "prompt_tokens"):  # Chat Completions
        total_in, total_out = _n(u, "prompt_tokens"), _n(u, "completion_tokens")
        cached = _n(getattr(u, "prompt_tokens_details", None), "cached_tokens")
        reasoning = _n(getattr(u, "completion_tokens_details", None), "reasoning_tokens")
    else:  # Responses
        total_in, total_out = _n(u, "input_tokens"), _n(u, "output_tokens")
        cached = _n(getattr(u, "input_tokens_details", None), "cached_tokens")
        reasoning = _n(getattr(u, "output_tokens_details", None), "reasoning_tokens")
    return Usage(
        input=max(0, total_in - cached),
        output=max(0, total_out - reasoning),
        cache_read=cached,
        reasoning=reasoning,
    )


def gemini_usage(u: Any) -> Usage:
    """The Gemini API's ``usage_metadata``: cached content inside the prompt count; thoughts and
    tool-use prompts counted apart."""
    cached = _n(u, "cached_content_token_count")
    return Usage(
        input=max(0, _n(u, "prompt_token_count") - cached),
        output=_n(u, "candidates_token_count"),
        cache_read=cached,
        reasoning=_n(u, "thoughts_token_count"),
        tool=_n(u, "tool_use_prompt_token_count"),
    )


def _recorder() -> Any:
    from otel_ccmon._api import _rec

    return _rec()


def record_usage(provider: str, model: str, usage: Usage, agent: str | None = None) -> None:
    """Count one reply's tokens (``genai_tokens_total``).

    >>> record_usage("anthropic", "claude-sonnet-4-5", Usage(input=10, output=5))
    """
    rec, who = _recorder(), agent or current_agent()
    for typ, n in usage.by_type():
        if n:
            rec.add("genai.tokens", n, who, provider, model or "unknown", typ)


def record_call(provider: str, model: str, status: str, seconds: float | None, agent: str | None = None) -> None:
    """Count one model API call and its duration (``genai_requests_total``, ``genai_duration_seconds``;
    ``seconds`` None: not timed)."""
    rec, who, model = _recorder(), agent or current_agent(), model or "unknown"
    rec.add("genai.requests", 1, who, provider, model, status)
    if seconds is not None:
        rec.observe("genai.duration", seconds, who, provider, model, "ok" if status.startswith("2") else "error")


def _status(exc: BaseException) -> str:
    code = getattr(exc, "status_code", None)
    return str(code) if isinstance(code, int) else "error"


class _Watcher:
    """Reads a stream's events for the usage of each reply in it; records each reply once."""

    def __init__(self, provider: str, count_request: bool) -> None:
        self.provider = provider
        self.count_request = count_request
        self.model = ""
        self.usage: Usage | None = None
        self.agent = current_agent()

    def flush(self) -> None:
        if self.usage is not None:
            record_usage(self.provider, self.model, self.usage, self.agent)
            self.usage = None

    def on(self, item: Any) -> None:
        kind = getattr(item, "type", None)
        if self.provider == "anthropic":
            self._anthropic(kind, item)
        elif kind == "response.completed":  # OpenAI Responses
            response = getattr(item, "response", None)
            self.model, self.usage = str(getattr(response, "model", "")), openai_usage(getattr(response, "usage", None))
            self.flush()
        elif getattr(item, "object", None) == "chat.completion.chunk" and getattr(item, "usage", None) is not None:
            self.model, self.usage = str(getattr(item, "model", "")), openai_usage(item.usage)
            self.flush()

    def _anthropic(self, kind: object, item: Any) -> None:
        if kind == "message_start":
            message = getattr(item, "message", None)
            self.model, self.usage = (
                str(getattr(message, "model", "")),
                anthropic_usage(getattr(message, "usage", None)),
            )
            if self.count_request:  # a stream opened by messages.stream(): create() did not count it
                record_call(self.provider, self.model, "200", None, self.agent)
        elif kind == "message_delta" and self.usage is not None:
            # message_delta's usage is the running total: output always, input and cache when sent
            delta, u = getattr(item, "usage", None), self.usage
            self.usage = Usage(
                input=_n(delta, "input_tokens") or u.input,
                output=_n(delta, "output_tokens") or u.output,
                cache_read=_n(delta, "cache_read_input_tokens") or u.cache_read,
                cache_creation=_n(delta, "cache_creation_input_tokens") or u.cache_creation,
            )
        elif kind == "message_stop":
            self.flush()


def _wrap_stream(cls: Any, provider: str) -> Callable[[], None]:
    """Wrap ``cls.__stream__`` (a generator, or an async one) to watch the events; returns the undo."""
    original = cls.__dict__["__stream__"]

    if _is_async(cls):

        async def astream(self: Any) -> AsyncIterator[Any]:
            watcher = _Watcher(provider, not getattr(self, _COUNTED, False))
            try:
                async for item in original(self):
                    watcher.on(item)
                    yield item
            finally:
                watcher.flush()  # a stream cut short: what it reported is billed

        cls.__stream__ = functools.wraps(original)(astream)
    else:

        def stream(self: Any) -> Iterator[Any]:
            watcher = _Watcher(provider, not getattr(self, _COUNTED, False))
            try:
                for item in original(self):
                    watcher.on(item)
                    yield item
            finally:
                watcher.flush()

        cls.__stream__ = functools.wraps(original)(stream)
    return lambda: setattr(cls, "__stream__", original)


def _is_async(cls: Any) -> bool:
    return str(cls.__name__).startswith("Async")


def _wrap_create(
    cls: Any, provider: str, usage_of: Callable[[Any], Usage], stream_types: tuple[type, ...]
) -> Callable[[], None]:
    """Wrap ``cls.create`` (sync or async): count the call, time it, count a non-streamed reply's usage."""
    original = cls.__dict__["create"]

    def done(result: Any, model: str, started: float) -> Any:
        record_call(provider, str(getattr(result, "model", "") or model), "200", time.perf_counter() - started)
        if isinstance(result, stream_types):
            setattr(result, _COUNTED, True)
        elif getattr(result, "usage", None) is not None:
            record_usage(provider, str(getattr(result, "model", "") or model), usage_of(result.usage))
        return result

    if _is_async(cls):

        async def acreate(self: Any, *args: Any, **kwargs: Any) -> Any:
            started, model = time.perf_counter(), str(kwargs.get("model", ""))
            try:
                result = await original(self, *args, **kwargs)
            except Exception as exc:
                record_call(provider, model, _status(exc), time.perf_counter() - started)
                raise
            return done(result, model, started)

        cls.create = functools.wraps(original)(acreate)
    else:

        def create(self: Any, *args: Any, **kwargs: Any) -> Any:
            started, model = time.perf_counter(), str(kwargs.get("model", ""))
            try:
                result = original(self, *args, **kwargs)
            except Exception as exc:
                record_call(provider, model, _status(exc), time.perf_counter() - started)
                raise
            return done(result, model, started)

        cls.create = functools.wraps(original)(create)
    return lambda: setattr(cls, "create", original)


def _hook_anthropic() -> list[Callable[[], None]]:
    from anthropic import _streaming
    from anthropic.resources import messages

    streams = (_streaming.Stream, _streaming.AsyncStream)
    undo = [_wrap_stream(cls, "anthropic") for cls in streams]
    for cls in (messages.Messages, messages.AsyncMessages):
        undo.append(_wrap_create(cls, "anthropic", anthropic_usage, streams))
    return undo


def _hook_openai() -> list[Callable[[], None]]:
    from openai import _streaming
    from openai.resources import responses
    from openai.resources.chat import completions

    streams = (_streaming.Stream, _streaming.AsyncStream)
    undo = [_wrap_stream(cls, "openai") for cls in streams]
    for cls in (completions.Completions, completions.AsyncCompletions, responses.Responses, responses.AsyncResponses):
        undo.append(_wrap_create(cls, "openai", openai_usage, streams))
    return undo


def _gemini_model(response: Any, requested: str) -> str:
    return str(getattr(response, "model_version", None) or requested).removeprefix("models/")


def _wrap_gemini(cls: Any, name: str, stream: bool) -> Callable[[], None]:
    """Wrap ``Models.generate_content`` (or ``_stream``), sync or async, of the Google GenAI SDK."""
    original = cls.__dict__[name]
    provider = "gcp.gen_ai"

    def failed(model: str, started: float, exc: BaseException) -> None:
        record_call(provider, model, _status(exc), time.perf_counter() - started)

    def last_usage(chunks: list[Any], model: str) -> None:
        # a stream's usage_metadata is the running total: the last chunk that has one counts
        if chunks:
            record_usage(provider, _gemini_model(chunks[0], model), gemini_usage(chunks[0].usage_metadata))

    def keep(seen: list[Any], chunk: Any) -> None:
        if getattr(chunk, "usage_metadata", None) is not None:
            seen[:] = [chunk]

    if _is_async(cls):

        async def acall(self: Any, *args: Any, **kwargs: Any) -> Any:
            started, model = time.perf_counter(), str(kwargs.get("model", "")).removeprefix("models/")
            try:
                result = await original(self, *args, **kwargs)
            except Exception as exc:
                failed(model, started, exc)
                raise
            record_call(provider, model, "200", time.perf_counter() - started)
            if not stream:
                record_usage(provider, _gemini_model(result, model), gemini_usage(result.usage_metadata))
                return result

            async def chunks() -> AsyncIterator[Any]:
                seen: list[Any] = []
                try:
                    async for chunk in result:
                        keep(seen, chunk)
                        yield chunk
                finally:
                    last_usage(seen, model)

            return chunks()

        setattr(cls, name, functools.wraps(original)(acall))
    else:

        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            started, model = time.perf_counter(), str(kwargs.get("model", "")).removeprefix("models/")
            try:
                result = original(self, *args, **kwargs)
            except Exception as exc:
                failed(model, started, exc)
                raise
            if not stream:
                record_call(provider, model, "200", time.perf_counter() - started)
                record_usage(provider, _gemini_model(result, model), gemini_usage(result.usage_metadata))
                return result

            def chunks() -> Iterator[Any]:
                seen: list[Any] = []
                started_reading = False
                try:
                    for i, chunk in enumerate(result):
                        if i == 0:  # the request is made when the stream is first read
                            record_call(provider, model, "200", time.perf_counter() - started)
                        started_reading = True
                        keep(seen, chunk)
                        yield chunk
                except Exception as exc:
                    if not started_reading:
                        failed(model, started, exc)
                    raise
                finally:
                    last_usage(seen, model)

            return chunks()

        setattr(cls, name, functools.wraps(original)(call))
    return lambda: setattr(cls, name, original)


def _hook_google_genai() -> list[Callable[[], None]]:
    from google.genai import models

    undo = []
    for cls in (models.Models, models.AsyncModels):
        undo.append(_wrap_gemini(cls, "generate_content", stream=False))
        undo.append(_wrap_gemini(cls, "generate_content_stream", stream=True))
    return undo


_HOOKS: dict[str, Callable[[], list[Callable[[], None]]]] = {
    "anthropic": _hook_anthropic,
    "openai": _hook_openai,
    "google-genai": _hook_google_genai,
}
_UNDO: dict[str, list[Callable[[], None]]] = {}


def instrument_genai(*providers: str) -> tuple[str, ...]:
    """Hook the model SDKs that are installed (or ``providers``); returns those hooked. Idempotent.

    >>> isinstance(instrument_genai(), tuple)
    True
    """
    hooked = []
    for name in providers or tuple(_HOOKS):
        if name in _UNDO:
            hooked.append(name)
            continue
        try:
            _UNDO[name] = _HOOKS[name]()
        except ImportError:
            continue
        hooked.append(name)
    return tuple(hooked)


def uninstrument_genai() -> None:
    """Undo :func:`instrument_genai`."""
    for undo in _UNDO.values():
        for step in reversed(undo):
            step()
    _UNDO.clear()


def _instrumentor(provider: str, requirement: str, class_name: str) -> type:
    from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

    class _Instrumentor(BaseInstrumentor):  # type: ignore[misc]
        def instrumentation_dependencies(self) -> Collection[str]:
            return (requirement,)

        def _instrument(self, **kwargs: Any) -> None:  # noqa: ARG002 - the base class's signature
            instrument_genai(provider)

        def _uninstrument(self, **kwargs: Any) -> None:  # noqa: ARG002
            for step in reversed(_UNDO.pop(provider, [])):
                step()

    _Instrumentor.__name__ = _Instrumentor.__qualname__ = class_name
    return _Instrumentor


def __getattr__(name: str) -> Any:
    # the entry points' targets, built on first use (opentelemetry-instrumentation is an extra)
    if name == "AnthropicInstrumentor":
        return _instrumentor("anthropic", "anthropic >= 0.40", name)
    if name == "OpenAIInstrumentor":
        return _instrumentor("openai", "openai >= 1.40", name)
    if name == "GoogleGenAIInstrumentor":
        return _instrumentor("google-genai", "google-genai >= 1.0", name)
    raise AttributeError(name)
