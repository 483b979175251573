"""Child processes with logs in files, readiness waits with deadlines, and group cleanup."""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from otel_ccmon._extras import require

require("the process helpers", "cli", "httpx")

import httpx

T = TypeVar("T")


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free on ``host`` right now.

    >>> 0 < free_port() < 65536
    True
    """
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct ports that are free on ``host`` right now (all held open while choosing).

    >>> ports = free_ports(20)
    >>> len(set(ports))
    20
    """
    with contextlib.ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind((host, 0))
        return [int(s.getsockname()[1]) for s in sockets]


def wait_for(check: Callable[[], T | None], timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll ``check`` until it returns something truthy; raise ``TimeoutError`` at the deadline.

    >>> wait_for(lambda: 42, 1, "the answer")
    42
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except (OSError, ValueError, KeyError, httpx.HTTPError) as exc:  # refused, restarting, half-written JSON
            last_error = exc
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last_error!r})")
        time.sleep(interval)  # polling interval of a deadline-bounded wait


def basic_auth_header(user: str, password: str) -> str:
    """The ``Authorization`` value of HTTP basic auth.

    >>> basic_auth_header("ccmon", "pw")
    'Basic Y2Ntb246cHc='
    """
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def http_ok(
    url: str, timeout: float = 2.0, *, context: ssl.SSLContext | None = None, auth: tuple[str, str] | None = None
) -> bool:
    """True if ``GET url`` answers 200 (over TLS with ``context``, with basic ``auth``).

    >>> http_ok("http://127.0.0.1:1/")
    False
    """
    request = urllib.request.Request(url)
    if auth is not None:
        request.add_header("Authorization", basic_auth_header(*auth))
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as resp:
            return int(resp.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


class Proc:
    """A child process in a session of its own, with its output in ``log_path``."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: dict[str, str] | None = None,
        *,
        die_with_parent: bool = False,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = {**os.environ, **(env or {})}
        self.die_with_parent = die_with_parent
        self.popen: subprocess.Popen[bytes] | None = None
        self._log_offset = 0  # where this run's output starts in the (appended) log file

    @property
    def pid(self) -> int | None:
        return None if self.popen is None else self.popen.pid

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def start(self) -> Proc:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} start: {' '.join(self.argv)[:300]}\n".encode())
            log.flush()
            self._log_offset = log.tell()
            self.popen = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
                preexec_fn=_term_on_parent_death if self.die_with_parent else None,
            )
        return self

    def kill9(self) -> None:
        """SIGKILL the whole process group (a crash, as far as the process can tell)."""
        if self.popen is not None and self.popen.poll() is None:
            kill_group(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)

    def stop(self, timeout: float = 10) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; returns the exit code."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            kill_group(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                kill_group(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)
        return self.popen.returncode

    def tail(self, chars: int = 4000) -> str:
        """The end of what this run (since the last ``start``) wrote to the log."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(self._log_offset)
                return log.read().decode(errors="replace")[-chars:]
        except OSError:
            return ""


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (``VmRSS``), in bytes.

    >>> import os
    >>> rss_bytes(os.getpid()) > 0
    True
    """
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def pid_alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (an exited child not yet reaped is dead).

    >>> import os
    >>> pid_alive(os.getpid())
    True
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return False


def _term_on_parent_death() -> None:
    # Linux: the child gets SIGTERM when its parent dies, however it dies (even SIGKILL), so a
    # foreground `ccmon stack up` never leaves its processes behind.
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def kill_group(pid: int, sig: signal.Signals) -> None:
    """Signal a process group, ignoring one that is already gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
