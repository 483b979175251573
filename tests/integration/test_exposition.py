"""The /metrics exposition checked by the real promtool (``promtool check metrics``)."""

from __future__ import annotations

import otel_ccmon as ccmon
from otel_ccmon import _core


def test_two_instrumented_apps_share_one_http_family() -> None:
    """A second app in the same process adds to the same series; /metrics stays valid."""
    import subprocess

    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from otel_ccmon.devstack.repo import bin_dir
    from tests.support import parse_prometheus

    _core.reset_for_tests()
    try:
        monitor = ccmon.initialize_metrics(exporters=("prometheus",), runtime_metrics=False)
        apps = []
        for _ in range(2):
            app = FastAPI()

            @app.get("/items/{item_id}")
            def item(item_id: int) -> int:
                return item_id

            ccmon.instrument_app(app)
            apps.append(app)
        for app in apps:
            TestClient(app).get("/items/7")
        text = monitor.render_prometheus().decode()
    finally:
        _core.reset_for_tests()
    assert text.count("# TYPE http_server_request_duration_seconds histogram") == 1
    counts = [v for n, labels, v in parse_prometheus(text) if n == "http_server_request_duration_seconds_count"]
    assert counts == [2.0]
    check = subprocess.run(
        [str(bin_dir() / "promtool"), "check", "metrics"], input=text, capture_output=True, text=True
    )
    assert "duplicate" not in check.stdout + check.stderr.lower()
    assert "second TYPE" not in check.stdout + check.stderr
