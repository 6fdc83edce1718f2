"""The reviewer workbook (reports.review_workbook): marked sekretess, locked except the
reviewer's columns, drop-down lists from config/review.yml; and config/review.yml itself."""

from __future__ import annotations

import openpyxl
import pytest

from etl.review.columns import CASES_SHEET, COLUMNS, HEADER_ROW, INSTRUCTIONS_SHEET, ROUND_SHEET
from etl.review.sample import draw_round
from etl.settings import SettingsError, settings
from tests.support.config import load_copy
from tests.support.review import COL, KEY_A, make_source


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    base = tmp_path_factory.mktemp("book")
    done = draw_round(
        make_source(base / "s.db", per_sex=10),
        2018,
        seed=4,
        key=KEY_A.encode(),
        per_sex=3,
        data_dir=base / "data",
    )
    return openpyxl.load_workbook(done.workbook), done


def test_marked_as_holding_sekretess_protected_information(book):
    wb, done = book
    assert "sekretess" in wb.properties.subject.lower() and "sekretess" in wb.properties.keywords
    assert wb.sheetnames == [INSTRUCTIONS_SHEET, CASES_SHEET, ROUND_SHEET]
    assert wb[INSTRUCTIONS_SHEET]["A1"].value.startswith("SEKRETESS")
    assert wb[ROUND_SHEET].sheet_state == "hidden" and wb[ROUND_SHEET]["B1"].value == done.round_id
    assert {p.name: p.value for p in wb.custom_doc_props.props}["Sekretess"] == "Ja"


def test_every_sheet_is_protected_except_the_reviewer_cells(book):
    wb, _ = book
    assert all(wb[name].protection.sheet for name in wb.sheetnames)
    ws = wb[CASES_SHEET]
    first = HEADER_ROW + 2
    for col in COLUMNS:
        assert ws.cell(first, COL[col.key]).protection.locked is not col.reviewer, col.key
    assert [ws.cell(HEADER_ROW + 1, j + 1).value for j in range(len(COLUMNS))] == [c.header for c in COLUMNS]
    assert ws.cell(first + 6, COL["nr"]).value is None  # 3 women and 3 men, nothing more


def test_the_drop_down_lists_come_from_the_configuration(book):
    wb, _ = book
    answers = settings().review.answers
    checks = wb[CASES_SHEET].data_validations.dataValidation
    lists = {next(iter(dv.sqref.ranges)).min_col: dv.formula1 for dv in checks}
    assert lists[COL["guideline"]] == '"ja,nej,delvis"'
    assert lists[COL["quality"]] == '"1,2,3,4"'
    assert lists[COL["concerned"]] == '"' + ",".join(answers.concerned) + '"'
    assert COL["comment"] not in lists


def test_the_review_configuration_is_checked(tmp_path):
    assert settings().review.sample.per_sex == 25
    with pytest.raises(SettingsError, match=r"review.yml: answers.guideline: .*unika"):
        load_copy(tmp_path, review=lambda raw: raw["answers"].update(guideline=["ja", "ja"]))
    with pytest.raises(
        SettingsError, match=r"review.yml: comparison.bootstrap_resamples: värdet 10 ska vara minst"
    ):
        load_copy(tmp_path / "b", review=lambda raw: raw["comparison"].update(bootstrap_resamples=10))
