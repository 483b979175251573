"""``ccmon claude-code report``: cost and tokens by user, model and day, from Prometheus.

Each day's figures are ``sum by (...) (increase(...[1d]))`` evaluated at the day's end (UTC), so
the report's totals are Prometheus's own. Output: a table on stdout, a CSV file and a
self-contained HTML file (inline SVG chart, no scripts, no external assets). Written by hand:
the chart is one bar per day, which does not justify a plotting dependency in the package.
"""

from __future__ import annotations

import csv
import html
import json
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from otel_ccmon.claude_code._completeness import Completeness, measure, prometheus_query

COST = "claude_code_cost_usage_USD_total"
TOKENS = "claude_code_token_usage_tokens_total"


@dataclass(frozen=True)
class Row:
    """Cost and tokens of one user with one model on one day."""

    day: str
    user: str
    model: str
    cost_usd: float
    tokens: float


def _query(prometheus: str, expr: str, at: float) -> list[tuple[dict[str, str], float]]:
    url = f"{prometheus.rstrip('/')}/api/v1/query?" + urllib.parse.urlencode({"query": expr, "time": at})
    with urllib.request.urlopen(url, timeout=30) as response:
        body = json.load(response)
    if body.get("status") != "success":
        raise ValueError(f"Prometheus refused {expr!r}: {body.get('error')}")
    return [(r["metric"], float(r["value"][1])) for r in body["data"]["result"]]


def _newest(prometheus: str, now: datetime | None) -> datetime:
    """The report's end: now, or the newest sample if older.

    Today ends at the newest sample, not at "now": increase() would otherwise extrapolate the last
    scrape interval, which is a visible error for series only minutes old.
    """
    now = now or datetime.now(UTC)
    newest = _query(prometheus, f"max(timestamp({COST}))", now.timestamp())
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


def collect(prometheus: str, days: int, now: datetime | None = None) -> list[Row]:
    """Rows for the last ``days`` days (today so far included), newest last."""
    now = _newest(prometheus, now)
    rows: list[Row] = []
    for day, end, window in _days(days, now):
        by = "user_id, model"
        cost = {
            (m.get("user_id", ""), m.get("model", "")): v
            for m, v in _query(prometheus, f"sum by ({by}) (increase({COST}[{window}s]))", end.timestamp())
        }
        tokens = {
            (m.get("user_id", ""), m.get("model", "")): v
            for m, v in _query(prometheus, f"sum by ({by}) (increase({TOKENS}[{window}s]))", end.timestamp())
        }
        for user, model in sorted(set(cost) | set(tokens)):
            rows.append(Row(day, user, model, cost.get((user, model), 0.0), tokens.get((user, model), 0.0)))
    return rows


def completeness(prometheus: str, days: int, now: datetime | None = None) -> dict[str, Completeness]:
    """For each day of the report, what budgets, caps and outages cut (empty: complete)."""
    now = _newest(prometheus, now)
    query = prometheus_query(prometheus)
    return {day: measure(query, window, end.timestamp()) for day, end, window in _days(days, now)}


def completeness_lines(days: Mapping[str, Completeness]) -> list[str]:
    """One line per incomplete day; none when every day is complete.

    >>> completeness_lines({"2026-12-01": Completeness(), "2026-12-02": Completeness(cut_points=3, cut_usd=0.5)})
    ['2026-12-02: INCOMPLETE: at least 0.5000 USD and 0 tokens not counted (3 points cut by a stream budget)']
    """
    return [f"{day}: {c.describe()}" for day, c in days.items() if not c.complete]


def table(rows: Sequence[Row]) -> str:
    """The rows as a text table, with a total line."""
    header = f"{'day':<10}  {'user':<18}  {'model':<20}  {'cost USD':>10}  {'tokens':>12}"
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(f"{r.day:<10}  {r.user[:18]:<18}  {r.model[:20]:<20}  {r.cost_usd:>10.4f}  {r.tokens:>12,.0f}")
    lines.append("-" * len(header))
    total_cost = sum(r.cost_usd for r in rows)
    lines.append(f"{'total':<52}  {total_cost:>10.4f}  {sum(r.tokens for r in rows):>12,.0f}")
    return "\n".join(lines)


def write_csv(rows: Sequence[Row], path: Path, days: Mapping[str, Completeness] | None = None) -> None:
    """CSV for finance: one line per day, user and model; ``complete`` says whether that day's
    figures are whole, ``missing_at_least_usd`` what budgets or caps cut that day (all users)."""
    days = days or {}
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["day", "user_id", "model", "cost_usd", "tokens", "complete", "missing_at_least_usd"])
        for r in rows:
            c = days.get(r.day, Completeness())
            writer.writerow(
                [
                    r.day,
                    r.user,
                    r.model,
                    f"{r.cost_usd:.6f}",
                    f"{r.tokens:.0f}",
                    "yes" if c.complete else "no",
                    f"{c.cut_usd:.6f}",
                ]
            )


def write_html(rows: Sequence[Row], path: Path, title: str, days_cut: Mapping[str, Completeness] | None = None) -> None:
    """A self-contained page: a warning when figures are incomplete, cost per day as an SVG bar
    chart, then the table."""
    warnings = completeness_lines(days_cut or {})
    banner = (
        "<div class=warn role=alert><strong>These totals are incomplete.</strong><ul>"
        + "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
        + "</ul></div>"
        if warnings
        else ""
    )
    days = sorted({r.day for r in rows})
    per_day = [sum(r.cost_usd for r in rows if r.day == d) for d in days]
    top = max(per_day, default=0.0) or 1.0
    width, height, bar = 60 * max(1, len(days)) + 40, 220, 40
    bars = []
    for i, (day, value) in enumerate(zip(days, per_day, strict=True)):
        h = 160 * value / top
        x = 30 + i * 60
        bars.append(
            f'<rect x="{x}" y="{180 - h:.1f}" width="{bar}" height="{h:.1f}" fill="#5470c6">'
            f"<title>{day}: {value:.4f} USD</title></rect>"
            f'<text x="{x + bar / 2}" y="{195}" font-size="10" text-anchor="middle">{day[5:]}</text>'
            f'<text x="{x + bar / 2}" y="{175 - h:.1f}" font-size="10" text-anchor="middle">{value:.2f}</text>'
        )
    body = "".join(
        f"<tr><td>{html.escape(r.day)}</td><td>{html.escape(r.user)}</td><td>{html.escape(r.model)}</td>"
        f"<td class=n>{r.cost_usd:.4f}</td><td class=n>{r.tokens:,.0f}</td></tr>"
        for r in rows
    )
    path.write_text(
        f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px}.n{text-align:right}"
        ".warn{background:#fde2e1;border:2px solid #c0392b;padding:0.5em 1em;margin:1em 0}</style>"
        f"<h1>{html.escape(title)}</h1>{banner}<h2>Cost per day (USD)</h2>"
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">{"".join(bars)}</svg>'
        "<h2>By user, model and day</h2><table>"
        "<tr><th>day</th><th>user</th><th>model</th><th>cost USD</th><th>tokens</th></tr>"
        f"{body}<tr><th colspan=3>total</th><th class=n>{sum(per_day):.4f}</th>"
        f"<th class=n>{sum(r.tokens for r in rows):,.0f}</th></tr></table>"
    )
