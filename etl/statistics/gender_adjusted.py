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
when one household moves it by more than half its value or flips (or removes) its sign. Leaving a
household out changes only its own district's cells and the unit's, so only those two estimates
are computed for it.

Vectorised: a household's contributions to the (scope, sex, stratum) cells are a sparse column,
so a batch of resamples is one sparse product.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from scipy import sparse

from etl.arrow_memory import heap_for_batches
from etl.settings.pipeline import GenderAnalysis as GenderAnalysisConfig
from etl.vocabulary import ALL

WOMEN, MEN = "K", "M"
POOLED = "övriga_hinder"
"""Stratum label (after the children group) of the pooled small strata."""
_BATCH_ELEMENTS = 1_000_000
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


@heap_for_batches()
def _left_out(
    contribution: sparse.csc_matrix,
    observed: np.ndarray,
    pool: np.ndarray,
    district: np.ndarray,
    shape: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Each household's estimate without it, for its own district and for ALL (n_units each).

    Leaving a household out changes only its own district's cells and ALL's, so only those two
    scopes are computed, with the arithmetic of the estimate over every scope, bit for bit: the
    cells are ``observed`` minus the household's column; ALL's cells are summed over the districts
    in their order (a cell the household is not in keeps the observed sum, the others are summed
    again from the running sum before its district); pooling adds the strata in their order.
    """
    n_d, n_s = shape
    n_units = contribution.shape[1]
    cells = observed.reshape(len(MEASURES), n_d, 2, n_s)
    by_district = np.ascontiguousarray(cells.transpose(1, 0, 2, 3))  # (district, measure, sex, stratum)
    total = np.cumsum(cells, axis=1)  # running sums over the districts, in order; ALL's is the last

    # The household's nonzero cells: measure, sex, stratum, its district and its value.
    e_unit = np.repeat(np.arange(n_units), np.diff(contribution.indptr))
    m, cell = np.divmod(contribution.indices.astype(np.int64), n_d * 2 * n_s)
    group, s = np.divmod(cell, n_s)
    x, e_district = group % 2, district[e_unit]
    value = by_district[e_district, m, x, s] - contribution.data
    # ALL's sum of those cells again: the running sum before the district, plus the cell without
    # the household, plus each later district's cell (zeros past the last), added in order.
    later = np.concatenate([cells, np.zeros_like(cells)], axis=1).transpose(0, 2, 3, 1).ravel()
    start = ((m * 2 + x) * n_s + s) * (2 * n_d) + e_district
    prefix = np.where(e_district > 0, total[m, np.maximum(e_district - 1, 0), x, s], 0.0)
    summed = np.empty(len(value))
    step = max(1, _BATCH_ELEMENTS // n_d)
    for first in range(0, len(value), step):
        part = slice(first, first + step)
        rows = n_d - int(e_district[part].min())  # households come by district: a few rows only
        terms = np.empty((rows, len(value[part])))
        terms[0] = prefix[part] + value[part]
        terms[1:] = later[start[part][None, :] + np.arange(1, rows)[:, None]]
        summed[part] = np.cumsum(terms, axis=0)[-1]  # a scan: strictly in order, whatever the shape

    own, unit_all = np.empty(n_units), np.empty(n_units)
    n_p = pool.shape[2]
    step = max(1, _BATCH_ELEMENTS // (2 * n_s * n_p + 24 * (n_s + n_p)))
    for first in range(0, n_units, step):
        units = slice(first, min(first + step, n_units))
        b = units.stop - first
        at = slice(contribution.indptr[first], contribution.indptr[units.stop])
        full = np.empty((b, len(MEASURES), 2, 2, n_s))  # (household, measure, own/ALL, sex, stratum)
        column = np.zeros((b, len(MEASURES), 2, n_s))
        column[e_unit[at] - first, m[at], x[at], s[at]] = contribution.data[at]
        full[:, :, 0] = by_district[district[units]] - column
        full[:, :, 1] = total[:, -1]
        full[e_unit[at] - first, m[at], 1, x[at], s[at]] = summed[at]
        pools = np.stack([pool[district[units]], np.broadcast_to(pool[n_d], (b, n_s, n_p))], axis=1)
        pooled = np.einsum("bmgxs,bgsp->bmgxp", full, pools)
        estimate = standardised(pooled[:, 0], pooled[:, 1], pooled[:, 2])
        own[units], unit_all[units] = estimate[:, 0], estimate[:, 1]
    return own, unit_all


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
    threads = int(cfg.bootstrap_threads)
    with heap_for_batches(), ThreadPoolExecutor(threads, thread_name_prefix="bootstrap") as workers:
        batch = max(1, _BATCH_ELEMENTS // n_units)
        # Buffers reused batch after batch, one per thread: a fresh column-sized block per batch
        # costs its page faults again (blocks this size are mapped anew, etl.arrow_memory).
        shape = (batch, n_units)
        buffers = [(np.empty(shape), np.empty(shape, dtype=np.int64)) for _ in range(threads)]
        last = unit_size - 1

        def resample(first: int, b: int, draws: np.ndarray, drawn: np.ndarray) -> np.ndarray:
            """One batch from its draws: its households, their multiplicities laid out as the
            sparse product reads them (no transposed copy), the estimates; resamples that lost a
            used stratum's sex, per scope."""
            np.multiply(draws[:b], unit_size, out=draws[:b])
            np.copyto(drawn[:b], draws[:b], casting="unsafe")  # truncation, as astype
            np.minimum(drawn[:b], last, out=drawn[:b])
            drawn[:b] += unit_start
            drawn[:b] *= b
            drawn[:b] += np.arange(b)[:, None]
            mult = np.bincount(drawn[:b].ravel(), minlength=b * n_units).reshape(n_units, b).astype("float64")
            resampled = arrays(np.asarray(contribution @ mult).T)
            boot[first : first + b] = standardised(*resampled)
            r_sizes = resampled[1]
            lost = kept[None] & ~((r_sizes[:, :, 0, :] > 0) & (r_sizes[:, :, 1, :] > 0))
            return lost.any(axis=-1).sum(axis=0)

        # The draws are taken here, batch after batch (the random stream in the same order
        # whatever the threads); each batch's rest runs in a thread while the next is drawn.
        running: deque = deque()
        for k, first in enumerate(range(0, b_total, batch)):
            if len(running) == threads:  # its buffers are the next batch's
                missing += running.popleft().result()
            b = min(batch, b_total - first)
            draws, drawn = buffers[k % threads]
            rng.random(out=draws[:b])
            running.append(workers.submit(resample, first, b, draws, drawn))
        while running:
            missing += running.popleft().result()

    alpha = 1 - float(cfg.confidence)
    finite = ~np.isnan(point) & ~np.isnan(boot).all(axis=0)
    if finite.any():
        q = np.nanquantile(boot[:, finite], [alpha / 2, 1 - alpha / 2], axis=0)
        out.loc[np.array(scope_names)[finite], "low"] = q[0]
        out.loc[np.array(scope_names)[finite], "high"] = q[1]
    out["diff"] = point
    out["missing_share"] = np.where(np.isnan(point), np.nan, missing / b_total * 100)
    out["multimodal"] = np.where(np.isnan(point), np.nan, (missing / b_total > cfg.multimodal_share) * 1.0)

    # Leave one household out: only its own district's cells and ALL's change (see _left_out).
    own, unit_all = _left_out(contribution, observed_flat[0], pool, unit_group // 2, (n_d, n_s))
    scope_of = np.concatenate([unit_group // 2, np.full(n_units, n_d)])  # each household twice
    v, ref = np.concatenate([own, unit_all]), point[scope_of]
    shift = np.abs(v - ref)
    flips = np.isnan(v) | (np.sign(v) != np.sign(ref))
    max_shift = np.full(n_d + 1, -np.inf)
    np.maximum.at(max_shift, scope_of, np.where(np.isnan(v), np.inf, shift))
    fragile = np.bincount(scope_of, weights=flips | (shift > np.abs(ref) / 2), minlength=n_d + 1) > 0
    out["max_shift"] = np.where(np.isnan(point), np.nan, max_shift)
    out["fragile"] = np.where(np.isnan(point), np.nan, fragile * 1.0)

    # Decisions left out, and the households the figure rests on (granted, in strata used).
    alls_raw = observed_flat.reshape(len(MEASURES), n_d, 2, n_s)[2]
    alls_raw = np.concatenate([alls_raw, alls_raw.sum(axis=0, keepdims=True)]).sum(axis=1)  # (scope, s)
    used = np.einsum("gsp,gp->gs", pool, kept.astype("float64")) > 0
    total = alls_raw.sum(axis=1)
    left_out = (alls_raw * ~used).sum(axis=1)
    out["excluded_share"] = np.where(total > 0, left_out / np.where(total > 0, total, 1), 0) * 100
    # Per scope and sex, the distinct households with a granted decision in a stratum used.
    s_idx = pd.Index(strata).get_indexer(pairs["stratum"])
    d_idx = pd.Index(districts).get_indexer(pairs["district_code"])
    granted = pairs["n_granted"].to_numpy() > 0
    in_district = np.unique(unit[used[d_idx, s_idx] & granted])  # households, ordered
    in_unit = np.unique(unit[used[n_d, s_idx] & granted])
    households = np.zeros((n_d + 1, 2))  # (scope, K/M)
    np.add.at(households, (unit_group[in_district] // 2, unit_group[in_district] % 2), 1.0)
    np.add.at(households[n_d], unit_group[in_unit] % 2, 1.0)
    out["women"], out["men"] = households[:, 0], households[:, 1]
    return out.reindex(scopes)
