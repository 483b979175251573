"""The recording helpers: the spec's ``metrics.ts`` helpers in Python naming."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar, overload

from otel_ccmon import _core
from otel_ccmon._core import Monitor
from otel_ccmon._recorder import Recorder, in_range
from otel_ccmon._settings import Settings

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def initialize_metrics(settings: Settings | None = None, *, meter_provider: Any = None, **overrides: Any) -> Monitor:
    """Set up metrics for this process (idempotent) and return the monitor.

    Keyword overrides are :class:`Settings` fields applied over the environment.

    >>> import otel_ccmon
    >>> monitor = otel_ccmon.initialize_metrics()
    >>> monitor is otel_ccmon.initialize_metrics()
    True
    """
    if settings is None and (overrides or _core.current() is None):
        settings = Settings.from_env(**overrides)
    return _core.initialize(settings, meter_provider=meter_provider)


configure = initialize_metrics


def _rec() -> Recorder:
    # hot path: one module-attribute read; initialise on first use
    return _core.RECORDER or initialize_metrics().recorder


def shutdown_metrics() -> None:
    """Flush and stop exporting (bounded by ``shutdown_timeout_ms``, 2 s by default)."""
    monitor = _core.current()
    if monitor is not None:
        monitor.shutdown()


# -- counters ------------------------------------------------------------------------------
def record_neural_operation(operation_type: str, count: int = 1) -> None:
    """Count neural operations (``neural_operations_total``).

    >>> record_neural_operation("learning")
    >>> record_neural_operation("retrieval", count=1000)  # a batch
    """
    _rec().add("neural.operations", count, operation_type)


def record_feedback_cycle(count: int = 1) -> None:
    """Count completed feedback-loop cycles (``feedback_loop_cycles_total``).

    >>> record_feedback_cycle()
    """
    _rec().add("feedback_loop.cycles", count)


def record_pattern_learned(pattern_type: str, count: int = 1) -> None:
    """Count learned patterns (``patterns_learned_total``).

    >>> record_pattern_learned("coordination")
    """
    _rec().add("patterns.learned", count, pattern_type)


def record_pattern_reused(pattern_type: str, count: int = 1) -> None:
    """Count reuses of stored patterns (``patterns_reused_total``).

    >>> record_pattern_reused("prediction")
    """
    _rec().add("patterns.reused", count, pattern_type)


def record_pattern_extraction_error(error_type: str) -> None:
    """Count a pattern-extraction error (``pattern_extraction_errors_total``).

    >>> record_pattern_extraction_error("parse_error")
    """
    _rec().add("pattern.extraction.errors", 1, error_type)


def record_auto_rollback(reason: str) -> None:
    """Count an automatic rollback (``auto_rollback_total``).

    >>> record_auto_rollback("truth_score_below_threshold")
    """
    _rec().add("auto.rollback", 1, reason)


def record_db_connection_error(error_type: str) -> None:
    """Count a failure to connect to the database (``database_connection_errors_total``).

    Query errors are not connection errors; :func:`record_db_query` counts an
    exception as a connection error only if it is one of ``connection_errors``.

    >>> record_db_connection_error("timeout")
    """
    _rec().add("database.connection.errors", 1, error_type)


def record_cache_access(cache_type: str, hit: bool) -> None:
    """Count a cache hit or miss; ``cache_hit_rate`` is derived from these counts.

    >>> record_cache_access("patterns", hit=True)
    """
    _rec().cache_access(cache_type, hit)


def record_task_completed(task_type: str, status: str = "success") -> None:
    """Count a completed task (``task_completed_total``); status is success or failure.

    >>> record_task_completed("feature", "success")
    """
    _rec().add("task.completed", 1, task_type, status)


def record_error(error_type: str) -> None:
    """Count an application error (``errors_total``).

    >>> record_error("ValueError")
    """
    _rec().add("errors", 1, error_type)


# -- histograms ----------------------------------------------------------------------------
def record_pattern_confidence(pattern_type: str, value: float) -> None:
    """Record a pattern's confidence in [0, 1] (``pattern_confidence``).

    >>> record_pattern_confidence("coordination", 0.87)
    """
    _rec().observe("pattern.confidence", value, pattern_type, high=1.0)


def record_verification(agent_id: str, score: float, success: bool, reason: str | None = None) -> None:
    """Record one verification: ``truth_score``, the success/failure counters, ``agent_truth_score``.

    >>> record_verification("coder-agent", 0.97, True)
    >>> record_verification("tester-agent", 0.42, False, reason="tests_failed")
    """
    rec = _rec()
    if not in_range(score, 0.0, 1.0):
        rec.drop("truth.score", "invalid_value", score)
        return
    if not rec.attrs_ok("truth.score", agent_id):  # all three metrics or none
        return
    rec.observe("truth.score", score, agent_id, high=1.0)
    rec.set("agent.truth_score", score, agent_id, high=1.0)
    if success:
        rec.add("verification.success", 1, agent_id)
    else:
        rec.add("verification.failures", 1, agent_id, reason or "unspecified")


def observe_pattern_retrieval(seconds: float) -> None:
    """Record a pattern retrieval that took ``seconds``.

    >>> observe_pattern_retrieval(0.002)
    """
    _rec().observe("pattern.retrieval.duration", seconds)


def observe_db_query(query_type: str, table: str, seconds: float) -> None:
    """Record a database query that took ``seconds``.

    >>> observe_db_query("select", "patterns", 0.004)
    """
    _rec().observe("db.query.duration", seconds, query_type, table)


def observe_goap_planning(plan_type: str, seconds: float) -> None:
    """Record a GOAP plan that took ``seconds``.

    >>> observe_goap_planning("feature-implementation", 0.8)
    """
    _rec().observe("goap.planning.duration", seconds, plan_type)


def observe_agent_task(agent_id: str, task_type: str, seconds: float) -> None:
    """Record an agent task that took ``seconds``.

    >>> observe_agent_task("coder-agent", "feature", 12.5)
    """
    _rec().observe("agent.task.duration", seconds, agent_id, task_type)


# -- gauges --------------------------------------------------------------------------------
def set_pattern_memory(num_bytes: float) -> None:
    """Set ``pattern_memory_bytes``.

    >>> set_pattern_memory(48_000_000)
    """
    _rec().set("pattern.memory", num_bytes)


def set_memory_compression_ratio(ratio: float) -> None:
    """Set ``memory_compression_ratio`` (compressed ÷ raw, 0-1).

    >>> set_memory_compression_ratio(0.42)
    """
    _rec().set("memory.compression.ratio", ratio, high=1.0)


def set_coordination_efficiency(ratio: float) -> None:
    """Set ``coordination_efficiency`` (0-1).

    >>> set_coordination_efficiency(0.97)
    """
    _rec().set("coordination.efficiency", ratio, high=1.0)


def set_background_queue_length(length: int) -> None:
    """Set ``background_task_queue_length``.

    >>> set_background_queue_length(12)
    """
    _rec().set("background_task.queue.length", length)


def set_patterns_active(count: int) -> None:
    """Set ``patterns_active``.

    >>> set_patterns_active(5000)
    """
    _rec().set("patterns.active", count)


def set_patterns_unused(count: int) -> None:
    """Set ``patterns_unused`` (patterns idle longer than the app's idle period).

    >>> set_patterns_unused(120)
    """
    _rec().set("patterns.unused", count)


# -- timers ------------------------------------------------------------------------------------
class Timer:
    """Times a block, a function or an awaitable and records it on exit.

    Use as ``with``/``async with`` block or as a decorator. An exception is
    counted (``errors_total{error_type=<class name>}``; connection errors also in
    ``database_connection_errors_total``) and re-raised unchanged.
    """

    __slots__ = ("_connection_errors", "_record", "_start")

    def __init__(
        self,
        record: Callable[[float], None],
        connection_errors: tuple[type[BaseException], ...] = (),
    ) -> None:
        self._record = record
        self._connection_errors = connection_errors
        self._start = 0.0

    def _finish(self, exc: BaseException | None) -> None:
        self._record(time.perf_counter() - self._start)
        if exc is not None and isinstance(exc, Exception):
            rec = _rec()
            if self._connection_errors and isinstance(exc, self._connection_errors):
                rec.add("database.connection.errors", 1, type(exc).__name__)
            rec.add("errors", 1, type(exc).__name__)

    def __enter__(self) -> Timer:
        self._start = time.perf_counter()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._finish(exc)

    async def __aenter__(self) -> Timer:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._finish(exc)

    def _fresh(self) -> Timer:
        # a decorated function may run concurrently: each call gets its own timer
        return Timer(self._record, self._connection_errors)

    def __call__(self, func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with self._fresh():
                    return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def run(self, fn: Callable[[], Any]) -> Any:
        """Call ``fn`` timed; if it returns an awaitable, return one that times the await."""
        timer = self._fresh().__enter__()
        try:
            result = fn()
        except BaseException as exc:
            timer._finish(exc)
            raise
        if inspect.isawaitable(result):
            return timer._await(result)
        timer._finish(None)
        return result

    async def _await(self, awaitable: Awaitable[Any]) -> Any:
        try:
            value = await awaitable
        except BaseException as exc:
            self._finish(exc)
            raise
        self._finish(None)
        return value


@overload
def record_db_query(
    query_type: str, table: str, fn: None = None, *, connection_errors: tuple[type[BaseException], ...] = ...
) -> Timer: ...
@overload
def record_db_query(
    query_type: str,
    table: str,
    fn: Callable[[], T],
    *,
    connection_errors: tuple[type[BaseException], ...] = ...,
) -> T: ...
def record_db_query(
    query_type: str,
    table: str,
    fn: Callable[[], Any] | None = None,
    *,
    connection_errors: tuple[type[BaseException], ...] = (ConnectionError,),
) -> Any:
    """Time a database query (``db_query_duration_seconds``) and return its result.

    ``fn`` may be sync or return an awaitable (then ``await`` the helper). Without
    ``fn`` it returns a :class:`Timer` (context manager / decorator). Exceptions
    are counted and re-raised; ``connection_errors`` also count as connection errors.

    >>> record_db_query("select", "patterns", lambda: [1, 2])
    [1, 2]
    >>> with record_db_query("insert", "embeddings"):
    ...     pass
    """
    timer = Timer(lambda s: observe_db_query(query_type, table, s), connection_errors)
    return timer if fn is None else timer.run(fn)


@overload
def record_goap_planning(plan_type: str, fn: None = None) -> Timer: ...
@overload
def record_goap_planning(plan_type: str, fn: Callable[[], T]) -> T: ...
def record_goap_planning(plan_type: str, fn: Callable[[], Any] | None = None) -> Any:
    """Time GOAP planning (``goap_planning_duration_seconds``) and return the plan.

    >>> record_goap_planning("feature-implementation", lambda: ["step1", "step2"])
    ['step1', 'step2']
    """
    timer = Timer(lambda s: observe_goap_planning(plan_type, s))
    return timer if fn is None else timer.run(fn)


@overload
def record_pattern_retrieval(fn: None = None) -> Timer: ...
@overload
def record_pattern_retrieval(fn: Callable[[], T]) -> T: ...
def record_pattern_retrieval(fn: Callable[[], Any] | None = None) -> Any:
    """Time a pattern retrieval (``pattern_retrieval_duration_seconds``).

    >>> with record_pattern_retrieval():
    ...     pass
    """
    timer = Timer(observe_pattern_retrieval)
    return timer if fn is None else timer.run(fn)


@overload
def record_agent_task(agent_id: str, task_type: str, fn: None = None) -> Timer: ...
@overload
def record_agent_task(agent_id: str, task_type: str, fn: Callable[[], T]) -> T: ...
def record_agent_task(agent_id: str, task_type: str, fn: Callable[[], Any] | None = None) -> Any:
    """Time an agent task (``agent_task_duration_seconds``).

    >>> record_agent_task("coder-agent", "bugfix", lambda: "done")
    'done'
    """
    timer = Timer(lambda s: observe_agent_task(agent_id, task_type, s))
    return timer if fn is None else timer.run(fn)
