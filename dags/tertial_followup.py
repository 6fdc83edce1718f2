"""
### Tertialuppföljning – Försörjningsstödsenheten

Runs once per tertial (T1 jan–apr, T2 jan–aug, T3 helår) after the month's registrations are
due: extracts case and staff data, validates it, builds sex-disaggregated statistics, writes
the managers' workbooks and archives the package.

**Operators:** each task's own docs say what to do when it fails. Large data moves through
the run's staging folder (`$EB_DATA_DIR/staging/<run_id>`), never through XCom.
Connections: `eb_source` (source database), `eb_pseudonym_key` (HMAC key in the password).
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import Param, dag, task
from tertial_timetable import TertialTimetable

STOCKHOLM = "Europe/Stockholm"

DEFAULT_ARGS = {
    "owner": "forsorjningsstod",
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=2),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": dt.timedelta(minutes=30),
}


def _context(params: dict, data_interval_end, run_id: str):
    """Resolve period, staging folder and archive root for this run (plain values)."""
    from etl import config, staging
    from etl.periods import Period

    period = (
        Period.parse(params["period"])
        if params.get("period")
        else Period.ending_at(pendulum.instance(data_interval_end).in_timezone(STOCKHOLM).date())
    )
    root = config.data_dir()
    return period, staging.run_dir(root / "staging", run_id), root / "archive"


@dag(
    dag_id="tertial_followup",
    schedule=TertialTimetable(),
    start_date=pendulum.datetime(2018, 1, 1, tz=STOCKHOLM),
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
    @task
    def tables() -> list[str]:
        """List the source tables to extract (one mapped extract task each)."""
        from etl import source

        return list(source.TABLES)

    @task(map_index_template="{{ table }}", retries=3)
    def extract(table: str, params=None, data_interval_end=None, run_id=None) -> dict:
        """
        #### Extrahera en tabell
        Streams one source table into staging and pseudonymises person ids.
        **If it fails:** check the `eb_source` connection and that the database is up; the task
        retries by itself. Clearing it is safe (it rewrites only its own staging file).
        """
        from airflow.sdk import BaseHook

        from etl import pipeline

        period, run, _ = _context(params, data_interval_end, run_id)
        source_url = pipeline.source_url_from_connection(BaseHook.get_connection("eb_source"))
        key = BaseHook.get_connection("eb_pseudonym_key").password.encode("utf-8")
        return pipeline.extract_step(source_url, table, period, run, key)

    @task
    def validate(extracted: list[dict], params=None, data_interval_end=None, run_id=None) -> list[dict]:
        """
        #### Validera
        Checks every staged table; quarantines bad rows; stops the run on critical failures.
        **If it fails:** the log shows a table of failed rules per table. Fix the source data
        (or report it to the case-system owner) and clear this run from `extract`.
        """
        from etl import pipeline

        _, run, _ = _context(params, data_interval_end, run_id)
        return pipeline.validate_step(run)

    @task
    def statistics(validated: list[dict], params=None, data_interval_end=None, run_id=None) -> dict:
        """
        #### Statistik
        Builds the sex-disaggregated statistics and the published, suppressed table.
        **If it fails:** this is a code or configuration error; see the traceback.
        """
        from etl import pipeline

        period, run, _ = _context(params, data_interval_end, run_id)
        return pipeline.statistics_step(run, period)

    @task
    def scopes(stats: dict) -> list[str]:
        """List the recipient scopes (the unit and each district)."""
        from etl import pipeline

        return pipeline.scopes()

    @task(map_index_template="{{ scope }}")
    def workbook(scope: str, params=None, data_interval_end=None, run_id=None) -> str:
        """
        #### Arbetsbok
        Writes one Excel workbook per scope from published figures only.
        **If it fails:** a code error; see the traceback. Clearing is safe.
        """
        from etl import pipeline

        period, run, _ = _context(params, data_interval_end, run_id)
        return pipeline.workbook_step(run, period, scope)

    @task
    def archive(books: list[str], params=None, data_interval_end=None, run_id=None) -> dict:
        """
        #### Arkivera
        Writes an immutable, checksummed package; identical content reuses the existing version.
        **If it fails:** nothing partial is left behind; clear the task to retry.
        """
        from etl import pipeline

        period, run, archive_root = _context(params, data_interval_end, run_id)
        return pipeline.archive_step(run, period, archive_root, run_id)

    extracted = extract.expand(table=tables())
    stats = statistics(validate(extracted))
    books = workbook.expand(scope=scopes(stats))
    archive(books)


tertial_followup()
