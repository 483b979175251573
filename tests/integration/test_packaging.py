"""The wheel outside the checkout: a core install is light, extras add the services, errors name the extra."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from otel_ccmon._meta import VERSION
from otel_ccmon.devstack.repo import MARKERS
from tests.support import ROOT, Procs, free_port, http_ok, wait_for

WEB_AND_CLI = ("fastapi", "starlette", "pydantic", "httpx", "rich", "uvicorn", "yaml")
RECORD = """
import json, sys
import otel_ccmon
monitor = otel_ccmon.initialize_metrics(otel_ccmon.Settings(exporters=("prometheus",), runtime_metrics=False))
otel_ccmon.record_neural_operation("learning", count=3)
text = monitor.render_prometheus().decode()
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:]))
print(json.dumps({"heavy": heavy, "line": [l for l in text.splitlines() if l.startswith("neural_operations_total")]}))
"""


def run(
    *argv: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, timeout=600, cwd=cwd, env=env, check=False
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # sdist first, then the wheel from the sdist: nothing is built inside the checkout
    built = run(sys.executable, "-m", "build", "--outdir", out, ROOT)
    assert built.returncode == 0, built.stderr[-3000:]
    assert "deprecated" not in built.stderr.lower(), built.stderr[-3000:]  # e.g. the license-table warning
    (path,) = out.glob("otel_ccmon-*.whl")
    return path


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Iterator[Path]:
    """A fresh virtualenv outside the checkout with only the core installed."""
    env_dir = tmp_path_factory.mktemp("venv") / "v"
    assert run(sys.executable, "-m", "venv", env_dir).returncode == 0
    installed = run(env_dir / "bin" / "pip", "install", "-q", wheel)
    assert installed.returncode == 0, installed.stderr[-3000:]
    yield env_dir
    shutil.rmtree(env_dir, ignore_errors=True)


def outside(tmp_path: Path) -> dict[str, str]:
    """An environment that cannot see the checkout: no PYTHONPATH, no CCMON_REPO."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CCMON_REPO", "CCMON_BIN_DIR")}
    env["HOME"] = str(tmp_path)
    return env


def test_core_install_is_light_and_records(venv: Path, tmp_path: Path) -> None:
    listed = run(venv / "bin" / "pip", "list", "--format=json")
    names = {p["name"].lower().replace("_", "-") for p in json.loads(listed.stdout)}
    assert not names & {"fastapi", "starlette", "pydantic", "httpx", "rich", "uvicorn", "pyyaml"}, names
    assert {"opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http", "prometheus-client"} <= names
    result = run(venv / "bin" / "python", "-c", RECORD, *WEB_AND_CLI, cwd=tmp_path, env=outside(tmp_path))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["heavy"] == []
    scope = f'otel_scope_name="otel_ccmon",otel_scope_schema_url="",otel_scope_version="{VERSION}"'
    assert report["line"] == [f'neural_operations_total{{operation_type="learning",{scope}}} 3.0']


def test_missing_extra_is_named(venv: Path, tmp_path: Path) -> None:
    for argv, extra in (
        (["demo"], "demo"),
        (["webhook", "--insecure-no-auth"], "receiver"),
        (["stack", "status"], "cli"),
    ):
        result = run(venv / "bin" / "ccmon", *argv, cwd=tmp_path, env=outside(tmp_path))
        assert result.returncode == 2, (argv, result.stdout, result.stderr)
        assert f"pip install 'otel-ccmon[{extra}]'" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    fastapi_app = "import otel_ccmon.fastapi as f; f.instrument_app(object(), otel_instrumentation=True)"
    result = run(venv / "bin" / "python", "-c", fastapi_app, cwd=tmp_path, env=outside(tmp_path))
    assert "pip install 'otel-ccmon[fastapi]'" in result.stderr


def test_services_run_from_the_installed_package_with_extras(
    venv: Path, wheel: Path, tmp_path: Path, procs: Procs
) -> None:
    installed = run(venv / "bin" / "pip", "install", "-q", f"{wheel}[receiver,demo,cli]")
    assert installed.returncode == 0, installed.stderr[-3000:]
    env = outside(tmp_path)
    demo_port, receiver_port = free_port(), free_port()
    procs.start("demo", [str(venv / "bin" / "ccmon"), "demo", "--port", str(demo_port), "--tick", "0"], env)
    token = tmp_path / "token"
    token.write_text("t0ken\n")
    procs.start(
        "webhook",
        [str(venv / "bin" / "ccmon"), "webhook", "--port", str(receiver_port), "--db", str(tmp_path / "r.db"),
         "--token-file", str(token)],
        env,
    )  # fmt: skip
    wait_for(lambda: http_ok(f"http://127.0.0.1:{demo_port}/metrics"), 60, "installed demo app")
    wait_for(lambda: http_ok(f"http://127.0.0.1:{receiver_port}/health"), 60, "installed receiver")
    # the local stack's tooling finds a checkout only where it is told or where it runs
    lost = run(venv / "bin" / "ccmon", "stack", "status", cwd=tmp_path, env=env)
    assert lost.returncode != 0
    assert "no otel-ccmon checkout" in lost.stderr
    told = run(venv / "bin" / "ccmon", "stack", "status", "--repo", ROOT, "--workdir", tmp_path / "w", env=env)
    assert "ccmon stack: not running" in told.stdout, told.stderr


def test_generators_write_into_the_named_repository(tmp_path: Path) -> None:
    target = tmp_path / "checkout"
    for marker in MARKERS:
        (target / marker).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / marker, target / marker)
    result = run(sys.executable, "-m", "mixin", "rules", "--repo", target, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    for generated in (
        "prometheus/rules/alerts.yml",
        "prometheus/tests/alerts_test.yml",
        "docs/runbooks/ServiceDown.md",
    ):
        assert (target / generated).read_text() == (ROOT / generated).read_text(), generated
