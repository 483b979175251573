"""The demo agent application (``ccmon demo``): simulates an agent system through the public API.

Installed with ``pip install 'otel-ccmon[demo]'``. ``app`` holds the simulation and its FastAPI
app, ``cli`` the ``ccmon demo`` command.
"""
