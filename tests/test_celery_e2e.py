"""The production topology end to end: api-server, scheduler, dag-processor and a Celery worker.

Real processes on loopback, as in docker-compose.yml but without containers: CeleryExecutor with
Redis as broker, a fresh PostgreSQL database as metadata DB and Celery result backend, a fresh
PostgreSQL source database with the small demo data (``tests.support.source_data.small_db``), the
repository's dags/ and plugins/, and a temporary AIRFLOW_HOME and EB_DATA_DIR.

The DAG has ``catchup=True`` from 2018: unpausing it would normally make the scheduler create a
run for every tertial since 2018-T1. The test sets ``[scheduler] use_job_schedule = False``
(``AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE``): the scheduler then creates no scheduled runs at all but
still runs manually triggered ones, so the one run the test triggers is the only run, and the
test asserts that.

Where Redis or PostgreSQL is not reachable the test skips with the reason; under
``REQUIRE_POSTGRES=1`` (set by .ci/run) it fails instead.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl import archive
from tests.support.airflow import airflow_env
from tests.support.db import new_postgres_database, require_postgres
from tests.support.pii_scan import scan
from tests.support.source_data import small_db
from tests.support.topology import (
    Topology,
    _api,
    _cli,
    _fernet_key,
    _free_port,
    _healthy,
    _task_log_tails,
    _wait,
    dag_parsed,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

DAG_ID = "tertial_followup"
ADMIN = "eb-admin"
REDIS_URL = os.environ.get("EB_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
"""Broker; a Redis DB number of its own, and a queue name unique to each test run (below)."""

START_TIMEOUT = 180  # seconds for the api-server to answer and the DAG to be parsed
RUN_TIMEOUT = 480  # seconds for the triggered run to succeed (it takes about a minute)
BACKFILL_RUNS = 6  # 2018-T1 … 2019-T3
BACKFILL_TIMEOUT = 1500  # seconds for all six backfill runs (about a minute or two each)


def require_redis() -> None:
    """Skip (or fail under REQUIRE_POSTGRES=1) when the Redis broker is not reachable."""
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3, socket_timeout=3)
        client.ping()
        client.close()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        reason = f"Redis på {REDIS_URL} går inte att nå: {type(exc).__name__}: {exc}"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 men {reason}")
        pytest.skip(reason)


def _require_celery_executor(env: dict) -> None:
    """Fail with the cause when the installed celery cannot run the CeleryExecutor at all.

    Otherwise the worker dies at start with a misleading "only available in Airflow versions
    >= 2.8.0" from the provider. Seen with celery 5.7.0, which dropped
    ``celery.backends.database.retry`` that apache-airflow-providers-celery 3.26.0 imports.
    """
    code = "import airflow.providers.celery.executors.celery_executor_utils"
    probe = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    if probe.returncode != 0:
        import celery

        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        pytest.fail(
            f"CeleryExecutor kan inte importeras med celery {celery.__version__}: {last}\n"
            "Lås en celery som providern stöder i requirements.lock (celery 5.6.3, kombu 5.6.2, redis 6.4.0)."
        )


@pytest.fixture
def databases():
    """(metadata URL, source URL): two fresh PostgreSQL databases, dropped afterwards."""
    require_postgres()
    require_redis()
    meta_url, drop_meta = new_postgres_database()
    source_url, drop_source = new_postgres_database()
    try:
        yield meta_url, source_url
    finally:
        drop_meta()
        drop_source()


def _env(home: Path, data: Path, meta_url: str, source_url: str, port: int, queue: str) -> dict:

    src = sa.make_url(source_url)
    source_conn = {"conn_type": "postgres", "host": src.host, "port": src.port, "login": src.username,
                   "schema": src.database}  # fmt: skip
    env = airflow_env(home, meta_url, source_conn, data)
    result_backend = sa.make_url(meta_url).set(drivername="postgresql+psycopg")
    env.update(
        AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
        AIRFLOW__CORE__PARALLELISM="4",
        AIRFLOW__CORE__FERNET_KEY=_fernet_key(),
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
        AIRFLOW__CORE__DEFAULT_TIMEZONE="Europe/Stockholm",  # as in docker-compose.yml
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__API__WORKERS="1",
        AIRFLOW__API__SECRET_KEY=secrets.token_urlsafe(64),
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_urlsafe(64),  # >= 64 bytes: no InsecureKeyLengthWarning
        # As in docker-compose.yml: simple auth manager, one admin, password from a file we write.
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{ADMIN}:admin",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(home / "passwords.json"),
        AIRFLOW__CELERY__BROKER_URL=REDIS_URL,
        AIRFLOW__CELERY__RESULT_BACKEND="db+" + result_backend.render_as_string(hide_password=False),
        AIRFLOW__CELERY__WORKER_CONCURRENCY="2",
        AIRFLOW__OPERATORS__DEFAULT_QUEUE=queue,  # never share tasks with another worker on this Redis
        # The flood guard: no scheduled (catch-up) runs at all; triggered runs still run.
        AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
        EB_DEADLINE_ALERTS="on",  # the real scheduler handles them (dag.test() does not)
    )
    return env


def test_celery_topology_runs_2018_t1(tmp_path, databases):

    started = time.monotonic()
    meta_url, source_url = databases
    small_db(source_url)
    home, data, logs = tmp_path / "airflow", tmp_path / "data", tmp_path / "proc-logs"
    for d in (home, data, logs):
        d.mkdir()
    port = _free_port()
    queue = f"eb-e2e-{uuid.uuid4().hex[:10]}"
    env = _env(home, data, meta_url, source_url, port, queue)
    password = secrets.token_urlsafe(24)
    (home / "passwords.json").write_text(json.dumps({ADMIN: password}))
    meta = sa.create_engine(meta_url, poolclass=sa.pool.NullPool)

    _require_celery_executor(env)
    _cli(env, logs, "db-migrate", "db", "migrate")
    # The pool the extract tasks use (docker-compose's airflow-init creates it the same way);
    # without it the scheduler never schedules them.
    from etl.settings import settings

    orchestration = settings().pipeline.orchestration
    _cli(env, logs, "pools", "pools", "set", orchestration.source_pool, str(orchestration.source_pool_slots),
         "Samtidiga frågor mot källdatabasen")  # fmt: skip
    topology = Topology(env, logs)
    ok = False
    try:
        topology.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(port), "-w", "1")
        topology.start("scheduler", "scheduler")
        topology.start("dag-processor", "dag-processor")
        topology.start(
            "celery-worker", "celery", "worker", "--concurrency", "2", "--queues", queue,
            "--celery-hostname", f"{queue}@%h", "--without-gossip", "--without-mingle",
            "--skip-serve-logs",  # same AIRFLOW_HOME as the api-server; no log server on 0.0.0.0
        )  # fmt: skip

        _wait("api-server svarar på /api/v2/monitor/health", lambda: _healthy(port), START_TIMEOUT, topology)

        _wait("DAG:en serialiserad", lambda: dag_parsed(meta, DAG_ID), START_TIMEOUT, topology)
        parsed_at = time.monotonic()

        # Through the REST API, as the UI does. (`airflow dags trigger --logical-date` would not do:
        # the CLI infers a manual run's data interval from run_after = now, i.e. the latest tertial,
        # while the REST API infers it from the logical date.)
        token = _api(port, "POST", "/auth/token", {"username": ADMIN, "password": password})["access_token"]
        _api(port, "PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False}, token)
        triggered = _api(
            port, "POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": "2018-05-16T00:00:00Z"}, token
        )
        assert triggered["dag_run_id"].startswith("manual__tertial__2018-T1__"), triggered

        def run_finished():
            with meta.connect() as conn:
                runs = conn.execute(
                    sa.text("select run_id, run_type, state from dag_run where dag_id = :d"), {"d": DAG_ID}
                ).all()
                bad = conn.execute(
                    sa.text(
                        "select task_id, map_index, state from task_instance where dag_id = :d"
                        " and state in ('failed', 'upstream_failed')"
                    ),
                    {"d": DAG_ID},
                ).all()
            assert not bad, f"Uppgifter misslyckades: {bad}"  # (up_for_retry is waited out)
            assert len(runs) == 1, f"Bara den utlösta körningen får finnas, inte: {runs}"
            state = runs[0].state
            assert state != "failed", f"Körningen misslyckades: {runs}"
            return runs[0] if state == "success" else None

        run = _wait("körningen 2018-T1 lyckas", run_finished, RUN_TIMEOUT, topology, interval=3.0)
        run_seconds = time.monotonic() - parsed_at
        assert run.run_type == "manual"

        with meta.connect() as conn:
            tis = conn.execute(
                sa.text("select task_id, state, queue, hostname from task_instance where dag_id = :d"),
                {"d": DAG_ID},
            ).all()
        # Everything succeeds; the verksamhetsberättelse is skipped (T1 is not the full year).
        assert tis and {(t.task_id == "verksamhetsberattelse", t.state) for t in tis} == {
            (False, "success"), (True, "skipped")
        }, tis  # fmt: skip
        assert {t.queue for t in tis} == {queue}, "alla uppgifter ska ha gått via arbetarens kö"
        assert all(t.hostname for t in tis), "varje uppgift ska ha körts av en arbetare"

        def celery_results_stored():  # the worker stores a result just after the task reports success
            with meta.connect() as conn:
                done = conn.execute(sa.text("select count(*) from celery_taskmeta where status = 'SUCCESS'"))
                return done.scalar() >= len(tis)

        _wait("Celery har sparat ett resultat per uppgift", celery_results_stored, 60, topology)

        package = data / "archive" / "2018" / "T1" / "v1"
        assert (package / "manifest.json").exists()
        first_ledger = list((data / "archive" / "2018" / "T1" / "email_ledger").glob("*.json"))
        assert first_ledger, "e-post (utkorgen) ska ha gått till mottagarna"
        assert archive.verify(data / "archive") == []
        assert len(list((package / "workbooks").glob("*.xlsx"))) == 4
        assert scan(data) == {} and scan(home) == {}, "personnummer i staging, arkiv eller loggar"

        # Backfill, as an operator would: every tertial of 2018–2019, one run at a time.
        backfill_started = time.monotonic()
        _cli(env, logs, "backfill", "backfill", "create", "--dag-id", DAG_ID,
             "--from-date", "2018-01-01", "--to-date", "2019-12-31", "--max-active-runs", "1")  # fmt: skip

        def backfill_finished():
            with meta.connect() as conn:
                runs = conn.execute(
                    sa.text(
                        "select run_id, state, start_date, end_date from dag_run"
                        " where dag_id = :d and run_type = 'backfill' order by logical_date"
                    ),
                    {"d": DAG_ID},
                ).all()
            assert len(runs) == BACKFILL_RUNS, f"sex tertial väntades: {runs}"
            assert not [r for r in runs if r.state == "failed"], f"Backfill misslyckades: {runs}"
            return runs if all(r.state == "success" for r in runs) else None

        runs = _wait("backfill 2018–2019 lyckas", backfill_finished, BACKFILL_TIMEOUT, topology, interval=5.0)
        assert len(runs) == BACKFILL_RUNS
        for year in (2018, 2019):
            for part in ("T1", "T2", "T3"):
                assert (data / "archive" / str(year) / part / "v1" / "manifest.json").exists(), (year, part)
            # A T3 run references the year's T1 and T2 packages in the verksamhetsberättelse
            # (a tertial without a package would be listed as missing): they ran in order.
            vb = data / "archive" / str(year) / "VB" / "v1"
            references = json.loads((vb / "references.json").read_text(encoding="utf-8"))
            packages = references["packages"]
            assert sorted(packages) == ["T1", "T2", "T3"], references
            assert all(packages[t]["path"].startswith(f"{year}/{t}/v") for t in packages), references
        assert archive.verify(data / "archive") == []
        ok = True
        print(
            f"\nCelery-topologin: DAG:en tolkad efter {parsed_at - started:.0f} s, "
            f"körningen klar {run_seconds:.0f} s senare, {len(tis)} uppgifter; "
            f"backfill av sex tertial på {time.monotonic() - backfill_started:.0f} s."
        )
    finally:
        topology.stop()
        meta.dispose()
        _forget_queue(queue)
        if not ok:
            print(topology.logs())
            print("===== uppgiftsloggar =====")
            print(_task_log_tails(home))


def _forget_queue(queue: str) -> None:
    """Remove what this run left in Redis (its queue and kombu bindings); best effort."""
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3, socket_timeout=3)
        for key in client.scan_iter(match=f"*{queue}*"):
            client.delete(key)
        client.close()
    except Exception:  # noqa: BLE001, S110 - cleanup must never mask the test's outcome
        pass
