"""Your own metrics (issue 34): an application's catalog file is checked with clear errors, records
through the helpers' validated path (fast and SDK), and reaches the mixin's outputs (alerts with
promtool cases and runbooks, a dashboard row, the collector's allowlist) without touching otel_ccmon."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

import otel_ccmon as ccmon
from mixin import alerts, alerts_apps, dashboards, generate
from otel_ccmon._catalog_cli import check_files
from tests.conftest import Reader
from tests.support import ROOT

EXAMPLE = ROOT / "examples" / "invoices" / "metrics.yaml"


def _metric(**over: Any) -> dict[str, Any]:
    base = {
        "name": "orders.placed",
        "prometheus": "orders_placed_total",
        "kind": "counter",
        "unit": "{order}",
        "description": "Orders placed.",
        "attributes": {"channel": ["web", "api"]},
    }
    return {**base, **over}


FAILING = {"alert": "OrdersFailing", "bad": {"channel": ["api"]}, "max": 0.1}


def _problems(tmp_path: Path, *metrics: dict[str, Any], service: str = "orders") -> list[str]:
    path = tmp_path / "metrics.yaml"
    path.write_text(yaml.safe_dump({"service": service, "metrics": list(metrics)}))
    with pytest.raises(ccmon.CatalogError) as info:
        ccmon.load_catalog(path)
    assert str(path) in str(info.value)
    return info.value.problems


def test_the_example_catalog_loads_with_its_declared_names() -> None:
    catalog = ccmon.load_catalog(EXAMPLE)
    assert catalog.service == "invoices"
    assert {m.otel_name: m.prom_name for m in catalog.metrics} == {
        "invoices.processed": "invoices_processed_total",
        "invoices.processing.duration": "invoices_processing_duration_seconds",
        "invoices.queue.depth": "invoices_queue_depth",
        "invoices.customer.requests": "invoices_customer_requests_total",
    }
    assert [o.alert for o in catalog.objectives] == [
        "InvoiceFailuresHigh",
        "InvoiceProcessingSlow",
        "InvoiceQueueBacklog",
    ]
    assert ccmon.check_catalog(catalog) == []


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        (_metric(prometheus="orders_placed"), "but the exporters make 'orders_placed_total'"),
        (_metric(name="OrdersPlaced"), "dotted lower-case words"),
        (_metric(unit="Ms"), "unit 'Ms' is not one of"),
        (_metric(kind="gauge", unit="1", prometheus="orders_placed"), "the exporters disagree"),
        (_metric(name="neural.operations", prometheus="neural_operations_total"), "defines this metric already"),
        (_metric(attributes={"le": ["a"]}), "becomes the label 'le'"),
        (_metric(attributes={"user.email": "capped"}), "names a person"),
        (_metric(attributes={"channel": "any"}), "a list of allowed values, or 'capped'"),
        (_metric(attributes={"channel": []}), "needs 1 to 100 allowed values"),
        (_metric(attributes={"a": "capped", "b": "capped"}), "more than the limit of 2000 per metric"),
        (_metric(kind="histogram", prometheus="orders_placed"), "a histogram needs buckets"),
        (_metric(kind="histogram", prometheus="orders_placed", buckets=[1, 1]), "strictly increasing"),
        (_metric(buckets=[1.0]), "only a histogram has buckets"),
        (_metric(description=" "), "a description is required"),
        (_metric(objective={"alert": "OrdersFailing", "max": 0.1}), "names its bad points"),
        (_metric(objective={"alert": "OrdersFailing", "bad": {"channel": ["fax"]}, "max": 0.1}), "must be among"),
        (_metric(objective={"alert": "OrdersFailing", "bad": {"channel": ["api"]}, "max": 3}), "between 0 and 1"),
        (_metric(objective={**FAILING, "alert": "orders_failing"}), "CamelCase"),
        (_metric(objective={**FAILING, "bad": {"channel": ["web", "api"]}}), "leave at least one good one"),
        (_metric(objective={**FAILING, "severity": "P9"}), "severity 'P9'"),
        (_metric(objective={**FAILING, "for": "1h30m"}), "'for' '1h30m'"),
        (_metric(objective={"alert": "OrdersFailing", "bad": {"channel": ["api"]}}), "exactly one finite threshold"),
        (
            _metric(
                kind="histogram",
                unit="s",
                prometheus="orders_placed_seconds",
                buckets=[1, 2],
                objective={"alert": "Slow", "max": 5},
            ),
            "max 5 must lie from the first bucket boundary (1) to below the last (2)",
        ),
        (_metric(objective={"alert": "Low", "min": 1, "bad": {"channel": ["api"]}}), "'min' applies to a gauge"),
        (_metric(extra="x"), "metrics.0.extra: Extra inputs are not permitted"),
        (_metric(kind="summary"), "metrics.0.kind: Input should be 'counter', 'histogram' or 'gauge'"),
    ],
)  # fmt: skip
def test_each_rule_has_a_clear_error(tmp_path: Path, metric: dict[str, Any], expected: str) -> None:
    problems = _problems(tmp_path, metric)
    assert any(expected in p for p in problems), problems


def test_service_and_duplicates_are_checked(tmp_path: Path) -> None:
    problems = _problems(tmp_path, _metric(), _metric(), service="Orders Service")
    assert any("it is the job label" in p for p in problems)
    assert any("'orders.placed' is declared twice" in p for p in problems)


def test_unreadable_and_non_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(ccmon.CatalogError, match="cannot read it"):
        ccmon.load_catalog(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("service: [unclosed\n")
    with pytest.raises(ccmon.CatalogError, match="not YAML"):
        ccmon.load_catalog(broken)


def test_catalog_check_command_reports_every_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"service": "orders", "metrics": [_metric(prometheus="orders")]}))
    code, lines = check_files([str(EXAMPLE.relative_to(ROOT)), str(bad)])
    assert code == 1
    assert lines[0] == "examples/invoices/metrics.yaml: ok: service invoices, 4 metrics, 3 objectives"
    assert "  invoices.processed -> invoices_processed_total (counter)" in lines
    assert f"{bad}: 1 problem" in lines
    assert lines[-1].startswith("  - metric 'orders.placed': Prometheus name 'orders'")
    assert check_files([str(EXAMPLE)])[0] == 0


def test_python_declarations_are_checked_the_same_way() -> None:
    spec = ccmon.MetricSpec("orders.placed", "orders_placed", ccmon.Kind.COUNTER, "{order}", "Orders.")
    catalog = ccmon.AppCatalog("orders", (spec,))
    assert ccmon.check_catalog(catalog) == [
        "metric 'orders.placed': Prometheus name 'orders_placed', but the exporters make 'orders_placed_total' from it"
    ]
    with pytest.raises(ccmon.CatalogError, match="orders_placed_total"):
        ccmon.register_catalog(catalog)


def test_records_exactly_within_the_allowlist(metrics: Reader) -> None:
    own = ccmon.register_catalog(EXAMPLE)
    for _ in range(3):
        own.add("invoices.processed", outcome="paid", tier="pro")
    own.add("invoices.processed", 2, outcome="failed", tier="free")
    own.observe("invoices.processing.duration", 0.3, tier="pro")
    own.observe("invoices.processing.duration", 7.0, tier="pro")
    own.set("invoices.queue.depth", 12)
    own.set("invoices.queue.depth", 4)
    for i in range(150):  # values from users: kept up to the cap (100), then folded
        own.add("invoices.customer.requests", customer=f"acct-{i}")
    assert metrics.value("invoices.processed", outcome="paid", tier="pro") == 3
    assert metrics.value("invoices.processed", outcome="failed", tier="free") == 2
    (hist,) = metrics.points("invoices.processing.duration")
    assert hist.count == 2 and hist.sum == pytest.approx(7.3) and list(hist.explicit_bounds)[-1] == 10
    assert metrics.value("invoices.queue.depth") == 4
    assert metrics.value("invoices.customer.requests", customer="__overflow__") == 50
    catalog = ccmon.load_catalog(EXAMPLE)
    for spec in catalog.metrics:
        for point in metrics.points(spec.otel_name):
            assert set(point.attributes) <= set(spec.attribute_keys)
            for a in spec.attributes:
                assert a.allowed is None or point.attributes[a.key] in a.allowed


def test_bad_input_is_dropped_and_counted(metrics: Reader) -> None:
    own = ccmon.register_catalog(EXAMPLE)
    own.add("invoices.processed", outcome="refunded", tier="pro")  # not an allowed value
    own.add("invoices.processed", outcome="paid")  # an attribute missing
    own.add("invoices.processed", outcome="paid", tier="pro", customer="x")  # one not declared
    own.add("invoices.processed", -1, outcome="paid", tier="pro")
    own.observe("invoices.processing.duration", math.nan, tier="pro")
    own.set("invoices.queue.depth", math.inf)
    assert metrics.points("invoices.processed") == []
    assert (
        metrics.value("ccmon.dropped_measurements", metric="invoices.processed", reason="unknown_attribute_value") == 1
    )
    assert metrics.value("ccmon.dropped_measurements", metric="invoices.processed", reason="invalid_attribute") == 2
    assert metrics.value("ccmon.dropped_measurements", metric="invoices.processed", reason="invalid_value") == 1
    assert metrics.value("ccmon.dropped_measurements", metric="invoices.queue.depth", reason="invalid_value") == 1
    with pytest.raises(KeyError, match="not a histogram"):
        own.observe("invoices.processed", 1.0, outcome="paid", tier="pro")


@pytest.mark.usefixtures("strict_metrics")
def test_strict_mode_raises() -> None:
    own = ccmon.register_catalog(EXAMPLE)
    with pytest.raises(ValueError, match="unknown_attribute_value"):
        own.add("invoices.processed", outcome="refunded", tier="pro")


@pytest.mark.usefixtures("metrics")
def test_a_name_registered_twice_must_be_the_same_metric() -> None:
    catalog = ccmon.register_catalog(EXAMPLE).catalog
    ccmon.register_catalog(catalog)  # the same definitions again: nothing changes
    first = catalog.metrics[0]
    other = ccmon.AppCatalog(
        "invoices", (ccmon.MetricSpec(first.otel_name, first.prom_name, first.kind, "{x}", "Other."),)
    )
    with pytest.raises(ValueError, match="registered already with another definition"):
        ccmon.register_catalog(other)


def test_the_mixin_generates_alerts_a_board_and_the_allowlist_from_the_catalog() -> None:
    names = {a.name: a for a in alerts_apps.APP_ALERTS}
    assert set(names) == {"InvoiceFailuresHigh", "InvoiceProcessingSlow", "InvoiceQueueBacklog"}
    for a in names.values():
        assert alerts.BY_NAME[a.name] is a and 'job="invoices"' in a.expr and a.group == "apps"
    assert names["InvoiceFailuresHigh"].threshold == 0.05 and names["InvoiceFailuresHigh"].severity == "P2"
    assert names["InvoiceQueueBacklog"].duration == "10m"
    out = generate.outputs(ROOT, ["rules", "dashboards", "collector"])
    tests = out[ROOT / "prometheus/tests/alerts_test.yml"]
    for name in names:
        assert f"name: {name} fires after" in tests and f"name: {name} stays silent when healthy" in tests
        assert (ROOT / f"docs/runbooks/{name}.md").read_text() == out[ROOT / f"docs/runbooks/{name}.md"]
    board = next(b for b in dashboards.BOARDS if b.uid == "ccmon-apps")
    ((row, first), *_) = board.panels()
    assert row == "Invoices (invoices)" and first.alert == "InvoiceFailuresHigh"
    assert [p.queries[0][0].split("{")[0].split("(")[-1] for _, p in board.panels()] == [
        "invoices_processed_total",
        "invoices_processing_duration_seconds_bucket",
        "invoices_queue_depth",
        "invoices_customer_requests_total",
    ]
    guard = yaml.safe_load(out[ROOT / "collector/firewall.yaml"])["processors"]["cardinalityguard"]
    assert guard["catalog"]["invoices.processed"] == {
        "attributes": {"outcome": ["failed", "paid", "rejected"], "tier": ["enterprise", "free", "pro"]}
    }
    assert guard["catalog"]["invoices.customer.requests"] == {"attributes": {"customer": []}}


def test_board_panels_carry_grafana_units_of_the_catalog_units(tmp_path: Path) -> None:
    from mixin.dashboard_apps import board

    metrics = [
        _metric(name="orders.cache.size", prometheus="orders_cache_size_bytes", kind="gauge", unit="By"),
        _metric(name="orders.fill.ratio", prometheus="orders_fill_ratio", kind="gauge", unit="1"),
        _metric(name="orders.sent", prometheus="orders_sent_bytes_total", unit="By"),
        _metric(
            name="orders.latency", prometheus="orders_latency_milliseconds", kind="histogram", unit="ms", buckets=[10]
        ),
        _metric(name="orders.pending", prometheus="orders_pending", kind="gauge", unit="{order}"),
        _metric(),
    ]
    path = tmp_path / "metrics.yaml"
    path.write_text(yaml.safe_dump({"service": "orders", "metrics": metrics}))
    units = {p.queries[0][0]: p.unit for _, p in board((ccmon.load_catalog(path),)).panels()}
    assert list(units.values()) == ["bytes", "percentunit", "Bps", "ms", "short", "short"], units
