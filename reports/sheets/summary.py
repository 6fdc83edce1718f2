"""Sheet 1, Sammanfattning: the plan's indicators with targets, outcome and judgement."""

from __future__ import annotations

from xlsxwriter.utility import xl_range_abs

from etl import targets
from etl.settings import Entry, Plan, settings
from etl.vocabulary import ALL, SEXES
from reports.layout import Page, plan_format, safe_text
from reports.model import NOTHING, PERIODICITY, SUPPRESSED, VALUE, Cell, Figures, ReportContext
from reports.sheets.common import SEX_COLUMNS

ICONS = {targets.UPPFYLLT: 3, targets.DELVIS: 2, targets.EJ_UPPFYLLT: 1}
"""Traffic-light value per judgement (3 green, 2 yellow, 1 red); ej mätt and no target: no icon."""


def write(w: Page, ctx: ReportContext, fig: Figures) -> None:
    ws, fmts = w.ws, w.fmts
    months = ctx.period.months
    district = ctx.scope != ALL
    s = ctx.suppressed_symbol
    w.text(
        2,
        0,
        f"{s} = uppgiften visas inte (för få personer). {ctx.nothing_symbol} = inget att redovisa. "
        "Måluppfyllelse: grön = uppfyllt, gul = delvis uppfyllt, röd = ej uppfyllt.",
        fmts.note,
    )

    cols = ["Område (KF:s inriktningsmål)", "Indikator", f"Årsmål {ctx.scope_label()}", "KF:s årsmål"]
    cols += SEX_COLUMNS + (SEX_COLUMNS if district else [])
    cols += ["Helårsprognos", "Måluppfyllelse", "Bedömning", "Periodicitet", "Kommentar"]
    c_out, c_unit = 4, 7
    c_prog = c_unit + (3 if district else 0)
    c_icon, c_word, c_per, c_note = c_prog + 1, c_prog + 2, c_prog + 3, c_prog + 4
    widths = {0: 26, 1: 48, 2: 11, 3: 11, c_prog: 14, c_icon: 15, c_word: 15, c_per: 12, c_note: 44}
    widths.update({c: 10 for c in range(c_out, c_prog)})
    w.set_widths(widths)

    group_row, header_row = 4, 5
    ws.merge_range(group_row, 2, group_row, 3, "Mål", fmts.group)
    ws.merge_range(
        group_row, c_out, group_row, c_out + 2, safe_text(f"Utfall {ctx.scope_label()}"), fmts.group
    )
    if district:
        ws.merge_range(group_row, c_unit, group_row, c_unit + 2, "Utfall hela enheten", fmts.group)
    ws.merge_range(group_row, c_prog, group_row, c_word, "Bedömning", fmts.group)
    w.headers(header_row, cols, {0, 1, c_word, c_per, c_note})

    first = header_row + 1
    year_plan = settings().plan(ctx.period.year)
    goals = settings().catalogue.goals()
    for i, ind in enumerate(goals):
        r = first + i
        num = plan_format(ind, year_plan)
        planned = year_plan.indicator(ind.id) if year_plan else None
        w.text(r, 0, ind.goal.kf_inriktningsmal, fmts.text)
        w.text(r, 1, ind.name, fmts.text)
        target = planned.target(ctx.scope) if planned else None
        w.put(r, 2, _number_cell(target, ctx), num_format=num)
        if planned and planned.kf_arsmal is None and planned.kf_arsmal_note:
            w.text(r, 3, planned.kf_arsmal_note, fmts.text)
        else:
            w.put(r, 3, _number_cell(planned.kf_arsmal if planned else None, ctx), num_format=num)
        for base, scope in ((c_out, ctx.scope), (c_unit, ALL)) if district else ((c_out, ctx.scope),):
            for j, sex in enumerate(SEXES):
                cell = fig.get(ind.id, scope, sex) if sex in ind.sexes else None
                w.put(r, base + j, cell, bold=scope == ALL and district, num_format=num)
        result = fig.get(ind.id, ctx.scope, "T")
        if ind.is_count and target is not None:
            value = result.number
            w.derived(r, c_prog, result, None if value is None else targets.prognosis(value, months), "antal")
        else:
            ws.write_blank(r, c_prog, None, fmts.text)
        judgement = targets.judge(ind, year_plan, result.number, months, ctx.scope)
        if judgement in ICONS:
            ws.write_number(r, c_icon, ICONS[judgement], fmts.icon)
        else:
            ws.write_blank(r, c_icon, None, fmts.icon)
        w.text(r, c_word, judgement or "ingen bedömning", fmts.text)
        w.text(r, c_per, PERIODICITY.get(ind.periodicity, ind.periodicity), fmts.text)
        comment = _comment(ctx, fig, ind, year_plan, target, result)
        w.text(r, c_note, comment, fmts.text)
        w.fit_row(
            r, [(ind.goal.kf_inriktningsmal, widths[0]), (ind.name, widths[1]), (comment, widths[c_note])]
        )

    last = first + len(goals) - 1
    ws.conditional_format(
        first,
        c_icon,
        last,
        c_icon,
        {
            "type": "icon_set",
            "icon_style": "3_traffic_lights",
            "icons_only": True,
            "icons": [
                {"criteria": ">=", "type": "number", "value": 3},
                {"criteria": ">=", "type": "number", "value": 2},
            ],
        },
    )
    w.wb.define_name("Sammanfattning_utfall", f"='{w.name}'!{xl_range_abs(header_row, 0, last, c_note)}")
    ws.freeze_panes(first, 2)
    ws.repeat_rows(group_row, header_row)
    w.note(
        last + 2,
        "Helårsprognos: linjär (utfall × 12 / periodens månader), för antal med årsmål. "
        "Bedömningsregeln står på bladet Om statistiken.",
    )


def _number_cell(value: float | None, ctx: ReportContext) -> Cell:
    return Cell(NOTHING, None, None) if value is None else Cell(VALUE, float(value), None)


def _comment(
    ctx: ReportContext, fig: Figures, ind: Entry, plan: Plan | None, target, result: Cell
) -> str:
    notes = []
    if not ind.individual_based:
        notes.append("Inte individbaserad: redovisas inte per kön.")
    if ind.annual_only and ctx.period.months < 12:
        notes.append("Mäts för helår (periodicitet År): bedöms i verksamhetsberättelsen.")
    if plan is None:
        notes.append(f"{targets.no_plan_text(ctx.period.year)}: ej bedömt.")
    elif target is None:
        notes.append(f"Inget årsmål för {ctx.scope_label()}: ingen bedömning.")
    elif ind.is_count:
        notes.append(f"Bedöms mot årsmålet fördelat på {ctx.period.months} månader.")
    if result.kind == SUPPRESSED:
        notes.append("Utfallet vilar på för få personer och visas inte.")
    elif not fig.has(ind.id):
        notes.append("Inget utfall för perioden.")
    return " ".join(notes)
