"""The finance report's pieces without Prometheus: periods, the directory file, bad input."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from otel_ccmon._cli import main
from otel_ccmon.claude_code._completeness import Completeness
from otel_ccmon.claude_code._report import Directory, DirectoryError, Row, periods


def row(day: str, team: str, cost: float) -> Row:
    return Row(day, (("team_id", team),), cost, cost * 1000)


def test_weekly_and_monthly_totals_say_which_periods_are_partial_or_cut() -> None:
    rows = [row("2026-11-29", "a", 1.0), row("2026-11-30", "a", 2.0), row("2026-12-01", "b", 4.0)]
    days = {d: Completeness() for d in ("2026-11-29", "2026-11-30", "2026-12-01")}
    days["2026-12-01"] = Completeness(cut_points=3, cut_usd=0.5)
    weekly = {(p.period, dict(p.labels)["team_id"]): p for p in periods(rows, "week", days)}
    # 29 Nov is a Sunday (ISO week 48), 30 Nov a Monday (week 49)
    assert weekly[("2026-W48", "a")].cost_usd == 1.0 and weekly[("2026-W49", "a")].cost_usd == 2.0
    assert not weekly[("2026-W48", "a")].whole and not weekly[("2026-W49", "b")].whole
    assert weekly[("2026-W49", "b")].complete is False and weekly[("2026-W48", "a")].complete is True
    monthly = {(p.period, dict(p.labels)["team_id"]): p.cost_usd for p in periods(rows, "month", days)}
    assert monthly == {("2026-11", "a"): 3.0, ("2026-12", "b"): 4.0}
    assert sum(p.cost_usd for p in periods(rows, "week", days)) == sum(r.cost_usd for r in rows)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type,misc]


def _whole(rows: list[Row], kind: str, end: datetime) -> dict[str, bool]:
    return {p.period: p.whole for p in periods(rows, kind, None, end)}


def _days_from(first: str, last: str) -> list[Row]:
    start, stop = datetime.fromisoformat(first), datetime.fromisoformat(last)
    return [row((start + timedelta(days=i)).date().isoformat(), "a", 1.0)
            for i in range((stop - start).days + 1)]  # fmt: skip


@pytest.mark.parametrize(
    ("first", "last", "kind", "period", "running", "ended"),
    [
        # a Sunday: the ISO week ends with it; while it runs the week is not whole (issue 31)
        ("2026-11-30", "2026-12-06", "week", "2026-W49", utc(2026, 12, 6, 20), utc(2026, 12, 7)),
        # a month's last day
        ("2026-11-01", "2026-11-30", "month", "2026-11", utc(2026, 11, 30, 23, 59), utc(2026, 12, 1)),
        # 31 December: the month and the year's last ISO week (2026 has 53)
        ("2026-12-01", "2026-12-31", "month", "2026-12", utc(2026, 12, 31, 12), utc(2027, 1, 1)),
        # ISO week 53 spans the new year: Monday 28 December 2026 to Sunday 3 January 2027
        ("2026-12-28", "2027-01-03", "week", "2026-W53", utc(2027, 1, 3, 9), utc(2027, 1, 4)),
    ],
)  # fmt: skip
def test_a_period_that_ends_today_is_whole_only_once_today_ends(
    first: str, last: str, kind: str, period: str, running: datetime, ended: datetime
) -> None:
    rows = _days_from(first, last)
    assert {p.period for p in periods(rows, kind, None, running)} == {period}
    assert _whole(rows, kind, running) == {period: False}
    assert _whole(rows, kind, ended) == {period: True}
    assert sum(p.cost_usd for p in periods(rows, kind, None, ended)) == len(rows)


def test_no_empty_period_rows() -> None:
    """A one-year window's first day can hold a counter's first sample only (0 spent): the week
    before the first known day is no row (issue 31: a zero-cost row was emitted for it)."""
    rows = [row("2026-11-29", "a", 0.0), row("2026-11-30", "a", 2.0), row("2026-12-01", "b", 0.0)]
    got = [(p.period, dict(p.labels)["team_id"], p.cost_usd) for p in periods(rows, "week")]
    assert got == [("2026-W49", "a", 2.0)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("user,name\nu1,Ada\n", "columns id and name"),
        ("id,name\nu1,\n", ":2: id and name must not be empty"),
        ("id,name\nu1,Ada\nu1,Bob\n", ":3: id 'u1' is listed twice"),
    ],
)
def test_a_bad_directory_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(DirectoryError, match=message):
        Directory.parse(io.StringIO(text))


def test_directory_finds_people_by_any_id_and_unicode_names() -> None:
    d = Directory.parse(io.StringIO("id,name,team,cost_center\nsha256:0011,Zoë Ångström,web,eng-9\n"))
    assert d.find({"user_id": "x", "user_email": "sha256:0011"}).name == "Zoë Ångström"  # type: ignore[union-attr]
    assert d.find({"user_id": "x"}) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "90"], "--since takes days"),
        (["--since", "0d"], "--since takes days"),
        (["--by", "teams"], "invalid choice"),
        (["--directory", "/nonexistent/people.csv"], "No such file"),
    ],
)
def test_report_cli_refuses_bad_arguments_clearly(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["claude-code", "report", "--prometheus", "http://127.0.0.1:9", "--out", str(tmp_path)]
    with pytest.raises(SystemExit) as exit_:
        main([*argv, *args])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_every_renderer_draws_from_one_report(tmp_path: Path) -> None:
    """Issue 31: the report is data; text, CSV and HTML render the same Report (here built by hand,
    a Sunday evening: the running week is not whole in the weekly CSV)."""
    from otel_ccmon.claude_code._report import Report, text, write_csv, write_html, write_periods_csv

    rows = (row("2026-12-05", "a", 1.5), row("2026-12-06", "b", 2.25))
    cut = {"2026-12-05": Completeness(), "2026-12-06": Completeness(cut_points=2, cut_usd=0.5)}
    end = utc(2026, 12, 6, 20)
    weekly, monthly = tuple(periods(rows, "week", cut, end)), tuple(periods(rows, "month", cut, end))
    report = Report(2, ("team",), end, ("team_id",), rows, weekly, monthly, cut)
    assert "total  3.7500 USD" in text(report)
    write_csv(report, tmp_path / "d.csv")
    write_periods_csv(report, "week", tmp_path / "w.csv")
    write_html(report, tmp_path / "r.html")
    daily = (tmp_path / "d.csv").read_text().splitlines()
    assert daily[0] == "day,team_id,cost_usd,tokens,complete,missing_at_least_usd"
    assert daily[2] == "2026-12-06,b,2.250000,2250,no,0.500000"
    assert {line.split(",")[-2] for line in (tmp_path / "w.csv").read_text().splitlines()[1:]} == {"no"}
    page = (tmp_path / "r.html").read_text()
    assert "These totals are incomplete" in page and "3.7500 USD" in page and report.title in page


def test_whole_days_are_one_range_query_per_expression(monkeypatch: pytest.MonkeyPatch) -> None:
    """A report's whole days ask each expression once, as a range query at the days' midnights
    (issue 35: a year was ~4,000 instant queries); the answers are the instant ones at those times."""
    from otel_ccmon.claude_code import _report

    calls: list[tuple[str, str]] = []

    def value(expr: str, t: float) -> str:
        return str(len(expr) + float(t) % 1000)

    def fake_instant(_server: object, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        calls.append(("instant", expr))
        assert at is not None
        return [{"metric": {"team_id": "a"}, "value": [at, value(expr, at)]}]

    def fake_range(_server: object, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        calls.append(("range", expr))
        times = [float(start) + i * step for i in range(int((end - start) // step) + 1)]
        return [{"metric": {"team_id": "a"}, "values": [[t, value(expr, t)] for t in times]}]

    monkeypatch.setattr(_report, "instant", fake_instant)
    monkeypatch.setattr(_report, "range_query", fake_range)
    now = datetime(2026, 12, 7, 15, tzinfo=UTC)
    q = _report.DayQueries("http://prom", _report.whole_day_ends(365, now))
    for _, end, window in _report._days(365, now):
        for expr in (f"a[{window}s]", f"b[{window}s]"):
            got = [(x["metric"], float(x["value"][1])) for x in q(expr, end.timestamp())]
            want = [(x["metric"], float(x["value"][1])) for x in fake_instant(None, expr, end.timestamp())]
            assert got == want, (expr, end)
    calls = [c for c in calls if c[0] == "range" or c[1].endswith(f"[{15 * 3600}s]")]
    # two range queries for 364 whole days, two instant queries for today (and the comparisons' own)
    assert [c for c in calls if c[0] == "range"] == [("range", "a[86400s]"), ("range", "b[86400s]")]
    assert q.count == 4
