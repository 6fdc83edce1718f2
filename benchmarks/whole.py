"""The whole CLI run as a user runs it: ``python -m etl run --period P --out DIR --no-email``.

Wall time from starting the command to its exit (interpreter start and imports included), CPU
time of the process and every child it waited for, and peak memory of the process tree:
the largest sum of ``VmRSS`` over the command and its descendants, sampled every
:data:`SAMPLE_SECONDS` (an upper bound: pages a forked child still shares with its parent are
counted twice), never below the largest single process's own peak (``ru_maxrss``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.environment import REPO

SAMPLE_SECONDS = 0.1


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        return [int(c) for t in tasks for c in (t / "children").read_text().split()]
    except OSError:
        return []


def tree_rss_mb(pid: int) -> float:
    """Sum of VmRSS over ``pid`` and its descendants, in MB."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _rss_kb(current)
        todo += _children(current)
    return total / 1024


def run_cli(url: str, period: str, out: Path, key: bytes, log: Path) -> dict:
    """Run the CLI once into ``out`` (stdout and stderr to ``log``); its numbers, ``error`` if it
    did not exit 0."""
    env = {**os.environ, "EB_PSEUDONYM_KEY": key.decode("utf-8"), "GX_ANALYTICS_ENABLED": "false"}
    env.pop("EB_PSEUDONYM_KEY_FILE", None)
    command = [sys.executable, "-m", "etl", "run", "--source", url, "--period", period]
    command += ["--out", str(out), "--no-email"]
    log.parent.mkdir(parents=True, exist_ok=True)
    peak_tree = 0.0
    with log.open("wb") as sink:
        t0 = time.perf_counter()
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak_tree = max(peak_tree, tree_rss_mb(proc.pid))
            time.sleep(SAMPLE_SECONDS)
        seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    largest = usage.ru_maxrss / 1024  # kB on Linux: the largest process of the tree
    result = {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "rows": None,
        "peak_mb": max(peak_tree, largest),
        "detail": {
            "command": " ".join(["python", *command[1:]]),
            "exit_code": proc.returncode,
            "peak_tree_sampled_mb": peak_tree,
            "largest_process_mb": largest,
        },
    }
    if proc.returncode != 0:
        tail = log.read_text("utf-8", errors="replace")[-3000:]
        result["error"] = f"the CLI exited with {proc.returncode} (log {log})"
        result["traceback"] = tail
    return result
