"""Raw OTLP requests for load and flood tests: many distinct series without an SDK (whose
cardinality limit would fold them), built with the protobuf messages of opentelemetry-proto."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.resource.v1.resource_pb2 import Resource


def attribute(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def counter_request(
    resource: Mapping[str, str],
    metric: str,
    key: str,
    values: Iterable[str],
    start_ns: int,
    now_ns: int,
    value: float = 1.0,
) -> bytes:
    """A cumulative monotonic sum ``metric`` with one point of ``value`` per ``key`` value.

    >>> len(ExportMetricsServiceRequest.FromString(
    ...     counter_request({"service.name": "s"}, "m", "k", ["a", "b"], 1, 2)).resource_metrics[0]
    ...     .scope_metrics[0].metrics[0].sum.data_points)
    2
    """
    points = [
        metrics_pb2.NumberDataPoint(
            attributes=[attribute(key, v)], start_time_unix_nano=start_ns, time_unix_nano=now_ns, as_double=value
        )
        for v in values
    ]
    sum_ = metrics_pb2.Sum(
        data_points=points,
        aggregation_temporality=metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE,
        is_monotonic=True,
    )
    scope = metrics_pb2.ScopeMetrics(metrics=[metrics_pb2.Metric(name=metric, sum=sum_)])
    attributes = [attribute(k, v) for k, v in resource.items()]
    request = ExportMetricsServiceRequest(
        resource_metrics=[metrics_pb2.ResourceMetrics(resource=Resource(attributes=attributes), scope_metrics=[scope])]
    )
    body: bytes = request.SerializeToString()
    return body
