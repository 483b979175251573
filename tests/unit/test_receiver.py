"""The alert receiver in process: models, auth, bad input, idempotency, retention, fuzzing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otel_ccmon._meta import DEMO_SERVICE_NAME
from otel_ccmon.receiver.app import ReceiverSettings, create_app, stall_watchdog
from otel_ccmon.receiver.hooks import schedule
from otel_ccmon.receiver.models import NotificationModel, dedup_key
from otel_ccmon.receiver.store import AlertStore
from tests.conftest import Reader
from tests.receiver_support import AUTH, TOKEN, alert, counts, notification


@pytest.fixture
def client(tmp_path: Path, metrics: Reader) -> Iterator[TestClient]:
    del metrics  # the in-memory metrics of the receiver, reset around each test
    app = create_app(ReceiverSettings(db_path=tmp_path / "r.db", token=TOKEN, max_body_bytes=64 * 1024))
    with TestClient(app) as c:
        yield c


def test_models_accept_alertmanager_payload() -> None:
    n = NotificationModel.model_validate(notification(alert(), alert("ffff0000", name="ServiceDown")))
    assert n.version == "4" and len(n.alerts) == 2
    assert n.alerts[1].labels["alertname"] == "ServiceDown"


def test_dedup_key_ignores_delivery_but_not_state() -> None:
    a = NotificationModel.model_validate(notification(alert()))
    b = NotificationModel.model_validate(notification(alert()))
    c = NotificationModel.model_validate(notification(alert(status="resolved")))
    assert dedup_key(a) == dedup_key(b) != dedup_key(c)


def test_accepts_stores_and_lists(client: TestClient, metrics: Reader) -> None:
    r = client.post("/webhook/p1-high", json=notification(), headers=AUTH)
    assert r.status_code == 200 and r.json() == {"status": "ok", "duplicate": False, "new_events": 1}
    listed = client.get("/alerts", headers=AUTH).json()["alerts"]
    assert [(a["alertname"], a["status"], a["severity"]) for a in listed] == [("CacheHitRateLow", "firing", "P1")]
    assert listed[0]["labels"]["service"] == DEMO_SERVICE_NAME
    assert metrics.value("alert_receiver.notifications", receiver="p1-high", status="firing") == 1
    assert metrics.value("alert_receiver.alert_events", status="firing", severity="P1") == 1
    assert metrics.points("alert_receiver.processing.duration")[0].count == 1


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"Authorization": f"Basic {TOKEN}"}, 401)],
)
def test_authentication(client: TestClient, metrics: Reader, headers: dict[str, str], expected: int) -> None:
    r = client.post("/webhook", json=notification(), headers=headers)
    assert r.status_code == expected and r.json()["error"] == "unauthorized"
    assert client.get("/alerts", headers=headers).status_code == 401
    assert counts(client)["notifications"] == 0
    assert metrics.value("alert_receiver.rejections", reason="unauthorized") == 2


@pytest.mark.parametrize(
    ("body", "content_type", "status", "reason"),
    [
        (b"{not json", "application/json", 400, "malformed_json"),
        (b"\xff\xfe", "application/json", 400, "malformed_json"),
        (json.dumps({"version": "4"}).encode(), "application/json", 422, "invalid_schema"),
        (json.dumps({**notification(), "version": "3"}).encode(), "application/json", 422, "invalid_schema"),
        (json.dumps(notification(alert(fp="not-hex!"))).encode(), "application/json", 422, "invalid_schema"),
        (json.dumps({**notification(), "alerts": []}).encode(), "application/json", 422, "invalid_schema"),
        (json.dumps(notification()).encode(), "text/plain", 415, "unsupported_media_type"),
        (b"[" + b"1," * 40_000 + b"1]", "application/json", 413, "too_large"),
    ],
)
def test_bad_input_is_a_clear_4xx_and_stores_nothing(
    client: TestClient, metrics: Reader, body: bytes, content_type: str, status: int, reason: str
) -> None:
    r = client.post("/webhook", content=body, headers={**AUTH, "Content-Type": content_type})
    assert r.status_code == status
    assert r.json()["error"] == reason
    assert counts(client)["notifications"] == 0
    assert metrics.value("alert_receiver.rejections", reason=reason) == 1


def test_oversized_body_without_content_length_is_cut_off(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b" " * 1024

    r = client.post("/webhook", content=chunks(), headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 413


def test_retries_and_ha_duplicates_are_stored_once(client: TestClient, metrics: Reader) -> None:
    body = notification(alert(), alert("0badc0de", name="DatabaseSlowQueries"))
    results = [client.post("/webhook/p1-high", json=body, headers=AUTH).json() for _ in range(3)]
    assert [r["duplicate"] for r in results] == [False, True, True]
    assert counts(client)["notifications"] == 1 and counts(client)["alert_events"] == 2
    assert metrics.value("alert_receiver.duplicates", receiver="p1-high", status="firing") == 2
    # a different group (e.g. re-grouped after a config change) with the same alert state: no new event
    other = {**body, "groupKey": "other"}
    assert client.post("/webhook/p1-high", json=other, headers=AUTH).json()["new_events"] == 0


def test_a_restored_start_time_is_the_same_firing(client: TestClient, metrics: Reader) -> None:
    """A Prometheus that restored the alert's `for` state sends its startsAt to the second (from
    ALERTS_FOR_STATE); its peer, the exact time. One firing: one event, the repeat a duplicate."""
    exact = {**alert(), "startsAt": "2026-11-27T01:00:00.123456789Z"}
    restored = {**alert(), "startsAt": "2026-11-27T01:00:00Z"}
    first = client.post("/webhook/p1-high", json=notification(exact), headers=AUTH).json()
    repeat = client.post("/webhook/p1-high", json=notification(restored), headers=AUTH).json()
    assert (first["new_events"], repeat["duplicate"], repeat["new_events"]) == (1, True, 0)
    assert [h["status"] for h in client.get("/alerts/a1b2c3d4", headers=AUTH).json()["history"]] == ["firing"]
    assert metrics.value("alert_receiver.duplicates", receiver="p1-high", status="firing") == 1
    # the next firing (a second later or more) is a new event
    again = {**alert(), "startsAt": "2026-11-27T01:00:01.5Z"}
    assert client.post("/webhook/p1-high", json=notification(again), headers=AUTH).json()["new_events"] == 1


def test_state_history(client: TestClient) -> None:
    client.post("/webhook", json=notification(alert()), headers=AUTH)
    client.post("/webhook", json=notification(alert(status="resolved")), headers=AUTH)
    found = client.get("/alerts/a1b2c3d4", headers=AUTH).json()
    assert found["status"] == "resolved"
    assert [h["status"] for h in found["history"]] == ["firing", "resolved"]
    assert client.get("/alerts/deadbeef", headers=AUTH).status_code == 404


def test_filters_and_pagination(client: TestClient) -> None:
    for i in range(5):
        a = alert(f"{i:08x}", name="AlertA" if i % 2 else "AlertB", severity=f"P{i % 4}")
        client.post("/webhook", json=notification(a), headers=AUTH)
    client.post(
        "/webhook", json=notification(alert("00000003", status="resolved", name="AlertA", severity="P3")), headers=AUTH
    )

    def names(**params: Any) -> list[str]:
        return [a["fingerprint"] for a in client.get("/alerts", params=params, headers=AUTH).json()["alerts"]]

    assert names() == ["00000003", "00000004", "00000002", "00000001", "00000000"]  # newest change first
    assert names(status="resolved") == ["00000003"]
    assert names(alertname="AlertB") == ["00000004", "00000002", "00000000"]
    assert names(severity="P1") == ["00000001"]
    assert names(limit=2, offset=1) == ["00000004", "00000002"]
    assert names(since=str(time.time() + 3600)) == []
    assert len(names(since="0")) == 5
    assert client.get("/alerts", params={"limit": 0}, headers=AUTH).status_code == 422


def test_retention_never_prunes_firing(tmp_path: Path) -> None:
    store = AlertStore(tmp_path / "r.db")
    for i, status in enumerate(["firing", "resolved", "resolved"]):
        n = NotificationModel.model_validate(notification(alert(f"{i:08x}", status=status)))
        store.store(n, "{}", schedule(()))
    removed = store.prune(max_age_s=3600, max_alerts=100, now=time.time() + 7200)
    assert removed == 2
    assert [a["fingerprint"] for a in store.list_alerts()] == ["00000000"]
    assert store.prune(max_age_s=3600, max_alerts=0, now=time.time() + 7200) == 0  # firing stays even over the cap
    store.close()


# -- fuzzing -------------------------------------------------------------------------------------------
def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**400)  # huge numbers
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.text(min_size=5000, max_size=6000),  # long strings
    _containers,
    max_leaves=20,
)


def mutated_payloads() -> st.SearchStrategy[Any]:
    base = notification()
    keys = list(base)
    return st.one_of(
        json_values,
        st.builds(lambda k, v: {**base, k: v}, st.sampled_from(keys), json_values),
        st.builds(lambda k: {x: y for x, y in base.items() if x != k}, st.sampled_from(keys)),
        st.builds(lambda k, v: {**base, "alerts": [{**alert(), k: v}]}, st.sampled_from(list(alert())), json_values),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payload=mutated_payloads(),
    content_type=st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", ""]),
    auth=st.sampled_from([AUTH, {}, {"Authorization": "Bearer x"}, {"Authorization": "Bearer"}]),
)
def test_fuzz_never_5xx_and_rejections_store_nothing(
    client: TestClient, payload: Any, content_type: str, auth: dict[str, str]
) -> None:
    before = counts(client)
    headers = {**auth, "Content-Type": content_type} if content_type else dict(auth)
    r = client.post("/webhook", content=json.dumps(payload).encode(), headers=headers)
    assert r.status_code < 500
    if r.status_code != 200:
        assert counts(client) == before


def _nested(depth: int, opener: bytes) -> bytes:
    closer = b"]" if opener == b"[" else b"}"
    inner = b'"a":' if opener == b"{" else b""
    return (
        (opener + inner) * depth + b"1" + closer * depth if opener == b"[" else (b'{"a":' * depth + b"1" + b"}" * depth)
    )


def _duplicate_keys(payload: dict[str, Any]) -> bytes:
    body = json.dumps(payload)
    return ('{"receiver": "shadow", ' + body[1:]).encode()  # the same key twice; the last one wins


raw_bodies = st.one_of(
    st.binary(max_size=2000),
    st.builds(_nested, st.integers(min_value=1, max_value=100_000), st.sampled_from([b"[", b"{"])),
    st.builds(lambda n: b"[" * n, st.integers(min_value=1, max_value=5000)),  # unbalanced
    st.builds(lambda digits: f'{{"version": "4", "truncatedAlerts": {"9" * digits}}}'.encode(), st.integers(1, 20_000)),
    st.just(b'{"version": "4", "truncatedAlerts": 1e999999}'),
    st.just(_duplicate_keys(notification())),
)


@pytest.mark.parametrize("depth", [100, 1_000, 100_000])
def test_deep_json_is_a_4xx_stored_nowhere_and_counted(tmp_path: Path, metrics: Reader, depth: int) -> None:
    # the production body limit (1 MiB): 100,000 levels of `[` fit in it
    with TestClient(create_app(ReceiverSettings(db_path=tmp_path / "r.db", token=TOKEN))) as client:
        for body in (b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth):
            r = client.post("/webhook", content=body, headers={**AUTH, "Content-Type": "application/json"})
            assert (r.status_code, r.json()["error"]) == (400, "too_deep"), r.text
            assert "32 levels" in r.json()["detail"]
        assert counts(client)["notifications"] == 0
    assert metrics.value("alert_receiver.rejections", reason="too_deep") == 2


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=raw_bodies)
def test_fuzz_raw_bytes(client: TestClient, raw: bytes) -> None:
    before = counts(client)
    r = client.post("/webhook", content=raw, headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code in (200, 400, 413, 422), r.text
    if r.status_code != 200:
        assert counts(client) == before


def test_a_full_database_fails_the_write_and_recovers_once_there_is_room(tmp_path: Path) -> None:
    """Issue 23: SQLITE_FULL (a full disk; here the database's page cap) fails the write with an
    error the app turns into a 503, leaves no transaction open, and the next write succeeds once
    there is room. The e2e test does the same with a real full filesystem."""
    import sqlite3

    store = AlertStore(tmp_path / "r.db")
    first = NotificationModel.model_validate(notification(alert("0000f1f1")))
    assert not store.store(first, json.dumps(notification(alert("0000f1f1"))), schedule(())).duplicate
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count={pages}")
    big = notification(*(alert(f"{i + 16:08x}", name=f"Alert{i}") for i in range(200)))
    with pytest.raises(sqlite3.OperationalError, match="full"):
        store.store(NotificationModel.model_validate(big), json.dumps(big) * 20, schedule(()))
    assert not store._db.in_transaction
    store._db.execute(f"PRAGMA max_page_count={pages * 1000}")
    result = store.store(NotificationModel.model_validate(big), json.dumps(big), schedule(()))
    assert not result.duplicate and len(result.new_events) == 200
    assert store.counts()["alerts"] == 201


def test_a_blocked_event_loop_dumps_every_thread_and_logs_how_late(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """The stall evidence of docs/reliability.md: written during the stall, by faulthandler's thread."""

    async def blocked_loop() -> None:
        task = asyncio.create_task(stall_watchdog(0.3, period_s=0.05))
        await asyncio.sleep(0.1)
        time.sleep(2.0)  # the fault under test: a handler that blocks the loop
        await asyncio.sleep(0.1)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    with caplog.at_level(logging.WARNING, logger="otel_ccmon.receiver"):
        asyncio.run(blocked_loop())
    err = capfd.readouterr().err
    assert "most recent call first" in err and "blocked_loop" in err, err
    assert any("event loop resumed" in r.getMessage() and "late" in r.getMessage() for r in caplog.records)


def test_a_slow_request_is_logged_with_its_method_and_path(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings_ = ReceiverSettings(db_path=tmp_path / "r.db", token=TOKEN, slow_request_s=0.0, stall_dump_s=None)
    with caplog.at_level(logging.WARNING, logger="otel_ccmon.receiver"), TestClient(create_app(settings_)) as c:
        assert c.get("/health").status_code == 200
    logged = [r.getMessage().split(" took ")[0] for r in caplog.records if r.name == "otel_ccmon.receiver"]
    assert logged == ["slow request: GET /health"]
