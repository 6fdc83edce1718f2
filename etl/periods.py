"""Reporting periods: T1 (Jan–Apr), T2 (Jan–Aug) and T3 (the full year), always year to date.

A period is named like ``2018-T1``. The Airflow timetable schedules one tertial at a time
([1 Jan, 1 May), [1 May, 1 Sep), [1 Sep, 1 Jan)); the report for a tertial covers the year
up to that tertial's end.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

TERTIAL_END_MONTH = {1: 4, 2: 8, 3: 12}
"""Last month of each tertial."""

_PERIOD_RE = re.compile(r"^(?P<year>\d{4})-T(?P<tertial>[123])$")


class PeriodError(ValueError):
    """A period name that is not YYYY-T1, YYYY-T2 or YYYY-T3."""


@dataclass(frozen=True, order=True)
class Period:
    year: int
    tertial: int

    @classmethod
    def parse(cls, text: str) -> Period:
        m = _PERIOD_RE.match(text.strip())
        if not m:
            raise PeriodError(f"Ogiltig period {text!r}: skriv t.ex. 2018-T1, 2018-T2 eller 2018-T3.")
        return cls(int(m["year"]), int(m["tertial"]))

    @classmethod
    def ending_at(cls, interval_end: dt.date | dt.datetime) -> Period:
        """The period whose tertial ends just before ``interval_end`` (an exclusive end date)."""
        day = interval_end.date() if isinstance(interval_end, dt.datetime) else interval_end
        last = day - dt.timedelta(days=1)
        for tertial, month in TERTIAL_END_MONTH.items():
            if last.month == month and (last + dt.timedelta(days=1)).day == 1:
                return cls(last.year, tertial)
        raise PeriodError(f"{interval_end} är inte slutet på ett tertial.")

    @classmethod
    def last_completed(cls, day: dt.date) -> Period:
        """The latest period that has ended before ``day`` (for a run without a data interval)."""
        for tertial in (2, 1):
            p = cls(day.year, tertial)
            if day >= p.end_exclusive:
                return p
        return cls(day.year - 1, 3)

    def __str__(self) -> str:
        return f"{self.year}-T{self.tertial}"

    @property
    def start(self) -> dt.date:
        """First day of the period (always 1 January: reports are year to date)."""
        return dt.date(self.year, 1, 1)

    @property
    def end(self) -> dt.date:
        """Last day of the period, inclusive."""
        return self.end_exclusive - dt.timedelta(days=1)

    @property
    def end_exclusive(self) -> dt.date:
        month = TERTIAL_END_MONTH[self.tertial]
        return dt.date(self.year + 1, 1, 1) if month == 12 else dt.date(self.year, month + 1, 1)

    @property
    def tertial_start(self) -> dt.date:
        """First day of this tertial alone (the timetable's data-interval start)."""
        return dt.date(self.year, TERTIAL_END_MONTH[self.tertial] - 3, 1)

    @property
    def months(self) -> int:
        """Number of months in the period (4, 8 or 12)."""
        return TERTIAL_END_MONTH[self.tertial]

    @property
    def label(self) -> str:
        """Swedish name, as managers know the report."""
        return {1: "Tertialrapport 1", 2: "Tertialrapport 2", 3: "Verksamhetsberättelse"}[self.tertial]

    @property
    def extract_start(self) -> dt.date:
        """Earliest date the statistics need: the previous year (comparisons, 12-month windows)."""
        return dt.date(self.year - 1, 1, 1)
