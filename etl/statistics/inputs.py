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


def _codes(arrays: list[pa.ChunkedArray]) -> list[pa.ChunkedArray]:
    """The ids of ``arrays`` as int64 codes numbered in sorted order of the distinct ids."""
    distinct = pc.unique(pa.chunked_array([pc.unique(a) for a in arrays], type=arrays[0].type))
    distinct = distinct.drop_null()
    ordered = distinct.take(pc.array_sort_indices(distinct))
    return [pc.index_in(a, value_set=ordered).cast(pa.int64()) for a in arrays]


def _read(run: Path, table: str, cols: tuple[str, ...]) -> pa.Table:
    path = staging.table_path(run, staging.VALIDATED, table)
    present = set(pq.read_schema(path).names)
    return pq.read_table(path, columns=[c for c in cols if c in present])


def read_tables(run: Path, catalogue: Catalogue) -> dict[str, pd.DataFrame]:
    """Every validated table with the columns the statistics read, ids as codes (see above)."""
    arrow = {table: _read(run, table, cols) for table, cols in columns(catalogue).items()}
    codes: dict[tuple[str, str], pa.ChunkedArray] = {}
    for holders in ID_KINDS.values():
        held = [(t, c) for t, c in holders if t in arrow and c in arrow[t].column_names]
        if held:
            codes.update(zip(held, _codes([arrow[t][c] for t, c in held]), strict=True))
    return {table: _pandas(table, frame, codes) for table, frame in arrow.items()}


def _pandas(table: str, frame: pa.Table, codes: Mapping[tuple[str, str], pa.ChunkedArray]) -> pd.DataFrame:
    """As pd.read_parquet gives it (the same dtypes: a file's pandas metadata would turn the codes
    back into text, so they are set afterwards), without keeping the Arrow buffers twice."""
    order = frame.column_names
    ids = {c: codes[(table, c)] for c in order if (table, c) in codes}
    out = frame.drop_columns(list(ids)).to_pandas(self_destruct=True, split_blocks=True)
    for column, coded in ids.items():
        out[column] = coded.to_pandas().to_numpy()  # int64, or float64 with NaN for a missing id
    return out[order]


def districts(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """The unit's districts: the district table's codes, sorted."""
    return sorted(tables["district"]["district_code"].dropna().unique().tolist())
