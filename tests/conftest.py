"""Fixtures shared by every test layer, and the layer markers (unit / integration / e2e)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from otel_ccmon import _core
from otel_ccmon._sdk_seam import MergingInMemoryReader
from otel_ccmon._settings import Settings
from tests.support import Procs

LAYERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its layer, from its folder (tests/unit, tests/integration, tests/e2e);
    doctests of the package and the mixin are unit tests."""
    for item in items:
        parts = item.path.parts
        layer = next((layer for layer in LAYERS if layer in parts and "tests" in parts), "unit")
        item.add_marker(getattr(pytest.mark, layer))


_STARTED = pytest.StashKey[float]()
LOG_TAIL_LINES = 40


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_STARTED] = time.time()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Iterator[None]:
    """A failed end-to-end test shows the last lines of every component log written while it ran
    (stacks of its own and of module fixtures): on a busy CI machine the evidence of a stall is
    there, and the temporary folders are gone after a few runs."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not report.failed or item.get_closest_marker("e2e") is None:
        return
    started = item.stash.get(_STARTED, 0.0)
    base = item.config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    for log in sorted(base.glob("**/logs/*.log")):
        if log.stat().st_mtime >= started:
            lines = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
            report.sections.append((f"component log {log.relative_to(base)}", "\n".join(lines)))


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


BACKENDS = ["fast", "sdk"]


def install(backend: str, **overrides: Any) -> Reader:
    """Initialise otel_ccmon with an in-memory reader on the fast path or on plain SDK instruments."""
    _core.reset_for_tests()
    settings = Settings(exporters=(), runtime_metrics=False, **overrides)
    if backend == "fast":  # otel_ccmon owns the provider: cells + merging reader
        fast_reader = MergingInMemoryReader()
        _core.initialize(settings, extra_readers=[fast_reader], set_global=False)
        return Reader(fast_reader)
    reader = InMemoryMetricReader()  # a provider the user brings: plain SDK instruments
    _core.initialize(settings, meter_provider=MeterProvider(metric_readers=[reader]), set_global=False)
    return Reader(reader)


@pytest.fixture(params=BACKENDS)
def metrics(request: pytest.FixtureRequest) -> Iterator[Reader]:
    yield install(request.param)
    _core.reset_for_tests()


@pytest.fixture(params=BACKENDS)
def strict_metrics(request: pytest.FixtureRequest) -> Iterator[Reader]:
    yield install(request.param, strict=True)
    _core.reset_for_tests()


@pytest.fixture(params=BACKENDS)
def capped_metrics(request: pytest.FixtureRequest) -> Iterator[Reader]:
    yield install(request.param, attribute_cap=3)
    _core.reset_for_tests()


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    manager = Procs(tmp_path)
    try:
        yield manager
    finally:
        manager.close()
