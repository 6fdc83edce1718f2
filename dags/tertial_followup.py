"""
### Tertialuppföljning – Försörjningsstödsenheten

Runs once per tertial (T1 jan–apr, T2 jan–aug, T3 helår; always year to date) on the 16th of
the month after the tertial, when the month's registrations are due. It extracts case and
staff data, validates it, builds sex-disaggregated statistics, writes the managers' workbooks,
e-mails each recipient once, archives the package and, for T3, assembles the
verksamhetsberättelse bundle. Operators get an e-mail when a run fails or misses its deadline.

**Operators:** every task's docs say what to do when it fails. Large data moves through the
run's staging folder (`$EB_DATA_DIR/staging/<run_id>`), never through XCom. Connections:
`eb_source` (source database) and `eb_pseudonym_key` (HMAC key in the password field).
Trigger with `period` (e.g. `2018-T2`) to redo a given period, `send_emails` false to skip
e-mail, `resend` true to send again. Re-running is safe: the archive keeps identical content
once and versions changed content; nobody gets the same figures twice (the e-mail ledger).
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.providers.smtp.notifications.smtp import SmtpNotifier
from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference, Param, dag, task

from etl.mail import operators, recipients
from etl.settings import env, schedule_end, settings
from etl.source import TABLES
from tertial_timetable import TertialTimetable

SETTINGS = settings()
ORCHESTRATION = SETTINGS.pipeline.orchestration


def _local_midnight(day: dt.date | None) -> pendulum.DateTime | None:
    return day and pendulum.datetime(day.year, day.month, day.day, tz=SETTINGS.timezone)


DEFAULT_ARGS = {
    "owner": "forsorjningsstod",
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=2),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": dt.timedelta(minutes=30),
}


# Task docs for operators, shown in the UI (Markdown must not be indented).
DOCS = {
    "plan": """\
#### Planera
Decides the period (year to date) and the run's staging folder.
**If it fails:** the `period` parameter is malformed, or the run has no data interval
and no period: trigger it again with `period`, e.g. `2018-T1`.
""",
    "extract": """\
#### Extrahera en tabell
Streams one source table into staging and pseudonymises person ids.
**If it fails:** check the `eb_source` connection and that the database is up; the task
retries by itself. Clearing it is safe (it rewrites only its own staging file).
""",
    "validate": """\
#### Validera
Checks every staged table, quarantines bad rows, stops the run on critical failures.
**If it fails:** the log shows a table of failed rules per table. Have the source data
corrected, then clear the run from `extract`.
""",
    "statistics": """\
#### Statistik
Builds the sex-disaggregated statistics and the published (suppressed) table.
**If it fails:** a code or configuration error; see the traceback.
""",
    "workbook": """\
#### Arbetsbok
Writes one Excel workbook per scope (the unit, each district) from published figures only.
**If it fails:** a code error; see the traceback. Clearing is safe.
""",
    "email": """\
#### E-post till en mottagare
Sends one recipient their workbook and a summary (published figures only) through the
`smtp_default` connection, or writes it to the outbox in outbox mode. A ledger in the archive
records every message: a retried or cleared task, or a re-run of the tertial with the same
workbook, sends nothing again unless the run is triggered with `resend`.
**If it fails:** the log says why (SMTP server down, address outside the allowed domains).
Fix the connection or `config/recipients.yml` and clear the task. Each try sends once (no
retries inside); the task's own retries are the only ones, and the ledger keeps them safe.
""",
    "archive": """\
#### Arkivera
Writes an immutable, checksummed package (workbooks, statistics, validation, Data Docs,
email ledger); identical content reuses the existing version, changed content becomes v<N+1>.
**If it fails:** nothing partial is left behind; clear the task to retry.
""",
    "verksamhetsberattelse": """\
#### Verksamhetsberättelse
Only for the full year (T3; skipped for T1/T2): assembles `<year>/VB/` with the year's latest
T1, T2 and full-year packages referenced by hash and a trend workbook.
**If it fails:** usually the year's T1 or T2 package is missing; run those tertials first.
""",
    "purge_staging": """\
#### Rensa mellanlagring
Deletes staging folders of earlier runs older than `staging.retention_days` (they hold
quarantined rows). Never touches the archive.
**If it fails:** harmless for the report; check file permissions on the staging folder.
""",
}


@dag(
    dag_id="tertial_followup",
    schedule=TertialTimetable(timezone=SETTINGS.timezone),
    start_date=_local_midnight(ORCHESTRATION.start_date),
    end_date=_local_midnight(schedule_end()),
    catchup=True,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ekonomiskt-bistand", "tertial", "rapport"],
    doc_md=__doc__,
    on_failure_callback=SmtpNotifier(**operators.operator_alert("failure")),
    # EB_DEADLINE_ALERTS=off only for `airflow dags test` (the demo, tests): Airflow 3.3.2's
    # dag.test() hands the unserialized alert to DeadlineAlertModel.get_by_id and crashes.
    deadline=DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=dt.timedelta(hours=ORCHESTRATION.deadline_hours),
        callback=AsyncCallback(SmtpNotifier, kwargs=operators.operator_alert("deadline")),
    )
    if env().deadline_alerts
    else None,
    params={
        "period": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-T[123]$",
            description="Tvinga en period, t.ex. 2018-T1 (annars tertialet som körningen avser).",
        ),
        "send_emails": Param(True, type="boolean", description="Skicka e-post till mottagarna."),
        "resend": Param(
            False,
            type="boolean",
            description="Skicka igen även till den som redan fått samma siffror (annars aldrig två gånger).",
        ),
    },
)
def tertial_followup():
    @task(doc_md=DOCS["plan"])
    def plan(params=None, data_interval_end=None, run_id=None, dag_run=None) -> dict:
        from etl import pipeline

        planned = pipeline.plan_run(
            run_id, period=params.get("period"), interval_end=data_interval_end, run_after=dag_run.run_after
        )
        return planned.to_dict()

    @task(map_index_template="{{ table }}", retries=3, pool=ORCHESTRATION.source_pool, doc_md=DOCS["extract"])
    def extract(table: str, run: dict) -> dict:
        from airflow.sdk import BaseHook

        from etl import pipeline, pseudonym

        source_url = pipeline.source_url_from_connection(BaseHook.get_connection("eb_source"))
        key = pseudonym.load_key(BaseHook.get_connection("eb_pseudonym_key").password or "")
        return pipeline.extract_step(run, table, source_url, key)

    @task(doc_md=DOCS["validate"])
    def validate(run: dict) -> list[dict]:
        from airflow.sdk.exceptions import AirflowFailException

        from etl import pipeline
        from etl.validation.report import ValidationStop

        try:
            return pipeline.validate_step(run)
        except ValidationStop as stop:  # bad data does not get better by retrying
            raise AirflowFailException(str(stop)) from stop

    @task(doc_md=DOCS["statistics"])
    def statistics(run: dict) -> dict:
        from etl import pipeline

        return pipeline.statistics_step(run)

    @task(map_index_template="{{ scope }}", doc_md=DOCS["workbook"])
    def workbook(scope: str, run: dict) -> str:
        from etl import pipeline

        return pipeline.workbook_step(run, scope)

    @task(map_index_template="{{ recipient }}", retries=3, doc_md=DOCS["email"])
    def email(recipient: str, run: dict, params=None) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        from etl import pipeline

        if not params.get("send_emails", True):
            raise AirflowSkipException("E-post avstängd för körningen (send_emails = false).")
        return pipeline.email_step(run, recipient, resend=bool(params.get("resend")))

    @task(trigger_rule="none_failed", doc_md=DOCS["archive"])
    def archive(run: dict) -> dict:
        from etl import pipeline

        return pipeline.archive_step(run)

    @task(doc_md=DOCS["verksamhetsberattelse"])
    def verksamhetsberattelse(run: dict) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        from etl import pipeline

        result = pipeline.vb_step(run)
        if result is None:
            raise AirflowSkipException("Inte helår (T3): verksamhetsberättelsen byggs bara i T3-körningen.")
        return result

    @task(doc_md=DOCS["purge_staging"])
    def purge_staging(run: dict) -> list[str]:
        from etl import pipeline

        return pipeline.purge_step(run)

    # Data passes through the run's staging folder; the edges below only order the tasks.
    run = plan()
    extracted = extract.partial(run=run).expand(table=list(TABLES))
    books = workbook.partial(run=run).expand(scope=list(SETTINGS.scopes))
    sent = email.partial(run=run).expand(recipient=recipients.recipient_addresses())
    (
        extracted
        >> validate(run)
        >> statistics(run)
        >> books
        >> sent
        >> archive(run)
        >> verksamhetsberattelse(run)
    )
    purge_staging(run)


tertial_followup()
