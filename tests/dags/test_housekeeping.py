"""The housekeeping DAG as Airflow sees it: daily, no catch-up, one thin task."""

from __future__ import annotations

import pytest

from tests.support.db import REPO


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags" / "housekeeping.py"))


def test_loads_daily_without_catch_up(dagbag):
    assert dagbag.import_errors == {}
    dag = dagbag.dags["housekeeping"]
    timetable = dag.timetable
    assert type(timetable).__name__ == "CronTriggerTimetable"  # a trigger: no data interval, no period
    assert (timetable.expression, str(timetable.timezone)) == ("0 0 * * *", "Europe/Stockholm")
    assert dag.catchup is False and dag.max_active_runs == 1


def test_the_task_is_thin(dagbag):
    dag = dagbag.dags["housekeeping"]
    assert [t.task_id for t in dag.tasks] == ["purge"]
    assert dag.tasks[0].doc_md.startswith("Deletes expired staging folders")
