"""Disclosure control: what may leave the archive.

A figure resting on 1–4 persons is replaced by ``..``; zero stays visible. Suppression is
then complemented until no suppressed cell can be recovered by subtraction: within each
T/K/M triple, and among the district cells that add up to the unit (``ALL``) cell.
"""

from __future__ import annotations

import pandas as pd

from etl.config import DisclosureConfig
from etl.indicators import BASIS

SUPPRESSED = "suppressed"


def _complement(df: pd.DataFrame, group_cols: list[str]) -> pd.Series:
    """Extra cells to suppress so that no group (a total and its parts) has exactly one
    suppressed cell, which could otherwise be recovered by subtraction.

    In such a group the smallest unsuppressed non-zero cell is suppressed too (zero stays
    visible: it tells nothing about anyone).
    """
    n_suppressed = df.groupby(group_cols)[SUPPRESSED].transform("sum")
    exposed = n_suppressed == 1
    candidates = df[exposed & ~df[SUPPRESSED] & (df[BASIS] > 0)]
    candidates = candidates.sort_values([*group_cols, BASIS, "district_code", "sex"])
    extra = pd.Series(False, index=df.index)
    extra.loc[candidates.groupby(group_cols).head(1).index] = True
    return extra


def suppress(stats: pd.DataFrame, cfg: DisclosureConfig) -> pd.DataFrame:
    """Mark cells to suppress: primary (1–4 persons) then complementary until stable."""
    df = stats.copy()
    df[SUPPRESSED] = (df[BASIS] > 0) & (df[BASIS] < cfg.min_persons)
    while True:
        # T = K + M within a scope, and ALL = sum of districts within a sex.
        extra = _complement(df, ["indicator_id", "district_code"]) | _complement(df, ["indicator_id", "sex"])
        if not extra.any():
            return df
        df.loc[extra, SUPPRESSED] = True


def publish(stats: pd.DataFrame, cfg: DisclosureConfig) -> pd.DataFrame:
    """The publishable table: values as text with the suppression symbol, no basis counts."""
    df = suppress(stats, cfg)
    shown = df["value"].map(lambda v: f"{v:.10g}")
    df["published"] = shown.mask(df[SUPPRESSED], cfg.suppressed_symbol)
    return df[
        ["indicator_id", "period", "district_code", "sex", "value", "unit", SUPPRESSED, "published"]
    ].assign(value=df["value"].mask(df[SUPPRESSED]))
