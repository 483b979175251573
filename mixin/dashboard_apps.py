"""The Applications dashboard: a row per application catalog (``app_catalogs`` in mixin/settings.yml),
a panel per declared metric, thresholds from the objectives' alerts (mixin/alerts_apps.py)."""

from __future__ import annotations

from pathlib import Path

from mixin.alerts_apps import CATALOGS, bad_matchers
from mixin.panels import Board, Panel, Row, datasource_variable, query
from otel_ccmon._app_catalog import AppCatalog
from otel_ccmon._catalog import Kind, MetricSpec, _sanitize

# a catalog's units (otel_ccmon._app_catalog accepts these and {annotations}) as Grafana's; what is not
# here, item counts such as {invoice} or tokens, is a plain number ("short")
_GRAFANA_UNITS = {"s": "s", "ms": "ms", "By": "bytes", "USD": "currencyUSD", "1": "percentunit"}
_GRAFANA_RATES = {"By": "Bps"}  # counters are shown per second


def grafana_unit(unit: str, *, rate: bool = False) -> str:
    """The Grafana unit of a panel showing a metric of this catalog ``unit`` (its rate when ``rate``).

    >>> grafana_unit("By"), grafana_unit("By", rate=True), grafana_unit("{invoice}"), grafana_unit("1")
    ('bytes', 'Bps', 'short', 'percentunit')
    """
    return (_GRAFANA_RATES if rate else _GRAFANA_UNITS).get(unit, "short")


def _panel(c: AppCatalog, spec: MetricSpec) -> Panel:
    job, m, ri = f'job="{c.service}"', spec.prom_name, "$__rate_interval"
    objective = next((o for o in c.objectives if o.metric == spec.otel_name), None)
    alert_name = objective.alert if objective is not None else None
    bounded = [_sanitize(a.key) for a in spec.attributes if a.allowed]
    by = f"sum by ({bounded[0]}) " if bounded else "sum "
    legend = f"{{{{{bounded[0]}}}}}" if bounded else spec.prom_name
    if spec.kind is Kind.HISTOGRAM:
        q = objective.quantile if objective is not None else 0.95
        queries = tuple(
            query(f"histogram_quantile({x:g}, sum by (le) (rate({m}_bucket{{{job}}}[{ri}])))", f"p{x * 100:g}")
            for x in sorted({0.5, q, 0.99})
        )
        unit = grafana_unit(spec.unit)
        return Panel("timeseries", spec.description.rstrip("."), queries, unit, spec.prom_name, alert_name)
    if spec.kind is Kind.GAUGE:
        fn = "max" if objective is None or objective.max is not None else "min"
        expr = f"{fn} by ({bounded[0]}) ({m}{{{job}}})" if bounded else f"{fn}({m}{{{job}}})"
        unit = grafana_unit(spec.unit)
        return Panel(
            "timeseries", spec.description.rstrip("."), (query(expr, legend),), unit, spec.prom_name, alert_name
        )
    if objective is not None:
        bad = bad_matchers(objective)
        ratio = f"sum(rate({m}{{{job},{bad}}}[{ri}])) / sum(rate({m}{{{job}}}[{ri}]))"
        queries = (query(ratio, "bad share"),)
        return Panel("timeseries", f"{spec.description.rstrip('.')}: bad share", queries, "percentunit", m, alert_name)
    expr = f"{by}(rate({m}{{{job}}}[{ri}]))"
    unit = grafana_unit(spec.unit, rate=True)
    return Panel("timeseries", f"{spec.description.rstrip('.')} (per second)", (query(expr, legend),), unit, m)


def board(catalogs: tuple[AppCatalog, ...] = CATALOGS) -> Board:
    """The Applications dashboard: a row per catalog, a panel per metric (thresholds from objectives)."""
    rows = tuple(Row(f"{c.display_title} ({c.service})", tuple(_panel(c, s) for s in c.metrics)) for c in catalogs)
    return Board(
        output=Path("grafana") / "dashboards" / "apps.json",
        uid="ccmon-apps",
        title="otel-ccmon: Applications",
        description="Applications' own metrics, declared in their catalogs (app_catalogs in mixin/settings.yml).",
        tags=("otel-ccmon", "applications"),
        rows=rows,
        variables=lambda: [datasource_variable()],
    )


APP_BOARDS: tuple[Board, ...] = (board(),) if CATALOGS else ()
