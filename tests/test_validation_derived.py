"""Derived row checks (etl.validation.derived): references, one registerledare, sex-code history."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from etl.pseudonym import pseudonymise
from etl.validation import derived
from etl.validation.run import validate_run
from tests.support.validation import KEY, cfg, households, pnr, quarantine, report_of, stage

D = dt.date


@pytest.fixture
def run(tmp_path) -> Path:
    return tmp_path / "cli__2018-T1"  # the period comes from the run folder, like a CLI run


def test_exists_passes_nulls_and_uses_every_key():
    values = pd.Series(["a", None, "b", "x"], dtype="string")
    keys = pd.Series(["b", None, "a", "a"], dtype="string")
    assert derived._exists(values, keys).tolist() == [True, True, True, False]
    assert derived._exists(values, keys.iloc[:0]).tolist() == [False, True, False, False]


def test_one_household_per_applicant_and_month_by_hand():
    """a has H1 and H2 in January (both rows fail), H1 alone in February; b has H1 twice; a null
    applicant or month passes; a null household is not counted."""
    jan, feb = pd.Timestamp(2018, 1, 1), pd.Timestamp(2018, 2, 1)
    df = pd.DataFrame({
        "applicant_id": pd.array(["a", "a", "a", "b", "b", None, "c", "c"], dtype="string"),
        "benefit_month": [jan, jan, feb, jan, jan, jan, pd.NaT, jan],
        "household_id": pd.array(["H1", "H2", "H1", "H1", "H1", "H9", "H1", None], dtype="string"),
    })  # fmt: skip
    ok = derived._applicant_one_household(df, derived._Ctx({}))
    assert ok.tolist() == [False, False, True, True, True, True, True, True]
    assert derived._applicant_one_household(df.iloc[:0], derived._Ctx({})).tolist() == []


def test_one_registerledare_per_household(run):
    stage(run, "household", households("H1", "H2", "H3"))
    base = {"sex": "K", "birth_date": D(1985, 5, 5), "born_abroad": False}
    stage(run, "person", [
        {"person_id": pnr(1), "household_id": "H1", "role": "registerledare", **base},
        {"person_id": pnr(2), "household_id": "H2", "role": "registerledare", **base},
        {"person_id": pnr(3), "household_id": "H2", "role": "registerledare", **base},
        {"person_id": pnr(4), "household_id": "H3", "role": "barn", **base},
    ])  # fmt: skip
    report = report_of(run, "household", cfg(quarantine_stop=False))
    assert report.failed_rules == {"household_id: inte exakt en registerledare": 2}
    assert sorted(quarantine(run, "household")["household_id"]) == ["H2", "H3"]


def test_sex_code_changed_since_the_previous_extract(run):
    """p1 (registerledare H1) and p4 (a child in H2) changed code since the history; p2 is new;
    p3 keeps K; p5's code is missing now (the not-null rule reports that, not this one)."""
    stage(run, "household", households("H1", "H2", "H3"))
    base = {"birth_date": D(1985, 5, 5), "born_abroad": False}
    stage(run, "person", [
        {"person_id": pnr(1), "household_id": "H1", "role": "registerledare", "sex": "M", **base},
        {"person_id": pnr(2), "household_id": "H2", "role": "registerledare", "sex": "K", **base},
        {"person_id": pnr(3), "household_id": "H3", "role": "registerledare", "sex": "K", **base},
        {"person_id": pnr(4), "household_id": "H2", "role": "barn", "sex": "K", **base},
        {"person_id": pnr(5), "household_id": "H3", "role": "barn", "sex": None, **base},
    ])  # fmt: skip
    ids = pseudonymise(pd.Series([pnr(1), pnr(3), pnr(4), pnr(5)]), KEY)
    before = pd.DataFrame({"person_id": ids, "sex": ["K", "K", "M", "M"]})
    reports = validate_run(run, ["person", "household"], cfg=cfg(), sex_before=before)
    by_table = {r.table: r for r in reports}
    assert by_table["person"].failed_rules == {
        "sex: värde saknas": 1,
        "sex: könskoden har ändrats sedan förra uttaget": 2,
    }
    assert by_table["household"].failed_rules == {
        "household_id: registerledarens könskod har ändrats sedan förra uttaget": 1
    }
    assert list(quarantine(run, "household")["household_id"]) == ["H1"]
    changed = quarantine(run, "person")
    expected = set(pseudonymise(pd.Series([pnr(1), pnr(4), pnr(5)]), KEY))
    assert set(changed["person_id"]) == expected

    # Without a history (the first extract) nothing is compared.
    reports = validate_run(run, ["person", "household"], cfg=cfg())
    assert {r.table: r.rows_quarantined for r in reports} == {"person": 1, "household": 0}


def test_checks_read_only_the_columns_validation_loads():
    """Validation gives each check only the columns of its table it declares (``Check.columns``)
    and ``PARENT_COLUMNS`` of the tables it looks up: on the demo data every check gives the same
    answer with those columns as with the whole tables."""
    from tests.support.demo import demo_tables

    tables = {}
    for name, frame in demo_tables().items():  # the staged types: nullable, strings as string
        frame = frame.convert_dtypes().reset_index(drop=True)
        tables[name] = frame.astype({c: "string" for c in frame.columns if frame[c].dtype == object})
    tables[derived.SEX_HISTORY] = tables["person"][["person_id", "sex"]].iloc[::7].assign(sex="M")
    parents = {name: tables[name][list(cols)] for name, cols in derived.PARENT_COLUMNS.items()}
    parents[derived.SEX_HISTORY] = tables[derived.SEX_HISTORY]
    looked_up = set()
    for name in derived.DERIVED:
        whole, skipped = derived.derived_checks(name, lambda cols, own=tables[name]: own, tables)
        asked: list[list[str]] = []

        def read(cols, own=tables[name], asked=asked):
            asked.append(cols)
            return own[cols]  # a column the check did not declare: KeyError

        narrow, skipped_narrow = derived.derived_checks(name, read, parents)
        assert len(asked) == len(derived.DERIVED[name])  # one read per check
        assert not skipped and not skipped_narrow, name
        assert whole.keys() == narrow.keys()
        for col in whole:
            assert (whole[col] == narrow[col]).all(), (name, col)
            looked_up.add((name, col)) if not whole[col].all() else None
    assert looked_up, "the demo data fails some check, so the comparison can tell a difference"
