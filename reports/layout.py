"""The layout toolkit of the workbooks: a page (one worksheet) and the writers every sheet uses.

A ``Page`` needs no ReportContext, only the two symbols, so the tertial sheets and the trend
workbook share it. Text goes through ``safe_text`` and ``write_string``; numbers through
``write_number`` with a real number format; suppressed cells hold the suppression symbol, right
aligned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import xlsxwriter
from xlsxwriter.utility import xl_range_abs
from xlsxwriter.worksheet import Worksheet

from etl import targets
from etl.settings import Entry, Plan
from reports import printing
from reports.formats import Formats
from reports.model import SUPPRESSED, VALUE, Cell

SAFE_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n")

CHART_DATA_COL = 40
"""First (hidden) column of chart data: numbers or blanks, so a suppressed month is a gap, not 0."""
LINE_HEIGHT = 15.0
CHARS_PER_WIDTH = 1.15
"""Characters of body text per unit of column width (Calibri 11; cautious so nothing is cut)."""
BOLD_WIDTH = 1.2
"""Bold text is about this much wider than regular."""
DEFAULT_WIDTH = 8.43


def safe_text(value: str) -> str:
    """Neutralise text Excel would read as a formula (OWASP CSV/formula injection)."""
    return "'" + value if value.startswith(_FORMULA_LEADS) else value


def header_escape(text: str) -> str:
    """Text for a page header or footer, where ``&`` starts a control code."""
    return text.replace("&", "&&")


def print_setup(ws: Worksheet, header: str, footer: str) -> None:
    """Landscape A4 with the page header and footer (the scale is set by ``Page.finish``)."""
    printing.page_setup(ws, header, footer)


def wrapped_lines(text: str, width: float) -> int:
    """Wrapped lines of ``text`` in a column ``width`` characters wide (a cautious estimate)."""
    per_line = max(width * CHARS_PER_WIDTH - 1, 1)
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))


@dataclass(frozen=True)
class Line:
    """One table row: text labels, then figures (None = does not apply, grey and empty)."""

    labels: tuple[str, ...]
    cells: tuple[Cell | None, ...]
    bold: bool = False


@dataclass
class Page:
    """One worksheet being written: its workbook, formats, column widths and the two symbols."""

    wb: xlsxwriter.Workbook
    ws: Worksheet
    fmts: Formats
    name: str
    suppressed_symbol: str = ".."
    nothing_symbol: str = "–"
    widths: dict[int, float] = field(default_factory=dict)
    """Column widths set so far (characters): row heights and notes are estimated from them."""
    heights: dict[int, float] = field(default_factory=dict)
    """Row heights set so far (points); the others are one line."""
    blocks: list[tuple[int, int]] = field(default_factory=list)
    """(first row, last row kept with it) of each table and chart: the page breaks keep them whole."""
    breaks: list[int] = field(default_factory=list)
    """Rows that always start a printed page."""
    repeat: tuple[int, int] | None = None
    """Rows printed at the top of every page (the column headers)."""
    label_cols: int = 0
    """Columns printed on every page when the sheet is too wide for one."""
    col_groups: list[tuple[int, int]] = field(default_factory=list)
    """Columns that belong together when a wide sheet breaks (default: each column alone)."""
    chart_right_pt: float = 0.0
    spans: dict[int, str] = field(default_factory=dict)
    """Lines of text in column A that wrap across the printed width (see ``span``)."""
    chart_last_row: int = 0
    """Right edge (points) and last row reached by the charts, which print like cells."""
    _subtitle_row: int | None = None

    @classmethod
    def add(
        cls, wb: xlsxwriter.Workbook, fmts: Formats, name: str, suppressed: str = "..", nothing: str = "–"
    ) -> Page:
        """A new worksheet ``name`` at the end of ``wb``."""
        return cls(wb, wb.add_worksheet(name), fmts, name, suppressed, nothing)

    # --- cells ---------------------------------------------------------------------------

    def text(self, row: int, col: int, value: str, fmt=None) -> None:
        self.ws.write_string(row, col, safe_text(str(value)), fmt)

    def put(
        self, row: int, col: int, cell: Cell | None, bold: bool = False, num_format: str | None = None
    ) -> None:
        """A figure: its number with the unit's format, or the suppression / nothing symbol."""
        if cell is None:
            self.ws.write_blank(row, col, None, self.fmts.blank())
        elif cell.kind == VALUE:
            fmts = self.fmts
            fmt = fmts.num_format(num_format, bold) if num_format else fmts.number(cell.unit or "", bold)
            self.ws.write_number(row, col, cell.value, fmt)
        else:
            symbol = self.suppressed_symbol if cell.kind == SUPPRESSED else self.nothing_symbol
            self.ws.write_string(row, col, symbol, self.fmts.symbol(bold))

    def derived(
        self, row: int, col: int, source: Cell, value: float | None, unit: str, bold: bool = False
    ) -> None:
        """A figure computed from a published one: shown only when the source may be shown."""
        self.put(row, col, Cell(source.kind, value, unit) if source.kind == VALUE else source, bold)

    # --- sizes ---------------------------------------------------------------------------

    def set_widths(self, widths: dict[int, float]) -> None:
        """Set column widths (characters) and remember them for row heights and notes."""
        for col, width in widths.items():
            self.ws.set_column(col, col, width)
        self.widths.update(widths)

    def fit_row(self, row: int, texts_widths: list[tuple[str, float]]) -> None:
        """Row height for wrapped text (xlsxwriter cannot measure text; estimate by characters)."""
        n = max(wrapped_lines(t, wd) for t, wd in texts_widths)
        if n > 1:
            self.set_height(row, LINE_HEIGHT * n)

    def set_height(self, row: int, points: float) -> None:
        """A row's height; a taller one set before for the same row wins."""
        if points > self.heights.get(row, 0.0):
            self.ws.set_row(row, points)
            self.heights[row] = points

    def fit_cells(self, row: int, first_col: int, texts: list[str]) -> None:
        """Row height for ``texts`` in the columns from ``first_col``, at their set widths."""
        self.fit_row(row, [(t, self.widths.get(first_col + j, DEFAULT_WIDTH)) for j, t in enumerate(texts)])

    # --- tables and notes ----------------------------------------------------------------

    def headers(self, row: int, headers: list[str], left: set[int] | int, col: int = 0) -> None:
        """A header row: ``left`` = text columns (an int: the first n), the rest right aligned."""
        left = set(range(left)) if isinstance(left, int) else left
        self.fit_words(col, headers)
        self.keep(row)
        for j, h in enumerate(headers):
            self.text(row, col + j, h, self.fmts.header if j in left else self.fmts.header_right)
        self.fit_cells(row, col, headers)

    def grid(self, row: int, headers: list[str], lines: list[Line], n_labels: int, col: int = 0) -> int:
        """A header row and the lines below it; returns the first row after the table."""
        self.headers(row, headers, n_labels, col)
        for i, line in enumerate(lines, start=row + 1):
            for j, label in enumerate(line.labels):
                self.text(i, col + j, label, self.fmts.text_bold if line.bold else self.fmts.text)
            for j, cell in enumerate(line.cells, start=col + len(line.labels)):
                self.put(i, j, cell, line.bold)
            self.fit_cells(i, col, list(line.labels))
        return row + 1 + len(lines)

    def note(self, row: int, text: str) -> int:
        """A note under a table; a long one wraps across the sheet's columns (set widths first)."""
        cols = sorted(c for c in self.widths if c < CHART_DATA_COL)
        last = next((i for i, c in enumerate(cols) if i != c), len(cols)) - 1  # contiguous from A
        last = min(last, self.text_last_col())
        total = sum(self.widths[c] for c in range(last + 1))
        if last < 1 or len(text) <= self.widths.get(0, DEFAULT_WIDTH) * CHARS_PER_WIDTH:
            self.text(row, 0, text, self.fmts.note)
        else:
            self.ws.merge_range(row, 0, row, last, safe_text(text), self.fmts.note_wrap)
            self.fit_row(row, [(text, total)])
        return row + 1

    def subtitle(self, row: int, text: str) -> int:
        self.text(row, 0, text, self.fmts.subtitle)
        self._subtitle_row = row
        return row + 1

    def fit_words(self, first_col: int, texts: list[str]) -> None:
        """Widen columns so the longest word of each (bold header) text fits: a header wraps
        between words but is never cut inside one."""
        for j, text in enumerate(texts):
            words = text.split()
            need = max((len(w) for w in words), default=0) * BOLD_WIDTH / CHARS_PER_WIDTH + 1
            col = first_col + j
            if words and need > self.widths.get(col, DEFAULT_WIDTH):
                self.set_widths({col: math.ceil(need)})

    # --- printing ------------------------------------------------------------------------

    def keep(self, header_row: int, rows: int = printing.KEEP_ROWS) -> None:
        """A table's header (and the subtitle just above it) stays on a page with its first rows."""
        first = self._subtitle_row if self._subtitle_row == header_row - 1 else header_row
        self.blocks.append((first, header_row + rows))

    def head(self, first: int, last: int, freeze_col: int = 0) -> None:
        """The column headers ``first``..``last``: frozen on screen, repeated on every printed page."""
        self.ws.freeze_panes(last + 1, freeze_col)
        self.repeat = (first, last)

    def columns(self, labels: int, groups: list[tuple[int, int]]) -> None:
        """Label columns repeated on every page and the column groups kept together when a
        sheet too wide for one page at a legible scale breaks across pages."""
        self.label_cols, self.col_groups = labels, groups

    def chart(self, chart, row: int, col: int, width: int, height: int) -> None:
        """Insert ``chart`` (pixels) and keep it on one printed page. On a sheet too wide for a
        page a chart not within the repeated label columns (which would print a clipped copy of
        it on every page) goes right of them and is narrowed to the first page."""
        plan = self.column_plan()
        within_labels = col < self.label_cols and width <= self.px_width(col, self.label_cols)
        if plan.col_breaks and not within_labels:
            col = max(col, self.label_cols)
            width = min(width, int(self.px_width(col, plan.col_breaks[0]) * printing.PAGE_SLACK))
        chart.set_size({"width": width, "height": height})
        self.ws.insert_chart(row, col, chart, {"y_offset": printing.CHART_OFFSET_PX})
        left = sum(printing.column_pt(self.widths.get(c, DEFAULT_WIDTH)) for c in range(col))
        self.chart_right_pt = max(self.chart_right_pt, left + width * printing.PT_PER_PX)
        rows = math.ceil(height * printing.PT_PER_PX / printing.ROW_PT)
        self.blocks.append((row, row + rows))
        self.chart_last_row = max(self.chart_last_row, row + rows)

    def px_width(self, first: int, stop: int) -> int:
        """Pixels (at 100 %) of the columns ``first`` up to ``stop`` (exclusive)."""
        pts = sum(printing.column_pt(self.widths.get(c, DEFAULT_WIDTH)) for c in range(first, stop))
        return int(pts / printing.PT_PER_PX)

    def column_plan(self) -> printing.Columns:
        """Scale and column breaks from the widths set so far (visible columns only)."""
        ws = self.ws
        shown = [c for c in self.widths if c < CHART_DATA_COL]
        if ws.dim_colmax is not None and ws.dim_colmax < CHART_DATA_COL:
            shown.append(ws.dim_colmax)
        col_pts = [
            printing.column_pt(self.widths.get(c, DEFAULT_WIDTH)) for c in range(max(shown, default=0) + 1)
        ]
        scale, factor = printing.scale_for(max(sum(col_pts), self.chart_right_pt))
        breaks: list[int] = []
        if factor < 1 and scale is not None:
            groups = self.col_groups or [(c, c) for c in range(self.label_cols, len(col_pts))]
            breaks = printing.column_breaks(col_pts, groups, self.label_cols, factor)
        return printing.Columns(scale, factor, col_pts, breaks)

    def text_last_col(self) -> int:
        """The last column a wrapped line of text may span: the sheet's, or on a sheet printed in
        parts its repeated label columns (printed on every part), else its first part's."""
        plan = self.column_plan()
        if not plan.col_breaks:
            return len(plan.col_pts) - 1
        return (self.label_cols or plan.col_breaks[0]) - 1

    def span(self, row: int, text: str) -> None:
        """A line of plain text across the sheet; on ``finish`` it wraps within the first printed
        page (text running on past the last column would print on a page of its own)."""
        self.text(row, 0, text, self.fmts.plain)
        self.spans[row] = text

    def finish(self) -> printing.Plan:
        """Set the print scale, the print area, the repeated rows and columns, the page breaks."""
        ws = self.ws
        plan = self.column_plan()
        last_col = self.text_last_col()
        for row, text in self.spans.items():
            if last_col > 0:
                ws.merge_range(row, 0, row, last_col, safe_text(text), self.fmts.plain_wrap)
                self.fit_row(
                    row, [(text, sum(self.widths.get(c, DEFAULT_WIDTH) for c in range(last_col + 1)))]
                )
        if plan.scale is None:
            ws.fit_to_pages(1, 0)
        else:
            ws.set_print_scale(plan.scale)
        if plan.col_breaks:
            if self.label_cols:
                ws.repeat_columns(0, self.label_cols - 1)
            ws.print_across()  # a table's right part follows its left part
            ws.set_v_pagebreaks(plan.col_breaks)
        if self.repeat is not None:
            ws.repeat_rows(*self.repeat)
        last_row = max(ws.dim_rowmax or 0, self.chart_last_row)
        ws.print_area(0, 0, last_row, len(plan.col_pts) - 1)
        row_breaks = printing.row_breaks(
            self.heights, last_row, self.blocks, self.breaks, self.repeat, plan.factor
        )
        if row_breaks:
            ws.set_h_pagebreaks(row_breaks)
        return printing.Plan(plan.scale, plan.col_breaks, row_breaks)

    # --- chart data ----------------------------------------------------------------------

    def chart_numbers(self, row: int, col: int, cells: list[Cell]) -> None:
        """Hidden chart data: shown values only; suppressed and missing figures are left blank."""
        for i, cell in enumerate(cells):
            if cell.kind == VALUE:
                self.ws.write_number(row + i, col, cell.value)

    def error_bars(self, first: int, last: int, plus_col: int, minus_col: int) -> dict:
        """A series' custom error bars read from hidden columns (rows ``first``..``last``). The
        ranges go as formulas: xlsxwriter takes a list here as the values themselves."""
        return {
            "type": "custom",
            "plus_values": f"='{self.name}'!{xl_range_abs(first, plus_col, last, plus_col)}",
            "minus_values": f"='{self.name}'!{xl_range_abs(first, minus_col, last, minus_col)}",
            "end_style": 1,
        }

    def hide_chart_data(self, width: int) -> None:
        self.ws.set_column(CHART_DATA_COL, CHART_DATA_COL + width - 1, None, None, {"hidden": True})


# --- number formats of the plan's targets --------------------------------------------------


def plan_format(entry: Entry, plan: Plan | None) -> str:
    """Number format for an indicator's targets and results: as many decimals as its targets
    in the year's plan (etl.targets.shown_decimals, which the judgement rounds to as well)."""
    d = targets.shown_decimals(entry, plan)
    frac = "." + "0" * d if d else ""
    if entry.unit == "procent":
        return f'0{frac}" %"'
    if entry.unit == "antal":
        return f"#,##0{frac}"
    return f"0{frac}"
