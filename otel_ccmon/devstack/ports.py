"""Who holds a TCP port: a bind test, and the listening process found through ``/proc`` (Linux).

The local stack checks its ports before it starts anything (so a conflict is one clear message,
not a dead child), and checks after start-up that the process answering on a port is its own
child (so another stack on the same port is never mistaken for ours).
"""

from __future__ import annotations

import errno
import os
import socket
from dataclasses import dataclass
from pathlib import Path

STACK_ENV = "CCMON_STACK_WORKDIR"
"""Set in the environment of every process a stack starts: names the stack that owns it."""

_LISTEN = "0A"


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether binding ``host:port`` fails because something holds it.

    >>> with socket.socket() as s:
    ...     s.bind(("127.0.0.1", 0)); s.listen()
    ...     port_in_use(s.getsockname()[1])
    True
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT leftovers are not holders
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == _LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def listener_pid(port: int) -> int | None:
    """The pid of the process listening on ``port`` (any address), if it can be told.

    >>> with socket.socket() as s:
    ...     s.bind(("127.0.0.1", 0)); s.listen()
    ...     listener_pid(s.getsockname()[1]) == os.getpid()
    True
    """
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not wanted:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in wanted:
                    return int(proc.name)
        except OSError:  # gone, or not ours to read
            continue
    return None


@dataclass(frozen=True)
class Holder:
    """A process holding a port, as far as it can be told."""

    pid: int | None
    command: str
    stack_workdir: str | None

    def describe(self) -> str:
        if self.pid is None:
            return "a process this user cannot identify"
        if self.stack_workdir:
            return f"another otel-ccmon stack (pid {self.pid}, {self.command}; workdir {self.stack_workdir})"
        return f"pid {self.pid} ({self.command})"


def holder(port: int) -> Holder:
    """Who listens on ``port``: pid, command line, and the stack that started it, if any."""
    pid = listener_pid(port)
    if pid is None:
        return Holder(None, "", None)
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        command = " ".join(a.decode(errors="replace") for a in argv if a)[:120]
    except OSError:
        command = "?"
    workdir = None
    try:
        for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
            if item.startswith(STACK_ENV.encode() + b"="):
                workdir = item.split(b"=", 1)[1].decode(errors="replace")
    except OSError:
        pass
    return Holder(pid, command, workdir)


def owned_by_group(port: int, pgid: int) -> bool | None:
    """Whether the listener on ``port`` belongs to process group ``pgid`` (``None``: cannot tell)."""
    pid = listener_pid(port)
    if pid is None:
        return None if not Path("/proc/net/tcp").exists() else False
    try:
        return os.getpgid(pid) == pgid
    except ProcessLookupError:
        return False


def port_problem(host: str, port: int) -> str | None:
    """A one-line explanation if a server cannot bind ``host:port`` because something holds it.

    >>> with socket.socket() as s:
    ...     s.bind(("127.0.0.1", 0)); s.listen()
    ...     "is in use by pid" in (port_problem("127.0.0.1", s.getsockname()[1]) or "")
    True
    """
    if not port_in_use(port, "127.0.0.1" if host in ("localhost", "::1") else host):
        return None
    return f"{host}:{port} is in use by {holder(port).describe()}; choose another with --port PORT"
