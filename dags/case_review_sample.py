"""Case review for the gender-equality project (docs/review.md): two manually triggered DAGs.

- ``case_review_sample``: draws a review round from the source (the trigger form takes the
  year, cases per sex, balancing, rounds to exclude and the seed) and writes the reviewer
  workbook to the restricted folder ``$EB_DATA_DIR/review/``. Never e-mailed.
- ``case_review_import``: imports every filled-in workbook in ``$EB_DATA_DIR/review/inbox/``;
  a refused file stays there with a ``.fel.txt`` naming row and column.

Thin wiring: each task calls one function in ``etl.review``; XCom carries no ids.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import Param, dag, task

START = pendulum.datetime(2018, 1, 1, tz="Europe/Stockholm")
DEFAULT_ARGS = {
    "owner": "forsorjningsstod",
    "retries": 1,  # a retry redraws the same round (same seed and data; its folder is reused)
    "retry_delay": dt.timedelta(minutes=2),
    "max_retry_delay": dt.timedelta(minutes=10),
}
COMMON = {
    "schedule": None,  # manual only; catchup has nothing to catch up without a schedule
    "start_date": START,
    "catchup": True,
    "max_active_runs": 1,
    "default_args": DEFAULT_ARGS,
    "tags": ["ekonomiskt bistånd", "ärendegranskning"],
    "doc_md": __doc__,
}

DRAW_DOC = """\
Draws a review round from the source (`eb_source`) with the trigger form's parameters and writes
the case list and the reviewer workbook to the restricted folder `$EB_DATA_DIR/review/` (0700).
Returns the round record (no ids). The workbook is never e-mailed: fetch it from the folder.

**If it fails:** a Swedish message says why (no decided applications that year, an unknown round
to exclude, a review folder others can read: `chmod 700`). Check the `eb_source` and
`eb_pseudonym_key` connections; a retry draws the same round again.
"""
IMPORT_DOC = """\
Imports every filled-in reviewer workbook in `$EB_DATA_DIR/review/inbox/`: checked with the
Great Expectations suite `expectations/review.json`, stored under its round as a new version.

**If it fails:** the log (and a `.fel.txt` beside each refused file) names sheet, row and column
of every problem; nothing of that file was stored. Correct the workbook (or ask the reviewer to)
and trigger again; files already imported are not imported twice.
"""


@dag(
    dag_id="case_review_sample",
    **COMMON,
    params={
        "year": Param(
            2018, type="integer", minimum=2000, maximum=2100, description="År då ansökningarna beslutades."
        ),
        "per_sex": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            maximum=1000,
            description="Ärenden per kön (tomt: config/review.yml).",
        ),
        "by": Param(
            None,
            type=["null", "string"],
            enum=[None, "household_type"],
            description="Fördela över hushållstyper.",
        ),
        "exclude_rounds": Param(
            [],
            type="array",
            items={"type": "string", "pattern": r"^\d{4}-\d{2}$"},
            description="Tidigare omgångar vars ärenden inte får dras igen, t.ex. 2018-01.",
        ),
        "seed": Param(type="integer", minimum=0, description="Slumpfrö: samma frö och data ger samma urval."),
    },
)
def case_review_sample():
    @task(doc_md=DRAW_DOC)
    def draw(params=None) -> dict:
        from airflow.sdk import BaseHook

        from etl import pipeline, pseudonym
        from etl.review.sample import draw_round

        source_url = pipeline.source_url_from_connection(BaseHook.get_connection("eb_source"))
        key = pseudonym.load_key(BaseHook.get_connection("eb_pseudonym_key").password or "")
        done = draw_round(
            source_url,
            params["year"],
            params["seed"],
            key,
            params.get("per_sex"),
            params.get("by"),
            tuple(params.get("exclude_rounds") or ()),
        )
        return done.record  # round id, parameters, hashes and stratum counts: no ids

    draw()


@dag(
    dag_id="case_review_import",
    **COMMON,
)
def case_review_import():
    @task(doc_md=IMPORT_DOC)
    def import_inbox() -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from etl.review.importer import import_inbox as run

        done = run()
        if done["refused"]:  # a bad file does not get better by retrying; the reasons are in the log
            raise AirflowFailException("\n".join(done["refused"]))
        return {"imported": len(done["imported"])}

    import_inbox()


case_review_sample()
case_review_import()
