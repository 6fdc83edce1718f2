"""
### Gallring – Försörjningsstödsenheten

Daily, on its own schedule: deletes staging folders of earlier runs older than
`staging.retention_days` (they hold quarantined rows) and removes the pseudonyms from archived
packages older than `archive.personal_data_retention_days` (docs/deployment.md, "Gallring";
counts stay, `python -m etl verify` still passes). Every tertial run does the same at its start;
this DAG makes sure nothing waits months for the next tertial. Thin wiring: the task calls
`etl.housekeeping.purge`.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import dag, task

from etl.settings import settings

START = pendulum.datetime(2018, 1, 1, tz=settings().timezone)

PURGE_DOC = """\
Deletes expired staging folders and redacts expired archive packages (a redaction cut short is
finished by the next run). Returns the staging folders deleted.

**If it fails:** harmless for the reports; check file permissions on `$EB_DATA_DIR/staging` and
`$EB_DATA_DIR/archive`, then clear the task (or wait for tomorrow's run).
"""


@dag(
    dag_id="housekeeping",
    schedule="@daily",
    start_date=START,
    catchup=False,  # only today's state matters: one purge does everything that is due
    max_active_runs=1,
    default_args={
        "owner": "forsorjningsstod",
        "retries": 1,
        "retry_delay": dt.timedelta(minutes=10),
        "max_retry_delay": dt.timedelta(hours=1),
    },
    tags=["ekonomiskt bistånd", "gallring"],
    doc_md=__doc__,
)
def housekeeping():
    @task(doc_md=PURGE_DOC)
    def purge() -> list[str]:
        from etl import housekeeping as run
        from etl.settings import env

        return run.purge(env().data_dir)

    purge()


housekeeping()
