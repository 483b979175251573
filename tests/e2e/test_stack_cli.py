"""`ccmon stack` and `ccmon doctor` as a user runs them: port conflicts, two stacks, truthful
status, failures without tracebacks, and the doctor's findings with a fault injected per check."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from otel_ccmon.devstack.components import PORT_COMPONENT
from otel_ccmon.devstack.config import DEFAULT_PORTS, StackConfig
from otel_ccmon.devstack.ports import STACK_ENV
from otel_ccmon.devstack.procs import free_ports, pid_alive, wait_for
from otel_ccmon.devstack.stack import Stack, StackError
from tests.support import ROOT, venv_bin


def ccmon(
    *args: str | Path, env: Mapping[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [venv_bin("ccmon"), *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


def processes_of(workdir: Path) -> list[int]:
    """Pids of processes a stack with this workdir started (they carry it in their environment)."""
    marker = f"{STACK_ENV}={workdir}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker in (proc / "environ").read_bytes().split(b"\0") and pid_alive(int(proc.name)):
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def port_args(ports: Mapping[str, int]) -> list[str]:
    return [arg for key, port in ports.items() for arg in ("--port", f"{key}={port}")]


@dataclass
class Running:
    workdir: Path
    ports: dict[str, int]


@pytest.fixture(scope="module")
def stack_a(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A detached stack in fast-alert mode (its rules are a copy we may break)."""
    workdir = tmp_path_factory.mktemp("stack-a")
    ports = dict(zip(DEFAULT_PORTS, free_ports(len(DEFAULT_PORTS)), strict=True))
    up = ccmon("stack", "up", "--detach", "--fast-alerts", "--workdir", workdir, *port_args(ports))
    try:
        assert up.returncode == 0, up.stderr
        # the first `make run` ends with what runs where and the next three things to try (issue 34)
        assert f"demo app http://127.0.0.1:{ports['app']}/metrics" in up.stdout, up.stdout
        assert f"curl -X POST http://127.0.0.1:{ports['app']}/faults/slow_db" in up.stdout, up.stdout
        assert "ccmon doctor" in up.stdout and f"--token-file {workdir}" in up.stdout, up.stdout
        yield Running(workdir, ports)
    finally:
        ccmon("stack", "down", "--workdir", workdir)
        assert processes_of(workdir) == []


@pytest.mark.parametrize("key", list(DEFAULT_PORTS))
def test_an_occupied_port_fails_up_clearly_and_starts_nothing(tmp_path: Path, key: str) -> None:
    ports = dict(zip(DEFAULT_PORTS, free_ports(len(DEFAULT_PORTS)), strict=True))
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports[key]))
        squatter.listen()
        result = ccmon("stack", "up", "--detach", "--workdir", tmp_path, *port_args(ports))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{PORT_COMPONENT[key]} needs 127.0.0.1:{ports[key]} ({key}): in use by pid " in result.stderr
    assert f"--port {key}=" in result.stderr
    assert "pid " in result.stderr  # who holds it (this test process)
    assert processes_of(tmp_path) == []


def second_working_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    for folder in ("collector", "prometheus", "alertmanager", "grafana"):
        shutil.copytree(ROOT / folder, copy / folder)
    return copy


def test_a_second_stack_on_the_same_ports_fails_and_leaves_the_first_alone(stack_a: Running, tmp_path: Path) -> None:
    copy = second_working_copy(tmp_path)
    env = {"PATH": "/usr/bin:/bin", "CCMON_BIN_DIR": str(ROOT / ".cache" / "bin")}
    second = ccmon(
        "stack", "up", "--detach", "--repo", copy, "--workdir", copy / "var" / "stack", *port_args(stack_a.ports),
        env=env,
    )  # fmt: skip
    assert second.returncode == 1
    assert "Traceback" not in second.stderr
    assert "another otel-ccmon stack (pid" in second.stderr
    assert f"workdir {stack_a.workdir}" in second.stderr
    assert processes_of(copy / "var" / "stack") == []
    first = ccmon("stack", "status", "--workdir", stack_a.workdir)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "DEAD" not in first.stdout and "targets up:" in first.stdout
    mine = ccmon("stack", "status", "--repo", copy, env=env)
    assert (mine.returncode, "not running" in mine.stdout) == (3, True)


def test_status_of_a_stack_whose_prometheus_died_shows_no_foreign_figures(stack_a: Running, tmp_path: Path) -> None:
    # a stack whose Prometheus died while another stack's Prometheus answers on the same port
    dead = subprocess.Popen(["true"])
    dead.wait()
    (tmp_path / "state.json").write_text(
        json.dumps({"ports": stack_a.ports, "pids": {"prometheus": dead.pid}, "workdir": str(tmp_path)})
    )
    status = ccmon("stack", "status", "--workdir", tmp_path)
    assert status.returncode == 1
    assert "DEAD" in status.stdout
    assert "figures: not shown" in status.stdout
    assert "targets up" not in status.stdout and "points received" not in status.stdout


def test_status_piped_into_head_ends_quietly(stack_a: Running, tmp_path: Path) -> None:
    stderr = tmp_path / "stderr"
    piped = subprocess.run(
        ["bash", "-c", f"'{venv_bin('ccmon')}' stack status --workdir '{stack_a.workdir}' 2>'{stderr}' | head -1"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert piped.returncode == 0
    assert len(piped.stdout.splitlines()) == 1
    assert stderr.read_text() == ""


def test_a_component_dying_during_startup_fails_up_and_cleans_up(tmp_path: Path) -> None:
    config = StackConfig.with_free_ports(
        tmp_path,
        components=("sink", "collector", "prometheus"),
        collector_env={"CCMON_OTLP_HTTP_ENDPOINT": "127.0.0.1:not-a-port"},  # the collector exits at once
    )
    stack = Stack(config)
    with pytest.raises(StackError, match="collector exited during start-up") as failure:
        stack.up()
    assert "not-a-port" in str(failure.value)  # this run's log tail, with the collector's own error
    assert stack.procs == {}
    assert processes_of(tmp_path) == []


# -- ccmon doctor -------------------------------------------------------------------------------------------
def doctor(stack: Running, *extra: str | Path) -> subprocess.CompletedProcess[str]:
    return ccmon("doctor", "--workdir", stack.workdir, *extra, timeout=120)


def lines_with(output: str, status: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(status)]


def test_doctor_reports_a_healthy_stack(stack_a: Running) -> None:
    def healthy() -> subprocess.CompletedProcess[str] | None:
        result = doctor(stack_a)  # the first scrapes and exports take a few seconds
        return result if result.returncode == 0 and "OK    catalog names" in result.stdout else None

    result = wait_for(healthy, 90, "a healthy doctor report", interval=2)
    assert lines_with(result.stdout, "FAIL") == []
    for check in ("Prometheus reachable", "Alertmanager reachable", "OTel Collector reachable", "rules loaded",
                  "Prometheus → Alertmanager", "receiver token accepted", "scrape targets up"):  # fmt: skip
        assert f"OK    {check}" in result.stdout, result.stdout


def test_doctor_names_a_wrong_receiver_token(stack_a: Running, tmp_path: Path) -> None:
    wrong = tmp_path / "token"
    wrong.write_text("not-the-token\n")
    result = doctor(stack_a, "--receiver-token-file", wrong)
    assert result.returncode == 1
    assert "FAIL  receiver token accepted" in result.stdout
    assert "--token-file" in result.stdout  # the fix


def test_doctor_names_a_broken_rule_file(stack_a: Running) -> None:
    rules = stack_a.workdir / "rules-fast" / "alerts.yml"
    good = rules.read_text()
    reload_url = f"http://127.0.0.1:{stack_a.ports['prometheus']}/-/reload"
    try:
        rules.write_text(good + "\n  - this is: [not a rule\n")
        assert httpx.post(reload_url, timeout=30).status_code != 200
        result = doctor(stack_a)
        assert result.returncode == 1
        assert "FAIL  last config reload" in result.stdout
        assert "promtool check rules" in result.stdout
    finally:
        rules.write_text(good)
        assert httpx.post(reload_url, timeout=30).status_code == 200


def test_doctor_names_a_stopped_component(stack_a: Running) -> None:
    state = json.loads((stack_a.workdir / "state.json").read_text())
    pid = int(state["pids"]["alertmanager"])
    os.killpg(pid, signal.SIGKILL)
    wait_for(lambda: not pid_alive(pid), 10, "alertmanager gone")
    result = doctor(stack_a)
    assert result.returncode == 1
    assert "FAIL  Alertmanager reachable" in result.stdout
    assert "fix: start it" in result.stdout


def test_every_runbook_link_resolves_on_the_local_stack(stack_a: Running) -> None:
    """The default runbook base is the receiver's /runbooks/: every alert's link answers 200."""
    from mixin import alerts, config

    receiver = f"http://127.0.0.1:{stack_a.ports['receiver']}"
    base = config.RUNBOOK_BASE
    assert base.endswith("/runbooks")  # the default, served by the receiver (port moved in tests)
    with httpx.Client(timeout=10) as client:
        for alert in alerts.ALL_ALERTS:
            path = alert.annotations()["runbook_url"].removeprefix(base)
            response = client.get(f"{receiver}/runbooks{path}")
            assert response.status_code == 200, alert.name
            assert f"# {alert.name}" in response.text
        assert client.get(f"{receiver}/runbooks/..%2Fsecrets.md").status_code == 404
        index = client.get(f"{receiver}/runbooks/")  # the dashboards' "Runbooks" link
        assert index.status_code == 200 and 'href="ServiceDown.md"' in index.text
