"""Sheet 3 of the VB workbook, Diagram: per plan indicator its tertials against last year and,
for individual-based indicators, women and men side by side.

Chart data sit in hidden columns from ``CHART_DATA_COL`` on the same rows as the indicator's
block; only shown (published, not suppressed) values are written, so a suppressed or missing
figure is a gap in the chart, never a zero or a hidden number.
"""

from __future__ import annotations

from etl.settings import Entry, settings
from reports import printing
from reports.layout import CHART_DATA_COL, Page
from reports.vb.goals import plan_entries
from reports.vb.model import PREVIOUS, STAGES, VbInputs

CATEGORIES = ("T1", "T2", "Helår")
BLOCK_ROWS = 15
"""Rows per indicator: its title and two charts side by side (two indicators fit a printed page)."""
CHART_PX = (480, 255)
"""Width and height of each chart in pixels: two side by side on a landscape page."""
SECOND_CHART_COL = 8
DATA_COLUMNS = 5
"""Hidden columns per block: category, this year, last year, women, men."""
COLORS = {"year": "#2F5597", "previous": "#A6A6A6", "K": "#C55A11", "M": "#548235"}


def _data(w: Page, inputs: VbInputs, ind: Entry, top: int) -> None:
    """The block's chart data: categories, then T per stage this year and last, then K and M."""
    ws, c, year = w.ws, CHART_DATA_COL, inputs.year
    for j, name in enumerate(["Period", str(year), str(year - 1), "Kvinnor", "Män"]):
        ws.write_string(top, c + j, name)
    for i, label in enumerate(CATEGORIES, start=top + 1):
        ws.write_string(i, c, label)
    series = [
        [inputs.stage(s).cell(ind) for s in STAGES],
        [inputs.stage(f"{PREVIOUS}_{s}").cell(ind) for s in STAGES],
        [inputs.stage(s).cell(ind, sex="K") for s in STAGES],
        [inputs.stage(s).cell(ind, sex="M") for s in STAGES],
    ]
    for j, cells in enumerate(series, start=1):
        for i, cell in enumerate(cells):  # one by one: a missing stage leaves its own gap only
            if cell is not None:
                w.chart_numbers(top + 1 + i, c + j, [cell])


def _chart(w: Page, title: str, top: int, columns: list[tuple[int, str]], unit: str):
    chart = w.wb.add_chart({"type": "column"})
    c = CHART_DATA_COL
    for j, color in columns:
        chart.add_series(
            {
                "name": [w.name, top, c + j],
                "categories": [w.name, top + 1, c, top + len(CATEGORIES), c],
                "values": [w.name, top + 1, c + j, top + len(CATEGORIES), c + j],
                "fill": {"color": color},
                "gap": 80,
            }
        )
    printing.chart_fonts(chart, f"{title} ({unit})")
    chart.set_y_axis(printing.axis({"min": 0}))
    chart.set_x_axis(printing.axis({}))
    chart.show_hidden_data()
    return chart


def write_charts(w: Page, inputs: VbInputs) -> None:
    year = inputs.year
    w.set_widths({c: 8.43 for c in range(2 * SECOND_CHART_COL)})
    w.note(
        2,
        f"Per indikator: utfallet år till och med T1, T2 och helår {year} mot {year - 1} (totalt), och "
        "kvinnor och män bredvid varandra för individbaserade indikatorer. Uppgifter som inte visas "
        "(för få personer) eller saknas är luckor i diagrammen.",
    )
    entries = plan_entries(settings().plan(year))
    for i, ind in enumerate(entries):
        top = 4 + i * BLOCK_ROWS
        w.text(top, 0, ind.name, w.fmts.subtitle)
        _data(w, inputs, ind, top)
        unit = ind.unit
        pair = [(1, COLORS["year"]), (2, COLORS["previous"])]
        totals = _chart(w, f"{year} mot {year - 1} (totalt)", top, pair, unit)
        w.chart(totals, top + 1, 0, *CHART_PX)
        if "K" in ind.sexes and "M" in ind.sexes:
            sexes = _chart(w, f"Kvinnor och män {year}", top, [(3, COLORS["K"]), (4, COLORS["M"])], unit)
            w.chart(sexes, top + 1, SECOND_CHART_COL, *CHART_PX)
        else:
            w.text(top + 1, SECOND_CHART_COL, "Inte individbaserad: redovisas inte per kön.", w.fmts.note)
        w.blocks.append((top, top + BLOCK_ROWS - 1))  # the indicator's name stays with its charts
    w.head(0, 0)  # the sheet's title on every printed page of diagrams
    w.hide_chart_data(DATA_COLUMNS)
