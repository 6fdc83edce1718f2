"""Importing the filled-in reviewer workbook (etl.review.importer, expectations/review.json):
a good file is stored as a version; each broken one is refused, naming row and column, and
nothing is stored."""

from __future__ import annotations

import json
import shutil

import openpyxl
import pandas as pd
import pytest

from etl.review import paths
from etl.review.columns import CASES_SHEET, HEADER_ROW, ROUND_SHEET
from etl.review.importer import ImportRefused, import_inbox, import_workbook, latest_answers
from etl.review.sample import draw_round
from tests.support.review import COL, KEY_A, fill, make_source

FIRST = HEADER_ROW + 2
"""Excel row of the first case (1-based)."""


@pytest.fixture(scope="module")
def rounds(tmp_path_factory):
    """Two rounds (2018-01 with 6 cases, 2018-02 with 4) and a filled copy of the first."""
    base = tmp_path_factory.mktemp("review")
    url = make_source(base / "source.db", per_sex=20)
    one = draw_round(url, 2018, seed=1, key=KEY_A.encode(), per_sex=3, data_dir=base / "data")
    two = draw_round(url, 2018, seed=2, key=KEY_A.encode(), per_sex=2, data_dir=base / "data")
    return base, one, two, fill(one.workbook, base / "filled.xlsx")


@pytest.fixture
def data(rounds, tmp_path):
    """A fresh copy of the data folder (so a stored import in one test is not seen by another)."""
    base = rounds[0]
    shutil.copytree(base / "data", tmp_path / "data")
    return tmp_path / "data"


def _edit(rounds, tmp_path, change) -> object:
    book = openpyxl.load_workbook(rounds[3])
    change(book)
    out = tmp_path / "edited.xlsx"
    book.save(out)
    return out


def test_a_filled_workbook_imports_and_is_stored_as_a_version(rounds, data, tmp_path):
    _, one, _, filled = rounds
    done = import_workbook(filled, data)
    assert (done.round_id, done.version.name, done.rows, done.new) == ("2018-01", "v1", 6, True)
    answers = latest_answers(data / paths.REVIEW, "2018-01")
    assert answers["quality"].tolist() == [3] * 6 and set(answers["concerned"]) == {"akut nöd"}
    assert "application_id" not in answers and "household_id" not in answers  # pseudonyms only
    again = import_workbook(filled, data)
    assert (again.version.name, again.new) == ("v1", False)  # the same file adds no version
    redone = fill(
        one.workbook,
        tmp_path / "redone.xlsx",
        {"concerned": "övrigt", "quality": 2, "guideline": "nej", "bemotande": "ja"},
    )
    assert import_workbook(redone, data).version.name == "v2"
    assert latest_answers(data / paths.REVIEW, "2018-01")["quality"].tolist() == [2] * 6
    assert oct((data / paths.REVIEW / paths.ROUNDS / "2018-01" / paths.RESULTS).stat().st_mode)[-3:] == "700"


def test_the_archive_keeps_only_hashes_and_aggregates(rounds, data):
    _, one, _, filled = rounds
    import_workbook(filled, data)
    kept = json.loads((data / "archive" / "review" / "2018-01" / "v1.json").read_text(encoding="utf-8"))
    assert (
        kept["workbook_sha256"] == one.record["workbook_sha256"] and len(kept["import"]["file_sha256"]) == 64
    )
    women, men = (kept["import"]["aggregate"][s] for s in ("K", "M"))
    assert women["cases"] == men["cases"] == 3 and women["quality"] == {"3": 3}
    ids = pd.read_parquet(one.folder / paths.CASES_FILE)[["application_id", "household_id"]].stack().tolist()
    text = "".join(p.read_text(encoding="utf-8") for p in (data / "archive").rglob("*.json"))
    assert not any(i in text for i in ids)


def _cell(key, row=FIRST, value=None):
    return lambda b: setattr(b[CASES_SHEET].cell(row, COL[key]), "value", value)


def _delete_row(row):
    return lambda b: b[CASES_SHEET].delete_rows(row)


def _extra_row(b):
    ws = b[CASES_SHEET]
    last = FIRST + 6
    for col in COL.values():
        ws.cell(last, col).value = ws.cell(last - 1, col).value
    ws.cell(last, COL["nr"]).value = 7


def _rename(b):
    b[CASES_SHEET].title = "Blad1"


def _round(b):
    b[ROUND_SHEET]["B1"] = "2018-02"


BROKEN = {
    "value outside the list": (
        _cell("concerned", FIRST + 1, "semester"),
        [f"rad {FIRST + 1}", "kolumn J", "finns inte i listan"],
    ),
    "quality outside 1–4": (_cell("quality", FIRST + 2, 5), [f"rad {FIRST + 2}", "kolumn K", "'5'"]),
    "missing answer": (
        _cell("guideline", FIRST + 3, None),
        [f"rad {FIRST + 3}", "kolumn L", "svaret saknas"],
    ),
    "deleted row": (_delete_row(FIRST + 2), ["kolumn A (Nr)", "ärende nr 3 saknas"]),
    "edited case id": (
        _cell("application_id", FIRST + 4, "A00000"),
        [f"rad {FIRST + 4}", "kolumn B", "ändrad"],
    ),
    "edited amount": (_cell("granted_sek", FIRST, 1.0), [f"rad {FIRST}", "kolumn I (Beviljat kr)", "ändrad"]),
    "edited sex": (_cell("sex", FIRST + 5, "X"), [f"rad {FIRST + 5}", "kolumn D", "ändrad"]),
    "extra row": (_extra_row, [f"rad {FIRST + 6}", "kolumn A", "finns inte i urvalet"]),
    "duplicated case number": (_cell("nr", FIRST + 1, 1), [f"rad {FIRST + 1}", "kolumn A", "två gånger"]),
    "wrong sheet": (_rename, ["Bladet 'Granskning' saknas"]),
    "wrong round": (
        _round,
        ["Omgång cell B2", "kontrollsumman stämmer inte", "hör inte till omgång 2018-02"],
    ),
    "unknown round": (lambda b: b[ROUND_SHEET].__setitem__("B1", "2017-09"), ["Omgång cell B1", "2017-09"]),
    "renamed header": (
        _cell("quality", HEADER_ROW + 1, "Betyg"),
        [f"rad {HEADER_ROW + 1}", "kolumn K", "'Betyg'"],
    ),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_a_broken_fill_in_is_refused_naming_row_and_column_and_nothing_is_stored(
    rounds, data, tmp_path, name
):
    change, expected = BROKEN[name]
    path = _edit(rounds, tmp_path, change)
    with pytest.raises(ImportRefused) as refused:
        import_workbook(path, data)
    message = str(refused.value)
    if name != "duplicated case number":  # that row is also compared with case 1, column by column
        assert len(refused.value.problems) <= 3, message  # the culprit, not a line per column
    for part in expected:
        assert part in message, f"{part!r} saknas i:\n{message}"
    assert not list((data / paths.REVIEW).rglob(paths.RESULTS))
    assert not (data / "archive").exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "Filen är tom"),
        (b"namn;belopp\n1;2\n", "ingen Excel-arbetsbok"),
        (b"PK\x03\x04trasig", "ingen Excel"),
    ],
)
def test_an_empty_or_foreign_file_is_refused(data, tmp_path, content, expected):
    path = tmp_path / "granskning.xlsx"
    path.write_bytes(content)
    with pytest.raises(ImportRefused, match=expected):
        import_workbook(path, data)
    assert not list((data / paths.REVIEW).rglob(paths.RESULTS))


def test_the_inbox_imports_good_files_and_leaves_bad_ones_with_the_reason(rounds, data, tmp_path):
    inbox = paths.restricted(data / paths.REVIEW / paths.INBOX)
    shutil.copyfile(rounds[3], inbox / "bra.xlsx")
    shutil.copyfile(_edit(rounds, tmp_path, _cell("bemotande", FIRST, "kanske")), inbox / "dålig.xlsx")
    done = import_inbox(data)
    assert len(done["imported"]) == 1 and len(done["refused"]) == 1
    assert (inbox / "imported" / "bra.xlsx").exists() and (inbox / "dålig.xlsx").exists()
    assert "kolumn M" in (inbox / "dålig.fel.txt").read_text(encoding="utf-8")


def test_an_unfilled_workbook_is_refused_with_a_readable_message(rounds, data):
    with pytest.raises(ImportRefused) as refused:
        import_workbook(rounds[1].workbook, data)
    assert len(refused.value.problems) == 6 * 4  # every case, every required answer
    assert f"rad {FIRST}, kolumn J (Vad ansökan avsåg): svaret saknas" in str(refused.value)
