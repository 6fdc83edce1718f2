"""The DAG's e-mail task: "oklart om levererat" fails the task at once, without retries (a retry
could deliver the figures twice), and names the recipient; a certain failure is retried."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import AirflowFailException

from etl import pipeline
from etl.mail.sending import DeliveryUncertain, MailDeliveryError, _uncertain_text
from tests.support.db import REPO

RUN = {
    "run_id": "manual__x",
    "period_name": "2018-T1",
    "run_dir": "/nonexistent",
    "archive_root": "/nonexistent",
}
TO = "olga.fiktivsdotter@stockholm.se"


@pytest.fixture(scope="module")
def email_task():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags")).dags["tertial_followup"].get_task("email")


def _call(task):
    return task.python_callable(
        recipient=TO, run=RUN, params={"send_emails": True}, dag_run=SimpleNamespace(run_type="manual")
    )


def test_uncertain_delivery_fails_without_retries_naming_the_recipient(email_task, monkeypatch):
    def uncertain(*_a, **_k):
        raise DeliveryUncertain(_uncertain_text(TO, "förbindelsen bröts efter DATA"))

    monkeypatch.setattr(pipeline, "email_step", uncertain)
    with pytest.raises(AirflowFailException, match=f"Oklart om levererat: e-posten till {TO}"):
        _call(email_task)


def test_a_certain_failure_is_left_to_the_tasks_retries(email_task, monkeypatch):
    def refused(*_a, **_k):
        raise MailDeliveryError(f"E-posten till {TO} kunde inte skickas")

    monkeypatch.setattr(pipeline, "email_step", refused)
    with pytest.raises(MailDeliveryError):
        _call(email_task)
    assert email_task.partial_kwargs["retries"] >= 1
