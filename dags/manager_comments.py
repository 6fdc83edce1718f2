"""
### Chefernas analys och åtgärder – Försörjningsstödsenheten

Every few minutes (`comments.inbox_minutes` in config/pipeline.yml; also triggerable by hand)
imports the T1/T2 workbooks managers returned with their Analys and Åtgärder per goal, dropped in
`$EB_DATA_DIR/inbox/` (docs/comments.md). Each file is checked against its archived original
(custom properties: package and figures hash; every cell but the comment cells unchanged; plain
text within the length limit), stored as a new version of that tertial's archive package and
acknowledged by a receipt e-mail (same delivery and ledger as the reports). The file then moves
to `inbox/done/` (with a `.kvitto.txt`) or `inbox/refused/` (with a `.fel.txt` naming sheet and
cell of every problem). Thin wiring: the task calls `etl.comments.inbox.import_inbox`.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import dag, task

from etl.settings import settings

COMMENTS = settings().pipeline.comments
START = pendulum.datetime(2018, 1, 1, tz=settings().timezone)

IMPORT_DOC = """\
Imports every returned workbook in `$EB_DATA_DIR/inbox/` (the manager's Analys and Åtgärder).

**If it fails:** a file was refused: its `.fel.txt` in `inbox/refused/` (and this log) names the
sheet and cell of every problem; nothing of it was stored. The sender (or the scope's recipients)
got the reasons by e-mail; a file that names neither (not an .xlsx, no sender file) reached
nobody: forward its `.fel.txt`. They correct the latest workbook and send it again.
If a receipt could not be sent (SMTP down, or an uncertain delivery in the e-mail ledger, see
docs/deployment.md), the comments are stored and the file stays in the inbox: the next run sends
the receipt. A file changed in the last `comments.settle_seconds` waits for the next run.
"""


@dag(
    dag_id="manager_comments",
    schedule=dt.timedelta(minutes=COMMENTS.inbox_minutes),
    start_date=START,
    catchup=False,  # the inbox is looked at now; missed looks have nothing to catch up
    max_active_runs=1,
    default_args={
        "owner": "forsorjningsstod",
        "retries": 1,  # e.g. the archive's disk briefly away; a refused file fails at once (no retry)
        "retry_delay": dt.timedelta(minutes=2),
        "max_retry_delay": dt.timedelta(minutes=10),
    },
    tags=["ekonomiskt bistånd", "tertialuppföljning"],
    doc_md=__doc__,
)
def manager_comments():
    @task(doc_md=IMPORT_DOC)
    def import_inbox() -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from etl.comments.inbox import import_inbox as run

        done = run()
        if done["refused"] or done["undelivered"]:  # a bad file does not get better by retrying
            raise AirflowFailException("\n".join(done["refused"] + done["undelivered"]))
        return {key: len(lines) for key, lines in done.items()}  # counts only: no texts in XCom

    import_inbox()


manager_comments()
