"""FastAPI throughput with and without instrument_app, under uvicorn, loopback keep-alive load.

``python -m bench.fastapi_bench SECONDS CONCURRENCY ROUNDS`` prints JSON. The load generator is a
minimal asyncio HTTP/1.1 keep-alive client (raw sockets) so that it costs little CPU next to the
server on a 2-core machine; each round runs plain and instrumented back to back.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

from otel_ccmon.devstack.procs import Proc, free_port, http_ok, wait_for

REQUEST = b"GET /ping HTTP/1.1\r\nHost: bench\r\n\r\n"


async def _client(port: int, deadline: float, counter: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            writer.write(REQUEST)
            await writer.drain()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            counter[0] += 1
    finally:
        writer.close()


async def load(port: int, seconds: float, concurrency: int) -> float:
    counter = [0]
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    await asyncio.gather(*(_client(port, deadline, counter) for _ in range(concurrency)))
    return counter[0] / (time.perf_counter() - started)


APPS = {
    "plain": "bench.apps:plain",
    "instrumented": "bench.apps_instrumented:instrumented",
    "otel_instrumentation": "bench.apps_otel:instrumented",
}


def serve(variant: str, workdir: Path) -> tuple[Proc, int]:
    port = free_port()
    app = APPS[variant]
    proc = Proc(
        f"uvicorn-{variant}",
        [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--log-level", "warning", "--no-access-log"],
        workdir / f"uvicorn-{port}.log",
        {"OTEL_METRICS_EXPORTER": "prometheus", "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    ).start()
    wait_for(lambda: http_ok(f"http://127.0.0.1:{port}/ping"), 30, "uvicorn")
    return proc, port


def run(seconds: float, concurrency: int, rounds: int) -> dict[str, float]:
    workdir = Path(os.environ.get("TMPDIR", "/tmp"))
    results: dict[str, list[float]] = {v: [] for v in APPS}
    for _ in range(rounds):
        for variant in APPS:  # interleaved, so drift of the machine hits every variant alike
            proc, port = serve(variant, workdir)
            try:
                asyncio.run(load(port, min(1.0, seconds), concurrency))  # warm-up
                results[variant].append(asyncio.run(load(port, seconds, concurrency)))
            finally:
                proc.stop()
    med = {v: statistics.median(r) for v, r in results.items()}
    return {
        "plain_rps": med["plain"],
        "instrumented_rps": med["instrumented"],
        "ratio": med["instrumented"] / med["plain"],
        "ratio_min": min(results["instrumented"]) / max(results["plain"]),
        "ratio_max": max(results["instrumented"]) / min(results["plain"]),
        "otel_instrumentation_rps": med["otel_instrumentation"],
        "otel_instrumentation_ratio": med["otel_instrumentation"] / med["plain"],
    }


if __name__ == "__main__":
    print(json.dumps(run(float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))))
