"""Claude Code as a source: settings that point it at the collector, a simulator, spend reports.

>>> from otel_ccmon.claude_code import env_settings
>>> env_settings("http://127.0.0.1:4318")["CLAUDE_CODE_ENABLE_TELEMETRY"]
'1'
"""

from __future__ import annotations

from otel_ccmon.claude_code._completeness import Completeness
from otel_ccmon.claude_code._env import env_settings, managed_settings, shell_exports
from otel_ccmon.claude_code._simulator import (
    CLIENT_VERSION,
    PRICES,
    Client,
    Identity,
    Include,
    Ledger,
    Team,
    TeamPlan,
    cost_usd,
)

__all__ = [
    "CLIENT_VERSION",
    "PRICES",
    "Client",
    "Completeness",
    "Identity",
    "Include",
    "Ledger",
    "Team",
    "TeamPlan",
    "cost_usd",
    "env_settings",
    "managed_settings",
    "shell_exports",
]
