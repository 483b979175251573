"""Demo agent application: simulates the agent system through otel_ccmon's public API.

Every tick it performs neural operations, verifications, GOAP plans, real SQLite
queries, real cache look-ups, tasks and pattern bookkeeping. Faults push one
alert's metric across the spec's threshold until cleared (``POST/DELETE
/faults/{name}`` or ``--fault NAME``). ``GET /recorded`` returns what the app
recorded into each counter, so tests can compare it with what a backend shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sqlite3
import sys
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import otel_ccmon as ccmon
from otel_ccmon._extras import require
from otel_ccmon.devstack.anthropic_stub import DEMO_SCENARIOS

if TYPE_CHECKING:
    from fastapi import FastAPI  # the [demo] extra; imported when the app is built

require("the demo app", "demo", "fastapi", "uvicorn")

AGENTS = ("coder-agent", "reviewer-agent", "tester-agent", "planner-agent")
PATTERN_TYPES = ("coordination", "optimization", "prediction")
OPERATION_SPLIT = (("learning", 0.3), ("retrieval", 0.6), ("extraction", 0.1))
TASK_TYPES = ("feature", "bugfix", "refactor")
TABLES = ("patterns", "embeddings", "trajectories")

FAULTS: dict[str, str] = {
    "slow_db": "every query sleeps 25 ms (DatabaseSlowQueries, p95 > 10 ms)",
    "slow_retrieval": "pattern retrieval sleeps 25 ms (PatternRetrievalSlow, SLO burn)",
    "db_connection_failures": "each tick fails to open the database 5 times (DatabaseConnectionFailure)",
    "low_truth": "truth scores around 0.5 (TruthScoreCriticallyLow, AgentReliabilityLow, rollbacks)",
    "verification_failures": "20 % of verifications fail (VerificationFailureRate)",
    "low_confidence": "pattern confidence around 0.5 (PatternConfidenceDeclining)",
    "cache_misses": "the cache is flushed before every look-up (CacheHitRateLow)",
    "stalled_feedback": "no feedback-loop cycles (FeedbackLoopStalled)",
    "slow_planning": "GOAP plans take 8 s (GOAPPlanningSlowdown)",
    "low_efficiency": "coordination efficiency 0.80 (AgentCoordinationEfficiency)",
    "low_compression": "memory compression ratio 0.40 (MemoryCompressionRateLow)",
    "extraction_errors": "pattern extraction errors every tick (PatternExtractionErrors)",
    "queue_growth": "background queue grows by 50 per tick (BackgroundTaskQueueLength)",
    "memory_growth": "pattern memory grows 1 MB per tick (PatternMemoryGrowth)",
    "unused_patterns": "2,000 idle patterns are added (UnusedPatternsAccumulating)",
    "degraded_neural": "neural operations drop to 100,000/s (NeuralOperationsDegraded)",
    "memory_hog": "holds 150 MiB of memory (HighMemoryUsage)",
    "llm_errors": "the agents' model calls fail with 500 (AgentAPIErrorRate; with a model stub)",
    "llm_slow": "the agents' model calls take 12 s (AgentModelLatencyHigh; with a model stub)",
    "claude_code_errors": (
        "30 % of the simulated Claude Code team's requests end in 429 (ClaudeCodeAPIErrorRate, "
        "ClaudeCodeRateLimitStorm; with --claude-code-team)"
    ),
}
CLAUDE_CODE_ERROR_RATE = 0.3
"""Share of the simulated Claude Code team's turns rate-limited while ``claude_code_errors`` is on
(none otherwise: a healthy demo pages nobody, issue 23)."""


@dataclass
class DemoConfig:
    """Options of the demo app."""

    tick_seconds: float = 1.0  # 0 disables the automatic loop; POST /tick drives it
    neural_rate: float = 172_000.0
    seed: int = 7
    db_path: str = ":memory:"
    idle_seconds: float = 3600.0
    faults: frozenset[str] = frozenset()
    # OTLP/HTTP endpoint of a simulated Claude Code team next to the agent system (make run), so
    # that the Claude Code dashboard, alerts and report have data from the first minute
    claude_code_team: str | None = None
    # the Messages API the agents call (make run: the stack's stub), every model_ticks ticks each;
    # None: no model calls (issue 33)
    model_url: str | None = None
    model: str = "claude-haiku-4-5"
    model_ticks: int = 10


class PatternStore:
    """Patterns with last-use times, for the active/unused gauges (counts, never ids, become metrics)."""

    def __init__(self, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        self._last_used: dict[int, float] = {}
        self._next = 0

    def add(self, now: float, count: int = 1, *, age: float = 0.0) -> None:
        for _ in range(count):
            self._last_used[self._next] = now - age
            self._next += 1

    def use(self, now: float, rng: random.Random) -> None:
        if self._last_used:
            key = rng.randrange(self._next)
            if key in self._last_used:
                self._last_used[key] = now

    def counts(self, now: float) -> tuple[int, int]:
        cutoff = now - self.idle_seconds
        return len(self._last_used), sum(1 for t in self._last_used.values() if t < cutoff)

    def drop_idle(self, now: float) -> None:
        cutoff = now - self.idle_seconds
        self._last_used = {k: t for k, t in self._last_used.items() if t >= cutoff}


class LruCache:
    """A small real LRU cache in front of the embeddings table."""

    def __init__(self, capacity: int = 64) -> None:
        self.capacity = capacity
        self._data: OrderedDict[int, bytes] = OrderedDict()

    def get(self, key: int) -> bytes | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: int, value: bytes) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.capacity:
            self._data.popitem(last=False)

    def clear(self) -> None:
        self._data.clear()


@dataclass
class AgentSystem:
    """The simulated agent system; all metrics go through otel_ccmon's public helpers."""

    config: DemoConfig
    faults: set[str] = field(default_factory=set)
    recorded: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.faults = set(self.config.faults)
        self.rng = random.Random(self.config.seed)
        self.db_lock = threading.Lock()
        self.db = sqlite3.connect(self.config.db_path, check_same_thread=False)
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS patterns (id INTEGER PRIMARY KEY, kind TEXT, confidence REAL);"
            "CREATE TABLE IF NOT EXISTS embeddings (id INTEGER PRIMARY KEY, vector BLOB);"
            "CREATE TABLE IF NOT EXISTS trajectories (id INTEGER PRIMARY KEY, steps INTEGER);"
        )
        with self.db:
            self.db.executemany(
                "INSERT OR IGNORE INTO embeddings (id, vector) VALUES (?, ?)",
                [(i, bytes(16)) for i in range(256)],
            )
        self.cache = LruCache()
        self.patterns = PatternStore(self.config.idle_seconds)
        self.patterns.add(time.time(), 500)
        self.memory_bytes = 48_000_000.0
        self.queue = 5
        self.ticks = 0
        self._hog: bytearray | None = None

    # -- helpers that also keep our own tally of counters --------------------------------------
    def _count(self, key: str, n: int = 1) -> None:
        self.recorded[key] += n

    def _query(self, query_type: str, table: str, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        def run() -> list[Any]:
            if "slow_db" in self.faults:
                time.sleep(0.025)
            with self.db_lock:
                return self.db.execute(sql, params).fetchall()

        result: list[Any] = ccmon.record_db_query(query_type, table, run)
        return result

    def _connect_failing(self) -> None:
        try:  # a real failed connection: read-only open of a database that does not exist
            sqlite3.connect("file:/nonexistent-ccmon/db.sqlite?mode=ro", uri=True).execute("SELECT 1")
        except sqlite3.OperationalError:
            ccmon.record_db_connection_error("unable_to_open")
            self._count("database_connection_errors_total")

    # -- one simulation step ----------------------------------------------------------------------
    def tick(self, seconds: float) -> None:
        """One step of the simulated agent system: every metric of the catalog moves (faults change
        how); the steps run in a fixed order, so a seeded run is the same run."""
        rng, now = self.rng, time.time()
        self.ticks += 1
        self._neural(seconds)
        self._verification(rng)
        self._patterns(rng, now)
        self._cache_and_database(rng, now)
        self._planning_and_tasks(rng)
        self._gauges(rng, now)

    def _neural(self, seconds: float) -> None:
        rate = 100_000.0 if "degraded_neural" in self.faults else self.config.neural_rate
        for op, share in OPERATION_SPLIT:
            n = round(rate * seconds * share)
            if n:
                ccmon.record_neural_operation(op, count=n)
                self._count(f"neural_operations_total:{op}", n)

    def _verification(self, rng: random.Random) -> None:
        for agent in AGENTS:
            if "low_truth" in self.faults:
                score = min(1.0, max(0.0, rng.gauss(0.5, 0.05)))
            else:
                score = min(1.0, max(0.0, rng.gauss(0.97, 0.01)))
            fail = score < 0.7 or ("verification_failures" in self.faults and rng.random() < 0.2)
            reason = "low_truth_score" if score < 0.7 else "checks_failed"
            ccmon.record_verification(agent, score, not fail, None if not fail else reason)
            self._count("verification_failures_total" if fail else "verification_success_total")
            if score < 0.7:
                ccmon.record_auto_rollback("truth_score_below_threshold")
                self._count("auto_rollback_total")

    def _patterns(self, rng: random.Random, now: float) -> None:
        for ptype in PATTERN_TYPES:
            mean = 0.5 if "low_confidence" in self.faults else 0.88
            ccmon.record_pattern_confidence(ptype, min(1.0, max(0.0, rng.gauss(mean, 0.03))))
            ccmon.record_pattern_learned(ptype)
            ccmon.record_pattern_reused(ptype, 2)
            self._count("patterns_learned_total")
            self._count("patterns_reused_total", 2)
        self.patterns.add(now, len(PATTERN_TYPES))

    def _cache_and_database(self, rng: random.Random, now: float) -> None:
        for _ in range(20):
            # a hot set, as real pattern look-ups have: ~95 % hits once warm
            key = rng.randrange(16) if rng.random() < 0.95 else rng.randrange(256)
            if "cache_misses" in self.faults:
                self.cache.clear()
            cached = self.cache.get(key)
            ccmon.record_cache_access("embeddings", cached is not None)
            self._count("cache_hits_total" if cached is not None else "cache_misses_total")
            if cached is None:
                rows = self._query("select", "embeddings", "SELECT vector FROM embeddings WHERE id = ?", (key,))
                self.cache.put(key, rows[0][0] if rows else b"")
            with ccmon.record_pattern_retrieval():
                if "slow_retrieval" in self.faults:
                    time.sleep(0.025)
                self.patterns.use(now, rng)
        self._query("insert", "patterns", "INSERT INTO patterns (kind, confidence) VALUES (?, ?)", ("demo", 0.9))
        self._query("insert", "trajectories", "INSERT INTO trajectories (steps) VALUES (?)", (rng.randrange(1, 9),))
        self._query("update", "trajectories", "UPDATE trajectories SET steps = steps + 1 WHERE id = 1")
        self._query(
            "delete", "trajectories", "DELETE FROM trajectories WHERE id < (SELECT MAX(id) - 100 FROM trajectories)"
        )
        self._query("select", "patterns", "SELECT COUNT(*) FROM patterns")
        if "db_connection_failures" in self.faults:
            for _ in range(5):
                self._connect_failing()

    def _planning_and_tasks(self, rng: random.Random) -> None:
        planning = 8.0 if "slow_planning" in self.faults else abs(rng.gauss(0.6, 0.2))
        ccmon.observe_goap_planning("feature-implementation", planning)
        agent, task_type = rng.choice(AGENTS), rng.choice(TASK_TYPES)
        ccmon.observe_agent_task(agent, task_type, abs(rng.gauss(20.0, 5.0)))
        status = "failure" if rng.random() < 0.05 else "success"
        ccmon.record_task_completed(task_type, status)
        self._count("task_completed_total")
        if status == "failure":
            ccmon.record_error("task_failed")
            self._count("errors_total")

        if "stalled_feedback" not in self.faults:
            ccmon.record_feedback_cycle()
            self._count("feedback_loop_cycles_total")
        if "extraction_errors" in self.faults:
            ccmon.record_pattern_extraction_error("parse_error")
            self._count("pattern_extraction_errors_total")

    def _gauges(self, rng: random.Random, now: float) -> None:
        self.queue = self.queue + 50 if "queue_growth" in self.faults else rng.randrange(0, 10)
        ccmon.set_background_queue_length(self.queue)
        self.memory_bytes += 1_000_000 if "memory_growth" in self.faults else 10
        ccmon.set_pattern_memory(self.memory_bytes)
        ccmon.set_memory_compression_ratio(0.40 if "low_compression" in self.faults else 0.72)
        ccmon.set_coordination_efficiency(0.80 if "low_efficiency" in self.faults else 0.97)
        if "unused_patterns" in self.faults and self.patterns.counts(now)[1] < 2000:
            self.patterns.add(now, 2000, age=self.patterns.idle_seconds + 1)
        active, unused = self.patterns.counts(now)
        ccmon.set_patterns_active(active)
        ccmon.set_patterns_unused(unused)
        if "memory_hog" in self.faults and self._hog is None:
            self._hog = bytearray(150 * 1024 * 1024)
            self._hog[::4096] = b"x" * len(self._hog[::4096])  # touch pages so RSS grows
        elif "memory_hog" not in self.faults:
            self._hog = None

    def claude_code_error_rate(self) -> float:
        return CLAUDE_CODE_ERROR_RATE if "claude_code_errors" in self.faults else 0.0

    def set_fault(self, name: str, on: bool) -> None:
        if name not in FAULTS:
            raise KeyError(name)
        if on:
            self.faults.add(name)
        else:
            self.faults.discard(name)
            if name == "unused_patterns":
                self.patterns.drop_idle(time.time())


def create_app(config: DemoConfig | None = None) -> Any:
    """Build the demo FastAPI app.

    >>> app = create_app(DemoConfig(tick_seconds=0))
    >>> app.title
    'otel-ccmon demo agent system'
    """
    from fastapi import FastAPI, HTTPException

    config = config or DemoConfig()
    system = AgentSystem(config)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        task = asyncio.create_task(_loop(system)) if config.tick_seconds > 0 else None
        team_stop = threading.Event()
        if config.claude_code_team:
            _start_claude_code_team(config.claude_code_team, system, team_stop)
        if config.model_url:
            _start_model_calls(config, system, team_stop)
        try:
            yield
        finally:
            team_stop.set()
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            ccmon.shutdown_metrics()
            print("ccmon demo: stopped, metrics flushed", file=sys.stderr, flush=True)

    app = FastAPI(title="otel-ccmon demo agent system", lifespan=lifespan)
    app.state.system = system
    ccmon.instrument_app(app)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "ticks": system.ticks}

    _add_fault_routes(app, system)

    @app.post("/tick")
    async def tick(seconds: float = 1.0) -> dict[str, Any]:
        await asyncio.to_thread(system.tick, seconds)
        return {"ticks": system.ticks}

    @app.get("/recorded")
    def recorded() -> dict[str, int]:
        return dict(system.recorded)

    @app.post("/verifications", status_code=202)
    def verify(body: dict[str, Any]) -> dict[str, Any]:
        # Passed to the helper unvalidated on purpose: invalid input is the
        # library's job (dropped and counted in ccmon_dropped_measurements_total).
        ccmon.record_verification(
            str(body.get("agent_id", "")),
            body.get("score", float("nan")),
            bool(body.get("success")),
            body.get("reason"),
        )
        return {"accepted": True}

    @app.get("/patterns/{pattern_id}")
    def get_pattern(pattern_id: int) -> dict[str, Any]:
        rows = system._query("select", "patterns", "SELECT kind, confidence FROM patterns WHERE id = ?", (pattern_id,))
        if not rows:
            ccmon.record_error("pattern_not_found")
            raise HTTPException(404, "no such pattern")
        return {"id": pattern_id, "kind": rows[0][0], "confidence": rows[0][1]}

    return app


SCENARIOS = tuple(DEMO_SCENARIOS)
"""What the agents ask the model stub for, by the faults on (the stub answers each by name)."""


def _start_model_calls(config: DemoConfig, system: AgentSystem, stop: threading.Event) -> None:
    """The agents' model calls (issue 33): each agent asks the model every ``model_ticks`` ticks,
    through the official Anthropic SDK hooked by otel_ccmon (tokens, cost, latency, errors per agent).

    In a worker process of the same service: the SDK's import alone is about 40 MB, which would
    put the demo over the application's own 100 MiB memory target (HighMemoryUsage); the worker
    reports no runtime metrics of its own. The faults reach it through a shared value."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    scenario = ctx.Value("i", 0)
    interval = max(config.tick_seconds, 0.25) * config.model_ticks
    worker = ctx.Process(
        target=_model_worker,
        args=(config.model_url, config.model, interval, scenario, os.getpid()),
        name="ccmon-demo-agents",
        daemon=True,
    )
    worker.start()

    def mirror_faults() -> None:
        while not stop.wait(0.2):
            on = [i for i, name in enumerate(SCENARIOS) if name in system.faults]
            scenario.value = on[0] if on else 0
        worker.terminate()
        worker.join(5)

    threading.Thread(target=mirror_faults, name="model-faults", daemon=True).start()


def _model_worker(url: str, model: str, interval: float, scenario: Any, parent: int) -> None:
    """The demo agents' model calls, in their own process (see :func:`_start_model_calls`)."""
    import anthropic
    from opentelemetry import trace

    from otel_ccmon._tracing import configure_tracing

    monitor = ccmon.initialize_metrics(runtime_metrics=False)
    ccmon.instrument_genai("anthropic")
    configure_tracing(monitor.settings)  # only with OTEL_TRACES_EXPORTER=otlp
    tracer = trace.get_tracer("otel_ccmon.demo")
    client = anthropic.Anthropic(base_url=url, max_retries=0, timeout=30.0)
    while os.getppid() == parent:  # the demo gone (even killed): stop
        time.sleep(interval)  # the agents' pace, not a synchronisation
        # one plan, each agent's step in it, the SDK's span of each model call under the step
        with tracer.start_as_current_span("plan"):
            for agent in AGENTS:
                prompt = f"[[{SCENARIOS[scenario.value]}]] next step"
                with (
                    tracer.start_as_current_span(f"agent {agent}"),
                    ccmon.genai_agent(agent),
                    contextlib.suppress(anthropic.APIError),  # counted by the hooks, by status
                ):
                    client.messages.create(model=model, max_tokens=256, messages=[{"role": "user", "content": prompt}])
    ccmon.shutdown_metrics()


def _start_claude_code_team(endpoint: str, system: AgentSystem, stop: threading.Event) -> None:
    """`make run`'s simulated Claude Code team, exporting to ``endpoint`` until ``stop`` is set."""
    from otel_ccmon.claude_code._simulator import TeamPlan
    from otel_ccmon.claude_code.cli import run_team_forever

    # two teams, as OTEL_RESOURCE_ATTRIBUTES would name them (issue 21)
    teams = (
        (
            ("department", "engineering"),
            ("team.id", "platform"),
            ("cost_center", "eng-123"),
            ("project", "api"),
        ),
        (("department", "engineering"), ("team.id", "web"), ("cost_center", "eng-456"), ("project", "webapp")),
    )
    plan = TeamPlan(users=6, sessions=12, seconds=120.0, export_interval=5.0, error_rate=0.0, attribution=teams)
    threading.Thread(
        target=run_team_forever,
        args=(endpoint, plan, stop, system.claude_code_error_rate),
        daemon=True,
    ).start()


def _add_fault_routes(app: FastAPI, system: AgentSystem) -> None:
    """``GET /faults`` and ``POST``/``DELETE /faults/NAME``: the injectable faults (docs: README)."""
    from fastapi import HTTPException

    @app.get("/faults")
    def faults() -> dict[str, Any]:
        return {"active": sorted(system.faults), "available": FAULTS}

    def toggle(name: str, on: bool) -> dict[str, Any]:
        try:
            system.set_fault(name, on)
        except KeyError:
            raise HTTPException(404, f"unknown fault {name!r}; see GET /faults") from None
        return {"active": sorted(system.faults)}

    @app.post("/faults/{name}")
    def enable(name: str) -> dict[str, Any]:
        return toggle(name, True)

    @app.delete("/faults/{name}")
    def clear(name: str) -> dict[str, Any]:
        return toggle(name, False)


async def _loop(system: AgentSystem) -> None:
    interval = system.config.tick_seconds
    while True:
        started = time.perf_counter()
        await asyncio.to_thread(system.tick, interval)
        await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))


def run(host: str, port: int, config: DemoConfig) -> None:
    """Serve the demo app with uvicorn (blocking)."""
    import uvicorn

    uvicorn.run(create_app(config), host=host, port=port, log_level="warning")
