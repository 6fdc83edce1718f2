"""Sheet 5, Personal: staff figures for the whole unit by age band and sex."""

from __future__ import annotations

from etl.vocabulary import ALL, SEXES
from reports.labels import AGE_BANDS
from reports.layout import Line, Page
from reports.model import Figures, ReportContext
from reports.sheets import comparisons
from reports.sheets.common import SEX_COLUMNS, ids, name_of

SHEET = "Personal"


def write(w: Page, ctx: ReportContext, fig: Figures) -> None:
    w.set_widths({0: 44, 1: 18, 2: 12, 3: 12, 4: 12})
    row = w.note(2, "Personalstatistik för hela enheten (alla stadsdelar). Ålder vid periodens slut.")
    table_header = row + 1
    lines = [
        Line(
            (name_of(base) if not suffix else "", band),
            tuple(fig.get(base + suffix, ALL, x) for x in SEXES),
            bold=not suffix,
        )
        for base in ids(SHEET, "personal")
        for suffix, band in AGE_BANDS.items()
    ]
    row = w.grid(table_header, ["Mått", "Åldersgrupp", *SEX_COLUMNS], lines, 2)
    # Comparisons for the whole group (the age bands are not computed for earlier periods).
    items = [(base, ALL) if not suffix else None for base in ids(SHEET, "personal") for suffix in AGE_BANDS]
    comparisons.beside(w, ctx, fig, table_header, 2 + len(SEX_COLUMNS), items)
    if ctx.staff_rule:
        row = w.note(row, ctx.staff_rule)
    w.head(table_header, table_header)
