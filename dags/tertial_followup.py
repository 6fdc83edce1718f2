"""
### Tertialuppföljning – Försörjningsstödsenheten

Runs once per tertial (T1 jan–apr, T2 jan–aug, T3 helår; always year to date) on the 16th of
the month after the tertial, when the month's registrations are due. It extracts case and
staff data, validates it, builds sex-disaggregated statistics, writes the managers' workbooks
and archives the package.

**Operators:** every task's docs say what to do when it fails. Large data moves through the
run's staging folder (`$EB_DATA_DIR/staging/<run_id>`), never through XCom. Connections:
`eb_source` (source database) and `eb_pseudonym_key` (HMAC key in the password field).
Trigger with `period` (e.g. `2018-T2`) to redo a given period; re-running is safe: the
archive keeps identical content once and versions changed content.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import Param, dag, task

from etl.config import scopes
from etl.source import TABLES
from tertial_timetable import TertialTimetable

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
    "archive": """\
#### Arkivera
Writes an immutable, checksummed package; identical content reuses the existing version.
**If it fails:** nothing partial is left behind; clear the task to retry.
""",
}


@dag(
    dag_id="tertial_followup",
    schedule=TertialTimetable(),
    start_date=pendulum.datetime(2018, 1, 1, tz="Europe/Stockholm"),
    catchup=True,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ekonomiskt-bistand", "tertial", "rapport"],
    doc_md=__doc__,
    params={
        "period": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-T[123]$",
            description="Tvinga en period, t.ex. 2018-T1 (annars tertialet som körningen avser).",
        ),
    },
)
def tertial_followup():
    @task(doc_md=DOCS["plan"])
    def plan(params=None, data_interval_end=None, run_id=None, dag_run=None) -> dict:
        from etl import pipeline

        plan = pipeline.plan_run(
            run_id, period=params.get("period"), interval_end=data_interval_end, run_after=dag_run.run_after
        )
        return plan.to_dict()

    @task(map_index_template="{{ table }}", retries=3, doc_md=DOCS["extract"])
    def extract(table: str, plan: dict) -> dict:
        from airflow.sdk import BaseHook

        from etl import pipeline

        source_url = pipeline.source_url_from_connection(BaseHook.get_connection("eb_source"))
        key = BaseHook.get_connection("eb_pseudonym_key").password.encode("utf-8")
        return pipeline.extract_step(plan, table, source_url, key)

    @task(doc_md=DOCS["validate"])
    def validate(extracted: list[dict], plan: dict) -> list[dict]:
        from airflow.sdk.exceptions import AirflowFailException

        from etl import pipeline, validate

        try:
            return pipeline.validate_step(plan)
        except validate.ValidationStop as stop:  # bad data does not get better by retrying
            raise AirflowFailException(str(stop)) from stop

    @task(doc_md=DOCS["statistics"])
    def statistics(validated: list[dict], plan: dict) -> dict:
        from etl import pipeline

        return pipeline.statistics_step(plan)

    @task(map_index_template="{{ scope }}", doc_md=DOCS["workbook"])
    def workbook(scope: str, plan: dict, stats: dict) -> str:
        from etl import pipeline

        return pipeline.workbook_step(plan, scope)

    @task(doc_md=DOCS["archive"])
    def archive(books: list[str], plan: dict) -> dict:
        from etl import pipeline

        return pipeline.archive_step(plan)

    p = plan()
    stats = statistics(validate(extract.partial(plan=p).expand(table=list(TABLES)), p), p)
    books = workbook.partial(plan=p, stats=stats).expand(scope=scopes())
    archive(books, p)


tertial_followup()
