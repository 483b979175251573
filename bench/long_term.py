"""The long-term tier (issue 22, docs/long-term.md): the 90-day Claude Code report and the 1-year
weekly trend read through Thanos Query from raw blocks against the same history after the
compactor has downsampled it (raw kept 30 days, 5m 180 days, 1h two years: mixin/settings.yml),
side by side in one run; and the bucket's bytes per sample, raw and downsampled.

    .venv/bin/python -m bench.long_term 400        # days of history (a year and more)

Prints one JSON line. The history is the tests' (tests/spend_history.py): six counters at 5-minute
samples, known totals; both readings are checked against them (a fast wrong answer is no answer).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from otel_ccmon.claude_code._report import CLAUDE_CODE, DayQueries, _collect, whole_day_ends
from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.longterm import backfill
from otel_ccmon.devstack.procs import wait_for
from otel_ccmon.devstack.stack import Stack
from tests.spend_history import spend_history

THANOS = ("thanos_store", "thanos_query")


def bucket_bytes(bucket: Path) -> dict[str, float]:
    """Bytes and samples of the bucket's live blocks (not marked for deletion), by resolution."""
    out: dict[str, float] = {}
    for meta_path in bucket.glob("*/meta.json"):
        if (meta_path.parent / "deletion-mark.json").exists():
            continue
        meta = json.loads(meta_path.read_text())
        res = {0: "raw", 300_000: "5m", 3_600_000: "1h"}[meta["thanos"]["downsample"]["resolution"]]
        size = sum(p.stat().st_size for p in meta_path.parent.rglob("*") if p.is_file())
        out[f"{res}_bytes"] = out.get(f"{res}_bytes", 0) + size
        out[f"{res}_samples"] = out.get(f"{res}_samples", 0) + meta["stats"]["numSamples"]
    return out


def timed_report(
    url: str, days: int, end: datetime, known: dict[tuple[str, str, str], float], *, per_day: bool = False
) -> float:
    """Seconds to compute the report over ``days``; raises if its figures differ from the known ones.
    ``per_day``: one instant query per day and expression (the report before issue 35), to compare
    with one range query per expression for the whole days (the report now)."""
    start = time.perf_counter()
    q = DayQueries(url, [] if per_day else whole_day_ends(days, end))
    rows = _collect(q, days, end, ("team", "model"), None, CLAUDE_CODE)
    elapsed = time.perf_counter() - start
    got = {(r.day, r.get("team_id"), r.get("model")): r.cost_usd for r in rows if r.cost_usd}
    first = (end - timedelta(days=days - 1)).date().isoformat()
    want = {k: v for k, v in known.items() if k[0] >= first}
    if got != want:
        wrong = sorted(k for k in {*got, *want} if got.get(k) != want.get(k))
        raise AssertionError(f"{days}-day report differs on {len(wrong)} rows, e.g. {wrong[:3]}")
    return elapsed


def main(days: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ccmon-bench-lt-") as tmp:
        work = Path(tmp)
        stack = Stack(
            StackConfig.with_free_ports(
                work / "stack",
                components=THANOS,
                ha=True,
                thanos_sync_interval="2s",
                thanos_consistency_delay="0s",
                thanos_delete_delay="4s",
            )
        )
        stack.up()
        try:
            end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
            text, known = spend_history(end, days)
            (work / "spend.om").write_text(text)
            started = time.perf_counter()
            blocks = backfill(work / "spend.om", work / "stack" / "bucket.yml")
            backfill_s = time.perf_counter() - started
            url = stack.config.url("thanos_query")
            wait_for(lambda: _answers(url, end - timedelta(days=days - 2)), 120, "the store gateway loaded the blocks")
            # every block, not only the oldest: a block still loading reads as a day short (seen under load)
            wait_for(lambda: _matches(url, min(days, 365), end, known), 120, "the raw history answering exactly")
            raw = {
                "report_90d_s": timed_report(url, 90, end, known),
                "trend_365d_s": timed_report(url, 365, end, known),
            }
            raw_bucket = bucket_bytes(work / "stack" / "bucket")
            started = time.perf_counter()
            stack.start("thanos_compact")
            wait_for(lambda: _downsampled(work / "stack" / "bucket", end), 900, "compaction, downsampling, retention")
            compact_s = time.perf_counter() - started
            # the store gateway's view settles after the deletions (it syncs every 2 s)
            wait_for(lambda: _matches(url, 365, end, known), 120, "the downsampled history answering exactly")
            down = {
                "report_90d_s": timed_report(url, 90, end, known),
                "trend_365d_s": timed_report(url, 365, end, known),
                # the same, one instant query per day and expression (the report before issue 35)
                "report_90d_per_day_s": timed_report(url, 90, end, known, per_day=True),
                "trend_365d_per_day_s": timed_report(url, 365, end, known, per_day=True),
            }
            down_bucket = bucket_bytes(work / "stack" / "bucket")
        finally:
            stack.down()
    raw_samples = sum(b.samples for b in blocks)
    return {
        "days": days,
        "series": 6,
        "raw_samples": raw_samples,
        "backfill_s": round(backfill_s, 2),
        "compaction_s": round(compact_s, 2),
        "raw": raw,
        "downsampled": down,
        "ratio_report_90d": raw["report_90d_s"] / down["report_90d_s"],
        "ratio_trend_365d": raw["trend_365d_s"] / down["trend_365d_s"],
        "ratio_trend_365d_per_day_to_range": down["trend_365d_per_day_s"] / down["trend_365d_s"],
        "bucket_raw": raw_bucket,
        "bucket_downsampled": down_bucket,
        "bytes_per_sample_raw": raw_bucket["raw_bytes"] / raw_bucket["raw_samples"],
        "bytes_per_raw_sample_after": sum(v for k, v in down_bucket.items() if k.endswith("_bytes")) / raw_samples,
    }


def _matches(url: str, days: int, end: datetime, known: dict[tuple[str, str, str], float]) -> bool:
    try:
        timed_report(url, days, end, known)
    except AssertionError:
        return False
    return True


def _answers(url: str, at: datetime) -> bool:
    from otel_ccmon._promql import instant

    return bool(instant(url, "count(claude_code_cost_usage_USD_total)", at.timestamp()))


def _downsampled(bucket: Path, end: datetime) -> bool:
    b = bucket_bytes(bucket)
    oldest_raw = min(
        (
            json.loads(p.read_text())["minTime"]
            for p in bucket.glob("*/meta.json")
            if json.loads(p.read_text())["thanos"]["downsample"]["resolution"] == 0
            and not (p.parent / "deletion-mark.json").exists()
        ),
        default=end.timestamp() * 1000,
    )
    return "1h_bytes" in b and end.timestamp() * 1000 - oldest_raw < 46 * 86_400_000


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)))
