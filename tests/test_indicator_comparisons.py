"""T1 this year and T2 last year beside every indicator of a T2 workbook's indicator sheets.

A T2 2018 context with comparison figures for 2018-T1 and 2017-T2 written by hand; the expected
cells and changes are computed by hand below and read back with openpyxl.
"""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from etl.periods import Period
from etl.statistics import comparison
from reports.workbook import write_workbook
from tests.support.reports import context, published_table

T2 = Period(2018, 2)
NOW = {  # (id, scope): this period's total
    ("eb_hushall", "ALL"): 1234.0,
    ("eb_andel_befolkning", "ALL"): 0.3,
    ("am_praktik", "KUN"): 12.0,
    ("pe_anstallda", "ALL"): 33.0,
}
EARLIER = {  # (period, id, scope): value; None = suppressed (..)
    ("2018-T1", "eb_hushall", "ALL"): 1000.0,
    ("2017-T2", "eb_hushall", "ALL"): 1100.0,
    ("2018-T1", "eb_andel_befolkning", "ALL"): 0.21,
    ("2017-T2", "eb_andel_befolkning", "ALL"): 0.42,
    ("2018-T1", "eb_mottagare", "ALL"): 2000.0,
    ("2017-T2", "eb_mottagare", "ALL"): None,
    ("2018-T1", "am_praktik", "KUN"): 5.0,
    ("2017-T2", "am_praktik", "KUN"): 16.0,
    ("2018-T1", "pe_anstallda", "ALL"): 32.0,
    ("2017-T2", "pe_anstallda", "ALL"): 30.0,
}


def _published() -> pd.DataFrame:
    df = published_table(T2)
    for (indicator_id, scope), value in NOW.items():
        at = (df["indicator_id"] == indicator_id) & (df["district_code"] == scope) & (df["sex"] == "T")
        df.loc[at, ["value", "suppressed", "published"]] = [value, False, f"{value:g}"]
    return df


def _comparison() -> pd.DataFrame:
    rows = []
    for (period, indicator_id, scope), value in EARLIER.items():
        hidden = value is None
        rows.append({
            "indicator_id": indicator_id, "period": period, "district_code": scope, "sex": "T",
            "value": 9999.0 if hidden else value,  # a suppressed row's value must never show
            "unit": "procent" if "andel" in indicator_id else "antal",
            "suppressed": hidden, "published": ".." if hidden else f"{value:g}",
        })  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    ctx = context(_published(), "ALL", period=T2, comparison=_comparison())
    return openpyxl.load_workbook(write_workbook(ctx, tmp_path_factory.mktemp("t2")))


def _row(ws, name: str, scope: str = "Hela enheten") -> dict:
    """Header → value of the line (name, scope) below the nearest header row with comparisons."""
    header = None
    for row in ws.iter_rows():
        values = [c.value for c in row]
        if "T2 2017" in values:
            header = values
        elif header and values[0] == name and values[1] == scope:
            return {h: v for h, v in zip(header, values, strict=False) if h}
    raise AssertionError(f"{name} / {scope} saknas på {ws.title}")


def test_t2_indicator_sheets_show_t1_and_last_years_t2_with_the_change(book):
    ws = book["Ekonomiskt bistånd"]
    households = _row(ws, "Hushåll med ekonomiskt bistånd")
    assert (households["Totalt"], households["T1 2018"], households["T2 2017"]) == (1234, 1000, 1100)
    # (1234 − 1100) / 1100 = 12.18 % → +12 %
    assert households["Förändring mot T2 2017"] == "↑ +12 %"
    shares = _row(ws, "Andel personer som har ekonomiskt bistånd i förhållande till befolkningen")
    assert (shares["T1 2018"], shares["T2 2017"]) == (0.21, 0.42)
    # Shown with one decimal: 0.3 − 0.4 = −0.1 procentenheter
    assert shares["Förändring mot T2 2017"] == "↓ −0,1 p.e."

    labour = _row(book["Arbetsmarknad"], "Antal praktiktillfällen som genomförs inom stadens verksamheter av "
                  "de aspiranter som Jobbtorg Stockholm matchar", "Kungsholmen")  # fmt: skip
    # (12 − 16) / 16 = −25 %
    assert (labour["T1 2018"], labour["T2 2017"], labour["Förändring mot T2 2017"]) == (5, 16, "↓ −25 %")

    staff = _row(book["Personal"], "Anställda", "Alla åldrar")
    # (33 − 30) / 30 = +10 %
    assert (staff["T1 2018"], staff["T2 2017"], staff["Förändring mot T2 2017"]) == (32, 30, "↑ +10 %")


def test_suppressed_comparison_figures_stay_suppressed_and_missing_ones_say_why(book):
    ws = book["Ekonomiskt bistånd"]
    persons = _row(ws, "Personer i hushåll med ekonomiskt bistånd (inkl. barn)")
    assert (persons["T1 2018"], persons["T2 2017"], persons["Förändring mot T2 2017"]) == (2000, "..", "")
    assert 9999 not in [c.value for row in ws.iter_rows() for c in row]
    # No comparison figures at all for the feriejobb places: "saknas" and why.
    places = _row(book["Arbetsmarknad"], "Antal tillhandahållna platser för feriejobb")
    assert (places["T1 2018"], places["T2 2017"]) == ("saknas", "saknas")
    assert places["Förändring mot T2 2017"] in {
        f"saknas: {comparison.NO_DATA}", f"saknas: {comparison.NOT_COVERED}"
    }


def test_every_reason_fits_one_line_of_the_change_column():
    from reports.layout import wrapped_lines
    from reports.sheets.comparisons import CHANGE_WIDTH, MISSING

    for why in (comparison.NOT_COVERED, comparison.NOT_COMPUTED, comparison.NO_DATA):
        assert wrapped_lines(f"{MISSING}: {why}", CHANGE_WIDTH) == 1, why
