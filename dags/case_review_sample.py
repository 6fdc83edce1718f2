"""Case review for the gender-equality project (docs/review.md): two manually triggered DAGs.

- ``case_review_sample``: draws a review round from the source (the trigger form takes the
  year, cases per sex, balancing, rounds to exclude and the seed) and writes the reviewer
  workbook to the restricted folder ``$EB_DATA_DIR/review/``. Never e-mailed.
- ``case_review_import``: imports every filled-in workbook in ``$EB_DATA_DIR/review/inbox/``;
  a refused file stays there with a ``.fel.txt`` naming row and column.

Thin wiring: each task calls one function in ``etl.review``; XCom carries no ids.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

START = pendulum.datetime(2018, 1, 1, tz="Europe/Stockholm")


@dag(
    dag_id="case_review_sample",
    schedule=None,
    start_date=START,
    catchup=False,
    tags=["ekonomiskt bistånd", "ärendegranskning"],
    doc_md=__doc__,
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
    @task
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
    schedule=None,
    start_date=START,
    catchup=False,
    tags=["ekonomiskt bistånd", "ärendegranskning"],
    doc_md=__doc__,
)
def case_review_import():
    @task
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
