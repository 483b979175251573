"""Runs a hook entry point (``module:function``) with the alert read as JSON from stdin.

Used by the alert receiver so that Python hooks have the same timeout and isolation as
command hooks: ``python -m otel_ccmon.receiver.hookrun pkg.module:function``.
"""

from __future__ import annotations

import importlib
import json
import sys


def main(argv: list[str]) -> int:
    """Call the entry point named by ``argv[0]``; exit code 0 if it returns without raising."""
    if len(argv) != 1 or ":" not in argv[0]:
        print("usage: python -m otel_ccmon.receiver.hookrun module:function", file=sys.stderr)
        return 2
    module_name, _, func_name = argv[0].partition(":")
    func = getattr(importlib.import_module(module_name), func_name)
    result = func(json.load(sys.stdin))
    if result is not None:
        print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
