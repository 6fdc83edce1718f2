"""The gender analysis' verdict in plain Swedish, for the Jämställdhetsanalys sheet.

etl/gender.py computes the adjusted difference and its confidence interval; this module only
words them for managers (the workbook is its one reader).
"""

from __future__ import annotations

import math

from etl.settings import settings
from reports.swedish import format_number


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def verdict(
    diff: float | None, low: float | None, high: float | None, confidence: float | None = None
) -> str:
    """A plain-Swedish paragraph for managers on the adjusted difference and its interval."""
    if _missing(diff) or _missing(low) or _missing(high):
        return (
            "Den justerade jämförelsen av beviljade belopp mellan kvinnor och män kan inte visas för "
            "perioden: underlaget är för litet (för få ensamstående kvinnor eller män med beslut i "
            "jämförbara grupper) för att ge ett säkert resultat utan risk att enskilda kan pekas ut."
        )
    if confidence is None:
        confidence = settings().pipeline.gender_analysis.confidence
    level = format_number(confidence * 100, 0 if float(confidence * 100).is_integer() else 1)
    amount = round(abs(diff))
    if amount == 0:
        result = "fick ensamstående kvinnor och män i genomsnitt lika mycket per beviljat beslut"
    else:
        more = "mer" if diff > 0 else "mindre"
        result = (
            f"fick ensamstående kvinnor i genomsnitt {format_number(amount)} kr {more} "
            "per beviljat beslut än män"
        )
    text = (
        "Jämfört inom grupper med samma hushållssituation (med eller utan barn) och samma "
        f"försörjningshinder {result} ({level} % konfidensintervall: {format_number(low)} till "
        f"{format_number(high)} kr). "
    )
    if low <= 0 <= high:
        text += (
            "Skillnaden är inte statistiskt säkerställd: intervallet innehåller noll, så den kan bero "
            "på slumpen."
        )
    else:
        side = "under" if high < 0 else "över"
        text += (
            f"Skillnaden är statistiskt säkerställd: hela intervallet ligger {side} noll. "
            "Den bör följas upp i verksamhetens jämställdhetsarbete."
        )
    return text + " Grupper där bara kvinnor eller bara män fått beslut är inte med i jämförelsen."
