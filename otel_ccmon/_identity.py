"""Pseudonyms of people's identities, the same the collector's claudecode processor makes (issue 30).

The collector replaces every identity attribute (``user.email``, ``enduser.id``, ``process.owner``,
…) by ``sha256:`` + the first 16 hex digits of an HMAC-SHA256 keyed with ``CCMON_IDENTITY_HASH_KEY``.
The report maps pseudonyms back to the people of a directory with this module; the local stack
keeps one key per stack folder.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

KEY_ENV = "CCMON_IDENTITY_HASH_KEY"
KEY_FILE = "identity-hash.key"
_PSEUDONYM = re.compile(r"sha256:[0-9a-f]{16}")


def pseudonym(value: str, key: str) -> str:
    """The collector's pseudonym of ``value``; a pseudonym is returned as it is.

    >>> pseudonym("dev@example.com", "0123456789abcdef")
    'sha256:4b97fe521c1f004a'
    >>> pseudonym("sha256:4b97fe521c1f004a", "another key")
    'sha256:4b97fe521c1f004a'
    """
    if _PSEUDONYM.fullmatch(value):
        return value
    return "sha256:" + hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()[:16]


def stack_key(folder: Path) -> str:
    """The identity hash key of a local stack: ``$CCMON_IDENTITY_HASH_KEY`` when set, else the one
    kept in ``folder`` (made on first use, readable by its owner only), so pseudonyms stay the
    same across restarts of that stack."""
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV]
    path = folder / KEY_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(24))
    return path.read_text().strip()
