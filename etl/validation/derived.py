"""Derived row checks: the rules GX cannot express on one table, as boolean ``_ok_*`` columns.

References between tables, one registerledare per household, sex codes as in the previous
extract, first-of-month dates, ... are computed vectorised in pandas/Arrow and added to the
validation frame, where a GX ``expect_column_values_to_be_in_set`` on each column quarantines the
rows that fail. True where the row passes; null inputs pass (the not-null rules report them).
A check whose parent table is not staged is not evaluated (reported as a note).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

SEX_HISTORY = "_person_sex_before"
"""Key under which derived checks see the persons' sex codes before this extract (etl.sex_history)."""


class _NotStaged(LookupError):
    pass


@dataclass
class _Ctx:
    tables: Mapping[str, pd.DataFrame]

    def parent(self, name: str) -> pd.DataFrame:
        if name not in self.tables:
            raise _NotStaged(name)
        return self.tables[name]


def _exists(values: pd.Series, keys: pd.Series) -> np.ndarray:
    """Null, or found among ``keys``. In Arrow: pandas' ``isin`` on string columns converts the
    key set one Python object at a time (20 s for a national payment table's application ids).
    ``is_in`` builds one hash set of the keys (a ``unique`` first would build a second)."""
    arr = pa.array(values, from_pandas=True)
    key_set = pa.array(keys, from_pandas=True).drop_null().cast(arr.type)
    found = pc.is_in(arr, value_set=key_set).to_numpy(zero_copy_only=False).astype(bool)
    return found | values.isna().to_numpy(dtype=bool)


@dataclass(frozen=True)
class Check:
    """A derived check and the columns of its own table it reads: validation reads only those
    for it (a national table is never held whole for its checks)."""

    fn: Callable[[pd.DataFrame, _Ctx], np.ndarray]
    columns: tuple[str, ...]


def _first_of_month(col: str) -> Check:
    return Check(lambda df, ctx: (df[col].isna() | (df[col].dt.day == 1)).to_numpy(dtype=bool), (col,))


def _refers(col: str, parent: str, parent_col: str) -> Check:
    return Check(lambda df, ctx: _exists(df[col], ctx.parent(parent)[parent_col]), (col,))


def _one_registerledare(df: pd.DataFrame, ctx: _Ctx) -> np.ndarray:
    person = ctx.parent("person")
    leaders = person.loc[person["role"].eq("registerledare").fillna(False).astype(bool), "household_id"]
    leaders = leaders.value_counts()
    n = df["household_id"].map(leaders).fillna(0)
    return (df["household_id"].isna() | (n == 1)).to_numpy(dtype=bool)


def _sex_changed(person: pd.DataFrame, ctx: _Ctx) -> np.ndarray:
    """True where a person's sex code differs from the history before this extract."""
    before = ctx.tables.get(SEX_HISTORY)
    if before is None or before.empty:
        return np.zeros(len(person), dtype=bool)
    earlier = person["person_id"].map(before.drop_duplicates("person_id").set_index("person_id")["sex"])
    changed = earlier.notna() & person["sex"].notna() & person["sex"].ne(earlier)
    return changed.fillna(False).to_numpy(dtype=bool)


def _sex_as_before(df: pd.DataFrame, ctx: _Ctx) -> np.ndarray:
    return ~_sex_changed(df, ctx)


def _registerledare_sex_as_before(df: pd.DataFrame, ctx: _Ctx) -> np.ndarray:
    person = ctx.parent("person")
    leader = person["role"].eq("registerledare").fillna(False).to_numpy(dtype=bool)
    changed = person.loc[leader & _sex_changed(person, ctx), "household_id"].dropna()
    return ~_exists(df["household_id"], changed) | df["household_id"].isna().to_numpy(dtype=bool)


def _applicant_one_household(df: pd.DataFrame, ctx: _Ctx) -> np.ndarray:
    """At most one household (nulls not counted) per applicant and benefit month; rows with a
    null key pass. On integer codes, combined in place: a pandas groupby over the string columns
    held several copies of them (≈ 400 MB for national application, and twice the time)."""
    if not len(df):
        return np.ones(0, dtype=bool)
    key = pd.factorize(df["applicant_id"])[0]
    month = pd.factorize(df["benefit_month"])[0]
    keyed = (key >= 0) & (month >= 0)
    key *= int(month.max()) + 2  # applicant × (months + 2) + month, < rows²
    key += month
    del month
    key = pd.factorize(key)[0]  # < rows: no overflow below
    household = pd.factorize(df["household_id"])[0]
    n_households = max(int(household.max()) + 1, 1)
    counted = keyed & (household >= 0)
    pairs = key[counted]
    pairs *= n_households
    pairs += household[counted]
    del household, counted
    households = np.bincount(pd.unique(pairs) // n_households, minlength=int(key.max()) + 1)
    return ~keyed | (households[key] <= 1)


def _decision_complete(df: pd.DataFrame, ctx: _Ctx) -> np.ndarray:
    decided = df["decided_on"].notna()
    return ((df["decision"].notna() == decided) & (df["granted_sek"].notna() == decided)).to_numpy(dtype=bool)


def _outcome_when_ended(df: pd.DataFrame, ctx: _Ctx) -> np.ndarray:
    return (df["outcome"].isna() | df["ended_on"].notna()).to_numpy(dtype=bool)


def _within_employment(df: pd.DataFrame, ctx: _Ctx) -> np.ndarray:
    staff = ctx.parent("staff")[["staff_id", "employed_from", "employed_to"]]
    staff = staff.dropna(subset=["staff_id"]).drop_duplicates("staff_id")
    employment = df[["staff_id"]].merge(staff, on="staff_id", how="left")  # keeps df's row order
    start, end = employment["employed_from"].to_numpy(), employment["employed_to"].to_numpy()
    start, end = pd.Series(start, index=df.index), pd.Series(end, index=df.index)
    month_end = df["month"] + pd.offsets.MonthEnd(0)
    hours = (df["scheduled_hours"].fillna(0) > 0) | (df["sick_hours"].fillna(0) > 0)
    outside = (end.notna() & (df["month"] > end)) | (start.notna() & (month_end < start))
    return (~(hours & outside.fillna(False))).to_numpy(dtype=bool)


DERIVED: dict[str, dict[str, Check]] = {
    "population": {"_ok_district_exists": _refers("district_code", "district", "district_code")},
    "household": {
        "_ok_district_exists": _refers("district_code", "district", "district_code"),
        "_ok_one_registerledare": Check(_one_registerledare, ("household_id",)),
        "_ok_registerledare_sex_as_before": Check(_registerledare_sex_as_before, ("household_id",)),
    },
    "person": {
        "_ok_household_exists": _refers("household_id", "household", "household_id"),
        "_ok_sex_as_before": Check(_sex_as_before, ("person_id", "sex")),
    },
    "application": {
        "_ok_first_of_month": _first_of_month("benefit_month"),
        "_ok_decision_complete": Check(_decision_complete, ("decided_on", "decision", "granted_sek")),
        "_ok_household_exists": _refers("household_id", "household", "household_id"),
        "_ok_applicant_exists": _refers("applicant_id", "person", "person_id"),
        "_ok_applicant_one_household": Check(
            _applicant_one_household, ("applicant_id", "benefit_month", "household_id")
        ),
    },
    "payment": {
        "_ok_first_of_month": _first_of_month("benefit_month"),
        "_ok_household_exists": _refers("household_id", "household", "household_id"),
        "_ok_application_exists": _refers("application_id", "application", "application_id"),
    },
    "support_obstacle": {
        "_ok_first_of_month": _first_of_month("benefit_month"),
        "_ok_person_exists": _refers("person_id", "person", "person_id"),
    },
    "intervention": {
        "_ok_outcome_when_ended": Check(_outcome_when_ended, ("outcome", "ended_on")),
        "_ok_person_exists": _refers("person_id", "person", "person_id"),
    },
    "job_place": {"_ok_district_exists": _refers("district_code", "district", "district_code")},
    "staff_month": {
        "_ok_first_of_month": _first_of_month("month"),
        "_ok_staff_exists": _refers("staff_id", "staff", "staff_id"),
        "_ok_within_employment": Check(
            _within_employment, ("staff_id", "month", "scheduled_hours", "sick_hours")
        ),
    },
    "indicator_input": {"_ok_district_exists": _refers("district_code", "district", "district_code")},
    "booked_cost": {"_ok_district_exists": _refers("district_code", "district", "district_code")},
}


PARENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "district": ("district_code",),
    "household": ("household_id",),
    "person": ("person_id", "household_id", "role", "sex"),
    "application": ("application_id",),
    "staff": ("staff_id", "employed_from", "employed_to"),
}
"""The columns the checks above read of each table they look up (``_Ctx.parent``): validation
reads only these of a parent table, so it never holds every table whole."""


def derived_checks(
    name: str, read: Callable[[list[str]], pd.DataFrame], tables: Mapping[str, pd.DataFrame]
) -> tuple[dict, list[str]]:
    """The ``_ok_*`` columns of ``name``; and the checks that could not be evaluated.

    ``read`` gives the table's rows (a RangeIndex) of the columns asked for: called once per
    check with its ``Check.columns``, the result freed before the next check."""
    ctx, out, skipped = _Ctx(tables), {}, []
    for col, check in DERIVED.get(name, {}).items():
        df = read(list(check.columns))
        try:
            out[col] = check.fn(df, ctx)
        except _NotStaged as exc:
            out[col] = np.ones(len(df), dtype=bool)
            skipped.append(f"{col} (tabellen {exc.args[0]} finns inte i staging)")
        del df
    return out, skipped
