"""Generated documentation is current; every count the README states is marked and true; links resolve."""

from __future__ import annotations

import re

from mixin.docs import counts, render_agents, render_claude_code, render_readme
from tests.support import ROOT


def test_readme_counts_and_metric_table_are_current() -> None:
    for name in ("README.md", "docs/metrics.md"):
        text = (ROOT / name).read_text()
        assert render_readme(text) == text, f"{name} is stale: run `make docs`"
    assert "<!-- metric-table:begin -->" in (ROOT / "docs" / "metrics.md").read_text()


def test_every_count_of_the_sources_is_stated_marked_in_the_readme() -> None:
    """A count is written as <!--n:NAME-->N<!--/n--> so `make docs` rewrites it and the test above
    fails on a stale one; none of the counts may be written bare instead."""
    text = (ROOT / "README.md").read_text()
    marked = set(re.findall(r"<!--n:([a-z_]+)-->", text))
    assert marked == set(counts()), set(counts()) ^ marked
    bare = re.sub(r"<!--n:[a-z_]+-->[0-9,]*<!--/n-->", "", text)
    assert not re.search(rf"\b{counts()['alerts']} alerts\b", bare)


def test_relative_links_of_the_readme_and_docs_index_resolve() -> None:
    for name in ("README.md", "docs/README.md", "docs/library.md", "docs/getting-started.md"):
        page = ROOT / name
        for target in re.findall(r"\]\(([^)#]+?)(?:#[^)]*)?\)", page.read_text()):
            if "://" not in target:
                assert (page.parent / target).exists(), f"{name}: {target}"


def test_claude_code_privacy_allowlist_is_current() -> None:
    text = (ROOT / "docs" / "claude-code.md").read_text()
    assert "<!-- privacy-allowlist:begin -->" in text
    assert render_claude_code(text) == text, "docs/claude-code.md's allowlist is stale: run `make docs`"


def test_agents_doc_tables_are_current() -> None:
    text = (ROOT / "docs" / "agents.md").read_text()
    for name in ("agent-metrics", "agent-mappings", "agent-prices"):
        assert f"<!-- {name}:begin -->" in text, name
    assert render_agents(text) == text, "docs/agents.md's tables are stale: run `make docs`"
