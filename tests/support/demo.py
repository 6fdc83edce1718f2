"""Demo source tables for tests, generated once per test session (unit scale, seed 2018)."""

from __future__ import annotations

from functools import cache

import pandas as pd


@cache
def demo_tables(years: tuple[int, ...] = (2017, 2018)) -> dict[str, pd.DataFrame]:
    """The calibrated demo data as source tables (person ids in clear: tests only)."""
    import demo

    return demo.build("unit", seed=2018, years=years)
