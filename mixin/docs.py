"""Generated sections of the documentation (``make docs``; a test checks they are current): the
README's metric table from the catalog, docs/claude-code.md's privacy allowlist from
otel_ccmon/_privacy.py."""

from __future__ import annotations

import re

from mixin.alerts import ALL_ALERTS
from mixin.collector_firewall import identity_keys
from mixin.config import SETTINGS
from otel_ccmon import _agents, _privacy
from otel_ccmon._catalog import AGENT_CATALOG, CATALOG, CLAUDE_CODE_CATALOG, MetricSpec

BEGIN, END = "<!-- metric-table:begin -->", "<!-- metric-table:end -->"


def metric_table(specs: tuple[MetricSpec, ...] = CATALOG) -> str:
    """The Markdown table of every catalog metric (or of ``specs``).

    >>> metric_table().splitlines()[0].startswith("| Prometheus name")
    True
    """
    rows = [
        "| Prometheus name | OTel name | kind | unit | attributes | description |",
        "|---|---|---|---|---|---|",
    ]
    for m in specs:
        attrs = ", ".join(
            f"`{a.key}` ({'/'.join(sorted(a.allowed))})" if a.allowed else f"`{a.key}` (capped)" for a in m.attributes
        )
        rows.append(
            f"| `{m.prom_name}` | `{m.otel_name}` | {m.kind.value} | `{m.unit}` | {attrs or '—'} | {m.description} |"
        )
    return "\n".join(rows)


def privacy_table() -> str:
    """docs/claude-code.md's allowlist: the common set, the resource, identities, and per event and span.

    >>> "| `user_prompt` | `prompt_length`" in privacy_table()
    True
    """
    cc = SETTINGS.claude_code
    lines = [
        f"Read from Claude Code {_privacy.CLIENT_VERSION}. Kept on every record and span: "
        + ", ".join(f"`{k}`" for k in (*_privacy.COMMON, *cc.attribution_keys))
        + ". Resource: "
        + ", ".join(f"`{k}`" for k in (*_privacy.RESOURCE, *cc.attribution_keys))
        + ". Identities (hashed by default, wherever they appear): "
        + ", ".join(f"`{k}`" for k in identity_keys())
        + ". Content kept by this configuration (`claude_code.keep_content`): "
        + (", ".join(f"`{k}`" for k in cc.keep_content) or "none")
        + ". An event or span name not listed keeps the common set only.",
        "",
        _privacy.allowlist_markdown().rstrip("\n"),
    ]
    return "\n".join(lines)


def _section(text: str, name: str, body: str) -> str:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    return pattern.sub(lambda _: f"{begin}\n{body}\n{end}", text)


def counts() -> dict[str, int]:
    """The figures the README states, from their sources (``<!--n:NAME-->N<!--/n-->`` in the text).

    >>> counts()["alerts"] == len(ALL_ALERTS)
    True
    """
    from mixin.alerts_apps import APP_ALERTS
    from mixin.dashboard_agents import AGENTS
    from mixin.dashboard_claude_code import CLAUDE_CODE
    from mixin.dashboard_overview import OVERVIEW

    return {
        "alerts": len(ALL_ALERTS),
        "app_alerts": len(APP_ALERTS),
        "overview_panels": len(OVERVIEW.panels()),
        "claude_code_panels": len(CLAUDE_CODE.panels()),
        "agents_panels": len(AGENTS.panels()),
        "catalog_metrics": len(CATALOG),
        "claude_code_metrics": len(CLAUDE_CODE_CATALOG),
        "agent_metrics": len(AGENT_CATALOG),
    }


_COUNT = re.compile(r"<!--n:([a-z_]+)-->[0-9,]*<!--/n-->")


def render_readme(text: str) -> str:
    """Replace the table between the markers in ``text``, and every marked count.

    >>> render_readme("<!--n:alerts-->1<!--/n--> alerts") == f"<!--n:alerts-->{len(ALL_ALERTS)}<!--/n--> alerts"
    True
    """
    figures = counts()
    text = _COUNT.sub(lambda m: f"<!--n:{m.group(1)}-->{figures[m.group(1)]}<!--/n-->", text)
    return _section(text, "metric-table", metric_table())


def price_table() -> str:
    """docs/agents.md's price table: what mixin/settings.yml holds (USD per million tokens).

    >>> price_table().splitlines()[4].startswith("| any |")
    True
    """
    ag = SETTINGS.agents
    lines = [
        f"Prices as of {ag.prices_as_of} (`agents.prices` in mixin/settings.yml), USD per million tokens:",
        "",
        "| agent | model | " + " | ".join(_agents.TOKEN_TYPES) + " |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in ag.prices:
        p = row.per_million()
        cells = [f"{p[t]:g}" if t in p else "unpriced" for t in _agents.TOKEN_TYPES]
        agent = "any" if row.agent == "*" else row.agent
        lines.append(f"| {agent} | `{row.model}` | {' | '.join(cells)} |")
    return "\n".join(lines)


def render_agents(text: str) -> str:
    """docs/agents.md's generated sections: the shared metrics, the mapping per agent, the prices."""
    text = _section(text, "agent-metrics", metric_table(AGENT_CATALOG))
    text = _section(text, "agent-mappings", _agents.mapping_markdown().rstrip("\n"))
    return _section(text, "agent-prices", price_table())


def render_claude_code(text: str) -> str:
    """Replace the privacy allowlist between its markers in docs/claude-code.md's ``text``."""
    return _section(text, "privacy-allowlist", privacy_table())
