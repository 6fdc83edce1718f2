"""Small helpers the statistics modules share for turning counts into figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.vocabulary import BASIS, RULE


def ratio(numerator: pd.Series, denominator: pd.Series, scale: float = 1.0) -> pd.Series:
    """numerator / denominator × scale; NaN (nothing to report) where the denominator is zero."""
    numerator, denominator = numerator.astype("float64"), denominator.astype("float64")
    return numerator / denominator.where(denominator > 0) * scale


def min_nonzero(*counts: pd.Series) -> pd.Series:
    """The smallest non-zero count per row (a figure's disclosure basis); 0 when all are zero."""
    stacked = np.column_stack([c.to_numpy(dtype="float64") for c in counts])
    smallest = np.min(np.where(stacked > 0, stacked, np.inf), axis=1)
    return pd.Series(np.where(np.isfinite(smallest), smallest, 0), index=counts[0].index)


_TYPES = {"numerator": "Float64", "denominator": "Float64", "value": "float64", BASIS: "int64"}
_TEXT = ("indicator_id", "period", "district_code", "sex", "unit", RULE)


def sort_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Sorted by indicator, scope, sex; the same dtypes as statistics.parquet reads back."""
    types = {**_TYPES, **{c: "str" for c in _TEXT}}
    frame = frame.astype({c: t for c, t in types.items() if c in frame.columns})
    return frame.sort_values(["indicator_id", "district_code", "sex"], ignore_index=True, kind="stable")
