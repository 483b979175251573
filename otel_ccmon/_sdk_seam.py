"""The one place where otel_ccmon relies on private members of the OpenTelemetry SDK.

The fast path (``otel_ccmon._fast``) keeps its own cells and adds their points to every
collection the SDK makes. The SDK (1.45) has no metric-producer hook for that, so:

- push exporters are wrapped (:class:`MergingExporter`, on the public ``MetricExporter``
  interface), but the wrapper must carry the inner exporter's temporality and aggregation
  preferences, which the SDK keeps only in ``_preferred_temporality`` / ``_preferred_aggregation``;
- the in-memory reader used by tests and debugging (:class:`MergingInMemoryReader`) overrides
  the reader's ``_receive_metrics``, where collected data arrives.

:data:`PRIVATE_MEMBERS` lists them; :func:`check_sdk_seam` (run by the test suite) fails with a
message naming the member when an SDK upgrade changes one.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from opentelemetry.sdk.metrics import Counter
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    ConsoleMetricExporter,
    InMemoryMetricReader,
    MetricExporter,
    MetricExportResult,
    MetricReader,
    MetricsData,
)

from otel_ccmon._fast import FastStore

PRIVATE_MEMBERS: tuple[tuple[str, str], ...] = (
    (
        "OTLPMetricExporter (HTTP)._client.export(bytes)",
        "sends the bytes DirectOtlpExporter encodes, with the SDK's retries",
    ),
    ("MetricExporter()._preferred_temporality", "the inner exporter's temporality, copied by MergingExporter"),
    ("MetricExporter()._preferred_aggregation", "the inner exporter's aggregation, copied by MergingExporter"),
    ("MetricReader._receive_metrics(metrics_data, timeout_millis, **kwargs)", "overridden by MergingInMemoryReader"),
)


class SdkSeamError(RuntimeError):
    """A private SDK member that otel_ccmon relies on changed."""


def check_sdk_seam() -> None:
    """Verify every member in :data:`PRIVATE_MEMBERS`; raise :class:`SdkSeamError` naming a changed one.

    >>> check_sdk_seam()
    """
    exporter = ConsoleMetricExporter(preferred_temporality={Counter: AggregationTemporality.DELTA})
    for attribute in ("_preferred_temporality", "_preferred_aggregation"):
        if not hasattr(exporter, attribute):
            raise SdkSeamError(
                f"opentelemetry-sdk no longer sets MetricExporter.{attribute}: "
                "update otel_ccmon._sdk_seam.MergingExporter to the SDK's new API"
            )
    if exporter._preferred_temporality != {Counter: AggregationTemporality.DELTA}:
        raise SdkSeamError(
            "opentelemetry-sdk changed what MetricExporter._preferred_temporality holds: "
            "update otel_ccmon._sdk_seam.MergingExporter to the SDK's new API"
        )
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    client = getattr(OTLPMetricExporter(endpoint="http://127.0.0.1:1/v1/metrics"), "_client", None)
    if not callable(getattr(client, "export", None)):
        raise SdkSeamError(
            "opentelemetry-exporter-otlp-proto-http no longer has OTLPMetricExporter._client.export(bytes): "
            "update otel_ccmon._sdk_seam.DirectOtlpExporter"
        )
    receive = getattr(MetricReader, "_receive_metrics", None)
    params = list(inspect.signature(receive).parameters) if receive is not None else []
    if params[:3] != ["self", "metrics_data", "timeout_millis"]:
        raise SdkSeamError(
            "opentelemetry-sdk changed MetricReader._receive_metrics (expected (self, metrics_data, "
            f"timeout_millis, **kwargs), found {params}): update otel_ccmon._sdk_seam.MergingInMemoryReader"
        )


class MergingInMemoryReader(InMemoryMetricReader):
    """InMemoryMetricReader that sees the fast path's metrics (tests, debugging).

    >>> reader = MergingInMemoryReader()
    >>> isinstance(reader, InMemoryMetricReader)
    True
    """

    def __init__(self, store: FastStore | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._store = store

    def bind(self, store: FastStore) -> None:
        self._store = store

    def _receive_metrics(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> None:
        merged = self._store.merge(metrics_data) if self._store is not None else metrics_data
        super()._receive_metrics(merged or metrics_data, timeout_millis=timeout_millis, **kwargs)


class _WrappingExporter(MetricExporter):
    """An exporter around the SDK exporter ``inner`` that adds the fast path's metrics."""

    def __init__(self, inner: MetricExporter, store: FastStore) -> None:
        super().__init__(
            preferred_temporality=inner._preferred_temporality,
            preferred_aggregation=inner._preferred_aggregation,
        )
        self._inner = inner
        self._store = store

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self._inner.force_flush(timeout_millis=timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._inner.shutdown(timeout_millis=timeout_millis, **kwargs)


class MergingExporter(_WrappingExporter):
    """Wraps any push exporter (OTLP, console) and adds the fast path's metrics to each export."""

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        merged = self._store.merge(metrics_data) or metrics_data
        return self._inner.export(merged, timeout_millis=timeout_millis, **kwargs)


class DirectOtlpExporter(_WrappingExporter):
    """OTLP/HTTP export with the fast path's metrics encoded straight from their cells.

    The SDK's own metrics (instrumentations, observable gauges) are encoded by the SDK; the fast
    path's by :func:`otel_ccmon._otlp.encode_store`; the two serialized requests are concatenated
    (protobuf appends repeated fields) and sent by the SDK exporter's HTTP client, so endpoint,
    headers, TLS, compression, timeout and retries are the SDK's.
    """

    def encode(self, metrics_data: MetricsData) -> bytes:
        """The request body: the SDK's encoding of ``metrics_data`` followed by the fast path's."""
        from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics

        from otel_ccmon._otlp import encode_store_parts, join_yielding

        sdk_part = encode_metrics(metrics_data).SerializeToString() if metrics_data.resource_metrics else b""
        return join_yielding([sdk_part, *encode_store_parts(self._store)])

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        del timeout_millis, kwargs  # the SDK exporter's client applies its own configured timeout
        body = self.encode(metrics_data)
        if not body:
            return MetricExportResult.SUCCESS
        try:
            result = self._inner._client.export(body)  # type: ignore[attr-defined]
        except BaseException:
            self._store.resend_all = True
            raise
        if not result.success:
            # series left out as unchanged were sent in this lost request: the next sends them all
            self._store.resend_all = True
            return MetricExportResult.FAILURE
        return MetricExportResult.SUCCESS


def bind_readers(readers: Iterable[MetricReader], store: FastStore) -> None:
    """Let the in-memory readers a caller passed in see the fast path's metrics."""
    for reader in readers:
        if isinstance(reader, MergingInMemoryReader):
            reader.bind(store)
