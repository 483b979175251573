"""The alert receiver with real processes: hooks, concurrent posts, SIGKILL durability, the CLI."""

from __future__ import annotations

import concurrent.futures
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from otel_ccmon import _catalog as cat
from otel_ccmon.devstack.procs import free_port, wait_for
from otel_ccmon.receiver.hooks import Hook, schedule
from otel_ccmon.receiver.models import NotificationModel
from otel_ccmon.receiver.store import AlertStore
from tests.conftest import Reader
from tests.receiver_support import AUTH, alert, hook_app, notification, start_receiver, wait_hook
from tests.support import families, venv_bin, wait_for_text


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
    from otel_ccmon.receiver.hooks import load_hooks

    cfg = tmp_path / "hooks.yml"
    cfg.write_text("hooks:\n  - name: ep\n    match: {status: firing}\n    entry_point: json:dumps\n")
    with hook_app(tmp_path, *load_hooks(cfg)) as client:
        client.post("/webhook", json=notification(), headers=AUTH)
        (run,) = wait_hook(client, "a1b2c3d4")
    assert run["outcome"] == "ok" and "CacheHitRateLow" in run["output"]


def test_pending_hook_runs_resume_after_restart(tmp_path: Path) -> None:
    store = AlertStore(tmp_path / "r.db")
    hook = Hook("h", {}, (sys.executable, "-c", "pass"))
    store.store(NotificationModel.model_validate(notification()), "{}", schedule((hook,)))  # then "crash"
    store.close()
    with hook_app(tmp_path, hook) as client:
        (run,) = wait_hook(client, "a1b2c3d4")
    assert run["outcome"] == "ok"


def test_a_resumed_hook_reads_the_same_stdin_as_a_fresh_run(tmp_path: Path) -> None:
    """Issue 31: a run resumed after a crash got other JSON than a fresh run (no generatorURL, the
    alert's latest labels instead of the event's, extra keys). Both now read the bytes stored with
    the run when it was scheduled; here the alert's labels change after the crash, too."""

    def copy_stdin(to: Path) -> Hook:
        script = f"import sys; open({str(to)!r}, 'wb').write(sys.stdin.buffer.read())"
        return Hook("copy", {"status": "firing"}, (sys.executable, "-c", script))

    fresh, resumed = tmp_path / "fresh.json", tmp_path / "resumed.json"
    body = notification(alert(name="TruthScoreCriticallyLow"))
    with hook_app(tmp_path / "a", copy_stdin(fresh)) as client:
        assert client.post("/webhook", json=body, headers=AUTH).status_code == 200
        wait_hook(client, "a1b2c3d4")
    (tmp_path / "b").mkdir()
    store = AlertStore(tmp_path / "b" / "r.db")
    scheduled = schedule((copy_stdin(resumed),))
    store.store(NotificationModel.model_validate(body), "{}", scheduled)  # scheduled, then the "crash"
    later = notification(alert(name="TruthScoreCriticallyLow", status="resolved", extra="a label added later"))
    store.store(NotificationModel.model_validate(later), "{}", lambda _alert: [])  # the alert changes
    store.close()
    with hook_app(tmp_path / "b", copy_stdin(resumed)) as client:
        runs = wait_hook(client, "a1b2c3d4")
    assert [r["outcome"] for r in runs] == ["ok"]
    assert resumed.read_bytes() == fresh.read_bytes(), (fresh.read_text(), resumed.read_text())
    assert json.loads(fresh.read_bytes())["generatorURL"]


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
        fams = families(
            wait_for_text(f"http://127.0.0.1:{port}/metrics", "alert_receiver_hook_runs_total", 20, "hook metric")
        )
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
