"""The alert receiver: models, auth, bad input, idempotency, hooks, retention, fuzzing, durability."""

from __future__ import annotations

import concurrent.futures
import json
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otel_ccmon import _catalog as cat
from otel_ccmon._procs import Proc, free_port, http_ok, wait_for
from otel_ccmon._receiver import (
    AlertStore,
    Hook,
    NotificationModel,
    ReceiverSettings,
    create_app,
    dedup_key,
)
from tests.conftest import Reader
from tests.support import families, venv_bin

TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def alert(fp: str = "a1b2c3d4", status: str = "firing", name: str = "CacheHitRateLow", **labels: str) -> dict[str, Any]:
    starts = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    return {
        "status": status,
        "labels": {"alertname": name, "severity": "P1", "service": "claude-code-app", **labels},
        "annotations": {"summary": f"{name} summary", "description": "d", "runbook_url": "docs/runbooks/x.md"},
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(minutes=5)).isoformat() if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": fp,
    }


def notification(*alerts: dict[str, Any], receiver: str = "p1-high", status: str | None = None) -> dict[str, Any]:
    alerts = alerts or (alert(),)
    return {
        "version": "4",
        "groupKey": '{}/{severity="P1"}:{alertname="CacheHitRateLow"}',
        "truncatedAlerts": 0,
        "status": status or ("firing" if any(a["status"] == "firing" for a in alerts) else "resolved"),
        "receiver": receiver,
        "groupLabels": {"alertname": alerts[0]["labels"]["alertname"]},
        "commonLabels": alerts[0]["labels"],
        "commonAnnotations": alerts[0]["annotations"],
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


@pytest.fixture
def client(tmp_path: Path, metrics: Reader) -> Iterator[TestClient]:
    del metrics  # the in-memory metrics of the receiver, reset around each test
    app = create_app(ReceiverSettings(db_path=tmp_path / "r.db", token=TOKEN, max_body_bytes=64 * 1024))
    with TestClient(app) as c:
        yield c


def counts(client: TestClient) -> dict[str, int]:
    body: dict[str, int] = client.get("/health").json()
    return body


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
    assert listed[0]["labels"]["service"] == "claude-code-app"
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
    assert metrics.value("alert_receiver.duplicates") == 2
    # a different group (e.g. re-grouped after a config change) with the same alert state: no new event
    other = {**body, "groupKey": "other"}
    assert client.post("/webhook/p1-high", json=other, headers=AUTH).json()["new_events"] == 0


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
        store.store(n, "{}", ())
    removed = store.prune(max_age_s=3600, max_alerts=100, now=time.time() + 7200)
    assert removed == 2
    assert [a["fingerprint"] for a in store.list_alerts()] == ["00000000"]
    assert store.prune(max_age_s=3600, max_alerts=0, now=time.time() + 7200) == 0  # firing stays even over the cap
    store.close()


# -- hooks -------------------------------------------------------------------------------------------
def hook_app(tmp_path: Path, *hooks: Hook) -> TestClient:
    return TestClient(create_app(ReceiverSettings(db_path=tmp_path / "r.db", token=TOKEN, hooks=hooks)))


def wait_hook(client: TestClient, fp: str, timeout: float = 20) -> list[dict[str, Any]]:
    def done() -> list[dict[str, Any]] | None:
        runs: list[dict[str, Any]] = client.get(f"/alerts/{fp}", headers=AUTH).json()["hook_runs"]
        return runs if runs and all(r["outcome"] != "pending" for r in runs) else None

    return wait_for(done, timeout, "hook outcome")


def test_hooks_success_failure_and_timeout(tmp_path: Path, metrics: Reader) -> None:
    out = tmp_path / "rollback.json"
    script = f"import json,sys; a=json.load(sys.stdin); open({str(out)!r},'w').write(a['labels']['alertname'])"
    hooks = (
        Hook(
            "auto-rollback",
            {"alertname": "TruthScoreCriticallyLow", "status": "firing"},
            (sys.executable, "-c", script),
        ),
        Hook("broken", {"alertname": "TruthScoreCriticallyLow"}, (sys.executable, "-c", "raise SystemExit(3)")),
        Hook(
            "hangs",
            {"alertname": "TruthScoreCriticallyLow"},
            (sys.executable, "-c", "import time; time.sleep(60)"),
            1.0,
        ),
        Hook("not-matching", {"alertname": "Other"}, ("true",)),
    )
    with hook_app(tmp_path, *hooks) as client:
        started = time.monotonic()
        r = client.post("/webhook", json=notification(alert(name="TruthScoreCriticallyLow")), headers=AUTH)
        assert r.status_code == 200
        assert time.monotonic() - started < 1.0  # the hanging hook does not hold the response
        runs = {r["hook"]: r for r in wait_hook(client, "a1b2c3d4")}
    assert set(runs) == {"auto-rollback", "broken", "hangs"}
    assert runs["auto-rollback"]["outcome"] == "ok" and out.read_text() == "TruthScoreCriticallyLow"
    assert (runs["broken"]["outcome"], runs["broken"]["exit_code"]) == ("failed", 3)
    assert runs["hangs"]["outcome"] == "timeout"
    assert metrics.value("alert_receiver.hook.runs", hook="hangs", outcome="timeout") == 1


def test_entry_point_hook(tmp_path: Path) -> None:
    from otel_ccmon._receiver import load_hooks

    cfg = tmp_path / "hooks.yml"
    cfg.write_text("hooks:\n  - name: ep\n    match: {status: firing}\n    entry_point: json:dumps\n")
    with hook_app(tmp_path, *load_hooks(cfg)) as client:
        client.post("/webhook", json=notification(), headers=AUTH)
        (run,) = wait_hook(client, "a1b2c3d4")
    assert run["outcome"] == "ok" and "CacheHitRateLow" in run["output"]


def test_pending_hook_runs_resume_after_restart(tmp_path: Path) -> None:
    store = AlertStore(tmp_path / "r.db")
    hook = Hook("h", {}, (sys.executable, "-c", "pass"))
    store.store(NotificationModel.model_validate(notification()), "{}", (hook,))  # then "crash": no runner
    store.close()
    with hook_app(tmp_path, hook) as client:
        (run,) = wait_hook(client, "a1b2c3d4")
    assert run["outcome"] == "ok"


# -- fuzzing -------------------------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
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


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=2000))
def test_fuzz_raw_bytes(client: TestClient, raw: bytes) -> None:
    before = counts(client)
    r = client.post("/webhook", content=raw, headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code in (200, 400, 422)
    if r.status_code != 200:
        assert counts(client) == before


# -- concurrency and durability against a real receiver process -------------------------------------------
def start_receiver(tmp_path: Path, port: int, *extra: str) -> Proc:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    proc = Proc(
        f"receiver-{port}",
        [
            venv_bin("ccmon"),
            "webhook",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "r.db"),
            "--token-file",
            str(token_file),
            *extra,
        ],
        tmp_path / "receiver.log",
        {"OTEL_METRICS_EXPORTER": "prometheus"},
    ).start()
    wait_for(lambda: http_ok(f"http://127.0.0.1:{port}/health"), 30, "receiver")
    return proc


def test_concurrent_posts_each_stored_once(tmp_path: Path) -> None:
    port = free_port()
    hooks = tmp_path / "hooks.yml"
    hooks.write_text("hooks: [{name: noop, match: {alertname: CacheHitRateLow}, command: [true]}]\n")
    proc = start_receiver(tmp_path, port, "--hooks", str(hooks))
    try:
        url = f"http://127.0.0.1:{port}/webhook/p1-high"
        bodies = [notification(alert(f"{i:08x}")) for i in range(40)] * 3  # each sent three times

        client = httpx.Client(timeout=30)  # shared across threads: pooled connections

        def post(body: dict[str, Any]) -> int:
            return client.post(url, json=body, headers=AUTH).status_code

        with client, concurrent.futures.ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(post, bodies))
        assert statuses == [200] * len(bodies)
        health = httpx.get(f"http://127.0.0.1:{port}/health").json()
        assert (health["notifications"], health["alerts"], health["alert_events"]) == (40, 40, 40)
        assert httpx.post(url, content=b"{", headers={**AUTH, "Content-Type": "application/json"}).status_code == 400
        # contract: every receiver metric of the catalog, with its type and allowlisted labels
        fams = families(wait_for(lambda: (t := httpx.get(f"http://127.0.0.1:{port}/metrics").text)
                                 and "alert_receiver_hook_runs_total" in t and t, 20, "hook metric"))  # fmt: skip
        for spec in cat.CATALOG:
            if spec.source is cat.Source.RECEIVER:
                assert fams.get(spec.prom_name) == spec.kind.value, spec.prom_name
    finally:
        proc.stop()


def test_sigkill_during_burst_loses_no_acknowledged_notification(tmp_path: Path) -> None:
    port = free_port()
    proc = start_receiver(tmp_path, port)
    url = f"http://127.0.0.1:{port}/webhook"
    acknowledged: list[str] = []
    client = httpx.Client(timeout=10)  # shared: thread-safe, pooled (a client per call costs ~15 ms)

    def post(i: int) -> None:
        fp = f"{i:08x}"
        try:
            r = client.post(url, json=notification(alert(fp)), headers=AUTH)
        except httpx.HTTPError:
            return  # not acknowledged: may or may not be stored
        if r.status_code == 200:
            acknowledged.append(fp)

    burst = 3000  # large enough that the kill always lands in the middle of it
    with client, concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(post, i) for i in range(burst)]
        wait_for(lambda: len(acknowledged) >= 50, 30, "some acknowledged notifications", interval=0.01)
        proc.kill9()
        concurrent.futures.wait(futures)
    print(f"[receiver] acknowledged before SIGKILL: {len(acknowledged)} of {burst}")
    assert 50 <= len(acknowledged) < burst
    proc = start_receiver(tmp_path, port)
    try:
        for fp in acknowledged:
            r = httpx.get(f"http://127.0.0.1:{port}/alerts/{fp}", headers=AUTH)
            assert r.status_code == 200, fp
            assert [h["status"] for h in r.json()["history"]] == ["firing"]
    finally:
        proc.stop()


def test_cli_refuses_to_start_without_token(tmp_path: Path) -> None:
    import subprocess

    base = [venv_bin("ccmon"), "webhook", "--db", str(tmp_path / "r.db"), "--port", str(free_port())]
    r = subprocess.run(base, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "a token is required" in r.stderr
    r = subprocess.run([*base, "--insecure-no-auth", "--host", "0.0.0.0"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "only binds to loopback" in r.stderr
    empty = tmp_path / "empty"
    empty.write_text("\n")
    r = subprocess.run([*base, "--token-file", str(empty)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "is empty" in r.stderr


@pytest.mark.e2e
def test_real_alertmanager_to_receiver_survives_sigkill(tmp_path: Path) -> None:
    from otel_ccmon._stack import Stack, StackConfig

    stack = Stack(
        StackConfig.with_free_ports(
            tmp_path,
            components=("sink", "alertmanager", "receiver"),
            alertmanager_timing={"group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
        )
    )
    stack.up()
    try:
        am = stack.config.url("alertmanager", "/api/v2/alerts")
        labels = {
            "alertname": "GOAPPlanningSlowdown",
            "severity": "P2",
            "service": "claude-code-app",
            "component": "goap",
        }
        starts = datetime.now(UTC)
        body = [{"labels": labels, "annotations": {"summary": "slow plans"}, "startsAt": starts.isoformat()}]
        assert httpx.post(am, json=body).status_code == 200
        headers = {"Authorization": f"Bearer {stack.receiver_token()}"}
        receiver = stack.config.url("receiver")

        def listed(status: str) -> list[dict[str, Any]] | None:
            params = {"alertname": "GOAPPlanningSlowdown", "status": status}
            alerts: list[dict[str, Any]] = httpx.get(f"{receiver}/alerts", params=params, headers=headers).json()[
                "alerts"
            ]
            return alerts or None

        (firing,) = wait_for(lambda: listed("firing"), 30, "firing alert at the receiver")
        assert firing["receiver"] == "p2-medium" and firing["labels"] == labels

        body[0]["endsAt"] = datetime.now(UTC).isoformat()
        assert httpx.post(am, json=body).status_code == 200
        (resolved,) = wait_for(lambda: listed("resolved"), 30, "resolved alert at the receiver")
        fp = resolved["fingerprint"]

        stack.kill9("receiver")
        stack.start("receiver")
        found = httpx.get(f"{receiver}/alerts/{fp}", headers=headers).json()
        assert [h["status"] for h in found["history"]] == ["firing", "resolved"]
        everything = httpx.get(f"{receiver}/alerts", headers=headers).json()["alerts"]
        assert [a["alertname"] for a in everything] == ["GOAPPlanningSlowdown"]  # once
        # the Slack stand-in got the same notification through the slack_api_url_file secret
        sink = [json.loads(line) for line in (stack.workdir / "sink.jsonl").read_text().splitlines()]
        assert any(s["channel"] == "slack" and "GOAPPlanningSlowdown" in json.dumps(s["body"]) for s in sink)
    finally:
        stack.down()
