"""Locating the otel-ccmon repository checkout that the local stack and the generators work in.

The checkout is named explicitly (an argument, or ``CCMON_REPO``) or found from the working
directory upwards; never through the package's own location, which is ``site-packages`` once
the package is installed from a wheel.
"""

from __future__ import annotations

import os
from pathlib import Path

MARKERS = ("collector/builder-config.yaml", "prometheus/prometheus.yml", "alertmanager/alertmanager.yml")


class RepoNotFoundError(FileNotFoundError):
    """No otel-ccmon checkout where one was looked for."""


def is_repo(path: Path) -> bool:
    """Whether ``path`` is the root of an otel-ccmon checkout."""
    return all((path / marker).is_file() for marker in MARKERS)


def find_repo(start: Path | str | None = None) -> Path:
    """The checkout's root: ``start`` itself if given, else ``$CCMON_REPO``, else the working
    directory or its nearest parent that is a checkout.

    >>> find_repo("/")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    otel_ccmon.devstack.repo.RepoNotFoundError: / is not an otel-ccmon checkout (no collector/builder-config.yaml...)
    """
    explicit = start if start is not None else os.environ.get("CCMON_REPO")
    if explicit:
        root = Path(explicit).resolve()
        if not is_repo(root):
            raise RepoNotFoundError(f"{root} is not an otel-ccmon checkout (no {', '.join(MARKERS)})")
        return root
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if is_repo(candidate):
            return candidate
    raise RepoNotFoundError(
        f"no otel-ccmon checkout at or above {here}: run from the repository, or set CCMON_REPO=/path/to/checkout"
    )


def bin_dir(repo: Path | None = None) -> Path:
    """Where bootstrap links the binaries: ``CCMON_BIN_DIR``, else ``.cache/bin`` of the checkout."""
    explicit = os.environ.get("CCMON_BIN_DIR")
    if explicit:
        return Path(explicit)
    return (repo or find_repo()) / ".cache" / "bin"
