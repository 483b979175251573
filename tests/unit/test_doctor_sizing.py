"""`ccmon doctor`'s sizing check without a stack: the developers seen against the collector's stream
budget and memory limit (devstack.sizing's measured figures), a warning with the value to set."""

from __future__ import annotations

from typing import Any

import pytest

from otel_ccmon.devstack import sizing
from otel_ccmon.devstack.doctor import (
    DEVELOPERS,
    OK,
    WARN,
    Endpoints,
    check_collector_sizing,
    check_exporter_scrapes,
)


class Answers:
    """Prometheus's answer per expression (no network in unit tests)."""

    def __init__(self, values: dict[str, float]) -> None:
        self.values = values

    def query(self, prometheus: str, expr: str) -> list[dict[str, Any]]:
        for key, value in self.values.items():
            if key in expr:
                return [{"metric": {}, "value": [0, str(value)]}]
        return []


def found(values: dict[str, float], limit: int | None) -> dict[str, Any]:
    ep = Endpoints("http://127.0.0.1:9", "http://127.0.0.1:9", collector_memory_limit_mib=limit)
    return {f.check: f for f in check_collector_sizing(Answers(values), ep)}  # type: ignore[arg-type]


def test_a_collector_sized_for_its_developers_is_ok() -> None:
    out = found({DEVELOPERS: 1000, "code_streams": 9_000, "max_streams": 95_500, "memory_rss": 200 * 2**20}, 512)
    assert out["collector stream budget"].status == OK
    assert (
        "1000 developers hold 9,000 of 95,500 streams; the budget holds about 10,611"
        in out["collector stream budget"].detail
    )
    assert out["collector memory limit"].status == OK
    assert "resident now 200 MiB" in out["collector memory limit"].detail


def test_more_developers_than_the_limit_holds_warns_with_the_value_to_set() -> None:
    out = found({DEVELOPERS: 5000, "code_streams": 90_000, "max_streams": 95_500}, 512)
    memory, streams = out["collector memory limit"], out["collector stream budget"]
    assert memory.status == WARN and streams.status == WARN
    # 90,000 streams are more than 5,000 developers hold at the clients' intervals: the load decides
    need = sizing.limit_for_peak(sizing.load_peak_mib(90_000, 0))
    assert need > sizing.memory_limit_mib(5000) > 512
    assert f"CCMON_COLLECTOR_MEMORY_LIMIT_MIB={need}" in memory.fix
    assert f"512 MiB holds about {sizing.developers_within(512):,} developers" in memory.detail
    pushed = sizing.limit_for_peak(sizing.load_peak_mib(90_000, 0, pushed=True))
    assert f"or push (collector/remote-write-only.yaml), measured to need about {pushed} MiB" in memory.fix
    assert "expected_developers" in streams.fix


def test_the_ingest_rate_of_a_scraped_collector_raises_its_need_and_pushing_lowers_it() -> None:
    """2,000 developers exporting every second (the benchmark's burst): 67,884 streams at 3,596
    points and records a second; scraped it needs 2,048 MiB as measured, pushed the default 512."""
    burst: dict[str, float] = {DEVELOPERS: 2000, "code_streams": 67_884, "max_streams": 181_000, "accepted_": 3_596}
    scraped = found(burst, 512)["collector memory limit"]
    assert scraped.status == WARN and "CCMON_COLLECTOR_MEMORY_LIMIT_MIB=1216" in scraped.fix
    assert "67,884 streams, 3,596 points and records/s at the day's peak (scraped) need about 1216 MiB" in (
        scraped.detail
    )
    pushed = found({**burst, "remote_write/push": 1e6}, 640)["collector memory limit"]
    assert pushed.status == OK and "(pushed) need about 640 MiB" in pushed.detail


def test_no_developers_nothing_to_size_and_an_unknown_limit_is_said() -> None:
    assert [f.status for f in found({}, 512).values()] == [OK]
    assert found({DEVELOPERS: 10}, None)["collector memory limit"].status == WARN


@pytest.mark.parametrize("developers", [0, 500, 2000, 5000, 20000])
def test_the_limit_holds_the_expected_peak_under_the_soft_limit(developers: int) -> None:
    limit = sizing.memory_limit_mib(developers)
    assert limit % 64 == 0 and limit >= 512
    assert sizing.collector_peak_mib(developers) <= limit * sizing.SOFT_SHARE
    assert sizing.developers_within(limit) >= developers


def test_the_collector_config_and_manifests_hold_the_sized_limit() -> None:
    """collector/config.yaml's default memory limit and the Kubernetes gateway's are what the measured
    sizing gives for claude_code.expected_developers (mixin/settings.yml), the doctor reads the same."""
    from mixin.config import SETTINGS
    from otel_ccmon.devstack.sizing import configured_limit_mib
    from tests.support import ROOT

    limit = sizing.memory_limit_mib(SETTINGS.claude_code.expected_developers)
    config = (ROOT / "collector" / "config.yaml").read_text()
    assert f"limit_mib: ${{env:CCMON_COLLECTOR_MEMORY_LIMIT_MIB:-{limit}}}" in config
    assert f"spike_limit_mib: ${{env:CCMON_COLLECTOR_MEMORY_SPIKE_MIB:-{sizing.spike_limit_mib(limit)}}}" in config
    assert configured_limit_mib(ROOT, {}) == limit
    gateway = (ROOT / "kubernetes" / "collector.yaml").read_text()
    assert f"- name: CCMON_COLLECTOR_MEMORY_LIMIT_MIB\n          value: '{limit}'" in gateway
    assert f"- name: GOMEMLIMIT\n          value: {sizing.go_memory_limit(limit)}" in gateway


class Targets(Answers):
    """Prometheus's answers and its active targets (the exporter's scrape timeout)."""

    def __init__(self, values: dict[str, float], targets: list[dict[str, Any]]) -> None:
        super().__init__(values)
        self.targets = targets

    def json(self, url: str) -> dict[str, Any]:
        assert url.endswith("/api/v1/targets")
        return {"data": {"activeTargets": self.targets}}


def scrapes(values: dict[str, float], jobs: dict[str, str]) -> Any:
    ep = Endpoints("http://127.0.0.1:9", "http://127.0.0.1:9")
    targets = [{"labels": {"job": job}, "scrapeTimeout": timeout} for job, timeout in jobs.items()]
    (finding,) = check_exporter_scrapes(Targets(values, targets), ep)  # type: ignore[arg-type]
    return finding


def test_an_exporter_scrape_near_its_timeout_warns_and_names_the_push_overlay() -> None:
    slow = scrapes({"scrape_duration_seconds": 4.2, "scrape_samples_scraped": 69_000}, {"app-metrics": "5s"})
    assert slow.status == WARN
    assert "slowest scrape of the last day 4.20 s of a 5 s timeout (69,000 samples now)" in slow.detail
    assert "collector/remote-write-only.yaml" in slow.fix and "scrape_timeout" in slow.fix
    fast = scrapes({"scrape_duration_seconds": 0.3, "scrape_samples_scraped": 8_000}, {"app-metrics": "10s"})
    assert fast.status == OK and "0.30 s of a 10 s timeout" in fast.detail


def test_pushed_metrics_have_no_scrape_to_time_out() -> None:
    pushed = scrapes({"scrape_duration_seconds": 9.0}, {"otel-collector": "5s"})
    assert pushed.status == OK and "pushed" in pushed.detail
