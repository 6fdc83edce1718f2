"""Airflow components as real processes on loopback for end-to-end tests (api-server, scheduler…).

Shared by the end-to-end tests: each component a subprocess in its own process group with its own
log file, the REST API called as the UI does, polling with a timeout that fails on a dead process.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

AIRFLOW = str(Path(sys.executable).parent / "airflow")
STOP_TIMEOUT = 30  # seconds between SIGTERM and SIGKILL for each process group


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


class Topology:
    """Airflow components as subprocesses, each in its own process group with its own log file."""

    def __init__(self, env: dict, log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str) -> None:
        with open(self.log_dir / f"{name}.log", "wb") as log:
            self.procs[name] = subprocess.Popen(
                [AIRFLOW, *args],
                env=self.env,
                cwd=self.log_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: stop() reaches every child
            )

    def assert_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise AssertionError(f"{name} avslutades oväntat med kod {proc.returncode}")

    def stop(self) -> None:
        """SIGTERM every group, wait, then SIGKILL what is left (also orphans of exited leaders)."""
        for proc in self.procs.values():
            _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for proc in self.procs.values():
            _signal_group(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)

    def logs(self, tail: int = 6000) -> str:
        parts = []
        for name in self.procs:
            text = (self.log_dir / f"{name}.log").read_text(errors="replace")
            parts.append(f"===== {name} (sista {tail} tecken) =====\n{text[-tail:]}")
        return "\n".join(parts)


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
        os.killpg(pgid, sig)


def _cli(env: dict, log_dir: Path, name: str, *args: str) -> str:
    proc = subprocess.run([AIRFLOW, *args], env=env, cwd=log_dir, capture_output=True, text=True, timeout=300)
    (log_dir / f"cli-{name}.log").write_text(proc.stdout + proc.stderr)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"airflow {' '.join(args)} misslyckades:\n{output[-4000:]}"
    return proc.stdout


def _wait(what: str, check, timeout: float, topology: Topology, interval: float = 2.0):
    """Poll ``check()`` until it returns something truthy; fail on timeout or a dead process."""
    deadline = time.monotonic() + timeout
    while True:
        topology.assert_alive()
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"Tidsgränsen ({timeout:.0f} s) gick ut: {what}")
        time.sleep(interval)


def dag_parsed(meta, dag_id: str) -> int:
    """How many serialised versions of ``dag_id`` the metadata DB holds; fails on an import error."""
    import sqlalchemy as sa

    with meta.connect() as conn:
        errors = conn.execute(sa.text("select filename, stacktrace from import_error")).all()
        assert not errors, f"DAG-importfel: {errors}"
        return conn.execute(
            sa.text("select count(*) from serialized_dag where dag_id = :d"), {"d": dag_id}
        ).scalar()


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=5) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _api(port: int, method: str, path: str, body: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"{method} {path}: HTTP {exc.code}: {exc.read()[:2000]!r}") from exc


def _task_log_tails(home: Path, tail: int = 3000) -> str:
    files = sorted((home / "logs").rglob("*.log")) if (home / "logs").exists() else []
    return "\n".join(f"----- {f.relative_to(home)}\n{f.read_text(errors='replace')[-tail:]}" for f in files)
