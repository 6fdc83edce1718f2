"""Måluppfyllelse: judging a result against the årsmål of its year's plan.

:func:`assess` is pure: it turns a result into ``uppfyllt``, ``delvis uppfyllt``, ``ej uppfyllt``,
``ej mätt`` or ``ej bedömt`` (or ``None``: the plan sets no target for the scope), with the figure
it judged and the target it judged it against. The catalogue's ``judgement`` says how a result is
judged before the year's end (the rule is written in Swedish under ``judgement.rule`` in
config/pipeline.yml):

- ``level``: the value against the årsmål (rolling rates, indices, sick leave).
- ``count``: the linear helårsprognos (value × 12 / months) against the årsmål.
- ``annual_share``: a share that grows over the year (anyone helped at some time this year) is
  never a year-to-date value against an annual target: the prognosis is the value × last year's
  full-year / same-period ratio; without last year's figures it is judged only for the full year.
- ``seasonal_count``: a count with a season (feriejobb): the prognosis is the value / the share
  of last year's full-year count reached by the same months; without it, only at year end.
- ``trend``: a "minskar/ökar" goal, against the same period of the previous year.

Better or equal → ``uppfyllt``; worse by at most the tolerance (relative to the target, boundary
included) → ``delvis uppfyllt``; further → ``ej uppfyllt`` (trend: unchanged → ``delvis``).
Both sides are rounded to the decimals the workbook shows (:func:`shown_decimals`) before they
are compared, so the text never contradicts the numbers beside it. Annual indicators before the
full year, and missing values → ``ej mätt``. A year without a plan → ``ej bedömt``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from etl.settings import Entry, Plan, settings
from etl.vocabulary import ALL

Judgement = Literal["uppfyllt", "delvis uppfyllt", "ej uppfyllt", "ej mätt", "ej bedömt"]
UPPFYLLT: Judgement = "uppfyllt"
DELVIS: Judgement = "delvis uppfyllt"
EJ_UPPFYLLT: Judgement = "ej uppfyllt"
EJ_MATT: Judgement = "ej mätt"
EJ_BEDOMT: Judgement = "ej bedömt"
_EPS = 1e-9
"""Slack for float comparisons at the target and the tolerance boundary (both inclusive)."""
IN_VB = "bedöms i verksamhetsberättelsen"


@dataclass(frozen=True)
class History:
    """The previous year's figures of the same indicator and scope (None: not available)."""

    same_period: float | None = None
    """The previous year's value for the same months."""
    full_year: float | None = None
    """The previous year's value for the full year."""


@dataclass(frozen=True)
class Assessment:
    judgement: Judgement | None
    compared: float | None = None
    """The figure judged (value or helårsprognos), rounded as shown; None when nothing was."""
    target: float | None = None
    """What it was judged against (årsmål, or last year's value for trend), rounded as shown."""
    basis: str = ""
    """How it was judged, in Swedish, for the workbook's comment."""


def no_plan_text(year: int) -> str:
    """What managers read where a year has no plan."""
    return f"Inget årsmål för {year} i planen"


def _decimals(x: float | None) -> int:
    if x is None:
        return 0
    text = f"{x:.10g}"
    return min(2, len(text.split(".")[1])) if "." in text else 0


def shown_decimals(entry: Entry, plan: Plan | None) -> int:
    """Decimals the workbook shows an indicator's targets and results with: as many as its
    targets in the year's plan (a share at least one), so a result never looks like its target."""
    planned = plan.indicator(entry.id) if plan else None
    values = [*planned.arsmal.values(), planned.kf_arsmal] if planned else []
    d = max((_decimals(v) for v in values), default=0)
    return max(1, d) if entry.unit == "procent" else d


def shown(value: float, decimals: int) -> float:
    """``value`` rounded as a spreadsheet shows it (half away from zero)."""
    scale = 10**decimals
    return math.copysign(math.floor(abs(value) * scale + 0.5 + _EPS), value) / scale


def prognosis(value: float, months: int) -> float:
    """Linear helårsprognos for a count accumulated over the first ``months`` months."""
    if not 1 <= months <= 12:
        raise ValueError(f"months ska vara 1–12, fick {months}.")
    return value * 12 / months


def period_target(entry: Entry, plan: Plan | None, months: int, scope: str = ALL) -> float | None:
    """The årsmål pro-rated to ``months`` for counts (what the e-mail shows beside a count)."""
    target = None if plan is None else plan.target(entry.id, scope)
    if target is None:
        return None
    return target * months / 12 if entry.is_count else target


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _sv(x: float) -> str:
    return f"{x:.2f}".replace(".", ",")


def _forecast(entry: Entry, value: float, months: int, history: History) -> tuple[float | None, str]:
    """The full-year figure a year-to-date ``value`` is judged as, and how it was made."""
    if months == 12 or entry.judgement == "level":
        return value, ""
    if entry.judgement == "count":
        return prognosis(value, months), f"Helårsprognos linjär: utfall × 12 / {months}."
    last, full = history.same_period, history.full_year
    if _missing(last) or _missing(full) or not last or not full:
        when = IN_VB if entry.judgement == "annual_share" else "bedöms vid årets slut"
        return None, f"Förra årets helår och motsvarande period saknas: {when}."
    if entry.judgement == "annual_share":
        ratio = full / last
        return value * ratio, (
            f"Helårsprognos: utfall × {_sv(ratio)} (förra årets helår / samma period förra året)."
        )
    share = last / full  # seasonal_count: how much of last year's count had come by now
    return value / share, (
        f"Helårsprognos efter förra årets säsong: utfall / {_sv(share)} "
        f"(andel av förra årets antal som kommit t.o.m. samma månad)."
    )


def _verdict(shortfall: float, target: float, tol: float) -> Judgement:
    if shortfall <= _EPS * max(1.0, abs(target)):
        return UPPFYLLT
    if shortfall <= tol * abs(target) + _EPS * max(1.0, abs(target)):
        return DELVIS
    return EJ_UPPFYLLT


def assess(
    entry: Entry,
    plan: Plan | None,
    value: float | None,
    period_months: int,
    scope: str = ALL,
    history: History | None = None,
    tolerance: float | None = None,
) -> Assessment:
    """Judge one result (year to date, ``period_months`` = 4, 8 or 12) for ``scope``.

    ``plan`` is the plan of the result's year (None: there is none → ``ej bedömt``);
    ``history`` the previous year's figures for the prognosis and trend kinds.
    """
    if not 1 <= period_months <= 12:
        raise ValueError(f"period_months ska vara 1–12, fick {period_months}.")
    history = history or History()
    if plan is None:
        return Assessment(EJ_BEDOMT, basis="Ingen verksamhetsplan för året: ej bedömt.")
    if entry.annual_only and period_months < 12:
        return Assessment(EJ_MATT, basis=f"Mäts för helår (periodicitet År): {IN_VB}.")
    d = shown_decimals(entry, plan)
    tol = settings().pipeline.judgement.tolerance_delvis if tolerance is None else tolerance
    worse = 1.0 if entry.direction == "lower_is_better" else -1.0
    if entry.judgement == "trend":
        if plan.indicator(entry.id) is None:
            return Assessment(None)
        last = history.same_period
        if _missing(value) or _missing(last):
            return Assessment(EJ_MATT, basis="Värdet för samma period förra året saknas.")
        now, before = shown(value, d), shown(last, d)
        change = (now - before) * worse
        verdict = UPPFYLLT if change < -_EPS else DELVIS if abs(change) <= _EPS else EJ_UPPFYLLT
        how = f"Målet: {entry.trend_word}; jämförs med samma period förra året."
        return Assessment(verdict, now, before, how)
    target = plan.target(entry.id, scope)
    if target is None:
        return Assessment(None)
    if _missing(value):
        return Assessment(EJ_MATT, basis="Inget utfall för perioden.")
    forecast, how = _forecast(entry, value, period_months, history)
    if forecast is None:
        return Assessment(EJ_MATT, basis=how)
    compared, goal = shown(forecast, d), shown(target, d)
    return Assessment(_verdict((compared - goal) * worse, goal, tol), compared, goal, how)


def judge(
    entry: Entry,
    plan: Plan | None,
    value: float | None,
    period_months: int,
    scope: str = ALL,
    tolerance: float | None = None,
    history: History | None = None,
) -> Judgement | None:
    """The judgement word of :func:`assess` (None: the plan has no årsmål for the scope)."""
    return assess(entry, plan, value, period_months, scope, history, tolerance).judgement
