"""Enhetsmål with a measurable counterpart in the case data ("minskar/ökar" goals).

The plan's enhetsmål "Andelen bidragshushåll med socialmedicinska rehabiliteringsskäl som
bidragsgrund minskar" becomes eb_andel_hushall_sociala_skal: households paid for a benefit
month in P in which an adult member had the försörjningshinder ``sociala_skal`` for a benefit
month in P, per 100 households paid in P. Split like the other household figures: by the
household's district and its registerledare's sex. Judged against the same period of the
previous year (catalogue ``judgement: trend``).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from etl.periods import Period
from etl.statistics.frames import min_nonzero, ratio
from etl.vocabulary import ALL, BASIS, PERSONS, RULE, SEXES

SOCIAL = "sociala_skal"
INDICATOR = "eb_andel_hushall_sociala_skal"
REQUIRED = {
    "payment": ("household_id", "benefit_month"),
    "household": ("household_id", "district_code"),
    "person": ("person_id", "household_id", "role", "sex"),
    "support_obstacle": ("person_id", "benefit_month", "code"),
}
"""Validated tables and columns the share reads."""


def _in_period(months: pd.Series, period: Period) -> pd.Series:
    months = pd.to_datetime(months, errors="coerce")
    return (months >= pd.Timestamp(period.start)) & (months < pd.Timestamp(period.end_exclusive))


def social_share(tables: Mapping[str, pd.DataFrame], period: Period, districts: list[str]) -> pd.DataFrame:
    """eb_andel_hushall_sociala_skal for every district and ALL × T/K/M (zeros included)."""
    payment, household, person = tables["payment"], tables["household"], tables["person"]
    obstacle = tables["support_obstacle"]
    paid = payment.loc[_in_period(payment["benefit_month"], period), "household_id"].dropna().unique()
    social_people = obstacle.loc[
        _in_period(obstacle["benefit_month"], period) & (obstacle["code"] == SOCIAL), "person_id"
    ]
    social_hh = person.loc[person["person_id"].isin(social_people), "household_id"].dropna().unique()
    leaders = person[person["role"] == "registerledare"].drop_duplicates("household_id")
    frame = (
        household[household["household_id"].isin(paid)][["household_id", "district_code"]]
        .drop_duplicates("household_id")
        .merge(leaders[["household_id", "sex"]], on="household_id", how="left")
    )
    frame["social"] = frame["household_id"].isin(social_hh).astype("float64")
    frame["n"] = 1.0
    fine = frame.groupby(["district_code", "sex"], dropna=False)[["social", "n"]].sum().reset_index()
    fine = pd.concat([fine[fine["sex"].isin(["K", "M"])], fine.assign(sex="T")], ignore_index=True)
    fine = pd.concat([fine, fine.assign(district_code=ALL)], ignore_index=True)
    sums = fine.groupby(["district_code", "sex"])[["social", "n"]].sum()
    grid = pd.MultiIndex.from_product([[*districts, ALL], list(SEXES)], names=["district_code", "sex"])
    sums = sums.reindex(grid, fill_value=0.0)
    num, den = sums["social"], sums["n"]
    out = sums.reset_index()[["district_code", "sex"]]
    return out.assign(
        indicator_id=INDICATOR,
        numerator=num.to_numpy(),
        denominator=den.to_numpy(),
        value=ratio(num, den, 100).to_numpy(),
        unit="procent",
        # Both the households with and those without the reason could identify someone.
        **{BASIS: min_nonzero(num, den - num).to_numpy().astype("int64"), RULE: PERSONS},
    )
