"""One recording object per catalog metric, with input validation and cardinality caps.

A helper call resolves its attribute values to a cached *slot* (one dict lookup once warm),
checks the value and records. The slot is a fast-path cell (``otel_ccmon._fast``) when
otel_ccmon owns the meter provider, or the attribute mapping handed to a plain SDK instrument
otherwise. Invalid input never raises into the caller unless ``strict`` is set: it is dropped and
counted in ``ccmon_dropped_measurements_total{metric,reason}``.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from otel_ccmon import _catalog as cat
from otel_ccmon._catalog import OVERFLOW_VALUE, Kind, MetricSpec
from otel_ccmon._fast import FastHistogram, FastStore, FastValue
from otel_ccmon._settings import Settings

_log = logging.getLogger("otel_ccmon")

Attrs = Mapping[str, str]
Values = tuple[object, ...]


class _Resolver:
    """Maps attribute values of one metric to a validated attribute mapping (or a drop reason)."""

    __slots__ = ("_cap", "_lock", "_max_len", "_seen", "_spec")

    def __init__(self, spec: MetricSpec, cap: int, max_len: int) -> None:
        self._spec = spec
        self._seen: list[set[str]] = [set() for _ in spec.attributes]
        self._cap = cap
        self._max_len = max_len
        self._lock = threading.Lock()

    def resolve(self, values: Values) -> tuple[dict[str, str], bool] | str:
        """``(attributes, cacheable)`` or the drop reason."""
        if len(values) != len(self._spec.attributes):
            return "invalid_attribute"
        out: dict[str, str] = {}
        cacheable = True
        with self._lock:
            for attr, seen, value in zip(self._spec.attributes, self._seen, values, strict=True):
                if not isinstance(value, str) or not value:
                    return "invalid_attribute"
                if attr.allowed is not None:
                    if value not in attr.allowed:
                        return "unknown_attribute_value"
                    out[attr.key] = value
                    continue
                value = value[: self._max_len]
                if value not in seen:
                    if len(seen) >= self._cap:
                        value = OVERFLOW_VALUE
                        cacheable = False  # keeps the slot cache bounded by the caps
                    else:
                        seen.add(value)
                out[attr.key] = value
        return out, cacheable


class _Metric:
    """Recording state of one metric: the slot cache and how to record into a slot."""

    __slots__ = ("_drop", "_resolver", "_slots", "name", "spec")

    def __init__(self, spec: MetricSpec, resolver: _Resolver, drop: Callable[[str, str, object], None]) -> None:
        self.spec = spec
        self.name = spec.otel_name
        self._resolver = resolver
        self._drop = drop
        self._slots: dict[Values, Any] = {}

    def slot(self, values: Values) -> Any:
        found = self._slots.get(values)
        if found is not None:
            return found
        resolved = self._resolver.resolve(values)
        if isinstance(resolved, str):
            self._drop(self.name, resolved, values)
            return None
        attrs, cacheable = resolved
        found = self._make_slot(attrs)
        if cacheable:
            self._slots[values] = found
        return found

    def _make_slot(self, attrs: dict[str, str]) -> Any:
        return attrs

    def add(self, amount: float, values: Values) -> None:
        raise NotImplementedError

    def record(self, value: float, values: Values) -> None:
        raise NotImplementedError

    def set(self, value: float, values: Values) -> None:
        raise NotImplementedError


class _SdkMetric(_Metric):
    """Plain SDK instrument (a meter provider otel_ccmon does not own)."""

    __slots__ = ("instrument",)

    def __init__(self, spec: MetricSpec, resolver: _Resolver, drop: Any, instrument: Any) -> None:
        super().__init__(spec, resolver, drop)
        self.instrument = instrument

    def add(self, amount: float, values: Values) -> None:
        attrs = self.slot(values)
        if attrs is not None:
            self.instrument.add(amount, attrs)

    def record(self, value: float, values: Values) -> None:
        attrs = self.slot(values)
        if attrs is not None:
            self.instrument.record(value, attrs)

    def set(self, value: float, values: Values) -> None:
        attrs = self.slot(values)
        if attrs is not None:
            self.instrument.set(value, attrs)


class _FastValueMetric(_Metric):
    """Counter or gauge on fast-path cells (merged into collections through ``otel_ccmon._sdk_seam``;
    no SDK instrument is involved)."""

    __slots__ = ("cells", "lock")

    def __init__(self, spec: MetricSpec, resolver: _Resolver, drop: Any, cells: FastValue) -> None:
        super().__init__(spec, resolver, drop)
        self.cells = cells
        self.lock = cells.lock

    def _make_slot(self, attrs: dict[str, str]) -> Any:
        return self.cells.cell(attrs)

    def add(self, amount: float, values: Values) -> None:
        cell = self._slots.get(values) or self.slot(values)
        if cell is not None:
            with self.lock:
                cell.value += amount
                self.cells.dirty.add(cell)

    def set(self, value: float, values: Values) -> None:
        cell = self._slots.get(values) or self.slot(values)
        if cell is not None:
            with self.lock:  # the value and its dirty mark together, as the exporter takes them
                cell.value = value
                self.cells.dirty.add(cell)


class _FastHistogramMetric(_Metric):
    """Histogram on fast-path cells (merged into collections through ``otel_ccmon._sdk_seam``)."""

    __slots__ = ("hist",)

    def __init__(self, spec: MetricSpec, resolver: _Resolver, drop: Any, hist: FastHistogram) -> None:
        super().__init__(spec, resolver, drop)
        self.hist = hist

    def _make_slot(self, attrs: dict[str, str]) -> Any:
        return self.hist.cell(attrs)

    def record(self, value: float, values: Values) -> None:
        cell = self._slots.get(values) or self.slot(values)
        if cell is not None:
            self.hist.record(cell, value)


class Recorder:
    """Holds the recording objects of the catalog on one meter."""

    def __init__(self, meter: Meter, settings: Settings, store: FastStore | None = None) -> None:
        self.settings = settings
        self.fast = store is not None
        self._meter = meter
        self._store = store
        self._strict = settings.strict
        self._warned: set[tuple[str, str]] = set()
        self._factory = instrument_factory(meter)
        self._cache_lock = threading.Lock()
        self._cache_counts: dict[str, list[int]] = {}  # SDK mode: cache_type -> [hits, misses]
        self.metrics: dict[str, _Metric] = {}
        for spec in cat.CATALOG:
            if spec.source in (cat.Source.APP, cat.Source.SELF, cat.Source.RECEIVER, cat.Source.GENAI):
                self._create(spec)
        self._dropped = self.metrics["ccmon.dropped_measurements"]

    def _create(self, spec: MetricSpec) -> None:
        resolver = _Resolver(spec, self.settings.attribute_cap, self.settings.attribute_max_length)
        kw = {"unit": spec.unit, "description": spec.description}
        if spec.otel_name == "cache.hit_rate":
            self._meter.create_observable_gauge(spec.otel_name, [self._observe_hit_rate], **kw)
            return
        if spec.otel_name == "ccmon.series":
            # Always one observation: besides showing cardinality, it guarantees the SDK hands
            # every collection to our readers, which merge the fast-path histograms into it.
            if self._store is not None:
                self._meter.create_observable_gauge(spec.otel_name, [self._observe_series], **kw)
            return
        if self._store is None or spec.source is cat.Source.GENAI:
            # model calls are few and slow: the SDK's instruments, whose histograms keep exemplars
            # (a trace id of the call's span) that the fast path's cells do not
            self.metrics[spec.otel_name] = _SdkMetric(spec, resolver, self.drop, self._factory(spec))
        elif spec.kind is Kind.HISTOGRAM:
            self.metrics[spec.otel_name] = _FastHistogramMetric(spec, resolver, self.drop, self._store.histogram(spec))
        else:
            self.metrics[spec.otel_name] = _FastValueMetric(spec, resolver, self.drop, self._store.value(spec))

    def register(self, specs: tuple[MetricSpec, ...]) -> None:
        """Add an application's own metrics (otel_ccmon/_app_catalog.py); registering the same spec
        again is a no-op, another spec under a known name an error."""
        for spec in specs:
            held = self.metrics.get(spec.otel_name)
            known = held.spec if held is not None else cat.BY_OTEL_NAME.get(spec.otel_name)
            if known is not None and known != spec:
                raise ValueError(f"metric {spec.otel_name!r} is registered already with another definition")
            if held is None:
                self._create(spec)

    # -- drops -------------------------------------------------------------------------
    def drop(self, metric: str, reason: str, detail: object = None) -> None:
        """Count (or, in strict mode, raise for) a rejected measurement."""
        message = f"otel_ccmon: dropped measurement for {metric}: {reason} ({detail!r})"
        if self._strict:
            raise ValueError(message)
        self._dropped.add(1, (metric, reason))
        key = (metric, reason)
        if key not in self._warned:
            self._warned.add(key)
            _log.warning("%s; further drops of this kind are only counted", message)

    def attrs_ok(self, metric: str, *values: object) -> bool:
        """Whether these attribute values would be recorded (validates and counts a drop if not)."""
        return self.metrics[metric].slot(values) is not None

    # -- recording primitives ----------------------------------------------------------------
    def add(self, metric: str, amount: float, *values: object) -> None:
        # exact int check first: the common case; bool, floats and bad values take the full check
        if (amount.__class__ is not int or amount < 0) and not _is_count(amount):
            self.drop(metric, "invalid_value", amount)
            return
        self.metrics[metric].add(amount, values)

    def observe(self, metric: str, value: float, *values: object, low: float = 0.0, high: float = math.inf) -> None:
        """Record a histogram value that must lie in ``[low, high]``."""
        if not in_range(value, low, high):
            self.drop(metric, "invalid_value", value)
            return
        self.metrics[metric].record(value, values)

    def set(self, metric: str, value: float, *values: object, low: float = 0.0, high: float = math.inf) -> None:
        """Set a gauge to a value that must lie in ``[low, high]``."""
        if not in_range(value, low, high):
            self.drop(metric, "invalid_value", value)
            return
        self.metrics[metric].set(value, values)

    # -- cache hit rate, derived from our own counts -------------------------------------------
    def cache_access(self, cache_type: str, hit: bool) -> None:
        metric = self.metrics["cache.hits" if hit else "cache.misses"]
        values = (cache_type,)
        if self.fast:
            metric.add(1, values)  # the hit rate is computed from the cells themselves
            return
        slot = metric.slot(values)
        if slot is None:
            return
        metric.add(1, values)
        key = slot["cache_type"]
        with self._cache_lock:
            counts = self._cache_counts.setdefault(key, [0, 0])
            counts[0 if hit else 1] += 1

    def _observe_series(self, _options: CallbackOptions) -> list[Observation]:
        return [Observation(self._store.series() if self._store is not None else 0)]

    def _observe_hit_rate(self, _options: CallbackOptions) -> list[Observation]:
        if self.fast:
            hits = _by_cache(self.metrics["cache.hits"])
            misses = _by_cache(self.metrics["cache.misses"])
            counts = {k: (hits.get(k, 0), misses.get(k, 0)) for k in hits.keys() | misses.keys()}
        else:
            with self._cache_lock:
                counts = {k: (h, m) for k, (h, m) in self._cache_counts.items()}
        return [Observation(h / (h + m), {"cache_type": k}) for k, (h, m) in sorted(counts.items()) if h + m]


def _by_cache(metric: _Metric) -> dict[str, float]:
    assert isinstance(metric, _FastValueMetric)
    return {dict(key)["cache_type"]: value for key, value in metric.cells.totals().items()}


def _is_count(amount: object) -> bool:
    return isinstance(amount, (int, float)) and not isinstance(amount, bool) and math.isfinite(amount) and amount >= 0


def in_range(value: object, low: float, high: float) -> bool:
    """Whether ``value`` is a real number (not bool, not NaN) within ``[low, high]``."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and low <= value <= high
    )


def instrument_factory(meter: Meter) -> Callable[[MetricSpec], Any]:
    """Create the SDK instrument for a catalog spec."""

    def create(spec: MetricSpec) -> Any:
        if spec.kind is Kind.COUNTER:
            return meter.create_counter(spec.otel_name, unit=spec.unit, description=spec.description)
        if spec.kind is Kind.HISTOGRAM:
            return meter.create_histogram(
                spec.otel_name,
                unit=spec.unit,
                description=spec.description,
                explicit_bucket_boundaries_advisory=list(spec.buckets or ()),
            )
        return meter.create_gauge(spec.otel_name, unit=spec.unit, description=spec.description)

    return create
