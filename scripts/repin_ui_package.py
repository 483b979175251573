"""Repin one package of a pnpm or npm lockfile to another version (bootstrap's UI builds).

Used when a module's UI lockfile names a version the npm registry here does not serve (e.g.
Prometheus 3.16's ``@mantine/code-highlight@9.7.2``): the entry, its snapshot key, the importer's
specifier and the ``package.json`` range move to ``NEW``, with the registry's integrity of
``NEW``. Everything else stays locked, so ``pnpm install --frozen-lockfile`` (or ``npm ci``) still
verifies it. An npm ``package-lock.json`` is edited as JSON (Alertmanager's UI).

usage: python3 repin_pnpm_package.py LOCKFILE PACKAGE_JSON NAME OLD NEW INTEGRITY
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any


def repin(lock: str, name: str, old: str, new: str, integrity: str) -> str:
    """The lockfile text with ``name@old`` moved to ``name@new``.

    >>> text = ("  'a@1.0.0':\\n    resolution: {integrity: sha512-OLD}\\n"
    ...         "      'a':\\n        specifier: ^1.0.0\\n        version: 1.0.0\\n")
    >>> print(repin(text, "a", "1.0.0", "0.9.0", "sha512-NEW"), end="")
      'a@0.9.0':
        resolution: {integrity: sha512-NEW}
          'a':
            specifier: ^0.9.0
            version: 0.9.0
    """
    entry = re.compile(rf"(  '{re.escape(name)}@{re.escape(old)}':\n    resolution: {{integrity: )[^}}]+}}")
    lock, found = entry.subn(rf"\g<1>{integrity}}}", lock)
    if found != 1:
        raise SystemExit(f"repin: no lockfile entry {name}@{old}")
    lock = lock.replace(f"'{name}@{old}", f"'{name}@{new}")
    importer = re.compile(
        rf"(      '{re.escape(name)}':\n        specifier: \^){re.escape(old)}(\n        version: ){re.escape(old)}"
    )
    return importer.sub(rf"\g<1>{new}\g<2>{new}", lock)


def repin_npm(lock: dict[str, Any], name: str, old: str, new: str, integrity: str) -> dict[str, Any]:
    """An npm lockfile (v3) with ``name@old`` moved to ``name@new``.

    >>> lock = {"packages": {"": {"dependencies": {"a": "^1.0.0"}},
    ...         "node_modules/a": {"version": "1.0.0", "resolved": "https://r/a/-/a-1.0.0.tgz", "integrity": "x"}}}
    >>> repin_npm(lock, "a", "1.0.0", "0.9.0", "y")["packages"]["node_modules/a"]
    {'version': '0.9.0', 'resolved': 'https://r/a/-/a-0.9.0.tgz', 'integrity': 'y'}
    """
    entry = lock["packages"].get(f"node_modules/{name}")
    if entry is None or entry["version"] != old:
        raise SystemExit(f"repin: no lockfile entry {name}@{old}")
    entry["version"] = new
    entry["resolved"] = entry["resolved"].replace(f"-{old}.tgz", f"-{new}.tgz")
    entry["integrity"] = integrity
    # peerDependencies stay as locked: the siblings (@mantine/core…) keep their locked versions
    root = lock["packages"][""]
    for section in ("dependencies", "devDependencies"):
        if root.get(section, {}).get(name) == f"^{old}":
            root[section][name] = f"^{new}"
    return lock


def main(argv: list[str]) -> None:
    lockfile, package_json, name, old, new, integrity = argv
    lock = Path(lockfile)
    if lock.name == "package-lock.json":
        lock.write_text(json.dumps(repin_npm(json.loads(lock.read_text()), name, old, new, integrity), indent=2) + "\n")
    else:
        lock.write_text(repin(lock.read_text(), name, old, new, integrity))
    pkg = Path(package_json)
    text = pkg.read_text()
    if f'"{name}": "^{old}"' not in text:
        raise SystemExit(f"repin: {package_json} does not depend on {name} ^{old}")
    pkg.write_text(text.replace(f'"{name}": "^{old}"', f'"{name}": "^{new}"'))


if __name__ == "__main__":
    main(sys.argv[1:])
