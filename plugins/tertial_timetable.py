"""Airflow timetable: one DAG run per tertial, after the registration grace period.

Each run's data interval is exactly one tertial, local midnight to local midnight in
Europe/Stockholm (stored as UTC, as Airflow expects)::

    T1  [1 Jan, 1 May)    T2  [1 May, 1 Sep)    T3  [1 Sep, 1 Jan)

and the run is created ``grace_days`` days (default 15) after the interval ends, i.e. at
00:00 local time on the 16th of the following month, because the month's registrations are
due by the 15th. 2018-T1 = [2018-01-01, 2018-05-01) runs after 2018-05-16 00:00 Stockholm.

Scheduling rules (``next_dagrun_info``):

* ``start_date`` (``restriction.earliest``) is the earliest *interval start*, as in Airflow's own
  timetables: the first run is the first tertial starting at or after it. A start date in the
  middle of a tertial therefore begins with the NEXT full tertial (every interval stays exactly
  one tertial, and Airflow would not create task instances for a run whose logical date is before
  the tasks' start_date anyway). Give the start date in Stockholm time:
  ``pendulum.datetime(2018, 1, 1, tz="Europe/Stockholm")``; ``2018-01-01T00:00Z`` is 01:00 in
  Stockholm, i.e. after T1 started, so the first run would be 2018-T2.
* ``end_date`` (``restriction.latest``) bounds the interval start: no run for a tertial that
  starts after it. Prefer the timetable's own ``last_start`` (the demo's ``EB_SCHEDULE_END``):
  a DAG ``end_date`` is also every task's end date, so a manual run for a later logical date
  would get no task instances at all and turn green in a second without doing anything.
* ``catchup=False``: never schedule a tertial older than the latest tertial *completed* now
  (interval end <= now), like ``CronDataIntervalTimetable``. That tertial's run may still lie
  in the future if its grace period has not passed.
* No ``start_date``, no previous run and ``catchup=True``: nothing is scheduled.

Run ids (``generate_run_id``) carry the period label (``etl.periods.Period``) and keep Airflow's
``<run_type>__`` prefix, which Airflow uses to reserve scheduled ids against manual triggers:
``scheduled__tertial__2018-T1``, ``backfill__tertial__2018-T1`` (one such run per tertial, so
deterministic), ``manual__tertial__2018-T1__<run_after ISO>`` for manual and other triggered
runs (several may cover the same tertial). Runs without a data interval, or whose interval is
not exactly one tertial, get Airflow's default ``<run_type>__<run_after ISO>``.

Registered through :class:`TertialTimetablePlugin`; DAGs import it as
``from tertial_timetable import TertialTimetable`` (Airflow puts the plugins folder on sys.path).
The module is imported on every DAG parse: keep its imports light.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.plugins_manager import AirflowPlugin
from airflow.timetables.base import DagRunInfo, DataInterval, TimeRestriction, Timetable
from airflow.utils.types import DagRunType

from etl.periods import Period, PeriodError

if TYPE_CHECKING:
    from pendulum import DateTime

DEFAULT_TIMEZONE = "Europe/Stockholm"
DEFAULT_GRACE_DAYS = 15
TERTIAL_START_MONTHS = (1, 5, 9)
"""Months in which a tertial starts (T1, T2, T3)."""

_UTC = pendulum.UTC


def _utcnow() -> DateTime:
    """Current time (a seam for tests)."""
    return pendulum.now(_UTC)


def _swedish_ordinal(n: int) -> str:
    """16 -> '16:e', 21 -> '21:a', 12 -> '12:e' (Swedish day-of-month ordinals)."""
    suffix = "a" if n % 10 in (1, 2) and n % 100 not in (11, 12) else "e"
    return f"{n}:{suffix}"


class TertialTimetable(Timetable):
    """One run per tertial (T1 jan–apr, T2 maj–aug, T3 sep–dec), ``grace_days`` after it ends.

    :param grace_days: days between the end of the tertial (local midnight on the 1st) and
        the run; 15 means the run starts at 00:00 on the 16th.
    :param timezone: IANA name of the timezone whose midnights bound the tertials.
    :param last_start: local date; no scheduled run for a tertial starting after it.
    """

    def __init__(
        self,
        grace_days: int = DEFAULT_GRACE_DAYS,
        timezone: str = DEFAULT_TIMEZONE,
        last_start: dt.date | str | None = None,
    ) -> None:
        if isinstance(grace_days, bool) or not isinstance(grace_days, int) or grace_days < 0:
            raise ValueError(f"grace_days måste vara ett heltal >= 0, inte {grace_days!r}.")
        name = getattr(timezone, "name", timezone)  # also accept a pendulum Timezone
        try:
            tz = pendulum.timezone(name)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"Okänd tidszon {timezone!r}: {exc}") from exc
        self.grace_days = grace_days
        self.timezone_name = str(name)
        self._tz = tz
        if isinstance(last_start, str):
            last_start = dt.date.fromisoformat(last_start)
        self.last_start = last_start
        """No scheduled run for a tertial starting after this local date (manual runs unaffected)."""
        self.description = self._describe()

    # -- Airflow API -------------------------------------------------------------------------

    @property
    def summary(self) -> str:
        return "Tertial (T1 jan–apr, T2 maj–aug, T3 sep–dec)"

    def serialize(self) -> dict[str, Any]:
        data: dict[str, Any] = {"grace_days": self.grace_days, "timezone": self.timezone_name}
        if self.last_start is not None:
            data["last_start"] = self.last_start.isoformat()
        return data

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> TertialTimetable:
        return cls(
            grace_days=data.get("grace_days", DEFAULT_GRACE_DAYS),
            timezone=data.get("timezone", DEFAULT_TIMEZONE),
            last_start=data.get("last_start"),
        )

    def infer_manual_data_interval(self, *, run_after: DateTime) -> DataInterval:
        """The last tertial completed at ``run_after`` (its end <= run_after)."""
        end = self._floor(run_after)
        return DataInterval(start=self._shift(end, -1), end=end)

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        candidates: list[DateTime] = []
        if last_automated_data_interval is not None:
            # Normally the previous end. Aligned down (the schedule may have changed) but
            # always past the previous start, or the (dag_id, logical_date) key would clash.
            start = self._floor(last_automated_data_interval.end)
            if start <= last_automated_data_interval.start:
                start = self._shift(start, 1)
            candidates.append(start)
        if restriction.earliest is not None:
            candidates.append(self._ceil(restriction.earliest))
        if not restriction.catchup:
            # Start of the latest tertial completed now: nothing older is scheduled.
            candidates.append(self._shift(self._floor(_utcnow()), -1))
        if not candidates:
            return None  # first run, no start_date, catch-up: nothing to anchor on
        start = max(candidates)
        if restriction.latest is not None and start > restriction.latest:
            return None
        if self.last_start is not None and self._local(start).date() > self.last_start:
            return None
        end = self._shift(start, 1)
        return DagRunInfo(run_after=self.run_after_for(end), data_interval=DataInterval(start, end))

    def generate_run_id(
        self,
        *,
        run_type: DagRunType,
        run_after: DateTime,
        data_interval: DataInterval | None,
        **extra: Any,
    ) -> str:
        run_type = DagRunType(run_type)
        period = self.period_of(data_interval) if data_interval is not None else None
        if period is None:
            return run_type.generate_run_id(suffix=run_after.isoformat())
        if run_type in (DagRunType.SCHEDULED, DagRunType.BACKFILL_JOB):
            return run_type.generate_run_id(suffix=f"tertial__{period}")
        return run_type.generate_run_id(suffix=f"tertial__{period}__{run_after.isoformat()}")

    # -- Helpers (public for the DAG and tests) ----------------------------------------------

    def run_after_for(self, interval_end: dt.datetime) -> DateTime:
        """When the run for the tertial ending at ``interval_end`` may start (UTC)."""
        local = self._local(interval_end)
        return local.add(days=self.grace_days).in_timezone(_UTC)

    def interval_for(self, period: Period | str) -> DataInterval:
        """The data interval of ``period``'s tertial (for a manual run given ``period``)."""
        period = Period.parse(period) if isinstance(period, str) else period
        start = self._boundary(period.tertial_start.year, period.tertial_start.month)
        return DataInterval(start=start, end=self._shift(start, 1))

    def period_of(self, data_interval: DataInterval) -> Period | None:
        """The period whose tertial is exactly ``data_interval``, else None."""
        end = self._local(data_interval.end)
        if self._floor(end) != end or self._shift(end, -1) != self._local(data_interval.start):
            return None
        try:
            return Period.ending_at(end.date())
        except PeriodError:  # pragma: no cover - a local tertial boundary always ends a period
            return None

    # -- Internals -----------------------------------------------------------------------------

    def _local(self, moment: dt.datetime) -> DateTime:
        if moment.tzinfo is None:
            raise ValueError(f"Tidpunkten {moment!r} saknar tidszon.")
        return pendulum.instance(moment).in_timezone(self._tz)

    def _boundary(self, year: int, month: int) -> DateTime:
        """Local midnight on the 1st of ``month``, in UTC."""
        return pendulum.datetime(year, month, 1, tz=self._tz).in_timezone(_UTC)

    def _floor(self, moment: dt.datetime) -> DateTime:
        """The latest tertial boundary <= ``moment``."""
        local = self._local(moment)
        month = max(m for m in TERTIAL_START_MONTHS if m <= local.month)
        return self._boundary(local.year, month)

    def _ceil(self, moment: dt.datetime) -> DateTime:
        """The earliest tertial boundary >= ``moment``."""
        floor = self._floor(moment)
        return floor if floor == moment else self._shift(floor, 1)

    def _shift(self, boundary: DateTime, tertials: int) -> DateTime:
        """The boundary ``tertials`` tertials after (or before, if negative) ``boundary``."""
        local = self._local(boundary)
        index = local.year * 3 + TERTIAL_START_MONTHS.index(local.month) + tertials
        year, tertial = divmod(index, 3)
        return self._boundary(year, TERTIAL_START_MONTHS[tertial])

    def _describe(self) -> str:
        if self.grace_days == 0:
            when = "direkt när tertialet är slut (kl. 00:00 den 1:a i månaden efter)"
        elif self.grace_days <= 30:  # Jan, May and Sep have 31 days
            when = (
                f"{self.grace_days} dagar efter tertialets slut, kl. 00:00 den "
                f"{_swedish_ordinal(self.grace_days + 1)} i månaden efter"
            )
        else:
            when = f"{self.grace_days} dagar efter tertialets slut, kl. 00:00"
        return (
            "En körning per tertial: T1 jan–apr, T2 maj–aug, T3 sep–dec "
            f"(dataintervall från midnatt till midnatt, {self.timezone_name}). "
            f"Körs {when}, så att månadens registreringar hunnit bli klara. "
            "Rapporten avser året till och med tertialets slut."
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TertialTimetable):
            return NotImplemented
        return self.serialize() == other.serialize()

    def __hash__(self) -> int:
        return hash((type(self), self.grace_days, self.timezone_name, self.last_start))

    def __repr__(self) -> str:
        last = f", last_start={self.last_start.isoformat()!r}" if self.last_start else ""
        return f"TertialTimetable(grace_days={self.grace_days!r}, timezone={self.timezone_name!r}{last})"


class TertialTimetablePlugin(AirflowPlugin):
    """Registers :class:`TertialTimetable` so serialized DAGs can be deserialized."""

    name = "tertial_timetable_plugin"
    timetables = [TertialTimetable]
