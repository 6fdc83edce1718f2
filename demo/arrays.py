"""Vectorised building blocks: month arithmetic, repeated rows, ids, stratified draws, personnummer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from demo.parameters import MONTHS_PER_YEAR
from etl.pseudonym import luhn_check_digit


def month_start(m: np.ndarray | int) -> np.ndarray:
    """First day of month index ``m`` (months since 1970-01)."""
    return np.asarray(m, dtype=np.int64).astype("datetime64[M]").astype("datetime64[D]")


def month_index(year: int, month: int = 1) -> int:
    return (year - 1970) * MONTHS_PER_YEAR + month - 1


def month_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[M]").astype(np.int64)


def as_days(n: np.ndarray) -> np.ndarray:
    return np.asarray(n, dtype=np.int64).astype("timedelta64[D]")


def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row index repeated ``counts`` times and the 0-based position inside each repetition."""
    counts = np.asarray(counts, dtype=np.int64)
    idx = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return idx, np.arange(counts.sum()) - np.repeat(starts, counts)


def ids(prefix: str, n: int, width: int) -> np.ndarray:
    return (prefix + pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(width)).to_numpy(dtype=object)


def apportion(total: int, shares: np.ndarray) -> np.ndarray:
    """Integer counts summing to ``total`` in proportion to ``shares`` (largest remainder)."""
    exact = total * np.asarray(shares) / np.sum(shares)
    counts = np.floor(exact).astype(int)
    counts[np.argsort(-(exact - counts), kind="stable")[: total - counts.sum()]] += 1
    return counts


def pick(rng: np.random.Generator, options: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    """``n`` labels in the given proportions (stratified, so small batches keep the shares)."""
    names = np.array([o for o, _ in options], dtype=object)
    counts = apportion(n, [w for _, w in options])
    return rng.permutation(np.repeat(names, counts))


def uniform_days(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """A random day in [lo, hi] for each pair (hi ≥ lo)."""
    span = (hi - lo).astype(np.int64)
    return lo + as_days(np.floor(rng.random(len(span)) * (span + 1)))


SERIALS_PER_SEX = 500
SERIAL_STRIDE = 7  # coprime with SERIALS_PER_SEX, so stepped serials never repeat within a date


def personnummer(
    birth: np.ndarray, male: np.ndarray, samordning: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Unique 12-digit ids YYYYMMDDNNNC: 11th digit odd for men, Luhn check digit last.

    Samordningsnummer add 60 to the day. Serials are unique within (date, sex). The Luhn sum is
    additive over positions, so :func:`luhn_check_digit` is evaluated once per distinct date and
    once per serial and combined vectorised.
    """
    n = len(birth)
    idx = pd.DatetimeIndex(birth)
    ymd = idx.year.to_numpy() * 10_000 + idx.month.to_numpy() * 100 + idx.day.to_numpy() + 60 * samordning
    key = ymd.astype(np.int64) * 2 + male
    order = np.lexsort((rng.random(n), key))
    sorted_key = key[order]
    first = np.r_[True, sorted_key[1:] != sorted_key[:-1]]
    group = np.cumsum(first) - 1
    rank = np.arange(n) - np.flatnonzero(first)[group]
    if n and rank.max() >= SERIALS_PER_SEX:
        raise ValueError("För många personer med samma födelsedatum för unika personnummer.")
    offset = rng.integers(0, SERIALS_PER_SEX, size=int(first.sum()))[group]
    serial = np.empty(n, dtype=np.int64)
    serial[order] = (offset + rank * SERIAL_STRIDE) % SERIALS_PER_SEX
    nnn = 2 * serial + male.astype(np.int64)
    dates, inv = np.unique(ymd % 1_000_000, return_inverse=True)
    date_sum = np.array([(10 - luhn_check_digit(f"{d:06d}000")) % 10 for d in dates], dtype=np.int64)
    serial_sum = np.array([(10 - luhn_check_digit(f"000000{s:03d}")) % 10 for s in range(1000)])
    check = (10 - (date_sum[inv] + serial_sum[nnn]) % 10) % 10
    return pd.Series(ymd * 10_000 + nnn * 10 + check).astype(str).to_numpy(dtype=object)


@dataclass(frozen=True)
class Window:
    """The consecutive years generated: their first and last month index and day."""

    years: tuple[int, ...]

    @property
    def first_month(self) -> int:
        return month_index(self.years[0])

    @property
    def last_month(self) -> int:
        return month_index(self.years[-1], MONTHS_PER_YEAR)

    @property
    def start(self) -> np.datetime64:
        return np.datetime64(f"{self.years[0]}-01-01", "D")

    @property
    def end(self) -> np.datetime64:
        return np.datetime64(f"{self.years[-1]}-12-31", "D")

