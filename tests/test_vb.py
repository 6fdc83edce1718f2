"""The verksamhetsberättelse workbook: every plan indicator, T1 → T2 → helår and the previous
year (hand-computed from a small source), the charts' series, comments, disclosure, the e-mail
sent once."""

from __future__ import annotations

import json
from email import message_from_bytes, policy

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.cell import range_boundaries

from etl import archive
from etl.__main__ import main
from etl.periods import Period
from etl.settings import settings
from reports.vb import vb_name, write_vb_workbook
from reports.vb.model import VbInputs
from tests.support.comments import fill, workbook_in
from tests.support.reports import DEVELOPER_WORDS, SENTINELS, context, published_table
from tests.support.vb import vb_db, vb_inputs, vb_stages, with_values

ASPIRANTS = "Antal aspiranter som fått Stockholmsjobb"
DIFF = "ja_beviljat_kr_justerad_skillnad"


@pytest.fixture
def key_env(monkeypatch):
    monkeypatch.setenv("EB_PSEUDONYM_KEY", "test-pseudonym-key-0123456789abcdef")


def _row(ws, col: int, text: str) -> int:
    for r in range(1, ws.max_row + 1):
        if ws.cell(r, col).value == text:
            return r
    raise AssertionError(f"{text!r} finns inte i kolumn {col} på {ws.title}")


def _head(ws, row: int) -> dict[str, int]:
    return {ws.cell(row, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(row, c).value}


def _values(wb, ref: str) -> list:
    """The cells a chart series points at (``'Diagram'!$AP$6:$AP$8``)."""
    sheet, cells = ref.rsplit("!", 1)
    ws = wb[sheet.strip("'")]
    min_col, min_row, max_col, max_row = range_boundaries(cells.replace("$", ""))
    return [ws.cell(r, c).value for r in range(min_row, max_row + 1) for c in range(min_col, max_col + 1)]


def _charts_at(ws, row: int) -> list:
    """Charts anchored on 1-based ``row`` (openpyxl anchors are 0-based), left to right."""
    found = [ch for ch in ws._charts if ch.anchor._from.row == row - 1]
    return sorted(found, key=lambda ch: ch.anchor._from.col)


def _run(url: str, out, period: str, *extra: str) -> None:
    assert main(["run", "--source", url, "--period", period, "--out", str(out), *extra]) == 0


@pytest.mark.slow  # one full T3 run
def test_t3_run_writes_the_vb_workbook_with_hand_computed_stages_and_charts(tmp_path, key_env):
    url = f"sqlite:///{tmp_path / 'src.db'}"
    vb_db(url)
    _run(url, tmp_path / "out", "2018-T3", "--no-email")
    root = tmp_path / "out" / "archive"
    package = root / "2018" / "VB" / "v1"
    assert sorted(p.name for p in (package / "workbooks").iterdir()) == [vb_name(2018)]
    assert archive.verify(root) == []
    wb = openpyxl.load_workbook(package / "workbooks" / vb_name(2018))
    assert wb.sheetnames == ["Mål och resultat", "Analys", "Stadsdelar", "Diagram", "Jämställdhet över åren",
                             "Ekonomi", "Om verksamhetsberättelsen"]  # fmt: skip

    ws = wb["Mål och resultat"]
    hrow = _row(ws, 1, "Område (KF:s inriktningsmål)")
    head = _head(ws, hrow)
    plan = settings().plan(2018)
    names = [ws.cell(r, 2).value for r in range(hrow + 1, hrow + 1 + len(plan.indicators))]
    catalogue = settings().catalogue
    assert sorted(names) == sorted(catalogue.get(i.id).name for i in plan.indicators)  # all 17
    assert ws.cell(hrow + 1 + len(plan.indicators), 2).value is None

    # Stockholmsjobb starts (tests/support/vb.py): 2017: 6; 2018 T1 5, T2 5 + 5 = 10, helår 10 + 6 = 16.
    # No T1/T2 package exists: both are computed from the T3 run's extract, as is 2017.
    r = _row(ws, 2, ASPIRANTS)
    got = [ws.cell(r, head[h]).value for h in ("T1 2018", "T2 2018", "Helår 2018", "Helår 2017")]
    assert got == [5, 10, 16, 6]
    assert ws.cell(r, head["Årsmål (enheten)"]).value == 18
    assert ws.cell(r, head["KF:s årsmål"]).value == 1000
    assert ws.cell(r, head["Förändring mot 2017"]).value == "↑ +167 %"  # (16 − 6) / 6 = 166,7 %
    # 16 against 18: short by 2 > 10 % of 18 = 1,8 → ej uppfyllt.
    assert ws.cell(r, head["Bedömning"]).value == "ej uppfyllt"
    wa = wb["Analys"]
    ahead = _head(wa, _row(wa, 1, "Indikator"))
    ra = _row(wa, 1, ASPIRANTS)
    assert wa.cell(ra, ahead["Årets analys 2018"]).protection.locked is False  # the manager writes here
    assert wa.protection.sheet and wa.cell(ra, ahead["Helår 2018"]).protection.locked is not False
    assert [wa.cell(ra, ahead[c]).value for c in ("Helår 2018", "Bedömning")] == [16, "ej uppfyllt"]

    annual = _row(ws, 2, catalogue.get("styrningsindex").name)  # periodicity År: no T1/T2 figure
    assert [ws.cell(annual, head[h]).value for h in ("T1 2018", "T2 2018")] == [None, None]

    wd = wb["Stadsdelar"]
    dhead = _head(wd, _row(wd, 1, "Indikator"))
    rows = {wd.cell(i, 2).value: i for i in range(1, wd.max_row + 1) if wd.cell(i, 1).value == ASPIRANTS}
    cols = ["Årsmål", "Totalt 2018", "Kvinnor 2018", "Män 2018", "Totalt 2017", "Bedömning"]
    # Every start is in Kungsholmen: 11 women (5 + 6), 5 men; KUN target 6, NOR 7 (plan 2018).
    assert [wd.cell(rows["Kungsholmen"], dhead[c]).value for c in cols] == [6, 16, 11, 5, 6, "uppfyllt"]
    assert [wd.cell(rows["Norrmalm"], dhead[c]).value for c in cols] == [7, 0, 0, 0, 0, "ej uppfyllt"]

    dg = wb["Diagram"]
    # 17 plan indicators; 6 are not individual-based (feriejobb and Stockholmsjobb places, the
    # three indexes, electronic purchases) and get one chart, the other 11 two: 11 × 2 + 6 = 28.
    assert len(dg._charts) == 28
    top = _row(dg, 1, ASPIRANTS)
    totals, sexes = _charts_at(dg, top + 1)
    assert [_values(wb, s.val.numRef.f) for s in totals.series] == [[5, 10, 16], [None, None, 6]]
    assert [_values(wb, s.tx.strRef.f) for s in totals.series] == [["2018"], ["2017"]]
    assert _values(wb, totals.series[0].cat.strRef.f) == ["T1", "T2", "Helår"]
    assert [_values(wb, s.val.numRef.f) for s in sexes.series] == [[5, 5, 11], [0, 5, 5]]
    assert [_values(wb, s.tx.strRef.f) for s in sexes.series] == [["Kvinnor"], ["Män"]]
    places = _row(dg, 1, "Antal tillhandahållna platser för feriejobb")
    assert len(_charts_at(dg, places + 1)) == 1  # not individual-based: no women/men chart

    about = [str(c.value) for row in wb["Om verksamhetsberättelsen"].iter_rows() for c in row if c.value]
    assert "beräknat ur helårskörningens källuttag (inget arkivpaket för perioden)" in about


def test_vb_workbook_prefers_packages_shows_comments_and_keeps_suppressed_figures_hidden(tmp_path):
    befolkning = ("eb_andel_befolkning", "ALL", "T")
    stages = {
        "T1": with_values(Period(2018, 1), {befolkning: 0.5}),
        "T2": with_values(Period(2018, 2), {befolkning: 0.45}),
        "T3": with_values(Period(2018, 3), {befolkning: 0.3}),
        "prev_T3": with_values(Period(2017, 3), {befolkning: 0.5}),
    }
    comments = pd.DataFrame(
        [
            {"year": 2018, "tertial": 1, "scope": "ALL", "indicator": "eb_andel_befolkning",
             "analys": "Fler hushåll i januari.", "atgarder": "Tidiga samtal."},
            {"year": 2018, "tertial": "T2", "scope": "ALL", "indicator": "eb_andel_befolkning",
             "analys": "=Minskar", "atgarder": None},
            {"year": 2017, "tertial": 1, "scope": "ALL", "indicator": "eb_andel_befolkning",
             "analys": "Förra året", "atgarder": None},
        ]
    )  # fmt: skip
    gender = {
        2017: with_values(Period(2017, 3), {(DIFF, "ALL", "T"): -900, (f"{DIFF}_ki_lag", "ALL", "T"): -1500,
                                            (f"{DIFF}_ki_hog", "ALL", "T"): -300}),
        2018: stages["T3"],  # golden: −350 (−800 to 100)
    }  # fmt: skip
    path = write_vb_workbook(vb_inputs(stages, comments, gender), tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Mål och resultat"]
    head = _head(ws, _row(ws, 1, "Område (KF:s inriktningsmål)"))
    r = _row(ws, 2, "Andel personer som har ekonomiskt bistånd i förhållande till befolkningen")
    got = [ws.cell(r, head[h]).value for h in ("T1 2018", "T2 2018", "Helår 2018", "Helår 2017")]
    assert got == [0.5, 0.45, 0.3, 0.5]
    assert ws.cell(r, head["Förändring mot 2017"]).value == "↓ −0,2 p.e."  # 0,3 − 0,5
    assert ws.cell(r, head["Bedömning"]).value == "uppfyllt"  # 0,3 ≤ årsmål 0,4, lower is better
    wa = wb["Analys"]
    ahead = _head(wa, _row(wa, 1, "Indikator"))
    ra = _row(wa, 1, "Andel personer som har ekonomiskt bistånd i förhållande till befolkningen")
    first = wa.cell(ra, ahead["Analys T1 (chefens)"]).value
    assert first == "Fler hushåll i januari.\nÅtgärder: Tidiga samtal."
    t2 = wa.cell(ra, ahead["Analys T2 (chefens)"])
    assert (t2.value, t2.data_type) == ("'=Minskar", "s")  # text, never a formula
    texts = [str(c.value) for row in wa.iter_rows() for c in row if c.value]
    assert not any("Förra året" in t for t in texts)  # 2017's comment is not 2018's
    assert wa.cell(ra, ahead["Årets analys 2018"]).protection.locked is False

    # Suppressed in every stage (tests/support/reports.py): ".." everywhere, and its sentinel
    # value nowhere in the file, hidden chart data included.
    barn = _row(ws, 2, "Andel barn som lever i familjer som har ekonomiskt bistånd")
    stage_cols = ("T1 2018", "T2 2018", "Helår 2018", "Helår 2017")
    assert [ws.cell(barn, head[h]).value for h in stage_cols] == ["..", "..", "..", ".."]
    assert ws.cell(barn, head["Bedömning"]).value == "ej mätt"
    everything = [c.value for sheet in wb for row in sheet.iter_rows() for c in row]
    assert not set(SENTINELS) & set(everything)
    about = [str(c.value) for row in wb["Om verksamhetsberättelsen"].iter_rows() for c in row if c.value]
    assert "arkivpaket T1" in about and "saknas" in about  # no T1/T2 2017 given

    wg = wb["Jämställdhet över åren"]
    ghead = _head(wg, _row(wg, 1, "År"))
    cols = ["Justerad skillnad", "Konfidensintervall, nedre", "Konfidensintervall, övre", "Slutsats"]
    # 2017: the whole interval below zero; 2018 (golden −350, −800 to 100): it holds zero.
    assert [wg.cell(_row(wg, 1, "2017"), ghead[c]).value for c in cols] == [
        -900, -1500, -300, "statistiskt säkerställd"
    ]  # fmt: skip
    assert [wg.cell(_row(wg, 1, "2018"), ghead[c]).value for c in cols] == [
        -350, -800, 100, "inte statistiskt säkerställd"
    ]  # fmt: skip

    (chart,) = wg._charts
    (series,) = chart.series
    assert _values(wb, (series.cat.strRef or series.cat.numRef).f) == ["2017", "2018"]
    assert _values(wb, series.val.numRef.f) == [-900, -350]
    # Error bars up to the upper limit and down to the lower: −300 − (−900) = 600, 100 − (−350) = 450;
    # −900 − (−1500) = 600, −350 − (−800) = 450.
    assert _values(wb, series.errBars.plus.numRef.f) == [600, 450]
    assert _values(wb, series.errBars.minus.numRef.f) == [600, 450]
    # The axis spans both intervals (−1 500 to 100), so no error bar is cut off.
    assert (chart.y_axis.scaling.min, chart.y_axis.scaling.max) == (-1500, 100)

    words = [
        (sheet.title, c.coordinate, c.value)
        for sheet in wb.worksheets
        for row in sheet.iter_rows()
        for c in row
        if isinstance(c.value, str) and DEVELOPER_WORDS.search(c.value)
    ]
    assert words == [], words[:5]  # no run ids, config paths or identifiers for managers

    again = write_vb_workbook(vb_inputs(stages, comments, gender), tmp_path / "again")
    assert again.read_bytes() == path.read_bytes()  # deterministic: the e-mail ledger's key


def test_vb_refuses_bad_inputs_in_swedish():
    t3 = published_table(Period(2018, 3))
    with pytest.raises(ValueError, match="kommentarer saknar kolumnerna analys, atgarder"):
        vb_inputs({"T3": t3}, pd.DataFrame(columns=["year", "tertial", "scope", "indicator"]))
    with pytest.raises(ValueError, match=r"helårskörningen \(T3\), inte 2018-T1"):
        VbInputs(context(t3), {})
    with pytest.raises(ValueError, match=r"okända perioder \['T4'\]"):
        VbInputs(context(t3, period=Period(2018, 3)), {"T4": None})


def test_vb_recipients_are_the_enhetschef_by_default_and_can_be_chosen():
    mail = settings().mail
    assert [r.email for r in mail.vb_recipients()] == ["karin.exempelsson@stockholm.se"]  # enhetschef
    choice = {"karin.exempelsson@stockholm.se": False, "maria.provlund@stockholm.se": True}
    chosen = tuple(
        r.model_copy(update={"verksamhetsberattelse": choice.get(r.email)}) for r in mail.recipients
    )
    assert [r.email for r in mail.model_copy(update={"recipients": chosen}).vb_recipients()] == [
        "maria.provlund@stockholm.se"
    ]


@pytest.mark.slow  # a T1 and four T3 runs
def test_the_vb_email_goes_out_once_and_not_twice(tmp_path, key_env, monkeypatch):
    monkeypatch.setenv("EB_MAIL_MODE", "outbox")
    url = f"sqlite:///{tmp_path / 'src.db'}"
    vb_db(url)
    out = tmp_path / "out"
    _run(url, out, "2018-T1", "--no-email")
    _run(url, out, "2018-T3")
    vb = out / "archive" / "2018" / "VB" / "v1"
    references = json.loads((vb / "references.json").read_text())
    assert sorted(references["packages"]) == ["T1", "T3"] and references["missing"] == ["T2"]
    book = openpyxl.load_workbook(vb / "workbooks" / vb_name(2018))
    sources = {row[0]: row[1] for row in book["Om verksamhetsberättelsen"].iter_rows(values_only=True)}
    assert sources["T1 2018"] == "arkivpaketet för T1 2018, version 1"  # the package, not the extract
    assert sources["T2 2018"] == "beräknat ur helårskörningens källuttag (inget arkivpaket för perioden)"
    ws = book["Mål och resultat"]
    head = _head(ws, _row(ws, 1, "Område (KF:s inriktningsmål)"))
    assert ws.cell(_row(ws, 2, ASPIRANTS), head["T1 2018"]).value == 5  # 5 starts in February
    ledger = out / "archive" / "2018" / "VB" / "email_ledger"
    first = sorted(p.name for p in ledger.iterdir())
    assert len(first) == 1 and first[0].startswith("karin.exempelsson_at_stockholm.se__")  # the enhetschef
    eml = out / "outbox" / "2018-VB" / "karin.exempelsson_at_stockholm.se.eml"
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert str(message["Subject"]).startswith("Verksamhetsberättelse 2018, årsrapport – ")
    assert [p.get_filename() for p in message.iter_attachments()] == [vb_name(2018)]
    stamp = eml.stat().st_mtime_ns
    _run(url, out, "2018-T3")
    assert sorted(p.name for p in ledger.iterdir()) == first, "the VB is not sent twice"
    assert eml.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in (out / "archive" / "2018" / "VB").iterdir()) == ["email_ledger", "v1"]

    # A workbook that differs only in layout (here: the Om sheet) is a new version, but the same
    # figures and comments: nothing is sent again.
    monkeypatch.setattr("reports.vb.years.write_about", lambda w, inputs: w.text(0, 0, "Annan layout"))
    _run(url, out, "2018-T3")
    assert (out / "archive" / "2018" / "VB" / "v2").is_dir()
    assert sorted(p.name for p in ledger.iterdir()) == first and eml.stat().st_mtime_ns == stamp

    # A manager's T2 analysis arrives (through the plug-in point): new content, sent once more.
    comment = pd.DataFrame(
        [{"year": 2018, "tertial": 2, "scope": "ALL", "indicator": "am_stockholmsjobb_aspiranter",
          "analys": "Fler män började under sommaren.", "atgarder": ""}]
    )  # fmt: skip
    monkeypatch.setattr("etl.vb.year_comments", lambda root, year: comment)
    _run(url, out, "2018-T3")
    assert len(list(ledger.iterdir())) == 2
    book = openpyxl.load_workbook(out / "archive" / "2018" / "VB" / "v3" / "workbooks" / vb_name(2018))
    wa = book["Analys"]
    assert wa.cell(_row(wa, 1, ASPIRANTS), _head(wa, 5)["Analys T2 (chefens)"]).value == (
        "Fler män började under sommaren."
    )
    assert archive.verify(out / "archive") == []


@pytest.mark.slow  # a T1 and a T3 run
def test_a_managers_t1_comment_imported_from_a_returned_workbook_shows_in_the_vb(
    tmp_path, key_env, monkeypatch
):
    monkeypatch.setenv("EB_MAIL_MODE", "outbox")  # the import's receipt
    url = f"sqlite:///{tmp_path / 'src.db'}"
    vb_db(url)
    out = tmp_path / "out"
    _run(url, out, "2018-T1", "--no-email")
    t1 = workbook_in(out / "archive" / "2018" / "T1" / "v1", "ALL")
    texts = {"am_stockholmsjobb_aspiranter": ("Fem började i februari.", "Fler kontakter med arbetsgivare.")}
    returned = fill(t1, tmp_path / "inkorg" / t1.name, texts)
    assert main(["comments", "import", str(returned), "--data-dir", str(out)]) == 0
    _run(url, out, "2018-T3", "--no-email")
    book = openpyxl.load_workbook(out / "archive" / "2018" / "VB" / "v1" / "workbooks" / vb_name(2018))
    wa = book["Analys"]
    head = _head(wa, _row(wa, 1, "Indikator"))
    r = _row(wa, 1, ASPIRANTS)
    assert wa.cell(r, head["Analys T1 (chefens)"]).value == (
        "Fem började i februari.\nÅtgärder: Fler kontakter med arbetsgivare."
    )
    assert wa.cell(r, head["Analys T2 (chefens)"]).value is None  # nothing returned at T2


def test_gender_trend_shows_the_archived_tertials_in_time_order(tmp_path):
    """The before/after design over tertials and years: 2018 T1 and T2 (archived, year to date)
    come before the full year, each with its own interval and conclusion, in table and chart."""
    stages = vb_stages()

    def diff(period, d, low, high):
        return with_values(period, {(DIFF, "ALL", "T"): d, (f"{DIFF}_ki_lag", "ALL", "T"): low,
                                    (f"{DIFF}_ki_hog", "ALL", "T"): high})  # fmt: skip

    stages["T3"] = diff(Period(2018, 3), -350, -800, 100)
    gender = {2017: diff(Period(2017, 3), -900, -1500, -300), 2018: stages["T3"]}
    tertials = {(2018, 1): diff(Period(2018, 1), -600, -1200, -50),
                (2018, 2): diff(Period(2018, 2), -400, -900, 90)}
    wb = openpyxl.load_workbook(write_vb_workbook(vb_inputs(stages, None, gender, tertials), tmp_path))
    wg = wb["Jämställdhet över åren"]
    top = _row(wg, 1, "År")
    labels = [wg.cell(r, 1).value for r in range(top + 1, top + 5)]
    assert labels == ["2017", "2018 T1", "2018 T2", "2018"]
    ghead = _head(wg, top)
    cols = ["Justerad skillnad", "Konfidensintervall, nedre", "Konfidensintervall, övre", "Slutsats"]
    # T1: −1 200 … −50 lies below zero; T2: −900 … 90 holds zero (by hand).
    assert [wg.cell(top + 2, ghead[c]).value for c in cols] == [-600, -1200, -50, "statistiskt säkerställd"]
    t2 = [wg.cell(top + 3, ghead[c]).value for c in cols]
    assert t2 == [-400, -900, 90, "inte statistiskt säkerställd"]
    (chart,) = wg._charts
    (series,) = chart.series
    assert _values(wb, (series.cat.strRef or series.cat.numRef).f) == labels
    assert _values(wb, series.val.numRef.f) == [-900, -600, -400, -350]
    # The chart prints: its top-left cell lies inside the sheet's print area (beside the table it
    # fell outside the printed columns and never reached paper).
    min_col, min_row, max_col, max_row = range_boundaries(wg.print_area.rsplit("!", 1)[1].replace("$", ""))
    anchor = chart.anchor._from
    assert min_col <= anchor.col + 1 <= max_col and min_row <= anchor.row + 1 <= max_row
