"""Process helpers: children of a foreground stack die with their parent, however it dies."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from otel_ccmon.devstack.procs import pid_alive, wait_for

PARENT = """
import sys, time
from pathlib import Path
from otel_ccmon.devstack.procs import Proc
child = Proc("sleeper", [sys.executable, "-c", "import time; time.sleep(600)"], Path(sys.argv[1]) / "c.log",
             die_with_parent=True).start()
print(child.pid, flush=True)
time.sleep(600)
"""


def test_child_stops_when_parent_is_killed(tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert pid_alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        wait_for(lambda: not pid_alive(child), 10, "child to stop after its parent's SIGKILL")
    finally:
        if parent.poll() is None:
            parent.kill()
