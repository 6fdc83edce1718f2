"""Excel workbooks for managers, written with xlsxwriter from published (suppressed) figures only.

One workbook per recipient scope: the whole unit (``ALL``) or one district with the unit's
totals beside it. Eight Swedish sheets (reports/sheets/). Output is deterministic: document
properties come from the period, never from the clock, xlsxwriter stamps every zip member
with 1980-01-01, and text is never turned into formulas or links (reports/layout.py).
"""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from etl.periods import Period
from etl.vocabulary import ALL
from reports import sheets
from reports.layout import SAFE_OPTIONS
from reports.model import COMPANY, ReportContext, check_context, created_at
from reports.sheets import manager_input


def workbook_name(period: Period, scope: str) -> str:
    stem = "Verksamhetsberattelse" if period.tertial == 3 else "Tertialuppfoljning"
    tertial = "Helar" if period.tertial == 3 else f"T{period.tertial}"
    return f"{stem}_{period.year}_{tertial}_Forsorjningsstod_{scope}.xlsx"


def write_workbook(ctx: ReportContext, out_dir: Path) -> Path:
    """Write the workbook for ``ctx.scope`` (``ALL`` or a district code) and return its path."""
    check_context(ctx)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / workbook_name(ctx.period, ctx.scope)
    wb = xlsxwriter.Workbook(str(path), {**SAFE_OPTIONS})
    scope_text = "" if ctx.scope == ALL else f" ({ctx.scope_label()})"
    wb.set_properties(
        {
            "title": f"{ctx.period.label} {ctx.period.year} – {ctx.unit_name}{scope_text}",
            "subject": f"Uppföljning {ctx.period}: ekonomiskt bistånd, arbetsmarknad, personal och ekonomi",
            "author": ctx.unit_name,
            "manager": ctx.unit_name,
            "company": COMPANY,
            "category": "Tertialuppföljning",
            "keywords": f"{ctx.period}, {ctx.scope}",
            "comments": f"Körning {ctx.run_id}, kodversion {ctx.code_version}",
            "created": created_at(ctx.period),
        }
    )
    sheets.write_all(wb, ctx, ctx.figures)
    manager_input.protect(wb, ctx, path.name)
    wb.close()
    return path
