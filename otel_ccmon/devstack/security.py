"""Credentials of the secured topology: a CA and a server certificate, the OTLP ingest token, the
web password of Prometheus and Alertmanager and their web-config file (``ccmon security init``,
``ccmon stack up --secure``, the security tests).

Certificates come from trustme (cryptography underneath) and the password hash from bcrypt: no
hand-rolled crypto. Every file is written 0600 in a 0700 folder; nothing secret is ever passed
on a command line (the components read the files).
"""

from __future__ import annotations

import argparse
import secrets
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from otel_ccmon._extras import require

require("ccmon security", "cli", "trustme", "bcrypt", "yaml")

import bcrypt
import trustme
import yaml

WEB_USER = "ccmon"
"""The basic-auth user of Prometheus's and Alertmanager's web endpoints (the password is secret)."""
HOSTS = ("127.0.0.1", "localhost", "otel-collector", "prometheus", "prometheus-b", "alertmanager", "alertmanager-b")
"""Names the server certificate is valid for: loopback (local stack) and the compose services."""
# file names: the same as the compose secrets, so /run/secrets/<name> maps to <dir>/<name>
CA, CERT, KEY = "ca.pem", "tls_cert.pem", "tls_key.pem"
OTLP_TOKEN, WEB_PASSWORD, WEB_CONFIG = "otlp_token", "web_password", "web_config.yml"
FILES = (CA, CERT, KEY, OTLP_TOKEN, WEB_PASSWORD, WEB_CONFIG)


@dataclass(frozen=True)
class Credentials:
    """Paths of one set of credentials (see ``FILES``)."""

    dir: Path

    def path(self, name: str) -> Path:
        return self.dir / name

    @property
    def otlp_token(self) -> str:
        return self.path(OTLP_TOKEN).read_text().strip()

    @property
    def web_password(self) -> str:
        return self.path(WEB_PASSWORD).read_text().strip()

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts only this CA."""
        return ssl.create_default_context(cafile=str(self.path(CA)))

    def basic_auth(self) -> tuple[str, str]:
        return WEB_USER, self.web_password


def _write(path: Path, data: str | bytes) -> None:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    path.chmod(0o600)


def web_config(cert_dir: str, password: str) -> dict[str, Any]:
    """Prometheus/Alertmanager ``--web.config.file``: TLS and one basic-auth user (bcrypt hash).

    >>> cfg = web_config("/run/secrets", "pw")
    >>> cfg["tls_server_config"]["cert_file"], list(cfg["basic_auth_users"])
    ('/run/secrets/tls_cert.pem', ['ccmon'])
    """
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()
    return {
        "tls_server_config": {
            "cert_file": f"{cert_dir}/{CERT}",
            "key_file": f"{cert_dir}/{KEY}",
            "min_version": "TLS12",
        },
        "basic_auth_users": {WEB_USER: hashed},
    }


def init(directory: Path, *, cert_dir: str | None = None, hosts: tuple[str, ...] = HOSTS) -> Credentials:
    """Create every credential under ``directory`` (kept if already there: rotation is explicit).

    ``cert_dir`` is where the components will read the files (``/run/secrets`` in compose; the
    directory itself locally).
    """
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    creds = Credentials(directory)
    if all(creds.path(name).exists() for name in FILES):
        return creds
    ca = trustme.CA(organization_name="otel-ccmon local CA")
    server = ca.issue_cert(*hosts)
    _write(creds.path(CA), ca.cert_pem.bytes())
    _write(creds.path(CERT), b"".join(blob.bytes() for blob in server.cert_chain_pems))
    _write(creds.path(KEY), server.private_key_pem.bytes())
    _write(creds.path(OTLP_TOKEN), secrets.token_urlsafe(32) + "\n")
    password = secrets.token_urlsafe(24)
    _write(creds.path(WEB_PASSWORD), password + "\n")
    _write(creds.path(WEB_CONFIG), yaml.safe_dump(web_config(cert_dir or str(directory), password)))
    return creds


def _init_command(args: argparse.Namespace) -> int:
    creds = init(Path(args.dir), cert_dir=args.cert_dir)
    print(f"ccmon security: credentials in {creds.dir} ({', '.join(FILES)}); see docs/security.md")
    return 0


def add_commands(sub: Any) -> None:
    """Register ``ccmon security``."""
    parser = sub.add_parser("security", help="credentials of the secured topology (TLS, tokens, web auth)")
    cmds = parser.add_subparsers(dest="security_command", required=True)
    init_cmd = cmds.add_parser("init", help="create a CA, a server certificate, the OTLP token and the web password")
    init_cmd.add_argument("dir", help="where to write them (e.g. ./secrets for docker compose)")
    init_cmd.add_argument(
        "--cert-dir", default="/run/secrets", help="where the components read them (compose: /run/secrets)"
    )
    init_cmd.set_defaults(func=_init_command)
