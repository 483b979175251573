"""Traces when asked for (issue 33): with ``OTEL_TRACES_EXPORTER=otlp`` the demo's model calls make a
trace per plan, plan → agent → the Anthropic SDK's span of the call, forwarded by the collector to a
trace backend (a capture server here); the model-call duration histogram in Prometheus carries
exemplars whose trace ids are those traces'."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from otel_ccmon.devstack.procs import wait_for
from otel_ccmon.devstack.stack import Stack
from tests.otlp_capture import otlp_capture


def test_plan_agent_model_call_trace_and_exemplars(make_stack: Callable[..., Stack]) -> None:
    with otlp_capture() as backend:
        stack = make_stack(
            components=("model_stub", "collector", "app", "prometheus"),
            app_args=("--tick", "0.25"),
            app_env={"OTEL_TRACES_EXPORTER": "otlp", "OTEL_BSP_SCHEDULE_DELAY": "200"},
            collector_overlays=("forward-traces-otlp.yaml",),
            collector_env={"CCMON_FORWARD_TRACES_OTLP_ENDPOINT": backend.url},
        )

        def one_whole_plan() -> list[tuple[str, str, str, str]] | None:
            spans = backend.span_links()
            plans = [s for s in spans if s[0] == "plan"]
            for _, trace_id, plan_id, _ in plans:
                mine = [s for s in spans if s[1] == trace_id]
                steps = [s for s in mine if s[0].startswith("agent ") and s[3] == plan_id]
                calls = [s for s in mine if s[3] in {step[2] for step in steps}]
                if len(steps) == 4 and len(calls) == 4:
                    return mine
            return None

        trace = wait_for(one_whole_plan, 60, "a whole plan: plan -> 4 agent steps -> 4 model calls")
        names = sorted(name for name, *_ in trace)
        assert names.count("plan") == 1 and sum(n.startswith("agent ") for n in names) == 4, names
        trace_ids = {s[1] for s in backend.span_links()}

        def exemplars() -> set[str]:
            now = time.time()
            body = httpx.get(
                stack.config.url("prometheus", "/api/v1/query_exemplars"),
                params={
                    "query": 'genai_duration_seconds_bucket{job="claude-code-app"}',
                    "start": now - 300,
                    "end": now,
                },
            ).json()
            return {e["labels"].get("trace_id", "") for series in body["data"] for e in series["exemplars"]}

        found = wait_for(lambda: exemplars() & ({s[1] for s in backend.span_links()} | trace_ids), 60, "exemplars")
        assert found, "the duration histogram's exemplars name captured traces"
