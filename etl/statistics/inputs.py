"""The validated tables the statistics read: only the columns they use, read once per step.

Pseudonymised ids become integer codes, one numbering per kind of id (households, persons,
applications) shared by every table that holds it, numbered in the pseudonyms' sorted order. A
join, group, count or sort on the codes then gives exactly what it gives on the text (also the
order in which rows are summed), on a fraction of the memory and time. A missing id stays
missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from etl import source, staging
from etl.settings import Catalogue
from etl.statistics import case, economy, gender, staff, unit_goals

ID_KINDS = {
    "household": (("household", "household_id"), ("person", "household_id"), ("payment", "household_id"),
                  ("application", "household_id")),
    "person": (("person", "person_id"), ("support_obstacle", "person_id"), ("intervention", "person_id"),
               ("application", "applicant_id")),
    "application": (("application", "application_id"),),
}  # fmt: skip
"""Each kind of pseudonymised id and the (table, column) pairs that hold it."""
CATEGORIES = (("application", "decision"), ("support_obstacle", "code"))
"""Code columns of the millions-of-rows tables, each a handful of values: held as pandas
categoricals (categories sorted), a byte a row instead of the text's ~15 (~130 MB nationally).
Their readers only compare, test membership and factorize them, which categoricals do alike."""


def columns(catalogue: Catalogue) -> dict[str, tuple[str, ...]]:
    """Per table, the columns any statistics module reads, and those a catalogue window reads
    (etl.statistics.comparison checks where the source starts on them)."""
    wanted: dict[str, list[str]] = {"district": ["district_code"]}
    for required in (case.REQUIRED, staff.REQUIRED, gender.REQUIRED, economy.REQUIRED, unit_goals.REQUIRED):
        for table, cols in required.items():
            wanted.setdefault(table, []).extend(cols)
    for entry in catalogue:
        for spec in entry.reads:
            wanted.setdefault(spec.table, []).append(spec.column)
    return {t: tuple(dict.fromkeys(c)) for t, c in wanted.items() if t in source.TABLES}


def _codes(arrays: list[pa.ChunkedArray]) -> list[np.ndarray]:
    """The ids of ``arrays`` (dictionary-encoded, as read) as codes numbered in sorted order of the
    distinct ids: int32 (int64 past 2³¹ ids), or float64 with NaN for a missing id.

    Only each chunk's dictionary is sorted and numbered, not every row; the rows then take their
    entry's code. One sort of the dictionaries' entries (a hash set of every id, and the strings
    of every row, cost seconds and hundreds of MB on a national extract)."""
    chunks = [chunk for a in arrays for chunk in a.chunks]
    used = []  # per chunk, the dictionary entries its rows use
    for chunk in chunks:
        indices = chunk.indices.to_numpy(zero_copy_only=False)
        valid = ~np.asarray(chunk.indices.is_null()) if chunk.null_count else slice(None)
        used.append(
            np.flatnonzero(np.bincount(indices[valid].astype(np.int64), minlength=len(chunk.dictionary)))
        )
    values = pa.chunked_array(
        [chunk.dictionary.take(pa.array(u)) for chunk, u in zip(chunks, used, strict=True)],
        type=arrays[0].type.value_type,
    ).combine_chunks()
    order = pc.array_sort_indices(values).to_numpy()
    ranked = values.take(pa.array(order))
    new = np.ones(len(ranked), dtype=bool)
    if len(ranked) > 1:
        new[1:] = pc.not_equal(ranked[1:], ranked[:-1]).to_numpy(zero_copy_only=False)
    kind = np.int32 if len(values) < np.iinfo(np.int32).max else np.int64  # half the memory of int64
    code = np.empty(len(values), dtype=kind)
    code[order] = np.cumsum(new) - 1
    out, at = [], 0
    for a in arrays:
        parts = []
        for chunk in a.chunks:
            u = used.pop(0)
            lookup = np.zeros(len(chunk.dictionary), dtype=kind)
            lookup[u] = code[at : at + len(u)]
            at += len(u)
            rows = (
                lookup[chunk.indices.fill_null(0).to_numpy()]
                if len(chunk.dictionary)
                else np.zeros(len(chunk), dtype=kind)
            )
            if chunk.null_count:
                rows = np.where(np.asarray(chunk.indices.is_null()), np.nan, rows)
            parts.append(rows)
        joined = np.concatenate(parts) if parts else np.empty(0, dtype=kind)
        if any(p.dtype.kind == "f" for p in parts):
            joined = joined.astype("float64")
        out.append(joined)
    return out


def _read(run: Path, table: str, cols: tuple[str, ...], ids: tuple[str, ...] = ()) -> pa.Table:
    """``cols`` of the table that its file has, the ``ids`` among them dictionary-encoded."""
    path = staging.table_path(run, staging.VALIDATED, table)
    present = set(pq.read_schema(path).names)
    return pq.read_table(path, columns=[c for c in cols if c in present],
                         read_dictionary=[c for c in ids if c in present])  # fmt: skip


def read_tables(run: Path, catalogue: Catalogue) -> dict[str, pd.DataFrame]:
    """Every validated table with the columns the statistics read, ids as codes (see above).

    The ids are read first (dictionary-encoded) and coded; then one table at a time is read and
    turned into pandas, so only one table's Arrow buffers are held at a time. The Arrow pool gives
    its freed memory back at the end (mimalloc would keep it, ~0.8 GB on a national extract)."""
    wanted = columns(catalogue)
    present = {t: set(pq.read_schema(staging.table_path(run, staging.VALIDATED, t)).names) for t in wanted}
    codes: dict[tuple[str, str], np.ndarray] = {}
    for holders in ID_KINDS.values():
        held = [(t, c) for t, c in holders if t in wanted and c in wanted[t] and c in present[t]]
        if held:
            read = [_read(run, t, (c,), (c,)).column(0) for t, c in held]
            codes.update(zip(held, _codes(read), strict=True))
            del read
    tables = {}
    for table, cols in wanted.items():
        order = [c for c in cols if c in present[table]]
        ids = [c for c in order if (table, c) in codes]
        tables[table] = _pandas(_read(run, table, tuple(c for c in order if c not in ids)), order,
                                {c: codes.pop((table, c)) for c in ids},
                                [c for t, c in CATEGORIES if t == table and c in order])  # fmt: skip
    pa.default_memory_pool().release_unused()
    return tables


def _pandas(
    frame: pa.Table, order: list[str], ids: Mapping[str, np.ndarray], categories: list[str]
) -> pd.DataFrame:
    """As pd.read_parquet gives it (the same dtypes: a file's pandas metadata would turn the codes
    back into text, so they are set afterwards), without keeping the Arrow buffers twice."""
    n = len(next(iter(ids.values()))) if ids else frame.num_rows
    out = (
        frame.to_pandas(self_destruct=True, split_blocks=True)
        if frame.num_columns
        else pd.DataFrame(index=pd.RangeIndex(n))
    )
    del frame
    for column, coded in ids.items():
        out[column] = coded  # int32, or float64 with NaN for a missing id
    for column in categories:
        out[column] = out[column].astype("category")
    return out[order]


def districts(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """The unit's districts: the district table's codes, sorted."""
    return sorted(tables["district"]["district_code"].dropna().unique().tolist())
