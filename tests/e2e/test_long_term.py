"""The long-term tier on the real binaries (issue 22, docs/long-term.md): the HA pair with Thanos
sidecars shipping blocks to a bucket (a folder here; S3 in test_long_term_s3.py), a store
gateway, a compactor and Thanos Query deduplicating on the replica label.

Measured:
- one series per counter through Query, with the pusher's exact value, while either replica is
  killed and restarted (``dedup=false`` shows both replicas hold it);
- a block Prometheus cut is shipped and answered from the bucket alone (a Query that knows only
  the store gateway);
- a year of Claude Code spend with known totals, backfilled (promtool + thanos upload), compacted
  and downsampled by the compactor (raw kept 30 days, 5m 180 days, 1h two years): the 90-day
  report and the 1-year weekly trend return the known totals exactly;
- bad input: a wrong bucket config stops the start with the sidecar's own words; a corrupt
  block halts the compactor (ThanosCompactHalted) while everything else keeps answering.
"""

from __future__ import annotations

import csv
import functools
import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from otel_ccmon.claude_code._report import collect, completeness, period_of, periods
from otel_ccmon.devstack.components import ALL_COMPONENTS, HA_COMPONENTS
from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.procs import Proc, free_ports, wait_for
from otel_ccmon.devstack.repo import bin_dir
from otel_ccmon.devstack.stack import FAST_ALERTS, FAST_ALERTS_FACTOR, Stack, StackError, write_shortened_rules
from tests.pusher import Pusher
from tests.spend_history import CUT_POINTS, CUT_USD, cut_day, spend_history
from tests.support import ROOT, venv_bin

PUSHER = "long-term-pusher"
YEAR_DAYS = 400  # more than a year, so that the 1-year trend's oldest week is whole
COUNTER = f'neural_operations_total{{job="{PUSHER}"}}'
LONG_TERM: dict[str, Any] = {
    **FAST_ALERTS,
    # Prometheus cuts a block every minute (production: 2h), the store gateway and the compactor
    # read the bucket every 2 s (production: 3m), blocks are read at once (production: 30m)
    "block_duration": "1m",
    "thanos_sync_interval": "2s",
    "thanos_consistency_delay": "0s",
    "thanos_delete_delay": "10s",
}


@pytest.fixture(scope="module")
def lt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Pusher]]:
    work = tmp_path_factory.mktemp("long-term")
    rules = write_shortened_rules(ROOT / "prometheus" / "rules", work / "rules", FAST_ALERTS_FACTOR)
    components = tuple(c for c in (*ALL_COMPONENTS, *HA_COMPONENTS) if c != "node_exporter")
    st = Stack(
        StackConfig.with_free_ports(work / "stack", rules_dir=rules, components=components, ha=True, **LONG_TERM)
    )
    st.up()
    pusher = Pusher(st.config.url("otlp_http", "/v1/metrics"), PUSHER).start()
    try:
        yield st, pusher
    finally:
        pusher.halt()
        st.down()


def query(url: str, expr: str, **params: Any) -> list[dict[str, Any]]:
    body = httpx.get(f"{url}/api/v1/query", params={"query": expr, **params}, timeout=30).json()
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def thanos(stack: Stack) -> str:
    return stack.config.url("thanos_query")


def one_series_at(stack: Stack, value: float) -> bool:
    series = query(thanos(stack), COUNTER)
    assert len(series) <= 1, f"Query returned {len(series)} series for one counter: {series}"
    return bool(series) and float(series[0]["value"][1]) == value and "replica" not in series[0]["metric"]


def both_replicas_at(stack: Stack, value: float) -> bool:
    series = query(thanos(stack), COUNTER, dedup="false")
    replicas = sorted(s["metric"].get("replica", "") for s in series)
    return replicas == ["prometheus-0", "prometheus-1"] and all(float(s["value"][1]) == value for s in series)


@pytest.mark.parametrize("replica", ["prometheus_b", "prometheus"])
def test_query_deduplicates_the_pair_exactly_across_a_replica_kill(lt: tuple[Stack, Pusher], replica: str) -> None:
    stack, pusher = lt
    wait_for(lambda: pusher.acked >= 5, 60, "the pusher acknowledged")
    stack.kill9(replica)
    # while one replica is down, Query answers from the other: still one series, still growing
    seen = pusher.acked

    def one_series_past_seen() -> bool:
        series = query(thanos(stack), COUNTER)
        assert len(series) <= 1, f"Query returned {len(series)} series for one counter: {series}"
        return bool(series) and float(series[0]["value"][1]) > seen

    wait_for(one_series_past_seen, 60, f"Query's one series past {seen:.0f} with {replica} down")
    stack.start(replica)
    pusher.halt()
    final = pusher.acked
    # the restarted replica scrapes the collector's cumulative total again: both hold the exact value
    wait_for(functools.partial(both_replicas_at, stack, final), 90, f"both replicas at {final:.0f} (dedup=false)")
    wait_for(functools.partial(one_series_at, stack, final), 30, f"one deduplicated series at {final:.0f}")
    pusher.stop.clear()
    pusher.start()


def bucket_blocks(stack: Stack) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in (stack.workdir / "bucket").glob("*/meta.json")]


def shipped_block(stack: Stack) -> dict[str, Any]:
    """A block the sidecar of prometheus-0 shipped (and the compactor has not replaced)."""

    def shipped() -> dict[str, Any] | None:
        for path in (stack.workdir / "bucket").glob("*/meta.json"):
            meta: dict[str, Any] = json.loads(path.read_text())
            marked = (path.parent / "deletion-mark.json").exists()
            if meta["thanos"]["labels"].get("replica") == "prometheus-0" and not marked:
                return meta
        return None

    return wait_for(shipped, 240, "a block of prometheus-0 in the bucket (cut after 1.5 block lengths)")


def test_a_cut_block_is_shipped_and_answered_from_the_bucket(lt: tuple[Stack, Pusher], tmp_path: Path) -> None:
    stack, _ = lt
    block = shipped_block(stack)
    assert block["thanos"]["labels"] == {"cluster": "otel-ccmon", "replica": "prometheus-0"}
    # the store-only Query starts once the store gateway has loaded this block, so it never meets
    # an empty store (whether Query would look again soon enough was not measured; this wait came
    # with a first, wrong account of a busy-run failure, whose cause was the query below)
    store_log = stack.logs / "thanos_store.log"
    wait_for(lambda: f"id={block['ulid']}" in store_log.read_text(), 120, "the store gateway loading the block")
    # a second Query that knows only the store gateway: what it answers comes from the bucket
    http, grpc = free_ports(2)
    store_only = Proc(
        "thanos-query-store-only",
        [str(bin_dir(ROOT) / "thanos"), "query", f"--http-address=127.0.0.1:{http}",
         f"--grpc-address=127.0.0.1:{grpc}", "--query.replica-label=replica",
         f"--endpoint=127.0.0.1:{stack.config.ports['thanos_store_grpc']}"],
        tmp_path / "query.log",
    ).start()  # fmt: skip
    try:
        url = f"http://127.0.0.1:{http}"
        # the series of the block, by name, at its last millisecond (nothing later is in the
        # bucket's answer). Any series: the first block may be seconds long (cut at a block
        # boundary) and hold only what the rules wrote before the first scrape (seen on busy runs:
        # 0.5-4.4 s, 7 series, no `up`)
        expr = 'count by (__name__) ({__name__=~".+"})'

        def answered() -> list[dict[str, Any]]:
            return query(url, expr, time=(block["maxTime"] - 1) / 1000)

        series = wait_for(answered, 60, "the store gateway answering for the shipped block")
        assert all(float(s["value"][1]) >= 1 for s in series), series
    finally:
        store_only.stop()


# -- a year of Claude Code spend --------------------------------------------------------------------
def resolutions(stack: Stack) -> dict[int, list[tuple[int, int]]]:
    out: dict[int, list[tuple[int, int]]] = {}
    for meta in bucket_blocks(stack):
        if meta["thanos"]["labels"].get("replica") == "backfill":
            out.setdefault(meta["thanos"]["downsample"]["resolution"], []).append((meta["minTime"], meta["maxTime"]))
    return out


def test_a_year_of_spend_backfilled_downsampled_and_reported_exactly(lt: tuple[Stack, Pusher], tmp_path: Path) -> None:
    stack, _ = lt
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    text, known = spend_history(end, YEAR_DAYS)
    (tmp_path / "spend.om").write_text(text)
    fill = subprocess.run(
        [venv_bin("ccmon"), "stack", "backfill", str(tmp_path / "spend.om"), "--workdir", str(stack.workdir)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert fill.returncode == 0 and "blocks" in fill.stdout, fill.stdout + fill.stderr
    now_ms = datetime.now(UTC).timestamp() * 1000

    def compacted() -> bool:
        res = resolutions(stack)
        raw_oldest = min((lo for lo, _ in res.get(0, [])), default=now_ms)
        five_oldest = min((lo for lo, _ in res.get(300_000, [])), default=now_ms)
        # raw past 30 days deleted, 5m past 180 days deleted, 1h covering the whole year
        return (
            bool(res.get(3_600_000))
            and now_ms - raw_oldest < 46 * 86_400_000
            and now_ms - five_oldest < 196 * 86_400_000
            and min(lo for lo, _ in res[3_600_000]) <= (end - timedelta(days=365)).timestamp() * 1000
        )

    wait_for(compacted, 600, "the compactor: 5m and 1h blocks written, raw and 5m past their retention deleted")

    mismatch: list[str] = []

    def report_matches(days: int) -> list[Any] | None:
        rows = collect(thanos(stack), days, now=end, by=("team", "model"))
        got = {(r.day, dict(r.labels)["team_id"], dict(r.labels)["model"]): r.cost_usd for r in rows if r.cost_usd}
        want = {k: v for k, v in known.items() if k[0] >= (end - timedelta(days=days - 1)).date().isoformat()}
        mismatch[:] = [
            f"{k}: got {got.get(k)} want {want.get(k)}" for k in sorted({*got, *want}) if got.get(k) != want.get(k)
        ]
        return rows if got == want else None

    # the store gateway loads new blocks on its next sync: wait until the report sees them all
    rows = wait_for(lambda: report_matches(90), 120, "the 90-day report equal to the known daily totals", interval=2)
    assert sum(r.cost_usd for r in rows) == sum(v for k, v in known.items() if k[0] >= rows[0].day)
    year = report_matches(365)
    assert year is not None, f"the 1-year report differs on {len(mismatch)} days: {mismatch[:6]}"
    weekly: dict[str, float] = {}
    for p in periods(year, "week"):
        weekly[p.period] = weekly.get(p.period, 0.0) + p.cost_usd
    known_weekly: dict[str, float] = {}
    for (day, _team, _model), usd in known.items():
        if day >= year[0].day:
            known_weekly[period_of(day, "week")] = known_weekly.get(period_of(day, "week"), 0.0) + usd
    assert weekly == known_weekly
    assert len(weekly) >= 52
    # the same through the command, as finance runs it: the CSV's days add up to the known spend
    report = subprocess.run(
        [venv_bin("ccmon"), "claude-code", "report", "--prometheus", thanos(stack), "--since", "90d",
         "--by", "team", "--out", str(tmp_path / "report")],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert report.returncode == 0, report.stdout + report.stderr
    with (tmp_path / "report" / "claude-code-report.csv").open() as f:
        lines = list(csv.DictReader(f))
    first = lines[0]["day"]
    assert sum(float(line["cost_usd"]) for line in lines) == sum(v for k, v in known.items() if k[0] >= first)
    # issue 31: the cut 60 days back is only in downsampled blocks; it is found and priced there
    cut = cut_day(end)
    assert {line["complete"] for line in lines if line["day"] != cut} == {"yes"}
    assert {line["complete"] for line in lines if line["day"] == cut} == {"no"}
    assert f"{cut}: INCOMPLETE: at least {CUT_USD:.4f} USD" in report.stdout, report.stdout[-2000:]
    days = completeness(thanos(stack), 90, now=end)
    assert [d for d, c in days.items() if not c.complete] == [cut]
    assert (days[cut].cut_points, days[cut].cut_usd) == (CUT_POINTS, CUT_USD)


def test_a_wrong_bucket_config_stops_the_start_with_thanos_own_words(tmp_path: Path) -> None:
    bad = tmp_path / "bucket.yml"
    bad.write_text("type: NOT_A_PROVIDER\nconfig: {}\n")
    components = tuple(c for c in (*ALL_COMPONENTS, *HA_COMPONENTS) if c != "node_exporter")
    st = Stack(
        StackConfig.with_free_ports(
            tmp_path / "stack", components=components, ha=True, objstore_config=bad, **LONG_TERM
        )
    )
    with pytest.raises(StackError) as err:
        st.up()
    assert "thanos_sidecar" in str(err.value) and "NOT_A_PROVIDER" in str(err.value), err.value
    assert not st.procs, "a failed start stops what it started"


def test_a_corrupt_block_halts_the_compactor_and_pages(lt: tuple[Stack, Pusher]) -> None:
    stack, _ = lt
    meta = shipped_block(stack)
    source = stack.workdir / "bucket" / meta["ulid"]
    # an overlapping copy of a block under a new (valid) id: two blocks of one group claim the same time
    twin = meta["ulid"][:-6] + ("ZZZZZZ" if not meta["ulid"].endswith("ZZZZZZ") else "000000")
    corrupt = stack.workdir / "bucket" / twin
    # made outside the bucket and renamed into it whole: the compactor reads the bucket every 2 s,
    # and once read a copy whose meta.json still named the original's sources (seen on a busy
    # run) as the original's duplicate, deleted the original and never halted
    staging = stack.workdir / "twin-staging" / twin
    shutil.copytree(source, staging, ignore=shutil.ignore_patterns("deletion-mark.json"))
    meta["ulid"] = twin
    meta["compaction"]["sources"] = [twin]
    (staging / "meta.json").write_text(json.dumps(meta))
    staging.rename(corrupt)
    try:
        wait_for(lambda: query(stack.config.url("prometheus"), "thanos_compact_halted == 1"), 120,
                 "thanos_compact_halted == 1")  # fmt: skip
        wait_for(lambda: any(a["labels"]["alertname"] == "ThanosCompactHalted" and a["state"] == "firing"
                             for a in query_alerts(stack)), 120, "ThanosCompactHalted firing")  # fmt: skip
        # everything else still answers: Query, both replicas, the pusher's counter
        assert query(thanos(stack), COUNTER), "Query stopped answering"
    finally:
        shutil.rmtree(corrupt, ignore_errors=True)
    # the runbook's mitigation: the block gone, a restarted compactor runs again
    stack.stop("thanos_compact")
    stack.start("thanos_compact")
    wait_for(lambda: query(stack.config.url("prometheus"), "thanos_compact_halted == 0"), 120,
             "thanos_compact_halted back to 0 after the restart")  # fmt: skip


def query_alerts(stack: Stack) -> list[dict[str, Any]]:
    alerts: list[dict[str, Any]] = httpx.get(stack.config.url("prometheus", "/api/v1/alerts"), timeout=10).json()[
        "data"
    ]["alerts"]
    return alerts
