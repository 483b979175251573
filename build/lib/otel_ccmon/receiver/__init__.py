"""The alert receiver: Alertmanager's webhook target, authenticated, validated, durable, idempotent.

A service of its own (``ccmon webhook``), installed with ``pip install 'otel-ccmon[receiver]'``.
One module per concern: ``models`` (payloads), ``store`` (SQLite), ``hooks`` (alert hooks and
``hookrun``, their entry-point runner), ``app`` (the FastAPI app, its settings and ``serve``),
``cli`` (``ccmon webhook`` and ``ccmon alerts``).
"""
