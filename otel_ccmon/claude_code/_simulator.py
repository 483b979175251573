"""A Claude Code simulator: emits exactly what the real CLI emits, without the CLI.

What "exactly" means was read off the real client (npm ``@anthropic-ai/claude-code`` 2.1.328,
against a stub of the Messages API; ``tests/e2e/test_claude_code_cli.py`` keeps checking it):

- metrics are monotonic sums of doubles from scope ``com.anthropic.claude_code``; resource
  ``service.name=claude-code``, ``service.version``, ``os.type``, ``os.version``, ``host.arch``
  and no ``service.instance.id``;
- delta temporality by default: a stream's first point starts at its first measurement; a stream
  present in the previous export starts at that export's time; a stream without new
  measurements is left out, and when it comes back its start is its first new measurement (gaps,
  never overlaps); an export without points is not sent; the process flushes at exit;
- with the cumulative preference every stream is sent every interval, starting at its first
  measurement;
- points carry ``user.id``, ``session.id``, ``terminal.type``, ``anthropic.provider``,
  ``anthropic.custom_base_url`` (a bool) and, with a login, ``user.email``,
  ``user.account_uuid``, ``organization.id``; cost and tokens add ``model`` and ``query_source``;
- events are log records (scope ``com.anthropic.claude_code.events``) with body
  ``claude_code.<name>``, the name in the ``event.name`` attribute, ``event.timestamp`` and
  ``event.sequence``; ``tool_result`` sends ``success`` and ``duration_ms`` as strings.

Written by hand (protobuf messages of opentelemetry-proto, sent with urllib) because an SDK
exporter has its own start-time rules, and those rules are what is under test. Export failures
lose the delta points they carried, as the real client's do after its exporter gives up.
"""

from __future__ import annotations

import functools
import random
import ssl
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from otel_ccmon._catalog import BY_OTEL_NAME, CLAUDE_CODE_SERVICE

CLIENT_VERSION = "2.1.332"
"""The Claude Code release whose behaviour is simulated (and that the contract test runs)."""

PRICES: Mapping[str, tuple[float, float, float, float]] = {
    "claude-sonnet-4-5": (3.0, 15.0, 0.30, 3.75),
    "claude-opus-4-5": (5.0, 25.0, 0.50, 6.25),
    "claude-haiku-4-5": (1.0, 5.0, 0.10, 1.25),
}
"""USD per million input, output, cache-read and cache-write tokens: the client's own estimate."""

TOKEN_KINDS = ("input", "output", "cacheRead", "cacheCreation")

Attrs = tuple[tuple[str, str | bool | int | float], ...]


def cost_usd(model: str, usage: tuple[int, int, int, int]) -> float:
    """What Claude Code estimates one request costs.

    >>> round(cost_usd("claude-sonnet-4-5", (100, 20, 50, 10)), 7)
    0.0006525
    """
    return sum(n * price for n, price in zip(usage, PRICES[model], strict=True)) / 1e6


def _value(v: str | bool | int | float) -> AnyValue:
    if isinstance(v, bool):
        return AnyValue(bool_value=v)
    if isinstance(v, int):
        return AnyValue(int_value=v)
    if isinstance(v, float):
        return AnyValue(double_value=v)
    return AnyValue(string_value=v)


def _kv(attrs: Iterable[tuple[str, str | bool | int | float]]) -> list[KeyValue]:
    return [KeyValue(key=k, value=_value(v)) for k, v in attrs]


@dataclass(frozen=True)
class Include:
    """The client's ``OTEL_METRICS_INCLUDE_*`` switches (defaults as the real client's)."""

    session_id: bool = True  # OTEL_METRICS_INCLUDE_SESSION_ID
    account_uuid: bool = True  # OTEL_METRICS_INCLUDE_ACCOUNT_UUID
    version: bool = False  # OTEL_METRICS_INCLUDE_VERSION: app.version on every point


@dataclass(frozen=True)
class Identity:
    """Who runs a session: ``email`` set means a login (account and organization known)."""

    user_id: str
    email: str | None = None
    terminal: str = "vscode"
    # OTEL_RESOURCE_ATTRIBUTES (team.id, cost_center, ...): on the resource and copied onto every
    # point and event, as the real client does
    resource_attributes: tuple[tuple[str, str], ...] = ()

    def attributes(self, session_id: str, include: Include = Include()) -> Attrs:
        attrs: list[tuple[str, str | bool | int | float]] = [("user.id", self.user_id)]
        if include.session_id:
            attrs.append(("session.id", session_id))
        if include.version:
            attrs.append(("app.version", CLIENT_VERSION))
        if self.email:
            attrs.append(("user.email", self.email))
            if include.account_uuid:
                attrs.append(("user.account_uuid", str(uuid.uuid5(uuid.NAMESPACE_URL, self.email))))
            attrs.append(("organization.id", "org-simulated"))
        attrs += [
            ("anthropic.provider", "firstParty"),
            ("anthropic.custom_base_url", True),
            ("terminal.type", self.terminal),
            *self.resource_attributes,
        ]
        return tuple(attrs)


@dataclass
class _Stream:
    metric: str
    attrs: Attrs
    created_ns: int
    pending: float = 0.0
    first_ns: int | None = None  # first measurement since the last export (delta)
    in_last_export: bool = False
    last_export_ns: int = 0
    total: float = 0.0


@dataclass
class Ledger:
    """What clients recorded and what reached the collector (HTTP 2xx), by stream."""

    recorded: dict[tuple[str, Attrs], float] = field(default_factory=dict)
    delivered: dict[tuple[str, Attrs], float] = field(default_factory=dict)
    lost: dict[tuple[str, Attrs], float] = field(default_factory=dict)
    deliveries: list[tuple[float, str, Attrs, float]] = field(
        default_factory=list
    )  # (wall time, metric, attrs, increment)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def total(self, which: str, metric: str, **match: str) -> float:
        """Sum of ``recorded``/``delivered``/``lost`` for ``metric`` over streams matching ``match``."""
        book: dict[tuple[str, Attrs], float] = getattr(self, which)
        with self.lock:
            return sum(
                v
                for (m, attrs), v in book.items()
                if m == metric and all(dict(attrs).get(k) == x for k, x in match.items())
            )


class Client:
    """One Claude Code process (one session), exporting over OTLP/HTTP protobuf.

    >>> c = Client("http://127.0.0.1:9", Identity("u1"), ledger=Ledger(), clock_ns=lambda: 1_000)
    >>> c.api_request("claude-haiku-4-5", (10, 5, 0, 0), duration_ms=120)
    >>> round(c.ledger.total("recorded", "claude_code.cost.usage"), 9)
    3.5e-05
    """

    def __init__(
        self,
        endpoint: str,
        identity: Identity,
        *,
        ledger: Ledger,
        temporality: str = "delta",
        session_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
        service_name: str = CLAUDE_CODE_SERVICE,
        include: Include = Include(),
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.identity = identity
        self.ledger = ledger
        self.temporality = temporality
        self.session_id = session_id or str(uuid.uuid4())
        self.headers = dict(headers or {})
        self.ssl_context = ssl_context  # a collector with TLS (OTEL_EXPORTER_OTLP_CERTIFICATE)
        self.clock_ns = clock_ns
        self.streams: dict[tuple[str, Attrs], _Stream] = {}
        self.events: list[logs_pb2.LogRecord] = []
        self.sent_events: list[tuple[str, dict[str, str | bool | int | float]]] = []  # every event, in order
        self.sequence = 0
        self.common = identity.attributes(self.session_id, include)
        self.resource = Resource(
            attributes=_kv(
                [
                    ("host.arch", "amd64"),
                    ("os.type", "linux"),
                    ("os.version", "6.1.0"),
                    ("service.name", service_name),
                    ("service.version", CLIENT_VERSION),
                    *identity.resource_attributes,
                ]
            )
        )
        self.add("claude_code.session.count", 1, start_type="fresh")

    # -- recording, as the CLI does ---------------------------------------------------------
    def add(self, metric: str, value: float, **attrs: str) -> None:
        """One measurement of a Claude Code counter, with the session's common attributes."""
        key = (metric, self.common + tuple(attrs.items()))
        now = self.clock_ns()
        s = self.streams.get(key)
        if s is None:
            s = self.streams[key] = _Stream(metric, key[1], now)
        if s.first_ns is None:
            s.first_ns = now
        s.pending += value
        s.total += value
        with self.ledger.lock:
            self.ledger.recorded[key] = self.ledger.recorded.get(key, 0.0) + value

    def event(self, name: str, **attrs: str | bool | int | float) -> None:
        now = self.clock_ns()
        stamp = datetime.fromtimestamp(now / 1e9, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        record = logs_pb2.LogRecord(
            time_unix_nano=now,
            observed_time_unix_nano=now,
            body=AnyValue(string_value=f"claude_code.{name}"),
            attributes=_kv(
                [
                    *self.common,
                    ("event.name", name),
                    ("event.timestamp", stamp),
                    ("event.sequence", self.sequence),
                    *attrs.items(),
                ]
            ),
        )
        self.sequence += 1
        self.events.append(record)
        self.sent_events.append((name, dict(attrs)))

    def prompt(self, length: int = 40) -> None:
        self.event("user_prompt", prompt_length=str(length), prompt="<REDACTED>")

    def api_request(
        self,
        model: str,
        usage: tuple[int, int, int, int],
        *,
        duration_ms: int = 800,
        work: Mapping[str, str] | None = None,
    ) -> None:
        """A successful request: cost and token counters, and the ``api_request`` event. ``work``:
        the subagent, skill, plugin or MCP tool it ran for (``agent.name``, ``skill.name``, ...: on
        the cost and token points, as the client sends them)."""
        cost = cost_usd(model, usage)
        work = {**work, "query_source": "agent"} if work else {"query_source": "main"}
        self.add("claude_code.cost.usage", cost, model=model, **work)
        for kind, n in zip(TOKEN_KINDS, usage, strict=True):
            self.add("claude_code.token.usage", n, model=model, type=kind, **work)
        self.event(
            "api_request",
            model=model,
            input_tokens=usage[0],
            output_tokens=usage[1],
            cache_read_tokens=usage[2],
            cache_creation_tokens=usage[3],
            cost_usd=cost,
            duration_ms=duration_ms,
            speed="normal",
            query_source="sdk",
        )

    def api_error(self, model: str, status_code: int, attempt: int = 10) -> None:
        self.event("api_error", model=model, error="stubbed", status_code=str(status_code), attempt=attempt)

    def tool(self, name: str, *, success: bool = True, duration_ms: int = 50, decision: str = "accept") -> None:
        self.event("tool_decision", tool_name=name, decision=decision, source="config")
        self.event("tool_result", tool_name=name, success=str(success).lower(), duration_ms=str(duration_ms))
        if name in ("Edit", "Write", "MultiEdit"):
            self.add(
                "claude_code.code_edit_tool.decision",
                1,
                tool_name=name,
                decision=decision,
                source="config",
                language="Python",
            )
            if decision == "accept":
                self.add("claude_code.lines_of_code.count", 12, type="added")
                self.add("claude_code.lines_of_code.count", 4, type="removed")

    def commit(self, pull_request: bool = False) -> None:
        """A git commit made by Claude Code (and a pull request opened for it)."""
        self.add("claude_code.commit.count", 1)
        if pull_request:
            self.add("claude_code.pull_request.count", 1)

    # -- exporting, as the CLI's periodic readers do ------------------------------------------
    def _post(self, path: str, body: bytes) -> bool:
        request = urllib.request.Request(
            f"{self.endpoint}{path}",
            data=body,
            headers={"content-type": "application/x-protobuf", **self.headers},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=5, context=self.ssl_context) as response:
                return 200 <= int(response.status) < 300
        except (urllib.error.URLError, OSError, TimeoutError):
            return False

    def export_metrics(self) -> bool:
        """One export of the metric reader; False when it was sent and failed."""
        now = self.clock_ns()
        delta = self.temporality == "delta"
        by_metric: dict[str, list[tuple[_Stream, metrics_pb2.NumberDataPoint, float]]] = {}
        for s in self.streams.values():
            if delta and s.first_ns is None:
                s.in_last_export = False  # left out: its next start is its next first measurement
                continue
            if delta:
                start = s.last_export_ns if s.in_last_export else (s.first_ns or now)
                value, increment = s.pending, s.pending
            else:
                start, value, increment = s.created_ns, s.total, s.pending
            point = metrics_pb2.NumberDataPoint(
                attributes=_kv(s.attrs), start_time_unix_nano=start, time_unix_nano=now, as_double=value
            )
            by_metric.setdefault(s.metric, []).append((s, point, increment))
        if not by_metric:
            return True  # an export without points is not sent
        temporality = (
            metrics_pb2.AGGREGATION_TEMPORALITY_DELTA if delta else metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE
        )
        metrics = []
        for name, items in by_metric.items():
            spec = BY_OTEL_NAME[name]
            metrics.append(
                metrics_pb2.Metric(
                    name=name,
                    unit=spec.unit,
                    description=spec.description,
                    sum=metrics_pb2.Sum(
                        data_points=[p for _, p, _ in items], aggregation_temporality=temporality, is_monotonic=True
                    ),
                )
            )
        request = ExportMetricsServiceRequest(
            resource_metrics=[
                metrics_pb2.ResourceMetrics(
                    resource=self.resource,
                    scope_metrics=[
                        metrics_pb2.ScopeMetrics(
                            scope=InstrumentationScope(name="com.anthropic.claude_code", version=CLIENT_VERSION),
                            metrics=metrics,
                        )
                    ],
                )
            ]
        )
        ok = self._post("/v1/metrics", request.SerializeToString())
        wall = time.time()
        with self.ledger.lock:
            for items in by_metric.values():
                for s, _, increment in items:
                    key = (s.metric, s.attrs)
                    book = self.ledger.delivered if ok else self.ledger.lost
                    if ok or delta:  # a failed cumulative export is repeated by the next one
                        book[key] = book.get(key, 0.0) + increment
                    if ok:
                        self.ledger.deliveries.append((wall, s.metric, s.attrs, increment))
        for items in by_metric.values():
            for s, _, _ in items:
                if ok or delta:
                    s.pending = 0.0
                s.first_ns = None
                s.in_last_export = True
                s.last_export_ns = now
        return ok

    def export_logs(self) -> bool:
        if not self.events:
            return True
        records, self.events = self.events, []
        request = ExportLogsServiceRequest(
            resource_logs=[
                logs_pb2.ResourceLogs(
                    resource=self.resource,
                    scope_logs=[
                        logs_pb2.ScopeLogs(
                            scope=InstrumentationScope(name="com.anthropic.claude_code.events", version=CLIENT_VERSION),
                            log_records=records,
                        )
                    ],
                )
            ]
        )
        return self._post("/v1/logs", request.SerializeToString())

    def close(self) -> None:
        """The flush at exit."""
        self.export_metrics()
        self.export_logs()


WORK_CONTEXTS: tuple[Mapping[str, str], ...] = (
    {"agent.name": "Explore"},
    {"agent.name": "general-purpose"},
    {"skill.name": "pdf"},
    {"plugin.name": "code-review", "skill.name": "review"},
    {"mcp_server.name": "github", "mcp_tool.name": "create_issue"},
)
"""What a simulated turn may run for besides the main loop (a subagent, a skill, a plugin, an MCP tool)."""

TOOLS = ("Bash", "Edit", "Read")
"""The tools a simulated turn may call."""


def _turn(client: Client, model: str, usage: tuple[int, int, int, int], work: Mapping[str, str] | None = None) -> None:
    client.prompt()
    client.api_request(model, usage, work=work)
    agent = (work or {}).get("agent.name")
    if agent:
        client.event(
            "subagent_completed",
            agent_type=agent,
            is_built_in=True,
            duration_ms=str(1000 + sum(usage) % 20_000),
            total_tokens=str(sum(usage)),
            model=model,
        )


def _every_combination(client: Client, model: str) -> list[Callable[[], None]]:
    """One turn in every work context (and the main loop) and every tool call outcome, and both
    branches of the housekeeping events (:attr:`TeamPlan.cover_combinations`)."""
    usage = (100, 50, 1000, 200)
    turns = [functools.partial(_turn, client, model, usage, context) for context in (None, *WORK_CONTEXTS)]
    tools = [
        functools.partial(client.tool, tool, success=success, decision=decision)
        for tool in TOOLS
        for decision in ("accept", "reject")
        for success in (True, False)
    ]
    return [
        *turns,
        *tools,
        functools.partial(_housekeeping, client, 0.1),
        functools.partial(_housekeeping, client, 0.8),
    ]


def _housekeeping(client: Client, draw: float) -> None:
    """Events of a session's life besides turns: hooks, MCP connections, compactions (as the
    2.1.328 client sends them: numbers as strings)."""
    client.event("mcp_server_connection", status="connected", transport_type="stdio", duration_ms="120")
    client.event(
        "hook_execution_complete",
        hook_event="PreToolUse",
        num_hooks="1",
        num_success="1",
        num_blocking="0",
        num_non_blocking_error="0",
        num_cancelled="0",
        total_duration_ms=str(int(40 + 200 * draw)),
    )
    if draw < 0.3:
        client.event("compaction", trigger="auto", success="true", duration_ms=str(int(3000 * draw) + 500))
    if draw < 0.15:
        client.event("permission_mode_changed", from_mode="default", to_mode="acceptEdits")
    if draw > 0.7:
        client.event("internal_error", error_name="AbortError", error_code="ABORT_ERR")


@dataclass(frozen=True)
class TeamPlan:
    """A simulated team: who works when, with which models."""

    users: int = 5
    sessions: int = 24
    seconds: float = 20.0
    export_interval: float = 1.0  # metrics (the client's OTEL_METRIC_EXPORT_INTERVAL, default 60 s)
    logs_interval: float | None = None  # events (OTEL_LOGS_EXPORT_INTERVAL, default 5 s); None: export_interval
    temporality: str = "delta"
    models: tuple[str, ...] = tuple(PRICES)
    seed: int = 7
    email_every: int = 2  # every n-th user is logged in (e-mail known)
    error_rate: float = 0.1  # share of turns that end in a 429 (api_error event)
    service_name: str = CLAUDE_CODE_SERVICE  # or claude-code-desktop (Claude Desktop's Code tab)
    include: Include = Include()
    # OTEL_RESOURCE_ATTRIBUTES of each user, round robin (e.g. two teams): issue 21
    attribution: tuple[tuple[tuple[str, str], ...], ...] = ()
    subagent_share: float = 0.2  # share of turns run for a subagent, skill, plugin or MCP tool (WORK_CONTEXTS)
    # every session opens with one turn per work context and one tool call per tool, decision and
    # outcome: the team's attribute combinations are all seen in the first round, so a long run
    # (the soak) adds no new series after it and memory growth is the components' own
    cover_combinations: bool = False


@dataclass
class _Planned:
    client: Client
    start: float
    end: float
    actions: list[tuple[float, Callable[[], None]]]
    next_export: float = 0.0
    next_logs: float = 0.0
    started: bool = False
    closed: bool = False


class Team:
    """Runs a :class:`TeamPlan` in real time: sessions start, overlap, idle, end.

    >>> plan = TeamPlan(users=2, sessions=3, seconds=0.0)
    >>> len(Team("http://127.0.0.1:9", plan).sessions)
    3
    """

    def __init__(
        self,
        endpoint: str,
        plan: TeamPlan,
        *,
        headers: Mapping[str, str] | None = None,
        error_rate: Callable[[], float] | None = None,
    ) -> None:
        self.plan = plan
        # read when a turn happens, so that a fault switched on mid-round takes effect at once
        self.error_rate = error_rate or (lambda: plan.error_rate)
        self.ledger = Ledger()
        rnd = random.Random(plan.seed)
        people = [
            Identity(
                f"{i:02d}" + "f" * 62,
                f"dev{i}@example.com" if i % plan.email_every == 0 else None,
                resource_attributes=plan.attribution[i % len(plan.attribution)] if plan.attribution else (),
            )
            for i in range(plan.users)
        ]
        # a second stream of draws for what issue 21 added, so the seeded plans stay as they were
        work = random.Random(plan.seed + 1)
        self.sessions: list[_Planned] = []
        for n in range(plan.sessions):
            who = people[n % plan.users]
            model = plan.models[n % len(plan.models)]
            client = Client(
                endpoint,
                who,
                ledger=self.ledger,
                temporality=plan.temporality,
                headers=headers,
                service_name=plan.service_name,
                include=plan.include,
            )
            start = rnd.uniform(0, plan.seconds * 0.4)
            end = min(plan.seconds, start + rnd.uniform(plan.seconds * 0.3, plan.seconds * 0.6))
            actions: list[tuple[float, Callable[[], None]]] = []
            t = start
            while True:
                # think time: often longer than the export interval, so delta streams go sparse
                t += rnd.choice((0.2, 0.5, 1.5, 2.5)) * plan.export_interval
                if t >= end:
                    break
                usage = (rnd.randint(50, 4000), rnd.randint(10, 2000), rnd.randint(0, 20000), rnd.randint(0, 3000))
                context = work.choice(WORK_CONTEXTS) if work.random() < plan.subagent_share else None
                actions.append((t, functools.partial(_turn, client, model, usage, context)))
                if rnd.random() < 0.5:
                    tool = rnd.choice(TOOLS)
                    decision = "reject" if rnd.random() < 0.15 else "accept"
                    actions.append(
                        (t, functools.partial(client.tool, tool, success=rnd.random() < 0.9, decision=decision))
                    )
                draw = rnd.random()
                actions.append((t, functools.partial(self._maybe_rate_limited, client, model, draw)))
            actions.insert(0, (start, functools.partial(_housekeeping, client, work.random())))
            if plan.cover_combinations:
                actions[1:1] = [(start, action) for action in _every_combination(client, model)]
            actions.append((end, functools.partial(client.add, "claude_code.active_time.total", 3.5, type="cli")))
            actions.append((end, functools.partial(client.add, "claude_code.active_time.total", 1.5, type="user")))
            if n % 2 == 0:
                actions.append((end, functools.partial(client.commit, pull_request=n % 4 == 0)))
            self.sessions.append(_Planned(client, start, end, actions))

    def _maybe_rate_limited(self, client: Client, model: str, draw: float) -> None:
        rate = self.error_rate()
        if draw < rate:
            client.api_error(model, 429)
        # with errors on, now and then a request gives up after its retries, or is refused
        if draw < rate / 5:
            client.event("api_retries_exhausted", model=model, error="overloaded", status_code=529, total_attempts=11)
        elif draw < rate / 3:
            client.event("api_refusal", model=model, request_id="req_simulated", speed="normal", attempt=1)

    def run(self, stop: threading.Event | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        """Play the plan; returns when every session has ended and flushed (or ``stop`` is set)."""
        t0 = clock()
        pending = sorted(self.sessions, key=lambda s: s.start)
        while not all(s.closed for s in pending):
            if stop is not None and stop.is_set():
                break
            now = clock() - t0
            for s in pending:
                if s.closed or now < s.start:
                    continue
                logs_interval = self.plan.logs_interval or self.plan.export_interval
                if not s.started:
                    s.started, s.next_export, s.next_logs = (
                        True,
                        s.start + self.plan.export_interval,
                        s.start + logs_interval,
                    )
                while s.actions and s.actions[0][0] <= now:
                    s.actions.pop(0)[1]()
                if now >= s.end and not s.actions:
                    s.client.close()
                    s.closed = True
                    continue
                if now >= s.next_export:
                    s.client.export_metrics()
                    s.next_export += self.plan.export_interval
                if now >= s.next_logs:
                    s.client.export_logs()
                    s.next_logs += logs_interval
            # pacing of the workload itself (not a test synchronisation)
            time.sleep(0.02)
