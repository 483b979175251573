"""Fixtures shared by the end-to-end tests of Claude Code (the real CLI and the simulator)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.procs import wait_for
from otel_ccmon.devstack.stack import Stack
from tests.anthropic_stub import Stub, serve, serving
from tests.e2e.test_claude_code_cli import SCENARIOS

FAST: dict[str, Any] = {"scrape_interval": "1s", "evaluation_interval": "1s", "components": ("collector", "prometheus")}


@pytest.fixture
def make_stack(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """Starts collector + Prometheus stacks (1 s scrape; keyword arguments override), stops them all."""
    stacks: list[Stack] = []

    def make(**kwargs: Any) -> Stack:
        stack = Stack(StackConfig.with_free_ports(tmp_path / f"stack{len(stacks)}", **{**FAST, **kwargs}))
        stacks.append(stack)
        stack.up()
        # clients start once Prometheus scrapes the collector, as in production: a stream's zero
        # (shown for first_value_delay) is then always scraped before its value
        wait_for(lambda: stack.prom_query('up{job="otel-collector"} == 1'), 30, "Prometheus scraping the collector")
        return stack

    try:
        yield make
    finally:
        for stack in stacks:
            stack.down()


@pytest.fixture
def stub() -> Iterator[tuple[Stub, str]]:
    """The Messages API stub answering the CLI's scenarios, and its base URL."""
    s = Stub(SCENARIOS)
    with serving(serve(s)) as url:
        yield s, url
