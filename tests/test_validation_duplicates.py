"""Uniqueness without a hash table of every value (etl.validation.duplicates).

Expected rows are marked by hand; GX's own ``duplicated(keep=False)`` is the contract.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from etl.validation import duplicates
from etl.validation.report import ValidationStop
from etl.validation.run import validate_run
from tests.support.validation import cfg, households, payment, quarantine, stage

S = "string"


def test_every_occurrence_of_a_repeated_value_is_marked_nulls_included():
    ids = pd.Series(["a", "b", "a", None, None, "c", "a"], dtype=S, index=[10, 11, 12, 13, 14, 15, 16])
    marked = duplicates.duplicated(ids)
    assert marked.tolist() == [True, False, True, True, True, False, True]
    assert marked.index.tolist() == [10, 11, 12, 13, 14, 15, 16]


def test_repeats_in_different_slices_are_found(monkeypatch):
    monkeypatch.setattr(duplicates, "_SLICE_ROWS", 2)
    ids = pd.Series(["x1", "x2", "x3", "x4", "x5", "x1", "x6"], dtype=S)
    assert duplicates.duplicated(ids).tolist() == [True, False, False, False, False, True, False]


def test_equal_hashes_of_different_values_are_not_duplicates(monkeypatch):
    """Only the hashes are compared first; rows whose hashes collide are compared exactly."""
    monkeypatch.setattr(
        duplicates.pd.util, "hash_pandas_object", lambda v, **kw: pd.Series(np.zeros(len(v), np.uint64))
    )
    ids = pd.Series(["p", "q", "r", "q"], dtype=S)
    assert duplicates.duplicated(ids).tolist() == [False, True, False, True]


def test_compound_keys_repeat_only_when_every_column_does():
    frame = pd.DataFrame(
        {
            "household_id": pd.array(["H1", "H1", "H1", "H2", None, None], dtype=S),
            "benefit_month": pd.to_datetime(
                ["2019-01-01", "2019-02-01", "2019-01-01", "2019-01-01", "2019-03-01", "2019-03-01"]
            ),
        }
    )
    assert duplicates.duplicated(frame).tolist() == [True, False, True, False, True, True]


def test_empty_and_unhashable_values():
    assert duplicates.duplicated(pd.Series([], dtype=S)).tolist() == []
    lists = pd.Series([[1], [2], [1]], dtype=object)  # not hashable: pandas' own duplicated
    assert duplicates.duplicated(lists).tolist() == [True, False, True]
    mixed = pd.Series([1, "1", 1], dtype=object)  # hashed alike as text, told apart exactly
    assert duplicates.duplicated(mixed).tolist() == [True, False, True]


def test_gx_uses_it_for_both_uniqueness_rules(tmp_path, monkeypatch):
    """A validation run finds repeated payment ids with ``duplicated``: both rows of the
    repeated id are quarantined (the compound rule: tests/test_validation_suites.py)."""
    from great_expectations.execution_engine import PandasExecutionEngine
    from great_expectations.expectations import registry

    run = tmp_path / "cli__2018-T1"
    stage(run, "household", households("H1"))
    stage(run, "payment", [payment("P1"), payment("P2"), payment("P3"), payment("P2")])
    seen = []
    real = duplicates.duplicated
    monkeypatch.setattr(duplicates, "duplicated", lambda values: seen.append(len(values)) or real(values))
    with pytest.raises(ValidationStop, match="payment.payment_id: nyckeln är inte unik: 2 rader"):
        validate_run(run, ["household", "payment"], cfg=cfg(quarantine_stop=False))
    assert seen == [1, 4, 4]  # household ids; payment ids, again for the failed rule's rows
    assert sorted(quarantine(run, "payment")["payment_id"]) == ["P2", "P2"]
    for metric in ("column_values.unique.condition", "compound_columns.unique.condition"):
        fn = registry._registered_metrics[metric]["providers"][PandasExecutionEngine.__name__][1]
        assert fn.__module__ == duplicates.__name__
