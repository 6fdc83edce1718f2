"""Sheet 4, Arbetsmarknad: labour-market measures for persons, and places provided."""

from __future__ import annotations

from reports.layout import Page
from reports.model import Figures, ReportContext
from reports.sheets import comparisons
from reports.sheets.common import SEX_COLUMNS, sex_items, sex_lines

SHEET = "Arbetsmarknad"


def write(w: Page, ctx: ReportContext, fig: Figures) -> None:
    w.set_widths({0: 52, 1: 16, 2: 12, 3: 12, 4: 12})
    row = w.subtitle(3, "Insatser för personer, efter kön")
    table_header = row
    for group in ("personer", "platser"):
        if group == "platser":
            row = w.subtitle(row + 1, "Tillhandahållna platser")
        header = row
        row = w.grid(row, ["Indikator", "Omfattning", *SEX_COLUMNS], sex_lines(ctx, fig, SHEET, group), 2)
        comparisons.beside(w, ctx, fig, header, 2 + len(SEX_COLUMNS), sex_items(ctx, SHEET, group))
    w.note(row, "Platser är inte individbaserade: de redovisas bara totalt, inte per kön.")
    w.head(table_header, table_header)
