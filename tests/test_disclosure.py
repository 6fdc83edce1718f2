"""Suppression on hand-built statistics: primary cells and complements by subtraction."""

import pandas as pd

from etl.config import DisclosureConfig
from etl.disclosure import SUPPRESSED, publish, suppress
from etl.indicators import BASIS

CFG = DisclosureConfig(min_persons=5, min_staff_group=11, suppressed_symbol="..", nothing_symbol="–")


def _stats(cells: dict[tuple[str, str], int]) -> pd.DataFrame:
    rows = [
        {
            "indicator_id": "x",
            "period": "2018-T1",
            "district_code": d,
            "sex": s,
            "value": float(v),
            "unit": "antal",
        }
        for (d, s), v in cells.items()
    ]
    return pd.DataFrame(rows).assign(**{BASIS: lambda df: df["value"].astype(int)})


def _suppressed(df: pd.DataFrame) -> set[tuple[str, str]]:
    return set(map(tuple, df.loc[df[SUPPRESSED], ["district_code", "sex"]].to_numpy()))


def test_small_cell_and_its_complement_in_the_triple_are_suppressed():
    # A: K=3 (primary), M=20, T=23. Showing T and M would give K=23-20: M or T must go too;
    # the smaller (M=20) is chosen. B has no small cells. ALL = A + B in each sex.
    cells = {
        ("A", "T"): 23, ("A", "K"): 3, ("A", "M"): 20,
        ("B", "T"): 60, ("B", "K"): 30, ("B", "M"): 30,
        ("ALL", "T"): 83, ("ALL", "K"): 33, ("ALL", "M"): 50,
    }  # fmt: skip
    out = suppress(_stats(cells), CFG)
    hidden = _suppressed(out)
    assert ("A", "K") in hidden and ("A", "M") in hidden
    # Then within sex K, A is hidden alone among A, B, ALL -> B's K (30) is hidden as well,
    # and likewise for M (B's M=30); B's triple then has K and M hidden but T shown: fine.
    assert ("B", "K") in hidden and ("B", "M") in hidden
    _assert_nothing_derivable(out)


def test_zero_stays_visible_and_large_cells_are_untouched():
    cells = {
        ("A", "T"): 10,
        ("A", "K"): 0,
        ("A", "M"): 10,
        ("ALL", "T"): 10,
        ("ALL", "K"): 0,
        ("ALL", "M"): 10,
    }
    out = suppress(_stats(cells), CFG)
    assert not out[SUPPRESSED].any()
    pub = publish(_stats(cells), CFG)
    assert pub.loc[(pub.district_code == "A") & (pub.sex == "K"), "published"].item() == "0"


def test_published_values_never_rest_on_fewer_than_five():
    cells = {("A", "T"): 5, ("A", "K"): 1, ("A", "M"): 4, ("ALL", "T"): 5, ("ALL", "K"): 1, ("ALL", "M"): 4}
    pub = publish(_stats(cells), CFG)
    shown = pub[~pub[SUPPRESSED]]
    stats = _stats(cells).set_index(["district_code", "sex"])[BASIS]
    assert all(
        stats[(d, s)] >= 5 or stats[(d, s)] == 0 for d, s in zip(shown.district_code, shown.sex, strict=True)
    )
    assert set(pub.loc[pub[SUPPRESSED], "published"]) == {".."}
    assert pub.loc[pub[SUPPRESSED], "value"].isna().all()


def _assert_nothing_derivable(df: pd.DataFrame) -> None:
    """No group (a T/K/M triple, or districts + ALL in one sex) has exactly one hidden cell."""
    for cols in (["indicator_id", "district_code"], ["indicator_id", "sex"]):
        counts = df.groupby(cols)[SUPPRESSED].sum()
        assert (counts != 1).all(), counts[counts == 1]
