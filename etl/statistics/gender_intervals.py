"""Intervals for the gender analysis' shares: Wilson for avslag, a linearised ratio interval for
granted / applied, and the intervals of their women-minus-men differences.

Decisions are not independent: a household has a decision nearly every month. Both intervals
therefore take the household as the sampling unit. For the avslag share the Wilson interval is
computed on the *effective* number of decisions, n / deff, where the design effect deff (at
least 1) compares the household-clustered variance of the share with the simple-random one
(Kish). Granted / applied is a ratio of sums, not a share of decisions, so Wilson does not
apply; its interval is the normal one from the linearised (Taylor) variance with households as
clusters. Differences: Newcombe's hybrid method from the two Wilson intervals (avslag), and the
normal interval from the summed variances (the sexes are disjoint sets of households).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def z_value(confidence: float) -> float:
    return float(stats.norm.ppf(1 - (1 - confidence) / 2))


def wilson(k, n, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of k successes in n trials (arrays; NaN where n = 0)."""
    k, n = np.asarray(k, dtype="float64"), np.asarray(n, dtype="float64")
    safe = np.where(n > 0, n, 1.0)
    p = k / safe
    centre = (p + z * z / (2 * safe)) / (1 + z * z / safe)
    half = z / (1 + z * z / safe) * np.sqrt(p * (1 - p) / safe + z * z / (4 * safe * safe))
    low, high = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    return np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)


def newcombe(p1, l1, u1, p2, l2, u2) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval for p1 − p2 from the two Wilson intervals."""
    d = p1 - p2
    return d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def design_effect(k: pd.Series, n: pd.Series, cluster: pd.Series) -> pd.Series:
    """Kish design effect of a share k/n per group (index level ``group``), clusters as given.

    ``k``, ``n`` and ``cluster`` are aligned per (group, cluster) row: successes and trials in one
    cluster. deff = clustered variance / simple-random variance, at least 1 (1 where undefined).
    """
    frame = pd.DataFrame({"k": k.to_numpy(), "n": n.to_numpy(), "g": cluster.to_numpy()}, index=k.index)
    groups = frame.index
    tot = frame.groupby(groups)[["k", "n"]].sum()
    clusters = frame.groupby(groups).size()
    p = (tot["k"] / tot["n"]).reindex(groups).to_numpy()
    resid2 = pd.Series((frame["k"].to_numpy() - p * frame["n"].to_numpy()) ** 2, index=groups)
    # Summed in value order (not pseudonym order): the same result under any pseudonym key.
    ss = resid2.sort_values(kind="stable").groupby(level=list(range(groups.nlevels))).sum()
    m = clusters.astype("float64")
    var_c = np.where(m > 1, m / np.maximum(m - 1, 1) * ss / tot["n"] ** 2, np.nan)
    pp = tot["k"] / tot["n"]
    var_srs = pp * (1 - pp) / tot["n"]
    deff = np.where((var_srs > 0) & np.isfinite(var_c), var_c / np.where(var_srs > 0, var_srs, 1), 1.0)
    return pd.Series(np.maximum(deff, 1.0), index=tot.index)


def ratio_variance(y: pd.Series, x: pd.Series) -> pd.Series:
    """Linearised variance of Σy / Σx per group (index: group levels + cluster as the last level).

    Rows are per (group…, cluster): the cluster's sums. Var = m/(m−1) Σ_c (y_c − R x_c)² / (Σx)²
    with m clusters; NaN with fewer than two clusters or Σx = 0.
    """
    levels = list(range(y.index.nlevels - 1))
    sy, sx = y.groupby(level=levels).sum(), x.groupby(level=levels).sum()
    r = (sy / sx.where(sx != 0)).reindex(y.index.droplevel(-1)).to_numpy()
    e2 = pd.Series((y.to_numpy() - r * x.to_numpy()) ** 2, index=y.index)
    e2 = e2.sort_values(kind="stable").groupby(level=levels).sum()  # value order: key-free
    m = y.groupby(level=levels).size().astype("float64")
    return (m / (m - 1)).where(m > 1) * e2 / sx.where(sx != 0) ** 2
