"""An OTLP/HTTP (protobuf) endpoint for tests that keeps every request it receives."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


@dataclass
class Captured:
    url: str
    metrics: list[ExportMetricsServiceRequest] = field(default_factory=list)
    logs: list[ExportLogsServiceRequest] = field(default_factory=list)
    traces: list[ExportTraceServiceRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.metrics.clear()
            self.logs.clear()
            self.traces.clear()

    def log_attributes(self) -> list[dict[str, str]]:
        """Every log record's attributes (values as strings)."""
        with self.lock:
            return [
                {kv.key: str(getattr(kv.value, kv.value.WhichOneof("value") or "string_value")) for kv in r.attributes}
                for req in self.logs
                for rl in req.resource_logs
                for sl in rl.scope_logs
                for r in sl.log_records
            ]

    def spans(self) -> list[tuple[str, bytes, bytes, dict[str, str]]]:
        """Every span: (name, trace id, parent span id, attributes with the resource's, as strings)."""
        with self.lock:
            return [
                (
                    span.name,
                    span.trace_id,
                    span.parent_span_id,
                    {
                        kv.key: str(getattr(kv.value, kv.value.WhichOneof("value") or "string_value"))
                        for kv in (*rs.resource.attributes, *span.attributes)
                    },
                )
                for req in self.traces
                for rs in req.resource_spans
                for ss in rs.scope_spans
                for span in ss.spans
            ]

    def span_links(self) -> list[tuple[str, str, str, str]]:
        """Every span as (name, trace id, span id, parent span id), the ids in hex."""
        with self.lock:
            return [
                (span.name, span.trace_id.hex(), span.span_id.hex(), span.parent_span_id.hex())
                for req in self.traces
                for rs in req.resource_spans
                for ss in rs.scope_spans
                for span in ss.spans
            ]


@contextmanager
def otlp_capture() -> Iterator[Captured]:
    """Serve on a free loopback port until the block ends."""
    captured = Captured(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.headers.get("content-encoding") == "gzip":  # the collector's exporters compress
                body = gzip.decompress(body)
            with captured.lock:
                if self.path == "/v1/metrics":
                    captured.metrics.append(ExportMetricsServiceRequest.FromString(body))
                elif self.path == "/v1/logs":
                    captured.logs.append(ExportLogsServiceRequest.FromString(body))
                elif self.path == "/v1/traces":
                    captured.traces.append(ExportTraceServiceRequest.FromString(body))
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    captured.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield captured
    finally:
        server.shutdown()
        server.server_close()
