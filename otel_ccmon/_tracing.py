"""Traces, when asked for (issue 33): ``OTEL_TRACES_EXPORTER=otlp`` sets up a tracer provider that
exports over OTLP/HTTP (``OTEL_EXPORTER_OTLP_*``), so the model SDKs' own spans (the Anthropic SDK
makes one per API call, without content by default) and an app's spans reach the collector, and the
model-call duration histogram carries exemplars that link to them. otel-ccmon stays a metrics
distribution: without the variable, nothing is set up."""

from __future__ import annotations

import os
from typing import Any

from otel_ccmon._settings import Settings


def tracing_requested(env: dict[str, str] | None = None) -> bool:
    """Whether ``OTEL_TRACES_EXPORTER`` names ``otlp``.

    >>> tracing_requested({"OTEL_TRACES_EXPORTER": "otlp"}), tracing_requested({})
    (True, False)
    """
    value = (os.environ if env is None else env).get("OTEL_TRACES_EXPORTER", "none")
    return "otlp" in {v.strip() for v in value.split(",")}


def configure_tracing(settings: Settings) -> Any:
    """Install the global tracer provider when traces are asked for; returns it (None otherwise).

    Spans are batched and exported to the OTLP/HTTP endpoint of the standard variables; the provider
    is flushed at exit.
    """
    if not tracing_requested():
        return None
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create(
        {"service.name": settings.service_name, "service.instance.id": settings.service_instance_id}
    )
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider
