"""The reviewer workbook of a case-review round (docs/review.md).

One row per sampled case with what the reviewer needs to open it in the case system, and the
reviewer's columns with drop-down lists. Every sheet is protected except the reviewer's cells;
the properties and the first sheet say that the file holds sekretess-protected information. It
is written only to the restricted review folder and never e-mailed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import xlsxwriter

from etl.review.columns import (
    CASES_SHEET,
    COLUMNS,
    HEADER_ROW,
    INSTRUCTIONS_SHEET,
    ROUND_CELLS,
    ROUND_SHEET,
    Column,
)
from etl.settings.review import Answers
from reports.formats import Formats
from reports.layout import SAFE_OPTIONS, Page, print_setup

SECRECY = "SEKRETESS – innehåller uppgifter som omfattas av sekretess enligt 26 kap. 1 § OSL"
QUALITY_TEXT = "1 = bristfällig, 2 = godtagbar, 3 = god, 4 = mycket god"
INSTRUCTIONS = (
    "Så här granskar du",
    "1. Öppna varje ärende i verksamhetssystemet med ansökans och hushållets id (bladet Granskning).",
    "2. Läs ansökan, utredningen, bedömningen och beslutet.",
    "3. Fyll i de gröna kolumnerna med listorna: vad ansökan avsåg, utredningens kvalitet "
    f"({QUALITY_TEXT}), om bedömningen följer riktlinjerna och om bemötandet är dokumenterat.",
    "4. Skriv gärna en kommentar, men inga personnummer eller namn.",
    "5. Ändra inget annat: inga rader läggs till eller tas bort, id och ärendeuppgifter är låsta.",
    "6. Spara filen som den är (.xlsx) i granskningsmappens inkorg (review/inbox) eller lämna den "
    "till den som kör importen. Skicka den aldrig med e-post.",
)


def _sampled_value(col: Column, value) -> object:
    if pd.isna(value):
        return None
    if col.key == "benefit_month":
        return pd.Timestamp(value).strftime("%Y-%m")
    if col.key in ("nr", "household_type"):
        return int(value)
    if col.key in ("applied_sek", "granted_sek"):
        return float(value)
    return str(value)


def _lists(answers: Answers) -> dict[str, list]:
    return {
        "concerned": list(answers.concerned),
        "quality": [str(q) for q in answers.quality],
        "guideline": list(answers.guideline),
        "bemotande": list(answers.bemotande),
    }


def write_reviewer_workbook(path: Path, cases: pd.DataFrame, record: dict, answers: Answers) -> Path:
    """Write the reviewer workbook of a round to ``path`` (in the restricted folder)."""
    wb = xlsxwriter.Workbook(str(path), {**SAFE_OPTIONS, "constant_memory": False})
    wb.set_properties(
        {
            "title": f"Ärendegranskning omgång {record['round']}",
            "subject": SECRECY,
            "keywords": "sekretess, ärendegranskning, jämställdhet",
            "comments": "Får inte skickas med e-post. Förvaras i den skyddade granskningsmappen.",
            "created": pd.Timestamp(record["created"]).to_pydatetime().replace(tzinfo=None),
        }
    )
    wb.set_custom_property("Sekretess", "Ja")
    wb.set_custom_property("Granskningsomgång", record["round"])
    fmts = Formats(wb)
    _instructions(Page.add(wb, fmts, INSTRUCTIONS_SHEET), record, answers)
    _cases(Page.add(wb, fmts, CASES_SHEET), cases, record, answers)
    _round(Page.add(wb, fmts, ROUND_SHEET), record)
    wb.close()
    return path


def _instructions(page: Page, record: dict, answers: Answers) -> None:
    ws, fmts = page.ws, page.fmts
    page.set_widths({0: 110})
    page.text(0, 0, SECRECY, fmts.title)
    page.text(
        1,
        0,
        f"Ärendegranskning omgång {record['round']} ({record['year']}), "
        f"{record['cases']} ärenden, urval med seed {record['seed']}.",
    )
    row = 3
    for i, line in enumerate(INSTRUCTIONS):
        page.text(row, 0, line, fmts.subtitle if i == 0 else fmts.plain)
        row += 1
    row = page.subtitle(row + 1, "Svarsalternativ")
    for key, values in _lists(answers).items():
        header = next(c.header for c in COLUMNS if c.key == key)
        page.text(row, 0, f"{header}: {', '.join(values)}", fmts.plain)
        row += 1
    print_setup(ws, f"&L{SECRECY}", f"&L{_period(record)}&RSida &P av &N")
    page.finish()
    ws.protect("", {"select_locked_cells": True})
    ws.activate()


def _cases(page: Page, cases: pd.DataFrame, record: dict, answers: Answers) -> None:
    wb, ws, fmts = page.wb, page.ws, page.fmts
    page.set_widths({j: c.width for j, c in enumerate(COLUMNS)})
    page.text(0, 0, f"{SECRECY}. Omgång {record['round']}.", fmts.subtitle)
    page.text(1, 0, "Fyll i de gröna kolumnerna; övriga celler är låsta.", fmts.note)
    page.headers(
        HEADER_ROW, [c.header for c in COLUMNS], {j for j, c in enumerate(COLUMNS) if c.reviewer or j < 7}
    )
    open_cell = wb.add_format(
        {"locked": False, "bg_color": "#E2EFDA", "border": 1, "valign": "top", "text_wrap": True}
    )
    amount = fmts.num_format('#,##0" kr"')
    first, last = HEADER_ROW + 1, HEADER_ROW + len(cases)
    for i, case in enumerate(cases.to_dict("records"), start=first):
        for j, col in enumerate(COLUMNS):
            if col.reviewer:
                ws.write_blank(i, j, None, open_cell)
                continue
            value = _sampled_value(col, case.get(col.key))
            if value is None:
                ws.write_blank(i, j, None, fmts.text)
            elif isinstance(value, int | float):
                ws.write_number(i, j, value, amount if col.key.endswith("_sek") else fmts.num_format("0"))
            else:
                page.text(i, j, value, fmts.text)
    lists = _lists(answers)
    for j, col in enumerate(COLUMNS):
        if col.key in lists and len(cases):
            ws.data_validation(
                first,
                j,
                last,
                j,
                {
                    "validate": "list",
                    "source": lists[col.key],
                    "error_title": "Ogiltigt värde",
                    "error_message": f"Välj ett värde i listan ({col.header}).",
                },
            )
    page.head(HEADER_ROW, HEADER_ROW, 3)
    page.columns(3, [])
    print_setup(ws, f"&L{SECRECY}", f"&L{_period(record)}&RSida &P av &N")
    page.finish()
    ws.protect(
        "",
        {
            "select_locked_cells": True,
            "select_unlocked_cells": True,
            "format_columns": True,
            "format_rows": True,
        },
    )


def _period(record: dict) -> str:
    return f"Omgång {record['round']} ({record['year']})".replace("&", "&&")


def _round(page: Page, record: dict) -> None:
    labels = {"round": "Omgång", "sample_hash": "Kontrollsumma för urvalet"}
    for key, (row, col) in ROUND_CELLS.items():
        page.text(row, col - 1, labels[key])
        page.text(row, col, str(record[key]))
    page.ws.protect("")
    page.ws.hide()
