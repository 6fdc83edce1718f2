"""The case-review DAGs as Airflow sees them: manual only, a trigger form with a schema, and
tasks that only call etl.review."""

from __future__ import annotations

import pytest

from tests.support.db import REPO


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags" / "case_review_sample.py"))


def test_both_dags_load_and_are_only_triggered_by_hand(dagbag):
    assert dagbag.import_errors == {}
    for dag_id in ("case_review_sample", "case_review_import"):
        assert type(dagbag.dags[dag_id].timetable).__name__ == "NullTimetable"


def test_the_trigger_form_takes_the_sample_parameters_with_a_schema(dagbag):
    params = dagbag.dags["case_review_sample"].params
    assert set(params.keys()) == {"year", "per_sex", "by", "exclude_rounds", "seed"}
    schema = {name: params.get_param(name).schema for name in set(params.keys())}
    assert schema["year"]["type"] == "integer" and schema["seed"]["minimum"] == 0
    assert schema["exclude_rounds"]["items"]["pattern"] == r"^\d{4}-\d{2}$"
    from airflow.sdk.exceptions import ParamValidationError

    assert params.get_param("exclude_rounds").resolve(["2018-01"]) == ["2018-01"]
    with pytest.raises(ParamValidationError):
        params.get_param("exclude_rounds").resolve(["förra"])
    with pytest.raises(ParamValidationError):
        params.get_param("seed").resolve(None)  # no default: the seed must be chosen
    with pytest.raises(ParamValidationError):
        params.get_param("by").resolve("district")


def test_the_tasks_are_thin(dagbag):
    assert [t.task_id for t in dagbag.dags["case_review_sample"].tasks] == ["draw"]
    assert [t.task_id for t in dagbag.dags["case_review_import"].tasks] == ["import_inbox"]
