"""``ccmon claude-code report``: Claude Code's cost and tokens by day, cut by the dimensions
finance asks for (team, cost centre, department, project, user, model, subagent, skill, plugin,
MCP server), with weekly and monthly totals, from Prometheus (or anything that answers its API).

Each day's figures are the counters' growth between the day's start and end (UTC), computed by
Prometheus (or Thanos Query) without extrapolation (:func:`exact_increase_expr`): summed over days,
weeks or a quarter they add up to the counters' own totals, on raw and on downsampled data.
A directory file names people (user id, account uuid, hashed e-mail or ``enduser.id`` → display
name, and the team, cost centre and department for clients that do not send them). Output: text on
stdout, CSV files (daily, weekly, monthly) and a self-contained HTML page (inline SVG charts: one
per dimension and the trend; no scripts, no external assets). The charts are written by hand: bars
and one line per page do not justify a plotting dependency in the package.
"""

from __future__ import annotations

import csv
import dataclasses
import html
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from otel_ccmon._identity import pseudonym
from otel_ccmon._promql import instant, range_query
from otel_ccmon.claude_code._completeness import DROPPED_VALUE, Completeness, measure
from otel_ccmon.claude_code._promql import exact_increase_expr, reset_series_expr

COST = "claude_code_cost_usage_USD_total"
TOKENS = "claude_code_token_usage_tokens_total"

DIMENSIONS: Mapping[str, str] = {
    "team": "team_id",
    "cost_center": "cost_center",
    "department": "department",
    "project": "project",
    "user": "user_id",
    "model": "model",
    "agent": "agent_name",
    "skill": "skill_name",
    "plugin": "plugin_name",
    "mcp_server": "mcp_server_name",
}
"""``--by`` names and their Prometheus labels (the collector's names for Claude Code's keys)."""
AGENT_DIMENSIONS: Mapping[str, str] = {
    "agent": "agent",
    "team": "team_id",
    "cost_center": "cost_center",
    "department": "department",
    "project": "project",
    "model": "model",
}
"""``--by`` of the every-agent report (``ccmon agents report``): ``agent`` is the coding agent."""


@dataclass(frozen=True)
class Spend:
    """What a report reads: its cost and token counters, the dimensions it offers, and the counter of
    tokens that have no price (agents that send no cost), if any."""

    name: str
    cost: str
    tokens: str
    dimensions: Mapping[str, str]
    unpriced: str | None = None
    slug: str = "claude-code"  # the file names of the outputs


CLAUDE_CODE = Spend("Claude Code", COST, TOKENS, DIMENSIONS)
ALL_AGENTS = Spend(
    "Coding agents",
    "agent_cost_usage_USD_total",
    "agent_token_usage_tokens_total",
    AGENT_DIMENSIONS,
    unpriced="agent_token_unpriced_tokens_total",
    slug="agents",
)
"""Every coding agent (issue 32): the shared counters of the collector, by agent."""
IDENTITY_LABELS: tuple[str, ...] = ("user_id", "user_account_uuid", "user_email", "enduser_id")
NONE = "(none)"
"""The value shown for a dimension a client did not send (e.g. no ``team.id`` configured)."""
USER_NAME = "user_name"


class DirectoryError(ValueError):
    """The directory file cannot be used; the message names the line and the problem."""


@dataclass(frozen=True)
class Person:
    """One directory entry."""

    name: str
    team: str = ""
    cost_center: str = ""
    department: str = ""


@dataclass(frozen=True)
class Directory:
    """People by any of their ids (user id, account uuid, hashed e-mail, enduser.id).

    >>> import io
    >>> d = Directory.parse(io.StringIO("id,name,team\\nu1,Ada Lovelace,platform\\n"))
    >>> d.find({"user_id": "u1"})
    Person(name='Ada Lovelace', team='platform', cost_center='', department='')
    """

    people: Mapping[str, Person]

    def with_pseudonyms(self, key: str) -> Directory:
        """The same people, also found by the collector's pseudonym of each id (identities are
        hashed with ``key`` in the collector: a directory lists e-mails and logins in clear).

        >>> d = Directory({"dev@example.com": Person("Dev")}).with_pseudonyms("0123456789abcdef")
        >>> d.find({"enduser_id": "sha256:4b97fe521c1f004a"})
        Person(name='Dev', team='', cost_center='', department='')
        """
        people = dict(self.people)
        for key_id, person in self.people.items():
            people.setdefault(pseudonym(key_id, key), person)
        return Directory(people)

    @classmethod
    def parse(cls, lines: Iterable[str], source: str = "directory") -> Directory:
        reader = csv.DictReader(lines)
        columns = set(reader.fieldnames or ())
        if not {"id", "name"} <= columns:
            raise DirectoryError(f"{source}: the header must have the columns id and name (got {sorted(columns)})")
        people: dict[str, Person] = {}
        for n, row in enumerate(reader, start=2):
            key, name = (row.get("id") or "").strip(), (row.get("name") or "").strip()
            if not key or not name:
                raise DirectoryError(f"{source}:{n}: id and name must not be empty")
            if key in people:
                raise DirectoryError(f"{source}:{n}: id {key!r} is listed twice")
            people[key] = Person(
                name,
                *((row.get(c) or "").strip() for c in ("team", "cost_center", "department")),
            )
        return cls(people)

    @classmethod
    def load(cls, path: Path) -> Directory:
        with path.open(newline="", encoding="utf-8") as f:
            return cls.parse(f, str(path))

    def find(self, labels: Mapping[str, str]) -> Person | None:
        for label in IDENTITY_LABELS:
            value = labels.get(label)
            if value and value in self.people:
                return self.people[value]
        return None


@dataclass(frozen=True)
class Row:
    """Cost and tokens of one combination of the report's dimensions on one day."""

    day: str
    labels: tuple[tuple[str, str], ...]
    cost_usd: float
    tokens: float

    def get(self, label: str) -> str:
        return dict(self.labels).get(label, NONE)


def _pairs(result: list[dict[str, Any]]) -> list[tuple[dict[str, str], float]]:
    return [(x["metric"], float(x["value"][1])) for x in result]


def _query(prometheus: str, expr: str, at: float) -> list[tuple[dict[str, str], float]]:
    return _pairs(instant(prometheus, expr, at))


DAY = 86400


class DayQueries:
    """Instant queries at the ends of a report's days, each expression fetched once for all whole days.

    Every whole day of a report asks the same expressions (a one-day window) at successive UTC
    midnights: one range query (step one day) answers them all, where one instant query per day and
    expression made a one-year report about 4,000 requests (issue 35). Other instants (today, which
    ends now) are asked as they come. ``count`` is the requests made.
    """

    def __init__(self, prometheus: str, ends: Sequence[float]) -> None:
        self.prometheus = prometheus
        self.ends = frozenset(round(t) for t in ends)
        self.cache: dict[str, dict[int, list[dict[str, Any]]]] = {}
        self.count = 0

    def __call__(self, expr: str, at: float) -> list[dict[str, Any]]:
        """The instant-query result list of ``expr`` at ``at`` (the ``_promql.instant`` shape)."""
        if round(at) not in self.ends or len(self.ends) < 2:
            self.count += 1
            return instant(self.prometheus, expr, at)
        if expr not in self.cache:
            self.count += 1
            by_time: dict[int, list[dict[str, Any]]] = {}
            for series in range_query(self.prometheus, expr, min(self.ends), max(self.ends), DAY):
                for t, value in series["values"]:
                    by_time.setdefault(round(float(t)), []).append({"metric": series["metric"], "value": [t, value]})
            self.cache[expr] = by_time
        return self.cache[expr].get(round(at), [])

    def pairs(self, expr: str, at: float) -> list[tuple[dict[str, str], float]]:
        return _pairs(self(expr, at))


def whole_day_ends(days: int, now: datetime) -> list[float]:
    """The ends (UTC midnights) of the report's whole days: all but today.

    >>> [datetime.fromtimestamp(t, UTC).isoformat() for t in whole_day_ends(3, datetime(2026, 12, 7, 15, tzinfo=UTC))]
    ['2026-12-06T00:00:00+00:00', '2026-12-07T00:00:00+00:00']
    """
    return [end.timestamp() for _, end, window in _days(days, now) if window == DAY and end <= now]


def report_end(prometheus: str, now: datetime | None = None, spend: Spend = CLAUDE_CODE) -> datetime:
    """The instant a report's data ends: ``now``, or the newest spend sample if older."""
    return _newest(prometheus, now, spend)


def _newest(prometheus: str, now: datetime | None, spend: Spend = CLAUDE_CODE) -> datetime:
    """The report's end: now, or the newest sample if older.

    Today ends at the newest sample, not at "now": increase() would otherwise extrapolate the last
    scrape interval, which is a visible error for series only minutes old.
    """
    now = now or datetime.now(UTC)
    newest = _query(prometheus, f"max(timestamp({spend.cost}))", now.timestamp())
    return min(now, datetime.fromtimestamp(newest[0][1], UTC)) if newest else now


def _days(days: int, now: datetime) -> list[tuple[str, datetime, int]]:
    """(day, end of its window, window seconds) for the last ``days`` days, oldest first."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    out = []
    for back in range(days - 1, -1, -1):
        start = today - timedelta(days=back)
        end = min(start + timedelta(days=1), now)
        out.append((start.date().isoformat(), end, max(1, int((end - start).total_seconds()))))
    return out


def columns(by: Sequence[str], directory: Directory | None, spend: Spend = CLAUDE_CODE) -> tuple[str, ...]:
    """The label columns of the rows: the ``--by`` labels, and the user's name after the user id
    when a directory names people.

    >>> columns(("team", "user"), Directory({}))
    ('team_id', 'user_id', 'user_name')
    """
    out: list[str] = []
    for dim in by:
        out.append(spend.dimensions[dim])
        if dim == "user" and directory is not None:
            out.append(USER_NAME)
    return tuple(out)


def _resolve(metric: Mapping[str, str], wanted: Sequence[str], directory: Directory | None) -> tuple[str, ...]:
    person = directory.find(metric) if directory is not None else None
    values = []
    for label in wanted:
        value = metric.get(label, "")
        if person is not None:
            if label == USER_NAME:
                value = person.name
            elif not value and label in ("team_id", "cost_center", "department"):
                value = {"team_id": person.team, "cost_center": person.cost_center}.get(label, person.department)
        values.append(value or NONE)
    return tuple(values)


def collect(
    prometheus: str,
    days: int,
    now: datetime | None = None,
    by: Sequence[str] = ("user", "model"),
    directory: Directory | None = None,
    spend: Spend = CLAUDE_CODE,
) -> list[Row]:
    """Rows for the last ``days`` days (today so far included), oldest first.

    ``by`` names the dimensions (keys of :data:`DIMENSIONS`); a client that did not send one
    shows ``(none)`` there. Example, against a running stack::

        collect("http://127.0.0.1:9090", 90, by=("team", "model"))
    """
    end = _newest(prometheus, now, spend)
    return _collect(DayQueries(prometheus, whole_day_ends(days, end)), days, end, by, directory, spend)


def _collect(
    q: DayQueries, days: int, now: datetime, by: Sequence[str], directory: Directory | None, spend: Spend
) -> list[Row]:
    dims = spend.dimensions
    unknown = [d for d in by if d not in dims]
    if unknown or not by:
        raise ValueError(f"--by takes {', '.join(dims)} (got {', '.join(unknown) or 'nothing'})")
    wanted = columns(by, directory, spend)
    grouping = [dims[d] for d in by]
    if directory is not None:
        grouping += [label for label in IDENTITY_LABELS if label not in grouping]
    rows: list[Row] = []
    for day, end, window in _days(days, now):
        totals: dict[tuple[str, ...], list[float]] = defaultdict(lambda: [0.0, 0.0])
        for i, metric in enumerate((spend.cost, spend.tokens)):
            expr = exact_increase_expr(metric, grouping, window)
            for labels, value in q.pairs(expr, end.timestamp()):
                totals[_resolve(labels, wanted, directory)][i] += value
        for key in sorted(totals):
            cost, tokens = totals[key]
            rows.append(Row(day, tuple(zip(wanted, key, strict=True)), cost, tokens))
    return rows


def completeness(
    prometheus: str,
    days: int,
    now: datetime | None = None,
    spend: Spend = CLAUDE_CODE,
    *,
    spend_end: datetime | None = None,
    queries: DayQueries | None = None,
) -> dict[str, Completeness]:
    """For each day of the report, what budgets, caps and outages cut (empty: complete).

    Measured up to the newest sample of the collector's own counters, not of the spend: while a
    budget cuts, the collector's telemetry is scraped apart from the totals, and a cut counted after
    the newest spend sample would be missed (seen on a busy machine: 1.2344 of 1.2789 USD).
    """
    now = now or datetime.now(UTC)
    newest = _query(prometheus, f"max(timestamp({DROPPED_VALUE}))", now.timestamp())
    last = spend_end or _newest(prometheus, now, spend)  # the report knows it already
    now = max(last, min(now, datetime.fromtimestamp(newest[0][1], UTC))) if newest else last

    q = queries or DayQueries(prometheus, whole_day_ends(days, now))
    out = {}
    for day, end, window in _days(days, now):
        resets = sum(v for _, v in q.pairs(reset_series_expr(spend.cost, window), end.timestamp()))
        out[day] = dataclasses.replace(measure(q, window, end.timestamp()), reset_series=resets)
    return out


def completeness_lines(days: Mapping[str, Completeness]) -> list[str]:
    """One line per incomplete day; none when every day is complete.

    >>> completeness_lines({"2026-12-01": Completeness(), "2026-12-02": Completeness(cut_points=3, cut_usd=0.5)})
    ['2026-12-02: INCOMPLETE: at least 0.5000 USD and 0 tokens not counted (3 points cut by a stream budget)']
    """
    return [f"{day}: {c.describe()}" for day, c in days.items() if not c.complete]


@dataclass(frozen=True)
class Report:
    """One report as data: what every renderer (text, CSV, HTML) draws from."""

    days: int
    by: tuple[str, ...]
    end: datetime  # where the data ends (a period after it is not whole)
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    weekly: tuple[Period, ...]
    monthly: tuple[Period, ...]
    cut: Mapping[str, Completeness]  # per day: what budgets, caps and outages cut
    spend: Spend = CLAUDE_CODE
    # tokens without a price in the window: (agent, model, tokens), in no cost figure
    unpriced: tuple[tuple[str, str, float], ...] = ()
    queries: int = 0  # the requests the report made of Prometheus or Thanos Query

    @property
    def title(self) -> str:
        return f"{self.spend.name}: cost and tokens, last {self.days} days, by {', '.join(self.by)}"

    def unpriced_lines(self) -> list[str]:
        """One line per agent and model whose tokens the price table lacks (their cost is not in the totals).

        >>> end = datetime(2026, 12, 7, tzinfo=UTC)
        >>> r = Report(1, ("agent",), end, (), (), (), (), {}, unpriced=(("codex", "o9", 50.0),))
        >>> r.unpriced_lines()
        ['UNPRICED: 50 tokens of codex / o9 have no price (agents.prices in mixin/settings.yml): not in the cost']
        """
        return [
            f"UNPRICED: {tokens:,.0f} tokens of {agent} / {model} have no price "
            "(agents.prices in mixin/settings.yml): not in the cost"
            for agent, model, tokens in self.unpriced
        ]


def _unpriced(prometheus: str, spend: Spend, days: int, end: datetime) -> tuple[tuple[str, str, float], ...]:
    if spend.unpriced is None:
        return ()
    window = sum(w for _, _, w in _days(days, end))  # the report's days, as the rows count them
    expr = exact_increase_expr(spend.unpriced, ["agent", "model"], window)
    found = [(m.get("agent", NONE), m.get("model", NONE), v) for m, v in _query(prometheus, expr, end.timestamp())]
    return tuple(sorted(x for x in found if x[2] > 0))


def build_report(
    prometheus: str,
    days: int,
    by: Sequence[str] = ("user", "model"),
    directory: Directory | None = None,
    now: datetime | None = None,
    spend: Spend = CLAUDE_CODE,
) -> Report:
    """Query Prometheus (or Thanos Query) once for a whole report. Example, against a running stack::

    report = build_report("http://127.0.0.1:9090", 90, by=("team", "model"))
    print(text(report))
    """
    end = report_end(prometheus, now, spend)
    q = DayQueries(prometheus, whole_day_ends(days, end))
    rows = tuple(_collect(q, days, end, by, directory, spend))
    # measured up to the collector's own newest sample, which can be later than the spend's
    cut = completeness(prometheus, days, now=now, spend=spend, spend_end=end, queries=q)
    unpriced = _unpriced(prometheus, spend, days, end)
    return Report(
        days,
        tuple(by),
        end,
        columns(by, directory, spend),
        rows,
        tuple(periods(rows, "week", cut, end)),
        tuple(periods(rows, "month", cut, end)),
        cut,
        spend,
        unpriced,
        # requests made: the spend's newest sample, the collector's, the unpriced tokens, the days'
        2 + (spend.unpriced is not None) + q.count,
    )


def period_of(day: str, kind: str) -> str:
    """The ISO week (``2026-W49``) or the month (``2026-12``) a day belongs to.

    >>> period_of("2026-12-02", "week"), period_of("2026-12-02", "month"), period_of("2027-01-01", "week")
    ('2026-W49', '2026-12', '2026-W53')
    """
    d = date.fromisoformat(day)
    if kind == "month":
        return f"{d.year:04d}-{d.month:02d}"
    year, week, _ = d.isocalendar()
    return f"{year:04d}-W{week:02d}"


@dataclass(frozen=True)
class Period:
    """Totals of one week or month for one combination of the dimensions."""

    period: str
    whole: bool  # every day of the period is inside the report's window
    labels: tuple[tuple[str, str], ...]
    cost_usd: float
    tokens: float
    complete: bool  # no day of it was cut


def periods(
    rows: Sequence[Row], kind: str, days: Mapping[str, Completeness] | None = None, end: datetime | None = None
) -> list[Period]:
    """Weekly (``kind="week"``) or monthly totals of ``rows``. A period that begins before the
    report's first day or ends after ``end`` (the instant the report's data ends; default: the end
    of its last day) is marked not ``whole``: a 90-day window starts in the middle of a month, and a
    week that ends today is not whole until today ends. A combination without cost or tokens in a
    period is no row.

    >>> sunday_evening = datetime(2026, 12, 6, 20, tzinfo=UTC)
    >>> [p.whole for p in periods([Row("2026-12-06", (), 1.0, 1.0)], "week", None, sunday_evening)]
    [False]
    """
    days = days or {}
    if not rows:
        return []
    covered = set(days) | {r.day for r in rows}
    first, last = min(covered), max(covered)
    until = end or datetime.fromisoformat(last).replace(tzinfo=UTC) + timedelta(days=1)
    sums: dict[tuple[str, tuple[tuple[str, str], ...]], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in rows:
        s = sums[(period_of(r.day, kind), r.labels)]
        s[0] += r.cost_usd
        s[1] += r.tokens
    out = []
    for (period, labels), (cost, tokens) in sorted(sums.items()):
        if not cost and not tokens:
            continue
        members = _days_of(period, kind)
        period_end = datetime.fromisoformat(members[-1]).replace(tzinfo=UTC) + timedelta(days=1)
        whole = members[0] >= first and period_end <= until
        complete = all(days.get(d, Completeness()).complete for d in members if first <= d <= last)
        out.append(Period(period, whole, labels, cost, tokens, complete))
    return out


def _days_of(period: str, kind: str) -> list[str]:
    if kind == "month":
        year, month = (int(x) for x in period.split("-"))
        start = date(year, month, 1)
        end = date(year + (month == 12), month % 12 + 1, 1)
    else:
        iso_year, week = period.split("-W")
        start = date.fromisocalendar(int(iso_year), int(week), 1)
        end = start + timedelta(days=7)
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days)]


def totals_by(rows: Sequence[Row], label: str) -> list[tuple[str, float, float]]:
    """(value, cost, tokens) of one label over the whole window, largest cost first."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in rows:
        s = sums[r.get(label)]
        s[0] += r.cost_usd
        s[1] += r.tokens
    return sorted(((k, c, t) for k, (c, t) in sums.items()), key=lambda x: (-x[1], x[0]))


def text(report: Report) -> str:
    """The report for a terminal: totals per dimension, weekly and monthly totals, the grand total."""
    rows, cols, weekly, monthly = report.rows, report.columns, report.weekly, report.monthly
    lines: list[str] = []
    for label in cols:
        lines.append(f"by {label}:")
        for value, cost, tokens in totals_by(rows, label)[:25]:
            lines.append(f"  {value[:40]:<40}  {cost:>12.4f} USD  {tokens:>15,.0f} tokens")
    for name, table in (("weekly", weekly), ("monthly", monthly)):
        lines.append(f"{name}:")
        per: dict[tuple[str, bool, bool], list[float]] = defaultdict(lambda: [0.0, 0.0])
        for p in table:
            s = per[(p.period, p.whole, p.complete)]
            s[0] += p.cost_usd
            s[1] += p.tokens
        for (period, whole, complete), (cost, tokens) in sorted(per.items()):
            notes = ("" if whole else " (part in the window)") + ("" if complete else " (has incomplete days, below)")
            lines.append(f"  {period:<10}  {cost:>12.4f} USD  {tokens:>15,.0f} tokens{notes}")
    total_cost, total_tokens = sum(r.cost_usd for r in rows), sum(r.tokens for r in rows)
    lines.append(f"total  {total_cost:.4f} USD  {total_tokens:,.0f} tokens")
    return "\n".join(lines)


def write_csv(report: Report, path: Path) -> None:
    """CSV for finance: one line per day and combination of the dimensions; ``complete`` says
    whether that day's figures are whole, ``missing_at_least_usd`` what budgets or caps cut that
    day (all of Claude Code, not only this line)."""
    rows, days, cols = report.rows, report.cut, report.columns
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["day", *cols, "cost_usd", "tokens", "complete", "missing_at_least_usd"])
        for r in rows:
            c = days.get(r.day, Completeness())
            writer.writerow(
                [
                    r.day,
                    *(r.get(label) for label in cols),
                    f"{r.cost_usd:.6f}",
                    f"{r.tokens:.0f}",
                    "yes" if c.complete else "no",
                    f"{c.cut_usd:.6f}",
                ]
            )


def write_periods_csv(report: Report, kind: str, path: Path) -> None:
    """Weekly or monthly totals: ``whole`` says whether the whole period is in the window."""
    table, cols = (report.weekly if kind == "week" else report.monthly), report.columns
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([kind, *cols, "cost_usd", "tokens", "whole_period", "complete"])
        for p in table:
            labels = dict(p.labels)
            writer.writerow(
                [
                    p.period,
                    *(labels.get(c, NONE) for c in cols),
                    f"{p.cost_usd:.6f}",
                    f"{p.tokens:.0f}",
                    "yes" if p.whole else "no",
                    "yes" if p.complete else "no",
                ]
            )


_PALETTE = ("#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272", "#fc8452", "#9a60b4")


def _bars(values: Sequence[tuple[str, float]], unit: str = "USD", limit: int = 15) -> str:
    """A horizontal bar chart (the largest ``limit`` values and the rest as one bar) as inline SVG."""
    shown = list(values[:limit])
    rest = sum(v for _, v in values[limit:])
    if rest:
        shown.append((f"{len(values) - limit} others", rest))
    top = max((v for _, v in shown), default=0.0) or 1.0
    row, label_w, bar_w = 22, 220, 420
    height = row * max(1, len(shown)) + 10
    parts = []
    for i, (name, value) in enumerate(shown):
        y = 5 + i * row
        w = bar_w * value / top
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" font-size="12" text-anchor="end">{html.escape(name[:32])}</text>'
            f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" '
            f'fill="{_PALETTE[i % len(_PALETTE)]}"><title>{html.escape(name)}: {value:.4f} {unit}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" font-size="12">{value:,.2f}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 90}" height="{height}" '
        f'role="img">{"".join(parts)}</svg>'
    )


def _trend(points: Sequence[tuple[str, float]]) -> str:
    """Cost per period as a line with dots, inline SVG."""
    width, height, pad = 760, 240, 50
    top = max((v for _, v in points), default=0.0) or 1.0
    n = max(1, len(points) - 1)
    xy = [
        (pad + (width - 2 * pad) * i / n, height - pad - (height - 2 * pad) * v / top)
        for i, (_, v) in enumerate(points)
    ]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(xy))
    every = max(1, len(points) // 12)  # at most about 12 labels under the axis
    dots = "".join(
        f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#5470c6"><title>{html.escape(p)}: {v:.4f} USD'
        "</title></circle>"
        + (
            f'<text x="{x:.1f}" y="{height - pad + 16}" font-size="10" text-anchor="middle">'
            f"{html.escape(p.split('-', 1)[-1])}</text>"
            if i % every == 0
            else ""
        )
        for i, ((x, y), (p, v)) in enumerate(zip(xy, points, strict=True))
    )
    axis = f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#999"/>'
    label = f'<text x="{pad}" y="{pad - 10}" font-size="11">max {top:,.2f} USD</text>'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">{axis}{label}'
        f'<path d="{path}" fill="none" stroke="#5470c6" stroke-width="2"/>{dots}</svg>'
    )


def write_html(report: Report, path: Path) -> None:
    """A self-contained page: a warning when figures are incomplete, the trend (cost per day, or per
    week beyond 31 days), one chart per dimension, then the weekly table."""
    rows, days_cut, cols, weekly, title = report.rows, report.cut, report.columns, report.weekly, report.title
    warnings = completeness_lines(days_cut) + report.unpriced_lines()
    banner = (
        "<div class=warn role=alert><strong>These totals are incomplete.</strong><ul>"
        + "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
        + "</ul></div>"
        if warnings
        else ""
    )
    days = sorted({r.day for r in rows} | set(days_cut))
    if len(days) > 31:
        trend_name = "week"
        per: dict[str, float] = dict.fromkeys((period_of(d, "week") for d in days), 0.0)  # empty weeks: 0
        for r in rows:
            per[period_of(r.day, "week")] += r.cost_usd
        trend = sorted(per.items())
    else:
        trend_name = "day"
        trend = [(d, sum(r.cost_usd for r in rows if r.day == d)) for d in days]
    charts = "".join(
        f"<h2>By {html.escape(label)}</h2>" + _bars([(v, c) for v, c, _ in totals_by(rows, label)])
        for label in cols
        if label != "user_id" or USER_NAME not in cols
    )
    body = "".join(
        f"<tr><td>{html.escape(p.period)}{'' if p.whole else ' *'}</td>"
        + "".join(f"<td>{html.escape(v)}</td>" for _, v in p.labels)
        + f"<td class=n>{p.cost_usd:.4f}</td><td class=n>{p.tokens:,.0f}</td></tr>"
        for p in weekly
    )
    total = sum(r.cost_usd for r in rows)
    path.write_text(
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;text-align:left}.n{text-align:right}"
        ".warn{background:#fde2e1;border:2px solid #c0392b;padding:0.5em 1em;margin:1em 0}</style>"
        f"<h1>{html.escape(title)}</h1>{banner}"
        f"<p id=total>Total: <strong>{total:.4f} USD</strong>, {sum(r.tokens for r in rows):,.0f} tokens</p>"
        f"<h2>Cost per {trend_name} (USD)</h2>{_trend(trend)}{charts}"
        "<h2>Weekly</h2><table><tr><th>week</th>"
        + "".join(f"<th>{html.escape(c)}</th>" for c in cols)
        + f"<th>cost USD</th><th>tokens</th></tr>{body}</table>"
        "<p>* only part of the week is in the report's window.</p>",
        encoding="utf-8",
    )
