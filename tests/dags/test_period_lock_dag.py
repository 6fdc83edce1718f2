"""The period lock in real Airflow runs (`airflow dags test`, a real metadata database): a run of
a period that another queued run holds is refused naming it and changes nothing; once that run
no longer runs, the next run takes the lock over and gives it back at its end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl import period_lock
from tests.support.airflow import airflow_env
from tests.support.db import new_postgres_database, require_postgres
from tests.support.source_data import small_db

AIRFLOW = str(Path(sys.executable).parent / "airflow")
DAG_ID = "tertial_followup"
HOLDER = "manual__tertial__2018-T1__holder"
# Only the lock's own tasks run in the second run; the work between them is marked done.
WORK = "^(extract\\..+|validate|statistics|workbook|email|archive|verksamhetsberattelse|purge_staging)$"

pytestmark = pytest.mark.slow


def _airflow(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=600)


def _check(proc: subprocess.CompletedProcess) -> str:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    return out


def _scenario(tmp_path: Path, metadata_url: str) -> None:
    source = tmp_path / "source.db"
    small_db(f"sqlite:///{source}")
    home, data = tmp_path / "airflow", tmp_path / "data"
    home.mkdir()
    env = airflow_env(home, metadata_url, {"conn_type": "sqlite", "host": str(source)}, data)
    _check(_airflow(["db", "migrate"], env))
    _check(_airflow(["dags", "reserialize"], env))
    # The holder: a manual run of 2018-T1, queued (no scheduler here), whose lock_period ran.
    _check(_airflow(["dags", "trigger", DAG_ID, "-r", HOLDER, "-c", json.dumps({"period": "2018-T1"})], env))
    locks = period_lock.locks_dir(data / "archive")
    period_lock.acquire(locks, "2018-T1", HOLDER, is_active=lambda _run: True)

    # A second run of 2018-T1 (the scheduled one's data interval) while the holder is queued.
    refused = _airflow(["dags", "test", DAG_ID, "2018-05-16"], env)
    out = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert f"Perioden 2018-T1 körs redan av körningen {HOLDER}" in out and "Gör så här: vänta" in out
    assert "AirflowFailException" in out  # no retries: waiting by retrying would hold a worker
    assert period_lock.holder(locks, "2018-T1").run_id == HOLDER  # the refused run released nothing
    assert not (data / "archive").exists() and not (data / "staging").exists()  # nothing written

    # The holder stops without releasing (a crashed worker, marked failed): its lock is stale.
    engine = sa.create_engine(metadata_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE dag_run SET state = 'failed' WHERE run_id = :r"), {"r": HOLDER})
    engine.dispose()
    out = _check(_airflow(["dags", "test", DAG_ID, "2018-05-16", "--mark-success-pattern", WORK], env))
    assert f"Perioden 2018-T1 var låst av körningen {HOLDER}, som inte längre pågår" in out
    assert "Perioden 2018-T1 är frisläppt" in out
    assert period_lock.holder(locks, "2018-T1") is None  # released at the run's end


def test_a_second_run_of_a_period_is_refused_then_takes_over_a_stale_lock_sqlite(tmp_path):
    _scenario(tmp_path, f"sqlite:///{tmp_path / 'airflow.db'}")


@pytest.mark.postgres
def test_a_second_run_of_a_period_is_refused_then_takes_over_a_stale_lock_postgres(tmp_path):
    require_postgres()
    meta_url, drop = new_postgres_database()
    try:
        _scenario(tmp_path, meta_url)
    finally:
        drop()
