"""An invoice worker that records its own metrics, declared in ``metrics.yaml`` next to it.

Run against the local stack (``make run``)::

    OTEL_SERVICE_NAME=invoices OTEL_METRICS_EXPORTER=otlp \\
    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 python -m examples.invoices --invoices 200

It processes ``--batches`` batches of ``--invoices`` invoices, ``--every`` seconds apart (every
``--fail-every``-th fails, each records ``--seconds``), sets its queue depth, counts requests per
customer, flushes and exits. Nothing here edits otel_ccmon: the
metrics come from the catalog file, through the library's public API.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import otel_ccmon

CATALOG = Path(__file__).with_name("metrics.yaml")
TIERS = ("free", "pro", "enterprise")


def process(metrics: otel_ccmon.AppMetrics, invoices: int, fail_every: int, seconds: float) -> dict[str, int]:
    """Process ``invoices`` invoices; the outcome counts by outcome."""
    counts = {"paid": 0, "failed": 0}
    for i in range(invoices):
        tier = TIERS[i % len(TIERS)]
        outcome = "failed" if fail_every and (i + 1) % fail_every == 0 else "paid"
        counts[outcome] += 1
        metrics.add("invoices.processed", outcome=outcome, tier=tier)
        metrics.observe("invoices.processing.duration", seconds, tier=tier)
        metrics.add("invoices.customer.requests", customer=f"acct-{i % 7}")
        metrics.set("invoices.queue.depth", invoices - i - 1)
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.invoices", description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100, help="invoices per batch")
    parser.add_argument("--batches", type=int, default=1)
    parser.add_argument("--every", type=float, default=1.0, help="seconds between batches")
    parser.add_argument("--fail-every", type=int, default=0, help="every N-th invoice fails (0: none)")
    parser.add_argument("--seconds", type=float, default=0.2, help="the processing time each records")
    args = parser.parse_args(argv)
    otel_ccmon.initialize_metrics()
    metrics = otel_ccmon.register_catalog(CATALOG)
    totals = {"paid": 0, "failed": 0}
    for batch in range(args.batches):
        if batch:
            time.sleep(args.every)  # the worker's pace between batches
        for outcome, n in process(metrics, args.invoices, args.fail_every, args.seconds).items():
            totals[outcome] += n
    otel_ccmon.shutdown_metrics()  # flushes the OTLP exporter
    print(f"processed {args.invoices * args.batches}: {totals['paid']} paid, {totals['failed']} failed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
