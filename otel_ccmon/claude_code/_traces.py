"""``ccmon claude-code traces --slowest 5``: the slowest recent prompts (``claude_code.interaction``
traces of the traces beta) with their LLM-request and tool breakdown, from a Jaeger query API
(``/api/traces``, served by Jaeger v1 and v2 alike).

Written against Jaeger's JSON rather than a client library: four fields of it are read, and the
package should not depend on a trace store's SDK for that.
"""

from __future__ import annotations

import json
import statistics
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

INTERACTION = "claude_code.interaction"
LLM = "claude_code.llm_request"
TOOL = "claude_code.tool"
BLOCKED = "claude_code.tool.blocked_on_user"


@dataclass(frozen=True)
class Part:
    """One child span of an interaction: an LLM request or a tool run."""

    kind: str  # llm_request | tool | blocked_on_user
    name: str  # the model or the tool
    seconds: float
    ttft_seconds: float | None = None


@dataclass(frozen=True)
class Interaction:
    """One prompt's trace."""

    trace_id: str
    started: datetime
    seconds: float
    labels: Mapping[str, str]
    parts: tuple[Part, ...] = field(default_factory=tuple)


def _tags(span: Mapping[str, Any]) -> dict[str, str]:
    return {t["key"]: str(t.get("value")) for t in span.get("tags", [])}


def parse(body: Mapping[str, Any]) -> list[Interaction]:
    """Interactions from a Jaeger ``/api/traces`` answer (traces without an interaction span are skipped).

    >>> span = {"spanID": "a", "operationName": INTERACTION, "startTime": 0, "duration": 2_000_000,
    ...         "tags": [{"key": "team.id", "value": "web"}], "processID": "p"}
    >>> llm = {"spanID": "b", "operationName": LLM, "startTime": 0, "duration": 1_500_000,
    ...        "tags": [{"key": "model", "value": "m"}, {"key": "ttft_ms", "value": 300}], "processID": "p"}
    >>> (i,) = parse({"data": [{"traceID": "t1", "spans": [span, llm], "processes": {"p": {"tags": []}}}]})
    >>> i.seconds, i.labels["team.id"], i.parts
    (2.0, 'web', (Part(kind='llm_request', name='m', seconds=1.5, ttft_seconds=0.3),))
    """
    out = []
    for trace in body.get("data") or []:
        spans = trace.get("spans") or []
        roots = [s for s in spans if s.get("operationName") == INTERACTION]
        if not roots:
            continue
        root = roots[0]
        process = (trace.get("processes") or {}).get(root.get("processID"), {})
        labels = {**_tags(process), **_tags(root)}
        parts = []
        for s in spans:
            tags, seconds = _tags(s), s.get("duration", 0) / 1e6
            if s.get("operationName") == LLM:
                ttft = tags.get("ttft_ms")
                parts.append(Part("llm_request", tags.get("model", "?"), seconds, float(ttft) / 1000 if ttft else None))
            elif s.get("operationName") == TOOL:
                parts.append(Part("tool", tags.get("tool_name") or tags.get("gen_ai.tool.name", "?"), seconds))
            elif s.get("operationName") == BLOCKED:
                parts.append(Part("blocked_on_user", tags.get("decision", "?"), seconds))
        started = datetime.fromtimestamp(root.get("startTime", 0) / 1e6, UTC)
        out.append(Interaction(trace["traceID"], started, root.get("duration", 0) / 1e6, labels, tuple(parts)))
    return out


def fetch(jaeger: str, service: str, lookback: str, limit: int) -> list[Interaction]:
    """The interactions of ``service`` in the last ``lookback`` (e.g. ``1h``), at most ``limit`` traces."""
    query = urllib.parse.urlencode({"service": service, "operation": INTERACTION, "lookback": lookback, "limit": limit})
    with urllib.request.urlopen(f"{jaeger.rstrip('/')}/api/traces?{query}", timeout=60) as response:
        body = json.load(response)
    if body.get("errors"):
        raise ValueError(f"Jaeger answered errors: {body['errors']}")
    return parse(body)


def slowest(interactions: Sequence[Interaction], n: int) -> list[Interaction]:
    return sorted(interactions, key=lambda i: -i.seconds)[:n]


def describe(i: Interaction) -> str:
    """A few lines per prompt: its time, who, then LLM requests and tools with their share."""
    who = " ".join(f"{k}={i.labels[k]}" for k in ("team.id", "project", "user.id") if k in i.labels)
    lines = [f"{i.trace_id}  {i.seconds:8.2f} s  {i.started:%Y-%m-%d %H:%M:%S}Z  {who}".rstrip()]
    llm = [p for p in i.parts if p.kind == "llm_request"]
    if llm:
        ttfts = [p.ttft_seconds for p in llm if p.ttft_seconds is not None]
        models = ", ".join(sorted({p.name for p in llm}))
        ttft = f"; time to first token median {statistics.median(ttfts):.2f} s" if ttfts else ""
        lines.append(f"  LLM requests  {len(llm)} x, {sum(p.seconds for p in llm):.2f} s ({models}){ttft}")
    tools = [p for p in i.parts if p.kind == "tool"]
    if tools:
        by_tool: dict[str, float] = {}
        for p in tools:
            by_tool[p.name] = by_tool.get(p.name, 0.0) + p.seconds
        detail = ", ".join(f"{name} {secs:.2f} s" for name, secs in sorted(by_tool.items(), key=lambda x: -x[1]))
        lines.append(f"  tools         {len(tools)} x, {sum(p.seconds for p in tools):.2f} s ({detail})")
    blocked = sum(p.seconds for p in i.parts if p.kind == "blocked_on_user")
    if blocked:
        lines.append(f"  waiting for the user  {blocked:.2f} s")
    return "\n".join(lines)
