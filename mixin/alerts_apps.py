"""Applications' own metrics (``app_catalogs`` in mixin/settings.yml): each catalog file
(otel_ccmon/_app_catalog.py) loaded, and an alert per objective, with its runbook text and promtool
scenario. The dashboard row is mixin/dashboard_apps.py's; the collector's allowlist entries are
mixin/collector_firewall.py's.

The alerts select the application's own job (its ``service``) only: the catalog names the service
that records these metrics, so no other job's series can match.
"""

from __future__ import annotations

from dataclasses import replace

from mixin.config import SETTINGS, SETTINGS_FILE
from mixin.model import Alert, Scenario
from otel_ccmon._app_catalog import AppCatalog, Objective, load_catalog
from otel_ccmon._catalog import Kind, MetricSpec, _sanitize

REPO = SETTINGS_FILE.parent.parent
WINDOW = "5m"
_WORDS = {"s": "second", "m": "minute", "h": "hour", "d": "day"}


def _load(path: str) -> AppCatalog:
    return replace(load_catalog(REPO / path), source=path)


CATALOGS: tuple[AppCatalog, ...] = tuple(_load(p) for p in SETTINGS.app_catalogs)


def _words(duration: str) -> str:
    """``"10m"`` → ``"10 minutes"`` (objectives' ``for`` is one whole unit, checked by the catalog)."""
    count, unit = int(duration[:-1]), _WORDS[duration[-1]]
    return f"{count} {unit}{'s' if count != 1 else ''}"


def _sample_labels(spec: MetricSpec, job: str, **fixed: str) -> str:
    """A label set of one series of ``spec`` for scenarios: each attribute at its first allowed value."""
    labels = {"job": job, "instance": "i1"}
    for a in spec.attributes:
        key = _sanitize(a.key)
        labels[key] = fixed.get(key) or (sorted(a.allowed)[0] if a.allowed else "u1")
    return ",".join(f'{k}="{v}"' for k, v in labels.items())


def bad_matchers(o: Objective) -> str:
    return ",".join(f'{_sanitize(k)}=~"{"|".join(v)}"' for k, v in sorted(o.bad.items()))


def _counter(c: AppCatalog, spec: MetricSpec, o: Objective) -> tuple[str, str, Scenario, tuple[str, ...]]:
    job, m = f'job="{c.service}"', spec.prom_name
    bad = bad_matchers(o)
    expr = (
        f"sum by (job) (rate({m}{{{job},{bad}}}[{WINDOW}]))\n  / sum by (job) (rate({m}{{{job}}}[{WINDOW}]))"
        f"\n  > {o.threshold:g}"
    )
    key, values = sorted(o.bad.items())[0]
    allowed = next(a.allowed for a in spec.attributes if a.key == key) or frozenset()
    good = sorted(allowed - set(values))
    bad_series = f"{m}{{{_sample_labels(spec, c.service, **{_sanitize(key): values[0]})}}}"
    scenario = Scenario(
        firing={bad_series: "0+10x200"},
        # check_catalog leaves at least one good value
        healthy={f"{m}{{{_sample_labels(spec, c.service, **{_sanitize(key): good[0]})}}}": "0+10x200"},
        value=1.0,
        labels={"job": c.service},
    )
    meaning = (
        f"More than {o.threshold:g} ({o.threshold:.0%}) of `{m}` over the last 5 minutes are "
        f"{', '.join(f'{k} in {list(v)}' for k, v in o.bad.items())}, for {_words(o.for_)}."
    )
    diagnosis = (f"sum by ({', '.join(_sanitize(a.key) for a in spec.attributes)}) (rate({m}{{{job}}}[{WINDOW}]))",)
    return expr, meaning, scenario, diagnosis


def _histogram(c: AppCatalog, spec: MetricSpec, o: Objective) -> tuple[str, str, Scenario, tuple[str, ...]]:
    job, m = f'job="{c.service}"', spec.prom_name
    b = spec.buckets or ()
    expr = (
        f"histogram_quantile({o.quantile:g}, sum by (job, le) (rate({m}_bucket{{{job}}}[{WINDOW}])))\n"
        f"  > {o.threshold:g}"
    )
    labels = _sample_labels(spec, c.service)

    def series(slow: bool) -> dict[str, str]:
        # every observation above the last boundary (the estimate is that boundary) or in the first bucket
        out = {f'{m}_bucket{{{labels},le="{le:g}"}}': "0x200" if slow else "0+10x200" for le in b}
        out[f'{m}_bucket{{{labels},le="+Inf"}}'] = "0+10x200"
        out[f"{m}_count{{{labels}}}"] = "0+10x200"
        out[f"{m}_sum{{{labels}}}"] = f"0+{10 * (b[-1] * 2 if slow else b[0]):g}x200"
        return out

    pct = f"{o.quantile * 100:g}th percentile"
    meaning = f"The {pct} of `{m}` over the last 5 minutes is above {o.threshold:g} {spec.unit}, for {_words(o.for_)}."
    diagnosis = (f"histogram_quantile({o.quantile:g}, sum by (le) (rate({m}_bucket{{{job}}}[{WINDOW}])))",)
    return expr, meaning, Scenario(series(True), series(False), b[-1], {"job": c.service}), diagnosis


def _gauge(c: AppCatalog, spec: MetricSpec, o: Objective) -> tuple[str, str, Scenario, tuple[str, ...]]:
    job, m = f'job="{c.service}"', spec.prom_name
    above = o.max is not None
    t = o.threshold
    step = abs(t) + 1
    fn, op, word = ("max", ">", "above") if above else ("min", "<", "below")
    expr = f"{fn} by (job) ({m}{{{job}}}) {op} {t:g}"
    bad_value, good_value = (t + step, t - step) if above else (t - step, t + step)
    series = f"{m}{{{_sample_labels(spec, c.service)}}}"
    scenario = Scenario(
        {series: f"{bad_value:g}x200"}, {series: f"{good_value:g}x200"}, bad_value, {"job": c.service}, active_from=0
    )
    meaning = f"`{m}` is {word} {t:g} ({spec.description.rstrip('.')}), for {_words(o.for_)}."
    return expr, meaning, scenario, (f"{m}{{{job}}}",)


_BUILDERS = {Kind.COUNTER: _counter, Kind.HISTOGRAM: _histogram, Kind.GAUGE: _gauge}


def alert(c: AppCatalog, o: Objective) -> Alert:
    """The alert of one objective of ``c``."""
    spec = c.by_name[o.metric]
    expr, meaning, scenario, diagnosis = _BUILDERS[spec.kind](c, spec, o)
    limit = f"{o.threshold:g}" + (f" {spec.unit}" if spec.unit and not spec.unit.startswith("{") else "")
    default = {
        Kind.COUNTER: f"{c.display_title}: more than {o.threshold:.0%} of {spec.prom_name} bad",
        Kind.HISTOGRAM: f"{c.display_title}: p{o.quantile * 100:g} of {spec.prom_name} above {limit}",
        Kind.GAUGE: f"{c.display_title}: {spec.prom_name} {'above' if o.max is not None else 'below'} {limit}",
    }
    summary = o.summary or default[spec.kind]
    value = "{{ $value | humanizePercentage }}" if spec.kind is Kind.COUNTER else "{{ $value | humanize }}"
    return Alert(
        name=o.alert,
        severity=o.severity,
        component=c.service,
        expr=expr,
        summary=summary,
        description=f"{{{{ $labels.job }}}}: {spec.prom_name} at {value} (objective {o.threshold:g}) for {o.for_}.",
        impact=o.impact or f"{c.display_title} misses an objective its owners declared: {spec.description}",
        meaning=meaning + f" Declared in `{c.source}` (an application catalog).",
        diagnosis=diagnosis,
        mitigation=o.mitigation or (f"Ask the owners of {c.service}: this objective is theirs ({c.source}).",),
        scenario=scenario,
        for_=o.for_,
        threshold=o.threshold,
        group="apps",
        push_variant=False,
    )


APP_ALERTS: tuple[Alert, ...] = tuple(alert(c, o) for c in CATALOGS for o in c.objectives)
