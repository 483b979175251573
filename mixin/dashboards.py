"""The generated Grafana dashboards, one module each over the panel module (``mixin.panels``):
the overview (``mixin.dashboard_overview``), Claude Code's (``mixin.dashboard_claude_code``) and every
coding agent's (``mixin.dashboard_agents``), and the applications' own (``mixin.dashboard_apps``).

``python -m mixin dashboards`` (``make dashboards``) writes every board's JSON; a test regenerates
them and fails on any difference.
"""

from __future__ import annotations

from mixin.dashboard_agents import AGENTS
from mixin.dashboard_apps import APP_BOARDS
from mixin.dashboard_claude_code import CLAUDE_CODE
from mixin.dashboard_overview import OVERVIEW
from mixin.panels import Board

STACK_BOARDS: tuple[Board, ...] = (OVERVIEW, CLAUDE_CODE, AGENTS)
"""The dashboards of what the local stack runs (the demo, Claude Code, the coding agents)."""
BOARDS: tuple[Board, ...] = STACK_BOARDS + APP_BOARDS
"""Every generated dashboard, in the order they are written: the stack's, and the Applications board
of the catalogs in mixin/settings.yml (mixin.dashboard_apps)."""
