"""Every alert of the mixin, in the order of the generated rule file."""

from __future__ import annotations

from collections.abc import Mapping

from mixin.alerts_agents import AGENT_ALERTS
from mixin.alerts_application import ALERTS
from mixin.alerts_apps import APP_ALERTS
from mixin.alerts_claude_code import CLAUDE_CODE_ALERTS
from mixin.alerts_pipeline import PIPELINE
from mixin.alerts_thanos import THANOS_ALERTS
from mixin.model import Alert
from mixin.slos import SLO_ALERTS

ALL_ALERTS: tuple[Alert, ...] = (
    ALERTS + PIPELINE + SLO_ALERTS + CLAUDE_CODE_ALERTS + AGENT_ALERTS + THANOS_ALERTS + APP_ALERTS
)
BY_NAME: Mapping[str, Alert] = {a.name: a for a in ALL_ALERTS}
