"""The demo's budget calibration: the host district's lines stay within ±15 % every 2018 tertial.

Computed by hand from the generated rows, as the Ekonomi sheet does it: the period's budget is
the plan's full-year amount × the share of last year's (2017) outcome that fell in the same
months; deviation = (period budget − outcome) / period budget.
"""

from __future__ import annotations

import pandas as pd
import pytest

from etl.settings import settings
from tests.support.demo import demo_tables

LIMIT = 15.0
"""Per cent: issue 13's calibration of the demo (the host district within ±15 %)."""


def _monthly(frame: pd.DataFrame, date: str, amount: str) -> pd.Series:
    """Kronor per (year, month)."""
    when = pd.to_datetime(frame[date])
    return frame[amount].astype(float).groupby([when.dt.year, when.dt.month]).sum()


def _deviations(monthly: pd.Series, annual_budget: float) -> dict[int, float]:
    """Tertial → deviation in per cent of the period's budget (2017's profile, 2018's outcome)."""
    out = {}
    for tertial, months in ((1, 4), (2, 8), (3, 12)):
        last = monthly[2017]
        share = last[last.index <= months].sum() / last.sum()
        outcome = monthly[2018][monthly[2018].index <= months].sum()
        period_budget = annual_budget * share
        out[tertial] = (period_budget - outcome) / period_budget * 100
    return out


@pytest.fixture(scope="module")
def tables():
    return demo_tables((2017, 2018, 2019))  # the years `make demo` generates


def _budget(line: str) -> tuple[float, str]:
    plan = settings().plan(2018)
    row = next(r for r in plan.budget.rows if r.id == line)
    return row.kostnader * plan.budget.scale, row.scope


def test_ostermalms_ekonomiskt_bistand_is_within_15_per_cent_of_its_budget(tables):
    budget, scope = _budget("ekonomiskt_bistand")
    assert (budget, scope) == (15_400_000, "OST")
    ost = tables["household"].loc[tables["household"]["district_code"] == "OST", "household_id"]
    paid = tables["payment"][tables["payment"]["household_id"].isin(ost)]
    deviations = _deviations(_monthly(paid, "benefit_month", "amount_sek"), budget)
    assert all(abs(d) <= LIMIT for d in deviations.values()), deviations


@pytest.mark.parametrize(
    ("line", "account"),
    [("handlaggningskostnader", "handlaggning"), ("arbetsmarknadsatgarder", "arbetsmarknadsatgarder")],
)
def test_booked_costs_are_within_15_per_cent_of_their_budget_lines(tables, line, account):
    budget, scope = _budget(line)
    booked = tables["booked_cost"][tables["booked_cost"]["account"] == account]
    if scope != "ALL":
        booked = booked[booked["district_code"] == scope]
    deviations = _deviations(_monthly(booked, "month", "cost_sek"), budget)
    assert all(abs(d) <= LIMIT for d in deviations.values()), deviations
