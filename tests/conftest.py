from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from otel_ccmon import _core
from otel_ccmon._settings import Settings
from tests.support import Procs


class Reader:
    """InMemoryMetricReader wrapper: points by metric name."""

    def __init__(self, reader: InMemoryMetricReader) -> None:
        self._reader = reader

    def points(self, name: str) -> list[Any]:
        data = self._reader.get_metrics_data()
        if data is None:
            return []
        out: list[Any] = []
        for rm in data.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    if metric.name == name:
                        out.extend(metric.data.data_points)
        return out

    def value(self, name: str, **attrs: str) -> float:
        for p in self.points(name):
            if dict(p.attributes) == attrs:
                return float(p.value)
        raise KeyError(f"no point {name}{attrs}; have {[dict(p.attributes) for p in self.points(name)]}")


def _install(**overrides: Any) -> Reader:
    _core.reset_for_tests()
    reader = InMemoryMetricReader()
    settings = Settings(exporters=(), runtime_metrics=False, **overrides)
    _core.initialize(settings, meter_provider=MeterProvider(metric_readers=[reader]), set_global=False)
    return Reader(reader)


@pytest.fixture
def metrics() -> Iterator[Reader]:
    yield _install()
    _core.reset_for_tests()


@pytest.fixture
def strict_metrics() -> Iterator[Reader]:
    yield _install(strict=True)
    _core.reset_for_tests()


@pytest.fixture
def capped_metrics() -> Iterator[Reader]:
    yield _install(attribute_cap=3)
    _core.reset_for_tests()


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    manager = Procs(tmp_path)
    try:
        yield manager
    finally:
        manager.close()
