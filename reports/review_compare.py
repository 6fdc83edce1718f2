"""The comparison workbook of two review rounds: women and men, before and after, with the
registered-data gender analysis of the same years beside it (docs/review.md).

Holds only aggregated, suppressed figures (no ids): it may be archived and shared like the
tertial workbooks.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import xlsxwriter

from etl.review.compare import AFTER, BEFORE, DIFFERENCES, Comparison
from reports.formats import Formats
from reports.layout import SAFE_OPTIONS, Page, header_escape, print_setup
from reports.model import NOTHING, SUPPRESSED, VALUE, Cell
from reports.swedish import format_number

FORMATS = {"procent": '0.0" %"', "procentenheter": '0.0" p.e."', "kr": '#,##0" kr"', "poäng": "0.00"}
SEX_LABEL = {"K": "Kvinnor", "M": "Män", "T": "Totalt"}


def _cell(value: float, suppressed: bool, unit: str) -> Cell:
    if suppressed:
        return Cell(SUPPRESSED, None, unit)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Cell(NOTHING, None, unit)
    return Cell(VALUE, float(value), unit)


def interval_text(low: float, high: float, unit: str, suppressed: bool, symbol: str) -> str:
    """``12,0 – 48,3`` with the unit's decimals; the symbol when hidden, ``–`` when none."""
    if suppressed:
        return symbol
    if math.isnan(low) or math.isnan(high):
        return "–"
    d = 0 if unit == "kr" else (2 if unit == "poäng" else 1)
    return f"{format_number(low, d)} – {format_number(high, d)}"


def write_comparison(
    path: Path,
    comp: Comparison,
    registered: pd.DataFrame,
    years: tuple[int, int],
    unit_name: str,
    symbols: tuple[str, str] = ("..", "–"),
) -> Path:
    """Write the workbook; ``registered``: indicator, label, year, sex, value, unit, suppressed, period."""
    wb = xlsxwriter.Workbook(str(path), SAFE_OPTIONS)
    wb.set_properties(
        {"title": f"Ärendegranskning: jämförelse {comp.before} och {comp.after}", "company": unit_name}
    )
    fmts = Formats(wb)
    pages = [Page.add(wb, fmts, name, *symbols) for name in ("Granskning", "Registerdata", "Om jämförelsen")]
    _review_sheet(pages[0], comp, years)
    _registered_sheet(pages[1], registered, years)
    _about_sheet(pages[2], comp)
    for page in pages:
        footer = f"&L{header_escape(f'Jämförelse {comp.before} och {comp.after}')}&RSida &P av &N"
        print_setup(page.ws, "&LÄrendegranskning&C&A", footer)
        page.repeat = page.repeat or (0, 0)  # the sheet's title on every printed page
        page.finish()
    wb.close()
    return path


def _review_sheet(page: Page, comp: Comparison, years: tuple[int, int]) -> None:
    fmts = page.fmts
    page.set_widths({0: 46, **{c: 11 for c in range(1, 5)}, **{c: 16 for c in range(5, 11)}})
    page.text(
        0,
        0,
        f"Ärendegranskning före ({comp.before}, {years[0]}) och efter ({comp.after}, {years[1]})",
        fmts.title,
    )
    row = page.subtitle(2, "Andel och medelvärde per kön, med 95 % konfidensintervall")
    heads = [
        "Mått",
        "Före kvinnor",
        "Före män",
        "Efter kvinnor",
        "Efter män",
        "KI före kvinnor",
        "KI före män",
        "KI efter kvinnor",
        "KI efter män",
    ]
    page.headers(row, heads, {0})
    fig = comp.figures.set_index(["metric", "round", "sex"])
    groups = [(BEFORE, "K"), (BEFORE, "M"), (AFTER, "K"), (AFTER, "M")]
    metrics = list(dict.fromkeys(comp.figures["metric"]))
    for i, metric in enumerate(metrics, start=row + 1):
        first = fig.loc[(metric, BEFORE, "K")]
        page.text(i, 0, first["label"], fmts.text)
        for j, g in enumerate(groups, start=1):
            r = fig.loc[(metric, *g)]
            cell = _cell(r["value"], r["suppressed"], r["unit"])
            page.put(i, j, cell, num_format=FORMATS[r["unit"]] if cell.kind == VALUE else None)
            page.text(
                i,
                4 + j,
                interval_text(r["low"], r["high"], r["unit"], r["suppressed"], page.suppressed_symbol),
                fmts.symbol(),
            )
        page.fit_cells(i, 0, [first["label"]])
    row = row + 2 + len(metrics)
    n = {g: int(fig.loc[(metrics[0], *g)]["n"]) for g in groups}
    row = page.note(
        row,
        "Antal granskade ärenden: "
        + ", ".join(
            f"{'före' if r == BEFORE else 'efter'} {SEX_LABEL[s].lower()} {n[(r, s)]}" for r, s in groups
        )
        + ".",
    )
    row = page.subtitle(row + 1, "Skillnader, med 95 % konfidensintervall (bootstrap)")
    kinds = list(DIFFERENCES)
    page.headers(
        row, ["Mått", *(DIFFERENCES[k] for k in kinds), *(f"KI: {DIFFERENCES[k]}" for k in kinds)], {0}
    )
    diff = comp.differences.set_index(["metric", "kind"])
    for i, metric in enumerate(metrics, start=row + 1):
        page.text(i, 0, fig.loc[(metric, BEFORE, "K")]["label"], fmts.text)
        for j, kind in enumerate(kinds, start=1):
            d = diff.loc[(metric, kind)]
            cell = _cell(d["value"], d["suppressed"], d["unit"])
            page.put(i, j, cell, num_format=FORMATS[d["unit"]] if cell.kind == VALUE else None)
            page.text(
                i,
                len(kinds) + j,
                interval_text(d["low"], d["high"], d["unit"], d["suppressed"], page.suppressed_symbol),
                fmts.symbol(),
            )
    row = row + 2 + len(metrics)
    row = page.note(
        row,
        f"{page.suppressed_symbol} = uppgiften vilar på 1–4 ärenden och visas inte; "
        f"{page.nothing_symbol} = inget att redovisa. En skillnad visas bara när alla dess delar visas.",
    )
    page.note(
        row,
        "Procentenheter (p.e.) = skillnad mellan två andelar. Intervall för andelar är exakta "
        "(Clopper–Pearson); för medelvärden och skillnader seedad bootstrap.",
    )


def _registered_sheet(page: Page, registered: pd.DataFrame, years: tuple[int, int]) -> None:
    fmts = page.fmts
    page.set_widths({0: 52, **{c: 12 for c in range(1, 7)}})
    page.text(
        0, 0, "Registerdata: jämställdhetsanalysen samma år (ensamstående sökande, hela enheten)", fmts.title
    )
    sexes = ("K", "M", "T")
    heads = ["Indikator", *(f"{y} {SEX_LABEL[s].lower()}" for y in years for s in sexes)]
    page.headers(2, heads, {0})
    if registered.empty:
        page.note(
            4,
            "Ingen publicerad tertialuppföljning finns i arkivet för åren; kör python -m etl run "
            "för årets sista tertial så visas registerdata här.",
        )
        return
    table = registered.set_index(["indicator", "year", "sex"])
    labels = registered.drop_duplicates("indicator").set_index("indicator")["label"]
    for i, indicator in enumerate(labels.index, start=3):
        page.text(i, 0, labels[indicator], fmts.text)
        for j, (y, s) in enumerate(((y, s) for y in years for s in sexes), start=1):
            hit = table.loc[(indicator, y, s)] if (indicator, y, s) in table.index else None
            page.put(
                i,
                j,
                _cell(hit["value"], hit["suppressed"], hit["unit"])
                if hit is not None
                else Cell(NOTHING, None, None),
            )
        page.fit_cells(i, 0, [labels[indicator]])
    periods = registered.drop_duplicates("year").set_index("year")["period"]
    page.note(
        4 + len(labels),
        "Källa: publicerad tertialuppföljning, "
        + ", ".join(f"{y}: {periods[y]}" for y in years if y in periods.index)
        + ". Samma röjandeskydd som i tertialrapporterna.",
    )


def _about_sheet(page: Page, comp: Comparison) -> None:
    page.set_widths({0: 110})
    lines = [
        "Jämförelsen visar projektets två effektmått sida vid sida: den slumpmässiga ärendegranskningen "
        "före och efter projektet, och registerdatas jämställdhetsanalys för samma år.",
        f"Omgångar: före {comp.before}, efter {comp.after}. Urvalen är dragna med lika många kvinnor och män "
        "som sökande; se granskningsomgångarnas protokoll (round.json) för seed och datakontrollsumma.",
        "Förändring av skillnaden = (kvinnor − män efter) − (kvinnor − män före): projektets effekt om den "
        "har minskat. Ett intervall som omfattar 0 betyder att skillnaden kan bero på slumpen i urvalet.",
    ]
    page.text(0, 0, "Om jämförelsen", page.fmts.title)
    for i, line in enumerate(lines, start=2):
        page.text(i, 0, line, page.fmts.note_wrap)
        page.fit_row(i, [(line, 110)])
