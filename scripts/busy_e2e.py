"""Runs the end-to-end layer several times on a fresh clone while a CPU hog holds one core, and
prints the pass count of every test (issue 23: a test that passes alone but fails on a busy
2-core machine is a defect).

    .venv/bin/python scripts/busy_e2e.py --runs 5            # the whole e2e layer, 5 times
    .venv/bin/python scripts/busy_e2e.py --runs 3 -- -k alert  # extra pytest arguments after --

The clone is made from this checkout's HEAD (committed work only) into a temporary folder and
bootstrapped there with the same caches (binaries are not rebuilt). The hog is one busy process
pinned to the first core; each run writes a JUnit file, and the table is the sum over runs.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _hog() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    while True:  # busy on purpose: the load under which the tests must hold
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-hog", action="store_true", help="the same runs without the CPU hog")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="busy-e2e-"))
    clone = work / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    subprocess.run(["bash", "scripts/bootstrap.sh", "all"], cwd=clone, check=True)
    hog = None if args.no_hog else multiprocessing.Process(target=_hog, daemon=True)
    if hog is not None:
        hog.start()
    passed: collections.Counter[str] = collections.Counter()
    skipped: collections.Counter[str] = collections.Counter()
    seen: set[str] = set()
    durations = []
    try:
        for n in range(1, args.runs + 1):
            junit = work / f"run{n}.xml"
            started = time.monotonic()
            subprocess.run(
                [str(clone / ".venv/bin/python"), "-m", "pytest", "tests/e2e", "-q", "-p", "no:cacheprovider",
                 f"--junitxml={junit}", *args.pytest_args],
                cwd=clone, check=False,
            )  # fmt: skip
            durations.append(time.monotonic() - started)
            for case in ET.parse(junit).getroot().iter("testcase"):
                name = f"{case.get('classname')}::{case.get('name')}"
                seen.add(name)
                if any(child.tag == "skipped" for child in case):
                    skipped[name] += 1  # a skip is not a pass: it would hide a missing install step
                elif not any(child.tag in ("failure", "error") for child in case):
                    passed[name] += 1
            print(f"busy_e2e: run {n}/{args.runs} took {durations[-1]:.0f} s", flush=True)
    finally:
        if hog is not None:
            hog.terminate()
            hog.join()
    print(f"\nbusy_e2e: {args.runs} runs, {'with' if hog is not None else 'without'} a CPU hog on core 0")
    for name in sorted(seen):
        flag = "" if passed[name] == args.runs else "   <-- failed in some runs"
        if skipped[name]:
            flag = f"   <-- skipped in {skipped[name]} runs"
        print(f"  {passed[name]}/{args.runs}  {name}{flag}")
    print(f"runs took {', '.join(f'{d:.0f} s' for d in durations)}; work folder {work}")
    return 0 if all(passed[name] == args.runs for name in seen) else 1


if __name__ == "__main__":
    sys.exit(main())
