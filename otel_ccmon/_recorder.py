"""Instruments for every catalog metric, with input validation and cardinality caps.

The hot path of a helper is: resolve the attribute values to a cached attribute
mapping (one dict lookup once warm), check the value, call the OTel instrument.
Invalid input never raises into the caller unless ``strict`` is set: it is
dropped and counted in ``ccmon_dropped_measurements_total{metric,reason}``.
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
from otel_ccmon._settings import Settings

_log = logging.getLogger("otel_ccmon")

Attrs = Mapping[str, str]
_EMPTY: Attrs = {}


class _Resolver:
    """Maps attribute values of one metric to a cached, validated attribute mapping."""

    __slots__ = ("_cache", "_cap", "_lock", "_max_len", "_seen", "_spec")

    def __init__(self, spec: MetricSpec, cap: int, max_len: int) -> None:
        self._spec = spec
        self._cache: dict[tuple[object, ...], Attrs] = {}
        self._seen: list[set[str]] = [set() for _ in spec.attributes]
        self._cap = cap
        self._max_len = max_len
        self._lock = threading.Lock()

    def resolve(self, values: tuple[object, ...]) -> Attrs | str:
        """Return the attribute mapping, or the drop reason as a string."""
        cached = self._cache.get(values)
        if cached is not None:
            return cached
        return self._resolve_slow(values)

    def _resolve_slow(self, values: tuple[object, ...]) -> Attrs | str:
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
                        cacheable = False  # keep the cache bounded by the caps
                    else:
                        seen.add(value)
                out[attr.key] = value
            if cacheable:
                self._cache[values] = out
        return out


class Recorder:
    """Holds the instruments of the catalog on one meter."""

    def __init__(self, meter: Meter, settings: Settings) -> None:
        self.settings = settings
        self._meter = meter
        self._strict = settings.strict
        self._warned: set[tuple[str, str]] = set()
        self._resolvers: dict[str, _Resolver] = {}
        self._instruments: dict[str, Any] = {}
        self._cache_lock = threading.Lock()
        self._cache_counts: dict[str, list[int]] = {}  # cache_type -> [hits, misses]
        self._factory = instrument_factory(meter)
        for spec in cat.CATALOG:
            if spec.source in (cat.Source.APP, cat.Source.SELF, cat.Source.RECEIVER):
                self._create(spec)
        self._dropped = self._instruments["ccmon.dropped_measurements"]

    def _create(self, spec: MetricSpec) -> None:
        self._resolvers[spec.otel_name] = _Resolver(
            spec, self.settings.attribute_cap, self.settings.attribute_max_length
        )
        if spec.otel_name == "cache.hit_rate":
            self._meter.create_observable_gauge(
                spec.otel_name, [self._observe_hit_rate], unit=spec.unit, description=spec.description
            )
            return
        instrument = self._factory(spec)
        self._instruments[spec.otel_name] = instrument

    # -- drops -------------------------------------------------------------------------
    def drop(self, metric: str, reason: str, detail: object = None) -> None:
        """Count (or, in strict mode, raise for) a rejected measurement."""
        message = f"otel_ccmon: dropped measurement for {metric}: {reason} ({detail!r})"
        if self._strict:
            raise ValueError(message)
        self._dropped.add(1, {"metric": metric, "reason": reason})
        key = (metric, reason)
        if key not in self._warned:
            self._warned.add(key)
            _log.warning("%s; further drops of this kind are only counted", message)

    def attrs(self, metric: str, *values: object) -> Attrs | None:
        """Resolve attribute values for ``metric``; ``None`` means dropped."""
        result = self._resolvers[metric].resolve(values)
        if isinstance(result, str):
            self.drop(metric, result, values)
            return None
        return result

    # -- recording primitives ----------------------------------------------------------------
    def add(self, metric: str, amount: float, *values: object) -> None:
        if not _is_count(amount):
            self.drop(metric, "invalid_value", amount)
            return
        attrs = self.attrs(metric, *values) if values else _EMPTY
        if attrs is not None:
            self._instruments[metric].add(amount, attrs)

    def observe(self, metric: str, value: float, *values: object, low: float = 0.0, high: float = math.inf) -> None:
        """Record a histogram value that must lie in ``[low, high]``."""
        if not in_range(value, low, high):
            self.drop(metric, "invalid_value", value)
            return
        attrs = self.attrs(metric, *values) if values else _EMPTY
        if attrs is not None:
            self._instruments[metric].record(value, attrs)

    def set(self, metric: str, value: float, *values: object, low: float = 0.0, high: float = math.inf) -> None:
        """Set a gauge to a value that must lie in ``[low, high]``."""
        if not in_range(value, low, high):
            self.drop(metric, "invalid_value", value)
            return
        attrs = self.attrs(metric, *values) if values else _EMPTY
        if attrs is not None:
            self._instruments[metric].set(value, attrs)

    # -- cache hit rate, derived from our own counts -------------------------------------------
    def cache_access(self, cache_type: str, hit: bool) -> None:
        attrs = self.attrs("cache.hits" if hit else "cache.misses", cache_type)
        if attrs is None:
            return
        self._instruments["cache.hits" if hit else "cache.misses"].add(1, attrs)
        key = attrs["cache_type"]
        counts = self._cache_counts.get(key)
        if counts is None:
            with self._cache_lock:
                counts = self._cache_counts.setdefault(key, [0, 0])
        with self._cache_lock:
            counts[0 if hit else 1] += 1

    def _observe_hit_rate(self, _options: CallbackOptions) -> list[Observation]:
        with self._cache_lock:
            snapshot = [(k, h, m) for k, (h, m) in self._cache_counts.items()]
        return [Observation(h / (h + m), {"cache_type": k}) for k, h, m in snapshot if h + m]


def _is_count(amount: object) -> bool:
    return isinstance(amount, (int, float)) and not isinstance(amount, bool) and math.isfinite(amount) and amount >= 0


def in_range(value: object, low: float, high: float) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and low <= value <= high
    )


def instrument_factory(meter: Meter) -> Callable[[MetricSpec], Any]:
    """Create the instrument for a catalog spec (used by runtime and receiver metrics)."""

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
