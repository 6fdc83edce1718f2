"""Swedish months, dates and numbers (reports.swedish), by hand."""

from __future__ import annotations

import datetime as dt

from reports.swedish import MONTHS, NBSP, date_text, format_number


def test_format_number_swedish():
    assert format_number(1234567.891) == "1 234 568"
    assert format_number(1234567.891, 1) == "1 234 567,9"
    assert format_number(-1234.4) == "−1 234"
    assert format_number(-0.4) == "0"
    assert format_number(95.0) == "95"


def test_format_number_for_mails():
    """No-break spaces and Python's own hyphen-minus, "-0" included (as the mails print)."""
    assert format_number(12345678.0, 0, space=NBSP, real_minus=False) == f"12{NBSP}345{NBSP}678"
    assert format_number(-1234.56, 1, space=NBSP, real_minus=False) == f"-1{NBSP}234,6"
    assert format_number(-0.04, 0, space=NBSP, real_minus=False) == "-0"
    assert format_number(0.3, 1, space=NBSP, real_minus=False) == "0,3"


def test_dates_and_months():
    assert date_text(dt.date(2018, 1, 1)) == "1 januari 2018"
    assert date_text(dt.date(2018, 12, 31)) == "31 december 2018"
    assert len(MONTHS) == 12 and MONTHS[4] == "maj" and MONTHS[7] == "augusti"
