"""`ccmon doctor`'s long-term checks without a stack: a firing Thanos alert is named with the first
step of its runbook's Mitigation, and a missing store is a failure that says which."""

from __future__ import annotations

import urllib.parse
from typing import Any

from otel_ccmon.devstack.doctor import FAIL, OK, Endpoints, _mitigation, check_long_term
from tests.support import ROOT

RUNBOOKS = ROOT / "docs" / "runbooks"
PROMETHEUS, QUERY = 9090, 10904


class FakeClient:
    """Answers Thanos Query's and Prometheus's API paths from a table (no network in unit tests)."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers

    def get(self, url: str, **_: Any) -> Any:
        class Response:
            status_code = 200

        return Response()

    def json(self, url: str, **_: Any) -> Any:
        parts = urllib.parse.urlsplit(url)
        return self.answers[f"{parts.port}{parts.path}"]

    def query(self, prometheus: str, expr: str) -> list[dict[str, Any]]:
        return [{"metric": {}, "value": [0, "2"]}]


def answers(stores: dict[str, Any], alerts: list[dict[str, Any]]) -> dict[str, Any]:
    replicas = [{"metric": {"replica": r}, "value": [0, "9"]} for r in ("prometheus-0", "prometheus-1")]
    return {
        f"{QUERY}/api/v1/stores": {"data": stores},
        f"{QUERY}/api/v1/query": {"data": {"result": replicas}},
        f"{PROMETHEUS}/api/v1/alerts": {"data": {"alerts": alerts}},
    }


def endpoints() -> Endpoints:
    def local(port: int) -> str:
        return f"http://127.0.0.1:{port}"

    return Endpoints(local(PROMETHEUS), local(9093), thanos_query=local(QUERY), runbooks=RUNBOOKS)


def test_the_fix_of_a_firing_alert_is_its_runbooks_first_mitigation_step() -> None:
    fix = _mitigation(RUNBOOKS, "ThanosCompactHalted")
    assert (
        fix.startswith("A corrupt or overlapping block: mark it for no-compaction") and "ThanosCompactHalted.md" in fix
    )
    stores = {"sidecar": [{"name": "a"}, {"name": "b"}], "store": [{"name": "s"}]}
    firing = [{"state": "firing", "labels": {"alertname": "ThanosCompactHalted"}}]
    found = {f.check: f for f in check_long_term(FakeClient(answers(stores, firing)), endpoints())}  # type: ignore[arg-type]
    assert found["ThanosCompactHalted not firing"].status == FAIL
    assert found["ThanosCompactHalted not firing"].fix == fix
    assert found["Thanos sidecars"].status == OK and found["replicas deduplicated"].status == OK


def test_a_missing_or_failing_store_fails_and_says_which() -> None:
    stores = {"sidecar": [{"name": "a"}, {"name": "b", "lastError": "connection refused"}], "store": []}
    found = {f.check: f for f in check_long_term(FakeClient(answers(stores, [])), endpoints())}  # type: ignore[arg-type]
    assert found["Thanos sidecars"].status == FAIL and "b: connection refused" in found["Thanos sidecars"].detail
    assert found["Thanos stores"].status == FAIL and found["Thanos stores"].detail.startswith("0 of 1 connected")
    assert found["Thanos alerts"].status == OK
