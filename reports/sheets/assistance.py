"""Sheet 2, Ekonomiskt bistånd: households, persons and payments per district, sex and month."""

from __future__ import annotations

from xlsxwriter.utility import xl_range_abs

from etl.vocabulary import ALL, SEXES
from reports import printing
from reports.labels import HOUSEHOLD_TYPES
from reports.layout import CHART_DATA_COL, Line, Page
from reports.model import Cell, Figures, ReportContext
from reports.sheets import comparisons
from reports.sheets.common import SEX_COLUMNS, repeat_title, sex_items, sex_lines
from reports.swedish import MONTHS

SHEET = "Ekonomiskt bistånd"
CHART_WIDTH, CHART_HEIGHT = 620, 300
"""The payout chart, in pixels, below its table."""


def monthly_payouts(ctx: ReportContext, fig: Figures, scope: str, year: int) -> list[Cell]:
    """Payouts (total) per month of ``year`` for the months of the period (January onward)."""
    return [
        fig.get(f"eb_utbetalt_kr_manad_{year}{m:02d}", scope, "T") for m in range(1, ctx.period.months + 1)
    ]


def payout_chart(w: Page, rows: tuple[int, int], month_col: int, data_col: int, year: int, label: str):
    """This year's payouts per month as columns, last year's as a line: month names in
    ``month_col``, this year's and last year's numbers in ``data_col`` and the column after."""
    first, last = rows
    chart = w.wb.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": f"{year}",
            "categories": [w.name, first, month_col, last, month_col],
            "values": [w.name, first, data_col, last, data_col],
            "fill": {"color": "#2F5597"},
        }
    )
    line = w.wb.add_chart({"type": "line"})
    line.add_series(
        {
            "name": f"{year - 1}",
            "categories": [w.name, first, month_col, last, month_col],
            "values": [w.name, first, data_col + 1, last, data_col + 1],
            "line": {"color": "#C55A11", "width": 2.25},
            "marker": {"type": "circle"},
        }
    )
    chart.combine(line)
    printing.chart_fonts(chart, f"Utbetalt per månad, kr – {label}")
    chart.set_x_axis(printing.axis({}))
    chart.set_y_axis(printing.axis({"num_format": "#,##0", "min": 0}))
    chart.show_hidden_data()
    chart.show_blanks_as("gap")
    return chart


def write(w: Page, ctx: ReportContext, fig: Figures) -> None:
    w.set_widths({0: 46, 1: 16, **{c: 13 for c in range(2, 8)}})
    row = w.subtitle(3, "Hushåll, personer och utbetalt bistånd per stadsdel och kön")
    header = row
    row = w.grid(row, ["Indikator", "Omfattning", *SEX_COLUMNS], sex_lines(ctx, fig, SHEET, "oversikt"), 2)
    comparisons.beside(w, ctx, fig, header, 2 + len(SEX_COLUMNS), sex_items(ctx, SHEET, "oversikt"))
    first_table_header = 4
    row = w.note(
        row, "Hushåll och belopp redovisas efter registerledarens kön, personer efter sitt eget kön."
    )

    row = w.subtitle(row + 1, "Hushåll och personer efter hushållstyp")
    headers = ["Hushållstyp", "Omfattning"] + [f"Hushåll {h.lower()}" for h in SEX_COLUMNS]
    headers += [f"Personer {h.lower()}" for h in SEX_COLUMNS]
    lines = [
        Line(
            (f"{code} {label}", ctx.scope_label(s)),
            tuple(fig.get(f"eb_{what}_typ_{code}", s, x) for what in ("hushall", "mottagare") for x in SEXES),
            bold=s == ALL,
        )
        for code, label in HOUSEHOLD_TYPES.items()
        for s in ctx.shown_scopes
    ]
    row = w.grid(row, headers, lines, 2)
    row = w.note(row, "Hushållstyp enligt Socialstyrelsens register (det finns ingen typ 2).")

    row = w.subtitle(row + 1, "Utbetalt ekonomiskt bistånd per månad, i år och samma månader i fjol")
    year = ctx.period.year
    series_scopes = [ctx.scope] + ([ALL] if ctx.scope != ALL else [])
    series = [(s, y) for s in series_scopes for y in (year, year - 1)]
    headers = ["Månad"] + [f"{ctx.scope_label(s)} {y}" for s, y in series]
    months = range(1, ctx.period.months + 1)
    grid = {(s, y): monthly_payouts(ctx, fig, s, y) for s, y in series}
    lines = [Line((MONTHS[m - 1],), tuple(grid[k][i] for k in series)) for i, m in enumerate(months)]
    header = row
    row = w.grid(row, headers, lines, 1)
    for j, key in enumerate(series[:2]):
        w.chart_numbers(header + 1, CHART_DATA_COL + j, grid[key])
    w.hide_chart_data(2)
    w.wb.define_name(
        "Utbetalt_per_manad", f"='{w.name}'!{xl_range_abs(header, 0, row - 1, len(headers) - 1)}"
    )

    chart = payout_chart(w, (header + 1, header + len(lines)), 0, CHART_DATA_COL, year, ctx.scope_label())
    row = w.note(row, "Månader som inte får visas (..) saknas i diagrammet.")
    w.chart(chart, row + 1, 0, CHART_WIDTH, CHART_HEIGHT)
    repeat_title(w, first_table_header)
