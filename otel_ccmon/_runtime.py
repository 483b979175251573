"""Runtime metrics: Python's counterparts of the spec's Node.js default metrics.

| spec (prom-client, Node)          | otel-ccmon (Python)              |
|-----------------------------------|----------------------------------|
| process_cpu_seconds_total         | process_cpu_seconds_total        |
| process_resident_memory_bytes     | process_resident_memory_bytes    |
| nodejs_gc_duration_seconds        | python_gc_duration_seconds       |
| nodejs_eventloop_lag_seconds      | python_eventloop_lag_seconds     |
"""

from __future__ import annotations

import asyncio
import collections
import gc
import os
import time
from collections.abc import Iterable
from typing import Any, ClassVar

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from otel_ccmon._catalog import BY_OTEL_NAME
from otel_ccmon._recorder import instrument_factory

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_GENERATIONS = {0: {"generation": "0"}, 1: {"generation": "1"}, 2: {"generation": "2"}}
# GC pauses waiting for the next collection; a bound for a provider nobody collects (at 1,000 GCs
# a second, 100 s between two collections)
_GC_PENDING_MAX = 100_000


def _cpu(_options: CallbackOptions) -> Iterable[Observation]:
    t = os.times()
    yield Observation(t.user + t.system)


def _rss(_options: CallbackOptions) -> Iterable[Observation]:
    try:
        with open("/proc/self/statm", "rb") as f:
            resident_pages = int(f.read().split()[1])
        yield Observation(resident_pages * _PAGE)
    except (OSError, IndexError, ValueError):
        import resource  # not Linux: peak RSS is the best the platform offers

        yield Observation(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


class RuntimeMetrics:
    """Installs the process observers and the GC callback once per process."""

    _installed: ClassVar[RuntimeMetrics | None] = None
    lag_seconds: ClassVar[float | None] = None

    def __init__(self, meter: Meter) -> None:
        cpu, rss = BY_OTEL_NAME["process.cpu"], BY_OTEL_NAME["process.resident_memory"]
        lag = BY_OTEL_NAME["python.eventloop.lag"]
        meter.create_observable_counter(cpu.otel_name, [self._cpu], unit=cpu.unit, description=cpu.description)
        meter.create_observable_gauge(rss.otel_name, [_rss], unit=rss.unit, description=rss.description)
        meter.create_observable_gauge(lag.otel_name, [self._lag], unit=lag.unit, description=lag.description)
        self._gc_hist: Any = instrument_factory(meter)(BY_OTEL_NAME["python.gc.duration"])
        self._gc_start = 0.0
        self._gc_pending: collections.deque[tuple[float, dict[str, str] | None]] = collections.deque(
            maxlen=_GC_PENDING_MAX
        )
        gc.callbacks.append(self._on_gc)

    @classmethod
    def install(cls, meter: Meter) -> None:
        if cls._installed is None:
            cls._installed = cls(meter)

    @classmethod
    def uninstall(cls) -> None:
        if cls._installed is not None and cls._installed._on_gc in gc.callbacks:
            gc.callbacks.remove(cls._installed._on_gc)
        cls._installed = None
        cls.lag_seconds = None

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        # A GC runs inside whatever allocated, which can be the SDK collecting this very histogram
        # under its (non-reentrant) lock: recording here deadlocked the alert receiver's /metrics
        # (docs/reliability.md). So the pause is only queued (a deque append takes no lock) and
        # recorded by the next collection, before it aggregates (_cpu).
        if phase == "start":
            self._gc_start = time.perf_counter()
        elif self._gc_start:
            self._gc_pending.append((time.perf_counter() - self._gc_start, _GENERATIONS.get(info.get("generation", 2))))
            self._gc_start = 0.0

    def _record_gc_pauses(self) -> None:
        # only the pauses queued so far: recording allocates, and may itself collect and queue
        for _ in range(len(self._gc_pending)):
            duration, attributes = self._gc_pending.popleft()
            self._gc_hist.record(duration, attributes)

    def _cpu(self, options: CallbackOptions) -> Iterable[Observation]:
        # observable callbacks run at the start of every collection, outside any aggregation's
        # lock: the place where the queued GC pauses are recorded, in time for this collection
        self._record_gc_pauses()
        return _cpu(options)

    def _lag(self, _options: CallbackOptions) -> Iterable[Observation]:
        if RuntimeMetrics.lag_seconds is not None:
            yield Observation(RuntimeMetrics.lag_seconds)


async def monitor_event_loop(interval: float = 0.5) -> None:
    """Measure event-loop lag until cancelled; run it as a task on the app's loop.

    >>> import asyncio
    >>> async def main():
    ...     task = asyncio.create_task(monitor_event_loop(0.01))
    ...     await asyncio.sleep(0.05)
    ...     task.cancel()
    >>> asyncio.run(main())
    """
    loop = asyncio.get_running_loop()
    while True:
        start = loop.time()
        await asyncio.sleep(interval)
        RuntimeMetrics.lag_seconds = max(0.0, loop.time() - start - interval)
