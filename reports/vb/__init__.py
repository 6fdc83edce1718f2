"""The verksamhetsberättelse (VB) workbook: the year's annual report of the plan's indicators.

Built at the T3 run (etl.vb) from published figures only, written with the same page toolkit,
formats and safety as the tertial workbooks. Sheets: Mål och resultat, Analys, Stadsdelar, Diagram,
Jämställdhet över åren, Ekonomi (the tertial workbook's budget follow-up for the full year),
Om verksamhetsberättelsen. Deterministic: no run id and no clock in the file, so the same
figures and comments give the same bytes (the e-mail ledger's key).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter

from reports.formats import Formats
from reports.layout import SAFE_OPTIONS, Page, header_escape, print_setup
from reports.model import COMPANY
from reports.sheets import economy
from reports.sheets.common import start
from reports.vb import charts, goals, years
from reports.vb.model import VbInputs

SHEETS = ("Mål och resultat", "Analys", "Stadsdelar", "Diagram", "Jämställdhet över åren", "Ekonomi",
          "Om verksamhetsberättelsen")  # fmt: skip


def vb_name(year: int) -> str:
    return f"Verksamhetsberattelse_{year}_Arsrapport_Forsorjningsstod.xlsx"


def _page(wb: xlsxwriter.Workbook, fmts: Formats, inputs: VbInputs, name: str, title: str) -> Page:
    ctx = inputs.ctx
    p = Page.add(wb, fmts, name, ctx.suppressed_symbol, ctx.nothing_symbol)
    p.text(0, 0, title, fmts.title)
    p.text(
        1, 0, f"{ctx.unit_name} · verksamhetsberättelse {inputs.year} · helår januari–december", fmts.plain
    )
    print_setup(
        p.ws,
        f"&L{header_escape(ctx.unit_name)}&C&A&RVerksamhetsberättelse {inputs.year}",
        f"&LVerksamhetsberättelse {inputs.year}&CSida &P av &N&RHelår {inputs.year}",
    )
    return p


def write_vb_workbook(inputs: VbInputs, out_dir: Path) -> Path:
    """Write ``Verksamhetsberattelse_<year>_Arsrapport_Forsorjningsstod.xlsx`` and return its path."""
    ctx, year = inputs.ctx, inputs.year
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / vb_name(year)
    wb = xlsxwriter.Workbook(str(path), {**SAFE_OPTIONS})
    wb.set_properties(
        {
            "title": f"Verksamhetsberättelse {year} – {ctx.unit_name}",
            "subject": f"Mål, resultat, jämställdhet och ekonomi {year}",
            "author": ctx.unit_name,
            "company": COMPANY,
            "category": "Verksamhetsberättelse",
            "created": dt.datetime(year, 12, 31),
        }
    )
    fmts = Formats(wb)
    unit = ctx.unit_name
    titles = (f"Verksamhetsberättelse {year} – {unit}", f"Chefernas analys {year}",
              "Stadsdelarnas årsmål och utfall", "Diagram per indikator",
              "Jämställdhetsanalys över åren")  # fmt: skip
    writers = (goals.write_goals, goals.write_analysis, goals.write_districts, charts.write_charts,
               years.write_gender)  # fmt: skip
    for name, title, writer in zip(SHEETS[:5], titles, writers, strict=True):
        page = _page(wb, fmts, inputs, name, title)
        writer(page, inputs)
        page.finish()  # print scale (text ≥ 8 pt), repeated headers, page breaks
    page = start(wb, ctx, fmts, SHEETS[5], f"Ekonomi {year}: utfall mot budget")
    economy.write(page, ctx, ctx.figures)
    page.finish()
    page = _page(wb, fmts, inputs, SHEETS[6], "Om verksamhetsberättelsen")
    years.write_about(page, inputs)
    page.finish()
    wb.close()
    return path
