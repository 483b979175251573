"""The secured topology on the real binaries (``ccmon stack up --secure``, docs/security.md): OTLP
needs TLS and the bearer token, Prometheus and Alertmanager need TLS and basic auth, every hop
carries its credentials from files, and no secret shows in the repository, an argument list or
a log."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from otel_ccmon.claude_code import Client, Identity, Ledger
from otel_ccmon.devstack import security
from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.procs import wait_for
from otel_ccmon.devstack.stack import Stack
from tests.otlp_payloads import counter_request
from tests.support import ROOT

PROTOBUF = {"content-type": "application/x-protobuf"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    st = Stack(
        StackConfig.with_free_ports(
            Path(tmp_path_factory.mktemp("secure")),
            scrape_interval="1s",
            evaluation_interval="1s",
            export_interval_ms=500,
            app_args=("--tick", "0.25"),
            components=("sink", "collector", "prometheus", "alertmanager", "receiver", "app"),
            secure=True,
        )
    )
    try:
        st.up()
        yield st
    finally:
        st.down()


def creds(stack: Stack) -> security.Credentials:
    return security.Credentials(stack.workdir / "secrets")


def push(stack: Stack, service: str, token: str | None) -> httpx.Response:
    body = counter_request({"service.name": service}, "neural.operations", "operation_type", ["learning"], 1, 2)
    headers = {**PROTOBUF, **({"Authorization": f"Bearer {token}"} if token is not None else {})}
    return httpx.post(
        stack.config.url("otlp_http", "/v1/metrics"), content=body, headers=headers, verify=creds(stack).ssl_context()
    )


def refused_in_plain_http(url: str) -> bool:
    """Plain HTTP to a TLS port: Go's TLS server answers 400 ("an HTTP request to an HTTPS server")."""
    try:
        response = httpx.post(url, content=b"", headers=PROTOBUF)
    except httpx.HTTPError:
        return True
    return response.status_code == 400 and "HTTPS" in response.text


def test_otlp_requires_the_token_and_tls(stack: Stack) -> None:
    assert push(stack, "no-token", None).status_code == 401
    assert push(stack, "wrong-token", "not-the-token").status_code == 401
    assert push(stack, "right-token", creds(stack).otlp_token).status_code == 200
    wait_for(lambda: stack.prom_query('neural_operations_total{job="right-token"}'), 30, "the authenticated push")
    # nothing of the refused pushes reached Prometheus
    assert not stack.prom_query('{job=~"no-token|wrong-token"}')
    # plain HTTP to the TLS endpoint fails
    plain = stack.config.url("otlp_http", "/v1/metrics").replace("https://", "http://")
    assert refused_in_plain_http(plain)
    # and a client that does not trust our CA refuses the server
    with pytest.raises(httpx.ConnectError):
        httpx.post(stack.config.url("otlp_http", "/v1/metrics"), content=b"", headers=PROTOBUF)


def test_the_app_and_a_claude_code_client_authenticate_with_the_standard_variables(stack: Stack) -> None:
    # the demo app got OTEL_EXPORTER_OTLP_HEADERS / _CERTIFICATE from the stack: its series arrive
    wait_for(lambda: stack.prom_query('neural_operations_total{job="claude-code-app"}'), 60, "the app's series")
    ledger = Ledger()
    client = Client(
        stack.config.url("otlp_http"),
        Identity("u-secure"),
        ledger=ledger,
        headers={"Authorization": f"Bearer {creds(stack).otlp_token}"},
        ssl_context=creds(stack).ssl_context(),
    )
    client.api_request("claude-haiku-4-5", (100, 10, 0, 0))
    client.close()
    assert ledger.total("delivered", "claude_code.cost.usage") > 0 and not ledger.lost


@pytest.mark.parametrize("component", ["prometheus", "alertmanager"])
def test_web_endpoints_need_tls_and_basic_auth(stack: Stack, component: str) -> None:
    api = "/api/v1/status/buildinfo" if component == "prometheus" else "/api/v2/status"
    url = stack.config.url(component, api)
    context = creds(stack).ssl_context()
    assert httpx.get(url, verify=context).status_code == 401
    assert httpx.get(url, verify=context, auth=("ccmon", "wrong")).status_code == 401
    assert httpx.get(url, verify=context, auth=creds(stack).basic_auth()).status_code == 200
    assert refused_in_plain_http(url.replace("https://", "http://"))


def test_every_hop_carries_its_credentials(stack: Stack) -> None:
    """Prometheus scrapes the collector (TLS), itself and Alertmanager (TLS + auth), and sends alerts
    to Alertmanager (TLS + auth); Alertmanager delivers to the receiver with its bearer token."""

    def targets_up() -> bool:
        up = {r["metric"]["job"]: r["value"][1] for r in stack.prom_query("up")}
        return all(up.get(job) == "1" for job in ("app-metrics", "prometheus", "alertmanager"))

    wait_for(targets_up, 60, "the secured scrape targets up")
    active = stack.prom_query("prometheus_notifications_alertmanagers_discovered")
    assert active and float(active[0]["value"][1]) == 1
    headers = {"Authorization": f"Bearer {stack.receiver_token()}"}
    wait_for(
        lambda: httpx.get(
            stack.config.url("receiver", "/alerts"), params={"alertname": "Watchdog"}, headers=headers
        ).json()["alerts"],
        60,
        "the Watchdog through Prometheus -> Alertmanager (TLS + auth) -> receiver (token)",
    )

    # alerts went out over TLS with basic auth (errors while Alertmanager was still starting do not count)
    # (Prometheus scrapes its own counter a second after the notification went out)
    def sent() -> bool:
        result = stack.prom_query("sum(prometheus_notifications_sent_total)")
        return bool(result) and float(result[0]["value"][1]) > 0

    wait_for(sent, 30, "Prometheus's own count of notifications sent to Alertmanager")


def test_no_secret_in_the_repository_arguments_or_logs(stack: Stack) -> None:
    c = creds(stack)
    secrets_ = [c.otlp_token, c.web_password, stack.receiver_token(), c.path(security.KEY).read_text().split("\n")[1]]
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for raw in filter(None, tracked):
        path = ROOT / raw.decode()
        if path.is_file():
            content = path.read_bytes()
            assert not any(s.encode() in content for s in secrets_), path
    for proc in stack.procs.values():
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        assert not any(s in cmdline for s in secrets_), proc.name
    for log in (stack.workdir / "logs").glob("*.log"):
        text = log.read_text(errors="replace")
        assert not any(s in text for s in secrets_), log
    assert oct(os.stat(c.dir).st_mode & 0o777) == "0o700"
    for name in security.FILES:
        assert oct(os.stat(c.path(name)).st_mode & 0o777) == "0o600", name


def test_doctor_speaks_tls_to_a_secured_stack(stack: Stack) -> None:
    """Issue 31: `ccmon doctor` against a `--secure` stack built every URL as http:// and reported
    Prometheus unreachable; it now reads from the stack's state that it is secured and uses its CA
    and basic auth (the receiver keeps its own token)."""
    from tests.support import venv_bin

    def report() -> subprocess.CompletedProcess[str] | None:
        result = subprocess.run(
            [venv_bin("ccmon"), "doctor", "--workdir", str(stack.workdir), "--repo", str(ROOT)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        return result if "OK    receiver token accepted" in result.stdout else None

    result = wait_for(report, 60, "the doctor's report of the secured stack", interval=2)
    for check in ("Prometheus reachable", "Alertmanager reachable", "rules loaded", "receiver token accepted"):
        assert f"OK    {check}" in result.stdout, result.stdout
