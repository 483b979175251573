"""A push-only service for end-to-end tests: a cumulative counter sent to the collector over OTLP,
whose last acknowledged value is known exactly (the chaos suite, the long-term tier)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import httpx

from tests.otlp_payloads import counter_request


@dataclass
class Pusher:
    """A cumulative counter (``neural_operations_total{job=service}``), one increment per push;
    ``acked`` is the last value the collector answered 2xx for."""

    url: str
    service: str
    acked: float = 0.0
    sent: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def run(self) -> None:
        start = time.time_ns()
        value = 0.0
        while not self.stop.is_set():
            value += 1
            body = counter_request({"service.name": self.service}, "neural.operations", "operation_type",
                                   ["learning"], start, time.time_ns(), value)  # fmt: skip
            try:
                ok = httpx.post(self.url, content=body, headers={"content-type": "application/x-protobuf"}, timeout=2)
                if ok.status_code < 300:
                    self.acked = value
            except httpx.HTTPError:
                pass  # the collector is down: the next push carries the running total
            self.sent += 1
            self.stop.wait(0.5)  # the service's own export interval

    def start(self) -> Pusher:
        self.thread = threading.Thread(target=self.run, name=f"pusher-{self.service}")
        self.thread.start()
        return self

    def halt(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join()
