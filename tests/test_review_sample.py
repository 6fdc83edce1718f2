"""Drawing review rounds: reproducible from seed and data whatever the key, balanced, exclusive,
written only to the restricted folder (etl.review.sample, etl.review.paths)."""

from __future__ import annotations

import json
import stat

import pandas as pd
import pytest

from etl.review import paths
from etl.review.paths import ReviewError
from etl.review.sample import draw, draw_round, quotas
from tests.support.review import KEY_A, KEY_B, make_source


@pytest.fixture
def source_url(tmp_path):
    return make_source(tmp_path / "source.db", per_sex=30)


def _ids(done) -> list[str]:
    return pd.read_parquet(done.folder / paths.CASES_FILE)["application_id"].tolist()


def test_same_seed_same_sample_under_two_pseudonym_keys(tmp_path, source_url):
    a = draw_round(source_url, 2018, seed=11, key=KEY_A.encode(), per_sex=8, data_dir=tmp_path / "a")
    b = draw_round(source_url, 2018, seed=11, key=KEY_B.encode(), per_sex=8, data_dir=tmp_path / "b")
    assert _ids(a) == _ids(b)
    assert a.record["data_hash"] == b.record["data_hash"]
    assert a.record["sample_hash"] == b.record["sample_hash"]
    pa = pd.read_parquet(a.folder / paths.CASES_FILE)["application_pseudonym"]
    pb = pd.read_parquet(b.folder / paths.CASES_FILE)["application_pseudonym"]
    assert set(pa).isdisjoint(pb)  # the keys did differ


def test_the_sample_does_not_depend_on_the_row_order_of_the_source():
    rows = [
        {
            "application_id": f"A{i}",
            "household_id": f"H{i}",
            "sex": "KM"[i % 2],
            "household_type": 3,
            "benefit_month": pd.Timestamp("2018-01-01"),
            "received_on": pd.Timestamp("2018-01-01"),
            "decided_on": pd.Timestamp("2018-01-05"),
            "decision": "bifall",
            "applied_sek": 100.0,
            "granted_sek": 100.0,
        }
        for i in range(20)
    ]
    frame = pd.DataFrame(rows)  # identical data: only the case system's id breaks ties
    first, _ = draw(frame, 3, seed=5)
    again, _ = draw(frame.iloc[::-1], 3, seed=5)
    assert first["application_id"].tolist() == again["application_id"].tolist()


def test_different_seeds_give_different_samples(tmp_path, source_url):
    a = draw_round(source_url, 2018, seed=1, key=KEY_A.encode(), per_sex=8, data_dir=tmp_path)
    b = draw_round(source_url, 2018, seed=2, key=KEY_A.encode(), per_sex=8, data_dir=tmp_path)
    assert set(_ids(a)) != set(_ids(b))
    assert (a.round_id, b.round_id) == ("2018-01", "2018-02")


def test_strata_are_balanced_by_sex_and_household_type(tmp_path, source_url):
    done = draw_round(
        source_url, 2018, seed=3, key=KEY_A.encode(), per_sex=7, by="household_type", data_dir=tmp_path
    )
    cases = pd.read_parquet(done.folder / paths.CASES_FILE)
    assert cases["sex"].value_counts().to_dict() == {"K": 7, "M": 7}
    # 7 per sex over two household types: 4 in the first (sorted), 3 in the second
    counts = cases.groupby(["sex", "household_type"]).size().to_dict()
    assert counts == {("K", 5): 4, ("K", 6): 3, ("M", 3): 4, ("M", 4): 3}
    assert cases["application_id"].is_unique
    assert quotas(7, [5, 6]) == {5: 4, 6: 3}
    assert quotas(2, ["a", "b", "c"]) == {"a": 1, "b": 1, "c": 0}


def test_only_decided_applications_of_the_year(tmp_path, source_url):
    done = draw_round(source_url, 2018, seed=3, key=KEY_A.encode(), per_sex=30, data_dir=tmp_path)
    ids = _ids(done)
    assert len(ids) == 60 and "A99998" not in ids and "A99999" not in ids  # last year's, undecided


def test_a_round_excludes_earlier_rounds(tmp_path, source_url):
    first = draw_round(source_url, 2018, seed=1, key=KEY_A.encode(), per_sex=15, data_dir=tmp_path)
    second = draw_round(
        source_url,
        2018,
        seed=1,
        key=KEY_A.encode(),
        per_sex=15,
        data_dir=tmp_path,
        exclude_rounds=(first.round_id,),
    )
    assert set(_ids(first)).isdisjoint(_ids(second))
    assert len(_ids(second)) == 30  # 15 of the 30 per sex were left
    third = draw_round(
        source_url,
        2018,
        seed=1,
        key=KEY_A.encode(),
        per_sex=15,
        data_dir=tmp_path,
        exclude_rounds=(first.round_id, second.round_id),
    )
    assert _ids(third) == [] and all(s["drawn"] == 0 for s in third.record["strata"])
    with pytest.raises(ReviewError, match="2017-01 finns inte"):
        draw_round(
            source_url, 2018, seed=1, key=KEY_A.encode(), data_dir=tmp_path, exclude_rounds=("2017-01",)
        )


def test_the_round_is_recorded(tmp_path, source_url):
    done = draw_round(source_url, 2018, seed=9, key=KEY_A.encode(), per_sex=4, data_dir=tmp_path)
    record = json.loads((done.folder / paths.ROUND_FILE).read_text(encoding="utf-8"))
    assert {k: record[k] for k in ("round", "year", "seed", "per_sex", "by", "exclude_rounds", "cases")} == {
        "round": "2018-01",
        "year": 2018,
        "seed": 9,
        "per_sex": 4,
        "by": None,
        "exclude_rounds": [],
        "cases": 8,
    }
    assert len(record["data_hash"]) == len(record["workbook_sha256"]) == 64
    assert record["created"]


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_restricted_folder_is_owner_only(tmp_path, source_url):
    done = draw_round(source_url, 2018, seed=9, key=KEY_A.encode(), per_sex=4, data_dir=tmp_path)
    review = tmp_path / paths.REVIEW
    for folder in (review, review / paths.ROUNDS, done.folder):
        assert _mode(folder) == 0o700, folder
    (review / paths.ROUNDS).chmod(0o755)  # someone opened it up: the next use closes it again
    paths.root(tmp_path)
    paths.restricted(review / paths.ROUNDS)
    assert _mode(review / paths.ROUNDS) == 0o700


def test_a_folder_that_cannot_be_closed_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("pathlib.Path.chmod", lambda self, mode: None)
    folder = tmp_path / "open"
    folder.mkdir(mode=0o755)
    with pytest.raises(ReviewError, match="måste ha 700"):
        paths.restricted(folder)


def test_the_case_system_ids_stay_in_the_restricted_folder(tmp_path, source_url):
    data = tmp_path / "data"
    done = draw_round(source_url, 2018, seed=9, key=KEY_A.encode(), per_sex=4, data_dir=data)
    ids = _ids(done)
    assert (data / paths.REVIEW / paths.ROUNDS / done.round_id / paths.CASES_FILE).exists()
    outside = [p for p in data.rglob("*") if p.is_file() and paths.REVIEW not in p.relative_to(data).parts]
    assert not any(i in p.read_text(errors="ignore") for p in outside for i in ids)
    assert not any(i in json.dumps(done.record) for i in ids)  # the record (XCom) holds no ids


def test_the_data_folder_keeps_its_own_permissions(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o755)
    assert _mode(paths.root(data)) == 0o700
    assert _mode(data) == 0o755
