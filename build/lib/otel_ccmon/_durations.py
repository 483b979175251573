"""Prometheus-style durations (``90s``, ``5m``, ``1h30m``, ``3d``): parsed in one place."""

from __future__ import annotations

import re

_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_PART = re.compile(r"(\d+)(ms|[smhdwy])")
_WHOLE = re.compile(r"(?:\d+(?:ms|[smhdwy]))+")


def duration_seconds(text: str) -> float:
    """Seconds in a Prometheus duration; ``ValueError`` for anything else.

    >>> duration_seconds("1h30m"), duration_seconds("250ms"), duration_seconds("0s")
    (5400.0, 0.25, 0.0)
    >>> duration_seconds("5 minutes")
    Traceback (most recent call last):
    ...
    ValueError: not a Prometheus duration: '5 minutes' (examples: 30s, 5m, 1h30m)
    """
    if not _WHOLE.fullmatch(text):
        raise ValueError(f"not a Prometheus duration: {text!r} (examples: 30s, 5m, 1h30m)")
    return float(sum(int(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(text)))
