"""Every judged cell of the demo's T1, T2 and T3 workbooks agrees with the numbers beside it.

The demo source (2017–2019) runs through the real pipeline for 2018; on each Sammanfattning the
judged figure (the helårsprognos where one is shown, else the outcome) and the target are read
as the workbook shows them (rounded by the cell's number format) and the verdict must follow
from those two shown numbers: never "0,6 % mot 0,6 % – delvis uppfyllt".
"""

from __future__ import annotations

import math

import openpyxl
import pytest

from demo.write import generate
from etl import pipeline
from etl.mail.message import goal_rows, summary_rows
from etl.periods import Period
from etl.published import PUBLISHED, read_published
from etl.settings import settings
from etl.statistics import comparison
from etl.targets import shown

pytestmark = pytest.mark.slow


def _decimals(number_format: str) -> int:
    body = number_format.split('"')[0]
    return len(body.split(".")[1].rstrip(" ")) if "." in body else 0


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{root / 'source.db'}"
    generate(url, scale="unit", seed=2018)
    mp = pytest.MonkeyPatch()
    mp.setenv("EB_PSEUDONYM_KEY", "test-pseudonym-key-0123456789abcdef")
    books = {}
    for tertial in (1, 2, 3):
        period = Period(2018, tertial)
        result = pipeline.run_period(url, period, root / "out", b"k" * 32)
        books[period] = sorted(result.package.glob("workbooks/*.xlsx"))
    mp.undo()
    return books


def test_every_judged_cell_agrees_with_the_shown_value_and_target(runs):
    tol = settings().pipeline.judgement.tolerance_delvis
    by_name = {e.name: e for e in settings().catalogue.goals()}
    judged = 0
    for period, books in runs.items():
        assert len(books) == 4, period
        for path in books:
            ws = openpyxl.load_workbook(path)["Sammanfattning"]
            head = next(r for r in ws.iter_rows() if r[0].value == "Område (KF:s inriktningsmål)")
            col: dict = {}
            for c in head:  # the first "Totalt" is the workbook's own scope (then the unit's)
                col.setdefault(c.value, c.column)
            target_col = next(c for name, c in col.items() if str(name).startswith("Årsmål"))
            for row in ws.iter_rows(min_row=head[0].row + 1):
                entry = by_name.get(row[1].value)
                verdict = row[col["Bedömning"] - 1].value
                if entry is None or verdict not in ("uppfyllt", "delvis uppfyllt", "ej uppfyllt"):
                    continue
                prog = row[col["Helårsprognos"] - 1]
                value_cell = prog if prog.value is not None else row[col["Totalt"] - 1]
                target_cell = row[target_col - 1]
                if entry.judgement == "trend":
                    target_cell = row[col[f"T{period.tertial} {period.year - 1}"] - 1]
                value = shown(value_cell.value, _decimals(value_cell.number_format))
                target = shown(target_cell.value, _decimals(target_cell.number_format))
                short = (value - target) * (1 if entry.direction == "lower_is_better" else -1)
                where = (path.name, entry.id, value, target, verdict)
                if entry.judgement == "trend":  # better / unchanged / worse than last year
                    expected = "uppfyllt" if short < -1e-9 else "delvis uppfyllt" if abs(short) <= 1e-9 else (
                        "ej uppfyllt"
                    )
                    assert verdict == expected, where
                elif verdict == "uppfyllt":
                    assert short <= 1e-9, where
                elif verdict == "delvis uppfyllt":
                    assert 1e-9 < short <= tol * abs(target) + 1e-9, where
                else:
                    assert short > tol * abs(target) - 1e-9 and not math.isclose(short, 0), where
                judged += 1
    assert judged >= 3 * 4 * 3  # at least three judged rows per workbook on average


def test_t2_shows_t1_and_last_years_t2_beside_every_plan_indicator(runs):
    path = next(p for p in runs[Period(2018, 2)] if p.name.endswith("_ALL.xlsx"))
    ws = openpyxl.load_workbook(path)["Sammanfattning"]
    head = next(r for r in ws.iter_rows() if r[0].value == "Område (KF:s inriktningsmål)")
    col = {c.value: c.column for c in head if c.value}
    assert {"T1 2018", "T2 2017", "Förändring mot T2 2017"} <= set(col)
    names = {e.name for e in settings().catalogue.goals()}
    rows = list(ws.iter_rows(min_row=head[0].row + 1, max_row=head[0].row + len(names)))
    assert {r[1].value for r in rows} == names  # the unit's table (the district view follows)
    for row in rows:
        for header in ("T1 2018", "T2 2017"):
            cell = row[col[header] - 1].value
            # A number, a disclosure symbol, or "saknas" with the reason in the comment.
            assert cell is not None, (row[1].value, header)
            if cell == "saknas":
                assert "Jämförelse saknas:" in row[col["Kommentar"] - 1].value
    # The case and staff figures with data in both years have both comparison figures.
    shares = next(r for r in rows if r[1].value.startswith("Andel personer som har ekonomiskt"))
    assert all(isinstance(shares[col[h] - 1].value, float) for h in ("T1 2018", "T2 2017"))


def test_the_emails_judgements_are_the_workbooks(runs):
    """Every judged row of the e-mail (key figures and goals) says what the recipient's workbook
    says on Sammanfattning, for every scope and tertial (the e-mail once judged annual shares
    without last year's figures and could contradict the workbook)."""
    compared = 0
    for books in runs.values():
        package = books[0].parent.parent
        published = read_published(package / PUBLISHED)
        earlier = read_published(package / comparison.PUBLISHED_COMPARISON)
        for path in books:
            scope = path.stem.rsplit("_", 1)[1]
            ws = openpyxl.load_workbook(path)["Sammanfattning"]
            head = next(r for r in ws.iter_rows() if r[0].value == "Område (KF:s inriktningsmål)")
            word = next(c.column for c in head if c.value == "Bedömning")
            cells: dict = {}
            for row in ws.iter_rows(min_row=head[0].row + 1):
                cells.setdefault(row[1].value, row[word - 1].value)  # the scope's own table first
            by_id = {e.id: e.name for e in settings().catalogue.goals()}
            mail = [r for r in summary_rows(published, scope, earlier) if r["indicator_id"] in by_id]
            mail += goal_rows(published, scope, earlier)
            assert mail, path.name
            for r in mail:
                shown = cells[by_id[r["indicator_id"]]]
                assert (r["judgement"] or "ingen bedömning") == shown, (path.name, r["indicator_id"])
                compared += 1
    assert compared >= 3 * 4 * 5
