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

A naive comparison is confounded: women are far more often single parents, whose need is higher.
``ja_beviljat_kr_justerad_skillnad`` is therefore women's minus men's mean granted amount,
directly standardised over strata (with/without children × the applicant's försörjningshinder
main group in the benefit month; several codes that month: the first in sorted order; none:
its own group "saknas"). Each stratum's difference is weighted by the number of all decisions in
it (both sexes, avslag included). Strata where only one sex has a granted decision are left out:
there is nothing to compare there. The confidence interval (95 % by default) comes from a seeded
percentile bootstrap (``GenderAnalysisConfig``) that resamples applicants, each with all their
decisions in P, within each sex × district (see :func:`adjusted_difference` for why not single
decisions). It is vectorised: a batch of resamples is a matrix of applicant multiplicities, and
the cell sums are one sparse matrix product; only the batches (for memory) are a Python loop.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import sparse

from etl.periods import Period
from etl.settings.pipeline import GenderAnalysis as GenderAnalysisConfig
from etl.statistics.frames import min_nonzero, ratio
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

_BATCH_ELEMENTS = 2_000_000
"""Resampled values held in memory at once (a memory cap only: results do not depend on it)."""

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


def decisions_in_period(tables: Mapping[str, pd.DataFrame], period: Period) -> pd.DataFrame:
    """Decided applications in P for single-adult households, with district, sex and stratum."""
    require_columns(tables, REQUIRED)
    app = tables["application"]
    decided_on = app["decided_on"]
    in_p = (
        decided_on.notna()
        & (decided_on >= pd.Timestamp(period.start))
        & (decided_on <= pd.Timestamp(period.end))
        & app["decision"].notna()
    )
    d = app.loc[in_p.fillna(False).astype(bool), list(REQUIRED["application"])]
    household = tables["household"][["household_id", "district_code", "household_type"]]
    d = d.merge(household, on="household_id", how="inner")
    d = d.loc[d["household_type"].isin(SINGLE_ADULT_TYPES).fillna(False).astype(bool)]
    sex = tables["person"][["person_id", "sex"]].rename(columns={"person_id": "applicant_id"})
    d = d.merge(sex, on="applicant_id", how="inner")

    # Försörjningshinder of the applicant in the benefit month: the first code in sorted order.
    obstacle = (
        tables["support_obstacle"][["person_id", "benefit_month", "code"]]
        .dropna()
        .sort_values(["person_id", "benefit_month", "code"], kind="stable")
        .drop_duplicates(["person_id", "benefit_month"])
        .rename(columns={"person_id": "applicant_id"})
    )
    d = d.merge(obstacle, on=["applicant_id", "benefit_month"], how="left")
    with_children = d["household_type"].isin(TYPES_WITH_CHILDREN).fillna(False).astype(bool)
    children = pd.Series(np.where(with_children, "med_barn", "utan_barn"), index=d.index, dtype="str")
    stratum = children + "|" + d["code"].astype("str").where(d["code"].notna(), NO_OBSTACLE)

    decision = d["decision"].astype("str")
    return pd.DataFrame(
        {
            "application_id": d["application_id"].astype("str").to_numpy(),
            "applicant_id": d["applicant_id"].astype("str").to_numpy(),
            "district_code": d["district_code"].astype("str").to_numpy(),
            "sex": d["sex"].astype("str").to_numpy(),
            "stratum": stratum.to_numpy(),
            "avslag": (decision == AVSLAG).to_numpy(),
            "granted": decision.isin(GRANTED_DECISIONS).to_numpy(),
            "granted_sek": d["granted_sek"].astype("float64").fillna(0.0).to_numpy(),
            "applied_sek": d["applied_sek"].astype("float64").fillna(0.0).to_numpy(),
            "days": (d["decided_on"] - d["received_on"]).dt.days.astype("float64").to_numpy(),
        }
    )


def _scopes(frame: pd.DataFrame, sexes: bool = True) -> pd.DataFrame:
    """Each row once per scope (own district, ALL) and, with ``sexes``, per sex (own, T)."""
    both = pd.concat([frame, frame.assign(sex="T")], ignore_index=True) if sexes else frame
    return pd.concat([both, both.assign(district_code=ALL)], ignore_index=True)


def _persons(frame: pd.DataFrame, grid: pd.MultiIndex) -> pd.Series:
    return frame.groupby(["district_code", "sex"])["applicant_id"].nunique().reindex(grid, fill_value=0)


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


# --------------------------------------------------------------------------- standardisation


def _standardised(sums: np.ndarray, sizes: np.ndarray, alls: np.ndarray) -> np.ndarray:
    """Women's minus men's mean granted amount, weighted over strata where both sexes have one.

    All arrays are (..., scope, sex K/M, stratum): ``sums`` granted amounts, ``sizes`` granted
    decisions, ``alls`` all decisions (summed over sex they are the weights). NaN where no stratum
    of a scope has granted decisions for both sexes.
    """
    kept = (sizes[..., 0, :] > 0) & (sizes[..., 1, :] > 0)
    means = sums / np.where(sizes > 0, sizes, 1)
    w = np.where(kept, alls.sum(axis=-2), 0.0)
    total = w.sum(axis=-1)
    diff = ((means[..., 0, :] - means[..., 1, :]) * w).sum(axis=-1)
    return np.where(total > 0, diff / np.where(total > 0, total, 1), np.nan)


def adjusted_difference(
    decisions: pd.DataFrame, scopes: list[str], cfg: GenderAnalysisConfig
) -> pd.DataFrame:
    """Standardised difference and bootstrap interval per scope (``scopes`` incl. ALL).

    ``decisions`` is the output of :func:`decisions_in_period`. Returns a frame indexed by scope
    with columns diff, low, high, women, men (applicants with a granted decision in the strata
    kept for that scope).

    The bootstrap resamples applicants (with all their decisions in P) within each sex ×
    district: an applicant has a decision nearly every month and those decisions share the
    household's costs, so resampling single decisions would treat them as independent and give
    an interval far too narrow. Every scope is a union of districts, so one set of resamples
    serves the unit and each district.
    """
    known = decisions.loc[decisions["sex"].isin([WOMEN, MEN])]
    districts = sorted(set(known["district_code"].unique()) | {s for s in scopes if s != ALL})
    strata = sorted(known["stratum"].unique())
    n_d, n_s = len(districts), len(strata)
    scope_names = [*districts, ALL]

    # Applicant × stratum pairs (an applicant's obstacle may change between months), sorted by
    # district, sex, applicant: the resampling groups are contiguous.
    unit_keys = ["district_code", "sex", "applicant_id"]
    pairs = (
        known.assign(amount=known["granted_sek"].where(known["granted"], 0.0))
        .groupby([*unit_keys, "stratum"], sort=True)
        .agg(n_all=("application_id", "size"), n_granted=("granted", "sum"), amount=("amount", "sum"))
        .reset_index()
    )
    group = pd.Index(districts).get_indexer(pairs["district_code"]) * 2 + np.where(
        pairs["sex"].to_numpy() == WOMEN, 0, 1
    )
    cell = group * n_s + pd.Index(strata).get_indexer(pairs["stratum"])
    unit = pairs.groupby(unit_keys, sort=True).ngroup().to_numpy()
    n_units = int(unit.max()) + 1 if len(unit) else 0
    unit_group = np.zeros(n_units, dtype=np.int64)
    unit_group[unit] = group
    _, g_first, g_size = np.unique(unit_group, return_index=True, return_counts=True)
    unit_start = np.repeat(g_first, g_size)  # first unit of each unit's group
    unit_size = np.repeat(g_size, g_size)

    # Applicant → cell contributions as a sparse (cells × 3 measures, applicants) matrix, so a batch
    # of resamples (applicant multiplicities) becomes one sparse product.
    n_cells = n_d * 2 * n_s
    measures = ("amount", "n_granted", "n_all")
    rows = np.concatenate([cell + k * n_cells for k in range(len(measures))])
    data = np.concatenate([pairs[c].to_numpy(dtype="float64") for c in measures])
    contribution = sparse.csc_matrix(
        (data, (rows, np.tile(unit, len(measures)))), shape=(len(measures) * n_cells, n_units)
    )

    def per_scope(mult: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Applicant multiplicities (batch, units) → sums, sizes, alls (batch, scope, sex, stratum)."""
        b = mult.shape[0]
        full = np.asarray(contribution @ mult.T).T.reshape(b, len(measures), n_d, 2, n_s)
        full = np.concatenate([full, full.sum(axis=2, keepdims=True)], axis=2)
        return full[:, 0], full[:, 1], full[:, 2]

    observed = per_scope(np.ones((1, n_units)))
    point = _standardised(*observed)[0]

    # Bootstrap in batches of vectorised resamples (the batch size only bounds memory: the random
    # stream is consumed in the same order whatever it is, so results do not depend on it).
    b_total = int(cfg.bootstrap_resamples)
    rng = np.random.default_rng(int(cfg.seed))
    boot = np.full((b_total, n_d + 1), np.nan)
    if n_units:
        batch = max(1, _BATCH_ELEMENTS // n_units)
        for first in range(0, b_total, batch):
            b = min(batch, b_total - first)
            offset = np.minimum((rng.random((b, n_units)) * unit_size).astype(np.int64), unit_size - 1)
            drawn = (np.arange(b)[:, None] * n_units + unit_start + offset).ravel()
            mult = np.bincount(drawn, minlength=b * n_units).reshape(b, n_units).astype("float64")
            boot[first : first + b] = _standardised(*per_scope(mult))

    # Percentile interval; a scope without comparable strata has NaN throughout (nothing to report).
    alpha = 1 - float(cfg.confidence)
    low, high = np.full(n_d + 1, np.nan), np.full(n_d + 1, np.nan)
    finite = ~np.isnan(point) & ~np.isnan(boot).all(axis=0)
    if finite.any():
        low[finite], high[finite] = np.nanquantile(boot[:, finite], [alpha / 2, 1 - alpha / 2], axis=0)

    # Persons the figure rests on: applicants with a granted decision in the kept strata.
    sizes = observed[1][0]
    kept = (sizes[:, 0, :] > 0) & (sizes[:, 1, :] > 0)  # (scope, stratum)
    kept_pairs = pd.DataFrame(
        {
            "district_code": np.array(scope_names, dtype=object)[np.nonzero(kept)[0]],
            "stratum": np.array(strata, dtype=object)[np.nonzero(kept)[1]],
        }
    )
    granted = pairs.loc[pairs["n_granted"] > 0, ["district_code", "sex", "stratum", "applicant_id"]]
    in_scope = _scopes(granted, sexes=False).merge(kept_pairs, on=["district_code", "stratum"])
    persons = in_scope.groupby(["district_code", "sex"])["applicant_id"].nunique()
    persons = persons.reindex(pd.MultiIndex.from_product([scope_names, [WOMEN, MEN]]), fill_value=0)

    out = pd.DataFrame({"diff": point, "low": low, "high": high}, index=pd.Index(scope_names))
    out["women"] = persons.xs(WOMEN, level=1).to_numpy()
    out["men"] = persons.xs(MEN, level=1).to_numpy()
    return out.reindex(scopes)


# --------------------------------------------------------------------------- the indicators


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
    by = _scopes(d)
    keys = ["district_code", "sex"]
    agg = (
        by.assign(granted_amount=by["granted_sek"].where(by["granted"], 0.0))
        .groupby(keys)
        .agg(
            decided=("application_id", "size"),
            avslag=("avslag", "sum"),
            granted=("granted", "sum"),
            granted_amount=("granted_amount", "sum"),
            granted_sek=("granted_sek", "sum"),
            applied_sek=("applied_sek", "sum"),
            days=("days", "median"),
        )
        .reindex(grid)
    )
    agg[["decided", "avslag", "granted", "granted_amount", "granted_sek", "applied_sek"]] = agg[
        ["decided", "avslag", "granted", "granted_amount", "granted_sek", "applied_sek"]
    ].fillna(0)
    decided_p = _persons(by, grid)
    avslag_p = _persons(by[by["avslag"]], grid)
    granted_p = _persons(by[by["granted"]], grid)
    paid_p = _persons(by[by["granted_sek"] > 0], grid)

    frames = [
        _frame(
            "ja_avslag_andel",
            grid,
            ratio(agg["avslag"], agg["decided"], 100),
            "procent",
            min_nonzero(avslag_p, decided_p),
            agg["avslag"],
            agg["decided"],
        ),
        _frame(
            "ja_beviljat_kr_medel",
            grid,
            ratio(agg["granted_amount"], agg["granted"]),
            "kr",
            granted_p,
            agg["granted_amount"],
            agg["granted"],
        ),
        _frame(
            "ja_beviljat_andel_av_ansokt",
            grid,
            ratio(agg["granted_sek"], agg["applied_sek"], 100),
            "procent",
            min_nonzero(paid_p, decided_p),
            agg["granted_sek"],
            agg["applied_sek"],
        ),
        _frame("ja_handlaggningstid_median", grid, agg["days"], "dagar", decided_p),
    ]

    adjusted = adjusted_difference(d, scopes, cfg)
    t_grid = pd.MultiIndex.from_product([scopes, ["T"]], names=["district_code", "sex"])
    basis = pd.Series(np.minimum(adjusted["women"], adjusted["men"]).to_numpy(), index=t_grid)
    for indicator_id, column in ((DIFF_ID, "diff"), (LOW_ID, "low"), (HIGH_ID, "high")):
        value = pd.Series(adjusted[column].to_numpy(), index=t_grid)
        frames.append(_frame(indicator_id, t_grid, value, "kr", basis))
    out = pd.concat(frames, ignore_index=True)
    return out[COLUMNS].sort_values(["indicator_id", "district_code", "sex"], ignore_index=True)
