"""History into the long-term tier: ``ccmon stack backfill FILE`` (docs/long-term.md).

Samples older than Prometheus's retention (an export from another system, a year of Claude Code
spend) become TSDB blocks with ``promtool tsdb create-blocks-from openmetrics`` and are uploaded to
the Thanos bucket with ``thanos tools bucket upload-blocks``, labelled like a replica of their own
(``replica="backfill"``): Thanos Query deduplicates them with the live replicas, the compactor
compacts and downsamples them as any other group. Both tools are the engines' own; this module
only runs them in order and reports what they did.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from otel_ccmon.devstack.repo import bin_dir

BACKFILL_LABELS: Mapping[str, str] = {"cluster": "otel-ccmon", "replica": "backfill"}
"""External labels of backfilled blocks: the cluster's, and a replica name of their own so that they
never overlap a live replica's blocks (the compactor halts on overlapping blocks of one group)."""
BLOCK_SPAN = "162h"
"""The longest block promtool writes (its lengths are 2h x 3^n: 2h, 6h, 18h, 54h, 162h)."""
WINDOW_MS = 14 * 86_400_000
"""The compactor's largest compaction range. The input is cut into these windows (aligned as the
compactor aligns them) before promtool sees it, so that no block straddles two: the compactor then
compacts each window's blocks into one 14-day block before it downsamples. Measured without the
cut (162h blocks across the windows): their 5m downsamples stayed shorter than the 10 days 1h
downsampling needs, the 5m retention deleted them first, and 60% of the history older than 180
days was lost (docs/long-term.md). Shorter blocks instead (6h) made promtool read the whole input
once per block: over 12 CPU-minutes for a year of six series."""


class BackfillError(RuntimeError):
    """promtool or thanos refused the input or the bucket; the message carries their own words."""


@dataclass(frozen=True)
class Block:
    """One uploaded block: its id, time range (ms) and sample count, from its meta.json."""

    ulid: str
    min_time_ms: int
    max_time_ms: int
    samples: int


def _run(argv: list[str], what: str) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise BackfillError(f"{what} failed (exit {result.returncode}): " + " | ".join(tail))
    return result.stdout


def split_by_window(openmetrics: Path, out: Path) -> list[Path]:
    r"""One OpenMetrics file per compactor window that holds samples, each with the families' metadata.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "in.om").write_text("# TYPE c counter\nc_total 1 0\nc_total 2 1209600\n# EOF\n")
    >>> [p.read_text().splitlines() for p in split_by_window(d / "in.om", d / "w")]
    [['# TYPE c counter', 'c_total 1 0', '# EOF'], ['# TYPE c counter', 'c_total 2 1209600', '# EOF']]
    """
    out.mkdir(parents=True, exist_ok=True)
    windows: dict[int, list[str]] = {}
    family: list[str] = []  # the metadata lines of the family being read
    written: dict[int, int] = {}  # window -> how many of the current family's metadata lines it holds
    for raw in openmetrics.read_text().splitlines():
        line = raw.strip()
        if not line or line == "# EOF":
            continue
        if line.startswith("#"):
            if written:  # a new family begins
                family, written = [], {}
            family.append(line)
            continue
        series = line.split(" # ", 1)[0]  # an exemplar follows " # "
        # value and timestamp follow the labels (whose values may hold spaces) or the bare name
        rest = series.rsplit("}", 1)[1] if "}" in series else series.partition(" ")[2]
        fields = rest.split()
        try:
            ms = int(float(fields[1]) * 1000) if len(fields) == 2 else -1
        except ValueError:
            ms = -1
        if ms < 0:
            raise BackfillError(f"{openmetrics}: every sample needs a timestamp (seconds) for a backfill: {line!r}")
        window = ms // WINDOW_MS
        lines = windows.setdefault(window, [])
        if written.get(window, -1) < 0:
            lines.extend(family)
            written[window] = len(family)
        lines.append(line)
    paths = []
    for window, lines in sorted(windows.items()):
        path = out / f"window-{window}.om"
        path.write_text("\n".join([*lines, "# EOF"]) + "\n")
        paths.append(path)
    return paths


def backfill(
    openmetrics: Path,
    objstore_config: Path,
    labels: Mapping[str, str] = BACKFILL_LABELS,
    *,
    repo: Path | None = None,
) -> list[Block]:
    """Turn an OpenMetrics file into blocks and upload them to the bucket of ``objstore_config``.

    Example, for the local HA stack's bucket::

        backfill(Path("spend.om"), Path("var/stack/bucket.yml"))
    """
    binaries = bin_dir(repo)
    with tempfile.TemporaryDirectory(prefix="ccmon-backfill-") as tmp:
        out = Path(tmp) / "blocks"
        for window in split_by_window(openmetrics, Path(tmp) / "windows"):
            _run(
                [
                    str(binaries / "promtool"),
                    "tsdb",
                    "create-blocks-from",
                    "openmetrics",
                    f"--max-block-duration={BLOCK_SPAN}",
                    "--quiet",
                    str(window),
                    str(out),
                ],
                f"promtool tsdb create-blocks-from openmetrics {openmetrics} ({window.stem})",
            )
        blocks = []
        for meta_path in sorted(out.glob("*/meta.json")):
            meta = json.loads(meta_path.read_text())
            blocks.append(Block(meta["ulid"], meta["minTime"], meta["maxTime"], meta["stats"]["numSamples"]))
        if not blocks:
            raise BackfillError(f"{openmetrics}: no samples (promtool wrote no block)")
        _run(
            [
                str(binaries / "thanos"),
                "tools",
                "bucket",
                "upload-blocks",
                f"--objstore.config-file={objstore_config}",
                f"--path={out}",
                *(f'--label={key}="{value}"' for key, value in labels.items()),
            ],
            f"thanos tools bucket upload-blocks to {objstore_config}",
        )
    return blocks
