"""The README's metric table, generated from the catalog (``make docs``; a test checks it is current)."""

from __future__ import annotations

import re

from otel_ccmon._catalog import CATALOG

BEGIN, END = "<!-- metric-table:begin -->", "<!-- metric-table:end -->"


def metric_table() -> str:
    """The Markdown table of every catalog metric.

    >>> metric_table().splitlines()[0].startswith("| Prometheus name")
    True
    """
    rows = [
        "| Prometheus name | OTel name | kind | unit | attributes | description |",
        "|---|---|---|---|---|---|",
    ]
    for m in CATALOG:
        attrs = ", ".join(
            f"`{a.key}` ({'/'.join(sorted(a.allowed))})" if a.allowed else f"`{a.key}` (capped)" for a in m.attributes
        )
        rows.append(
            f"| `{m.prom_name}` | `{m.otel_name}` | {m.kind.value} | `{m.unit}` | {attrs or '—'} | {m.description} |"
        )
    return "\n".join(rows)


def render_readme(text: str) -> str:
    """Replace the table between the markers in ``text``."""
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    return pattern.sub(lambda _: f"{BEGIN}\n{metric_table()}\n{END}", text)
