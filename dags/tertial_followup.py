"""
### Tertialuppföljning – Försörjningsstödsenheten

Runs once per tertial (T1 jan–apr, T2 jan–aug, T3 helår; always year to date) on the 16th of
the month after the tertial, when the month's registrations are due. It extracts case and
staff data, validates it, builds sex-disaggregated statistics, writes the managers' workbooks,
e-mails each recipient once, archives the package and, for T3, assembles the
verksamhetsberättelse bundle. Operators get an e-mail when a run fails or misses its deadline.

**Operators:** every task's docs (the Documentation button on the task's page) say what to do
when it fails, and so does the alert e-mail a failed task sends (period, task, table, error,
action, a link to the log). The run's note and every task log's first line name the period.
Large data moves through the run's staging folder (`$EB_DATA_DIR/staging/<run_id>`), never
through XCom. Connections: `eb_source` (source database) and `eb_pseudonym_key` (HMAC key in
the password field). Trigger with `period` (e.g. `2018-T2`) to redo a given period (the run
gets that tertial as its data interval and is named `manual__tertial__2018-T2__…`),
`send_emails` false to skip e-mail, `resend` true to send again. Catch-up runs of tertials
older than the previous one send no e-mail (a first unpause does not mail years of reports).
One run per period at a time: a second run of a period that another run holds (a backfill or
a manual trigger beside the scheduled one) stops at `lock_period`, naming the other run.
Re-running is safe: the archive keeps identical content once and versions changed content;
nobody gets the same figures twice (the e-mail ledger). Clearing works (Airflow bug #70368 is
patched by plugins/airflow_fixes.py).
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference, Param, TaskGroup, dag, task

from etl.mail import recipients
from etl.settings import env, schedule_end, settings
from etl.source import EXTRACT_TASKS
from tertial_timetable import TertialTimetable

SETTINGS = settings()
ORCHESTRATION = SETTINGS.pipeline.orchestration


def _local_midnight(day: dt.date | None) -> pendulum.DateTime | None:
    return day and pendulum.datetime(day.year, day.month, day.day, tz=SETTINGS.timezone)


def _alert_operators(context) -> None:
    from etl.mail import operators

    operators.on_task_failure(context)


DEFAULT_ARGS = {
    "owner": "forsorjningsstod",
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=2),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": dt.timedelta(minutes=30),
    # Each failed task alerts the operators (in the task's own log: delivery problems show there).
    "on_failure_callback": _alert_operators,
}
# The source database: a night-time outage gets 5, 10, 20 minutes (Airflow adds up to as much
# again) before the operators are alerted; every attempt logs which try it was.
SOURCE_RETRIES = {
    "retries": 3,
    "retry_delay": dt.timedelta(minutes=5),
    "max_retry_delay": dt.timedelta(minutes=20),
}


# A mapped task's label (scope, recipient) from its own argument, rendered before the task body
# runs (Airflow 3.3.2 still blanks it while a try waits for its retry: the source tables, which
# do wait for retries, are therefore static tasks, `extract.<table>` and `extract.small_tables`,
# not mapped).
_ITEM = "{{ ti.task.op_kwargs['%s'] }}"

# Task docs for operators, shown in the UI (Markdown must not be indented).
DOCS = {
    "plan": """\
#### Planera
Decides the period (year to date) and the run's staging folder.
**If it fails:** the `period` parameter is malformed or contradicts the run's data interval
(a command-line trigger), or the run has no data interval and no period: trigger it again
from the UI's Trigger form with `period`, e.g. `2018-T1`.
""",
    "lock_period": """\
#### Lås perioden
One run per period at a time: takes the period's lock (`$EB_DATA_DIR/locks/<period>.json`),
which `release_period` gives back when the run ends. A backfill or `airflow dags test` beside
a scheduled run, or two manual runs, of the same period would otherwise share archive and
e-mail ledger. A lock left by a run that is no longer queued or running is taken over.
**If it fails:** another run of the same period is still queued or running (the error names
it): wait until it has finished, then trigger `period` again if it is still needed.
""",
    "extract": """\
#### Extrahera
Streams source tables into staging and pseudonymises person ids: each big table in a task of its
own (`extract.<table>`: household, person, application, payment, support_obstacle), the small
ones together in `extract.small_tables` (its log names each table as it reads it).
**If it fails:** the source could not be read (the log's first error names the table and the
cause). The task retries by itself after about 5, 10 and 20 minutes (each attempt logs which
it was); then the operators get one alert per run naming every table that could not be read.
Check the `eb_source` connection and that the database is up and has the table, then Clear
the failed tasks (select the `extract` group, Downstream, the default): safe, each rewrites
only its own staging file.
""",
    "validate": """\
#### Validera
Checks every staged table, quarantines bad rows, stops the run on critical failures.
**If it fails:** a critical rule failed; the log shows a table of failed rules per table and
the error names table and rule. Have the source data corrected, then run the period again:
Trigger with `period`, or *Clear Run* with all tasks (the source is read again). Clearing only
`validate` (Downstream) would validate the old staged data again: include Upstream.
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
"Oklart om levererat" (the connection broke after the message was handed over): the task fails
at once without retries and names the recipient; ask the recipient or check the mail server's
log, and if it did not arrive, trigger the period again with `resend`.
""",
    "archive": """\
#### Arkivera
Writes an immutable, checksummed package (workbooks, statistics, validation, Data Docs,
email ledger); identical content reuses the existing version, changed content becomes v<N+1>.
**If it fails:** nothing partial is left behind; clear the task to retry.
""",
    "verksamhetsberattelse": """\
#### Verksamhetsberättelse
Only for the full year (T3; skipped for T1/T2): writes the verksamhetsberättelse workbook (goals,
districts, charts, gender analysis over the years, budget), archives `<year>/VB/v<N>/` with the
year's packages referenced by hash, and e-mails it once to its recipients (same ledger rules as
the e-mail task; not in a historical catch-up or with send_emails = false).
**If it fails:** the full year's package is missing or changed (run T3 again), or an e-mail's
delivery is uncertain (see the e-mail task).
""",
    "purge_staging": """\
#### Rensa mellanlagring
Deletes staging folders of earlier runs older than `staging.retention_days` (they hold
quarantined rows). Never touches the archive.
**If it fails:** harmless for the report; check file permissions on the staging folder.
""",
    "release_period": """\
#### Släpp perioden
Runs last, whether the run succeeded or failed (the teardown of `lock_period`; its own state
does not decide the run's): releases the period's lock, so the next run of the period may
start. Only this run's own lock is released; clearing a task of the run runs `lock_period`
again, which takes the lock again.
**If it fails:** check file permissions on `$EB_DATA_DIR/locks`; a lock left behind is taken
over by the next run of the period once this run is no longer running.
""",
}


@dag(
    dag_id="tertial_followup",
    # The schedule's end is the timetable's, not the DAG's end_date: that would also be every
    # task's end date, and a manual run dated later would get no task instances at all.
    schedule=TertialTimetable(timezone=SETTINGS.timezone, last_start=schedule_end()),
    start_date=_local_midnight(ORCHESTRATION.start_date),
    catchup=True,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ekonomiskt-bistand", "tertial", "rapport"],
    doc_md=__doc__,
    # EB_DEADLINE_ALERTS=off only for `airflow dags test` (the demo, tests): Airflow 3.3.2's
    # dag.test() hands the unserialized alert to DeadlineAlertModel.get_by_id and crashes.
    deadline=DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=dt.timedelta(hours=ORCHESTRATION.deadline_hours),
        callback=AsyncCallback("etl.mail.operators.deadline_alert"),
    )
    if env().deadline_alerts
    else None,
    params={
        "period": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-T[123]$",
            description=(
                "Kör en given period, t.ex. 2018-T1: körningen får tertialets dataintervall och namn "
                "(annars tertialet som körningen avser)."
            ),
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
    def plan(params=None, data_interval_start=None, data_interval_end=None, run_id=None, dag_run=None):
        from etl import pipeline

        planned = pipeline.plan_run(
            run_id,
            period=params.get("period"),
            interval_start=data_interval_start,
            interval_end=data_interval_end,
            run_after=dag_run.run_after,
        )
        pipeline.announce(planned)
        return planned.to_dict()

    # The setup of the run's work (release_period is its teardown): clearing any task of the run
    # runs it again, so a cleared run holds the lock while it works.
    @task(doc_md=DOCS["lock_period"])
    def lock_period(run: dict, run_id=None, ti=None) -> str:
        from airflow.sdk.exceptions import AirflowFailException

        from etl import period_lock, pipeline

        pipeline.announce(run)
        planned = pipeline.RunPlan.of(run)

        def active(other: str) -> bool:  # the holder's state in Airflow's metadata database
            states = list(period_lock.ACTIVE_STATES)
            return ti.get_dr_count(dag_id=ti.dag_id, run_ids=[other], states=states) > 0

        locks = period_lock.locks_dir(planned.archive_root)
        try:
            period_lock.acquire(locks, planned.period_name, run_id, is_active=active)
        except period_lock.PeriodLocked as exc:  # retrying would only hold a worker slot
            raise AirflowFailException(str(exc)) from exc
        return planned.period_name

    @task(
        pool=ORCHESTRATION.source_pool,
        doc_md=DOCS["extract"],
        **SOURCE_RETRIES,
    )
    def extract(tables: list[str], run: dict, ti=None) -> list[dict]:
        from airflow.sdk import BaseHook

        from etl import pipeline, pseudonym
        from etl.extract import ExtractError
        from etl.mail import operators

        pipeline.announce(run)
        source_url = pipeline.source_url_from_connection(BaseHook.get_connection("eb_source"))
        key = pseudonym.load_key(BaseHook.get_connection("eb_pseudonym_key").password or "")
        try:
            return [pipeline.extract_step(run, table, source_url, key) for table in tables]
        except ExtractError as exc:  # first the cause (table and error), the action, then the attempt
            for line in filter(None, operators.split_action(str(exc))):
                pipeline.log.error("%s", line)
            delay = SOURCE_RETRIES["retry_delay"].total_seconds() / 60
            cap = SOURCE_RETRIES["max_retry_delay"].total_seconds() / 60
            factor = DEFAULT_ARGS["retry_exponential_backoff"]
            pipeline.log.error(operators.attempt_line(ti.try_number, ti.max_tries, delay, factor, cap))
            raise

    @task(doc_md=DOCS["validate"])
    def validate(run: dict) -> list[dict]:
        from airflow.sdk.exceptions import AirflowFailException

        from etl import pipeline

        pipeline.announce(run)
        from etl.validation.report import ValidationStop

        try:
            return pipeline.validate_step(run)
        except ValidationStop as stop:  # bad data does not get better by retrying
            from etl.mail import operators

            for line in filter(None, operators.split_action(str(stop))):  # the cause, then the action
                pipeline.log.error("%s", line)
            raise AirflowFailException(str(stop)) from stop

    @task(doc_md=DOCS["statistics"])
    def statistics(run: dict) -> dict:
        from etl import pipeline

        pipeline.announce(run)
        return pipeline.statistics_step(run)

    @task(map_index_template=_ITEM % "scope", doc_md=DOCS["workbook"])
    def workbook(scope: str, run: dict) -> str:
        from etl import pipeline

        pipeline.announce(run)
        return pipeline.workbook_step(run, scope)

    @task(map_index_template=_ITEM % "recipient", retries=3, doc_md=DOCS["email"])
    def email(recipient: str, run: dict, params=None, dag_run=None) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        from etl import pipeline, run_period

        pipeline.announce(run)
        if not params.get("send_emails", True):
            raise AirflowSkipException("E-post avstängd för körningen (send_emails = false).")
        period = pipeline.RunPlan.of(run).period
        if run_period.historical_catch_up(period, dag_run.run_type, dt.date.today()):
            raise AirflowSkipException(
                f"{period} är ett äldre tertial i en ikappkörning: ingen e-post till cheferna. "
                f"Utlös med period={period} (Trigger) för att skicka."
            )
        from airflow.sdk.exceptions import AirflowFailException

        from etl.mail.ledger import DeliveryUncertain

        try:
            return pipeline.email_step(run, recipient, resend=bool(params.get("resend")))
        except DeliveryUncertain as exc:  # a retry could send it twice: fail now, the operator decides
            raise AirflowFailException(str(exc)) from exc

    @task(trigger_rule="none_failed", doc_md=DOCS["archive"])
    def archive(run: dict) -> dict:
        from etl import pipeline

        pipeline.announce(run)
        return pipeline.archive_step(run)

    @task(doc_md=DOCS["verksamhetsberattelse"])
    def verksamhetsberattelse(run: dict, params=None, dag_run=None) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        from etl import pipeline, run_period

        pipeline.announce(run)
        period = pipeline.RunPlan.of(run).period
        send = bool(params.get("send_emails", True)) and not run_period.historical_catch_up(
            period, dag_run.run_type, dt.date.today()
        )
        result = pipeline.vb_step(run, send_emails=send, resend=bool(params.get("resend")))
        if result is None:
            raise AirflowSkipException("Inte helår (T3): verksamhetsberättelsen byggs bara i T3-körningen.")
        return result

    @task(doc_md=DOCS["purge_staging"])
    def purge_staging(run: dict) -> list[str]:
        from etl import pipeline

        pipeline.announce(run)
        return pipeline.purge_step(run)

    # The teardown of lock_period: runs after success and failure alike (not when the lock was
    # refused: then it is another run's) and does not decide the run's state.
    @task(doc_md=DOCS["release_period"])
    def release_period(run_id=None) -> list[str]:
        from etl import period_lock
        from etl.settings import env

        return period_lock.release(period_lock.locks_dir(env().data_dir / "archive"), run_id)

    # Data passes through the run's staging folder; the edges below only order the tasks.
    run = plan()
    locked = lock_period(run)
    # One task per big table of the source contract and one for all the small ones (a parse-time
    # list; etl.source needs only SQLAlchemy): the grid names each in every state, retries included.
    with TaskGroup("extract", tooltip="En uppgift per stor källtabell, en för de små") as extracted:
        for name, tables in EXTRACT_TASKS.items():
            extract.override(task_id=name)(tables=list(tables), run=run)
    books = workbook.partial(run=run).expand(scope=list(SETTINGS.scopes))
    sent = email.partial(run=run).expand(recipient=recipients.recipient_addresses())
    release = release_period().as_teardown(setups=locked)
    staged = purge_staging(run)
    locked >> [extracted, staged]
    (
        extracted
        >> validate(run)
        >> statistics(run)
        >> books
        >> sent
        >> archive(run)
        >> verksamhetsberattelse(run)
        >> release
    )
    staged >> release


tertial_followup()
