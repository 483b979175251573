"""Payload models of Alertmanager's webhook (version 4) and the content key of a notification."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from otel_ccmon._extras import require

require("the alert receiver", "receiver", "pydantic")

from pydantic import BaseModel, ConfigDict, Field

LabelMap = dict[str, str]


class AlertModel(BaseModel):
    """One alert of a notification."""

    model_config = ConfigDict(extra="ignore")

    status: Literal["firing", "resolved"]
    labels: LabelMap = Field(max_length=200)
    annotations: LabelMap = Field(default_factory=dict, max_length=200)
    startsAt: datetime
    endsAt: datetime | None = None
    generatorURL: str = Field(default="", max_length=4096)
    fingerprint: str = Field(min_length=1, max_length=64, pattern=r"^[0-9a-fA-F]+$")


class NotificationModel(BaseModel):
    """An Alertmanager webhook notification."""

    model_config = ConfigDict(extra="ignore")

    version: Literal["4"]
    groupKey: str = Field(max_length=4096)
    truncatedAlerts: int = Field(default=0, ge=0)
    status: Literal["firing", "resolved"]
    receiver: str = Field(min_length=1, max_length=256)
    groupLabels: LabelMap = Field(default_factory=dict)
    commonLabels: LabelMap = Field(default_factory=dict)
    commonAnnotations: LabelMap = Field(default_factory=dict)
    externalURL: str = Field(default="", max_length=4096)
    alerts: list[AlertModel] = Field(min_length=1, max_length=5000)


def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat()


def second_precision(dt: datetime | None) -> str | None:
    """ISO time to the whole second: the key of an alert state. Prometheus restores an alert's
    ``for`` state from ``ALERTS_FOR_STATE`` at second precision, so after a restart a replica sends
    the same firing with its startsAt truncated, while its peer sends the exact time.

    >>> second_precision(datetime(2026, 12, 2, 22, 0, 5, 123456, tzinfo=UTC))
    '2026-12-02T22:00:05+00:00'
    """
    return _iso(dt.replace(microsecond=0)) if dt is not None else None


@dataclass(frozen=True)
class HookRun:
    """One scheduled run of a hook: ``payload`` is exactly what its command reads on stdin, stored
    with the run, so that a run resumed after a crash reads the same bytes as a fresh one."""

    run_id: int
    hook: str
    payload: bytes


def hook_payload(alert: Mapping[str, Any]) -> bytes:
    """The JSON a hook reads on stdin for one alert state change (fresh and resumed runs alike).

    >>> hook_payload({"status": "firing", "labels": {"alertname": "X"}})
    b'{"labels": {"alertname": "X"}, "status": "firing"}'
    """
    return json.dumps(alert, sort_keys=True).encode()


def dedup_key(n: NotificationModel) -> str:
    """Content key of a notification: same receiver, group, status and alert states → same key.

    Both members of an HA pair and Alertmanager's retries produce the same key, also when one
    member's Prometheus restored the alert's start time at second precision.
    """
    parts = [
        n.receiver,
        n.groupKey,
        n.status,
        *sorted(
            f"{a.fingerprint}|{a.status}|{second_precision(a.startsAt)}|{second_precision(a.endsAt)}" for a in n.alerts
        ),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays/objects a notification may have (Alertmanager's payload has 4)."""
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON document, brackets inside strings aside.

    Checked before parsing: the standard decoder recurses per level and fails with a
    ``RecursionError`` (a 500) on a 2 KB body of a thousand ``[``.

    >>> json_depth(b'{"a": [1, {"b": "[[[["}]}'), json_depth(b"[" * 1000)
    (3, 1000)
    """
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub(b"", raw)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest
