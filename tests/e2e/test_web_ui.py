"""The local stack serves Prometheus's and Alertmanager's web UIs (built from the modules' sources
by scripts/bootstrap.sh): the page and the assets it loads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.stack import Stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    st = Stack(
        StackConfig.with_free_ports(
            Path(tmp_path_factory.mktemp("ui")), components=("sink", "prometheus", "alertmanager", "receiver")
        )
    )
    try:
        st.up()
        yield st
    finally:
        st.down()


def page_and_assets(base: str, path: str) -> tuple[str, list[int]]:
    with httpx.Client(base_url=base, follow_redirects=True, timeout=10) as client:
        page = client.get(path)
        assert page.status_code == 200, (path, page.status_code)
        page_url = str(page.url)
        assets = re.findall(r'(?:src|href)="(\./assets/[^"]+)"', page.text)
        assert assets, page.text[:500]
        statuses = [client.get(httpx.URL(page_url).join(a)).status_code for a in assets]
    return page.text, statuses


def test_prometheus_ui(stack: Stack) -> None:
    text, statuses = page_and_assets(stack.config.url("prometheus"), "/")
    assert "<title>Prometheus" in text or "Prometheus" in text[:2000]
    assert statuses and set(statuses) == {200}


def test_alertmanager_ui(stack: Stack) -> None:
    # "/" forwards to the new UI (the classic Elm UI cannot be built here: its compiler comes from GitHub)
    root = httpx.get(stack.config.url("alertmanager", "/"), headers={"accept-encoding": "identity"})
    assert root.status_code == 200 and "./ui/" in root.text
    text, statuses = page_and_assets(stack.config.url("alertmanager"), "/ui/")
    assert "Alertmanager" in text
    assert statuses and set(statuses) == {200}
