"""An application outside the demo with its own metrics (otel-ccmon's catalog extension)."""
