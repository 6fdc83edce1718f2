"""The demo ledger (booked_cost) is calibrated on the 2018 plan's budget lines."""

from __future__ import annotations

import numpy as np
import pytest

from demo.arrays import Window
from demo.ledger import HOST, booked_costs
from etl.settings import settings

LINES = {"handlaggning": "handlaggningskostnader", "arbetsmarknadsatgarder": "arbetsmarknadsatgarder"}


@pytest.mark.parametrize("seed", [2018, 1, 7])
def test_host_district_within_15_percent_of_the_2018_budget(seed):
    frame = booked_costs(Window((2017, 2018, 2019)), np.random.default_rng(seed))
    assert set(frame["district_code"]) == {HOST}
    assert len(frame) == 3 * 12 * 2  # every month of every year, two accounts
    budget = settings().plan(2018).budget
    year = frame[frame["month"].dt.year == 2018].groupby("account")[["cost_sek", "income_sek"]].sum()
    for account, line_id in LINES.items():
        line = budget.row(line_id)
        assert line.scope in (HOST, "ALL")
        cost, income = year.loc[account, "cost_sek"], year.loc[account, "income_sek"]
        assert abs(cost / (line.kostnader * budget.scale) - 1) <= 0.15, account
        assert abs(income / (line.intakter * budget.scale) - 1) <= 0.15, account


def test_summer_jobs_make_the_labour_market_costs_seasonal():
    frame = booked_costs(Window((2018,)), np.random.default_rng(2018))
    labour = frame[frame["account"] == "arbetsmarknadsatgarder"]
    labour = labour.set_index(labour["month"].dt.month)
    # July costs 2.5 times a spring month (profile 2.0 against 0.8), whatever the year's level.
    assert labour.loc[7, "cost_sek"] / labour.loc[3, "cost_sek"] == pytest.approx(2.5, rel=1e-6)


def test_booked_costs_refer_to_a_district_of_the_data_at_every_scale():
    """Östermalm hosts the ledger where the scale has it; the national scale (municipalities) books
    on its first district, so validation does not quarantine every booked_cost row."""
    import numpy as np

    from demo import SCALES, ledger
    from demo.arrays import Window

    for name, spec in SCALES.items():
        codes = [d.code for d in spec.districts]
        booked = ledger.booked_costs(Window((2018, 2019)), np.random.default_rng(0), codes)
        expected = "OST" if "OST" in codes else codes[0]
        assert set(booked["district_code"]) == {expected}, name
    assert any("OST" not in [d.code for d in spec.districts] for spec in SCALES.values())
