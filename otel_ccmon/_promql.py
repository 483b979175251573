"""The one Prometheus / Thanos Query HTTP client of otel-ccmon (issue 31): instant queries and the
other JSON endpoints, with TLS and basic auth for a secured stack and the long-term parameters for
Thanos. Used by the local stack (``devstack``: start-up checks, ``ccmon stack status``), ``ccmon
doctor`` and Claude Code's report. Standard library only, so that every caller can use it.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

LONG_TERM_PARAMS = {"max_source_resolution": "1h", "partial_response": "false"}
"""Asked of every query. Thanos Query (docs/long-term.md): read the finest resolution the bucket
holds for each range, down to 1-hour blocks for history older than raw retention, and refuse to
answer with a store missing rather than return less than was recorded. Prometheus ignores both."""


@dataclass(frozen=True)
class Server:
    """A Prometheus-API server: its base URL and, for a secured one, the CA context and basic auth.

    >>> Server("http://127.0.0.1:9090/").url("/api/v1/query", {"query": "up"})
    'http://127.0.0.1:9090/api/v1/query?query=up'
    """

    base: str
    tls: ssl.SSLContext | None = None
    auth: tuple[str, str] | None = None
    timeout: float = 30

    def url(self, path: str, params: dict[str, Any] | None = None) -> str:
        return self.base.rstrip("/") + path + ("?" + urllib.parse.urlencode(params) if params else "")


def _server(server: Server | str) -> Server:
    return Server(server) if isinstance(server, str) else server


def get_json(server: Server | str, path: str, params: dict[str, Any] | None = None) -> Any:
    """The JSON body of ``path``; Prometheus and Thanos answer refusals with a JSON body too, which
    is returned as it is (the caller reads ``status``). Unreachable: ``OSError``."""
    s = _server(server)
    request = urllib.request.Request(s.url(path, params))
    if s.auth is not None:
        token = base64.b64encode(f"{s.auth[0]}:{s.auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=s.timeout, context=s.tls) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return json.loads(body or b"{}")
        except ValueError:
            raise OSError(f"{s.base} answered {exc.code}: {body[:200]!r}") from None


def range_query(server: Server | str, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
    """The result matrix of a range query (``expr`` evaluated at ``start``, ``start + step``, ... up to
    ``end``), long-term parameters included; a refusal is a ``ValueError`` with the server's words."""
    params: dict[str, Any] = {"query": expr, "start": start, "end": end, "step": step, **LONG_TERM_PARAMS}
    body = get_json(server, "/api/v1/query_range", params)
    if body.get("status") != "success":
        raise ValueError(f"{_server(server).base} refused {expr!r}: {body.get('error')}")
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def instant(server: Server | str, expr: str, at: float | None = None) -> list[dict[str, Any]]:
    """The result list of an instant query (at ``at``, a Unix time, or now), long-term parameters
    included; a refusal is a ``ValueError`` with the server's words."""
    params: dict[str, Any] = {"query": expr, **({"time": at} if at is not None else {}), **LONG_TERM_PARAMS}
    body = get_json(server, "/api/v1/query", params)
    if body.get("status") != "success":
        raise ValueError(f"{_server(server).base} refused {expr!r}: {body.get('error')}")
    result: list[dict[str, Any]] = body["data"]["result"]
    return result
