"""The bootstrapped Prometheus, promtool, Alertmanager and amtool are the pinned release lines,
built from their Go modules with version information."""

from __future__ import annotations

import subprocess

import pytest

from otel_ccmon.devstack.repo import bin_dir
from tests.support import ROOT, pinned_versions


@pytest.mark.parametrize(
    ("binary", "key"),
    [
        ("prometheus", "PROMETHEUS_VERSION"),
        ("promtool", "PROMETHEUS_VERSION"),
        ("alertmanager", "ALERTMANAGER_VERSION"),
        ("amtool", "ALERTMANAGER_VERSION"),
    ],
)
def test_version_information_is_set(binary: str, key: str) -> None:
    result = subprocess.run(
        [str(bin_dir(ROOT) / binary), "--version"], capture_output=True, text=True, timeout=30, check=True
    )
    text = result.stdout + result.stderr
    assert f"version {pinned_versions()[key]}" in text, text
    assert "go1." in text  # buildinfo: the Go version is reported too
