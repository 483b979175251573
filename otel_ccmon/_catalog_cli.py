"""``ccmon catalog check FILE…``: validates applications' catalog files with clear errors."""

from __future__ import annotations

import argparse
from typing import Any

from otel_ccmon._app_catalog import CatalogError, load_catalog


def check_files(paths: list[str]) -> tuple[int, list[str]]:
    """The exit code (0 sound, 1 a problem) and one report line per file or problem.

    >>> check_files(["examples/invoices/metrics.yaml"])[1][0]
    'examples/invoices/metrics.yaml: ok: service invoices, 4 metrics, 3 objectives'
    """
    code, lines = 0, []
    for path in paths:
        try:
            catalog = load_catalog(path)
        except CatalogError as exc:
            code = 1
            lines.append(f"{path}: {len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''}")
            lines += [f"  - {p}" for p in exc.problems]
            continue
        lines.append(
            f"{path}: ok: service {catalog.service}, {len(catalog.metrics)} metrics, "
            f"{len(catalog.objectives)} objectives"
        )
        lines += [f"  {m.otel_name} -> {m.prom_name} ({m.kind.value})" for m in catalog.metrics]
    return code, lines


def _check(args: argparse.Namespace) -> int:
    code, lines = check_files(args.files)
    print("\n".join(lines))
    return code


def add_commands(sub: Any) -> None:
    """Register ``ccmon catalog``."""
    parser = sub.add_parser("catalog", help="your own metrics: check a catalog file")
    cat = parser.add_subparsers(dest="catalog_command", required=True)
    check = cat.add_parser(
        "check", help="validate catalog files: names, units, Prometheus names, attributes, buckets, objectives"
    )
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(func=_check)
