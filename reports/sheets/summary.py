"""Sheet 1, Sammanfattning: the plan's indicators with targets, outcome and judgement."""

from __future__ import annotations

from xlsxwriter.utility import xl_range_abs

from etl import targets
from etl.settings import Entry, Plan, settings
from etl.vocabulary import ALL, SEXES
from reports.layout import Page, plan_format, safe_text
from reports.model import NOTHING, PERIODICITY, SUPPRESSED, VALUE, Cell, Figures, ReportContext
from reports.sheets import comparisons
from reports.sheets.common import SEX_COLUMNS

ICONS = {targets.UPPFYLLT: 3, targets.DELVIS: 2, targets.EJ_UPPFYLLT: 1}
"""Traffic-light value per judgement (3 green, 2 yellow, 1 red); ej mätt and no target: no icon."""
FORECAST = ("count", "annual_share", "seasonal_count")
"""Judgement kinds that judge a helårsprognos (shown in its column), not the outcome itself."""


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

    compare = comparisons.columns(ctx)
    cols = ["Område (KF:s inriktningsmål)", "Indikator", f"Årsmål {ctx.scope_label()}", "KF:s årsmål"]
    cols += SEX_COLUMNS + (SEX_COLUMNS if district else [])
    cols += [header for header, _ in compare] + [f"Förändring mot {compare[-1][0]}"]
    cols += ["Helårsprognos", "Måluppfyllelse", "Bedömning", "Periodicitet", "Kommentar"]
    c_out, c_unit = 4, 7
    c_cmp = c_unit + (3 if district else 0)
    c_change = c_cmp + len(compare)
    c_prog = c_change + 1
    c_icon, c_word, c_per, c_note = c_prog + 1, c_prog + 2, c_prog + 3, c_prog + 4
    widths = {0: 26, 1: 48, 2: 11, 3: 11, c_change: 16, c_prog: 14, c_icon: 15, c_word: 15, c_per: 12}
    widths.update({c: 10 for c in range(c_out, c_change)} | {c_note: 44})
    w.set_widths(widths)

    group_row, header_row = 4, 5
    ws.merge_range(group_row, 2, group_row, 3, "Mål", fmts.group)
    ws.merge_range(
        group_row, c_out, group_row, c_out + 2, safe_text(f"Utfall {ctx.scope_label()}"), fmts.group
    )
    if district:
        ws.merge_range(group_row, c_unit, group_row, c_unit + 2, "Utfall hela enheten", fmts.group)
    ws.merge_range(group_row, c_cmp, group_row, c_change, "Jämförelse (totalt)", fmts.group)
    ws.merge_range(group_row, c_prog, group_row, c_word, "Bedömning", fmts.group)
    w.headers(header_row, cols, {0, 1, c_change, c_word, c_per, c_note})

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
        if ind.trend_word and planned:
            w.text(r, 2, ind.trend_word, fmts.text)
        else:
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
        earlier = [comparisons.cell(ctx, ind, period, ctx.scope) for _, period in compare]
        for j, found in enumerate(earlier):
            if found is None:
                w.text(r, c_cmp + j, comparisons.MISSING, fmts.text)
            else:
                w.put(r, c_cmp + j, found, num_format=num)
        decimals = targets.shown_decimals(ind, year_plan)
        w.text(r, c_change, comparisons.change(ind, result, earlier[-1], decimals), fmts.text)
        assessed = targets.assess(
            ind, year_plan, result.number, months, ctx.scope, comparisons.history(ctx, ind, ctx.scope)
        )
        judgement = assessed.judgement
        if assessed.compared is not None and judgement in ICONS and ind.judgement in FORECAST:
            w.put(r, c_prog, Cell(VALUE, assessed.compared, ind.unit), num_format=num)
        else:
            ws.write_blank(r, c_prog, None, fmts.text)
        if judgement in ICONS:
            ws.write_number(r, c_icon, ICONS[judgement], fmts.icon)
        else:
            ws.write_blank(r, c_icon, None, fmts.icon)
        w.text(r, c_word, judgement or "ingen bedömning", fmts.text)
        w.text(r, c_per, PERIODICITY.get(ind.periodicity, ind.periodicity), fmts.text)
        comment = _comment(ctx, fig, ind, year_plan, target, result, assessed)
        if None in earlier:
            comment = f"{comment} {comparisons.reason(ctx, ind)}".strip()
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
        "Helårsprognos: det tal som bedöms när det inte är utfallet självt (antal: linjär, "
        "utfall × 12 / periodens månader; andelar under året och säsongsantal: efter förra årets "
        "förlopp, se Kommentar). Värde och mål jämförs avrundade som de visas. Förändring: "
        "procentenheter (p.e.) för andelar, procent för övriga. Bedömningsregeln står på bladet "
        "Om statistiken.",
    )


def _number_cell(value: float | None, ctx: ReportContext) -> Cell:
    return Cell(NOTHING, None, None) if value is None else Cell(VALUE, float(value), None)


def _comment(
    ctx: ReportContext,
    fig: Figures,
    ind: Entry,
    plan: Plan | None,
    target,
    result: Cell,
    assessed: targets.Assessment,
) -> str:
    notes = []
    if not ind.individual_based:
        notes.append("Inte individbaserad: redovisas inte per kön.")
    if plan is None:
        notes.append(f"{targets.no_plan_text(ctx.period.year)}: ej bedömt.")
    elif assessed.judgement is None:
        notes.append(f"Inget årsmål för {ctx.scope_label()}: ingen bedömning.")
    elif assessed.basis and result.kind != SUPPRESSED:
        notes.append(assessed.basis)
    if result.kind == SUPPRESSED:
        notes.append("Utfallet vilar på för få personer och visas inte.")
    elif not fig.has(ind.id):
        notes.append("Inget utfall för perioden.")
    return " ".join(notes)
