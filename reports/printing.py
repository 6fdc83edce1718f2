"""How a worksheet prints: landscape A4, text never below 8 pt, headers on every page.

A sheet is fitted to one page wide only when the scale that takes keeps body text (Calibri 11)
at 8 pt or more; a wider sheet prints at that smallest scale and its columns break between the
column groups the sheet names, with its label columns repeated on every page. Row breaks keep a
table (or chart) together with its header where it fits on a page. xlsxwriter cannot measure
text, so sizes are estimated as Excel converts them (a column ``w`` characters wide is about
``7w + 5`` pixels, a pixel 0.75 pt), on the cautious side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from xlsxwriter.worksheet import Worksheet

from reports.formats import swedish

A4 = 9
PAGE_PT = (841.89, 595.28)
"""A4 landscape, width × height in points."""
MARGINS_IN = {"left": 0.5, "right": 0.5, "top": 0.75, "bottom": 0.75}
PT_PER_IN = 72.0
PT_PER_PX = 0.75
BODY_PT = 11.0
"""The workbook's body text (Calibri 11, xlsxwriter's default)."""
MIN_PT = 8.0
"""The smallest text on paper."""
MIN_SCALE = math.ceil(100 * MIN_PT / BODY_PT / 5) * 5
"""Smallest print scale in per cent (75: 11 pt prints at 8.25 pt), rounded up to a step of 5."""
CHART_FONT_PT = BODY_PT
"""Chart titles, axes and legends: as large as the body text, so they too stay ≥ 8 pt on paper."""
ROW_PT = 15.0
PAGE_SLACK = 0.95
"""Share of a page's height (and of a chart's room) the plan uses: sizes are estimates."""
CHART_OFFSET_PX = 4
"""A chart sits this far below its row's top, so a page break at that row does not cut its edge."""
PX_PER_CHAR = 7.5
"""Excel draws 7 pixels per character of column width (Calibri 11); LibreOffice with the
metric-compatible Carlito a little more."""
KEEP_ROWS = 4
"""A table starts on a new page when its header and this many rows do not fit on the current one."""


def column_pt(width: float) -> float:
    """Points on paper (at 100 %) of a column ``width`` characters wide: Excel's 7 pixels per
    character plus 5, counted at ``PX_PER_CHAR`` so a sheet measured a little wide still fits."""
    return (width * PX_PER_CHAR + 5) * PT_PER_PX


def printable_pt() -> tuple[float, float]:
    """Width and height inside the margins of a landscape A4 page, in points."""
    w = PAGE_PT[0] - (MARGINS_IN["left"] + MARGINS_IN["right"]) * PT_PER_IN
    h = PAGE_PT[1] - (MARGINS_IN["top"] + MARGINS_IN["bottom"]) * PT_PER_IN
    return w, h


def page_setup(ws: Worksheet, header: str, footer: str) -> None:
    """Landscape A4 with the margins the plan assumes, and the page header and footer."""
    ws.set_landscape()
    ws.set_paper(A4)
    ws.set_margins(**MARGINS_IN)
    ws.set_header(header)
    ws.set_footer(footer)


def chart_fonts(chart, title: str) -> None:
    """Title, axes and legend of a chart at the body text size (the default 10 pt would print
    below 8 pt at the smallest scale)."""
    font = {"size": CHART_FONT_PT}
    chart.set_title({"name": title, "name_font": {"size": CHART_FONT_PT, "bold": True}})
    chart.set_legend({"position": "bottom", "font": font})


def axis(options: dict) -> dict:
    """Axis options with the labels at the body text size. No axis titles: printed turned on
    their side they are hard to read; the unit goes in the chart's title."""
    num = {"num_format": swedish(options["num_format"])} if "num_format" in options else {}
    return {**options, **num, "num_font": {"size": CHART_FONT_PT}}


@dataclass(frozen=True)
class Columns:
    """The widths of a sheet's columns on paper and what follows from them."""

    scale: int | None
    """Per cent, or None = fit to one page wide."""
    factor: float
    """The scale as a fraction (also when fitted)."""
    col_pts: list[float]
    col_breaks: list[int]


@dataclass(frozen=True)
class Plan:
    """How one sheet prints: ``scale`` (per cent) or None = fit to one page wide."""

    scale: int | None
    col_breaks: list[int]
    row_breaks: list[int]

    @property
    def factor(self) -> float:
        return 1.0 if self.scale is None else self.scale / 100


def scale_for(width_pt: float) -> tuple[int | None, float]:
    """(xlsx scale, effective factor): 100 % when the sheet fits, fit-to-width when that keeps
    text ≥ 8 pt, else the smallest scale (columns then break)."""
    avail = printable_pt()[0]
    if width_pt <= avail:
        return 100, 1.0
    factor = avail / width_pt
    if factor * 100 >= MIN_SCALE:
        return None, factor
    return MIN_SCALE, MIN_SCALE / 100


def column_breaks(
    col_pts: list[float], groups: list[tuple[int, int]], repeat: int, factor: float
) -> list[int]:
    """First columns of the printed pages after the first: whole ``groups`` (first, last) are
    packed onto pages beside the ``repeat`` label columns; a group wider than a page breaks
    where it must."""
    page_w = printable_pt()[0] / factor
    label_w = sum(col_pts[:repeat])
    breaks, used = [], label_w
    for first, last in groups:
        if used + sum(col_pts[first : last + 1]) > page_w and used > label_w:
            breaks.append(first)
            used = label_w
        for c in range(first, last + 1):
            if used + col_pts[c] > page_w and used > label_w:
                breaks.append(c)
                used = label_w
            used += col_pts[c]
    return breaks


def row_breaks(
    heights: dict[int, float],
    last_row: int,
    blocks: list[tuple[int, int]],
    forced: list[int],
    repeat: tuple[int, int] | None,
    factor: float,
) -> list[int]:
    """Rows that start a new page: the ``forced`` ones, and before each block (first row, last
    row to keep with it: a table's subtitle and header with its first rows, a whole chart) that
    would otherwise be split; a block taller than a page starts a page and runs on."""
    page_h = printable_pt()[1] * PAGE_SLACK / factor
    repeat_h = 0.0 if repeat is None else sum(heights.get(r, ROW_PT) for r in range(repeat[0], repeat[1] + 1))
    starts = {first: last for first, last in blocks}
    breaks: list[int] = []
    y = 0.0
    for r in range(last_row + 1):
        h = heights.get(r, ROW_PT)
        if r in forced and r > 0:
            breaks.append(r)
            y = repeat_h
        elif r in starts and y > repeat_h:
            keep = sum(heights.get(k, ROW_PT) for k in range(r, starts[r] + 1))
            if y + min(keep, page_h - repeat_h) > page_h:
                breaks.append(r)
                y = repeat_h
        if y + h > page_h and y > repeat_h:  # the automatic break the program will make
            y = repeat_h
        y += h
    return breaks
