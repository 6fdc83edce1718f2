"""The period lock of DAG runs (etl/period_lock.py): one run per period, stale leases taken over.

The DAG's own use of it, against a real Airflow metadata database, is in
tests/dags/test_period_lock_dag.py."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys

import pytest

from etl import period_lock
from tests.support.db import REPO

RUNNING = {"scheduled__2018-T1": True}


def _active(run_id: str) -> bool:
    return RUNNING.get(run_id, False)


def test_a_second_run_of_the_period_is_refused_naming_the_first(tmp_path):
    period_lock.acquire(tmp_path, "2018-T1", "scheduled__2018-T1", is_active=_active)
    with pytest.raises(period_lock.PeriodLocked) as refused:
        period_lock.acquire(tmp_path, "2018-T1", "manual__tertial__2018-T1__x", is_active=_active)
    text = str(refused.value)
    assert "Perioden 2018-T1 körs redan av körningen scheduled__2018-T1" in text
    assert "Gör så här: vänta" in text and "period=2018-T1" in text
    assert period_lock.holder(tmp_path, "2018-T1").run_id == "scheduled__2018-T1"  # unchanged


def test_other_periods_and_the_same_run_again_are_not_blocked(tmp_path):
    period_lock.acquire(tmp_path, "2018-T1", "scheduled__2018-T1", is_active=_active)
    period_lock.acquire(tmp_path, "2018-T2", "scheduled__2018-T2", is_active=_active)  # catch-up
    period_lock.acquire(tmp_path, "2018-T1", "scheduled__2018-T1", is_active=_active)  # plan retried
    assert period_lock.holder(tmp_path, "2018-T1").run_id == "scheduled__2018-T1"


def test_a_stale_lease_of_a_run_that_no_longer_runs_is_taken_over(tmp_path, caplog):
    period_lock.acquire(tmp_path, "2018-T1", "crashed__run", is_active=_active)
    lease = period_lock.acquire(tmp_path, "2018-T1", "manual__again", is_active=_active)
    assert lease.run_id == "manual__again" and "crashed__run, som inte längre pågår" in caplog.text


def test_release_frees_only_the_runs_own_lease(tmp_path):
    period_lock.acquire(tmp_path, "2018-T1", "a", is_active=_active)
    assert period_lock.release(tmp_path, "b") == []  # a refused run releases nothing
    assert period_lock.holder(tmp_path, "2018-T1").run_id == "a"
    assert period_lock.release(tmp_path, "a") == ["2018-T1"]
    assert period_lock.holder(tmp_path, "2018-T1") is None
    assert period_lock.release(tmp_path / "never-created", "a") == []


def test_the_locks_live_beside_the_archive(tmp_path):
    assert period_lock.locks_dir(tmp_path / "archive") == tmp_path / "locks"


def _contend(folder: str, run_id: str, start, results) -> None:
    start.wait()
    try:
        period_lock.acquire(folder, "2018-T1", run_id, is_active=lambda _other: True)
        results.put(run_id)
    except period_lock.PeriodLocked:
        results.put(None)


def test_of_many_runs_deciding_at_the_same_moment_exactly_one_wins(tmp_path):
    ctx = multiprocessing.get_context("fork")
    start, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_contend, args=(str(tmp_path), f"run{i}", start, results)) for i in range(8)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(timeout=60)
    outcomes = [results.get(timeout=10) for _ in procs]
    winners = [o for o in outcomes if o is not None]
    assert len(winners) == 1 and period_lock.holder(tmp_path, "2018-T1").run_id == winners[0]


def test_a_killed_holder_leaves_no_guard_behind(tmp_path):
    """The guard is an flock: a process killed inside acquire does not block the next one."""
    code = (
        "import os, signal; from etl import period_lock\n"
        "period_lock.staging.write_json = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
        f"period_lock.acquire({str(tmp_path)!r}, '2018-T1', 'killed', is_active=lambda r: True)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, timeout=60)
    assert proc.returncode == -9
    lease = period_lock.acquire(tmp_path, "2018-T1", "next", is_active=lambda r: True)
    assert lease.run_id == "next"
