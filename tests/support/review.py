"""Builders for the case-review tests: a small hand-made source and a reviewer who fills in."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from etl import source
from etl.review.columns import CASES_SHEET, COLUMNS, HEADER_ROW

KEY_A = "review-test-key-a-" * 3
KEY_B = "review-test-key-b-" * 3
COL = {c.key: j + 1 for j, c in enumerate(COLUMNS)}


def make_source(path: Path, per_sex: int = 30, year: int = 2018) -> str:
    """A SQLite source with ``per_sex`` decided applications per sex in ``year`` (plus one the
    year before and one undecided), in household types 3/4 (men) and 5/6 (women); every fifth
    application repeats the data of the one before it (ties only the id can break)."""
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    source.metadata.create_all(engine, tables=[source.household, source.person, source.application])
    households, persons, apps = [], [], []
    for i in range(2 * per_sex):
        sex = "K" if i % 2 == 0 else "M"
        htype = (5 if sex == "K" else 3) + (i // 2) % 2
        hid, pid = f"H{i:04d}", f"19800101{i:04d}"
        households.append(
            {
                "household_id": hid,
                "district_code": "A",
                "household_type": htype,
                "opened_on": dt.date(2015, 1, 1),
                "closed_on": None,
            }
        )
        persons.append(
            {
                "person_id": pid,
                "household_id": hid,
                "role": "registerledare",
                "sex": sex,
                "birth_date": dt.date(1980, 1, 1),
                "born_abroad": False,
            }
        )
        k = i - 1 if i % 5 == 4 else i  # a copy of the previous application's data
        month = dt.date(year, 1 + k % 12, 1)
        apps.append(
            {
                "application_id": f"A{i:05d}",
                "household_id": hid,
                "applicant_id": pid,
                "received_on": month,
                "decided_on": month + dt.timedelta(days=5),
                "benefit_month": month,
                "applied_sek": 5000.0 + 100 * k,
                "granted_sek": 4000.0 + 100 * k if k % 7 else 0.0,
                "decision": "avslag" if k % 7 == 0 else "bifall",
                "handler_id": "S1",
            }
        )
    extra = dict(apps[0], application_id="A99998", decided_on=dt.date(year - 1, 12, 20))
    undecided = dict(apps[1], application_id="A99999", decided_on=None, decision=None)
    with engine.begin() as conn:
        conn.execute(source.household.insert(), households)
        conn.execute(source.person.insert(), persons)
        conn.execute(source.application.insert(), [*apps, extra, undecided])
    engine.dispose()
    return url


ANSWER = {"concerned": "akut nöd", "quality": 3, "guideline": "ja", "bemotande": "nej", "comment": "ok"}


def fill(workbook: Path, out: Path, answers: dict | None = None) -> Path:
    """Answer every row of ``workbook`` the same way (openpyxl, as Excel would save it)."""
    import openpyxl

    book = openpyxl.load_workbook(workbook)
    ws = book[CASES_SHEET]
    row = HEADER_ROW + 2
    while ws.cell(row, COL["nr"]).value is not None:
        for key, value in (answers or ANSWER).items():
            ws.cell(row, COL[key]).value = value
        row += 1
    book.save(out)
    return out
