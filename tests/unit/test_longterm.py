"""The backfill's input handling (otel_ccmon/devstack/longterm.py), without binaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from otel_ccmon.devstack.longterm import WINDOW_MS, BackfillError, split_by_window


def test_each_window_gets_its_samples_and_every_family_metadata(tmp_path: Path) -> None:
    window_s = WINDOW_MS // 1000
    (tmp_path / "in.om").write_text(
        "# HELP a_total A\n# TYPE a_total counter\n"
        f'a_total{{x="1"}} 1 10\na_total{{x="1"}} 2 {window_s + 10}\n'
        "# TYPE b gauge\n"
        f'b 5 {2 * window_s + 1} # {{trace_id="t"}} 1\n'
        "# EOF\n"
    )
    files = split_by_window(tmp_path / "in.om", tmp_path / "out")
    texts = [p.read_text().splitlines() for p in files]
    assert texts[0] == ["# HELP a_total A", "# TYPE a_total counter", 'a_total{x="1"} 1 10', "# EOF"]
    assert texts[1] == ["# HELP a_total A", "# TYPE a_total counter", f'a_total{{x="1"}} 2 {window_s + 10}', "# EOF"]
    assert texts[2] == ["# TYPE b gauge", f'b 5 {2 * window_s + 1} # {{trace_id="t"}} 1', "# EOF"]


def test_a_sample_without_timestamp_is_refused_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "in.om").write_text("# TYPE a gauge\na 1\n# EOF\n")
    with pytest.raises(BackfillError, match=r"needs a timestamp.*'a 1'"):
        split_by_window(tmp_path / "in.om", tmp_path / "out")
    # a label value with spaces is not mistaken for the value and timestamp
    (tmp_path / "in.om").write_text('# TYPE a gauge\na{x="b c"} 1\n# EOF\n')
    with pytest.raises(BackfillError, match="needs a timestamp"):
        split_by_window(tmp_path / "in.om", tmp_path / "out")
