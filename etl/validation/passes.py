"""How GX goes through a table: in one pass, or, for a table too large for one, a group of rules
at a time, each group on only what its rules read (``GxRun.validate``)."""

from __future__ import annotations

import pandas as pd

from etl.validation.frames import Frames

CONDITION_ROWS = 8_000_000
"""Rows × rules GX checks in one pass (a memory cap only: the results do not depend on it). GX
holds every rule's row condition until its pass ends; a national application table (3.2 M rows,
26 rules) goes through in passes of two rules, a small table in one pass."""


SCHEMA_TYPES = frozenset(
    {
        "expect_table_columns_to_match_set",
        "expect_table_columns_to_match_ordered_list",
        "expect_table_column_count_to_equal",
        "expect_table_column_count_to_be_between",
        "expect_table_column_types_to_match",
    }
)
ROW_COUNT_TYPES = frozenset({"expect_table_row_count_to_be_between", "expect_table_row_count_to_equal"})
SCHEMA, ROWS, ALL = "schema", "rows", None
"""What a pass's frame holds besides named columns: every column without rows; every row without
columns; everything."""


def reads(expectation: dict, columns: list[str]):
    """What of the frame an expectation reads: ``SCHEMA``, ``ROWS``, a tuple of columns (a
    column, pair or multicolumn rule: GX gives it only those), or ``ALL`` (anything else, a row
    condition, a column the frame lacks: GX raises its own error on the whole frame)."""
    kwargs = expectation["kwargs"]
    if kwargs.get("row_condition"):
        return ALL
    if expectation["type"] in SCHEMA_TYPES:
        return SCHEMA
    if expectation["type"] in ROW_COUNT_TYPES:
        return ROWS
    named = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    named += list(kwargs.get("column_list", ()))
    if not named or not set(named) <= set(columns):
        return ALL
    return tuple(dict.fromkeys(named))


def plan(expectations: list[dict], frames: Frames) -> list[tuple[object, list[dict]]]:
    """The passes over a table: one on the whole frame when every rule's row conditions fit in
    ``CONDITION_ROWS``; else the rules grouped by what they read, each group on only that, a few
    rules a pass."""
    at_once = max(1, CONDITION_ROWS // max(frames.rows, 1))
    if len(expectations) <= at_once:
        return [(ALL, expectations)]
    groups: dict[object, list[dict]] = {}
    for e in expectations:
        groups.setdefault(reads(e, frames.columns), []).append(e)
    passes = []
    for read, group in groups.items():
        step = len(group) if read in (SCHEMA, ROWS) else at_once  # no row conditions to hold
        passes += [(read, group[i : i + step]) for i in range(0, len(group), step)]
    return passes


def frame_for(frames: Frames, read) -> pd.DataFrame:
    """The frame one pass sees (``read``: what its rules read)."""
    if read == SCHEMA:
        return frames.empty()
    if read == ROWS:
        return pd.DataFrame(index=pd.RangeIndex(frames.rows))
    return frames.frame(read)
