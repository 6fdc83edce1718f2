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


def test_task_failure_callback_reads_the_airflow_context(tmp_path, monkeypatch):
    sent = []
    monkeypatch.setattr(operators, "send_alert", lambda m, p, slug: sent.append((m, p, slug)))
    ti = types.SimpleNamespace(
        task_id="extract", map_index=3, rendered_map_index="staff", run_id="manual__tertial__2018-T2__x",
        try_number=4, log_url=URL,
    )  # fmt: skip
    dag_run = types.SimpleNamespace(
        run_id=ti.run_id, conf={"period": "2018-T2"}, run_after=dt.datetime(2026, 11, 26, tzinfo=dt.UTC),
        data_interval_start=dt.datetime(2018, 4, 30, 22, tzinfo=dt.UTC),
        data_interval_end=dt.datetime(2018, 8, 31, 22, tzinfo=dt.UTC),
    )  # fmt: skip
    operators.on_task_failure({"ti": ti, "dag_run": dag_run, "exception": RuntimeError("källan svarar inte")})
    ((msg, period, slug),) = sent
    assert period == Period(2018, 2) and slug.endswith("-extract-staff")
    text, _ = _bodies(msg)
    assert "Uppgift: extract (staff)" in text and "Fel: RuntimeError: källan svarar inte" in text


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
