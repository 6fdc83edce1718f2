"""The eight sheets of the follow-up workbook, in Swedish, from published figures only.

One module per sheet; each has ``write(page, ctx, fig)``. Loops run over a handful of
indicators, scopes and sexes, never over persons.
"""

from __future__ import annotations

import xlsxwriter

from reports.formats import Formats
from reports.model import Figures, ReportContext
from reports.sheets import about, assistance, economy, gender, labour, quality, staff, summary
from reports.sheets.common import start

SHEETS = (
    "Sammanfattning",
    "Ekonomiskt bistånd",
    "Jämställdhetsanalys",
    "Arbetsmarknad",
    "Personal",
    "Ekonomi",
    "Datakvalitet",
    "Om statistiken",
)
WRITERS = (summary, assistance, gender, labour, staff, economy, quality, about)
TITLES = (
    None,
    "Ekonomiskt bistånd",
    "Jämställdhetsanalys: beslut om ekonomiskt bistånd för kvinnor och män",
    "Arbetsmarknad",
    "Personal",
    "Ekonomi: utbetalt bistånd mot budget",
    "Datakvalitet",
    "Om statistiken",
)
"""Sheet titles; the summary's (None) is the period and unit."""


def write_all(wb: xlsxwriter.Workbook, ctx: ReportContext, fig: Figures) -> None:
    """Add the eight sheets in order."""
    fmts = Formats(wb)
    for name, title, sheet in zip(SHEETS, TITLES, WRITERS, strict=True):
        heading = title or f"{ctx.period.label} {ctx.period.year} – {ctx.unit_name}"
        page = start(wb, ctx, fmts, name, heading)
        sheet.write(page, ctx, fig)
        page.finish()
