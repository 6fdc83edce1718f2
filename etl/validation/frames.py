"""The validation frame of one staged table: what GX sees, read column by column.

The staged rows in the contract's pandas types, dates as datetime64[ns] (clipped to its range),
the derived ``_ok_*`` checks beside them, a RangeIndex (GX's row indices are positions). A large
table is never held whole: GX checks it a few rules at a time, each pass on just the columns its
rules read (``passes``), and the batch fingerprint, which GX takes over the whole frame, is
hashed over slices of rows read one after another. National application: a 540 MB frame.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from etl.arrow_memory import heap_for_batches
from etl.validation.suites import NS_MAX, NS_MIN

_NULLABLE = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype(), pa.string(): pd.StringDtype()}

SLICE_ROWS = 125_000
"""Rows hashed (and read) at a time for the fingerprint."""


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """The contract's pandas types: nullable Int64/boolean/string whatever the nulls
    (``pd.read_parquet`` would give float64 for an integer column with a null). Each Arrow
    column is freed once converted: callers do not use the table again."""
    return table.to_pandas(types_mapper=_NULLABLE.get, self_destruct=True, split_blocks=True)


def read_pandas(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """``columns`` of a staged file (all: None) in the contract's pandas types. One thread: Arrow's
    threads cost more than they give on a few columns (national validation 30 → 26 s)."""
    return to_pandas(pq.read_table(path, columns=columns, use_threads=False))


def fingerprint_of(slices: Iterable[pd.DataFrame]) -> str:
    """GX's fingerprint (md5 of ``hash_pandas_object(df, index=True)``) of the frame that these
    consecutive slices of rows make up.

    Each row's hash depends on that row (and its index label) only, and md5 reads its input in
    order, so hashing slices gives the same digest; hashing the whole frame at once would hold
    a copy of every string column as Python objects (half a GB for national ``application``).
    """
    digest = hashlib.md5(usedforsecurity=False)
    for rows in slices:
        digest.update(pd.util.hash_pandas_object(rows, index=True).values)
    return digest.hexdigest()


def fingerprint_in_memory(df: pd.DataFrame, whole) -> str:
    """``fingerprint_of`` a frame in memory; GX's ``whole`` (it pickles) for unhashable values."""
    try:
        step = SLICE_ROWS
        return fingerprint_of(df.iloc[i : i + step] for i in range(0, len(df), step))
    except TypeError:
        return whole(df)


class Frames(Protocol):
    """A table's validation frame, handed to GX a few columns at a time (``TableFrames``)."""

    columns: list[str]
    rows: int

    def frame(self, columns: Iterable[str] | None = None) -> pd.DataFrame: ...
    def empty(self) -> pd.DataFrame: ...
    def fingerprint(self, whole) -> str: ...


class InMemory:
    """A frame already in memory as ``Frames`` (the case review's answers)."""

    def __init__(self, df: pd.DataFrame):
        self.df, self.columns, self.rows = df, list(df.columns), len(df)

    def frame(self, columns: Iterable[str] | None = None) -> pd.DataFrame:
        return self.df if columns is None else self.df[[c for c in self.columns if c in set(columns)]]

    def empty(self) -> pd.DataFrame:
        return self.df.iloc[:0]

    def fingerprint(self, whole) -> str:
        return fingerprint_in_memory(self.df, whole)


class TableFrames:
    """One staged table's validation frame, or any columns of it, read from its staged file."""

    def __init__(self, path: Path, columns_missing: Iterable[str], derived: dict[str, np.ndarray]):
        missing = set(columns_missing)  # not in the source: not in the frame either
        self.path, self.derived = Path(path), derived
        self.staged = [c for c in pq.read_schema(self.path).names if c not in missing]
        self.columns = [*self.staged, *derived]
        self.rows = pq.read_metadata(self.path).num_rows

    def frame(self, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """These columns of every row, in the frame's column order (all: None)."""
        wanted = set(self.columns if columns is None else columns)
        staged = [c for c in self.staged if c in wanted]
        rows = read_pandas(self.path, staged) if staged else pd.DataFrame(index=pd.RangeIndex(self.rows))
        return self._gx_frame(rows, 0, [c for c in self.derived if c in wanted])

    def empty(self) -> pd.DataFrame:
        """Every column and no row: all a rule on the table's columns and types reads."""
        none = pq.read_schema(self.path).empty_table().select(self.staged)
        return self._gx_frame(to_pandas(none), 0, list(self.derived))

    def slices(self) -> Iterator[pd.DataFrame]:
        """The whole frame as consecutive slices of rows (index labels as in the whole frame)."""
        start = 0
        if not self.staged:
            yield self.frame()
            return
        for batch in pq.ParquetFile(self.path).iter_batches(batch_size=SLICE_ROWS, columns=self.staged):
            n = batch.num_rows
            yield self._gx_frame(to_pandas(pa.Table.from_batches([batch])), start, list(self.derived))
            start += n

    def fingerprint(self, whole=None) -> str:
        """GX's batch fingerprint of the whole frame, read a slice of rows at a time (each slice
        on the heap pages of the one before)."""
        with heap_for_batches():
            return fingerprint_of(self.slices())

    def _gx_frame(self, frame: pd.DataFrame, start: int, derived: list[str]) -> pd.DataFrame:
        """Rows ``start``… of the staged columns as GX sees them, with these derived checks."""
        rows = len(frame)
        index = pd.RangeIndex(start, start + rows)
        frame = frame.set_axis(index)
        for col in frame.columns:
            dtype = frame[col].dtype
            if isinstance(dtype, np.dtypes.DateTime64DType) and dtype != "datetime64[ns]":
                frame[col] = frame[col].clip(NS_MIN, NS_MAX).astype("datetime64[ns]")
        if derived:
            checks = {c: self.derived[c][start : start + rows] for c in derived}
            frame = pd.concat([frame, pd.DataFrame(checks, index=index)], axis=1)
        return frame
