"""The SDK seam: every private SDK member otel_ccmon relies on is checked, with a clear message
naming the member and the adapter to update when an SDK upgrade changes it."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.metrics.export import MetricExporter, MetricReader

from otel_ccmon._sdk_seam import PRIVATE_MEMBERS, SdkSeamError, check_sdk_seam


def test_the_pinned_sdk_passes() -> None:
    check_sdk_seam()
    assert len(PRIVATE_MEMBERS) == 4


def test_a_renamed_reader_hook_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(MetricReader, "_receive_metrics")
    with pytest.raises(SdkSeamError, match=r"MetricReader\._receive_metrics.*MergingInMemoryReader"):
        check_sdk_seam()


def test_a_missing_exporter_preference_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    original = MetricExporter.__init__

    def without_preferences(self: MetricExporter, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        del self._preferred_aggregation

    monkeypatch.setattr(MetricExporter, "__init__", without_preferences)
    with pytest.raises(SdkSeamError, match=r"MetricExporter\._preferred_aggregation.*MergingExporter"):
        check_sdk_seam()


def test_a_missing_http_client_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    original = OTLPMetricExporter.__init__

    def without_client(self: OTLPMetricExporter, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        del self._client

    monkeypatch.setattr(OTLPMetricExporter, "__init__", without_client)
    with pytest.raises(SdkSeamError, match=r"_client\.export\(bytes\).*DirectOtlpExporter"):
        check_sdk_seam()
