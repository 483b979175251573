"""The local pipeline as child processes (``ccmon stack``); filled in by the pipeline work."""

from __future__ import annotations

import argparse
from typing import Any


def add_commands(sub: Any) -> None:
    """Register ``ccmon stack`` subcommands."""
    del sub


def _unused(args: argparse.Namespace) -> int:
    del args
    return 0
