"""The follow-up workbooks, read back with openpyxl: layout, figures, safety and determinism.

The published table is synthetic and covers every id of the catalogue, three districts,
suppressed cells (carrying sentinel values that must never reach a cell) and NaN cells.
Expected figures are written by hand below, from the 2018 plan's targets (config/plans/2018.yml).
"""

from __future__ import annotations

import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from etl.disclosure import DisclosureConfig
from etl.periods import Period
from reports import gender_text
from reports.model import rule_texts
from reports.workbook import write_workbook
from tests.support.reports import (
    DEVELOPER_WORDS,
    SENTINELS,
    SHEETS,
    UNIT,
    context,
    published_table,
)


@pytest.fixture(autouse=True)
def gender_verdict(monkeypatch):
    """reports.gender_text.verdict stub recording its arguments (the real one: test_gender_text.py)."""
    calls = []

    def verdict(diff, low, high, confidence=None):
        calls.append((diff, low, high))
        return "=TOLKNING kan inte visas" if diff is None else f"Tolkning {diff:g} [{low:g}, {high:g}]"

    monkeypatch.setattr(gender_text, "verdict", verdict)
    return calls


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    return published_table()


def cells(ws) -> list:
    return [c for row in ws.iter_rows() for c in row if c.value is not None]


def find_row(ws, col: int, text: str) -> int:
    for row in ws.iter_rows():
        if row[col - 1].value == text:
            return row[0].row
    raise AssertionError(f"{text!r} finns inte i kolumn {col} på {ws.title}")


def find_row2(ws, first: str, second: str) -> int:
    hits = [row[0].row for row in ws.iter_rows() if (row[0].value, row[1].value) == (first, second)]
    assert len(hits) == 1, (first, second, hits)
    return hits[0]


def header_map(ws, row: int) -> dict[str, int]:
    return {c.value: c.column for c in ws[row] if c.value is not None}


def test_unit_workbook_layout_figures_and_formats(tmp_path, published, gender_verdict):
    path = write_workbook(context(published), tmp_path)
    assert path.name == "Tertialuppfoljning_2018_T1_Forsorjningsstod_ALL.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == SHEETS

    ws = wb["Sammanfattning"]
    hrow = find_row(ws, 1, "Område (KF:s inriktningsmål)")
    head = header_map(ws, hrow)
    assert list(head)[:7] == [
        "Område (KF:s inriktningsmål)",
        "Indikator",
        "Årsmål Hela enheten",
        "KF:s årsmål",
        "Totalt",
        "Kvinnor",
        "Män",
    ]
    for h in ("Helårsprognos", "Måluppfyllelse", "Bedömning", "Periodicitet", "Kommentar"):
        assert h in head
    t, k, m = head["Totalt"], head["Kvinnor"], head["Män"]

    from etl.settings import settings  # the catalogue's plan indicators (config), not the code under test

    plan = {e.id: e for e in settings().catalogue.goals()}
    rows = {ws.cell(r, 2).value: r for r in range(hrow + 1, hrow + 1 + len(plan))}
    assert set(rows) == {ind.name for ind in plan.values()}
    for ind in plan.values():
        r = rows[ind.name]
        if ind.individual_based:  # every individual-based indicator has a women's and a men's figure
            assert ws.cell(r, k).value is not None and ws.cell(r, m).value is not None, ind.id
        else:
            assert ws.cell(r, k).value is None and ws.cell(r, m).value is None, ind.id
            assert "Inte individbaserad" in ws.cell(r, head["Kommentar"]).value

    def row_of(ind_id):
        return rows[plan[ind_id].name]

    r = row_of("eb_andel_befolkning")
    assert ws.cell(r, t).value == 0.3 and ws.cell(r, t).number_format == '[$-41D]0.0" %"'
    assert (
        ws.cell(r, head["Årsmål Hela enheten"]).value == 0.4 and ws.cell(r, head["KF:s årsmål"]).value == 1.6
    )
    # An annual share in T1 without last year's figures is not judged on its year-to-date value.
    judged = (ws.cell(r, head["Måluppfyllelse"]).value, ws.cell(r, head["Bedömning"]).value)
    assert judged == (None, "ej mätt")
    assert "bedöms i verksamhetsberättelsen" in ws.cell(r, head["Kommentar"]).value
    assert ws.cell(r, head["T1 2017"]).value == "saknas"
    assert ws.cell(r, head["Periodicitet"]).value == "Tertial"
    r = row_of("eb_langvarigt_vuxna")
    # The target has 2 decimals; [$-41D] = Swedish separators (reports/formats.py).
    assert ws.cell(r, t).value == 0.24 and ws.cell(r, t).number_format == '[$-41D]0.00" %"'
    assert (ws.cell(r, head["Måluppfyllelse"]).value, ws.cell(r, head["Bedömning"]).value) == (
        2,
        "delvis uppfyllt",
    )
    r = row_of("am_stockholmsjobb_aspiranter")
    assert ws.cell(r, t).value == 5 and ws.cell(r, head["Helårsprognos"]).value == 15  # 5 × 12 / 4
    assert (ws.cell(r, head["Måluppfyllelse"]).value, ws.cell(r, head["Bedömning"]).value) == (
        1,
        "ej uppfyllt",
    )
    r = row_of("eb_andel_barn")  # suppressed: "..", no icon, ej mätt
    assert ws.cell(r, t).value == ".." and ws.cell(r, t).alignment.horizontal == "right"
    assert (ws.cell(r, head["Måluppfyllelse"]).value, ws.cell(r, head["Bedömning"]).value) == (
        None,
        "ej mätt",
    )
    r = row_of("ledarskapsindex")  # no figure in the published table, annual, T only
    assert ws.cell(r, t).value == "–" and ws.cell(r, head["Bedömning"]).value == "ej mätt"
    r = row_of("am_unga_varken_arbetar_studerar")  # no target and annual: not measured in T1
    assert ws.cell(r, head["Bedömning"]).value == "ej mätt"
    assert ws.cell(r, head["KF:s årsmål"]).value == "Fastställs 2018"
    icon_rules = [rule for cf in ws.conditional_formatting for rule in cf.rules if rule.type == "iconSet"]
    # The plan table and the district view below it, both traffic lights (None = the default).
    assert len(icon_rules) == 2 and {rule.iconSet.iconSet for rule in icon_rules} <= {None, "3TrafficLights1"}
    assert [v.val for v in icon_rules[0].iconSet.cfvo] == [0, 2, 3] and icon_rules[
        0
    ].iconSet.showValue is False
    assert ws.freeze_panes == f"C{hrow + 1}"

    # Ekonomiskt bistånd: every T/K/M cell of the first table equals the published figure.
    ws = wb["Ekonomiskt bistånd"]
    labels = {
        "Hushåll med ekonomiskt bistånd": "eb_hushall",
        "Personer i hushåll med ekonomiskt bistånd (inkl. barn)": "eb_mottagare",
        "Andel personer som har ekonomiskt bistånd i förhållande till befolkningen": "eb_andel_befolkning",
        "Andel barn som lever i familjer som har ekonomiskt bistånd": "eb_andel_barn",
        "Andel vuxna med långvarigt ekonomiskt bistånd jämfört med samtliga vuxna invånare": (
            "eb_langvarigt_vuxna"
        ),
        "Utbetalt ekonomiskt bistånd (kr)": "eb_utbetalt_kr",
        "Utbetalt belopp per hushållsmånad (kr)": "eb_kr_per_hushallsmanad",
    }
    scopes = {"Hela enheten": "ALL", "Kungsholmen": "KUN", "'+Norrmalm": "NOR", "Östermalm": "OST"}
    pub = published.set_index(["indicator_id", "district_code", "sex"])
    hrow = find_row(ws, 1, "Indikator")
    assert [c.value for c in ws[hrow]][:5] == ["Indikator", "Omfattning", "Totalt", "Kvinnor", "Män"]
    checked = 0
    for r in range(hrow + 1, hrow + 1 + 7 * 4):
        ind, scope = labels[ws.cell(r, 1).value], scopes[ws.cell(r, 2).value]
        for col, sex in ((3, "T"), (4, "K"), (5, "M")):
            row = pub.loc[(ind, scope, sex)]
            expected = ".." if row["suppressed"] else "–" if np.isnan(row["value"]) else row["value"]
            assert ws.cell(r, col).value == expected, (ind, scope, sex)
            checked += 1
    assert checked == 7 * 4 * 3
    r = find_row2(ws, "Utbetalt ekonomiskt bistånd (kr)", "Hela enheten")
    assert ws.cell(r, 3).value == 4_000_000 and ws.cell(r, 3).number_format == '[$-41D]#,##0" kr"'
    r = find_row2(ws, "Hushåll med ekonomiskt bistånd", "Hela enheten")
    assert ws.cell(r, 3).value == 1234 and ws.cell(r, 3).number_format == "[$-41D]#,##0"
    assert find_row(ws, 1, "3 Ensamstående man utan barn") > hrow
    mrow = find_row(ws, 1, "Månad")
    assert [c.value for c in ws[mrow]][:3] == ["Månad", "Hela enheten 2018", "Hela enheten 2017"]
    assert [ws.cell(mrow + i, 1).value for i in range(1, 5)] == ["januari", "februari", "mars", "april"]
    assert ws.cell(mrow + 2, 2).value == ".."  # February 2018 suppressed
    assert len(ws._charts) == 1

    ws = wb["Jämställdhetsanalys"]
    diff_row = [
        row[0].row for row in ws.iter_rows() if row[0].value == "Hela enheten" and row[1].value == -350
    ]
    assert len(diff_row) == 1
    assert [ws.cell(diff_row[0], c).value for c in (3, 4)] == [-800, 100]  # the interval beside it
    readings = {row[0].row: row[0].value for row in ws.iter_rows() if isinstance(row[0].value, str)}
    tolkning = next(r for r, v in readings.items() if v == "Tolkning")
    unit_label = next(r for r, v in readings.items() if v == "Hela enheten" and r > tolkning)
    assert readings[unit_label + 1].startswith("Tolkning -350 [-800, 100]")
    assert any(v == "'=TOLKNING kan inte visas" for v in readings.values())  # KUN suppressed → None
    assert (-350.0, -800.0, 100.0) in gender_verdict and any(c[0] is None for c in gender_verdict)
    assert any("Inget annat justeras" in v for v in readings.values())  # the catalogue's definition
    assert len(ws._charts) == 1
    # The interval's error bars point at the hidden distances to the limits (a list given to
    # xlsxwriter would be taken as the values themselves): unit −350 within −800 to 100.
    (bars,) = [s.errBars for s in ws._charts[0].series if s.errBars is not None]
    sheet, plus_range = bars.plus.numRef.f.rsplit("!", 1)
    assert sheet.strip("'") == "Jämställdhetsanalys" and bars.minus.numRef is not None
    pluses = [c.value for row in ws[plus_range.replace("$", "")] for c in row]
    minuses = [c.value for row in ws[bars.minus.numRef.f.rsplit("!", 1)[1].replace("$", "")] for c in row]
    assert (450, 450) in set(zip(pluses, minuses, strict=True))  # 100 − (−350), −350 − (−800)

    ws = wb["Arbetsmarknad"]
    r = find_row(ws, 1, "Antal tillhandahållna platser för feriejobb")
    assert (
        isinstance(ws.cell(r, 3).value, int | float)
        and ws.cell(r, 4).value is None
        and ws.cell(r, 5).value is None
    )
    assert ws.cell(find_row2(ws, "Antal aspiranter som fått Stockholmsjobb", "Östermalm"), 4).value == ".."

    ws = wb["Personal"]
    assert any("tio eller färre anställda" in str(c.value) for c in cells(ws))
    assert find_row(ws, 2, "29 år och yngre")

    # Ekonomi: Östermalm's line, 15.4 mnkr for the year; no last year's payouts in the fixture, so
    # the period's budget is linear: T1 = 15 400 000 × 4 / 12 = 5 133 333.33; Östermalm paid
    # 1 500 000 (the unit's 4 000 000 is not compared with Östermalm's budget).
    ws = wb["Ekonomi"]
    head = header_map(ws, find_row(ws, 1, "Budgetrad"))
    r = find_row(ws, 1, "Ekonomiskt bistånd")
    line = {name: ws.cell(r, c).value for name, c in head.items()}
    assert line["Omfattning"] == "Östermalm"
    assert line["Budget helår kostnader"] == pytest.approx(15_400_000)
    assert line["Periodens budget kostnader"] == pytest.approx(15_400_000 * 4 / 12)
    assert line["Utfall kostnader"] == 1_500_000
    assert line["Avvikelse kr"] == pytest.approx(3_633_333.333333, abs=0.01)  # 5 133 333.33 − 1 500 000
    assert line["Avvikelse %"] == pytest.approx(3_633_333.3333 / 5_133_333.3333 * 100)
    assert line["Helårsprognos kostnader"] == pytest.approx(4_500_000)  # 1 500 000 × 12 / 4
    assert line["Prognos mot budget kr"] == pytest.approx(10_900_000)
    assert line["Budget helår netto"] == pytest.approx(14_700_000)
    assert line["Utfall netto"] == "saknas" and line["Periodens budget fördelad"] == "linjärt"
    # Handläggning is the whole unit's (co-financed); no booked costs in this fixture: "saknas".
    r = find_row(ws, 1, "Handläggningskostnader")
    assert ws.cell(r, head["Omfattning"]).value == "Hela enheten"
    assert ws.cell(r, head["Utfall kostnader"]).value == "saknas"
    assert not any("OCR" in str(c.value) for c in cells(ws))  # no source-document references

    ws = wb["Datakvalitet"]
    values = [c.value for c in cells(ws)]
    assert {"Hushåll", "Personer", 600, 598, 2, 1200, "varning"} <= set(values)
    r = find_row(ws, 1, "Hushåll")
    assert "räknas inte med" in ws.cell(r, 6).value  # what the warning means for the figures
    r = find_row(ws, 6, "'=SUM(A1:A9)")
    row = [ws.cell(r, c).value for c in range(1, 7)]
    assert row == ["Hushåll", "varning", "rad", 2, None, "'=SUM(A1:A9)"]
    assert not any("SECRETKEY" in str(v) for v in values)  # example keys stay in the Data Docs
    assert not any("calc" in str(v) or "district_code" in str(v) for v in values)  # no technical detail
    # The run id and the report's place are for the systemförvaltare: the printed footer only.
    assert "scheduled__2018-05-16" in ws.oddFooter.right.text
    assert not any("scheduled__" in str(v) for v in values)

    ws = wb["Om statistiken"]
    values = [str(c.value) for c in cells(ws)]
    assert not any("scheduled__" in v or "abc123def456" in v for v in values)  # in the properties
    for needle in (
        "2017",
        "2018-01-01 – 2018-04-30",
        "Uppgifter som vilar på 1–4 personer visas inte (..).",
        "Andel avslag",
    ):
        assert any(needle in v for v in values), needle
    r = find_row(ws, 1, "Tabell")
    assert {ws.cell(r + i, 1).value: ws.cell(r + i, 2).value for i in (1, 2, 3)} == {
        "Hushåll": 600,
        "Utbetalningar": 5400,
        "Personer": 1200,
    }

    for ws in wb.worksheets:
        assert ws.freeze_panes is not None, ws.title
        assert ws.page_setup.orientation == "landscape", ws.title
        fitted = ws.sheet_properties.pageSetUpPr is not None and ws.sheet_properties.pageSetUpPr.fitToPage
        assert fitted or (ws.page_setup.scale or 100) >= 75, ws.title  # ≥ 8 pt: tests/test_workbook_print.py
        assert "&P" in ws.oddFooter.center.text, ws.title
        for c in cells(ws):
            assert c.data_type != "f", (ws.title, c.coordinate, c.value)  # never a formula
            assert c.hyperlink is None, (ws.title, c.coordinate)
    assert "Sammanfattning_utfall" in wb.defined_names
    props = wb.properties
    assert (props.creator, props.title) == (UNIT, "Tertialrapport 1 2018 – Försörjningsstödsenheten")
    assert props.created.isoformat() == "2018-04-30T00:00:00"


def test_no_cell_shows_or_rests_on_a_suppressed_figure(tmp_path, published):
    for scope in ("ALL", "NOR", "KUN"):
        wb = openpyxl.load_workbook(write_workbook(context(published, scope), tmp_path / scope))
        numbers = [c.value for ws in wb.worksheets for c in cells(ws) if isinstance(c.value, int | float)]
        for s in SENTINELS:  # the value itself, and a T1 prognosis (× 12 / 4) made from it
            assert s not in numbers and s * 3 not in numbers, (scope, s)
        # Hidden chart data too: every suppressed month is blank, not a number.
        ws = wb["Ekonomiskt bistånd"]
        mrow = find_row(ws, 1, "Månad")
        if scope == "ALL":
            assert ws.cell(mrow + 2, 2).value == ".."
            assert ws.cell(mrow + 2, 41).value is None and ws.cell(mrow + 1, 41).value is not None


def test_district_workbook_shows_district_beside_unit(tmp_path, published):
    # Last year's share for Kungsholmen: 0.2 in T1 and 0.4 for the year (ratio 2).
    last = pd.concat([published_table(Period(2017, 1)), published_table(Period(2017, 3))], ignore_index=True)
    ids, sexes = last["indicator_id"], last["sex"]
    key = ids.eq("eb_andel_befolkning") & last["district_code"].eq("KUN") & sexes.eq("T")
    last.loc[key, ["value", "suppressed"]] = [[0.2, False], [0.4, False]]
    path = write_workbook(context(published, "KUN", comparison=last), tmp_path)
    assert path.name == "Tertialuppfoljning_2018_T1_Forsorjningsstod_KUN.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == SHEETS
    ws = wb["Sammanfattning"]
    hrow = find_row(ws, 1, "Område (KF:s inriktningsmål)")
    heads = [c.value for c in ws[hrow]]
    assert heads[2] == "Årsmål Kungsholmen"
    assert heads[4:10] == ["Totalt", "Kvinnor", "Män", "Totalt", "Kvinnor", "Män"]
    groups = [c.value for c in ws[hrow - 1] if c.value]
    assert groups[:3] == ["Mål", "Utfall Kungsholmen", "Utfall hela enheten"]
    r = find_row(ws, 2, "Andel personer som har ekonomiskt bistånd i förhållande till befolkningen")
    assert ws.cell(r, 3).value == 0.3 and ws.cell(r, 5).value == 0.35 and ws.cell(r, 8).value == 0.3
    # Prognosis 0.35 × 0.4 / 0.2 = 0.7 against KUN's 0.3.
    assert ws.cell(r, heads.index("Helårsprognos") + 1).value == 0.7
    assert ws.cell(r, heads.index("Bedömning") + 1).value == "ej uppfyllt"
    assert ws.cell(r, heads.index("T1 2017") + 1).value == 0.2
    assert ws.cell(r, heads.index("Förändring mot T1 2017") + 1).value == "↑ +0,2 p.e."  # 0.4 − 0.2
    r = find_row(ws, 2, "Sjukfrånvaro")  # the plan has a target for the unit only
    assert ws.cell(r, 3).value == "–" and ws.cell(r, heads.index("Bedömning") + 1).value == "ingen bedömning"
    ws = wb["Ekonomiskt bistånd"]
    shown = {
        ws.cell(r, 2).value
        for r in range(find_row(ws, 1, "Indikator") + 1, find_row(ws, 1, "Indikator") + 15)
    }
    assert shown == {"Kungsholmen", "Hela enheten"}  # the district and the unit, not the others
    mrow = find_row(ws, 1, "Månad")
    assert [c.value for c in ws[mrow]][:5] == [
        "Månad",
        "Kungsholmen 2018",
        "Kungsholmen 2017",
        "Hela enheten 2018",
        "Hela enheten 2017",
    ]
    assert wb.properties.title.endswith("(Kungsholmen)")
    top = wb["Sammanfattning"]["A2"].value
    assert (
        "Kungsholmen (med hela enhetens totaler bredvid)" in top and "1 januari 2018 – 30 april 2018" in top
    )


def test_rule_texts_follow_the_disclosure_config():
    texts = rule_texts(
        DisclosureConfig(min_persons=5, min_staff_group=11, suppressed_symbol="..", nothing_symbol="–")
    )
    assert "1–4 personer" in texts["disclosure_rule"] and "10 eller färre anställda" in texts["staff_rule"]
    assert (texts["suppressed_symbol"], texts["nothing_symbol"]) == ("..", "–")


def test_two_runs_are_identical(tmp_path, published):
    a = write_workbook(context(published, "NOR"), tmp_path / "a")
    b = write_workbook(context(published, "NOR"), tmp_path / "b")
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        assert za.namelist() == zb.namelist()
        for name in za.namelist():
            assert za.read(name) == zb.read(name), name  # every member, docProps/core.xml included
        core = za.read("docProps/core.xml").decode()
    assert "<dcterms:created" in core and "2018-04-30T00:00:00Z" in core
    assert a.read_bytes() == b.read_bytes()


def test_text_never_becomes_a_formula(tmp_path, published):
    names = {"KUN": '=HYPERLINK("http://x")', "NOR": "@Norrmalm", "OST": "-Östermalm"}
    wb = openpyxl.load_workbook(write_workbook(context(published, "ALL", district_names=names), tmp_path))
    texts = {c.value for ws in wb.worksheets for c in cells(ws) if c.data_type == "s"}
    assert {'\'=HYPERLINK("http://x")', "'@Norrmalm", "'-Östermalm"} <= texts
    assert all(c.data_type != "f" for ws in wb.worksheets for c in cells(ws))


def test_later_tertial_full_year_name_and_no_budget_for_other_year(tmp_path):
    p3 = Period(2018, 3)
    book = write_workbook(context(published_table(p3), period=p3), tmp_path)
    assert book.name == "Verksamhetsberattelse_2018_Helar_Forsorjningsstod_ALL.xlsx"
    wb = openpyxl.load_workbook(book)
    assert wb.properties.created.isoformat() == "2018-12-31T00:00:00"
    ws = wb["Sammanfattning"]
    r = find_row(ws, 2, "Antal aspiranter som fått Stockholmsjobb")
    head = header_map(ws, find_row(ws, 1, "Område (KF:s inriktningsmål)"))
    assert ws.cell(r, head["Helårsprognos"]).value == 5  # 5 × 12 / 12; judged vs 18: 13 short → ej uppfyllt
    assert ws.cell(r, head["Bedömning"]).value == "ej uppfyllt"
    p19 = Period(2019, 1)
    wb = openpyxl.load_workbook(write_workbook(context(published_table(p19), period=p19), tmp_path / "2019"))
    assert any("Ingen budget för 2019" in str(c.value) for c in cells(wb["Ekonomi"]))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda df: df.drop(columns=["suppressed"]), "saknar kolumnerna suppressed"),
        (lambda df: pd.concat([df, df.head(1)]), "dubbla rader för aktivt_medskapandeindex/ALL/T"),
    ],
)
def test_bad_published_table_is_refused(tmp_path, published, change, message):
    with pytest.raises(ValueError, match=message):
        write_workbook(context(change(published)), tmp_path)
    assert not list(tmp_path.glob("*.xlsx"))


def test_unknown_scope_is_refused(tmp_path, published):
    with pytest.raises(ValueError, match="Okänd omfattning 'SOD'"):
        write_workbook(context(published, "SOD"), tmp_path)


def test_fixture_covers_the_whole_catalogue(published):
    """Guard for the tests above: every family of the catalogue is in the synthetic table."""
    ids = set(published["indicator_id"])
    assert {
        "eb_hushall_typ_9",
        "eb_mottagare_typ_1",
        "eb_utbetalt_kr_manad_201704",
        "eb_hushall_manad_201801",
        "ja_beviljat_kr_justerad_skillnad_ki_hog",
        "pe_langtidssjuk_andel_alder_50",
        "am_stockholmsjobb_platser",
    } <= ids


@pytest.mark.parametrize("period", [Period(2017, 3), Period(2019, 1)])
def test_a_year_without_a_plan_shows_no_2018_targets_or_budget(tmp_path, period):
    """Only 2018 has a plan: a 2017 or 2019 workbook shows no årsmål, judges nothing and
    compares the payouts with no budget (never 2018's)."""
    wb = openpyxl.load_workbook(write_workbook(context(published_table(period), period=period), tmp_path))
    ws = wb["Sammanfattning"]
    hrow = find_row(ws, 1, "Område (KF:s inriktningsmål)")
    head = header_map(ws, hrow)
    rows = range(hrow + 1, hrow + 17)  # the catalogue's 16 plan indicators, with their outcome
    assert all(ws.cell(r, head["Indikator"]).value for r in rows)
    for r in rows:
        assert ws.cell(r, head["Årsmål Hela enheten"]).value in (None, "–")
        assert ws.cell(r, head["KF:s årsmål"]).value in (None, "–")
        assert ws.cell(r, head["Bedömning"]).value == "ej bedömt"
        assert f"Inget årsmål för {period.year} i planen" in ws.cell(r, head["Kommentar"]).value
    texts = [str(c.value) for c in cells(wb["Ekonomi"]) if c.value is not None]
    assert any(f"Ingen budget för {period.year}" in t for t in texts)
    assert not any("Budget helår" in t for t in texts)
    numbers = [c.value for c in cells(wb["Ekonomi"]) if isinstance(c.value, int | float)]
    assert 15_400_000 not in numbers and all(abs(n - 15.4e6 * period.months / 12) > 1 for n in numbers)


def test_unit_summary_shows_each_districts_target_outcome_and_judgement(tmp_path, published):
    wb = openpyxl.load_workbook(write_workbook(context(published), tmp_path))
    ws = wb["Sammanfattning"]
    top = find_row(ws, 1, "Stadsdelarnas årsmål, utfall och bedömning")
    head = header_map(ws, top + 1)
    assert list(head)[:7] == ["Stadsdel", "Indikator", "Årsmål", "KF:s årsmål", "Totalt", "Kvinnor", "Män"]
    rows = {
        (ws.cell(r, 1).value, ws.cell(r, 2).value): r
        for r in range(top + 2, ws.max_row + 1)
        if ws.cell(r, 1).value in DISTRICTS_SHOWN
    }
    name = "Antal aspiranter som fått Stockholmsjobb"
    # Aspirants: Kungsholmen 6, Norrmalm 7, Östermalm 5 (config/plans/2018.yml), one row per district.
    assert [ws.cell(rows[(d, name)], head["Årsmål"]).value for d in DISTRICTS_SHOWN] == [6, 7, 5]
    kun = rows[("Kungsholmen", "Andel personer som har ekonomiskt bistånd i förhållande till befolkningen")]
    assert ws.cell(kun, head["Årsmål"]).value == 0.3 and ws.cell(kun, head["Totalt"]).value == 0.35
    assert ws.cell(kun, head["Bedömning"]).value == "ej mätt"  # T1 share, no last year: not judged
    # Indicators without any district target (sick leave: the unit's only) are not repeated.
    assert not any(n == "Sjukfrånvaro" for _, n in rows)
    # Every district row has a verdict word and its target from the district's own column.
    assert all(ws.cell(r, head["Bedömning"]).value for r in rows.values())


DISTRICTS_SHOWN = ["Kungsholmen", "'+Norrmalm", "Östermalm"]  # "+..." kept as text


def test_summary_lists_the_plans_activities_with_a_status_to_fill_in(tmp_path, published):
    wb = openpyxl.load_workbook(write_workbook(context(published, "OST"), tmp_path))
    ws = wb["Sammanfattning"]
    top = find_row(ws, 1, "Planens aktiviteter")
    assert [ws.cell(top + 1, c).value for c in (1, 2, 3, 4, 5, 8)] == [
        "Mål", "Aktivitet", "Start", "Slut", "Status (fylls i av chefen)", "Kommentar (fylls i av chefen)",
    ]  # fmt: skip
    # The 2018 plan has eight activities; the inventory of praktik places started 2017-01-01.
    texts = [ws.cell(r, 2).value for r in range(top + 2, top + 10)]
    assert len([t for t in texts if t]) == 8 and ws.cell(top + 10, 2).value is None
    r = top + 2 + next(i for i, t in enumerate(texts) if t.startswith("Inventering"))
    dates_status = (ws.cell(r, 3).value, ws.cell(r, 4).value, ws.cell(r, 5).value)
    assert dates_status == ("2017-01-01", "2018-12-31", None)
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert len(lists) == 1 and "Genomförd" in lists[0].formula1


def test_budget_by_last_years_profile_and_booked_costs(tmp_path, published):
    # Östermalm paid 1 000 000 in T1 2017 of 4 000 000 for 2017: T1 holds 25 % of the year.
    last = pd.concat([published_table(Period(2017, 1)), published_table(Period(2017, 3))], ignore_index=True)
    key = last["indicator_id"].eq("eb_utbetalt_kr") & last["district_code"].eq("OST") & last["sex"].eq("T")
    last.loc[key, ["value", "suppressed"]] = [[1_000_000.0, False], [4_000_000.0, False]]
    # Handläggning (the whole unit's line): 7 000 000 booked, 2 000 000 income in T1 2018.
    booked = pd.DataFrame(
        {
            "indicator_id": ["ek_kostnad_handlaggning", "ek_intakt_handlaggning"],
            "period": "2018-T1", "district_code": "ALL", "sex": "T", "value": [7_000_000.0, 2_000_000.0],
            "unit": "kr", "suppressed": False, "published": ["7000000", "2000000"],
        }
    )  # fmt: skip
    book = write_workbook(
        context(pd.concat([published, booked], ignore_index=True), comparison=last), tmp_path
    )
    ws = openpyxl.load_workbook(book)["Ekonomi"]
    head = header_map(ws, find_row(ws, 1, "Budgetrad"))

    def line(name):
        r = find_row(ws, 1, name)
        return {h: ws.cell(r, c).value for h, c in head.items()}

    aid = line("Ekonomiskt bistånd")
    assert aid["Periodens budget kostnader"] == pytest.approx(3_850_000)  # 15 400 000 × 0.25
    assert aid["Avvikelse kr"] == pytest.approx(2_350_000)  # 3 850 000 − 1 500 000
    assert aid["Avvikelse %"] == pytest.approx(2_350_000 / 3_850_000 * 100)
    assert aid["Helårsprognos kostnader"] == pytest.approx(6_000_000)  # 1 500 000 / 0.25
    assert aid["Prognos mot budget kr"] == pytest.approx(9_400_000)
    assert aid["Periodens budget fördelad"] == "efter 2017 års månader"
    # No last year's ledger in the fixture: linear. 21 500 000 × 4 / 12 = 7 166 666.67.
    h = line("Handläggningskostnader")
    assert h["Periodens budget kostnader"] == pytest.approx(21_500_000 / 3)
    assert h["Avvikelse kr"] == pytest.approx(21_500_000 / 3 - 7_000_000)
    assert h["Utfall netto"] == 5_000_000  # 7 000 000 − 2 000 000
    assert h["Helårsprognos netto"] == pytest.approx(15_000_000)  # (7 − 2) mnkr × 3
    assert h["Budget helår netto"] == pytest.approx(7_200_000) and h["Periodens budget fördelad"] == "linjärt"


@pytest.mark.parametrize("period", [Period(2018, 1), Period(2018, 3), Period(2019, 2)])
def test_manager_facing_cells_have_no_developer_words(tmp_path, period):
    for scope in ("ALL", "KUN"):
        book = write_workbook(context(published_table(period), scope, period=period), tmp_path / scope)
        found = [
            (ws.title, c.coordinate, c.value)
            for ws in openpyxl.load_workbook(book).worksheets
            for c in cells(ws)
            if isinstance(c.value, str) and DEVELOPER_WORDS.search(c.value)
        ]
        assert found == [], found[:5]
