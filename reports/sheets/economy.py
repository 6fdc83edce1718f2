"""Sheet 6, Ekonomi: paid assistance against the budget, and per district."""

from __future__ import annotations

from xlsxwriter.utility import xl_range_abs

from etl import targets
from etl.settings import settings
from etl.vocabulary import ALL
from reports.layout import Line, Page
from reports.model import VALUE, Cell, Figures, ReportContext

BUDGET_ROW = "ekonomiskt_bistand"
"""The budget line compared with the payouts of the district (or unit) it covers."""


def write(w: Page, ctx: ReportContext, fig: Figures) -> None:
    months = ctx.period.months
    plan = settings().plan(ctx.period.year)
    budget = plan.budget if plan else None
    brow = budget.row(BUDGET_ROW) if budget else None
    scope = brow.scope if brow else ALL
    paid = fig.get("eb_utbetalt_kr", scope, "T")
    w.set_widths({0: 44, 1: 18, 2: 44})
    if brow is None:
        intro = "Utbetalt ekonomiskt bistånd för hela enheten."
    else:
        intro = (
            f"Utbetalt ekonomiskt bistånd för {ctx.scope_label(scope)}, den stadsdel budgetraden gäller, "
            f"mot budgeten ({budget.heading}, {brow.name}: kostnader). + i avvikelsen = lägre kostnad "
            "än budget."
        )
    row = w.note(2, intro)
    table_header = row + 1
    w.headers(table_header, ["Post", "Belopp", "Beräkning"], {0, 2})
    r = table_header + 1
    if brow is None:
        w.text(r, 0, "Utbetalt hittills i år", w.fmts.text)
        w.put(r, 1, paid, num_format='#,##0" kr"')
        w.text(r, 2, "utbetalt bistånd, biståndsmånader i perioden", w.fmts.text)
        r = w.note(r + 1, f"Ingen budget för {ctx.period.year} i verksamhetsplanen: ingen jämförelse.")
    else:
        scale = budget.scale
        annual = brow.kostnader * scale
        pro_rata = annual * months / 12
        value = paid.number
        prognosis = None if value is None else targets.prognosis(value, months)
        rows = [
            ("Budget helår, kostnader", Cell(VALUE, annual, "kr"), f"{brow.kostnader} {budget.unit}"),
            (
                "Budget helår, netto (för jämförelse)",
                Cell(VALUE, brow.netto * scale, "kr"),
                f"{brow.netto} {budget.unit}",
            ),
            (
                f"Budget för perioden ({months} månader)",
                Cell(VALUE, pro_rata, "kr"),
                f"kostnader × {months} / 12",
            ),
            ("Utbetalt hittills i år", paid, "utbetalt bistånd, biståndsmånader i perioden"),
            (
                "Avvikelse mot periodens budget",
                _calc(paid, None if value is None else pro_rata - value, "kr"),
                "periodens budget − utbetalt",
            ),
            (
                "Avvikelse i procent av periodens budget",
                _calc(paid, None if value is None else (pro_rata - value) / pro_rata * 100, "procent"),
                "avvikelse / periodens budget × 100",
            ),
            ("Helårsprognos (linjär)", _calc(paid, prognosis, "kr"), f"utbetalt × 12 / {months}"),
            (
                "Prognostiserad avvikelse mot helårsbudget",
                _calc(paid, None if prognosis is None else annual - prognosis, "kr"),
                "budget helår − helårsprognos",
            ),
        ]
        for i, (label, cell, how) in enumerate(rows, start=r):
            w.text(i, 0, label, w.fmts.text)
            w.put(i, 1, cell, num_format=None if cell.unit == "procent" else '#,##0" kr"')
            w.text(i, 2, how, w.fmts.text)
        r += len(rows)
        w.wb.define_name("Ekonomi_budget", f"='{w.name}'!{xl_range_abs(table_header, 0, r - 1, 2)}")
        w.note(r, f"Budgeten: {plan.title}.")
        r += 1
    r = w.subtitle(r + 1, "Utbetalt per stadsdel")
    w.grid(
        r,
        ["Omfattning", "Utbetalt hittills i år"],
        [
            Line((ctx.scope_label(s),), (fig.get("eb_utbetalt_kr", s, "T"),), bold=s == ALL)
            for s in [*ctx.districts, ALL]
        ],
        1,
    )
    w.ws.freeze_panes(table_header + 1, 0)


def _calc(source: Cell, value: float | None, unit: str) -> Cell:
    return Cell(VALUE, value, unit) if source.kind == VALUE else source
