"""Sheet 1, Sammanfattning: the plan's indicators with targets, outcome and judgement."""

from __future__ import annotations

from dataclasses import dataclass

from xlsxwriter.utility import xl_range_abs

from etl import targets
from etl.settings import Entry, Plan, settings
from etl.vocabulary import ALL, SEXES
from reports.judgements import Judgements
from reports.layout import Page, plan_format, safe_text
from reports.model import NOTHING, PERIODICITY, SUPPRESSED, VALUE, Cell, Figures, ReportContext
from reports.sheets import activities, comparisons, manager_input, summary_charts
from reports.sheets.common import SEX_COLUMNS

ICONS = {targets.UPPFYLLT: 3, targets.DELVIS: 2, targets.EJ_UPPFYLLT: 1}
"""Traffic-light value per judgement (3 green, 2 yellow, 1 red); ej mätt and no target: no icon."""
ICON_RULE = {
    "type": "icon_set",
    "icon_style": "3_traffic_lights",
    "icons_only": True,
    "icons": [
        {"criteria": ">=", "type": "number", "value": 3},
        {"criteria": ">=", "type": "number", "value": 2},
    ],
}
FORECAST = ("count", "annual_share", "seasonal_count")
"""Judgement kinds that judge a helårsprognos (shown in its column), not the outcome itself."""


def write(w: Page, ctx: ReportContext, fig: Figures) -> None:
    ws, fmts = w.ws, w.fmts
    district = ctx.scope != ALL
    s = ctx.suppressed_symbol

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
    widths.update({c: 10 for c in range(c_out, c_change)} | {c_note: 42})
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
    cols = Columns(c_out, c_unit if district else None, c_cmp, c_change, c_prog, c_note, compare)
    judged = []
    for i, ind in enumerate(goals):
        r = first + i
        w.text(r, 0, ind.goal.kf_inriktningsmal, fmts.text)
        comment, assessed = _row(w, ctx, fig, r, ind, year_plan, ctx.scope, cols)
        judged.append((ind, assessed))
        w.text(r, c_per, PERIODICITY.get(ind.periodicity, ind.periodicity), fmts.text)
        w.fit_row(
            r, [(ind.goal.kf_inriktningsmal, widths[0]), (ind.name, widths[1]), (comment, widths[c_note])]
        )
    last = first + len(goals) - 1
    goal_rows = [(first + i, g.id) for i, g in enumerate(goals)]
    manager_input.write(w, ctx, group_row, header_row, goal_rows, c_note + 1)
    ws.conditional_format(first, c_icon, last, c_icon, ICON_RULE)
    w.wb.define_name("Sammanfattning_utfall", f"='{w.name}'!{xl_range_abs(header_row, 0, last, c_note)}")
    w.head(group_row, header_row, 2)
    groups = [
        (2, 3),
        (c_out, c_cmp - 1),
        (c_cmp, c_change),
        (c_prog, c_word),
        (c_per, c_per),
        (c_note, c_note),
    ]
    if manager_input.wanted(ctx):  # the manager's Analys and Åtgärder print as a part of their own
        groups.append((c_note + 1, c_note + 2))
    w.columns(2, groups)
    w.note(
        2,
        f"{s} = uppgiften visas inte (för få personer). {ctx.nothing_symbol} = inget att redovisa. "
        "Måluppfyllelse: grön = uppfyllt, gul = delvis uppfyllt, röd = ej uppfyllt.",
    )
    after = w.note(
        last + 2,
        "Helårsprognos: det tal som bedöms när det inte är utfallet självt (antal: linjär, "
        "utfall × 12 / periodens månader; andelar under året och säsongsantal: efter förra årets "
        "förlopp, se Kommentar). Värde och mål jämförs avrundade som de visas. Förändring: "
        "procentenheter (p.e.) för andelar, procent för övriga. Bedömningsregeln står på bladet "
        "Om statistiken.",
    )
    # The charts, the district view and the activities each start a printed page of their own.
    w.breaks.append(after + 1)
    after = summary_charts.write(w, ctx, fig, after + 1, first, judged)
    if not district:
        w.breaks.append(after + 1)
        after = _districts(w, ctx, fig, after + 1, year_plan, cols, widths)
    if year_plan and year_plan.activities:
        w.breaks.append(after + 1)
    activities.write(w, year_plan, after + 1)


@dataclass(frozen=True)
class Columns:
    """Where a row's parts go (0-based columns)."""

    outcome: int
    unit: int | None
    """The unit's outcome beside a district's (district workbooks only)."""
    compare: int
    change: int
    prognosis: int
    note: int
    periods: list[tuple[str, str]]

    @property
    def icon(self) -> int:
        return self.prognosis + 1

    @property
    def word(self) -> int:
        return self.prognosis + 2


def _row(
    w: Page,
    ctx: ReportContext,
    fig: Figures,
    r: int,
    ind: Entry,
    plan: Plan | None,
    scope: str,
    cols: Columns,
) -> tuple[str, targets.Assessment]:
    """One indicator for ``scope`` from column 1 (name) to the comment; returns the comment and
    the judgement."""
    ws, fmts = w.ws, w.fmts
    num = plan_format(ind, plan)
    planned = plan.indicator(ind.id) if plan else None
    w.text(r, 1, ind.name, fmts.text)
    target = planned.target(scope) if planned else None
    if ind.trend_word and planned:
        w.text(r, 2, ind.trend_word, fmts.text)
    else:
        w.put(r, 2, _number_cell(target, ctx), num_format=num)
    if planned and planned.kf_arsmal is None and planned.kf_arsmal_note:
        w.text(r, 3, planned.kf_arsmal_note, fmts.text)
    else:
        w.put(r, 3, _number_cell(planned.kf_arsmal if planned else None, ctx), num_format=num)
    outcomes = ((cols.outcome, scope), (cols.unit, ALL)) if cols.unit else ((cols.outcome, scope),)
    for base, where in outcomes:
        for j, sex in enumerate(SEXES):
            cell = fig.get(ind.id, where, sex) if sex in ind.sexes else None
            w.put(r, base + j, cell, bold=where == ALL and cols.unit is not None, num_format=num)
    result = fig.get(ind.id, scope, "T")
    earlier = [comparisons.cell(ctx, ind, period, scope) for _, period in cols.periods]
    for j, found in enumerate(earlier):
        if found is None:
            w.text(r, cols.compare + j, comparisons.MISSING, fmts.text)
        else:
            w.put(r, cols.compare + j, found, num_format=num)
    decimals = targets.shown_decimals(ind, plan)
    w.text(r, cols.change, comparisons.change(ind, result, earlier[-1], decimals), fmts.text)
    assessed = Judgements.of(ctx).assess(ind, scope)  # the e-mail reads the same judgement
    judgement = assessed.judgement
    if assessed.compared is not None and judgement in ICONS and ind.judgement in FORECAST:
        w.put(r, cols.prognosis, Cell(VALUE, assessed.compared, ind.unit), num_format=num)
    else:
        ws.write_blank(r, cols.prognosis, None, fmts.text)
    if judgement in ICONS:
        ws.write_number(r, cols.icon, ICONS[judgement], fmts.icon)
    else:
        ws.write_blank(r, cols.icon, None, fmts.icon)
    w.text(r, cols.word, judgement or "ingen bedömning", fmts.text)
    comment = _comment(ctx, fig, ind, plan, scope, result, assessed)
    if None in earlier:
        comment = f"{comment} {comparisons.reason(ctx, ind)}".strip()
    w.text(r, cols.note, comment, fmts.text)
    return comment, assessed


def _districts(
    w: Page, ctx: ReportContext, fig: Figures, top: int, plan: Plan | None, cols: Columns, widths: dict
) -> int:
    """The unit workbook's district view below the table: each district's årsmål, outcome and
    judgement, indicator by indicator (the enhetschef does not receive the district workbooks).
    Returns the first row after it."""
    rows = [
        e for e in settings().catalogue.goals()
        if plan and any(plan.target(e.id, d) is not None for d in ctx.districts)
    ]  # fmt: skip
    if not rows:
        return top
    ws, fmts = w.ws, w.fmts
    w.text(top, 0, "Stadsdelarnas årsmål, utfall och bedömning", fmts.subtitle)
    header = top + 1
    labels = {0: "Stadsdel", 1: "Indikator", 2: "Årsmål", 3: "KF:s årsmål"}
    labels |= {cols.outcome + j: h for j, h in enumerate(SEX_COLUMNS)}
    labels |= {cols.compare + j: h for j, (h, _) in enumerate(cols.periods)}
    labels |= {cols.change: f"Förändring mot {cols.periods[-1][0]}", cols.prognosis: "Helårsprognos"}
    labels |= {cols.icon: "Måluppfyllelse", cols.word: "Bedömning", cols.note: "Kommentar"}
    w.keep(header)
    for c, label in labels.items():
        w.text(header, c, label, fmts.header if c in (0, 1, cols.word, cols.note) else fmts.header_right)
    r = header + 1
    for ind in rows:
        for code in ctx.districts:
            w.text(r, 0, ctx.scope_label(code), fmts.text)
            comment, _ = _row(w, ctx, fig, r, ind, plan, code, cols)
            w.fit_row(r, [(ind.name, widths[1]), (comment, widths[cols.note])])
            r += 1
    ws.conditional_format(header + 1, cols.icon, r - 1, cols.icon, ICON_RULE)
    return r + 1


def _number_cell(value: float | None, ctx: ReportContext) -> Cell:
    return Cell(NOTHING, None, None) if value is None else Cell(VALUE, float(value), None)


def _comment(
    ctx: ReportContext,
    fig: Figures,
    ind: Entry,
    plan: Plan | None,
    scope: str,
    result: Cell,
    assessed: targets.Assessment,
) -> str:
    notes = []
    if not ind.individual_based:
        notes.append("Inte individbaserad: redovisas inte per kön.")
    if plan is None:
        notes.append(f"{targets.no_plan_text(ctx.period.year)}: ej bedömt.")
    elif assessed.judgement is None:
        notes.append(f"Inget årsmål för {ctx.scope_label(scope)}: ingen bedömning.")
    elif assessed.basis and result.kind != SUPPRESSED:
        notes.append(assessed.basis)
    if result.kind == SUPPRESSED:
        notes.append("Utfallet vilar på för få personer och visas inte.")
    elif not fig.has(ind.id):
        notes.append("Inget utfall för perioden.")
    return " ".join(notes)
