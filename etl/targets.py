"""Måluppfyllelse: judging a result against the årsmål of its year's plan.

:func:`judge` is pure: it turns a result into ``uppfyllt``, ``delvis uppfyllt``, ``ej uppfyllt``,
``ej mätt`` or ``ej bedömt`` (or ``None``: the plan sets no target for the scope) by the rule
written in Swedish under ``judgement.rule`` in config/pipeline.yml:

- Rates and indices are compared with the årsmål directly; counts (unit ``antal``) with the
  årsmål pro-rated to the period, ``årsmål × months / 12`` (the same as comparing the linear
  helårsprognos, :func:`prognosis`, with the årsmål).
- Equal to or better than the target (per the catalogue's ``direction``) → ``uppfyllt``; worse
  but at most the tolerance (relative to the target; boundary included) away → ``delvis
  uppfyllt``; further away → ``ej uppfyllt``.
- Annual indicators (periodicity ``år``) before the full year, and a missing value → ``ej mätt``.
- A year without a plan → ``ej bedömt``: a result is never judged against another year's plan.
"""

from __future__ import annotations

import math
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


def no_plan_text(year: int) -> str:
    """What managers read where a year has no plan."""
    return f"Inget årsmål för {year} i planen"


def prognosis(value: float, months: int) -> float:
    """Linear helårsprognos for a count accumulated over the first ``months`` months."""
    if not 1 <= months <= 12:
        raise ValueError(f"months ska vara 1–12, fick {months}.")
    return value * 12 / months


def period_target(entry: Entry, plan: Plan | None, months: int, scope: str = ALL) -> float | None:
    """The target a result for ``months`` months is judged against (pro-rated for counts)."""
    target = None if plan is None else plan.target(entry.id, scope)
    if target is None:
        return None
    return target * months / 12 if entry.is_count else target


def judge(
    entry: Entry,
    plan: Plan | None,
    value: float | None,
    period_months: int,
    scope: str = ALL,
    tolerance: float | None = None,
) -> Judgement | None:
    """Judge one result (year to date, ``period_months`` = 4, 8 or 12) for ``scope``.

    ``plan`` is the plan of the result's year (None: there is none → ``ej bedömt``). Returns
    None when the plan has no årsmål for the scope. ``tolerance`` defaults to the configured one.
    """
    if not 1 <= period_months <= 12:
        raise ValueError(f"period_months ska vara 1–12, fick {period_months}.")
    if plan is None:
        return EJ_BEDOMT
    if entry.annual_only and period_months < 12:
        return EJ_MATT
    target = period_target(entry, plan, period_months, scope)
    if target is None:
        return None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return EJ_MATT
    tol = settings().pipeline.judgement.tolerance_delvis if tolerance is None else tolerance
    # Shortfall: how far the value is on the wrong side of the target (≤ 0 = met).
    shortfall = value - target if entry.direction == "lower_is_better" else target - value
    if shortfall <= _EPS * max(1.0, abs(target)):
        return UPPFYLLT
    if shortfall <= tol * abs(target) + _EPS * max(1.0, abs(target)):
        return DELVIS
    return EJ_UPPFYLLT
