"""`ccmon doctor`'s sizing check without a stack: the developers seen against the collector's stream
budget and memory limit (devstack.sizing's measured figures), a warning with the value to set."""

from __future__ import annotations

from typing import Any

import pytest

from otel_ccmon.devstack import sizing
from otel_ccmon.devstack.doctor import DEVELOPERS, OK, WARN, Endpoints, check_collector_sizing


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
    need = sizing.memory_limit_mib(5000)
    assert need > 512 and f"CCMON_COLLECTOR_MEMORY_LIMIT_MIB={need}" in memory.fix
    assert f"512 MiB holds about {sizing.developers_within(512):,} developers" in memory.detail
    assert "expected_developers" in streams.fix


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
