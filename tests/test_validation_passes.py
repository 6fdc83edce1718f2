"""How GX goes through a table (etl.validation.passes): rules grouped by what they read."""

from __future__ import annotations

import pandas as pd
import pytest

from etl.validation import passes
from etl.validation.frames import InMemory
from etl.validation.passes import ALL, ROWS, SCHEMA, plan, reads

COLS = ["a", "b", "c"]


def rule(type_: str, **kwargs) -> dict:
    return {"type": type_, "kwargs": kwargs}


def test_each_rule_reads_its_columns_or_only_the_tables_shape():
    """A column, pair or multicolumn rule reads its columns; the table's column and type rules
    its columns without rows; a row count its rows; anything else (a row condition, a column the
    frame lacks, an unknown table rule) the whole frame."""
    assert reads(rule("expect_table_columns_to_match_set", column_set=COLS), COLS) == SCHEMA
    assert reads(rule("expect_table_column_types_to_match", column_types={}), COLS) == SCHEMA
    assert reads(rule("expect_table_row_count_to_be_between", min_value=1), COLS) == ROWS
    assert reads(rule("expect_column_values_to_not_be_null", column="b"), COLS) == ("b",)
    pair = rule("expect_column_pair_values_a_to_be_greater_than_b", column_A="c", column_B="a")
    assert reads(pair, COLS) == ("c", "a")
    assert reads(rule("expect_compound_columns_to_be_unique", column_list=["a", "b"]), COLS) == ("a", "b")
    conditioned = rule("expect_column_values_to_not_be_null", column="a", row_condition='b=="x"')
    assert reads(conditioned, COLS) is ALL
    assert reads(rule("expect_column_values_to_not_be_null", column="z"), COLS) is ALL
    assert reads(rule("expect_table_row_count_to_equal_other_table", other_table_name="t"), COLS) is ALL


class _Frames:
    columns, rows = COLS, 10


def test_one_pass_when_the_rules_fit_else_a_few_of_a_group_a_pass(monkeypatch):
    rules = [rule("expect_column_values_to_not_be_null", column=c) for c in ("a", "b", "a", "a")]
    rules += [rule("expect_table_row_count_to_be_between"), rule("expect_table_columns_to_match_set")] * 2
    assert plan(rules, _Frames()) == [(ALL, rules)]  # the default cap: 8 rules of 10 rows fit
    monkeypatch.setattr(passes, "CONDITION_ROWS", 20)  # two rules of 10 rows a pass
    planned = plan(rules, _Frames())
    assert [(read, len(group)) for read, group in planned] == [
        (("a",), 2), (("a",), 1), (("b",), 1), (ROWS, 2), (SCHEMA, 2)]  # fmt: skip
    assert planned[0][1] == [rules[0], rules[2]] and sum(len(g) for _, g in planned) == len(rules)


@pytest.mark.parametrize("read", [SCHEMA, ROWS, ("b",), ALL])
def test_a_pass_sees_only_what_it_reads(read):
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None], "c": [True, False, True]})
    seen = passes.frame_for(InMemory(frame), read)
    expected = {SCHEMA: (0, COLS), ROWS: (3, []), ("b",): (3, ["b"]), ALL: (3, COLS)}[read]
    assert (len(seen), list(seen.columns)) == expected
