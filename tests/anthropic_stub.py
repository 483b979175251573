"""The Anthropic Messages API stub, for the tests (it lives in the package: the local stack runs it too)."""

from __future__ import annotations

from otel_ccmon.devstack.anthropic_stub import MARKER, Served, Stub, Turn, Usage, serve, serving

__all__ = ["MARKER", "Served", "Stub", "Turn", "Usage", "serve", "serving"]
