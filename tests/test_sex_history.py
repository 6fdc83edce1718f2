"""The sex-code history between extracts (etl.sex_history)."""

from __future__ import annotations

import pandas as pd
import pytest

from etl import sex_history
from etl.periods import Period


def _persons(**codes: str | None) -> pd.DataFrame:
    return pd.DataFrame({"person_id": list(codes), "sex": list(codes.values())}, dtype="string")


def _as_dict(frame: pd.DataFrame | None) -> dict:
    return dict(zip(frame["person_id"], frame["sex"], strict=True))


def test_history_carries_forward_and_takes_the_latest_extracts_codes(tmp_path):
    assert sex_history.previous(tmp_path, Period(2018, 1)) is None
    sex_history.record(tmp_path, Period(2018, 1), _persons(pa="K", pb="M", pc="X", pd=None))
    # T2's extract lacks pa, changes pb and adds pe: pa is carried forward; pc/pd had no valid code.
    sex_history.record(tmp_path, Period(2018, 2), _persons(pb="K", pe="M"))

    assert sex_history.previous(tmp_path, Period(2018, 1)) is None
    assert _as_dict(sex_history.previous(tmp_path, Period(2018, 2))) == {"pa": "K", "pb": "M"}
    assert _as_dict(sex_history.previous(tmp_path, Period(2018, 3))) == {"pa": "K", "pb": "K", "pe": "M"}
    assert _as_dict(sex_history.previous(tmp_path, Period(2019, 1))) == {"pa": "K", "pb": "K", "pe": "M"}
    # A re-run of T2 writes the same file again, still from the T1 history.
    first = (tmp_path / "person_sex" / "2018-T2.parquet").read_bytes()
    sex_history.record(tmp_path, Period(2018, 2), _persons(pe="M", pb="K"))
    assert (tmp_path / "person_sex" / "2018-T2.parquet").read_bytes() == first


def test_prune_keeps_the_newest_years(tmp_path):
    for period in (Period(2016, 3), Period(2017, 1), Period(2018, 2), Period(2019, 1)):
        sex_history.record(tmp_path, period, _persons(pa="K"))
    (tmp_path / "person_sex" / "notes.parquet").write_bytes(b"")  # not a period: left alone
    removed = sex_history.prune(tmp_path, keep_years=2)
    assert [p.name for p in removed] == ["2016-T3.parquet", "2017-T1.parquet"]
    remaining = sorted(p.name for p in (tmp_path / "person_sex").iterdir())
    assert remaining == ["2018-T2.parquet", "2019-T1.parquet", "notes.parquet"]
    assert sex_history.prune(tmp_path / "empty", keep_years=2) == []
    with pytest.raises(ValueError, match="minst 1"):  # 0 would remove the history just written
        sex_history.prune(tmp_path, keep_years=0)
