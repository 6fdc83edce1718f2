"""Excel workbooks for managers, written with xlsxwriter from published (suppressed) figures only.

Walking skeleton: a Sammanfattning sheet and an Om statistiken sheet; issue 5 adds the
full layout. Output is deterministic: document properties come from the period, never from
the clock, and text is never turned into formulas or links.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import xlsxwriter

from etl.config import ALL
from etl.periods import Period

SAFE_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n")

INDICATOR_NAMES = {
    "eb_hushall": "Hushåll med ekonomiskt bistånd",
    "eb_mottagare": "Personer i hushåll med ekonomiskt bistånd (inkl. barn)",
}
SEX_HEADERS = {"T": "Totalt", "K": "Kvinnor", "M": "Män"}


def safe_text(value: str) -> str:
    """Neutralise text Excel would read as a formula (OWASP CSV/formula injection)."""
    return "'" + value if value.startswith(_FORMULA_LEADS) else value


def workbook_name(period: Period, scope: str) -> str:
    stem = "Verksamhetsberattelse" if period.tertial == 3 else "Tertialuppfoljning"
    tertial = "Helar" if period.tertial == 3 else f"T{period.tertial}"
    return f"{stem}_{period.year}_{tertial}_Forsorjningsstod_{scope}.xlsx"


def write_workbook(
    published: pd.DataFrame, period: Period, scope: str, out_dir: Path, unit_name: str
) -> Path:
    """Write the workbook for ``scope`` (``ALL`` or a district code) and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / workbook_name(period, scope)
    wb = xlsxwriter.Workbook(str(path), {**SAFE_OPTIONS})
    created = dt.datetime.combine(period.end, dt.time(0, 0))
    wb.set_properties(
        {
            "title": f"{period.label} {period.year} – {unit_name}",
            "subject": f"Uppföljning {period}",
            "author": unit_name,
            "company": "Stockholms stad",
            "created": created,
        }
    )
    bold = wb.add_format({"bold": True})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    num = wb.add_format({"num_format": "# ##0", "border": 1})
    text = wb.add_format({"border": 1, "align": "right"})

    ws = wb.add_worksheet("Sammanfattning")
    ws.write(0, 0, f"{period.label} {period.year} – {unit_name}", bold)
    scope_label = "Hela enheten" if scope == ALL else scope
    ws.write(1, 0, f"Omfattning: {scope_label}. Period: {period.start} – {period.end}.")
    header_row = 3
    headers = ["Indikator", "Område", "Totalt", "Kvinnor", "Män"]
    for col, h in enumerate(headers):
        ws.write(header_row, col, h, head)
    wide = published.pivot_table(
        index=["indicator_id", "district_code"], columns="sex", values="published", aggfunc="first"
    ).reset_index()
    if scope != ALL:
        wide = wide[wide["district_code"].isin([scope, ALL])]
    values = published.set_index(["indicator_id", "district_code", "sex"])["value"]
    for i, row in enumerate(wide.itertuples(index=False), start=header_row + 1):
        ws.write_string(i, 0, safe_text(INDICATOR_NAMES.get(row.indicator_id, row.indicator_id)))
        ws.write_string(i, 1, "Hela enheten" if row.district_code == ALL else row.district_code)
        for j, sex in enumerate(("T", "K", "M"), start=2):
            v = values.get((row.indicator_id, row.district_code, sex))
            if pd.isna(v):
                ws.write_string(i, j, getattr(row, sex), text)
            else:
                ws.write_number(i, j, float(v), num)
    ws.freeze_panes(header_row + 1, 0)
    ws.set_column(0, 0, 55)
    ws.set_column(1, 1, 16)
    ws.set_column(2, 4, 12)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_header(f"&L{unit_name}&R{period.label} {period.year}")
    ws.set_footer("&CSida &P av &N")

    about = wb.add_worksheet("Om statistiken")
    about.write(0, 0, "Om statistiken", bold)
    about.write(1, 0, "Värden som vilar på 1–4 personer visas som .. (sekretess). Noll visas som 0.")
    about.write(
        2, 0, "Hushållsuppgifter redovisas efter registerledarens kön; personuppgifter efter personens kön."
    )
    about.set_column(0, 0, 100)
    wb.close()
    return path
