"""Which period a run covers, and how the run says so (run note, first log line, alerts).

One rule for the plan task, the run note set by the plugin's listener and the operators'
alerts: the operator's ``period`` wins, else the tertial ending at the data interval's end
(local time), else the last tertial completed when the run was due. A ``period`` that
contradicts a data interval that is exactly another tertial is refused: the run would be named
and scheduled for one tertial and report another.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from etl.periods import Period, PeriodError

SWEDISH_MONTHS = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")


class PeriodMismatch(ValueError):
    """``period`` names another tertial than the run's data interval."""


def interval_period(start: dt.datetime | None, end: dt.datetime | None, tz: str) -> Period | None:
    """The period whose tertial is exactly [start, end) in local time, else None."""
    if start is None or end is None:
        return None
    zone = ZoneInfo(tz)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    try:
        period = Period.ending_at(local_end.date())
    except PeriodError:
        return None
    exact = local_start.date() == period.tertial_start and local_start.time() == local_end.time() == dt.time()
    return period if exact else None


def choose_period(
    period: str | None,
    *,
    tz: str,
    interval_start: dt.datetime | None = None,
    interval_end: dt.datetime | None = None,
    run_after: dt.datetime | None = None,
) -> Period:
    """The run's period (module docstring); raises :class:`PeriodMismatch` on a contradiction."""
    zone = ZoneInfo(tz)
    if period:
        chosen = Period.parse(period)
        scheduled = interval_period(interval_start, interval_end, tz)
        if scheduled is not None and scheduled != chosen:
            raise PeriodMismatch(
                f"period={chosen} men körningens dataintervall är tertialet {scheduled}: körningen skulle "
                f"heta och visas som {scheduled} men rapportera {chosen}. Gör så här: utlös DAG:en från "
                f"Airflows formulär (Trigger) eller REST-API:t med period={chosen} – intervallet sätts då "
                "efter perioden – eller kör `airflow backfill create` för tertialets datum."
            )
        return chosen
    if interval_end is not None:
        return Period.ending_at(interval_end.astimezone(zone).date())
    if run_after is not None:
        return Period.last_completed(run_after.astimezone(zone).date())
    raise ValueError("Körningen saknar både period, dataintervall och run_after.")


def _day(day: dt.date) -> str:
    return f"{day.day} {SWEDISH_MONTHS[day.month - 1]} {day.year}"


def describe(period: Period) -> str:
    """'2018-T2 (Tertialrapport 2, 1 jan–31 aug 2018)': the period as operators read it."""
    return f"{period} ({period.label}, {period.start.day} jan–{_day(period.end)})"


def run_note(
    period: Period,
    *,
    tz: str,
    forced: bool,
    interval_start: dt.datetime | None = None,
    interval_end: dt.datetime | None = None,
) -> str:
    """Markdown note for the run (shown on the run's page in the Airflow UI)."""
    lines = [f"**Period {describe(period)}**", ""]
    if interval_start is not None and interval_end is not None:
        zone = ZoneInfo(tz)
        first = interval_start.astimezone(zone).date()
        last = (interval_end.astimezone(zone) - dt.timedelta(days=1)).date()
        lines.append(
            f"Dataintervall: {_day(first)} – {_day(last)} ({tz}); rapporten avser året till och med "
            f"{_day(period.end)}."
        )
    lines.append(
        f"Perioden valdes med parametern period={period}." if forced else "Perioden följer av schemat."
    )
    return "\n".join(lines)


def historical_catch_up(period: Period, run_type: object, today: dt.date) -> bool:
    """True for a scheduled or backfill run of a period older than the previous tertial.

    The first unpause catches up every tertial since the start date; managers must not get
    years of old reports by e-mail. Manual runs (Trigger, with ``period``) always send.
    """
    kind = str(getattr(run_type, "value", run_type)).lower()  # an enum in Airflow, a string in tests
    return kind in ("scheduled", "backfill") and (
        period < Period.last_completed(today)
    )
