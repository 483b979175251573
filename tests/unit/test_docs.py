"""Generated documentation is current."""

from __future__ import annotations

from mixin.docs import render_readme
from tests.support import ROOT


def test_readme_metric_table_is_current() -> None:
    text = (ROOT / "README.md").read_text()
    assert render_readme(text) == text, "README metric table is stale: run `make docs`"
