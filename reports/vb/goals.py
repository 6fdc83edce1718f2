"""Sheets 1–3 of the VB workbook: the plan's goals for the unit, the managers' analyses, each district.

Mål och resultat: each indicator of the year's plan with årsmål, KF:s årsmål, T1 → T2 → helår
and the previous year's full year, the change and the judgement of the full year (the same rule
as the tertial workbooks, etl.targets). Analys: per goal the managers' analyses from T1 and T2
and an unlocked cell for the year's analysis (the rest protected, without password), on a sheet
of its own so that neither table is shrunk below reading size when printed. Stadsdelar: each
district's and the unit's årsmål, helår T/K/M and judgement.
"""

from __future__ import annotations

from etl import targets
from etl.settings import Entry, Plan, settings
from etl.vocabulary import ALL, SEXES
from reports.judgements import Judgements
from reports.layout import LINE_HEIGHT, Page, plan_format, wrapped_lines
from reports.model import NOTHING, PERIODICITY, VALUE, Cell
from reports.sheets import comparisons
from reports.sheets.common import SEX_COLUMNS
from reports.sheets.summary import ICON_RULE, ICONS
from reports.vb.model import MISSING, PREVIOUS, STAGES, VbInputs

ANALYSIS_WIDTH = 34
YEAR_ANALYSIS_WIDTH = 44
ANALYSIS_ROWS = 5
"""Lines of room per goal for the year's analysis (the row height when nothing is written yet)."""
UNLOCKED = {"locked": False, "text_wrap": True, "valign": "top", "border": 1, "bg_color": "#E2EFDA"}
PROTECTION = {"select_locked_cells": True, "select_unlocked_cells": True, "format_columns": True,
              "format_rows": True}  # fmt: skip


def plan_entries(plan: Plan | None) -> list[Entry]:
    """Every indicator of the year's plan, in the city's goal order (all goals when no plan)."""
    catalogue = settings().catalogue
    goals = list(catalogue.goals())
    if plan is None:
        return goals
    planned = [i.id for i in plan.indicators]
    ordered = [e for e in goals if e.id in planned]
    return ordered + [catalogue.get(i) for i in planned if i not in {e.id for e in ordered}]


def _number(value: float | None) -> Cell:
    return Cell(NOTHING, None, None) if value is None else Cell(VALUE, float(value), None)


def _targets(w: Page, r: int, col: int, ind: Entry, plan: Plan | None, scope: str, num: str) -> None:
    """Årsmål and KF:s årsmål in ``col`` and ``col + 1``."""
    planned = plan.indicator(ind.id) if plan else None
    if ind.trend_word and planned:
        w.text(r, col, ind.trend_word, w.fmts.text)
    else:
        w.put(r, col, _number(planned.target(scope) if planned else None), num_format=num)
    if planned and planned.kf_arsmal is None and planned.kf_arsmal_note:
        w.text(r, col + 1, planned.kf_arsmal_note, w.fmts.text)
    else:
        w.put(r, col + 1, _number(planned.kf_arsmal if planned else None), num_format=num)


def _figure(w: Page, r: int, col: int, found: Cell | None, num: str, bold: bool = False) -> None:
    if found is None:
        w.text(r, col, MISSING, w.fmts.symbol(bold))
    else:
        w.put(r, col, found, bold=bold, num_format=num)


def judgement(inputs: VbInputs, ind: Entry, scope: str) -> targets.Assessment:
    """The full year judged once, as the T3 workbook and e-mail judge it (reports.judgements)."""
    return Judgements.of(inputs.ctx).assess(ind, scope)


def _judged(w: Page, r: int, col: int, assessed: targets.Assessment) -> None:
    """Traffic light in ``col``, the word in ``col + 1``."""
    word = assessed.judgement
    if word in ICONS:
        w.ws.write_number(r, col, ICONS[word], w.fmts.icon)
    else:
        w.ws.write_blank(r, col, None, w.fmts.icon)
    w.text(r, col + 1, word or "ingen bedömning", w.fmts.text)


def write_goals(w: Page, inputs: VbInputs) -> None:
    ws, fmts, year = w.ws, w.fmts, inputs.year
    plan = settings().plan(year)
    stages = [inputs.stage(s) for s in STAGES] + [inputs.stage(f"{PREVIOUS}_T3")]
    heads = [f"T1 {year}", f"T2 {year}", f"Helår {year}", f"Helår {year - 1}"]
    cols = ["Område (KF:s inriktningsmål)", "Indikator", "Årsmål (enheten)", "KF:s årsmål", *heads]
    cols += [f"Förändring mot {year - 1}", "Måluppfyllelse", "Bedömning", "Periodicitet"]
    c_fig, c_change, c_icon, c_per = 4, 8, 9, 11
    # Narrow enough to print on one page wide at a legible scale (reports/printing.py).
    widths = {0: 17, 1: 30, 2: 10, 3: 10, **{c: 10 for c in range(c_fig, c_change)}, c_change: 12}
    widths |= {c_icon: 14, c_icon + 1: 13, c_per: 11}
    w.set_widths(widths)
    w.note(
        2,
        f"Helåret {year} mot årsmålen, med utfallet år till och med T1 och T2 och förra årets helår "
        f"(totalt). {w.suppressed_symbol} = visas inte (för få personer), {w.nothing_symbol} = inget att "
        f"redovisa, {MISSING} = uppgiften finns inte (se Om verksamhetsberättelsen). Grå = mäts bara för "
        "helår. Måluppfyllelse: grön = uppfyllt, gul = delvis, röd = ej uppfyllt.",
    )  # fmt: skip
    group_row, header_row = 4, 5
    ws.merge_range(group_row, 2, group_row, 3, "Mål", fmts.group)
    ws.merge_range(group_row, c_fig, group_row, c_change, "Utfall hela enheten (totalt)", fmts.group)
    ws.merge_range(group_row, c_icon, group_row, c_per, "Bedömning av helåret", fmts.group)
    w.columns(2, [(2, 3), (c_fig, c_change), (c_icon, c_per)])
    w.headers(header_row, cols, {0, 1, c_change, c_icon + 1, c_per})
    entries = plan_entries(plan)
    first = header_row + 1
    for r, ind in enumerate(entries, start=first):
        num = plan_format(ind, plan)
        w.text(r, 0, ind.goal.kf_inriktningsmal if ind.goal else "", fmts.text)
        w.text(r, 1, ind.name, fmts.text)
        _targets(w, r, 2, ind, plan, ALL, num)
        found = [s.cell(ind) for s in stages]
        for j, cell in enumerate(found):
            if ind.annual_only and j < 2:  # measured for the full year only: no T1/T2 figure
                w.put(r, c_fig + j, None)
            else:
                _figure(w, r, c_fig + j, cell, num)
        now = found[2] or Cell(NOTHING, None, None)
        decimals = targets.shown_decimals(ind, plan)
        w.text(r, c_change, comparisons.change(ind, now, found[3], decimals), fmts.text)
        _judged(w, r, c_icon, judgement(inputs, ind, ALL))
        w.text(r, c_per, PERIODICITY.get(ind.periodicity, ind.periodicity), fmts.text)
        w.fit_row(r, [(ind.goal.kf_inriktningsmal if ind.goal else "", widths[0]), (ind.name, widths[1])])
    last = first + len(entries) - 1
    if entries:
        ws.conditional_format(first, c_icon, last, c_icon, ICON_RULE)
    w.head(group_row, header_row, 2)
    w.note(
        last + 2,
        "Bedömningen gäller helåret med samma regel som i tertialuppföljningarna (bladet Om statistiken "
        "i tertialets arbetsbok). Förändring: procentenheter för andelar, procent för övriga. "
        "Chefernas analyser står på bladet Analys.",
    )


def write_analysis(w: Page, inputs: VbInputs) -> None:
    """Per goal: the full year's outcome and judgement, the managers' analyses from T1 and T2 and
    an unlocked cell for the year's analysis; the rest of the sheet is protected (no password)."""
    ws, fmts, year = w.ws, w.fmts, inputs.year
    plan = settings().plan(year)
    cols = ["Indikator", f"Helår {year}", "Bedömning", "Analys T1 (chefens)", "Analys T2 (chefens)",
            f"Årets analys {year}"]  # fmt: skip
    widths = {0: 34, 1: 10, 2: 14, 3: ANALYSIS_WIDTH, 4: ANALYSIS_WIDTH, 5: YEAR_ANALYSIS_WIDTH}
    w.set_widths(widths)
    w.note(
        2,
        "Chefernas analys och planerade åtgärder per mål från tertialuppföljningarna T1 och T2. "
        f"Skriv årets analys {year} i de gröna cellerna; resten av bladet är skyddat (utan lösenord).",
    )
    header = 4
    w.columns(1, [(1, 2), (3, 4), (5, 5)])
    w.headers(header, cols, {0, 2, 3, 4, 5})
    unlocked = w.wb.add_format(UNLOCKED)
    for r, ind in enumerate(plan_entries(plan), start=header + 1):
        w.text(r, 0, ind.name, fmts.text)
        _figure(w, r, 1, inputs.stage("T3").cell(ind), plan_format(ind, plan))
        w.text(r, 2, judgement(inputs, ind, ALL).judgement or "ingen bedömning", fmts.text)
        texts = [inputs.comment(ind, 1), inputs.comment(ind, 2)]
        for j, text in enumerate(texts, start=3):
            if text:
                w.text(r, j, text, fmts.text)
            else:
                ws.write_blank(r, j, None, fmts.text)
        ws.write_blank(r, 5, None, unlocked)
        lines = [wrapped_lines(t, ANALYSIS_WIDTH) for t in texts] + [wrapped_lines(ind.name, widths[0])]
        w.set_height(r, LINE_HEIGHT * max(ANALYSIS_ROWS, *lines))
    w.head(header, header, 1)
    ws.protect("", PROTECTION)


def write_districts(w: Page, inputs: VbInputs) -> None:
    """Each plan indicator per district and for the unit: årsmål, helår T/K/M, previous year, judgement."""
    ws, fmts, year, ctx = w.ws, w.fmts, inputs.year, inputs.ctx
    plan = settings().plan(year)
    cols = ["Indikator", "Omfattning", "Årsmål", "KF:s årsmål", *(f"{h} {year}" for h in SEX_COLUMNS)]
    cols += [f"Totalt {year - 1}", "Måluppfyllelse", "Bedömning", "Hur det bedömts"]
    w.set_widths({0: 28, 1: 13, 2: 10, 3: 10, 4: 10, 5: 10, 6: 10, 7: 10, 8: 14, 9: 13, 10: 32})
    w.text(
        2, 0,
        f"Helår {year} per stadsdel och för hela enheten: årsmål, utfall för kvinnor och män och "
        f"bedömning. Indikatorer som inte är individbaserade redovisas bara totalt.",
        fmts.note,
    )  # fmt: skip
    header = 4
    w.columns(2, [(2, 3), (4, 7), (8, 10)])
    w.headers(header, cols, {0, 1, 9, 10})
    r = header + 1
    for ind in plan_entries(plan):
        num = plan_format(ind, plan)
        for scope in [*ctx.districts, ALL]:
            bold = scope == ALL
            w.text(r, 0, ind.name, fmts.text_bold if bold else fmts.text)
            w.text(r, 1, ctx.scope_label(scope), fmts.text_bold if bold else fmts.text)
            _targets(w, r, 2, ind, plan, scope, num)
            for j, sex in enumerate(SEXES):
                cell = inputs.stage("T3").cell(ind, scope, sex) if sex in ind.sexes else None
                if sex in ind.sexes:
                    _figure(w, r, 4 + j, cell, num, bold)
                else:
                    w.put(r, 4 + j, None)
            _figure(w, r, 7, inputs.stage(f"{PREVIOUS}_T3").cell(ind, scope), num, bold)
            assessed = judgement(inputs, ind, scope)
            _judged(w, r, 8, assessed)
            w.text(r, 10, assessed.basis or "", fmts.text)
            w.fit_cells(r, 0, [ind.name])
            r += 1
    ws.conditional_format(header + 1, 8, max(r - 1, header + 1), 8, ICON_RULE)
    w.head(header, header, 2)
