"""Unit tests start no process: a subprocess here fails the test (the layer's contract)."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def no_subprocess(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **_kwargs: Any) -> None:
        raise AssertionError(f"a unit test started a process {args[:1]}: move it to tests/integration")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
