"""The DAG as Airflow sees it: integrity in-process, and real runs through `airflow dags test`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl import archive, source
from reports.vb import vb_name
from tests.support.airflow import airflow_env
from tests.support.db import REPO, new_postgres_database, require_postgres
from tests.support.pii_scan import scan
from tests.support.source_data import small_db
from tests.support.vb import vb_db

AIRFLOW = str(Path(sys.executable).parent / "airflow")
DAG_ID = "tertial_followup"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    start = time.perf_counter()
    bag = DagBag(dag_folder=str(REPO / "dags"))
    bag.parse_seconds = time.perf_counter() - start
    return bag


def test_dags_import_without_errors_and_parse_fast(dagbag):
    assert dagbag.import_errors == {}
    assert DAG_ID in dagbag.dags
    assert dagbag.parse_seconds < 2.0, f"parsing took {dagbag.parse_seconds:.2f} s"


def test_every_dag_and_task_has_owner_tags_retries_and_docs(dagbag):
    for dag in dagbag.dags.values():
        assert dag.tags and dag.doc_md, dag.dag_id
        # Every period is caught up; a look at the inbox (manager_comments) or the daily purge
        # (housekeeping) has no period to catch up.
        looks = type(dag.timetable).__name__ in ("DeltaTriggerTimetable", "CronTriggerTimetable")
        assert dag.max_active_runs == 1 and (dag.catchup or looks), dag.dag_id
        for t in dag.tasks:
            assert t.owner == "forsorjningsstod", t.task_id
            assert t.retries >= 1 and t.max_retry_delay is not None, t.task_id
            assert t.doc_md and "If it fails" in t.doc_md, f"{t.task_id} lacks operator docs"


def test_task_graph_flows_one_way(dagbag):
    dag = dagbag.dags[DAG_ID]
    order = [
        "plan",
        "extract",
        "validate",
        "statistics",
        "workbook",
        "email",
        "archive",
        "verksamhetsberattelse",
    ]
    # One extract task per big table of the source contract, named for it, and one for the small
    # ones (hand-listed here); together they extract every table once.
    big = ["household", "person", "application", "payment", "support_obstacle"]
    small = ["district", "population", "intervention", "job_place", "staff", "staff_month",
             "indicator_input", "booked_cost"]  # fmt: skip
    extracts = {f"extract.{t}" for t in big} | {"extract.small_tables"}
    for t in big:
        assert dag.get_task(f"extract.{t}").op_kwargs["tables"] == [t]
    assert dag.get_task("extract.small_tables").op_kwargs["tables"] == small
    assert sorted(big + small) == sorted(source.TABLES)
    extra = {"lock_period", "purge_staging", "release_period"}
    assert {t.task_id for t in dag.tasks} == {*order, *extra} - {"extract"} | extracts
    assert set(dag.get_task("lock_period").downstream_task_ids) >= extracts
    for name in extracts:
        assert dag.get_task(name).downstream_task_ids == {"validate"}, name
    order.remove("extract")
    for upstream, downstream in zip(order, order[1:], strict=False):
        assert downstream in dag.get_task(upstream).downstream_task_ids, (upstream, downstream)
    # One run per period: lock_period (a setup) before any work, release_period (its teardown)
    # after all of it, for success and failure alike (etl/period_lock.py).
    lock, release = dag.get_task("lock_period"), dag.get_task("release_period")
    assert lock.is_setup and lock.upstream_task_ids == {"plan"}
    assert lock.downstream_task_ids == extracts | {"purge_staging", "release_period"}
    assert release.is_teardown and not release.downstream_task_ids
    assert release.upstream_task_ids == {"lock_period", "verksamhetsberattelse", "purge_staging"}
    assert dag.get_task("purge_staging").upstream_task_ids == {"plan", "lock_period"}
    # Skipped e-mail (send_emails = false) must not stop the archive.
    assert dag.get_task("archive").trigger_rule == "none_failed"


def test_operator_facing_settings(dagbag):
    from etl.settings import settings

    dag = dagbag.dags[DAG_ID]
    orchestration = settings().pipeline.orchestration
    extracts = [t for t in dag.tasks if t.task_id.startswith("extract.")]
    assert extracts and {t.pool for t in extracts} == {orchestration.source_pool}
    assert set(dag.params.keys()) == {"period", "send_emails", "resend"}
    assert dag.params.get_param("send_emails").value is True and dag.params.get_param("resend").value is False
    with pytest.raises(Exception, match="does not match"):  # the schema refuses a malformed period
        dag.params.get_param("period").resolve("2018-T4")
    # Every task alerts the operators itself (its log shows a failed delivery).
    assert all(t.on_failure_callback for t in dag.tasks)
    assert dag.on_failure_callback is None or dag.on_failure_callback == []
    extract = dag.get_task("extract.small_tables")
    delays = (extract.retry_delay.total_seconds(), extract.max_retry_delay.total_seconds())
    assert (extract.retries, *delays) == (3, 300, 1200)
    assert dag.get_task("extract.payment").op_kwargs["tables"] == ["payment"]  # its name, in every state
    # The grid labels the mapped tasks from their own argument, before they run.
    assert dag.get_task("workbook").map_index_template == "{{ ti.task.op_kwargs['scope'] }}"
    deadline = dag.deadline[0] if isinstance(dag.deadline, list) else dag.deadline
    assert deadline.interval.total_seconds() == orchestration.deadline_hours * 3600
    assert deadline.callback.path == "etl.mail.operators.deadline_alert"


@pytest.mark.slow  # a Python subprocess that imports Airflow
def test_schedule_starts_and_ends_as_configured():
    """start_date comes from config/pipeline.yml; $EB_SCHEDULE_END (the demo's Airflow: its data
    ends with 2019) ends the timetable's schedule, never the DAG's end_date (that would also end
    every task, and a manual run dated later would have no tasks). Parsed in a fresh process."""
    code = (
        "from airflow.dag_processing.dagbag import DagBag; "
        f"d = DagBag(dag_folder={str(REPO / 'dags')!r}).dags[{DAG_ID!r}]; "
        "print(d.start_date.isoformat(), d.end_date, d.timetable.last_start)"
    )
    env = {k: v for k, v in os.environ.items() if k != "EB_SCHEDULE_END"}
    run = lambda e: subprocess.run(  # noqa: E731
        [sys.executable, "-c", code], env=e, capture_output=True, text=True, check=True, cwd=REPO
    ).stdout.split()[-3:]
    # Local midnight in Stockholm (CET, UTC+1), which Airflow keeps in UTC.
    assert run(env) == ["2017-12-31T23:00:00+00:00", "None", "None"]
    demo = run({**env, "EB_SCHEDULE_END": "2019-12-31"})
    assert demo == ["2017-12-31T23:00:00+00:00", "None", "2019-12-31"]


def _run(args: list[str], env: dict, log: Path) -> None:
    proc = subprocess.run([AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=600)
    log.write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, f"airflow {' '.join(args)} failed:\n{(proc.stdout + proc.stderr)[-4000:]}"


def _dag_test_2018_t1(tmp_path: Path, metadata_url: str, source_url: str, source_conn: dict) -> None:
    small_db(source_url)
    home, data = tmp_path / "airflow", tmp_path / "data"
    home.mkdir()
    env = airflow_env(home, metadata_url, source_conn, data)
    _run(["db", "migrate"], env, tmp_path / "migrate.log")
    _run(["dags", "test", DAG_ID, "2018-05-16"], env, tmp_path / "run.log")

    package = data / "archive" / "2018" / "T1" / "v1"
    assert (package / "manifest.json").exists() and archive.verify(data / "archive") == []
    assert len(list((package / "workbooks").glob("*.xlsx"))) == 4
    run_log = (tmp_path / "run.log").read_text()
    assert "Validering:" in run_log and "lästa" in run_log and f"Arkiverade: {package}" in run_log
    from etl.mail import recipients

    sent = json.loads((package / "email_ledger.json").read_text())
    assert sorted(e["to"] for e in sent) == sorted(recipients.recipient_addresses())
    assert len(list((data / "outbox" / "2018-T1").glob("*.eml"))) == len(sent)
    assert scan(data) == {} and scan(home) == {} and scan(tmp_path / "run.log") == {}


@pytest.mark.slow
def test_dag_t3_run_builds_and_sends_the_verksamhetsberattelse_once(tmp_path):
    """The verksamhetsberattelse task of a T3 run: the VB package and its e-mail to the enhetschef."""
    db = tmp_path / "source.db"
    vb_db(f"sqlite:///{db}")
    home, data = tmp_path / "airflow", tmp_path / "data"
    home.mkdir()
    env = airflow_env(
        home, f"sqlite:///{tmp_path / 'airflow.db'}", {"conn_type": "sqlite", "host": str(db)}, data
    )
    _run(["db", "migrate"], env, tmp_path / "migrate.log")
    _run(["dags", "test", DAG_ID, "2019-01-16"], env, tmp_path / "run.log")  # 2018 T3 is due in January
    vb = data / "archive" / "2018" / "VB"
    assert [p.name for p in (vb / "v1" / "workbooks").iterdir()] == [vb_name(2018)]
    assert [p.name.split("__")[0] for p in (vb / "email_ledger").iterdir()] == [
        "karin.exempelsson_at_stockholm.se"
    ]
    assert [p.name for p in (data / "outbox" / "2018-VB").iterdir()] == [
        "karin.exempelsson_at_stockholm.se.eml"
    ]
    assert archive.verify(data / "archive") == []


@pytest.mark.slow
def test_dag_runs_2018_t1_on_sqlite(tmp_path):
    db = tmp_path / "source.db"
    _dag_test_2018_t1(
        tmp_path,
        f"sqlite:///{tmp_path / 'airflow.db'}",
        f"sqlite:///{db}",
        {"conn_type": "sqlite", "host": str(db)},
    )


@pytest.mark.slow
@pytest.mark.postgres
def test_dag_runs_2018_t1_on_postgres_metadata_and_source(tmp_path):
    require_postgres()
    meta_url, drop_meta = new_postgres_database()
    source_url, drop_source = new_postgres_database()
    try:
        src = sa.make_url(source_url)
        conn = {"conn_type": "postgres", "host": src.host, "port": src.port, "login": src.username,
                "schema": src.database}  # fmt: skip
        _dag_test_2018_t1(tmp_path, meta_url, source_url, conn)
    finally:
        drop_meta()
        drop_source()
