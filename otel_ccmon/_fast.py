"""The fast recording path: per-attribute-set cells updated on the hot path, reported at collection.

The OTel SDK does dictionary, lock and aggregation work on every ``add``/``record`` (≈ 6 µs on
this machine class) and again per series at every collection. Here a helper call resolves its
attribute values to a cached cell (one dict lookup once warm) and updates it under a per-metric
lock; nothing else happens per call. At collection time the cells become, unchanged in meaning:

- cumulative ``Sum``/``Gauge``/``Histogram`` points merged into every SDK collection
  (:meth:`FastStore.merge`), through the SDK seam in ``otel_ccmon._sdk_seam`` (the SDK has no
  metric-producer hook, so the merge sits in a push-exporter wrapper and an in-memory reader);
- Prometheus text rendered straight from the cells (:meth:`FastStore.render_text`), with each
  cell's label string built once, in the same format the OTel Prometheus exporter writes.

Used only when otel_ccmon owns the meter provider (it knows every reader); with a provider the
user brings, the recorder uses plain SDK instruments.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from prometheus_client.utils import floatToGoString as _float_to_go

from otel_ccmon._catalog import OVERFLOW_VALUE, Kind, MetricSpec, _sanitize

Attrs = Mapping[str, Any]
_M = TypeVar("_M", "FastValue", "FastHistogram")
# prometheus_client's float formatting, so our text matches what its exposition writes
floatToGoString: Callable[[float], str] = _float_to_go


def _escape(value: object) -> str:
    return str(value).replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


class ValueCell:
    """A counter's running total or a gauge's last value, for one attribute set."""

    __slots__ = ("attrs", "labels", "otlp", "start_ns", "value")

    def __init__(self, attrs: Attrs) -> None:
        self.attrs = attrs
        self.value: float = 0
        self.start_ns = time.time_ns()
        self.labels: str | None = None  # Prometheus label text, built at the first render
        self.otlp: bytes | None = None  # OTLP bytes that never change, built at the first export


class HistogramCell:
    """Explicit-bucket histogram state for one attribute set."""

    __slots__ = ("attrs", "count", "counts", "labels", "le_parts", "max", "min", "otlp", "start_ns", "sum")

    def __init__(self, attrs: Attrs, buckets: int) -> None:
        self.attrs = attrs
        self.counts = [0] * (buckets + 1)
        self.count = 0
        self.sum: float = 0.0
        self.min = float("inf")
        self.max = float("-inf")
        self.start_ns = time.time_ns()
        self.labels: str | None = None
        self.le_parts: tuple[str, str] = ("", "")  # label text before and after `le` (sorted order)
        self.otlp: bytes | None = None


class _FastMetric:
    """Cells of one metric with the lock that guards them."""

    def __init__(self, spec: MetricSpec, scope: InstrumentationScope) -> None:
        self.spec = spec
        self.scope = scope
        self.lock = threading.Lock()
        self.cells: dict[tuple[tuple[str, Any], ...], Any] = {}
        # the same cells in creation order (cells are never removed): an OTLP export takes the
        # series due for refresh as a strided slice of it, without copying every cell
        self.order: list[Any] = []
        # cells written since the last OTLP export, added under the lock by every writer
        # (otel_ccmon._otlp sends these and refreshes the others in turn)
        self.dirty: set[Any] = set()
        scope_labels = {
            "otel_scope_name": scope.name,
            "otel_scope_schema_url": scope.schema_url or "",
            "otel_scope_version": scope.version or "",
        }
        self._scope_labels = scope_labels
        self.header = (
            f"# HELP {spec.prom_name} {_escape(spec.description)}\n# TYPE {spec.prom_name} {spec.kind.value}\n"
        )

    def _new(self, attrs: Attrs) -> Any:
        raise NotImplementedError

    def cell(self, attrs: Attrs) -> Any:
        key = tuple(attrs.items())
        with self.lock:
            found = self.cells.get(key)
            if found is None:
                found = self.cells[key] = self._new(attrs)
                self.order.append(found)
            return found

    def label_items(self, cell: Any) -> list[tuple[str, str]]:
        labels = {_sanitize(k): _escape(v) for k, v in cell.attrs.items()}
        labels.update(self._scope_labels)
        return sorted(labels.items())

    def label_text(self, cell: Any) -> str:
        return _join(self.label_items(cell))


def _join(items: Iterable[tuple[str, str]]) -> str:
    return ",".join(f'{k}="{v}"' for k, v in items)


class FastValue(_FastMetric):
    """A counter (monotonic sum) or gauge (last value)."""

    def _new(self, attrs: Attrs) -> ValueCell:
        return ValueCell(attrs)

    def totals(self) -> dict[tuple[tuple[str, Any], ...], float]:
        with self.lock:
            return {k: c.value for k, c in self.cells.items()}

    def metric(self, now_ns: int) -> Metric | None:
        with self.lock:
            snapshot = [(c.attrs, c.start_ns, c.value) for c in self.cells.values()]
        if not snapshot:
            return None
        points = [
            NumberDataPoint(attributes=dict(a), start_time_unix_nano=s, time_unix_nano=now_ns, value=v)
            for a, s, v in snapshot
        ]
        data: Sum | Gauge
        if self.spec.kind is Kind.COUNTER:
            data = Sum(data_points=points, aggregation_temporality=AggregationTemporality.CUMULATIVE, is_monotonic=True)
        else:
            data = Gauge(data_points=points)
        return Metric(name=self.spec.otel_name, description=self.spec.description, unit=self.spec.unit, data=data)

    def render(self, out: list[str]) -> None:
        with self.lock:
            cells = list(self.cells.values())
        if not cells:
            return
        out.append(self.header)
        name = self.spec.prom_name
        for c in cells:
            if c.labels is None:
                c.labels = self.label_text(c)
            out.append(f"{name}{{{c.labels}}} {floatToGoString(c.value)}\n")


class FastHistogram(_FastMetric):
    """Explicit-bucket histogram aggregated into the catalog's buckets."""

    def __init__(self, spec: MetricSpec, scope: InstrumentationScope) -> None:
        super().__init__(spec, scope)
        self.bounds: tuple[float, ...] = tuple(float(b) for b in spec.buckets or ())
        self._le = [floatToGoString(b) for b in self.bounds] + ["+Inf"]
        self.otlp_bounds: bytes | None = None  # the encoded explicit_bounds field (otel_ccmon._otlp)

    def _new(self, attrs: Attrs) -> HistogramCell:
        return HistogramCell(attrs, len(self.bounds))

    def record(self, cell: HistogramCell, value: float) -> None:
        # OTel explicit buckets: bucket i holds (bounds[i-1], bounds[i]]
        index = bisect.bisect_left(self.bounds, value)
        with self.lock:
            cell.counts[index] += 1
            cell.count += 1
            self.dirty.add(cell)
            cell.sum += value
            if value < cell.min:
                cell.min = value
            if value > cell.max:
                cell.max = value

    def _snapshot(self) -> list[tuple[HistogramCell, list[int], int, float, float, float]]:
        with self.lock:
            return [(c, list(c.counts), c.count, c.sum, c.min, c.max) for c in self.cells.values() if c.count]

    def metric(self, now_ns: int) -> Metric | None:
        points = [
            HistogramDataPoint(
                attributes=dict(c.attrs),
                start_time_unix_nano=c.start_ns,
                time_unix_nano=now_ns,
                count=count,
                sum=total,
                bucket_counts=tuple(counts),
                explicit_bounds=self.bounds,
                min=low,
                max=high,
            )
            for c, counts, count, total, low, high in self._snapshot()
        ]
        if not points:
            return None
        data = Histogram(data_points=points, aggregation_temporality=AggregationTemporality.CUMULATIVE)
        return Metric(name=self.spec.otel_name, description=self.spec.description, unit=self.spec.unit, data=data)

    def render(self, out: list[str]) -> None:
        snapshot = self._snapshot()
        if not snapshot:
            return
        out.append(self.header)
        name = self.spec.prom_name
        for c, counts, count, total, _, _ in snapshot:
            if c.labels is None:
                items = self.label_items(c)
                before = "".join(f'{k}="{v}",' for k, v in items if k < "le")
                after = "".join(f',{k}="{v}"' for k, v in items if k > "le")
                c.le_parts = (before, after)
                c.labels = _join(items)
            labels = c.labels
            before, after = c.le_parts
            cumulative = 0
            for le, n in zip(self._le, counts, strict=True):
                cumulative += n
                out.append(f'{name}_bucket{{{before}le="{le}"{after}}} {floatToGoString(cumulative)}\n')
            out.append(f"{name}_count{{{labels}}} {floatToGoString(count)}\n")
            out.append(f"{name}_sum{{{labels}}} {floatToGoString(total)}\n")


class FastStore:
    """The fast metrics of one provider: merged into SDK collections and rendered as text."""

    def __init__(self, resource: Resource, scope: InstrumentationScope) -> None:
        self.resource = resource
        self.scope = scope
        self.metrics: list[FastValue | FastHistogram] = []
        self._by_key: dict[tuple[str, InstrumentationScope], FastValue | FastHistogram] = {}
        self._lock = threading.Lock()
        # OTLP export state (otel_ccmon._otlp): an unchanged series is sent again every
        # `refresh_every` exports; after a failed export the next one sends every series
        self.refresh_every = 1
        self.exports = 0
        self.resend_all = False

    def _get(self, cls: type[_M], spec: MetricSpec, scope: InstrumentationScope) -> _M:
        # One metric per name and scope: a second app instrumented in the same process (or a
        # second recorder) shares the cells instead of writing the family twice into /metrics.
        with self._lock:
            found = self._by_key.get((spec.otel_name, scope))
            if found is None:
                found = self._by_key[(spec.otel_name, scope)] = cls(spec, scope)
                self.metrics.append(found)
        assert isinstance(found, cls), (spec.otel_name, type(found))
        return found

    def value(self, spec: MetricSpec) -> FastValue:
        return self._get(FastValue, spec, self.scope)

    def histogram(self, spec: MetricSpec, scope: InstrumentationScope | None = None) -> FastHistogram:
        return self._get(FastHistogram, spec, scope or self.scope)

    def series(self) -> int:
        return sum(len(m.cells) for m in self.metrics)

    def render_text(self) -> str:
        """Prometheus text exposition (0.0.4) of every fast metric."""
        out: list[str] = []
        for m in self.metrics:
            m.render(out)
        return "".join(out)

    def merge(self, data: MetricsData | None) -> MetricsData | None:
        """``data`` with every fast metric added under its scope (created where missing)."""
        now = time.time_ns()
        by_scope: dict[InstrumentationScope, list[Metric]] = {}
        for m in self.metrics:
            metric = m.metric(now)
            if metric is not None:
                by_scope.setdefault(m.scope, []).append(metric)
        if not by_scope:
            return data
        resource_metrics: list[ResourceMetrics] = list(data.resource_metrics) if data is not None else []
        for i, rm in enumerate(resource_metrics):
            if rm.resource == self.resource:
                resource_metrics[i] = replace(rm, scope_metrics=_merge_scopes(rm.scope_metrics, by_scope))
                break
        else:
            resource_metrics.append(
                ResourceMetrics(
                    resource=self.resource,
                    scope_metrics=_merge_scopes([], by_scope),
                    schema_url=self.resource.schema_url,
                )
            )
        return MetricsData(resource_metrics=resource_metrics)


def _merge_scopes(
    scopes: Sequence[ScopeMetrics], extra: Mapping[InstrumentationScope, list[Metric]]
) -> list[ScopeMetrics]:
    out = list(scopes)
    for scope, metrics in extra.items():
        for i, sm in enumerate(out):
            if sm.scope == scope:
                out[i] = replace(sm, metrics=[*sm.metrics, *metrics])
                break
        else:
            out.append(ScopeMetrics(scope=scope, metrics=metrics, schema_url=scope.schema_url or ""))
    return out


# -- HTTP server duration on the fast path ---------------------------------------------------------
class _FastHttpHistogram:
    """Stands in for the instrumentation's ``http.server.request.duration`` histogram.

    Keeps only the catalog's allowlisted attributes; attribute sets beyond the cardinality limit
    are folded into one overflow set.
    """

    def __init__(self, hist: FastHistogram, limit: int) -> None:
        self._hist = hist
        self._allowed = frozenset(hist.spec.attribute_keys)
        self._limit = limit
        self._cells: dict[tuple[tuple[str, Any], ...], HistogramCell] = {}
        self._overflow: HistogramCell | None = None

    def record(self, amount: float, attributes: Mapping[str, Any] | None = None, context: Any = None) -> None:
        del context
        key = tuple(attributes.items()) if attributes else ()
        cell = self._cells.get(key)
        if cell is None:
            cell = self._slow(key)
        self._hist.record(cell, amount)

    def _slow(self, key: tuple[tuple[str, Any], ...]) -> HistogramCell:
        attrs = {k: v for k, v in key if k in self._allowed}
        if len(self._cells) >= self._limit:
            if self._overflow is None:
                self._overflow = self._hist.cell({"http.route": OVERFLOW_VALUE})
            return self._overflow
        cell: HistogramCell = self._hist.cell(attrs)
        self._cells[key] = cell
        return cell


class _MeterProxy:
    def __init__(self, meter: Any, fast: Mapping[str, _FastHttpHistogram]) -> None:
        self._meter = meter
        self._fast = fast

    def create_histogram(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._fast.get(name) or self._meter.create_histogram(name, *args, **kwargs)

    def __getattr__(self, item: str) -> Any:
        return getattr(self._meter, item)


class FastHttpMeterProvider:
    """Meter provider handed to the FastAPI instrumentation: its duration histogram goes to the
    fast path (under the instrumentation's own scope); every other instrument to the SDK."""

    def __init__(self, provider: Any, store: FastStore, specs: Iterable[MetricSpec], limit: int) -> None:
        self._provider = provider
        self._store = store
        self._specs = {s.otel_name: s for s in specs}
        self._limit = limit
        self._meters: dict[tuple[str, str | None, str | None], _MeterProxy] = {}
        self._lock = threading.Lock()

    def get_meter(
        self, name: str, version: str | None = None, schema_url: str | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        key = (name, version, schema_url)
        with self._lock:
            proxy = self._meters.get(key)
            if proxy is None:
                scope = InstrumentationScope(name, version, schema_url)
                fast = {
                    n: _FastHttpHistogram(self._store.histogram(spec, scope), self._limit)
                    for n, spec in self._specs.items()
                }
                meter = self._provider.get_meter(name, version, schema_url, *args, **kwargs)
                proxy = self._meters[key] = _MeterProxy(meter, fast)
            return proxy
