"""Every coding agent beside Claude Code (issue 32): the settings that point each at the collector."""

from __future__ import annotations

from otel_ccmon.agents._env import AgentSetup, agent_setup, claude_agent_env

__all__ = ["AgentSetup", "agent_setup", "claude_agent_env"]
