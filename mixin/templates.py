"""Emulation of Prometheus's alert templating (the ``humanize*`` functions and ``$labels``/``$value``),
so that the generated promtool tests can assert every rendered annotation."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping


def _g4(v: float) -> str:
    return f"{v:.4g}"


def humanize(v: float) -> str:
    """Prometheus' ``humanize``.

    >>> humanize(172000.0), humanize(0.25)
    ('172k', '250m')
    """
    if v == 0 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    prefixes = ("k", "M", "G", "T", "P", "E", "Z", "Y") if abs(v) >= 1 else ("m", "u", "n", "p", "f", "a", "z", "y")
    prefix = ""
    for p in prefixes:
        if (abs(v) < 1000) if abs(v) >= 1 else (abs(v) >= 1):
            break
        prefix = p
        v = v / 1000 if prefixes[0] == "k" else v * 1000
    return f"{_g4(v)}{prefix}"


def humanize_percentage(v: float) -> str:
    """Prometheus' ``humanizePercentage``.

    >>> humanize_percentage(0.5)
    '50%'
    """
    return f"{_g4(v * 100)}%"


def humanize_1024(v: float) -> str:
    """Prometheus' ``humanize1024``.

    >>> humanize_1024(157286400.0)
    '150Mi'
    """
    if abs(v) <= 1 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    prefix = ""
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(v) < 1024:
            break
        prefix = p
        v /= 1024
    return f"{_g4(v)}{prefix}"


def humanize_duration(v: float) -> str:
    """Prometheus' ``humanizeDuration``.

    >>> humanize_duration(8.0), humanize_duration(0.025), humanize_duration(600.0)
    ('8s', '25ms', '10m 0s')
    """
    if math.isnan(v) or math.isinf(v):
        return _g4(v)
    if v == 0:
        return f"{_g4(v)}s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        d = int(v)
        seconds, minutes, hours, days = d % 60, (d // 60) % 60, (d // 3600) % 24, d // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(v)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return f"{_g4(v)}{prefix}s"


_FILTERS = {
    "humanize": humanize,
    "humanizePercentage": humanize_percentage,
    "humanize1024": humanize_1024,
    "humanizeDuration": humanize_duration,
}


def render_template(template: str, value: float, labels: Mapping[str, str]) -> str:
    """Render the subset of Go templates our annotations use (for promtool expectations).

    >>> render_template("{{ $labels.job }} at {{ $value | humanizePercentage }}", 0.25, {"job": "a"})
    'a at 25%'
    """

    def sub(m: re.Match[str]) -> str:
        expr = m.group(1).strip()
        if expr.startswith("$labels."):
            return labels.get(expr.removeprefix("$labels."), "")
        if expr == "$value":
            return _g4(value) if value != int(value) else str(int(value)) if abs(value) < 1e15 else _g4(value)
        name = expr.removeprefix("$value").strip().removeprefix("|").strip()
        return _FILTERS[name](value)

    return re.sub(r"{{(.*?)}}", sub, template)
