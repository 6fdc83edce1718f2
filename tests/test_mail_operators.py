"""Operators' alerts (etl/mail/operators.py): period, task, error, action, link; delivered like mail."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import types
from email import policy
from email.parser import BytesParser

import pytest

from etl.mail import operators, sending
from etl.periods import Period

URL = "http://airflow.example/dags/tertial_followup/runs/r1/tasks/validate?try_number=1"
ERROR = "Valideringen stoppade körningen: payment: tabellen saknas i källan.\nTraceback …"


def _parse(message):
    return BytesParser(policy=policy.default).parsebytes(message.as_bytes())


def _bodies(message) -> tuple[str, str]:
    msg = _parse(message)
    return (
        msg.get_body(preferencelist=("plain",)).get_content(),
        msg.get_body(preferencelist=("html",)).get_content(),
    )


def test_validation_alert_names_period_task_error_action_and_links_the_log():
    msg = operators.build_alert(
        "failure", period="2018-T2", run_id="r1", task="validate", error=ERROR, log_url=URL, try_number=1
    )
    assert msg["Subject"] == (
        "[2018-T2] Tertialuppföljningen stoppade: validate – Valideringen stoppade körningen: payment: "
        "tabellen saknas i källan."
    )
    assert msg["To"] == "drift.forsorjningsstod@stockholm.se"
    text, html = _bodies(msg)
    lines = text.splitlines()
    assert lines[0] == "Period: 2018-T2 (Tertialrapport 2, 1 jan–31 aug 2018)"
    assert "Fel: Valideringen stoppade körningen: payment: tabellen saknas i källan." in lines
    assert "Traceback" not in text
    action = next(line for line in lines if line.startswith("Gör så här: "))
    assert "Trigger med period=2018-T2" in action and "Clear Run" in action
    assert f"Logg: {URL}" in lines
    assert f"<a href='{URL.replace('&', '&amp;')}'>Öppna loggen i Airflow</a>" in html


@pytest.mark.parametrize(
    ("task", "item", "words"),
    [
        ("extract", "staff", ["eb_source", "(staff)", "Clear"]),
        ("email", "olga@stockholm.se", ["smtp_default", "olga@stockholm.se", "recipients.yml"]),
        ("plan", None, ["period=2018-T1"]),
        ("statistics", None, ["Documentation", "Clear"]),
    ],
)
def test_each_kind_of_failure_has_its_own_action(task, item, words):
    msg = operators.build_alert("failure", period=Period(2018, 1), run_id="r", task=task, item=item)
    text, _ = _bodies(msg)
    action = next(line for line in text.splitlines() if line.startswith("Gör så här: "))
    assert all(w in action for w in words), action
    assert operators.failure_kind(task) in operators.ACTIONS


def test_alert_text_is_escaped_in_html():
    _, html = _bodies(operators.build_alert("failure", period=None, run_id="r<1>", task="x", error="<b>&"))
    assert "r&lt;1&gt;" in html and "&lt;b&gt;&amp;" in html and "<b>&" not in html
    assert "Period: okänd period" in html


def test_outbox_mode_writes_the_alert_beside_the_managers_mail(tmp_path, monkeypatch):
    monkeypatch.setenv("EB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EB_MAIL_MODE", "outbox")
    msg = operators.build_alert("failure", period="2018-T1", run_id="r", task="validate", error="x")
    assert operators.send_alert(msg, "2018-T1", "20260101T000000-validate", pause=lambda s: None)
    path = tmp_path / "outbox" / "drift" / "2018-T1" / "20260101T000000-validate.eml"
    assert path.read_bytes() == msg.as_bytes()


def test_failed_delivery_is_logged_and_retried_never_raised(monkeypatch, caplog):
    monkeypatch.setenv("EB_MAIL_MODE", "smtp")
    calls, pauses = [], []

    def refuse(message, conn_id):
        calls.append(conn_id)
        raise sending.MailDeliveryError("SMTP-servern svarar inte")

    monkeypatch.setattr(sending, "send_smtp", refuse)
    msg = operators.build_alert("failure", period="2018-T1", run_id="r", task="validate")
    with caplog.at_level(logging.ERROR, logger="etl.mail.operators"):
        assert operators.send_alert(msg, "2018-T1", "x", pause=pauses.append) is False
    assert calls == ["smtp_default"] * 3 and pauses == [10, 30]
    logged = [r.getMessage() for r in caplog.records]
    assert logged[0] == "Driftlarmet kunde inte levereras (försök 1 av 3): SMTP-servern svarar inte"
    assert logged[-1].startswith("Driftlarmet gick förlorat")


RUN_ID = "manual__tertial__2018-T2__x"


def _context(task_id: str, *, clear_number: int = 0, map_index: int = -1, label: str | None = None) -> dict:
    ti = types.SimpleNamespace(
        task_id=task_id, map_index=map_index, rendered_map_index=label, run_id=RUN_ID, try_number=4,
        log_url=URL,
    )  # fmt: skip
    dag_run = types.SimpleNamespace(
        dag_id="tertial_followup", run_id=RUN_ID, conf={"period": "2018-T2"}, clear_number=clear_number,
        run_after=dt.datetime(2026, 11, 26, tzinfo=dt.UTC),
        data_interval_start=dt.datetime(2018, 4, 30, 22, tzinfo=dt.UTC),
        data_interval_end=dt.datetime(2018, 8, 31, 22, tzinfo=dt.UTC),
    )  # fmt: skip
    return {"ti": ti, "dag_run": dag_run, "exception": RuntimeError("källan svarar inte")}


def _outbox(tmp_path):
    return sorted((tmp_path / "outbox" / "drift" / "2018-T2").glob("*.eml"))


@pytest.fixture
def outbox_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("EB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EB_MAIL_MODE", "outbox")


def test_task_failure_callback_reads_the_airflow_context(tmp_path, outbox_mode):
    operators.on_task_failure(_context("email", map_index=1, label="olga@stockholm.se"), run_states=dict)
    (eml,) = _outbox(tmp_path)
    assert eml.name.endswith("-email-olga_stockholm.se.eml")
    message = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert text.startswith("Period: 2018-T2 (Tertialrapport 2, 1 jan–31 aug 2018)")
    assert "Uppgift: email (olga@stockholm.se)" in text and "Fel: RuntimeError: källan svarar inte" in text


def test_a_source_outage_alerts_once_naming_every_failing_table(tmp_path, outbox_mode):
    # The run's other extract tasks as the Task SDK reports them when the first one gives up.
    states = {
        "plan": "success", "extract.district": "success", "extract.payment": "failed",
        "extract.staff": "up_for_retry", "extract.person": "up_for_retry", "extract.application": "running",
    }  # fmt: skip
    operators.on_task_failure(_context("extract.household"), run_states=lambda ti, dag_id: states)
    (eml,) = _outbox(tmp_path)
    message = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert message["Subject"] == (
        "[2018-T2] Källan nås inte: extract (household, payment) – RuntimeError: källan svarar inte"
    )
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Uppgift: extract (household, payment)" in text
    assert "Väntar på nytt försök: person, staff" in text
    assert "Källdatabasen gick inte att läsa (household, payment)" in text
    # The other tables give up one after the other: no second alert for the same run.
    for table in ("payment", "staff", "person"):
        operators.on_task_failure(_context(f"extract.{table}"), run_states=lambda ti, dag_id: states)
    assert len(_outbox(tmp_path)) == 1
    (entry,) = (tmp_path / "alert_ledger").glob("*.json")
    assert entry.name == f"{RUN_ID}__c0-source.json"
    # Another kind in the same run alerts; so does the same kind after the run was cleared.
    operators.on_task_failure(_context("validate"), run_states=dict)
    operators.on_task_failure(_context("extract.staff", clear_number=1), run_states=lambda ti, d: {})
    assert len(_outbox(tmp_path)) == 3


def test_the_small_tables_task_is_named_with_every_table_it_extracts(tmp_path, outbox_mode):
    states = {"extract.small_tables": "failed", "extract.person": "up_for_retry"}
    operators.on_task_failure(_context("extract.payment"), run_states=lambda ti, dag_id: states)
    (eml,) = _outbox(tmp_path)
    text = BytesParser(policy=policy.default).parsebytes(eml.read_bytes()).get_body(("plain",)).get_content()
    small = ("district, population, intervention, job_place, staff, staff_month, indicator_input, "
             "booked_cost")  # fmt: skip
    assert f"Uppgift: extract (payment, small_tables ({small}))" in text
    assert "Väntar på nytt försök: person" in text
    assert operators.item_label("person") == "person"


def test_an_undelivered_alert_is_released_for_the_next_failing_task(tmp_path, outbox_mode, monkeypatch):
    monkeypatch.setattr(operators, "send_alert", lambda message, period, slug: False)
    operators.on_task_failure(_context("extract.staff"), run_states=lambda ti, d: {})
    assert list((tmp_path / "alert_ledger").iterdir()) == []  # no claim left behind
    monkeypatch.undo()
    monkeypatch.setenv("EB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EB_MAIL_MODE", "outbox")
    operators.on_task_failure(_context("extract.payment"), run_states=lambda ti, d: {})
    assert len(_outbox(tmp_path)) == 1


def test_deadline_alert_only_for_runs_still_running(monkeypatch):
    sent = []
    monkeypatch.setattr(operators, "send_alert", lambda m, p, slug: sent.append(m))
    monkeypatch.setattr(operators, "run_url", lambda run_id: f"http://airflow/runs/{run_id}")
    context = {
        "dag_run": {"dag_run_id": "scheduled__tertial__2018-T2", "state": "failed", "conf": {},
                    "data_interval_start": "2018-04-30T22:00:00Z",
                    "data_interval_end": "2018-08-31T22:00:00Z"},
        "deadline": {"id": "d1", "deadline_time": "2018-09-18T07:00:00+00:00"},
    }  # fmt: skip
    asyncio.run(operators.deadline_alert(context))
    assert sent == []
    context["dag_run"]["state"] = "running"
    asyncio.run(operators.deadline_alert(context))
    (msg,) = sent
    assert msg["Subject"] == "[2018-T2] Tertialuppföljningen är inte klar i tid: scheduled__tertial__2018-T2"
    text, _ = _bodies(msg)
    assert "Skulle vara klar: 2018-09-18T07:00:00+00:00" in text and "Körningen pågår" in text


def test_attempt_line_follows_airflows_backoff():
    # retry_delay 5 min, factor 2, max 20 min: waits of 5–10, 10–20, then 20 (capped).
    again = "misslyckades; Airflow försöker igen om"
    assert operators.attempt_line(1, 3, 5, 2, 20) == f"Försök 1 av 4 {again} 5–10 min."
    assert operators.attempt_line(2, 3, 5, 2, 20) == f"Försök 2 av 4 {again} 10–20 min."
    assert operators.attempt_line(3, 3, 5, 2, 20) == f"Försök 3 av 4 {again} 20 min."
    assert operators.attempt_line(4, 3, 5, 2, 20).endswith("inga fler försök: driften får ett larm.")


def test_error_row_and_subject_carry_the_cause_not_the_advice_or_paths():
    error = (
        "Valideringen stoppade körningen: payment: tabellen saknas i källan. Rapport: /data/staging/r/"
        "validation.json Gör så här: be förvaltaren …"
    )
    msg = operators.build_alert("failure", period="2018-T1", run_id="r", task="validate", error=error)
    assert msg["Subject"] == (
        "[2018-T1] Tertialuppföljningen stoppade: validate – Valideringen stoppade körningen: payment: "
        "tabellen saknas i källan."
    )
    text, _ = _bodies(msg)
    assert "Fel: Valideringen stoppade körningen: payment: tabellen saknas i källan. Rapport: " in text
    assert "be förvaltaren …" not in text


def test_the_action_gets_its_own_log_line():
    message = "Valideringen stoppade: payment: tabellen saknas i källan. Gör så här: be förvaltaren rätta."
    assert operators.split_action(message) == (
        "Valideringen stoppade: payment: tabellen saknas i källan.",
        "Gör så här: be förvaltaren rätta.",
    )
    assert operators.split_action("okänt fel") == ("okänt fel", "")
