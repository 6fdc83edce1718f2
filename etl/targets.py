"""The plan's indicators, årsmål and budget (config/indicators.yml) and the judgement rule.

Read once into frozen dataclasses. :func:`judge` is pure: it turns a result into
``uppfyllt``, ``delvis uppfyllt``, ``ej uppfyllt`` or ``ej mätt`` (or ``None``: no target, no
judgement) by the rule written in Swedish under ``judgement.rule`` in the YAML:

- Rates and indices (unit ``procent``/``index``) are compared with the årsmål directly.
- Counts (unit ``antal``) are compared with the årsmål pro-rated to the period,
  ``årsmål × months / 12``; equivalently the linear helårsprognos (:func:`prognosis`,
  ``value × 12 / months``) is compared with the årsmål.
- Equal to or better than the target (lower or higher, per ``direction``) → ``uppfyllt``;
  worse but at most ``tolerance`` (relative to the target; the boundary included) away →
  ``delvis uppfyllt``; further away → ``ej uppfyllt``.
- Annual-only indicators (periodicity ``år``) in a period shorter than 12 months (T1, T2),
  and a missing value → ``ej mätt``.
- No årsmål for the scope (e.g. "Fastställs 2018", or a staff index per district) → ``None``:
  the figure is reported without a judgement. KF:s årsmål is shown for comparison only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Literal

import yaml

from etl.config import ALL, CONFIG_DIR, scopes

Judgement = Literal["uppfyllt", "delvis uppfyllt", "ej uppfyllt", "ej mätt"]
UPPFYLLT: Judgement = "uppfyllt"
DELVIS: Judgement = "delvis uppfyllt"
EJ_UPPFYLLT: Judgement = "ej uppfyllt"
EJ_MATT: Judgement = "ej mätt"

UNITS = ("procent", "antal", "index")
PERIODICITIES = ("tertial", "år")
DIRECTIONS = ("lower_is_better", "higher_is_better")
_EPS = 1e-9
"""Slack for float comparisons at the target and the tolerance boundary (both inclusive)."""


@dataclass(frozen=True)
class Target:
    """Nämndens årsmål for one scope: ``ALL`` (the unit) or a district code; None = no target."""

    scope: str
    value: float | None


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    kf_inriktningsmal: str
    kf_omrade: str
    namndmal: str | None
    unit: str
    arsmal: tuple[Target, ...]
    kf_arsmal: float | None
    kf_arsmal_note: str | None
    periodicity: str
    direction: str
    individual_based: bool
    source: str
    note: str | None = None

    def target(self, scope: str = ALL) -> float | None:
        """The årsmål for ``scope`` (``ALL`` or a district code); None where the plan has none."""
        for t in self.arsmal:
            if t.scope == scope:
                return t.value
        return None

    @property
    def is_count(self) -> bool:
        return self.unit == "antal"

    @property
    def annual_only(self) -> bool:
        return self.periodicity == "år"


@dataclass(frozen=True)
class JudgementRule:
    tolerance_delvis: float
    rule: str


@dataclass(frozen=True)
class BudgetRow:
    id: str
    name: str
    kostnader: float
    intakter: float
    netto: float
    forandring: float
    varav_av: str | None = None
    """Id of the row this one is part of ("varav"); such rows are not added into the total."""
    note: str | None = None


@dataclass(frozen=True)
class Budget:
    unit: str
    heading: str
    source: str
    rows: tuple[BudgetRow, ...]
    total: BudgetRow

    def row(self, row_id: str) -> BudgetRow:
        return next(r for r in self.rows if r.id == row_id)


def _number(x) -> float | None:
    return None if x is None else float(x)


def _indicator(raw: dict, scopes: tuple[str, ...]) -> Indicator:
    ind_id = raw["id"]
    for key, allowed in (("unit", UNITS), ("periodicity", PERIODICITIES), ("direction", DIRECTIONS)):
        if raw[key] not in allowed:
            raise ValueError(f"indicators.yml, {ind_id}: {key} {raw[key]!r} är inte en av {allowed}.")
    arsmal = raw["arsmal"]
    if set(arsmal) != set(scopes):
        raise ValueError(f"indicators.yml, {ind_id}: arsmal ska ha nycklarna {scopes}, har {tuple(arsmal)}.")
    return Indicator(
        id=ind_id,
        name=" ".join(str(raw["name"]).split()),
        kf_inriktningsmal=raw["kf_inriktningsmal"],
        kf_omrade=raw["kf_omrade"],
        namndmal=raw.get("namndmal"),
        unit=raw["unit"],
        arsmal=tuple(Target(scope, _number(arsmal[scope])) for scope in scopes),
        kf_arsmal=_number(raw.get("kf_arsmal")),
        kf_arsmal_note=raw.get("kf_arsmal_note"),
        periodicity=raw["periodicity"],
        direction=raw["direction"],
        individual_based=bool(raw["individual_based"]),
        source=raw["source"],
        note=raw.get("note"),
    )


@cache
def _raw() -> dict:
    with open(CONFIG_DIR / "indicators.yml", encoding="utf-8") as f:
        return yaml.safe_load(f)


@cache
def indicators() -> dict[str, Indicator]:
    """Every indicator of the plan by id, in the plan's order (scopes as in pipeline.yml)."""
    scope_codes = tuple(scopes())
    out: dict[str, Indicator] = {}
    for raw in _raw()["indicators"]:
        ind = _indicator(raw, scope_codes)
        if ind.id in out:
            raise ValueError(f"indicators.yml: indikatorn {ind.id} finns två gånger.")
        out[ind.id] = ind
    return out


@cache
def judgement_rule() -> JudgementRule:
    raw = _raw()["judgement"]
    tolerance = float(raw["tolerance_delvis"])
    if not 0 <= tolerance < 1:
        raise ValueError(f"indicators.yml: judgement.tolerance_delvis {tolerance} ska vara i [0, 1).")
    return JudgementRule(tolerance_delvis=tolerance, rule=" ".join(str(raw["rule"]).split()))


def _budget_row(raw: dict, default_id: str = "") -> BudgetRow:
    return BudgetRow(
        id=raw.get("id", default_id),
        name=raw["name"],
        kostnader=float(raw["kostnader"]),
        intakter=float(raw["intakter"]),
        netto=float(raw["netto"]),
        forandring=float(raw["forandring"]),
        varav_av=raw.get("varav_av"),
        note=raw.get("note"),
    )


@cache
def budget_2018() -> Budget:
    raw = _raw()["budget_2018"]
    return Budget(
        unit=raw["unit"],
        heading=raw["heading"],
        source=raw["source"],
        rows=tuple(_budget_row(r) for r in raw["rows"]),
        total=_budget_row(raw["total"], "total"),
    )


def prognosis(value: float, months: int) -> float:
    """Linear helårsprognos for a count accumulated over the first ``months`` months."""
    if not 1 <= months <= 12:
        raise ValueError(f"months ska vara 1–12, fick {months}.")
    return value * 12 / months


def period_target(indicator: Indicator, months: int, scope: str = ALL) -> float | None:
    """The target a result for ``months`` months is judged against (pro-rated for counts)."""
    target = indicator.target(scope)
    if target is None:
        return None
    return target * months / 12 if indicator.is_count else target


def judge(
    indicator: Indicator,
    value: float | None,
    period_months: int,
    scope: str = ALL,
    tolerance: float | None = None,
) -> Judgement | None:
    """Judge one result (year to date, ``period_months`` = 4, 8 or 12) for ``scope``.

    Returns ``None`` when the plan has no årsmål for the scope (no judgement is made).
    ``tolerance`` defaults to ``judgement.tolerance_delvis`` in the YAML.
    """
    if not 1 <= period_months <= 12:
        raise ValueError(f"period_months ska vara 1–12, fick {period_months}.")
    if indicator.annual_only and period_months < 12:
        return EJ_MATT
    target = period_target(indicator, period_months, scope)
    if target is None:
        return None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return EJ_MATT
    tol = judgement_rule().tolerance_delvis if tolerance is None else tolerance
    # Shortfall: how far the value is on the wrong side of the target (≤ 0 = met).
    shortfall = value - target if indicator.direction == "lower_is_better" else target - value
    if shortfall <= _EPS * max(1.0, abs(target)):
        return UPPFYLLT
    if shortfall <= tol * abs(target) + _EPS * max(1.0, abs(target)):
        return DELVIS
    return EJ_UPPFYLLT
