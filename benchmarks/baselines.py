"""The machine's own speed for extraction and workbooks, measured beside the project's.

- :func:`copy_binary`: PostgreSQL's ``COPY (<extraction's SELECT>) TO STDOUT (FORMAT binary)``
  of the statement :func:`etl.extract.read_statement` builds (:func:`copy_query`), read to the
  end and thrown away: the connection and the server's work, nothing of the client's.
- :class:`XlsxRecorder` / :func:`replay`: record every cell, format, column and row setting the
  project's workbook writes, then write exactly those with bare xlsxwriter (no charts,
  conditional formats or protection: the cells and their formats).
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import sqlalchemy as sa
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from etl.extract import read_statement, session_setup
from etl.periods import Period


def copy_query(url: str, table: str, period: Period) -> tuple[str, str]:
    """psycopg conninfo and the COPY statement of ``table``'s extraction query (built untimed)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            stmt, _ = read_statement(sa.inspect(conn), table, period)
            compiled = stmt.compile(dialect=engine.dialect)
            conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            with psycopg.connect(conninfo) as pg:  # COPY takes no bound parameters: inline them
                query = psycopg.ClientCursor(pg).mogrify(str(compiled), compiled.params)
    finally:
        engine.dispose()
    return conninfo, f"COPY ({query}) TO STDOUT (FORMAT binary)"


def copy_binary(conninfo: str, statement: str) -> dict:
    """Connect and run ``statement`` (a COPY … TO STDOUT), reading every block; bytes read.

    The session is set up as extraction's read sessions are (``session_setup``: work_mem)."""
    size = 0
    with psycopg.connect(conninfo) as pg, pg.cursor() as cur:
        for setup in session_setup("postgresql"):
            cur.execute(setup)
        with cur.copy(statement) as copy:
            for block in copy:
                size += len(block)
    return {"bytes": size}


WRITES = ("_write_string", "_write_number", "_write_blank", "_write_formula", "_write_datetime",
          "_write_boolean", "_write_rich_string", "_write_url", "_write_array_formula")  # fmt: skip
LAYOUT = ("set_column", "set_row")
COUNTED = ("insert_chart", "merge_range", "conditional_format", "data_validation", "insert_textbox",
           "insert_image", "write_comment", "protect", "add_table")  # fmt: skip
"""Not replayed (the baseline is cells and formats), only counted, so the report can say so."""
INTERNAL = {
    "fh", "internal_fh", "xf_format_indices", "dxf_format_indices", "xf_index", "dxf_index",
    "num_format_index", "font_index", "has_font", "has_dxf_font", "has_fill", "has_dxf_fill",
    "fill_index", "fill_count", "border_index", "has_border", "has_dxf_border", "border_count",
    "_format_key",
}  # fmt: skip
"""Format attributes the workbook computes when it closes; everything else is the format."""


class XlsxRecorder:
    """While active, records the low-level cell writes and column/row settings of every sheet."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, tuple, dict]] = []  # (sheet, method, args, kwargs)
        self.not_replayed: dict[str, int] = {}
        self._undo: list = []

    def __enter__(self) -> XlsxRecorder:
        for method in (*WRITES, *LAYOUT):
            original = getattr(Worksheet, method, None)
            if original is None:
                continue
            self._undo.append((method, original))
            setattr(Worksheet, method, self._wrap(method, original))
        for method in COUNTED:
            original = getattr(Worksheet, method, None)
            if original is not None:
                self._undo.append((method, original))
                setattr(Worksheet, method, self._count(method, original))
        return self

    def _count(self, method: str, original):
        counts = self.not_replayed

        def counted(ws, *args, **kwargs):
            counts[method] = counts.get(method, 0) + 1
            return original(ws, *args, **kwargs)

        return counted

    def _wrap(self, method: str, original):
        calls = self.calls

        def recorded(ws, *args, **kwargs):
            # Nested calls (write_string → _write_string) record once: only the outermost.
            if not getattr(ws, "_bench_recording", False):
                calls.append((ws.name, method, args, kwargs))
            ws._bench_recording = True
            try:
                return original(ws, *args, **kwargs)
            finally:
                ws._bench_recording = False

        return recorded

    def __exit__(self, *exc) -> None:
        for method, original in reversed(self._undo):
            setattr(Worksheet, method, original)

    @property
    def cells(self) -> int:
        return sum(1 for _, method, _, _ in self.calls if method in WRITES)


def _copy_format(wb: xlsxwriter.Workbook, src: Format, made: dict[int, Format]) -> Format:
    if id(src) not in made:
        fmt = wb.add_format()
        for key, value in vars(src).items():
            if key not in INTERNAL:
                setattr(fmt, key, value)
        made[id(src)] = fmt
    return made[id(src)]


def _formats(args: tuple, wb: xlsxwriter.Workbook, made: dict[int, Format]) -> tuple:
    return tuple(_copy_format(wb, a, made) if isinstance(a, Format) else a for a in args)


def replay(recorder: XlsxRecorder, path: Path) -> int:
    """Write the recorded cells and formats with bare xlsxwriter; the number of cells written."""
    wb = xlsxwriter.Workbook(str(path))
    made: dict[int, Format] = {}
    sheets: dict[str, Worksheet] = {}
    for sheet, method, args, kwargs in recorder.calls:
        ws = sheets.get(sheet) or sheets.setdefault(sheet, wb.add_worksheet(sheet))
        kwargs = {k: _copy_format(wb, v, made) if isinstance(v, Format) else v for k, v in kwargs.items()}
        getattr(ws, method)(*_formats(args, wb, made), **kwargs)
    wb.close()
    return recorder.cells
