"""reports.model: the indexed published figures every sheet reads (Figures, figures_by_period)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from reports.model import NOTHING, SUPPRESSED, VALUE, Cell, Figures, figures_by_period
from tests.support.reports import context

ROWS = [
    # indicator_id, district_code, sex, value, unit, suppressed, published
    ("a", "ALL", "T", 12.0, "antal", False, "12"),
    ("a", "KUN", "K", 3.0, "antal", True, ".."),  # suppressed: the sentinel value never leaves
    ("a", "KUN", "M", 7.0, "antal", False, ".."),  # its text is the symbol: suppressed as well
    ("a", "NOR", "T", math.nan, "antal", False, "–"),  # nothing to report
    ("b", "ALL", "T", 0.25, "procent", "true", "0,3"),  # suppressed given as text
    ("b", "OST", "T", 0.0, "kr", "0", "0"),  # zero is a value
]
COLUMNS = ["indicator_id", "district_code", "sex", "value", "unit", "suppressed", "published"]


def table(rows=ROWS) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


def test_each_kind_of_published_figure():
    fig = Figures(table())
    assert fig.get("a") == Cell(VALUE, 12.0, "antal")
    assert fig.get("a", "KUN", "K") == Cell(SUPPRESSED, None, "antal")
    assert fig.get("a", "KUN", "M") == Cell(SUPPRESSED, None, "antal")
    assert fig.get("a", "NOR", "T") == Cell(NOTHING, None, "antal")
    assert fig.get("b") == Cell(SUPPRESSED, None, "procent")
    assert fig.get("b", "OST") == Cell(VALUE, 0.0, "kr")
    assert fig.get("a", "OST") == Cell(NOTHING, None, None)  # no row at all
    assert fig.get("c") == Cell(NOTHING, None, None)
    assert type(fig.get("a").value) is float  # written as a plain number
    assert (fig.has("a"), fig.has("b"), fig.has("c")) == (True, True, False)


def test_without_published_text_only_the_flag_suppresses():
    fig = Figures(table().drop(columns=["published"]))
    assert fig.get("a", "KUN", "M") == Cell(VALUE, 7.0, "antal")
    assert fig.get("a", "KUN", "K").kind == SUPPRESSED


def test_another_suppression_symbol():
    rows = [("a", "ALL", "T", 5.0, "antal", False, "x")]
    assert Figures(table(rows), suppressed_symbol="x").get("a").kind == SUPPRESSED
    assert Figures(table(rows)).get("a") == Cell(VALUE, 5.0, "antal")


def test_duplicate_and_missing_columns_are_refused():
    with pytest.raises(ValueError, match="dubbla rader för a/KUN/K"):
        Figures(table([*ROWS, ROWS[1]]))
    with pytest.raises(ValueError, match="saknar kolumnerna unit"):
        Figures(table().drop(columns=["unit"]))


def test_an_index_of_some_scopes_answers_only_for_them():
    fig = Figures(table(), scopes=("ALL", "NOR"))
    assert fig.get("a") == Cell(VALUE, 12.0, "antal")
    assert fig.get("a", "NOR", "T") == Cell(NOTHING, None, "antal")
    assert fig.get("a", "KUN", "K") == Cell(NOTHING, None, None)  # not indexed
    assert fig.get("b", "OST") == Cell(NOTHING, None, None)
    assert fig.has("b")  # the indicator was published, for a scope this index leaves out


def test_comparison_figures_per_period():
    comparison = pd.concat(
        [table(ROWS[:2]).assign(period="2017-T1"), table(ROWS[4:5]).assign(period="2017-T3")]
    )
    by_period = figures_by_period(comparison, "..")
    assert sorted(by_period) == ["2017-T1", "2017-T3"]
    assert by_period["2017-T1"].get("a") == Cell(VALUE, 12.0, "antal")
    assert not by_period["2017-T1"].has("b")
    assert by_period["2017-T3"].get("b").kind == SUPPRESSED
    assert figures_by_period(None, "..") == {}
    assert figures_by_period(table(), "..") == {}  # no period column


def test_a_context_indexes_its_figures_once_for_the_unit_and_its_districts():
    other = ("a", "SOD", "T", 4.0, "antal", False, "4")  # a district the unit does not have
    ctx = context(table([*ROWS, other]), comparison=table([ROWS[0], other]).assign(period="2017-T1"))
    assert ctx.unit_scopes == ("KUN", "NOR", "OST", "ALL")
    assert ctx.figures.get("a", "KUN", "M").kind == SUPPRESSED
    assert ctx.figures.get("a", "SOD").kind == NOTHING
    assert ctx.figures_for("2017-T1").get("a", "SOD").kind == NOTHING
    assert ctx.figures is ctx.figures
    assert ctx.figures_for("2017-T1") is ctx.figures_for("2017-T1")
    assert ctx.figures_for("2017-T1").get("a") == Cell(VALUE, 12.0, "antal")
    assert ctx.figures_for("2016-T1") is None
