"""otel-ccmon: OpenTelemetry metrics for agent-orchestration systems.

>>> import otel_ccmon
>>> monitor = otel_ccmon.initialize_metrics()
>>> otel_ccmon.record_neural_operation("learning")
>>> otel_ccmon.record_verification("coder-agent", 0.97, True)
"""

from __future__ import annotations

from otel_ccmon._api import (
    Timer,
    configure,
    initialize_metrics,
    observe_agent_task,
    observe_db_query,
    observe_goap_planning,
    observe_pattern_retrieval,
    record_agent_task,
    record_auto_rollback,
    record_cache_access,
    record_db_connection_error,
    record_db_query,
    record_error,
    record_feedback_cycle,
    record_goap_planning,
    record_neural_operation,
    record_pattern_confidence,
    record_pattern_extraction_error,
    record_pattern_learned,
    record_pattern_retrieval,
    record_pattern_reused,
    record_task_completed,
    record_verification,
    set_background_queue_length,
    set_coordination_efficiency,
    set_memory_compression_ratio,
    set_pattern_memory,
    set_patterns_active,
    set_patterns_unused,
    shutdown_metrics,
)
from otel_ccmon._app_catalog import (
    AppCatalog,
    AppMetrics,
    CatalogError,
    Objective,
    check_catalog,
    load_catalog,
    register_catalog,
)
from otel_ccmon._catalog import CATALOG, Attribute, Kind, MetricSpec
from otel_ccmon._core import Monitor
from otel_ccmon._genai import genai_agent, instrument_genai, uninstrument_genai
from otel_ccmon._meta import VERSION as __version__
from otel_ccmon._runtime import monitor_event_loop
from otel_ccmon._settings import Settings
from otel_ccmon.fastapi import instrument_app

__all__ = [
    "CATALOG",
    "AppCatalog",
    "AppMetrics",
    "Attribute",
    "CatalogError",
    "Kind",
    "MetricSpec",
    "Monitor",
    "Objective",
    "Settings",
    "Timer",
    "__version__",
    "check_catalog",
    "configure",
    "genai_agent",
    "initialize_metrics",
    "instrument_app",
    "instrument_genai",
    "load_catalog",
    "monitor_event_loop",
    "observe_agent_task",
    "observe_db_query",
    "observe_goap_planning",
    "observe_pattern_retrieval",
    "record_agent_task",
    "record_auto_rollback",
    "record_cache_access",
    "record_db_connection_error",
    "record_db_query",
    "record_error",
    "record_feedback_cycle",
    "record_goap_planning",
    "record_neural_operation",
    "record_pattern_confidence",
    "record_pattern_extraction_error",
    "record_pattern_learned",
    "record_pattern_retrieval",
    "record_pattern_reused",
    "record_task_completed",
    "record_verification",
    "register_catalog",
    "set_background_queue_length",
    "set_coordination_efficiency",
    "set_memory_compression_ratio",
    "set_pattern_memory",
    "set_patterns_active",
    "set_patterns_unused",
    "shutdown_metrics",
    "uninstrument_genai",
]
