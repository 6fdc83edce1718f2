"""config/plans/<year>.yml: one year's verksamhetsplan — årsmål, KF:s årsmål, budget, activities.

A run uses the plan of its period's year and never another year's: a year without a plan file
has no targets and no budget (judged "ej bedömt"). An analyst adds a year by copying
config/plans/TEMPLATE.yml; no code changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from etl.settings.base import Frozen, refuse_twice
from etl.vocabulary import ALL

MAX_TARGET = 1e9
"""Larger targets are typing errors (the largest real one is KF's 9,000 feriejobb)."""


class PlanIndicator(Frozen):
    id: str
    arsmal: dict[str, float | None]
    """Nämndens årsmål per scope (ALL and each district); None = no target in the plan."""
    kf_arsmal: float | None = None
    kf_arsmal_note: str | None = None
    source: str | None = None
    note: str | None = None

    @field_validator("arsmal")
    @classmethod
    def _targets(cls, value: dict[str, float | None]) -> dict[str, float | None]:
        for scope, target in value.items():
            if target is not None and not 0 <= target <= MAX_TARGET:
                raise ValueError(f"årsmålet {target} för {scope} ska ligga mellan 0 och {MAX_TARGET:g}")
        return value

    def target(self, scope: str = ALL) -> float | None:
        return self.arsmal.get(scope)


class BudgetRow(Frozen):
    id: str = "total"
    name: str
    scope: str
    """The district (or ``ALL``, the shared unit) whose costs the line covers."""
    kostnader: float
    intakter: float
    netto: float
    forandring: float
    varav_av: str | None = None
    """Id of the row this one is part of ("varav"); such rows are not added into the total."""
    note: str | None = None

    @model_validator(mode="after")
    def _net(self) -> BudgetRow:
        if abs(self.kostnader - self.intakter - self.netto) > 0.051:
            raise ValueError(
                f"{self.name}: netto {self.netto} ≠ kostnader {self.kostnader} − intäkter {self.intakter}"
            )
        return self


class Budget(Frozen):
    unit: Literal["mnkr", "tkr", "kr"]
    heading: str
    source: str | None = None
    rows: tuple[BudgetRow, ...] = Field(min_length=1)
    total: BudgetRow

    @property
    def scale(self) -> float:
        """Kronor per unit of the table."""
        return {"mnkr": 1_000_000.0, "tkr": 1_000.0, "kr": 1.0}[self.unit]

    def row(self, row_id: str) -> BudgetRow | None:
        return next((r for r in self.rows if r.id == row_id), None)


class Activity(Frozen):
    text: str
    goal: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None


class Plan(Frozen):
    year: int = Field(ge=2000, le=2100)
    title: str
    indicators: tuple[PlanIndicator, ...] = ()
    budget: Budget | None = None
    activities: tuple[Activity, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> Plan:
        refuse_twice([i.id for i in self.indicators])
        return self

    def indicator(self, indicator_id: str) -> PlanIndicator | None:
        return next((i for i in self.indicators if i.id == indicator_id), None)

    def target(self, indicator_id: str, scope: str = ALL) -> float | None:
        entry = self.indicator(indicator_id)
        return None if entry is None else entry.target(scope)

    def check_units(self, catalogue) -> None:
        """A share cannot be more than 100 % (a typed 150 is a typing error)."""
        for ind in self.indicators:
            if catalogue.get(ind.id).unit != "procent":
                continue
            for scope, target in ind.arsmal.items():
                if target is not None and target > 100:
                    raise ValueError(f"{ind.id}: årsmålet {target:g} för {scope} är mer än 100 procent")

    def check_scopes(self, scopes: tuple[str, ...]) -> None:
        for ind in self.indicators:
            if set(ind.arsmal) != set(scopes):
                raise ValueError(f"{ind.id}: arsmal ska ha nycklarna {list(scopes)}, har {list(ind.arsmal)}")
        rows = [*(self.budget.rows if self.budget else ()), *((self.budget.total,) if self.budget else ())]
        for row in rows:
            if row.scope not in scopes:
                raise ValueError(
                    f"budget: {row.name} har omfattningen {row.scope!r}; tillåtna: {list(scopes)}"
                )
