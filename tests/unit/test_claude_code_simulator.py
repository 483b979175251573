"""The simulator's export semantics are the real client's (NOTES.md §5, observed on 2.1.328)."""

from __future__ import annotations

import dataclasses
from unittest import mock

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.metrics.v1 import metrics_pb2

from otel_ccmon import _catalog as cat
from otel_ccmon.claude_code import (
    Client,
    Identity,
    Ledger,
    Team,
    TeamPlan,
    env_settings,
    managed_settings,
    shell_exports,
)


class Clock:
    def __init__(self) -> None:
        self.t = 1_000

    def __call__(self) -> int:
        return self.t


def exports(client: Client) -> list[ExportMetricsServiceRequest]:
    sent: list[ExportMetricsServiceRequest] = []

    def post(path: str, body: bytes) -> bool:
        assert path == "/v1/metrics"
        sent.append(ExportMetricsServiceRequest.FromString(body))
        return True

    client._post = post  # type: ignore[method-assign]
    return sent


def points(request: ExportMetricsServiceRequest, metric: str) -> list[metrics_pb2.NumberDataPoint]:
    ms = request.resource_metrics[0].scope_metrics[0].metrics
    return [p for m in ms if m.name == metric for p in m.sum.data_points]


def test_delta_start_times_follow_the_real_client() -> None:
    clock = Clock()
    client = Client("http://x", Identity("u1"), ledger=Ledger(), clock_ns=clock)
    sent = exports(client)
    clock.t = 2_000
    client.add("claude_code.cost.usage", 0.5, model="m", query_source="main")
    clock.t = 3_000
    client.export_metrics()  # first point starts at its first measurement
    clock.t = 4_000
    client.add("claude_code.cost.usage", 0.25, model="m", query_source="main")
    clock.t = 5_000
    client.export_metrics()  # present in the previous export: starts at that export
    clock.t = 6_000
    client.export_metrics()  # no new measurement: left out, and no empty export is sent
    clock.t = 7_000
    client.add("claude_code.cost.usage", 0.125, model="m", query_source="main")
    clock.t = 8_000
    client.export_metrics()  # back after a gap: starts at its first new measurement
    cost = [points(r, "claude_code.cost.usage") for r in sent]
    assert len(sent) == 3
    assert [(p.start_time_unix_nano, p.time_unix_nano, p.as_double) for ps in cost for p in ps] == [
        (2_000, 3_000, 0.5),
        (3_000, 5_000, 0.25),
        (7_000, 8_000, 0.125),
    ]
    assert sent[0].resource_metrics[0].scope_metrics[0].metrics[0].sum.aggregation_temporality == (
        metrics_pb2.AGGREGATION_TEMPORALITY_DELTA
    )


def test_cumulative_sends_every_stream_from_its_first_measurement() -> None:
    clock = Clock()
    client = Client("http://x", Identity("u1"), ledger=Ledger(), temporality="cumulative", clock_ns=clock)
    sent = exports(client)
    client.add("claude_code.cost.usage", 0.5, model="m", query_source="main")
    clock.t = 3_000
    client.export_metrics()
    clock.t = 5_000
    client.export_metrics()
    assert [(p.start_time_unix_nano, p.as_double) for r in sent for p in points(r, "claude_code.cost.usage")] == [
        (1_000, 0.5),
        (1_000, 0.5),
    ]


def test_points_carry_the_clients_attributes_and_names_from_the_catalog() -> None:
    client = Client("http://x", Identity("u1", "dev@example.com"), ledger=Ledger())
    sent = exports(client)
    client.api_request("claude-opus-4-5", (1, 2, 3, 4))
    client.export_metrics()
    request = sent[0]
    names = {m.name for m in request.resource_metrics[0].scope_metrics[0].metrics}
    assert names <= {s.otel_name for s in cat.CLAUDE_CODE_CATALOG}
    keys = {kv.key for p in points(request, "claude_code.token.usage") for kv in p.attributes}
    assert {"user.id", "session.id", "user.email", "user.account_uuid", "organization.id", "model", "type"} <= keys
    resource = {kv.key: kv.value.string_value for kv in request.resource_metrics[0].resource.attributes}
    assert resource["service.name"] == cat.CLAUDE_CODE_SERVICE and "service.instance.id" not in resource


def test_failed_delta_export_is_lost_and_recorded_as_such() -> None:
    ledger = Ledger()
    client = Client("http://127.0.0.1:9", Identity("u1"), ledger=ledger)
    with mock.patch.object(client, "_post", return_value=False):
        client.add("claude_code.cost.usage", 1.0, model="m", query_source="main")
        assert client.export_metrics() is False
    assert ledger.total("lost", "claude_code.cost.usage") == 1.0
    assert ledger.total("delivered", "claude_code.cost.usage") == 0.0


def test_env_settings_shell_and_managed_settings() -> None:
    env = env_settings("http://127.0.0.1:4318/", token="t0k'en")
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
    assert "export OTEL_EXPORTER_OTLP_HEADERS='Authorization=Bearer t0k'\"'\"'en'" in shell_exports(env)
    assert '"CLAUDE_CODE_ENABLE_TELEMETRY": "1"' in managed_settings(env)
    assert "OTEL_EXPORTER_OTLP_HEADERS" not in env_settings("http://x")


# attributes that differ per session, per event or per measured value, never a series label
_PER_EVENT = {
    "session.id",
    "prompt.id",
    "event.timestamp",
    "event.sequence",
    "duration_ms",
    "total_duration_ms",
    "total_tokens",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "cost_usd",
}


def _combinations(plan: TeamPlan) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    """Every (metric or event, attributes) a round of ``plan`` sends, per-event values left out."""
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    real_event = Client.event

    def event(self: Client, name: str, **attrs: str | bool | int | float) -> None:
        seen.add((name, tuple(sorted((k, str(v)) for k, v in attrs.items() if k not in _PER_EVENT))))
        real_event(self, name, **attrs)

    team = Team("http://x", plan)
    with mock.patch.object(Client, "_post", return_value=True), mock.patch.object(Client, "event", event):
        for session in team.sessions:
            for _, action in session.actions:
                action()
    seen |= {(m, tuple((k, str(v)) for k, v in attrs if k not in _PER_EVENT)) for m, attrs in team.ledger.recorded}
    return seen


def test_cover_combinations_sends_every_combination_in_the_first_round() -> None:
    """The soak's workload (bench/soak.py): a second round adds no series, so memory growth after
    the warm-up is the components' own; without the option it does add some (the test can fail)."""
    base = TeamPlan(users=6, sessions=12, seconds=600.0, export_interval=60.0, error_rate=0.0, seed=23)
    covered = dataclasses.replace(base, cover_combinations=True)
    first, later = _combinations(covered), _combinations(dataclasses.replace(covered, seed=24))
    assert later <= first
    assert {dict(attrs).get("agent.name") for _, attrs in first} == {None, "Explore", "general-purpose"}
    assert _combinations(dataclasses.replace(base, seed=24)) - _combinations(base)
