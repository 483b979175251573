"""Generated documentation is current."""

from __future__ import annotations

from mixin.docs import render_agents, render_claude_code, render_readme
from tests.support import ROOT


def test_readme_metric_table_is_current() -> None:
    text = (ROOT / "README.md").read_text()
    assert render_readme(text) == text, "README metric table is stale: run `make docs`"


def test_claude_code_privacy_allowlist_is_current() -> None:
    text = (ROOT / "docs" / "claude-code.md").read_text()
    assert "<!-- privacy-allowlist:begin -->" in text
    assert render_claude_code(text) == text, "docs/claude-code.md's allowlist is stale: run `make docs`"


def test_agents_doc_tables_are_current() -> None:
    text = (ROOT / "docs" / "agents.md").read_text()
    for name in ("agent-metrics", "agent-mappings", "agent-prices"):
        assert f"<!-- {name}:begin -->" in text, name
    assert render_agents(text) == text, "docs/agents.md's tables are stale: run `make docs`"
