"""Swedish month names, dates and numbers: one place for the text the workbooks and mails print.

Pure Python (no pandas, no xlsxwriter): etl.mail.message imports it and stays cheap to import.
"""

from __future__ import annotations

import datetime as dt

MONTHS = (
    "januari", "februari", "mars", "april", "maj", "juni",
    "juli", "augusti", "september", "oktober", "november", "december",
)  # fmt: skip
NBSP = "\u00a0"
"""No-break space: keeps ``1 234`` and ``0,3 %`` on one line in a mail."""
MINUS = "\u2212"


def date_text(day: dt.date) -> str:
    """``1 januari 2018``."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def format_number(x: float, decimals: int = 0, space: str = " ", real_minus: bool = True) -> str:
    """Thousands separated by ``space``, decimal comma.

    ``real_minus``: a real minus sign, and none on a value that rounds to zero (the workbook's
    prose); False keeps Python's hyphen-minus, ``-0`` included (the mails print it so).
    """
    if not real_minus:
        return f"{x:,.{decimals}f}".replace(",", space).replace(".", ",")
    text = f"{abs(x):,.{decimals}f}".replace(",", space).replace(".", ",")
    return f"{MINUS}{text}" if x < 0 and text.strip("0, ") else text
