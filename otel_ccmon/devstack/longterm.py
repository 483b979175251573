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
BLOCK_SPAN = "336h"
"""The longest block promtool writes: two weeks, the compactor's largest level, so that a year of
history is a few dozen blocks that the compactor downsamples at once instead of thousands of 2h ones."""


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
        _run(
            [
                str(binaries / "promtool"),
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                f"--max-block-duration={BLOCK_SPAN}",
                "--quiet",
                str(openmetrics),
                str(out),
            ],
            f"promtool tsdb create-blocks-from openmetrics {openmetrics}",
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
