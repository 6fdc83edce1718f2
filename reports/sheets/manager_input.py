"""The manager's own words on Sammanfattning (T1 and T2): two unlocked columns, Analys and
Åtgärder, on each goal row; every sheet protected (no password) so that only those cells can be
typed in; and the custom document properties that let etl/comments/ recognise the returned file.
"""

from __future__ import annotations

from etl.comments import identity
from etl.vocabulary import ALL
from reports.layout import Page
from reports.model import ReportContext

WIDTH = 40
"""Characters per comment column: room for a few lines of text per goal."""
FILL = "#FFF2CC"
"""Light yellow: where the manager writes."""
PROTECT_OPTIONS = {
    "select_locked_cells": True,
    "select_unlocked_cells": True,
    "format_columns": True,
    "format_rows": True,
}
"""Protected, but columns and rows may be resized (reading and printing need no password)."""
GROUP = "Chefens analys"


def wanted(ctx: ReportContext) -> bool:
    return ctx.period.tertial in identity.TERTIALS


def write(w: Page, ctx: ReportContext, group_row: int, header_row: int, rows: list[tuple[int, str]],
          col: int) -> None:  # fmt: skip
    """Headers in ``group_row``/``header_row`` and an empty unlocked cell per goal row and
    column from ``col``; ``rows`` = (0-based row, indicator id)."""
    if not wanted(ctx):
        return
    ws, fmts = w.ws, w.fmts
    w.set_widths({col: WIDTH, col + 1: WIDTH})
    ws.merge_range(group_row, col, group_row, col + 1, GROUP, fmts.group)
    w.text(header_row, col, identity.ANALYS, fmts.header)
    w.text(header_row, col + 1, identity.ATGARDER, fmts.header)
    open_cell = w.wb.add_format(
        {"locked": False, "text_wrap": True, "valign": "top", "border": 1, "pattern": 1, "bg_color": FILL}
    )
    for row, _ in rows:
        ws.write_blank(row, col, None, open_cell)
        ws.write_blank(row, col + 1, None, open_cell)
    properties(w, ctx, rows)


def properties(w: Page, ctx: ReportContext, rows: list[tuple[int, str]]) -> None:
    """Package id, figures hash and the goal of each comment row, as custom document properties."""
    shown = identity.shown_scopes(ctx.scope, ctx.districts, ALL)
    values = {
        identity.YEAR: str(ctx.period.year),
        identity.TERTIAL: str(ctx.period.tertial),
        identity.SCOPE: ctx.scope,
        identity.RUN_ID: ctx.run_id,
        identity.FIGURES: identity.figures_hash(ctx.published, str(ctx.period), ctx.scope, shown),
    }
    for name, value in values.items():
        w.wb.set_custom_property(name, value)
    for row, indicator_id in rows:
        w.wb.set_custom_property(f"{identity.ROW_PREFIX}{row + 1}", indicator_id)


def protect(wb, ctx: ReportContext, name: str) -> None:
    """Protect every sheet (T1 and T2 only) and record the workbook's own file name."""
    if not wanted(ctx):
        return
    wb.set_custom_property(identity.WORKBOOK, name)
    for ws in wb.worksheets():
        ws.protect("", PROTECT_OPTIONS)
