"""Test helpers: the package's process helpers, a manager that stops what a test started, parsing."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from otel_ccmon.devstack.procs import Proc, free_port, http_ok, wait_for
from otel_ccmon.devstack.repo import find_repo

__all__ = [
    "ROOT",
    "Proc",
    "Procs",
    "families",
    "free_port",
    "http_ok",
    "parse_prometheus",
    "pinned_versions",
    "venv_bin",
    "wait_for",
    "wait_for_text",
]

ROOT = find_repo(Path(__file__).resolve().parent.parent)
"""The checkout under test (the tests live in it)."""


class Procs:
    """Stops every process it started, in reverse order."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[Proc] = []

    def start(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> Proc:
        proc = Proc(name, argv, self.log_dir / f"{name}.log", env).start()
        self.started.append(proc)
        return proc

    def close(self) -> None:
        for proc in reversed(self.started):
            proc.stop()


def pinned_versions() -> dict[str, str]:
    """``scripts/versions.env``: the pinned versions of every external component."""
    lines = (ROOT / "scripts" / "versions.env").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


def wait_for_text(url: str, needle: str, timeout: float, what: str) -> str:
    """GET ``url`` until its body contains ``needle``; the body (``TimeoutError`` at the deadline)."""
    import httpx

    def check() -> str | None:
        text = httpx.get(url).text
        return text if needle in text else None

    return wait_for(check, timeout, what)


def venv_bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def parse_prometheus(text: str) -> Iterator[tuple[str, dict[str, str], float]]:
    """Samples of a text exposition (uses prometheus_client's parser)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            yield sample.name, dict(sample.labels), float(sample.value)


def families(text: str) -> dict[str, str]:
    """Metric family name -> type, from a text exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    out = {}
    for family in text_string_to_metric_families(text):
        name = family.name + "_total" if family.type == "counter" else family.name
        out[name] = family.type
    return out
