"""Sheet 6, Ekonomi: every budget line of the year's plan against the outcome of its own scope.

As the ekonomikontroller follows up a budget: each line (ekonomiskt bistånd, handläggning,
arbetsmarknadsåtgärder) with the district or unit it covers; the period's budget distributed by
the previous year's monthly profile of the same outcome where the source has it (seasonal),
else linearly (and the sheet says which); deviation in kronor and per cent; a full-year
prognosis by the same profile; net = costs − income where the source has the income.
Outcomes: ekonomiskt bistånd = the payouts (eb_utbetalt_kr); the others = the ledger's booked
costs and income (ek_kostnad_*, ek_intakt_*, source table booked_cost).
"""

from __future__ import annotations

from dataclasses import dataclass

from xlsxwriter.utility import xl_range_abs

from etl.settings import BudgetRow, settings
from etl.vocabulary import ALL
from reports.layout import Line, Page
from reports.model import VALUE, Cell, Figures, ReportContext
from reports.sheets import comparisons

OUTCOMES = {
    "ekonomiskt_bistand": ("eb_utbetalt_kr", None),
    "handlaggningskostnader": ("ek_kostnad_handlaggning", "ek_intakt_handlaggning"),
    "arbetsmarknadsatgarder": ("ek_kostnad_arbetsmarknad", "ek_intakt_arbetsmarknad"),
}
"""Budget line id → (cost indicator, income indicator or None: income not in the source)."""
BOOKED = "ek_"
"""Outcomes from the ledger's booked costs (source table booked_cost, optional in the source)."""
KR = '#,##0" kr"'
PCT = '0.0" %"'
HEADERS = [
    "Budgetrad", "Omfattning", "Budget helår kostnader", "Periodens budget kostnader", "Utfall kostnader",
    "Avvikelse kr", "Avvikelse %", "Helårsprognos kostnader", "Prognos mot budget kr",
    "Budget helår netto", "Utfall netto", "Helårsprognos netto", "Periodens budget fördelad",
]  # fmt: skip


@dataclass(frozen=True)
class Share:
    """The part of a year's amount that falls in the period's months, and how it was found."""

    value: float
    how: str


def share(ctx: ReportContext, indicator_id: str | None, scope: str) -> Share:
    """Last year's same-period / full-year outcome when the source has both, else months / 12."""
    months = ctx.period.months
    if months == 12:
        return Share(1.0, "helår")
    if indicator_id is not None:
        last = comparisons.history(ctx, settings().catalogue.get(indicator_id), scope)
        if last.same_period and last.full_year and last.full_year > 0:
            return Share(last.same_period / last.full_year, f"efter {ctx.period.year - 1} års månader")
    return Share(months / 12, "linjärt")


def write(w: Page, ctx: ReportContext, fig: Figures) -> None:
    plan = settings().plan(ctx.period.year)
    budget = plan.budget if plan else None
    w.set_widths({0: 30, 1: 14, **{c: 15 for c in range(2, 12)}, 12: 22})
    w.columns(2, [(2, 6), (7, 8), (9, 11), (12, 12)])  # before the notes: they wrap within A:B
    if budget is None:
        w.text(2, 0, "Utbetalt ekonomiskt bistånd per stadsdel.", w.fmts.note)
        r = w.note(3, f"Ingen budget för {ctx.period.year} i verksamhetsplanen: ingen jämförelse.")
        _paid(w, ctx, fig, r + 1)
        return
    r = w.note(
        2,
        f"{budget.heading}: varje budgetrad i planen jämförs med utfallet för samma omfattning. "
        "Avvikelse = periodens budget − utfall (+ = lägre kostnad än budget). Periodens budget "
        "fördelas efter förra årets utfall per månad där källan har det, annars linjärt. Netto = "
        "kostnader − intäkter.",
    )
    header = r + 1
    w.headers(header, HEADERS, {0, 1, 12})
    r = header + 1
    notes = []
    for row in budget.rows:
        note = _line(w, ctx, fig, r, row, budget.scale)
        if note:
            notes.append(note)
        r += 1
    w.wb.define_name("Ekonomi_budget", f"='{w.name}'!{xl_range_abs(header, 0, r - 1, len(HEADERS) - 1)}")
    total = budget.total
    costs, net = _mnkr(total.kostnader * budget.scale), _mnkr(total.netto * budget.scale)
    r = w.note(r, f"Budget totalt ({ctx.scope_label(total.scope)}): kostnader {costs}, netto {net}.")
    for note in notes:
        r = w.note(r, note)
    w.head(header, header, 1)
    _paid(w, ctx, fig, r + 1)


def _line(w: Page, ctx: ReportContext, fig: Figures, r: int, row: BudgetRow, scale: float) -> str | None:
    """One budget line; returns a note for the sheet when the line cannot be followed up fully."""
    cost_id, income_id = OUTCOMES.get(row.id, (None, None))
    if row.varav_av:
        cost_id = income_id = None  # a "varav" part is not booked separately
    w.text(r, 0, row.name, w.fmts.text)
    w.text(r, 1, ctx.scope_label(row.scope), w.fmts.text)
    annual_cost, annual_net = row.kostnader * scale, row.netto * scale
    w.put(r, 2, Cell(VALUE, annual_cost, "kr"), num_format=KR)
    w.put(r, 9, Cell(VALUE, annual_net, "kr"), num_format=KR)
    if cost_id is None or not fig.has(cost_id):
        for c in (3, 4, 5, 6, 7, 8, 10, 11):
            w.text(r, c, comparisons.MISSING, w.fmts.text)
        w.text(r, 12, "", w.fmts.text)
        if cost_id is not None and cost_id.startswith(BOOKED):  # optional source table missing or empty
            return f"{row.name}: {comparisons.MISSING} – bokförda kostnader saknas i källan."
        return f"{row.name}: utfallet finns inte i källan och följs inte upp här."
    cost = fig.get(cost_id, row.scope, "T")
    part = share(ctx, cost_id, row.scope)
    period_cost = annual_cost * part.value
    w.put(r, 3, Cell(VALUE, period_cost, "kr"), num_format=KR)
    w.put(r, 4, cost, num_format=KR)
    paid = cost.number
    w.put(r, 5, _calc(cost, None if paid is None else period_cost - paid), num_format=KR)
    pct = None if paid is None else (period_cost - paid) / period_cost * 100
    w.put(r, 6, _calc(cost, pct), num_format=PCT)
    prog_cost = None if paid is None else paid / part.value
    w.put(r, 7, _calc(cost, prog_cost), num_format=KR)
    w.put(r, 8, _calc(cost, None if prog_cost is None else annual_cost - prog_cost), num_format=KR)
    w.text(r, 12, part.how, w.fmts.text)
    if income_id is None or not fig.has(income_id):
        w.text(r, 10, comparisons.MISSING, w.fmts.text)
        w.text(r, 11, comparisons.MISSING, w.fmts.text)
        return f"{row.name}: intäkterna finns inte i källan; raden följs upp på kostnaderna."
    income = fig.get(income_id, row.scope, "T")
    earned = income.number
    w.put(r, 10, _calc(income, None if paid is None or earned is None else paid - earned), num_format=KR)
    income_part = share(ctx, income_id, row.scope)
    prog_income = None if earned is None else earned / income_part.value
    net = None if prog_cost is None or prog_income is None else prog_cost - prog_income
    w.put(r, 11, _calc(income, net), num_format=KR)
    return None


def _paid(w: Page, ctx: ReportContext, fig: Figures, r: int) -> None:
    r = w.subtitle(r, "Utbetalt ekonomiskt bistånd per stadsdel")
    w.grid(
        r,
        ["Omfattning", "Utbetalt hittills i år"],
        [
            Line((ctx.scope_label(s),), (fig.get("eb_utbetalt_kr", s, "T"),), bold=s == ALL)
            for s in [*ctx.districts, ALL]
        ],
        1,
    )


def _mnkr(kr: float) -> str:
    return f"{kr / 1e6:.1f} mnkr".replace(".", ",")


def _calc(source: Cell, value: float | None) -> Cell:
    return Cell(VALUE, value, "kr") if source.kind == VALUE and value is not None else source
