"""Builders for the comment round trip: an archived T1 package with real workbooks, and a
manager filling in a copy with openpyxl (as a returned file would be)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from etl import archive
from etl.comments import identity
from etl.periods import Period
from etl.published import PUBLISHED, read_published
from reports.workbook import write_workbook
from tests.support.reports import PERIOD, context, published_table

RUN_ID = "scheduled__2018-05-16"


def archive_run(data_dir: Path, scopes=("ALL", "KUN"), run_id: str = RUN_ID, shift: float = 0.0,
                period: Period = PERIOD) -> Path:  # fmt: skip
    """Write the published table and the scopes' workbooks as the pipeline does and archive them
    under ``data_dir/archive`` (returns the package version)."""
    src = Path(data_dir) / "src" / f"{run_id}-{shift}"
    (src / "workbooks").mkdir(parents=True, exist_ok=True)
    published_table(period, shift).to_csv(src / PUBLISHED, index=False)
    published = read_published(src / PUBLISHED)  # as workbook_step reads it
    files = {PUBLISHED: src / PUBLISHED}
    for scope in scopes:
        book = write_workbook(context(published, scope, run_id=run_id, period=period), src / "workbooks")
        files[f"workbooks/{book.name}"] = book
    return archive.archive_package(Path(data_dir) / "archive", period, files, {"run_id": run_id}).path


def workbook_in(package: Path, scope: str) -> Path:
    return next((package / "workbooks").glob(f"*_{scope}.xlsx"))


def comment_cells(book) -> dict[str, tuple[str, str]]:
    """Indicator id → (Analys cell, Åtgärder cell) coordinates, found the way a person would: the
    goal row by its properties, the columns by their headers."""
    ws = book[identity.SHEET]
    header = next(r for r in ws.iter_rows() if any(c.value == identity.ANALYS for c in r))
    cols = {c.value: c.column_letter for c in header if c.value in (identity.ANALYS, identity.ATGARDER)}
    rows = {
        p.value: int(p.name[len(identity.ROW_PREFIX) :])
        for p in book.custom_doc_props.props
        if p.name.startswith(identity.ROW_PREFIX)
    }
    return {ind: (f"{cols[identity.ANALYS]}{r}", f"{cols[identity.ATGARDER]}{r}") for ind, r in rows.items()}


def fill(original: Path, out: Path, texts: dict[str, tuple[str | None, str | None]],
         edit: Callable | None = None) -> Path:  # fmt: skip
    """A copy of ``original`` with ``texts`` (indicator → (analys, åtgärder)) typed in with
    openpyxl and saved; ``edit(book)`` may change anything else first."""
    import openpyxl

    book = openpyxl.load_workbook(original)
    cells = comment_cells(book)
    ws = book[identity.SHEET]
    for indicator, (analys, atgarder) in texts.items():
        a, b = cells[indicator]
        ws[a], ws[b] = analys, atgarder
    if edit:
        edit(book)
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
    return out
