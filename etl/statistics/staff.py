"""Staff statistics: headcount, årsarbetare and sick leave, for the unit only, by sex and age band.

Municipal annual reports give sick leave as a share of ordinary working time, in total, for women
and men and by age band (≤29, 30–49, ≥50), plus the share of long spells (day 60+). SKR computes
it as accumulated sick-leave hours / accumulated scheduled hours; so do we, over P's months.
The sick-leave figures carry the ``staff_group`` disclosure rule (not shown for groups of at most
ten employees, lagen om kommunal bokföring och redovisning); headcount and årsarbetare by sex and
age are not sensitive (the unit's own plan publishes them) and carry ``none``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from etl.periods import Period
from etl.settings.catalogue import AGE_BANDS as BAND_SUFFIXES
from etl.vocabulary import ALL, BASIS, NOT_INDIVIDUAL, PART_COLUMNS, RULE, SEXES, STAFF_GROUP, require_columns

COLUMNS = PART_COLUMNS

AGE_BANDS: dict[str, int | None] = dict(zip(BAND_SUFFIXES, (29, 49, None), strict=True))
"""Id suffix → inclusive upper age of the band (the annual-report bands ≤29, 30–49, ≥50).
The bands are part of the indicator ids (the catalogue's age_band family), not configuration."""

ALL_AGES = ""
"""Group key (and id suffix) for all ages together."""

REQUIRED = {
    "staff": ("staff_id", "sex", "birth_year", "employed_from", "employed_to"),
    "staff_month": (
        "staff_id",
        "month",
        "fte",
        "scheduled_hours",
        "sick_hours",
        "sick_hours_day_1_14",
        "sick_hours_day_60_plus",
    ),
}


def _age_band(birth_year: pd.Series, year: int) -> pd.Series:
    """Age band suffix from the age at the end of P (P's year − birth year)."""
    uppers = [u for u in AGE_BANDS.values() if u is not None]
    bins = [-np.inf, *uppers, np.inf]
    age = year - birth_year.astype("float64")
    return pd.cut(age, bins=bins, right=True, labels=list(AGE_BANDS)).astype("str")


def _groups(frame: pd.DataFrame) -> pd.DataFrame:
    """Each row once per group it belongs to: sex K/M and T × all ages and its own age band."""
    both = pd.concat([frame, frame.assign(sex="T")], ignore_index=True)
    return pd.concat([both.assign(group=ALL_AGES), both.assign(group=both["band"])], ignore_index=True)


def _grid() -> pd.MultiIndex:
    return pd.MultiIndex.from_product([[ALL_AGES, *AGE_BANDS], list(SEXES)], names=["group", "sex"])


def _rows(
    base_id: str,
    agg: pd.DataFrame,
    *,
    numerator: str,
    denominator: str | None,
    basis: str,
    unit: str,
    rule: str,
) -> pd.DataFrame:
    """One row per group × sex; a rate is NaN where its denominator is zero."""
    num = agg[numerator].astype("float64")
    if denominator is None:
        value = num
        den = pd.Series(pd.NA, index=agg.index, dtype="Float64")
    else:
        d = agg[denominator].astype("float64")
        value = (num / d.where(d != 0)) * 100
        den = d.astype("Float64")
    out = pd.DataFrame(
        {
            "indicator_id": base_id + agg.index.get_level_values("group"),
            "district_code": ALL,
            "sex": agg.index.get_level_values("sex"),
            "numerator": num.astype("Float64").array,
            "denominator": den.array,
            "value": value.astype("float64").to_numpy(),
            "unit": unit,
            BASIS: agg[basis].astype("int64").to_numpy(),
            RULE: rule,
        }
    )
    return out


def staff_statistics(tables: Mapping[str, pd.DataFrame], period: Period) -> pd.DataFrame:
    """pe_* indicators for the unit (district ``ALL``), T/K/M, all ages and each age band."""
    require_columns(tables, REQUIRED)
    staff = tables["staff"][["staff_id", "sex", "birth_year", "employed_from", "employed_to"]].copy()
    staff["sex"] = staff["sex"].astype("str")
    staff["band"] = _age_band(staff["birth_year"], period.year)
    grid = _grid()

    # Headcount on the last day of P.
    end = pd.Timestamp(period.end)
    employed = (staff["employed_from"] <= end) & (staff["employed_to"].isna() | (staff["employed_to"] >= end))
    on_last_day = _groups(staff.loc[employed.fillna(False).astype(bool)])
    heads = on_last_day.groupby(["group", "sex"])["staff_id"].nunique().reindex(grid, fill_value=0)
    heads = heads.to_frame("n")

    # Staff months within P, with each employee's sex and age band.
    sm = tables["staff_month"].merge(staff[["staff_id", "sex", "band"]], on="staff_id", how="inner")
    month = sm["month"]
    in_p = (month >= pd.Timestamp(period.start)) & (month < pd.Timestamp(period.end_exclusive))
    sm = sm.loc[in_p.fillna(False).astype(bool)].copy()
    last_month = pd.Timestamp(period.end.replace(day=1))
    sm["is_last_month"] = sm["month"] == last_month
    sm["fte_staff"] = sm["staff_id"].where(sm["is_last_month"] & (sm["fte"] > 0))
    sm["fte_last"] = sm["fte"].astype("float64").where(sm["is_last_month"], 0.0)
    sm["scheduled_staff"] = sm["staff_id"].where(sm["scheduled_hours"] > 0)
    hours = ["scheduled_hours", "sick_hours", "sick_hours_day_1_14", "sick_hours_day_60_plus"]
    for column in hours:
        sm[column] = sm[column].astype("float64")
    agg = (
        _groups(sm)
        .groupby(["group", "sex"])
        .agg(
            fte=("fte_last", "sum"),
            fte_staff=("fte_staff", "nunique"),
            scheduled_staff=("scheduled_staff", "nunique"),
            **{column: (column, "sum") for column in hours},
        )
        .reindex(grid, fill_value=0)
    )

    # The group a rate is about: employees with scheduled time in P, and no more than are
    # employed on the last day (the headcount beside it), so that no shown rate is about a
    # group the sheet shows as ten or fewer.
    n = heads["n"].reindex(agg.index).to_numpy()
    agg["group_size"] = np.where(
        n > 0, np.minimum(n, agg["scheduled_staff"].to_numpy()), agg["scheduled_staff"]
    )
    common = {"basis": "group_size", "unit": "procent", "rule": STAFF_GROUP}
    frames = [
        _rows(
            "pe_anstallda",
            heads,
            numerator="n",
            denominator=None,
            basis="n",
            unit="antal",
            rule=NOT_INDIVIDUAL,
        ),
        _rows(
            "pe_arsarbetare",
            agg,
            numerator="fte",
            denominator=None,
            basis="fte_staff",
            unit="årsarbetare",
            rule=NOT_INDIVIDUAL,
        ),
        _rows("pe_sjukfranvaro", agg, numerator="sick_hours", denominator="scheduled_hours", **common),
        _rows(
            "pe_sjukfranvaro_dag_1_14",
            agg,
            numerator="sick_hours_day_1_14",
            denominator="scheduled_hours",
            **common,
        ),
        _rows(
            "pe_langtidssjuk_andel",
            agg,
            numerator="sick_hours_day_60_plus",
            denominator="sick_hours",
            **common,
        ),
    ]
    out = pd.concat(frames, ignore_index=True)
    return out[COLUMNS].sort_values(["indicator_id", "district_code", "sex"], ignore_index=True)
