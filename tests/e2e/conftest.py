"""Fixtures shared by the end-to-end tests of the real Claude Code CLI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.anthropic_stub import Stub, serve
from tests.e2e.test_claude_code_cli import SCENARIOS


@pytest.fixture
def stub() -> Iterator[tuple[Stub, str]]:
    """The Messages API stub answering the CLI's scenarios, and its base URL."""
    s = Stub(SCENARIOS)
    server, url = serve(s)
    try:
        yield s, url
    finally:
        server.shutdown()
        server.server_close()
