"""The adjusted difference: women's minus men's mean granted amount, standardised over strata.

Strata are with/without children × the applicant's försörjningshinder (see etl.statistics.gender).
Each stratum's difference is weighted by the number of all its decisions (both sexes, avslag
included).

**Small strata.** A stratum enters alone only with at least ``min_households_per_sex`` households
of each sex with a granted decision in it. The strata that fail are pooled, within the same
children group, into one stratum "övriga hinder" (the försörjningshinder split is dropped); if the
pool still fails it is left out, and the share of the scope's decisions left out is reported.
The rule is decided per scope on the observed data and held fixed in the resamples.

**Interval.** A seeded percentile bootstrap resamples households (with all their decisions in P)
within each sex × district: a household has a decision nearly every month and they share its
costs, so resampling single decisions would give an interval far too narrow. The resampling
order is the data's, not the pseudonyms': households are ordered by a signature of their own
decisions, and households with equal signatures are interchangeable, so the interval does not
depend on the pseudonym key. Resamples where a kept stratum loses one sex are counted: when that
happens in more than ``multimodal_share`` of them the bootstrap distribution has several modes.

**Influence.** Every household is left out once (leave-one-household-out); the estimate is fragile
when one household moves it by more than half its value or flips (or removes) its sign.

Vectorised: a household's contributions to the (scope, sex, stratum) cells are a sparse column,
so a batch of resamples is one sparse product.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from etl.settings.pipeline import GenderAnalysis as GenderAnalysisConfig
from etl.vocabulary import ALL

WOMEN, MEN = "K", "M"
POOLED = "övriga_hinder"
"""Stratum label (after the children group) of the pooled small strata."""
_BATCH_ELEMENTS = 2_000_000
"""Resampled values held in memory at once (a memory cap only: results do not depend on it)."""
MEASURES = ("amount", "n_granted", "n_all")
COLUMNS = ["diff", "low", "high", "women", "men", "excluded_share", "max_shift", "fragile", "missing_share",
           "multimodal"]  # fmt: skip


def standardised(sums: np.ndarray, sizes: np.ndarray, alls: np.ndarray) -> np.ndarray:
    """Women's minus men's mean granted amount, weighted over strata where both sexes have one.

    Arrays are (..., scope, sex K/M, stratum): ``sums`` granted amounts, ``sizes`` granted
    decisions, ``alls`` all decisions (summed over sex they are the weights). NaN where no stratum
    of a scope has granted decisions for both sexes.
    """
    kept = (sizes[..., 0, :] > 0) & (sizes[..., 1, :] > 0)
    means = sums / np.where(sizes > 0, sizes, 1)
    w = np.where(kept, alls.sum(axis=-2), 0.0)
    total = w.sum(axis=-1)
    diff = ((means[..., 0, :] - means[..., 1, :]) * w).sum(axis=-1)
    return np.where(total > 0, diff / np.where(total > 0, total, 1), np.nan)


def children_group(stratum: str) -> str:
    return stratum.split("|", 1)[0]


def _households(rows: pd.DataFrame, scope_of: np.ndarray, by: str, shape: tuple[int, int]) -> np.ndarray:
    """Distinct households per (scope, sex, ``by`` code) among ``rows`` (codes 0 … shape[1] − 1)."""
    counts = np.zeros((shape[0], 2, shape[1]))
    if len(rows):
        keys = pd.DataFrame({"g": scope_of, "x": (rows["sex"] == MEN).to_numpy().astype(int),
                             "c": rows[by].to_numpy(), "u": rows["unit"].to_numpy()})  # fmt: skip
        n = keys.groupby(["g", "x", "c"])["u"].nunique()
        g, x, c = (n.index.get_level_values(i).to_numpy() for i in range(3))
        counts[g, x, c] = n.to_numpy()
    return counts


def pooling(pairs: pd.DataFrame, scope_names: list[str], strata: list[str], minimum: int) -> np.ndarray:
    """(scope, stratum, pooled stratum) 0/1 map: own stratum, its children group's pool, or none.

    Pooled strata are the original ones followed by one pool per children group. Counts are
    vectorised over scopes (one groupby for the districts, one for the unit).
    """
    groups = sorted({children_group(s) for s in strata})
    n_s, n_g = len(strata), len(scope_names)
    granted = pairs.loc[pairs["n_granted"] > 0].assign(
        s=lambda f: pd.Index(strata).get_indexer(f["stratum"]),
        c=lambda f: pd.Index(groups).get_indexer(f["stratum"].map(children_group)),
    )
    district = pd.Index(scope_names).get_indexer(granted["district_code"])
    unit = np.full(len(granted), n_g - 1)
    alone = _households(granted, district, "s", (n_g, n_s)) + 0
    alone[n_g - 1] = _households(granted, unit, "s", (n_g, n_s))[n_g - 1]
    passes = alone.min(axis=1) >= minimum  # (scope, stratum)
    m = np.zeros((n_g, n_s, n_s + len(groups)))
    g_idx, s_idx = np.nonzero(passes)
    m[g_idx, s_idx, s_idx] = 1.0
    # The failing strata of each scope, pooled per children group.
    failing_d = ~passes[district, granted["s"].to_numpy()]
    failing_u = ~passes[n_g - 1, granted["s"].to_numpy()]
    pooled = _households(granted[failing_d], district[failing_d], "c", (n_g, len(groups)))
    pooled[n_g - 1] = _households(granted[failing_u], unit[failing_u], "c", (n_g, len(groups)))[n_g - 1]
    pool_passes = pooled.min(axis=1) >= minimum  # (scope, children group)
    child = np.array([groups.index(children_group(x)) for x in strata])
    for g in range(n_g):
        members = np.flatnonzero(~passes[g] & pool_passes[g, child])
        m[g, members, n_s + child[members]] = 1.0
    return m


def adjusted_difference(
    decisions: pd.DataFrame, scopes: list[str], cfg: GenderAnalysisConfig
) -> pd.DataFrame:
    """Standardised difference, interval and robustness per scope (``scopes`` incl. ALL).

    ``decisions`` is etl.statistics.gender.decisions_in_period's output. Columns: diff, low, high;
    women, men (households with a granted decision in the strata used); excluded_share (% of the
    scope's decisions in strata left out); max_shift (largest change from leaving one household
    out, kr); fragile (1.0/0.0: one household moves the estimate by more than half or flips its
    sign); missing_share (% of resamples where a used stratum lost one sex); multimodal (1.0/0.0).
    """
    known = decisions.loc[decisions["sex"].isin([WOMEN, MEN])]
    districts = sorted(set(known["district_code"].unique()) | {s for s in scopes if s != ALL})
    strata = sorted(known["stratum"].unique())
    n_d, n_s = len(districts), len(strata)
    scope_names = [*districts, ALL]
    out = pd.DataFrame(np.nan, index=pd.Index(scope_names), columns=COLUMNS)
    out[["women", "men"]] = 0.0
    if known.empty:
        return out.reindex(scopes)

    # Household × stratum pairs (a household's obstacle may change between months).
    unit_keys = ["district_code", "sex", "household_id"]
    pairs = (
        known.assign(amount=known["granted_sek"].where(known["granted"], 0.0))
        .groupby([*unit_keys, "stratum"], sort=True)
        .agg(n_all=("application_id", "size"), n_granted=("granted", "sum"), amount=("amount", "sum"))
        .reset_index()
    )
    # Order households by their own data (not their pseudonym) within district × sex.
    pairs["sig"] = (
        pairs["stratum"] + ":" + pairs["n_all"].astype("str") + ":" + pairs["n_granted"].astype("str") + ":"
        + pairs["amount"].map(repr)
    )  # fmt: skip
    pairs = pairs.sort_values([*unit_keys, "sig"], kind="stable")
    # ";".join per household, vectorised: the pairs' signatures, each followed by ";", summed.
    joined = (pairs["sig"] + ";").groupby([pairs[k] for k in unit_keys], sort=False).sum().str[:-1]
    signature = joined.rename("signature").reset_index()
    signature = signature.sort_values(["district_code", "sex", "signature"], kind="stable", ignore_index=True)
    signature["unit"] = np.arange(len(signature))
    pairs = pairs.merge(signature[[*unit_keys, "unit"]], on=unit_keys)

    women = np.where(pairs["sex"] == WOMEN, 0, 1)
    group = pd.Index(districts).get_indexer(pairs["district_code"]) * 2 + women
    cell = group * n_s + pd.Index(strata).get_indexer(pairs["stratum"])
    unit = pairs["unit"].to_numpy()
    n_units = len(signature)
    unit_group = np.zeros(n_units, dtype=np.int64)
    unit_group[unit] = group
    _, g_first, g_size = np.unique(unit_group, return_index=True, return_counts=True)
    unit_start, unit_size = np.repeat(g_first, g_size), np.repeat(g_size, g_size)

    n_cells = n_d * 2 * n_s
    rows = np.concatenate([cell + k * n_cells for k in range(len(MEASURES))])
    data = np.concatenate([pairs[c].to_numpy(dtype="float64") for c in MEASURES])
    contribution = sparse.csc_matrix(
        (data, (rows, np.tile(unit, len(MEASURES)))), shape=(len(MEASURES) * n_cells, n_units)
    )
    pool = pooling(pairs, scope_names, strata, int(cfg.min_households_per_sex))

    def arrays(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cell sums (batch, 3·cells) → pooled sums, sizes, alls (batch, scope, sex, pooled stratum)."""
        full = flat.reshape(flat.shape[0], len(MEASURES), n_d, 2, n_s)
        full = np.concatenate([full, full.sum(axis=2, keepdims=True)], axis=2)
        pooled = np.einsum("bmgxs,gsp->bmgxp", full, pool)
        return pooled[:, 0], pooled[:, 1], pooled[:, 2]

    observed_flat = np.asarray(contribution.sum(axis=1)).T
    observed = arrays(observed_flat)
    point = standardised(*observed)[0]
    sizes = observed[1][0]
    kept = (sizes[:, 0, :] > 0) & (sizes[:, 1, :] > 0)  # (scope, pooled stratum)

    # Bootstrap in batches (the random stream is consumed in the same order whatever the batch).
    b_total = int(cfg.bootstrap_resamples)
    rng = np.random.default_rng(int(cfg.seed))
    boot = np.full((b_total, n_d + 1), np.nan)
    missing = np.zeros(n_d + 1)
    batch = max(1, _BATCH_ELEMENTS // n_units)
    for first in range(0, b_total, batch):
        b = min(batch, b_total - first)
        # In place, batch by batch: the draws, their household's position, the multiplicities.
        draws = rng.random((b, n_units))
        draws *= unit_size
        drawn = draws.astype(np.int64)
        del draws
        np.minimum(drawn, unit_size - 1, out=drawn)
        drawn += unit_start
        drawn += (np.arange(b) * n_units)[:, None]
        mult = np.bincount(drawn.ravel(), minlength=b * n_units).reshape(b, n_units).astype("float64")
        resampled = arrays(np.asarray(contribution @ mult.T).T)
        boot[first : first + b] = standardised(*resampled)
        r_sizes = resampled[1]
        lost = kept[None] & ~((r_sizes[:, :, 0, :] > 0) & (r_sizes[:, :, 1, :] > 0))
        missing += lost.any(axis=-1).sum(axis=0)

    alpha = 1 - float(cfg.confidence)
    finite = ~np.isnan(point) & ~np.isnan(boot).all(axis=0)
    if finite.any():
        q = np.nanquantile(boot[:, finite], [alpha / 2, 1 - alpha / 2], axis=0)
        out.loc[np.array(scope_names)[finite], "low"] = q[0]
        out.loc[np.array(scope_names)[finite], "high"] = q[1]
    out["diff"] = point
    out["missing_share"] = np.where(np.isnan(point), np.nan, missing / b_total * 100)
    out["multimodal"] = np.where(np.isnan(point), np.nan, (missing / b_total > cfg.multimodal_share) * 1.0)

    # Leave one household out: the cell sums minus that household's column (in batches of columns).
    loo = np.empty((n_units, n_d + 1))
    step = max(1, _BATCH_ELEMENTS // max(1, contribution.shape[0]))
    for first in range(0, n_units, step):
        cols = slice(first, min(first + step, n_units))
        loo[cols] = standardised(*arrays(observed_flat - contribution[:, cols].toarray().T))
    unit_district = np.asarray(districts)[unit_group // 2]
    for g, scope in enumerate(scope_names):
        if np.isnan(point[g]):
            continue
        v = loo[:, g] if scope == ALL else loo[unit_district == scope, g]
        shift = np.abs(v - point[g])
        flips = np.isnan(v) | (np.sign(v) != np.sign(point[g]))
        out.loc[scope, "max_shift"] = float(np.nanmax(np.where(np.isnan(v), np.inf, shift)))
        out.loc[scope, "fragile"] = float(bool((flips | (shift > abs(point[g]) / 2)).any()))

    # Decisions left out, and the households the figure rests on (granted, in strata used).
    alls_raw = observed_flat.reshape(len(MEASURES), n_d, 2, n_s)[2]
    alls_raw = np.concatenate([alls_raw, alls_raw.sum(axis=0, keepdims=True)]).sum(axis=1)  # (scope, s)
    used = np.einsum("gsp,gp->gs", pool, kept.astype("float64")) > 0
    total = alls_raw.sum(axis=1)
    left_out = (alls_raw * ~used).sum(axis=1)
    out["excluded_share"] = np.where(total > 0, left_out / np.where(total > 0, total, 1), 0) * 100
    s_idx = pd.Index(strata).get_indexer(pairs["stratum"])
    d_idx = pd.Index(districts).get_indexer(pairs["district_code"])
    granted = pairs["n_granted"].to_numpy() > 0
    for g, scope in enumerate(scope_names):
        in_scope = used[g, s_idx] & granted & ((d_idx == g) if scope != ALL else True)
        counts = pairs.loc[in_scope].groupby("sex")["unit"].nunique()
        out.loc[scope, "women"], out.loc[scope, "men"] = counts.get(WOMEN, 0), counts.get(MEN, 0)
    return out.reindex(scopes)
