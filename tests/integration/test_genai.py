"""The GenAI instrumentation (otel_ccmon/_genai.py) with the real Anthropic and OpenAI SDKs against
local stubs of their APIs: every reply's tokens exactly once, plain and streamed (``create(stream=True)``
and ``messages.stream()``), sync and async, by agent; requests and failures by status; nothing of a
prompt recorded. The maintained instrumentations were measured against the same stubs (module
docstring of otel_ccmon/_genai.py) and were not exact."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

from otel_ccmon._genai import genai_agent, instrument_genai, uninstrument_genai
from tests.anthropic_stub import Stub, Turn, Usage, serve, serving
from tests.conftest import Reader
from tests.model_stubs import ModelStub
from tests.model_stubs import Usage as OpenAIUsage
from tests.model_stubs import serve as serve_models

CLAUDE = Usage(input_tokens=100, output_tokens=30, cache_read_input_tokens=40, cache_creation_input_tokens=20)


@pytest.fixture(autouse=True)
def hooked() -> Iterator[None]:
    assert set(instrument_genai()) == {"anthropic", "openai", "google-genai"}
    try:
        yield
    finally:
        uninstrument_genai()


@pytest.fixture
def claude() -> Iterator[tuple[Stub, str]]:
    stub = Stub({"default": (Turn(CLAUDE),), "fail": (Turn(status=429),)})
    with serving(serve(stub)) as url:
        yield stub, url


@pytest.fixture
def gpt() -> Iterator[tuple[ModelStub, str]]:
    stub = ModelStub(OpenAIUsage(input=100, cached=40, output=30, reasoning=7))
    with serving(serve_models(stub)) as url:
        yield stub, url


def tokens(metrics: Reader, agent: str, model: str, typ: str, provider: str = "anthropic") -> float:
    try:
        return metrics.value(
            "genai.tokens",
            **{
                "gen_ai.agent.name": agent,
                "gen_ai.provider.name": provider,
                "gen_ai.response.model": model,
                "type": typ,
            },
        )
    except KeyError:
        return 0.0


MESSAGE: Any = [{"role": "user", "content": "SECRET-PROMPT hello"}]  # the SDKs' TypedDicts accept it


def test_anthropic_plain_streamed_and_async_calls_count_each_token_once(
    metrics: Reader, claude: tuple[Stub, str]
) -> None:
    stub, url = claude
    client = anthropic.Anthropic(base_url=url, api_key="x", max_retries=0)
    model = "claude-stub-1"  # not in the SDK's deprecation list
    with genai_agent("coder"):
        client.messages.create(model=model, max_tokens=10, messages=MESSAGE)
        for _ in client.messages.create(model=model, max_tokens=10, messages=MESSAGE, stream=True):
            pass
        with client.messages.stream(model=model, max_tokens=10, messages=MESSAGE) as stream:
            assert stream.get_final_text() == "done"
    with genai_agent("reviewer"):

        async def both() -> None:
            aclient = anthropic.AsyncAnthropic(base_url=url, api_key="x", max_retries=0)
            await aclient.messages.create(model=model, max_tokens=10, messages=MESSAGE)
            stream = await aclient.messages.create(model=model, max_tokens=10, messages=MESSAGE, stream=True)
            async for _ in stream:
                pass

        asyncio.run(both())
    assert len(stub.served) == 5
    # the stub's message_start says output 1, message_delta the running total 30: 30 per reply, not 31
    for agent, replies in (("coder", 3), ("reviewer", 2)):
        assert tokens(metrics, agent, model, "input") == replies * 100
        assert tokens(metrics, agent, model, "output") == replies * 30
        assert tokens(metrics, agent, model, "cacheRead") == replies * 40
        assert tokens(metrics, agent, model, "cacheCreation") == replies * 20
    requests = {
        (dict(p.attributes)["gen_ai.agent.name"], dict(p.attributes)["status_code"]): p.value
        for p in metrics.points("genai.requests")
    }
    assert requests == {("coder", "200"): 3, ("reviewer", "200"): 2}


def test_a_failed_call_counts_its_status_and_no_tokens(metrics: Reader, claude: tuple[Stub, str]) -> None:
    _, url = claude
    client = anthropic.Anthropic(base_url=url, api_key="x", max_retries=0)
    with genai_agent("planner"), pytest.raises(anthropic.RateLimitError):
        client.messages.create(
            model="claude-haiku-4-5", max_tokens=10, messages=[{"role": "user", "content": "[[fail]]"}]
        )
    (point,) = metrics.points("genai.requests")
    assert dict(point.attributes)["status_code"] == "429" and point.value == 1
    assert not metrics.points("genai.tokens")
    (duration,) = metrics.points("genai.duration")
    assert dict(duration.attributes)["outcome"] == "error"


def test_openai_chat_and_responses_take_cache_and_reasoning_out(metrics: Reader, gpt: tuple[ModelStub, str]) -> None:
    stub, url = gpt
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0)
    with genai_agent("coder"):
        chunks = client.chat.completions.create(
            model="gpt-5-mini", messages=MESSAGE, stream=True, stream_options={"include_usage": True}
        )
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "done"
        for _ in client.responses.create(model="gpt-5-codex", input="SECRET-PROMPT", stream=True):
            pass
    assert len(stub.served) == 2
    for model in ("gpt-5-mini", "gpt-5-codex"):
        assert tokens(metrics, "coder", model, "input", "openai") == 100  # 140 sent, 40 of them cached
        assert tokens(metrics, "coder", model, "cacheRead", "openai") == 40
        assert tokens(metrics, "coder", model, "output", "openai") == 30  # 37 sent, 7 of them reasoning
        assert tokens(metrics, "coder", model, "reasoning", "openai") == 7


def test_google_genai_plain_and_streamed_take_cache_out(metrics: Reader, gpt: tuple[ModelStub, str]) -> None:
    from google import genai
    from google.genai import types

    stub, url = gpt  # the same stub serves the Gemini API: 140 prompt (40 cached), 30 out, 7 thoughts
    client = genai.Client(api_key="x", http_options=types.HttpOptions(base_url=url, api_version="v1beta"))
    with genai_agent("researcher"):
        assert client.models.generate_content(model="gemini-2.5-flash", contents="SECRET-PROMPT").text
        for _ in client.models.generate_content_stream(model="gemini-2.5-flash", contents="SECRET-PROMPT"):
            pass

        async def aio() -> None:
            await client.aio.models.generate_content(model="gemini-2.5-flash", contents="SECRET-PROMPT")

        asyncio.run(aio())
    assert len(stub.of("gemini")) == 3
    expected = {"input": 3 * 100, "cacheRead": 3 * 40, "output": 3 * 30, "reasoning": 3 * 7}
    got = {t: tokens(metrics, "researcher", "gemini-2.5-flash", t, "gcp.gen_ai") for t in expected}
    assert got == expected
    requests = [
        p for p in metrics.points("genai.requests") if dict(p.attributes)["gen_ai.provider.name"] == "gcp.gen_ai"
    ]
    assert sum(p.value for p in requests) == 3


def test_nothing_of_a_prompt_or_answer_is_recorded(metrics: Reader, claude: tuple[Stub, str]) -> None:
    _, url = claude
    anthropic.Anthropic(base_url=url, api_key="x").messages.create(model="m", max_tokens=5, messages=MESSAGE)
    values = {
        str(v)
        for name in ("genai.tokens", "genai.requests")
        for p in metrics.points(name)
        for v in p.attributes.values()
    }
    assert values and not any("SECRET" in v or "done" in v for v in values), values
