"""The panel module of the generated Grafana dashboards (grafana-foundation-sdk): the small
vocabulary every dashboard module is written in (:class:`Panel`, :class:`Row`, :class:`Board`,
queries and variables) and the renderer of a board to provisionable JSON.

One module per dashboard builds on it (``mixin/dashboard_overview.py``,
``mixin/dashboard_claude_code.py``), as the monitoring mixins do; ``mixin/dashboards.py`` lists the
boards. Thresholds come from the alert definitions in ``mixin.alerts`` (one source).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import bargauge, gauge, heatmap, stat, table, timeseries
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import prometheus as prom
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import (
    DashboardLinkType,
    DataSourceRef,
    Threshold,
    ThresholdsMode,
    ValueMap,
    ValueMappingResult,
    VariableOption,
    VariableRefresh,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from mixin.alerts import BY_NAME
from mixin.config import RUNBOOK_BASE

DATASOURCE_UID = "ccmon-prometheus"  # fixed uid of the provisioned Prometheus datasource
DS = DataSourceRef(type_val="prometheus", uid="${datasource}")
JOB_MATCH = 'job=~"$job"'
JOB_INSTANCE_MATCH = 'job=~"$job",instance=~"$instance"'
RATE_INTERVAL = "$__rate_interval"


@dataclass(frozen=True)
class Panel:
    """One panel: kind, title, queries (expr, legend), unit and where its threshold comes from."""

    kind: str  # timeseries | stat | gauge | bargauge | heatmap | table
    title: str
    queries: tuple[tuple[str, str], ...]
    unit: str
    description: str = ""
    alert: str | None = None  # threshold from this alert's definition
    threshold: float | None = None  # a target that is not an alert threshold (e.g. 95 % truth)
    low_is_bad: bool = False  # red below the threshold (rates, ratios) rather than above
    min: float | None = None
    max: float | None = None
    width: int = 8
    mappings: bool = False

    def threshold_value(self) -> float | None:
        if self.alert is not None:
            return BY_NAME[self.alert].threshold
        return self.threshold


@dataclass(frozen=True)
class Row:
    title: str
    panels: tuple[Panel, ...] = field(default_factory=tuple)


def query(expr: str, legend: str = "") -> tuple[str, str]:
    return (expr, legend)


def quantiles(metric: str, by: str = "", qs: tuple[float, ...] = (0.5, 0.95, 0.99)) -> tuple[tuple[str, str], ...]:
    extra = f", {by}" if by else ""
    return tuple(
        query(
            expr=f"histogram_quantile({x}, sum by (le{extra}) (rate({metric}_bucket{{{JOB_MATCH}}}[{RATE_INTERVAL}])))",
            legend=f"p{round(x * 100)}" + (f" {{{{{by}}}}}" if by else ""),
        )
        for x in qs
    )


@dataclass(frozen=True)
class Board:
    """One generated dashboard: where it goes, its identity, rows and variables."""

    output: Path
    uid: str
    title: str
    description: str
    tags: tuple[str, ...]
    rows: tuple[Row, ...]
    variables: Callable[[], list[Any]]
    time_from: str = "now-6h"

    def panels(self) -> list[tuple[str, Panel]]:
        """Every data panel with its row title, in dashboard order."""
        return [(row.title, p) for row in self.rows for p in row.panels]


def _thresholds(p: Panel) -> dash.ThresholdsConfig:
    value = p.threshold_value()
    ok, bad = "green", "red"
    steps = [Threshold(value=None, color=bad if p.low_is_bad else ok)]
    if value is not None:
        steps.append(Threshold(value=value, color=ok if p.low_is_bad else bad))
    return dash.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(steps)


def _targets(p: Panel) -> list[prom.Dataquery]:
    out = []
    for i, (expr, legend) in enumerate(p.queries):
        target = prom.Dataquery().expr(expr).ref_id(chr(ord("A") + i)).datasource(DS)
        if legend:
            target = target.legend_format(legend)
        if p.kind == "heatmap":
            target = target.format(PromQueryFormat.HEATMAP)
        if p.kind == "table":
            target = target.format(PromQueryFormat.TABLE).instant()
        out.append(target)
    return out


_UP_DOWN = [
    ValueMap(
        options={
            "0": ValueMappingResult(text="DOWN", color="red"),
            "1": ValueMappingResult(text="UP", color="green"),
        }
    )
]


def build_panel(p: Panel, panel_id: int) -> Any:
    builders: dict[str, Any] = {
        "timeseries": timeseries.Panel,
        "stat": stat.Panel,
        "gauge": gauge.Panel,
        "bargauge": bargauge.Panel,
        "heatmap": heatmap.Panel,
        "table": table.Panel,
    }
    panel = builders[p.kind]().id(panel_id).title(p.title).datasource(DS).height(8).span(p.width)
    if p.description:
        panel = panel.description(p.description)
    for target in _targets(p):
        panel = panel.with_target(target)
    panel = panel.unit(p.unit)
    if p.kind != "heatmap":  # a heatmap colours by density, not by thresholds
        panel = panel.thresholds(_thresholds(p))
        if p.min is not None:
            panel = panel.min(p.min)
        if p.max is not None:
            panel = panel.max(p.max)
        if p.mappings:
            panel = panel.mappings(_UP_DOWN)
    if p.kind == "timeseries" and p.threshold_value() is not None:
        panel = panel.thresholds_style(dash_threshold_style())
    return panel


def dash_threshold_style() -> Any:
    from grafana_foundation_sdk.builders.common import GraphThresholdsStyleConfig
    from grafana_foundation_sdk.models.common import GraphThresholdsStyleMode

    return GraphThresholdsStyleConfig().mode(GraphThresholdsStyleMode.LINE)


def datasource_variable() -> Any:
    default_ds = VariableOption(selected=True, text="Prometheus", value=DATASOURCE_UID)
    return dash.DatasourceVariable("datasource").label("Data source").type("prometheus").current(default_ds)


def label_variable(name: str, label: str, query_text: str) -> Any:
    """A multi-value variable over a label's values (all by default)."""
    return (
        dash.QueryVariable(name)
        .label(label)
        .datasource(DataSourceRef(type_val="prometheus", uid="${datasource}"))
        .query(query_text)
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .multi(True)
        .include_all(True)
        .all_value(".*")
    )


def build(board: Board) -> dict[str, Any]:
    """The dashboard model as a JSON-ready dict (what Grafana's file provisioning reads)."""
    builder = (
        dash.Dashboard(board.title)
        .uid(board.uid)
        .tags(list(board.tags))
        .description(board.description)
        .refresh("30s")
        .time(board.time_from, "now")
        .timezone("browser")
        .editable()
        .link(
            dash.DashboardLink("Runbooks")
            .type(DashboardLinkType.LINK)
            .url(RUNBOOK_BASE + "/")
            .icon("doc")
            .tooltip("One runbook per alert (Meaning, Impact, Diagnosis, Mitigation)")
            .target_blank(True)
        )
    )
    for variable in board.variables():
        builder = builder.with_variable(variable)
    panel_id = 1
    for row in board.rows:
        builder = builder.with_row(dash.Row(row.title).id(panel_id))
        panel_id += 1
        for p in row.panels:
            builder = builder.with_panel(build_panel(p, panel_id))
            panel_id += 1
    model: dict[str, Any] = json.loads(JSONEncoder(sort_keys=True, indent=2).encode(builder.build()))
    return model


def render(board: Board) -> str:
    """The board as provisionable JSON text (what the generated file holds)."""
    return json.dumps(build(board), indent=2, sort_keys=True) + "\n"
