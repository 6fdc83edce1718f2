"""Booked costs and income per budget line (the source table booked_cost), year to date.

The budget follow-up compares each line of the year's plan with the outcome of the same scope:
ekonomiskt bistånd with the payouts (eb_utbetalt_kr), handläggning and arbetsmarknadsåtgärder
with what the ledger has booked. One figure per account × kind (kostnad, intäkt) and scope
(each district's own bookings; ALL = the sum), sex T only: not about individuals.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from etl.periods import Period
from etl.statistics.frames import sort_rows
from etl.vocabulary import ALL, BASIS, INTERNAL, NOT_INDIVIDUAL, RULE, require_columns

ACCOUNTS = {"handlaggning": "handlaggning", "arbetsmarknadsatgarder": "arbetsmarknad"}
"""booked_cost.account → the id part (ek_kostnad_<part>, ek_intakt_<part>)."""
AMOUNTS = {"cost_sek": "ek_kostnad", "income_sek": "ek_intakt"}
REQUIRED = {"booked_cost": ("month", "district_code", "account", "cost_sek", "income_sek")}


def ids() -> tuple[str, ...]:
    return tuple(f"{kind}_{part}" for part in ACCOUNTS.values() for kind in AMOUNTS.values())


def economy_statistics(
    tables: Mapping[str, pd.DataFrame], period: Period, districts: list[str]
) -> pd.DataFrame:
    """Booked kronor per account, kind and scope for the months of ``period`` (zeros included)."""
    require_columns(tables, REQUIRED)
    booked = tables["booked_cost"]
    if booked.empty:
        # Nothing booked at all (an empty or absent ledger export): no figures, so the Ekonomi
        # sheet says "saknas" instead of showing zero costs.
        return pd.DataFrame(columns=[c for c in INTERNAL if c != "period"])
    month = pd.to_datetime(booked["month"], errors="coerce")
    inside = (month >= pd.Timestamp(period.start)) & (month < pd.Timestamp(period.end_exclusive))
    rows = booked[inside & booked["account"].isin(list(ACCOUNTS))]
    sums = rows.groupby(["account", "district_code"])[list(AMOUNTS)].sum()
    out = []
    for account, part in ACCOUNTS.items():
        for column, kind in AMOUNTS.items():
            per = {d: float(sums[column].get((account, d), 0.0)) for d in districts}
            per[ALL] = float(sum(per.values()))
            for scope, value in per.items():
                out.append((f"{kind}_{part}", scope, value))
    frame = pd.DataFrame(out, columns=["indicator_id", "district_code", "value"])
    frame = frame.assign(
        sex="T", numerator=frame["value"], denominator=np.nan, unit="kr", **{BASIS: 0, RULE: NOT_INDIVIDUAL}
    )
    return sort_rows(frame)
