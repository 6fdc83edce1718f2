"""Booked costs and income per month (source table booked_cost) for the budget follow-up.

Calibrated on the 2018 plan's budget table (config/plans/2018.yml, Östermalm's budget: the unit
is run by Östermalm's stadsdelsförvaltning, so its handläggning and arbetsmarknadsåtgärder are
booked there; Kungsholmen and Norrmalm pay their share of handläggning as income). Each year's
outcome lies within a few per cent of that year's budget (the year before 2018: the 2018 budget
less its "förändring"), so the host district stays well within ±15 % of budget. Months follow a
profile: handläggning is flat with a July dip and a December peak; arbetsmarknadsåtgärder peak
in summer (feriejobb); the co-financing income is invoiced quarterly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from demo.arrays import Window

HOST = "OST"
BUDGET_2018 = {
    # account: (kostnader, intäkter, förändring of the net from 2017), mnkr
    "handlaggning": (21.5, 14.3, 0.6),
    "arbetsmarknadsatgarder": (13.1, 7.4, 0.8),
}
COST_PROFILE = {
    "handlaggning": np.array([1, 1, 1, 1, 1, 1, 0.6, 1, 1, 1, 1, 1.4]),
    "arbetsmarknadsatgarder": np.array([0.8, 0.8, 0.8, 0.8, 0.8, 1.6, 2.0, 1.4, 0.8, 0.8, 0.7, 0.7]),
}
INCOME_PROFILE = {
    "handlaggning": np.array([0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1], dtype=float),
    "arbetsmarknadsatgarder": np.ones(12),
}
NOISE = 0.03
"""Relative spread of a year's outcome around its budget."""


def booked_costs(win: Window, rng: np.random.Generator, districts: Sequence[str] = (HOST,)) -> pd.DataFrame:
    """One row per month, account and the host district (costs and income in kronor): Östermalm,
    or where the scale has no Östermalm (national: municipalities), its first district, so every
    row refers to a district of the data (validation quarantines the others)."""
    host = HOST if HOST in districts else districts[0]
    rows = []
    for year in win.years:
        for account, (cost, income, change) in BUDGET_2018.items():
            # A year's budget: 2018's, shifted by the yearly change of the net (on the costs).
            shift = change * (year - 2018)
            level = 1 + rng.normal(0.0, NOISE)
            costs = (cost + shift) * 1e6 * level * COST_PROFILE[account] / COST_PROFILE[account].sum()
            earned = income * 1e6 * level * INCOME_PROFILE[account] / INCOME_PROFILE[account].sum()
            for month in range(12):
                rows.append(
                    (np.datetime64(f"{year}-{month + 1:02d}-01"), host, account,
                     round(float(costs[month]), 2), round(float(earned[month]), 2))
                )  # fmt: skip
    frame = pd.DataFrame(rows, columns=["month", "district_code", "account", "cost_sek", "income_sek"])
    frame["month"] = pd.to_datetime(frame["month"])
    return frame
