"""Gender analysis: does the applicant's sex affect how much assistance is granted?

The unit's gender-equality project asks this of single-adult households (household types 3–6),
where the applicant (registerledare) is the only adult, so the decision is about one person.
Decisions made in P (``decided_on`` within P) are compared by the applicant's sex, per district
and for the unit:

- ``ja_avslag_andel``: avslag / all decisions × 100;
- ``ja_beviljat_kr_medel``: mean granted amount among bifall and delvis_bifall;
- ``ja_beviljat_andel_av_ansokt``: Σ granted / Σ applied × 100 over all decisions (a missing
  granted amount counts as 0);
- ``ja_handlaggningstid_median``: median days from received_on to decided_on.

Beside them, per sex: applicants and decisions (``ja_sokande_antal``, ``ja_beslut_antal``),
intervals for the two shares (etl.statistics.gender_intervals) and the women-minus-men
differences of the shares and of the mean (``*_skillnad``, T only).

A naive comparison is confounded: women are far more often single parents, whose need is higher.
``ja_beviljat_kr_justerad_skillnad`` is therefore women's minus men's mean granted amount,
directly standardised over strata (with/without children × the applicant's försörjningshinder
main group in the benefit month; several codes that month: the first in sorted order; none:
its own group "saknas"), with the small-strata rule, bootstrap interval, leave-one-household-out
influence and multimodality check of etl.statistics.gender_adjusted. The peer estimate
``ja_beviljat_kr_regression_skillnad`` (OLS with stratum fixed effects, cluster-robust by
household) is etl.statistics.gender_regression.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from etl.periods import Period
from etl.settings.pipeline import GenderAnalysis as GenderAnalysisConfig
from etl.statistics.frames import min_nonzero, ratio
from etl.statistics.gender_adjusted import adjusted_difference
from etl.statistics.gender_intervals import design_effect, newcombe, ratio_variance, wilson, z_value
from etl.statistics.gender_regression import regression_by_scope
from etl.vocabulary import ALL, BASIS, PART_COLUMNS, PERSONS, RULE, SEXES, require_columns

COLUMNS = PART_COLUMNS

SINGLE_ADULT_TYPES = (3, 4, 5, 6)
"""Socialstyrelsen household types with one adult: single man (3) / woman (5), with children 4 / 6."""
TYPES_WITH_CHILDREN = (4, 6)
AVSLAG = "avslag"
GRANTED_DECISIONS = ("bifall", "delvis_bifall")
NO_OBSTACLE = "saknas"
"""Stratum label for an applicant without a registered försörjningshinder that month."""
WOMEN, MEN = "K", "M"

DIFF_ID = "ja_beviljat_kr_justerad_skillnad"
LOW_ID = f"{DIFF_ID}_ki_lag"
HIGH_ID = f"{DIFF_ID}_ki_hog"
REGRESSION_ID = "ja_beviljat_kr_regression_skillnad"
EXCLUDED_ID = "ja_justerad_utesluten_andel"
FRAGILE_ID = "ja_justerad_fa_hushall"
MULTIMODAL_ID = "ja_justerad_flera_toppar"
LOW, HIGH = "_ki_lag", "_ki_hog"

__all__ = ["REQUIRED", "adjusted_difference", "decisions_in_period", "gender_statistics"]

REQUIRED = {
    "application": (
        "application_id",
        "household_id",
        "applicant_id",
        "received_on",
        "decided_on",
        "benefit_month",
        "applied_sek",
        "granted_sek",
        "decision",
    ),
    "household": ("household_id", "district_code", "household_type"),
    "person": ("person_id", "sex"),
    "support_obstacle": ("person_id", "benefit_month", "code"),
}


# --------------------------------------------------------------------------- the decisions


def _rows_of(keys: pd.Series, table: str, key: pd.Series) -> np.ndarray:
    """Row of ``key`` (a table's primary key) for each of ``keys``, -1 where unknown."""
    index = pd.Index(key)
    if not index.is_unique:
        raise ValueError(f"Statistiken kan inte beräknas: {key.name} i tabellen {table} är inte unik.")
    return index.get_indexer(keys)


def _id(values: pd.Series) -> np.ndarray:
    """An id column as it is (integer codes, etl.statistics.inputs) or as text."""
    coded = pd.api.types.is_integer_dtype(values.dtype)
    return values.to_numpy() if coded else values.astype("str").to_numpy()


def decisions_in_period(tables: Mapping[str, pd.DataFrame], period: Period) -> pd.DataFrame:
    """Decided applications in P for single-adult households, with district, sex and stratum.

    In the applications' own row order (the order every later sum is taken in). Columns are taken
    by row position, only for the decisions kept: no copy of the application or
    support_obstacle tables (hundreds of MB on a national extract).
    """
    require_columns(tables, REQUIRED)
    app = tables["application"]
    decided_on = app["decided_on"]
    in_p = (
        decided_on.notna()
        & (decided_on >= pd.Timestamp(period.start))
        & (decided_on <= pd.Timestamp(period.end))
        & app["decision"].notna()
    )
    rows = np.flatnonzero(in_p.fillna(False).astype(bool).to_numpy())
    household = tables["household"]
    hh = _rows_of(app["household_id"].take(rows), "household", household["household_id"])
    household_type = household["household_type"].to_numpy(dtype="float64", na_value=np.nan)
    single = (hh >= 0) & np.isin(household_type[hh], SINGLE_ADULT_TYPES)
    person = tables["person"]
    who = _rows_of(app["applicant_id"].take(rows), "person", person["person_id"])
    keep = single & (who >= 0)
    rows, hh, who = rows[keep], hh[keep], who[keep]

    def column(name: str) -> pd.Series:
        return app[name].take(rows).reset_index(drop=True)

    applicant, month = column("applicant_id"), column("benefit_month")
    # Försörjningshinder of the applicant in the benefit month: the first code in sorted order.
    # Codes are numbered in sorted order (the minimum number is the first code), and only the
    # rows of these applicants and months are numbered and copied (groups are whole, so the same minimum).
    support = tables["support_obstacle"]
    wanted = (
        support["person_id"].isin(applicant.unique())
        & support["benefit_month"].isin(month.unique())
        & support["benefit_month"].notna()
        & support["code"].notna()
    ).to_numpy()
    number, names = pd.factorize(support["code"][wanted], sort=True)
    obstacle = support.loc[wanted, ["person_id", "benefit_month"]].assign(code=number)
    first = obstacle.groupby(["person_id", "benefit_month"])["code"].min()
    code = pd.DataFrame({"applicant_id": applicant, "benefit_month": month}).merge(
        first, left_on=["applicant_id", "benefit_month"], right_index=True, how="left"
    )["code"]
    with_children = np.isin(household_type[hh], TYPES_WITH_CHILDREN)
    # The stratum label of each (children, code) pair, made once per pair, not once per decision.
    labels = [NO_OBSTACLE, *names.astype("str")]
    pair = with_children.astype(np.int64) * len(labels) + code.fillna(-1).to_numpy(dtype=np.int64) + 1
    strata = [f"{c}|{label}" for c in ("utan_barn", "med_barn") for label in labels]
    stratum = pd.Series(strata, dtype="str").take(pair).array

    decision = column("decision").astype("str")
    return pd.DataFrame(
        {
            "application_id": _id(column("application_id")),
            "household_id": _id(column("household_id")),
            "applicant_id": _id(applicant),
            "district_code": household["district_code"].take(hh).astype("str").array,
            "sex": person["sex"].take(who).astype("str").array,
            "stratum": stratum,
            "avslag": (decision == AVSLAG).to_numpy(),
            "granted": decision.isin(GRANTED_DECISIONS).to_numpy(),
            "granted_sek": column("granted_sek").astype("float64").fillna(0.0).to_numpy(),
            "applied_sek": column("applied_sek").astype("float64").fillna(0.0).to_numpy(),
            "days": (column("decided_on") - column("received_on")).dt.days.astype("float64").to_numpy(),
        }
    )


def _parts(d: pd.DataFrame, scopes: list[str]) -> list[tuple[np.ndarray | None, np.ndarray, np.ndarray]]:
    """The rows of each (scope, sex) group as four parts of ``d``: (rows, district code, sex code).

    Codes are positions in ``scopes`` and ``SEXES`` (-1: neither); rows None: all, in order. The
    parts are the district × own sex, district × T, unit × own sex and unit × T rows: each group's
    rows in the order of the rows once per scope and sex (d, d with sex T, both again with the unit
    as scope), so every sum is the same, without the ×4 frame (GBs on a national extract). A row
    whose own sex is T is in its T groups twice, as there: first as itself, then in the T part."""
    district = pd.Index(scopes).get_indexer(d["district_code"])
    sex = pd.Index(SEXES).get_indexer(d["sex"])
    t, unit = SEXES.index("T"), scopes.index(ALL)
    own_t = sex == t
    own = None if not own_t.any() else np.flatnonzero(~own_t)
    both = None if own is None else np.concatenate([np.flatnonzero(own_t), np.arange(len(d))])

    def at(values: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
        return values if rows is None else values[rows]

    def fixed(value: int, rows: np.ndarray | None) -> np.ndarray:
        return np.full(len(d) if rows is None else len(rows), value, dtype=district.dtype)

    return [
        (own, at(district, own), at(sex, own)),
        (both, at(district, both), fixed(t, both)),
        (own, fixed(unit, own), at(sex, own)),
        (both, fixed(unit, both), fixed(t, both)),
    ]


def _grouped(frame: pd.DataFrame, parts: list, agg, by: tuple[str, ...] = (), keep: np.ndarray | None = None):
    """``agg`` of each part's groups by (district_code, sex, *by), the parts' results together,
    in the groups' order; only the ``keep`` rows of ``frame`` (all: None)."""
    names = ["district_code", "sex", *by]
    out = []
    for rows, district, sex in parts:
        rows = np.arange(len(frame)) if rows is None else rows
        if keep is not None:
            chosen = keep[rows]
            rows, district, sex = rows[chosen], district[chosen], sex[chosen]
        # First a copy of one row as a group of its own, after all others: the group ids are then
        # not sorted, so pandas sums each group in its compensated loop, as on the ×4 rows (sorted
        # ids take numpy's reduceat, whose float sums can differ in the last bit).
        part = frame.take(np.concatenate([rows[:1], rows]))
        extra = np.iinfo(np.intp).max
        first = np.full(min(len(rows), 1), extra)
        keys = [np.concatenate([first, district]), np.concatenate([first, sex]), *(part[c] for c in by)]
        result = agg(part.groupby(keys)).rename_axis(names)
        out.append(result.drop(extra, level="district_code") if len(rows) else result.iloc[:0])
    return pd.concat(out).sort_index()


def _persons(frame: pd.DataFrame, parts: list, coded: pd.MultiIndex, keep: np.ndarray | None = None):
    """Distinct applicants per (scope, sex) among the ``keep`` rows of ``frame`` (all: None)."""
    count = _grouped(frame[["applicant_id"]], parts, lambda g: g["applicant_id"].nunique(), keep=keep)
    return count.reindex(coded, fill_value=0)


def _frame(indicator_id, grid, value, unit, basis, numerator=None, denominator=None) -> pd.DataFrame:
    na = pd.Series(pd.NA, index=grid, dtype="Float64")
    num = na if numerator is None else numerator.astype("Float64")
    den = na if denominator is None else denominator.astype("Float64")
    return pd.DataFrame(
        {
            "indicator_id": indicator_id,
            "district_code": grid.get_level_values("district_code"),
            "sex": grid.get_level_values("sex"),
            "numerator": num.array,
            "denominator": den.array,
            "value": value.astype("float64").to_numpy(),
            "unit": unit,
            BASIS: basis.astype("int64").to_numpy(),
            RULE: PERSONS,
        }
    )


# --------------------------------------------------------------------------- the indicators


def _by_sex(series: pd.Series, sex: str, t_grid: pd.MultiIndex) -> pd.Series:
    """The ``sex`` rows of a (scope, sex) series, re-indexed onto the T rows (for differences)."""
    return pd.Series(series.xs(sex, level="sex").to_numpy(dtype="float64"), index=t_grid)


def _share_intervals(frame: pd.DataFrame, parts: list, agg: pd.DataFrame, coded: pd.MultiIndex,
                     grid: pd.MultiIndex, z: float) -> dict:  # fmt: skip
    """Wilson (effective n) for avslag, linearised ratio interval for granted / applied; in %.

    ``parts`` as from :func:`_parts`, ``coded`` the grid in its codes; ``agg`` and the results
    are on ``grid``."""
    per_household = _grouped(
        frame[["household_id", "avslag", "granted_sek", "applied_sek"]],
        parts,
        lambda g: g.agg(
            avslag=("avslag", "sum"),
            decided=("avslag", "size"),
            granted_sek=("granted_sek", "sum"),
            applied_sek=("applied_sek", "sum"),
        ),
        by=("household_id",),
    )
    idx = per_household.index.droplevel(-1)
    deff = (
        design_effect(
            per_household["avslag"].set_axis(idx),
            per_household["decided"].set_axis(idx),
            idx.to_frame()["sex"],
        )
        .reindex(coded, fill_value=1.0)
        .set_axis(grid)
    )
    n_eff = agg["decided"] / deff
    p = agg["avslag"] / agg["decided"].where(agg["decided"] > 0)
    low, high = wilson(p.fillna(0) * n_eff, n_eff, z)
    r = agg["granted_sek"] / agg["applied_sek"].where(agg["applied_sek"] > 0)
    var = ratio_variance(per_household["granted_sek"], per_household["applied_sek"])
    var = var.reindex(coded).set_axis(grid)
    half = z * np.sqrt(var)
    return {
        "avslag": (p, pd.Series(low, index=grid), pd.Series(high, index=grid)),
        "ratio": (r, r - half, r + half, var),
    }


def gender_statistics(
    tables: Mapping[str, pd.DataFrame], period: Period, districts: list[str], cfg: GenderAnalysisConfig
) -> pd.DataFrame:
    """ja_* indicators per district and for the unit (see the module docstring)."""
    districts = list(dict.fromkeys(districts))
    if ALL in districts:
        raise ValueError(f"Distriktslistan får inte innehålla {ALL!r} (enheten räknas alltid ut).")
    scopes = [*districts, ALL]
    d = decisions_in_period(tables, period)
    grid = pd.MultiIndex.from_product([scopes, list(SEXES)], names=["district_code", "sex"])
    t_grid = pd.MultiIndex.from_product([scopes, ["T"]], names=["district_code", "sex"])
    parts = _parts(d, scopes)
    coded = pd.MultiIndex.from_product([range(len(scopes)), range(len(SEXES))], names=grid.names)
    # The columns the aggregates read (not the decisions' text columns).
    frame = d[["household_id", "applicant_id", "avslag", "granted", "granted_sek", "applied_sek", "days"]]
    frame = frame.assign(granted_amount=frame["granted_sek"].where(frame["granted"], 0.0))
    sums = ["decided", "avslag", "granted", "granted_amount", "granted_sek", "applied_sek"]
    agg = (
        _grouped(
            frame.drop(columns=["household_id", "applicant_id"]),
            parts,
            lambda g: g.agg(
                decided=("avslag", "size"),
                avslag=("avslag", "sum"),
                granted=("granted", "sum"),
                granted_amount=("granted_amount", "sum"),
                granted_sek=("granted_sek", "sum"),
                applied_sek=("applied_sek", "sum"),
                days=("days", "median"),
            ),
        )
        .reindex(coded)
        .set_axis(grid)
    )
    agg[sums] = agg[sums].fillna(0)
    decided_p = _persons(frame, parts, coded).set_axis(grid)
    avslag_p = _persons(frame, parts, coded, frame["avslag"].to_numpy()).set_axis(grid)
    granted_p = _persons(frame, parts, coded, frame["granted"].to_numpy()).set_axis(grid)
    paid_p = _persons(frame, parts, coded, (frame["granted_sek"] > 0).to_numpy()).set_axis(grid)
    avslag_basis = min_nonzero(avslag_p, decided_p)
    ratio_basis = min_nonzero(paid_p, decided_p)
    mean = ratio(agg["granted_amount"], agg["granted"])

    frames = [
        _frame("ja_sokande_antal", grid, decided_p, "antal", decided_p, decided_p),
        _frame("ja_beslut_antal", grid, agg["decided"], "antal", decided_p, agg["decided"]),
        _frame(
            "ja_avslag_andel",
            grid,
            ratio(agg["avslag"], agg["decided"], 100),
            "procent",
            avslag_basis,
            agg["avslag"],
            agg["decided"],
        ),  # fmt: skip
        _frame("ja_beviljat_kr_medel", grid, mean, "kr", granted_p, agg["granted_amount"], agg["granted"]),
        _frame(
            "ja_beviljat_andel_av_ansokt",
            grid,
            ratio(agg["granted_sek"], agg["applied_sek"], 100),
            "procent",
            ratio_basis,
            agg["granted_sek"],
            agg["applied_sek"],
        ),  # fmt: skip
        _frame("ja_handlaggningstid_median", grid, agg["days"], "dagar", decided_p),
    ]

    # Intervals of the shares per sex, and the women-minus-men differences (T rows, percentage points).
    z = z_value(float(cfg.confidence))
    shares = _share_intervals(frame, parts, agg, coded, grid, z)
    del frame, parts
    p, p_low, p_high = shares["avslag"]
    r, r_low, r_high, r_var = shares["ratio"]
    for base, (low, high), basis in (
        ("ja_avslag_andel", (p_low, p_high), avslag_basis),
        ("ja_beviljat_andel_av_ansokt", (r_low, r_high), ratio_basis),
    ):
        frames += [_frame(f"{base}{LOW}", grid, low * 100, "procent", basis),
                   _frame(f"{base}{HIGH}", grid, high * 100, "procent", basis)]  # fmt: skip
    k_, m_ = (lambda x, s=s: _by_sex(x, s, t_grid) for s in (WOMEN, MEN))
    diff_low, diff_high = newcombe(k_(p), k_(p_low), k_(p_high), m_(p), m_(p_low), m_(p_high))
    r_diff = k_(r) - m_(r)
    r_half = z * np.sqrt(k_(r_var) + m_(r_var))
    for base, value, low, high, basis in (
        ("ja_avslag_andel", k_(p) - m_(p), diff_low, diff_high, avslag_basis),
        ("ja_beviljat_andel_av_ansokt", r_diff, r_diff - r_half, r_diff + r_half, ratio_basis),
    ):
        b = np.minimum(k_(basis), m_(basis))
        for suffix, v in (("", value), (LOW, low), (HIGH, high)):
            frames.append(_frame(f"{base}_skillnad{suffix}", t_grid, v * 100, "procent", b))
    frames.append(
        _frame(
            "ja_beviljat_kr_skillnad",
            t_grid,
            k_(mean) - m_(mean),
            "kr",
            np.minimum(k_(granted_p), m_(granted_p)),
        )  # fmt: skip
    )

    adjusted = adjusted_difference(d, scopes, cfg)
    basis = pd.Series(np.minimum(adjusted["women"], adjusted["men"]).to_numpy(), index=t_grid)
    columns = {DIFF_ID: "diff", LOW_ID: "low", HIGH_ID: "high", EXCLUDED_ID: "excluded_share",
               FRAGILE_ID: "fragile", MULTIMODAL_ID: "multimodal"}  # fmt: skip
    units = {EXCLUDED_ID: "procent", FRAGILE_ID: "antal", MULTIMODAL_ID: "antal"}
    for indicator_id, column in columns.items():
        value = pd.Series(adjusted[column].to_numpy(), index=t_grid)
        frames.append(_frame(indicator_id, t_grid, value, units.get(indicator_id, "kr"), basis))
    regression = regression_by_scope(d, scopes, float(cfg.confidence), ALL)
    for suffix, column in (("", "beta"), (LOW, "low"), (HIGH, "high")):
        value = pd.Series(regression.loc[scopes, column].to_numpy(), index=t_grid)
        frames.append(_frame(f"{REGRESSION_ID}{suffix}", t_grid, value, "kr", basis))
    out = pd.concat(frames, ignore_index=True)
    return out[COLUMNS].sort_values(["indicator_id", "district_code", "sex"], ignore_index=True)
