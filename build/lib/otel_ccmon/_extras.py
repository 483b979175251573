"""Optional dependencies: a clear error that names the extra to install when one is missing.

``pip install otel-ccmon`` brings only the OpenTelemetry SDK and exporters. Web frameworks,
the receiver service and the CLI's helpers come with extras (``otel-ccmon[fastapi]``,
``[receiver]``, ``[demo]``, ``[cli]``, ``[instrument]``, ``[grpc]``).
"""

from __future__ import annotations

import importlib
from types import ModuleType


class MissingExtraError(ImportError):
    """An optional dependency of a feature is not installed."""


def require(feature: str, extra: str, *modules: str) -> list[ModuleType]:
    """Import ``modules`` or raise :class:`MissingExtraError` naming the extra that brings them.

    >>> [m.__name__ for m in require("JSON", "core", "json")]
    ['json']
    >>> require("the demo app", "demo", "no_such_module_xyz")
    Traceback (most recent call last):
    ...
    otel_ccmon._extras.MissingExtraError: the demo app needs no_such_module_xyz: pip install 'otel-ccmon[demo]'
    """
    loaded = []
    for name in modules:
        try:
            loaded.append(importlib.import_module(name))
        except ImportError as exc:
            raise MissingExtraError(f"{feature} needs {name}: pip install 'otel-ccmon[{extra}]'") from exc
    return loaded
