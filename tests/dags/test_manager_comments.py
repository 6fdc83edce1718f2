"""The manager_comments DAG as Airflow sees it: scheduled every comments.inbox_minutes (also
triggerable), one thin task that calls etl.comments.inbox.import_inbox."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.support.db import REPO


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags" / "manager_comments.py"))


def test_loads_and_looks_in_the_inbox_every_15_minutes(dagbag):
    assert dagbag.import_errors == {}
    dag = dagbag.dags["manager_comments"]
    timetable = dag.timetable
    assert type(timetable).__name__ == "DeltaTriggerTimetable"  # no data interval: a look, not a period
    assert timetable.delta == dt.timedelta(minutes=15)  # config/pipeline.yml comments.inbox_minutes
    assert dag.catchup is False and dag.max_active_runs == 1


def test_the_task_is_thin(dagbag):
    dag = dagbag.dags["manager_comments"]
    assert [t.task_id for t in dag.tasks] == ["import_inbox"]
    assert dag.tasks[0].doc_md.startswith("Imports every returned workbook")
