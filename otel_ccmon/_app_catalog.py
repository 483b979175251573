"""Your own metrics: an application's catalog, declared outside the package.

An application declares its metrics as otel-ccmon declares its own (OTel name, Prometheus name, kind,
unit, attribute allowlist, buckets) in a YAML file (:func:`load_catalog`) or in Python
(:class:`AppCatalog` of :class:`~otel_ccmon.MetricSpec`), optionally with one objective per metric
that the mixin turns into an alert. :func:`check_catalog` applies the rules the built-in catalog is
held to (the Prometheus name is what both exporters derive; attributes bounded or capped; no clash
with a built-in metric); :func:`register_catalog` records through the same validated fast path as the
helpers. ``ccmon catalog check FILE`` runs the same checks from the command line.

The YAML shape (docs/library.md, "Your own metrics")::

    service: invoices
    metrics:
      - name: invoices.processed
        prometheus: invoices_processed_total
        kind: counter
        unit: "{invoice}"
        description: Invoices processed, by outcome.
        attributes: {outcome: [paid, rejected, failed], customer: capped}
        objective: {alert: InvoiceFailuresHigh, severity: P2, bad: {outcome: [failed]}, max: 0.05}
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from otel_ccmon import _catalog as cat
from otel_ccmon import _privacy
from otel_ccmon._catalog import Attribute, Kind, MetricSpec
from otel_ccmon._extras import require
from otel_ccmon._recorder import Recorder
from otel_ccmon._settings import Settings

SEVERITIES = ("P0", "P1", "P2", "P3")
CAPPED = "capped"
"""The YAML value of an attribute whose values come from users: kept up to the cap, then folded."""
MAX_VALUES_PER_ATTRIBUTE = 100
_OTEL_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_ATTRIBUTE_KEY = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
_ALERT_NAME = re.compile(r"[A-Z][A-Za-z0-9]+")
_FOR = re.compile(r"[1-9][0-9]*[smhd]")
_SERVICE = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
# labels Prometheus or the pipeline sets: an attribute of that name would be overwritten or clash
_RESERVED_LABELS = frozenset({"le", "quantile", "job", "instance", "service", "severity", "otel_scope_name"})
_UNITS = (*sorted(cat._UNIT_SUFFIX), "1")


class CatalogError(ValueError):
    """An application catalog that breaks a rule; ``problems`` lists each with where it is."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


@dataclass(frozen=True, slots=True)
class Objective:
    """What an alert on one metric watches (the mixin writes the rule, runbook and promtool cases).

    - counter: the ratio of the points matching ``bad`` to all points, over 5 minutes, above ``max``;
    - histogram: the ``quantile`` (0.95 by default) over 5 minutes above ``max``;
    - gauge: the largest value above ``max``, or the smallest below ``min``.

    >>> Objective("invoices.queue.depth", "InvoiceQueueBacklog", max=500).severity
    'P2'
    """

    metric: str
    alert: str
    max: float | None = None
    min: float | None = None
    severity: str = "P2"
    for_: str = "5m"
    quantile: float = 0.95
    bad: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    summary: str | None = None
    impact: str | None = None
    mitigation: tuple[str, ...] = ()

    @property
    def threshold(self) -> float:
        value = self.max if self.max is not None else self.min
        assert value is not None, "checked by check_catalog"
        return value


@dataclass(frozen=True, slots=True)
class AppCatalog:
    """An application's own metrics and objectives; ``service`` is the ``service.name`` it records as.

    >>> spec = MetricSpec("invoices.queue.depth", "invoices_queue_depth", Kind.GAUGE, "{invoice}", "Waiting.")
    >>> AppCatalog("invoices", (spec,)).by_name["invoices.queue.depth"].prom_name
    'invoices_queue_depth'
    """

    service: str
    metrics: tuple[MetricSpec, ...]
    objectives: tuple[Objective, ...] = ()
    title: str = ""
    source: str = "<python>"

    @property
    def by_name(self) -> dict[str, MetricSpec]:
        return {m.otel_name: m for m in self.metrics}

    @property
    def display_title(self) -> str:
        return self.title or self.service


def _metric_problems(spec: MetricSpec, settings: Settings) -> list[str]:
    where = f"metric {spec.otel_name!r}"
    out: list[str] = []
    if not _OTEL_NAME.fullmatch(spec.otel_name):
        out.append(f"{where}: the OTel name must be dotted lower-case words (e.g. 'invoices.processed')")
    if spec.unit not in _UNITS and not re.fullmatch(r"\{[a-z_]+\}", spec.unit):
        out.append(f"{where}: unit {spec.unit!r} is not one of {', '.join(_UNITS)} or an annotation like '{{item}}'")
    else:
        python = cat.prometheus_name(spec.otel_name, spec.unit, spec.kind)
        collector = cat.prometheus_name(spec.otel_name, spec.unit, spec.kind, via_collector=True)
        if python != collector:
            out.append(
                f"{where}: the exporters disagree on its Prometheus name ({python!r} in the app, {collector!r} "
                "through the collector); a ratio gauge whose name does not end in 'ratio' takes the unit '{ratio}'"
            )
        elif spec.prom_name != python:
            out.append(f"{where}: Prometheus name {spec.prom_name!r}, but the exporters make {python!r} from it")
    if spec.otel_name in cat.BY_OTEL_NAME or spec.prom_name in cat.BY_PROM_NAME:
        out.append(f"{where}: otel-ccmon defines this metric already ({spec.prom_name})")
    if not spec.description.strip():
        out.append(f"{where}: a description is required (it is the metric's HELP and the panel's text)")
    out += _attribute_problems(where, spec.attributes, settings)
    if spec.kind is Kind.HISTOGRAM:
        b = spec.buckets or ()
        if not b:
            out.append(f"{where}: a histogram needs buckets (its boundaries, increasing)")
        elif any(not math.isfinite(x) for x in b) or any(x >= y for x, y in itertools.pairwise(b)):
            out.append(f"{where}: buckets must be finite and strictly increasing, got {list(b)}")
    elif spec.buckets:
        out.append(f"{where}: only a histogram has buckets")
    return out


def _attribute_problems(where: str, attributes: tuple[Attribute, ...], settings: Settings) -> list[str]:
    out: list[str] = []
    keys = [a.key for a in attributes]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        out.append(f"{where}: attribute {key!r} is listed twice")
    streams = 1
    for a in attributes:
        label = cat._sanitize(a.key)
        if not _ATTRIBUTE_KEY.fullmatch(a.key):
            out.append(f"{where}: attribute {a.key!r}: lower-case words, '_' and '.' only")
        elif a.key in _privacy.IDENTITY_KEYS:
            out.append(
                f"{where}: attribute {a.key!r} names a person: an application's metric never carries an identity "
                "(Claude Code's are pseudonymised in the collector; count people another way)"
            )
        elif label in _RESERVED_LABELS or label.startswith("__"):
            out.append(
                f"{where}: attribute {a.key!r} becomes the label {label!r}, which Prometheus or the pipeline sets"
            )
        if a.allowed is None:
            streams *= settings.attribute_cap + 1
            continue
        if not a.allowed or len(a.allowed) > MAX_VALUES_PER_ATTRIBUTE:
            out.append(
                f"{where}: attribute {a.key!r} needs 1 to {MAX_VALUES_PER_ATTRIBUTE} allowed values, or "
                f"'{CAPPED}' for values from users"
            )
        bad = sorted(v for v in a.allowed if not v or len(v) > settings.attribute_max_length)
        if bad:
            out.append(f"{where}: attribute {a.key!r}: values must be 1 to {settings.attribute_max_length} characters")
        streams *= max(len(a.allowed), 1)
    if streams > settings.cardinality_limit:
        out.append(
            f"{where}: its attributes allow {streams} series, more than the limit of {settings.cardinality_limit} "
            "per metric: list fewer values or fewer capped attributes"
        )
    return out


def _objective_problems(o: Objective, metrics: Mapping[str, MetricSpec]) -> list[str]:
    where = f"objective {o.alert!r}"
    out: list[str] = []
    if not _ALERT_NAME.fullmatch(o.alert):
        out.append(f"{where}: the alert name must be CamelCase letters and digits")
    if o.severity not in SEVERITIES:
        out.append(f"{where}: severity {o.severity!r} is not one of {', '.join(SEVERITIES)}")
    if not _FOR.fullmatch(o.for_):
        out.append(f"{where}: 'for' {o.for_!r}: a whole number of s, m, h or d (e.g. 5m)")
    spec = metrics.get(o.metric)
    if spec is None:
        return [*out, f"{where}: metric {o.metric!r} is not in this catalog"]
    limits = [x for x in (o.max, o.min) if x is not None]
    if len(limits) != 1 or not all(math.isfinite(x) for x in limits):
        out.append(f"{where}: give exactly one finite threshold, max (or min, on a gauge)")
    if o.min is not None and spec.kind is not Kind.GAUGE:
        out.append(f"{where}: 'min' applies to a gauge; a {spec.kind.value} alerts above 'max'")
    if spec.kind is Kind.COUNTER:
        out += _bad_problems(where, o, spec)
        if o.max is not None and not 0 < o.max < 1:
            out.append(f"{where}: on a counter, max is the bad share of all points, between 0 and 1")
    elif o.bad:
        out.append(f"{where}: 'bad' applies to a counter (the share of matching points)")
    if spec.kind is Kind.HISTOGRAM:
        b = spec.buckets or ()
        if not 0 < o.quantile < 1:
            out.append(f"{where}: quantile must lie between 0 and 1, got {o.quantile}")
        if b and o.max is not None and not b[0] <= o.max < b[-1]:
            out.append(
                f"{where}: max {o.max:g} must lie from the first bucket boundary ({b[0]:g}) to below the last "
                f"({b[-1]:g}): a quantile is estimated from the buckets, so it cannot cross a threshold outside them"
            )
    return out


def _bad_problems(where: str, o: Objective, spec: MetricSpec) -> list[str]:
    if not o.bad:
        return [f"{where}: a counter's objective names its bad points, e.g. bad: {{outcome: [failed]}}"]
    allowed = {a.key: a.allowed for a in spec.attributes}
    out = []
    for key, values in o.bad.items():
        if key not in allowed:
            out.append(f"{where}: bad: {key!r} is not an attribute of {spec.otel_name}")
        elif allowed[key] is None:
            out.append(f"{where}: bad: {key!r} is capped; name bad points by a bounded attribute")
        elif not values or not set(values) <= (allowed[key] or set()):
            out.append(f"{where}: bad: {key} values {list(values)} must be among {sorted(allowed[key] or ())}")
        elif frozenset(values) == allowed[key]:
            out.append(f"{where}: bad: every value of {key} is bad: leave at least one good one (the share is of all)")
    return out


def check_catalog(catalog: AppCatalog, settings: Settings | None = None) -> list[str]:
    """Every rule the catalog breaks, each naming where; empty when it is sound.

    >>> spec = MetricSpec("invoices.queue", "invoices_queue", Kind.GAUGE, "s", "Oldest waiting invoice.")
    >>> print(*check_catalog(AppCatalog("invoices", (spec,))))
    metric 'invoices.queue': Prometheus name 'invoices_queue', but the exporters make 'invoices_queue_seconds' from it
    """
    settings = settings or Settings()
    out: list[str] = []
    if not _SERVICE.fullmatch(catalog.service):
        out.append(f"service {catalog.service!r}: lower-case letters, digits, '.', '_' and '-' (it is the job label)")
    if not catalog.metrics:
        out.append("no metrics declared")
    names = [m.otel_name for m in catalog.metrics] + [m.prom_name for m in catalog.metrics]
    for name in sorted({n for n in names if names.count(n) > 1}):
        out.append(f"metric {name!r} is declared twice")
    for spec in catalog.metrics:
        out += _metric_problems(spec, settings)
    alerts = [o.alert for o in catalog.objectives]
    for name in sorted({a for a in alerts if alerts.count(a) > 1}):
        out.append(f"objective {name!r}: two objectives have this alert name")
    for o in catalog.objectives:
        out += _objective_problems(o, catalog.by_name)
    return out


def validated(catalog: AppCatalog, settings: Settings | None = None) -> AppCatalog:
    """``catalog`` if it is sound, else a :class:`CatalogError` listing every problem."""
    problems = check_catalog(catalog, settings)
    if problems:
        raise CatalogError(catalog.source, problems)
    return catalog


# -- the YAML form ---------------------------------------------------------------------------------
def _models() -> Any:
    """The YAML file's pydantic models (built on first use: pydantic is the ``catalog`` extra's)."""
    (pydantic,) = require("a catalog file", "catalog", "pydantic")
    base = pydantic.ConfigDict(extra="forbid", frozen=True)

    class ObjectiveModel(pydantic.BaseModel):  # type: ignore[misc,name-defined]
        model_config = base
        alert: str
        severity: str = "P2"
        for_: str = pydantic.Field(default="5m", alias="for")
        max: float | None = None
        min: float | None = None
        quantile: float = 0.95
        bad: dict[str, list[str]] = pydantic.Field(default_factory=dict)
        summary: str | None = None
        impact: str | None = None
        mitigation: list[str] = pydantic.Field(default_factory=list)

    class MetricModel(pydantic.BaseModel):  # type: ignore[misc,name-defined]
        model_config = base
        name: str
        prometheus: str
        kind: Kind
        unit: str
        description: str
        attributes: dict[str, list[str] | str] = pydantic.Field(default_factory=dict)
        buckets: list[float] | None = None
        objective: ObjectiveModel | None = None

    class CatalogModel(pydantic.BaseModel):  # type: ignore[misc,name-defined]
        model_config = base
        service: str
        title: str = ""
        metrics: list[MetricModel]

    return CatalogModel, pydantic.ValidationError


def _attribute(key: str, value: list[str] | str) -> Attribute:
    if isinstance(value, str):
        if value != CAPPED:
            raise ValueError(f"attribute {key!r}: a list of allowed values, or '{CAPPED}' for values from users")
        return Attribute(key)
    return Attribute(key, frozenset(value))


def _objective(metric: str, o: Any) -> Objective:
    bad = {k: tuple(v) for k, v in o.bad.items()}
    return Objective(
        metric, o.alert, o.max, o.min, o.severity, o.for_, o.quantile, bad, o.summary, o.impact, tuple(o.mitigation)
    )


def parse_catalog(data: object, source: str = "<data>") -> AppCatalog:
    """An :class:`AppCatalog` from the YAML file's data, checked; :class:`CatalogError` otherwise."""
    model, validation_error = _models()
    try:
        parsed = model.model_validate(data)
    except validation_error as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors()]
        raise CatalogError(source, problems) from None
    metrics, objectives, problems = [], [], []
    for m in parsed.metrics:
        attrs = []
        for key, value in m.attributes.items():
            try:
                attrs.append(_attribute(key, value))
            except ValueError as exc:
                problems.append(f"metric {m.name!r}: {exc}")
        buckets = tuple(m.buckets) if m.buckets is not None else None
        metrics.append(MetricSpec(m.name, m.prometheus, m.kind, m.unit, m.description, tuple(attrs), buckets))
        if m.objective is not None:
            objectives.append(_objective(m.name, m.objective))
    catalog = AppCatalog(parsed.service, tuple(metrics), tuple(objectives), parsed.title, source)
    problems += check_catalog(catalog)
    if problems:
        raise CatalogError(source, problems)
    return catalog


def load_catalog(path: str | Path) -> AppCatalog:
    """Read and check an application's catalog file.

    >>> from otel_ccmon import load_catalog
    >>> catalog = load_catalog("examples/invoices/metrics.yaml")
    >>> [m.prom_name for m in catalog.metrics][:2]
    ['invoices_processed_total', 'invoices_processing_duration_seconds']
    """
    (yaml,) = require("a catalog file", "catalog", "yaml")
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise CatalogError(str(path), [f"cannot read it ({exc.strerror})"]) from None
    except yaml.YAMLError as exc:
        raise CatalogError(str(path), [f"not YAML ({exc})"]) from None
    return parse_catalog(data, str(path))


# -- recording --------------------------------------------------------------------------------------
class AppMetrics:
    """Records an application catalog's metrics through the helpers' validated fast path.

    Attributes are keywords; a missing, unknown or unlisted value is dropped and counted in
    ``ccmon_dropped_measurements_total`` as for the built-in helpers (raised with ``strict``).
    """

    def __init__(self, catalog: AppCatalog, recorder: Recorder) -> None:
        self.catalog = catalog
        self._recorder = recorder
        self._keys = {m.otel_name: m.attribute_keys for m in catalog.metrics}
        self._kinds = {m.otel_name: m.kind for m in catalog.metrics}

    def _values(self, name: str, kind: Kind, attrs: Mapping[str, object]) -> tuple[object, ...] | None:
        keys = self._keys.get(name)
        if keys is None or self._kinds[name] is not kind:
            raise KeyError(f"{name!r} is not a {kind.value} of the catalog of {self.catalog.service!r}")
        if attrs.keys() != set(keys):
            self._recorder.drop(name, "invalid_attribute", sorted(attrs))
            return None
        return tuple(attrs[k] for k in keys)

    def add(self, name: str, amount: float = 1, **attrs: object) -> None:
        """Add to a counter.

        >>> metrics.add("invoices.processed", outcome="paid", tier="pro")  # doctest: +SKIP
        """
        values = self._values(name, Kind.COUNTER, attrs)
        if values is not None:
            self._recorder.add(name, amount, *values)

    def observe(self, name: str, value: float, **attrs: object) -> None:
        """Record a histogram value (any finite number).

        >>> metrics.observe("invoices.processing.duration", 0.42, tier="pro")  # doctest: +SKIP
        """
        values = self._values(name, Kind.HISTOGRAM, attrs)
        if values is not None:
            self._recorder.observe(name, value, *values, low=-math.inf)

    def set(self, name: str, value: float, **attrs: object) -> None:
        """Set a gauge (any finite number).

        >>> metrics.set("invoices.queue.depth", 12)  # doctest: +SKIP
        """
        values = self._values(name, Kind.GAUGE, attrs)
        if values is not None:
            self._recorder.set(name, value, *values, low=-math.inf)


def register_catalog(catalog: AppCatalog | str | Path) -> AppMetrics:
    """Add an application catalog (or a catalog file) to this process's metrics and return its recorder.

    >>> import otel_ccmon
    >>> metrics = otel_ccmon.register_catalog("examples/invoices/metrics.yaml")
    >>> metrics.add("invoices.processed", outcome="paid", tier="pro")
    """
    from otel_ccmon._api import initialize_metrics

    if not isinstance(catalog, AppCatalog):
        catalog = load_catalog(catalog)
    monitor = initialize_metrics()
    validated(catalog, monitor.settings)
    monitor.recorder.register(catalog.metrics)
    return AppMetrics(catalog, monitor.recorder)
