"""The charts on Sammanfattning: each goal's outcome against its årsmål, and this year's
payouts per month against last year's.

The bars are the figure judged (the outcome, or the helårsprognos where that is what is judged)
in per cent of the årsmål it is judged against, coloured as the traffic lights beside the table,
so a goal that should fall reads as well as one that should rise. Goals without a target or a
figure that may be shown are left out (a gap, never 0).
"""

from __future__ import annotations

import math

from etl import targets
from etl.settings import Entry
from reports import printing
from reports.formats import swedish
from reports.layout import CHART_DATA_COL, Page, safe_text
from reports.model import ReportContext
from reports.sheets.assistance import monthly_payouts, payout_chart
from reports.swedish import MONTHS

NAMES, SHARES = CHART_DATA_COL + 10, CHART_DATA_COL + 11
"""Hidden columns of the goal chart's data (after those of the other charts on the sheet)."""
MONTH_NAMES, PAYOUTS = CHART_DATA_COL + 12, CHART_DATA_COL + 13
"""Hidden columns of the payout chart: month names, then this year's and last year's payouts."""
COLOURS = {targets.UPPFYLLT: "#70AD47", targets.DELVIS: "#FFC000", targets.EJ_UPPFYLLT: "#C00000"}
"""The traffic lights' colours; a bar without a judgement is grey."""
GREY = "#A6A6A6"
GOAL_WIDTH, BAR_PX, GOAL_EXTRA_PX = 900, 36, 60
"""Goal chart: width, height per goal and for title and axis (pixels)."""
LABEL_CHARS = 50
"""A goal's name in the chart is cut after a word at about this length (the table has it whole)."""
PAYOUT_WIDTH, PAYOUT_HEIGHT = 620, 280
ROW_PX = 20
LABEL_ROOM = 1.3
"""The value axis runs this far past the longest bar, so its value label fits beside it."""


def short_name(name: str) -> str:
    """The name, or its first words and "…" when longer than ``LABEL_CHARS``."""
    if len(name) <= LABEL_CHARS:
        return name
    return name[: LABEL_CHARS - 2].rsplit(" ", 1)[0] + " …"


def share_of_target(assessed: targets.Assessment) -> float | None:
    """The judged figure in per cent of what it was judged against; None when there is none."""
    if assessed.compared is None or not assessed.target:
        return None
    return assessed.compared / assessed.target * 100


def write(
    w: Page, ctx: ReportContext, fig, top: int, data_row: int, goals: list[tuple[Entry, targets.Assessment]]
) -> int:
    """The two charts from row ``top`` (their data in hidden rows from ``data_row``); returns
    the first row after them."""
    row = w.subtitle(top, "Diagram: utfall mot årsmål och utbetalt bistånd mot förra året")
    height = BAR_PX * len(goals) + GOAL_EXTRA_PX
    # A sheet printed in parts repeats its label columns on every part: the goal chart stays
    # within them (so it prints whole, never clipped) and the payout chart goes beside it.
    beside = bool(w.label_cols and w.column_plan().col_breaks)
    width = min(GOAL_WIDTH, w.px_width(0, w.label_cols)) if beside else GOAL_WIDTH
    w.chart(goal_chart(w, data_row, goals), row, 0, width, height)
    year = ctx.period.year
    months = [MONTHS[m] for m in range(ctx.period.months)]
    for i, month in enumerate(months):
        w.ws.write_string(data_row + i, MONTH_NAMES, month)
    w.chart_numbers(data_row, PAYOUTS, monthly_payouts(ctx, fig, ctx.scope, year))
    w.chart_numbers(data_row, PAYOUTS + 1, monthly_payouts(ctx, fig, ctx.scope, year - 1))
    rows = (data_row, data_row + len(months) - 1)
    chart = payout_chart(w, rows, MONTH_NAMES, PAYOUTS, year, ctx.scope_label())
    below = row + -(-height // ROW_PX) + 1
    if beside:
        w.chart(chart, row, w.label_cols, PAYOUT_WIDTH, PAYOUT_HEIGHT)
    else:
        w.chart(chart, below, 0, PAYOUT_WIDTH, PAYOUT_HEIGHT)
        below += -(-PAYOUT_HEIGHT // ROW_PX) + 1
    w.hide_chart_data(PAYOUTS + 2 - CHART_DATA_COL)
    return w.note(
        below,
        "Staplarna: det bedömda värdet (utfallet eller helårsprognosen) i procent av årsmålet (för "
        "mål som jämförs med förra året: av förra årets värde); 100 % = målet, färgen = bedömningen. "
        "Mål utan årsmål eller utan värde som får visas saknas. Långa namn är förkortade (…).",
    )


def goal_chart(w: Page, data_row: int, goals: list[tuple[Entry, targets.Assessment]]):
    """Horizontal bars, one per goal in the table's order, top to bottom."""
    points = []
    for i, (entry, assessed) in enumerate(goals):
        w.ws.write_string(data_row + i, NAMES, safe_text(short_name(entry.name)))
        share = share_of_target(assessed)
        if share is not None:
            w.ws.write_number(data_row + i, SHARES, share)
        points.append({"fill": {"color": COLOURS.get(assessed.judgement, GREY)}})
    last = data_row + len(goals) - 1
    chart = w.wb.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": "Procent av årsmålet",
            "categories": [w.name, data_row, NAMES, last, NAMES],
            "values": [w.name, data_row, SHARES, last, SHARES],
            "points": points,
            "data_labels": {
                "value": True, "num_format": swedish('0" %"'), "font": {"size": printing.CHART_FONT_PT}
            },
        }
    )
    printing.chart_fonts(chart, "Utfall i procent av årsmålet")
    chart.set_legend({"none": True})
    # The bars carry their values; the value axis only its gridlines (its labels crowd a narrow chart).
    shares = [x for x in (share_of_target(a) for _, a in goals) if x is not None]
    top = math.ceil(max(shares, default=100) * LABEL_ROOM / 10) * 10
    chart.set_x_axis({"min": 0, "max": top, "major_gridlines": {"visible": True}, "label_position": "none"})
    chart.set_y_axis(printing.axis({"reverse": True}))
    chart.show_hidden_data()
    chart.show_blanks_as("gap")
    return chart
