"""The reviewer workbook's shape, shared by its writer (reports.review_workbook) and the import."""

from __future__ import annotations

from dataclasses import dataclass

CASES_SHEET, INSTRUCTIONS_SHEET, ROUND_SHEET = "Granskning", "Instruktioner", "Omgång"
HEADER_ROW = 3
"""0-based row of the column headers on the Granskning sheet; cases follow from the next row."""
ROUND_CELLS = {"round": (0, 1), "sample_hash": (1, 1)}
"""Where the Omgång sheet holds the round id and the sample hash (0-based row, column)."""


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: float
    reviewer: bool = False
    required: bool = True


COLUMNS = (
    Column("nr", "Nr", 5),
    Column("application_id", "Ansökans id", 14),
    Column("household_id", "Hushållets id", 14),
    Column("sex", "Sökandes kön", 9),
    Column("household_type", "Hushållstyp", 10),
    Column("benefit_month", "Månad", 9),
    Column("decision", "Beslut", 15),
    Column("applied_sek", "Ansökt kr", 11),
    Column("granted_sek", "Beviljat kr", 11),
    Column("concerned", "Vad ansökan avsåg", 24, reviewer=True),
    Column("quality", "Utredningens kvalitet (1–4)", 13, reviewer=True),
    Column("guideline", "Bedömning enligt riktlinjerna", 13, reviewer=True),
    Column("bemotande", "Bemötande dokumenterat", 13, reviewer=True),
    Column("comment", "Kommentar", 40, reviewer=True, required=False),
)
SAMPLED = tuple(c.key for c in COLUMNS if not c.reviewer)
ANSWERS = tuple(c.key for c in COLUMNS if c.reviewer and c.required)
BY_KEY = {c.key: c for c in COLUMNS}


def excel_column(index: int) -> str:
    """0-based column index → Excel letters (0 → A)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def where(key: str) -> str:
    """``kolumn J (Vad ansökan avsåg)`` for a column key."""
    i = [c.key for c in COLUMNS].index(key)
    return f"kolumn {excel_column(i)} ({COLUMNS[i].header})"
