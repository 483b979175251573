"""The local pipeline as child processes: ``ccmon stack up|down|status``.

The stack runs the repository's own config files. Compose service addresses in them
(``otel-collector:8889``, ``/run/secrets/…``) are rewritten to loopback ports and local
files by :func:`localize_prometheus` / :func:`localize_alertmanager` — the only
differences from the containerised deployment, besides shorter intervals in tests.
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from otel_ccmon._extras import require

require("the local stack", "cli", "yaml", "httpx", "aiosmtpd")

import yaml

from otel_ccmon._durations import duration_seconds
from otel_ccmon._promql import Server, instant
from otel_ccmon.devstack.components import (
    BY_NAME,
    PORT_COMPONENT,
    RETENTION_DEFAULT,
    START_ORDER,
    Context,
    running,
)
from otel_ccmon.devstack.config import StackConfig
from otel_ccmon.devstack.ports import STACK_ENV, Holder, holder, owned_by_group, port_in_use
from otel_ccmon.devstack.procs import (
    Proc,
    free_port,
    http_ok,
    wait_for,
)
from otel_ccmon.devstack.repo import bin_dir
from otel_ccmon.devstack.state import STATE_FILE

# compose address in the config files -> key of the local port
SERVICE_PORTS: Mapping[str, str] = {
    "prometheus-b:9090": "prometheus_b",
    "alertmanager-b:9093": "alertmanager_b",
    "otel-collector:8889": "collector_prometheus",
    "otel-collector:8888": "collector_telemetry",
    "app:3000": "app",
    "prometheus:9090": "prometheus",
    "alertmanager:9093": "alertmanager",
    "node-exporter:9100": "node_exporter",
    "alert-receiver:9095": "receiver",
    "thanos-sidecar:10902": "thanos_sidecar",
    "thanos-sidecar-b:10902": "thanos_sidecar_b",
    "thanos-store:10902": "thanos_store",
    "thanos-compact:10902": "thanos_compact",
    "thanos-query:10902": "thanos_query",
}
SECRET_NAMES = ("slack_webhook_url", "pagerduty_routing_key", "smtp_password", "receiver_token", "alert_receiver_url")


class StackError(RuntimeError):
    """The stack cannot start or is not what it should be; the message says why and what to do."""


MIN_SHORT_FOR_S = 10
"""The shortest `for` of shortened rules: longer than Prometheus's first scrape after a start (its
scrape manager applies targets every 5 s) plus a slow scrape, so that absent() and up == 0 alerts do
not fire while the stack starts or on one late scrape (issue 23; production's shortest `for`, 1m,
spans 4 scrapes of 15 s)."""
MIN_SHORT_RANGE_S = 10
"""The shortest range of shortened rules: it must outlast a restarted Prometheus's first-scrape gap
(its scrape manager applies targets on a 5 s tick), or every rate() empties, alert states reset and
an HA pair stops being redundant for a `for` (measured by the chaos suite, issue 23); 10 samples at
the fast mode's 1 s scrape (production: [5m] at 15 s, 20 samples)."""


def shorten(rules_text: str, factor: int) -> str:
    """The documented test transformation: divide every ``for`` and range-vector duration by ``factor``,
    keeping at least ``MIN_SHORT_FOR_S`` for a (non-zero) ``for`` and ``MIN_SHORT_RANGE_S`` for a range.

    For end-to-end tests and the fast demo mode (``ccmon stack up --fast-alerts``), which cannot
    wait minutes; nothing else in the rules changes.

    >>> shorten("rate(x[5m]) > 1\\nfor: 10m", 20)
    'rate(x[15s]) > 1\\nfor: 30s'
    >>> shorten("rate(x[5m]) > 1\\nfor: 2m", 60)
    'rate(x[10s]) > 1\\nfor: 10s'
    >>> shorten("for: 0m", 60)
    'for: 0s'
    """

    def scaled(text: str, floor: int = 1) -> str:
        seconds = int(duration_seconds(text))
        return f"{max(floor, seconds // factor) if seconds else 0}s"

    text = re.sub(r"\[((?:\d+[smhd])+)\]", lambda m: f"[{scaled(m.group(1), MIN_SHORT_RANGE_S)}]", rules_text)
    text = re.sub(r"offset ((?:\d+[smhd])+)", lambda m: f"offset {scaled(m.group(1))}", text)
    return re.sub(r"for: ((?:\d+[smhd])+)", lambda m: f"for: {scaled(m.group(1), MIN_SHORT_FOR_S)}", text)


def write_shortened_rules(source: Path, target: Path, factor: int) -> Path:
    """Copies of the rule files in ``source`` with durations divided by ``factor``, in ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for rules in sorted(source.glob("*.yml")):
        (target / rules.name).write_text(shorten(rules.read_text(), factor))
    return target


def long_term_retention(repo: Path) -> tuple[str, str, str]:
    """The compactor's retention per resolution (raw, 5m, 1h) from ``mixin/settings.yml`` ``long_term``.

    >>> long_term_retention(Path("/nonexistent"))
    ('30d', '180d', '2y')
    """
    try:
        settings = yaml.safe_load((repo / "mixin" / "settings.yml").read_text()) or {}
    except OSError:
        return RETENTION_DEFAULT
    lt = settings.get("long_term") or {}
    raw, five, hour = RETENTION_DEFAULT
    return (str(lt.get("retention_raw", raw)), str(lt.get("retention_5m", five)), str(lt.get("retention_1h", hour)))


def filesystem_bucket(directory: Path) -> str:
    """A Thanos objstore config of a local folder (the local HA stack's bucket)."""
    return yaml.safe_dump({"type": "FILESYSTEM", "config": {"directory": str(directory)}}, sort_keys=False)


FAST_ALERTS_FACTOR = 60
FAST_ALERTS: Mapping[str, Any] = {
    "scrape_interval": "1s",
    "evaluation_interval": "1s",
    "export_interval_ms": 500,
    "resend_delay": "1s",
    "app_args": ("--tick", "0.25"),
    "alertmanager_timing": {"group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
}
"""Stack settings of the fast demo mode and the alert end-to-end tests (with rules shortened
``FAST_ALERTS_FACTOR`` times): a fault fires its alert in seconds, not minutes."""


def localize_prometheus(
    config: dict[str, Any],
    ports: Mapping[str, int],
    *,
    running: Iterable[str],
    rules_dir: Path,
    scrape_interval: str,
    evaluation_interval: str,
) -> dict[str, Any]:
    """Rewrite compose targets to loopback ports; drop jobs of services that are not running.

    >>> cfg = {"scrape_configs": [{"job_name": "x", "static_configs": [{"targets": ["app:3000"]}]},
    ...        {"job_name": "grafana", "static_configs": [{"targets": ["grafana:3000"]}]}],
    ...        "rule_files": ["rules/a.yml"], "global": {}}
    >>> out = localize_prometheus(cfg, {"app": 3999}, running={"app"}, rules_dir=Path("/r"),
    ...                           scrape_interval="1s", evaluation_interval="1s")
    >>> [(j["job_name"], j["static_configs"][0]["targets"]) for j in out["scrape_configs"]]
    [('x', ['127.0.0.1:3999'])]
    >>> out["rule_files"]
    ['/r/a.yml']
    """
    running = set(running)
    out: dict[str, Any] = json.loads(json.dumps(config))  # deep copy of plain YAML data
    out.setdefault("global", {})
    out["global"]["scrape_interval"] = scrape_interval
    out["global"]["evaluation_interval"] = evaluation_interval
    out["global"]["scrape_timeout"] = scrape_interval
    out["rule_files"] = [str(rules_dir / Path(p).name) for p in out.get("rule_files", [])]

    def local(target: str) -> str | None:
        key = SERVICE_PORTS.get(target)
        if key is None or key not in ports or _component_of(key) not in running:
            return None
        return f"127.0.0.1:{ports[key]}"

    jobs = []
    for job in out.get("scrape_configs", []):
        targets = [t for sc in job.get("static_configs", []) for t in sc.get("targets", [])]
        mapped = [m for t in targets if (m := local(t))]
        if mapped:
            job["static_configs"] = [{"targets": mapped, **_labels(job)}]
            jobs.append(job)
    out["scrape_configs"] = jobs
    for am in out.get("alerting", {}).get("alertmanagers", []):
        am["static_configs"] = [
            {"targets": [m for sc in am.get("static_configs", []) for t in sc["targets"] if (m := local(t))]}
        ]
    return out


def _labels(job: Mapping[str, Any]) -> dict[str, Any]:
    labels: dict[str, str] = {}
    for sc in job.get("static_configs", []):
        labels.update(sc.get("labels", {}))
    return {"labels": labels} if labels else {}


def _component_of(port_key: str) -> str:
    return PORT_COMPONENT.get(port_key, port_key)


def port_conflicts(ports: Mapping[str, int], components: Iterable[str]) -> list[str]:
    """One paragraph per holder of ports that the components need: who holds which, and the fix."""
    wanted = set(components)
    # one group per other stack (its processes hold several ports), else per process
    groups: dict[str | Holder, tuple[Holder, list[tuple[str, int]]]] = {}
    for key, port in ports.items():
        if _component_of(key) in wanted and port_in_use(port):
            who = holder(port)
            groups.setdefault(who.stack_workdir or who, (who, []))[1].append((key, port))
    problems = []
    for who, items in groups.values():
        needs = ", ".join(f"{_component_of(key)} needs 127.0.0.1:{port} ({key})" for key, port in items)
        move = " ".join(f"--port {key}={free_port()}" for key, _ in items)
        stop = f"Stop it with `ccmon stack down --workdir {who.stack_workdir}`" if who.stack_workdir else "Stop it"
        problems.append(
            f"{needs}: in use by {who.describe()}. {stop}, or move ours: `ccmon stack up {move}` (any free ports)."
        )
    return problems


def localize_alertmanager(
    config: dict[str, Any], ports: Mapping[str, int], *, secrets_dir: Path, templates_dir: Path
) -> dict[str, Any]:
    """Point secrets at local files (the receiver's URL among them), email and PagerDuty at the sink.

    >>> cfg = {"global": {"slack_api_url_file": "/run/secrets/slack_webhook_url"}, "templates": ["/etc/x/*.tmpl"],
    ...        "receivers": [{"name": "r", "webhook_configs": [{"url_file": "/run/secrets/alert_receiver_url"}]}]}
    >>> out = localize_alertmanager(cfg, {"receiver": 1, "sink_http": 2, "sink_smtp": 3},
    ...                             secrets_dir=Path("/s"), templates_dir=Path("/t"))
    >>> out["global"]["slack_api_url_file"], out["receivers"][0]["webhook_configs"][0]["url_file"]
    ('/s/slack_webhook_url', '/s/alert_receiver_url')
    """
    text = json.dumps(config).replace("/run/secrets/", f"{secrets_dir}/")
    out: dict[str, Any] = json.loads(text)
    out["templates"] = [str(templates_dir / Path(t).name) for t in out.get("templates", [])]
    glob = out.setdefault("global", {})
    glob["pagerduty_url"] = f"http://127.0.0.1:{ports['sink_http']}/pagerduty/v2/enqueue"
    glob["smtp_smarthost"] = f"127.0.0.1:{ports['sink_smtp']}"
    glob["smtp_require_tls"] = False
    return out


def write_local_secrets(secrets_dir: Path, ports: Mapping[str, int]) -> None:
    """Local stand-in secrets: Slack posts go to the local sink; a random receiver token.

    Secrets are written once (a restarted stack keeps its token); the URLs follow the ports.
    """
    secrets_dir.mkdir(parents=True, exist_ok=True)
    urls = {
        "slack_webhook_url": f"http://127.0.0.1:{ports['sink_http']}/slack/services/LOCAL",
        "alert_receiver_url": f"http://127.0.0.1:{ports['receiver']}/webhook",
    }
    values = {
        **urls,
        "pagerduty_routing_key": "local-routing-key-0000000000000000",
        "smtp_password": "local-smtp-password",
        "receiver_token": secrets.token_urlsafe(24),
    }
    for name in SECRET_NAMES:
        path = secrets_dir / name
        if name in urls or not path.exists():
            path.write_text(values[name] + "\n")
            path.chmod(0o600)


class Stack:
    """Starts, checks and stops the local pipeline."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.procs: dict[str, Proc] = {}
        self.workdir = config.workdir
        self.logs = self.workdir / "logs"

    # -- configuration --------------------------------------------------------------------------
    def render(self) -> None:
        cfg = self.config
        self.workdir.mkdir(parents=True, exist_ok=True)
        repo = cfg.repo
        rules_dir = cfg.rules_dir or repo / "prometheus" / "rules"
        if cfg.ha and cfg.secure:
            raise StackError("--ha and --secure are not combined yet: choose one")
        if cfg.push_metrics and (cfg.ha or cfg.secure or cfg.direct_otlp):
            # one Prometheus without auth takes the pushes; the other modes are not wired for them yet
            raise StackError("--push is not combined with --ha, --secure or --direct-otlp yet: choose one")
        source = "prometheus-ha.yml" if cfg.ha else "prometheus-secure.yml" if cfg.secure else "prometheus.yml"
        prom = yaml.safe_load((repo / "prometheus" / source).read_text())
        # pushed metrics (remote-write-only.yaml): the collector opens no exporter port to scrape
        scraped = {k: v for k, v in cfg.ports.items() if not (cfg.push_metrics and k == "collector_prometheus")}
        prom = localize_prometheus(
            prom,
            scraped,
            running=running(cfg),
            rules_dir=rules_dir,
            scrape_interval=cfg.scrape_interval,
            evaluation_interval=cfg.evaluation_interval,
        )
        secrets_dir = self.workdir / "secrets"
        if cfg.secure:
            from otel_ccmon.devstack import security

            security.init(secrets_dir)
            prom = json.loads(json.dumps(prom).replace("/run/secrets/", f"{secrets_dir}/"))
        (self.workdir / "prometheus.yml").write_text(yaml.safe_dump(prom, sort_keys=False))
        write_local_secrets(secrets_dir, cfg.ports)
        am = yaml.safe_load((repo / "alertmanager" / "alertmanager.yml").read_text())
        am = localize_alertmanager(
            am, cfg.ports, secrets_dir=self.workdir / "secrets", templates_dir=repo / "alertmanager" / "templates"
        )
        if cfg.alertmanager_timing:
            _retime(am["route"], cfg.alertmanager_timing)
        (self.workdir / "alertmanager.yml").write_text(yaml.safe_dump(am, sort_keys=False))
        if cfg.ha and cfg.objstore_config is None:
            (self.workdir / "bucket").mkdir(exist_ok=True)
            (self.workdir / "bucket.yml").write_text(filesystem_bucket(self.workdir / "bucket"))

    def receiver_token(self) -> str:
        return (self.workdir / "secrets" / "receiver_token").read_text().strip()

    # -- processes --------------------------------------------------------------------------------
    def _spec(self, name: str) -> tuple[list[str], dict[str, str], str]:
        """argv, extra environment and readiness URL of a component (components.COMPONENTS)."""
        component = BY_NAME[name]
        cfg = self.config
        if cfg.retention is None and name == "thanos_compact":
            cfg = dataclasses.replace(cfg, retention=long_term_retention(cfg.repo))
        ctx = Context(cfg, bin_dir(cfg.repo), self.workdir, self._otlp_credentials_env)
        if component.data:
            (self.workdir / component.data).mkdir(parents=True, exist_ok=True)
        return component.argv(ctx), component.env(ctx), cfg.url(component.ports[0], component.ready_path)

    def start(self, name: str, timeout: float = 60) -> Proc:
        argv, env, ready = self._spec(name)
        env = {**env, STACK_ENV: str(self.workdir)}
        proc = Proc(name, argv, self.logs / f"{name}.log", env, die_with_parent=self.config.die_with_parent).start()
        self.procs[name] = proc
        port = urllib.parse.urlsplit(ready).port or 80

        def ours_and_ready() -> bool:
            # readiness counts only when the process answering on the port is our child's group
            ok = http_ok(ready, **self._client_options(ready))
            return not proc.running() or (ok and owned_by_group(port, proc.pid or -1) is not False)

        try:
            wait_for(ours_and_ready, timeout, f"{name} ready at {ready}")
        except TimeoutError:
            raise StackError(
                f"{name} did not become ready at {ready} within {timeout:.0f}s; its log ({proc.log_path}), this run:\n"
                f"{proc.tail()}"
            ) from None
        if not proc.running():
            code = proc.popen.returncode if proc.popen else None
            raise StackError(
                f"{name} exited during start-up (exit code {code}); its log ({proc.log_path}), this run:\n{proc.tail()}"
            )
        if (self.workdir / STATE_FILE).exists():
            self._write_state()  # a restarted component: `ccmon stack status` follows its new pid
        return proc

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None:
            proc.stop()

    def kill9(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None:
            proc.kill9()

    def up(self) -> None:
        """Check the ports, render the configs, start every component; on any failure stop what was
        started and raise :class:`StackError`."""
        conflicts = port_conflicts(self.config.ports, running(self.config))
        if conflicts:
            raise StackError("cannot start: " + "\n".join(conflicts))
        self.render()
        try:
            for name in START_ORDER:
                if name in running(self.config):
                    self.start(name)
        except BaseException:
            self.down()
            raise
        self._write_state()

    def down(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop(name)
        (self.workdir / STATE_FILE).unlink(missing_ok=True)

    def _write_state(self) -> None:
        state = {
            "ports": dict(self.config.ports),
            "pids": {n: p.pid for n, p in self.procs.items()},
            "workdir": str(self.workdir),
            "secure": self.config.secure,  # `ccmon doctor` then speaks TLS with the stack's CA
        }
        (self.workdir / STATE_FILE).write_text(json.dumps(state, indent=2))

    # -- queries ------------------------------------------------------------------------------------
    def _client_options(self, url: str) -> dict[str, Any]:
        """TLS context and basic auth for a secured endpoint (the secured mode), else nothing."""
        if not url.startswith("https://"):
            return {}
        from otel_ccmon.devstack import security

        creds = security.Credentials(self.workdir / "secrets")
        return {"context": creds.ssl_context(), "auth": creds.basic_auth()}

    def _otlp_credentials_env(self) -> dict[str, str]:
        """The standard OTel variables by which an app authenticates to the secured collector."""
        from otel_ccmon.devstack import security

        creds = security.Credentials(self.workdir / "secrets")
        ca = str(creds.path(security.CA))
        return {
            "OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=Bearer {creds.otlp_token}",
            "OTEL_EXPORTER_OTLP_CERTIFICATE": ca,
            # requests lets REQUESTS_CA_BUNDLE (set on many hosts) override the exporter's CA file:
            # point it at the same CA so that the standard variable decides (docs/security.md)
            "REQUESTS_CA_BUNDLE": ca,
        }

    def server(self, component: str) -> Server:
        """One of this stack's Prometheus-API servers, with its TLS and basic auth when secured."""
        url = self.config.url(component)
        options = self._client_options(url)
        return Server(url, options.get("context"), options.get("auth"), timeout=10)

    def prom_query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """An instant query of this stack's Prometheus (at ``at``, a Unix time, or now)."""
        return instant(self.server("prometheus"), expr, at)


def _retime(route: dict[str, Any], timing: Mapping[str, str]) -> None:
    """Set group_wait/group_interval/repeat_interval on every route that has them; a key
    ``RECEIVER.name`` applies to that receiver's routes only (after the general keys)."""
    for key, value in timing.items():
        receiver, _, name = key.rpartition(".")
        if name in route and (not receiver or route.get("receiver") == receiver):
            route[name] = value
    for child in route.get("routes", []):
        _retime(child, {k: v for k, v in timing.items() if "." not in k})
        _retime(child, {k: v for k, v in timing.items() if "." in k})
