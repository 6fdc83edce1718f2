"""One validation run (etl.validation.run): table rules and severity, what is written, the period.

Tiny staging folders with hand-computed outcomes (tests/support/validation.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl import staging
from etl.periods import Period
from etl.validation.report import TableReport, ValidationStop
from etl.validation.run import RULE_COLUMN, infer_period, validate_run
from tests.support.validation import cfg, households, payment, report_of, stage, stage_missing

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def run(tmp_path) -> Path:
    return tmp_path / "cli__2018-T1"  # the period comes from the run folder, like a CLI run


def test_importing_validation_does_not_import_great_expectations():
    code = "import sys, etl.validation.run, etl.pipeline; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_validated_and_quarantine_keep_the_staged_arrow_schema(run):
    stage(run, "household", households("H1"))
    stage(run, "payment", [payment("P1"), payment("P2", amount=-1.0)])
    report_of(run, "payment", cfg(quarantine_stop=False))
    raw = pq.read_schema(staging.table_path(run, staging.RAW, "payment"))
    assert pq.read_schema(staging.table_path(run, staging.VALIDATED, "payment")).equals(raw)
    q = pq.read_schema(staging.table_path(run, staging.QUARANTINE, "payment"))
    assert q.names == [*raw.names, RULE_COLUMN]


# --------------------------------------------------------------------------------------------
# Table rules and severity


def test_duplicate_key_is_critical_and_names_table_column_rows_and_keys(run):
    stage(run, "household", households("H1"))
    stage(run, "payment", [payment("P1"), payment("P2"), payment("P2"), payment("P3", amount=-1.0)])
    with pytest.raises(ValidationStop) as stop:
        validate_run(run, ["payment"], cfg=cfg())
    assert "payment.payment_id: nyckeln är inte unik: 2 rader, t.ex. P2, P2" in str(stop.value)
    assert "negativt belopp" not in str(stop.value)  # a warning does not stop
    saved = staging.read_json(run / "validation.json")
    report = TableReport(**saved[0])
    assert report.status == "stopp" and report.rows_quarantined == 3 and report.reconciles()


def test_quarantined_share_above_the_limit_is_critical(run):
    stage(run, "household", households("H1"))
    rows = [payment(f"P{i:04d}") for i in range(1000)]
    for i in range(11):  # 11 of 1000 = 1.1 % > 1 %
        rows[i]["amount_sek"] = -1.0
    stage(run, "payment", rows)
    with pytest.raises(ValidationStop, match=r"andel i karantän över gränsen \(11 av 1000 rader"):
        validate_run(run, ["payment"], cfg=cfg())
    rows[10]["amount_sek"] = 1.0  # 10 of 1000 = 1.0 %: not above
    stage(run, "payment", rows)
    assert report_of(run, "payment").rows_quarantined == 10
    rows[10]["amount_sek"] = -1.0
    stage(run, "payment", rows)
    assert report_of(run, "payment", cfg(quarantine_stop=False)).rows_quarantined == 11


def test_a_few_bad_rows_in_a_small_table_do_not_stop(run):
    stage(run, "household", households("H1"))
    rows = [payment(f"P{i}", amount=-1.0 if i < 9 else 1.0) for i in range(20)]  # 45 %, but 9 < min_rows
    stage(run, "payment", rows)
    assert report_of(run, "payment").rows_quarantined == 9
    rows[9]["amount_sek"] = -1.0  # 10 rows: the share rule applies
    stage(run, "payment", rows)
    with pytest.raises(ValidationStop, match="10 av 20 rader"):
        validate_run(run, ["payment"], cfg=cfg())


def test_required_table_without_accepted_rows_stops(run):
    stage(run, "household", households("H1"))
    stage(run, "payment", [payment("P1", amount=-1.0)])
    with pytest.raises(ValidationStop, match="payment: inga godkända rader"):
        validate_run(run, ["payment"], cfg=cfg())


def test_missing_column_is_critical_without_quarantine(run):
    stage(run, "household", households("H1"))
    stage(run, "payment", [payment("P1"), payment("P2", amount=-1.0)], drop=("paid_on",))
    with pytest.raises(ValidationStop, match=r"payment: kolumner saknas i källan \(paid_on\)"):
        validate_run(run, ["payment"], cfg=cfg())
    report = TableReport(**staging.read_json(run / "validation.json")[0])
    assert report.failed_rules == {"kolumner saknas i källan": 0, "amount_sek: negativt belopp": 1}
    assert "payment: 2 regler på saknade kolumner prövades inte" in report.warnings


def test_extra_column_warns_missing_table_and_empty_tables(run):
    stage(run, "household", households("H1"), extra=("kommentar",))
    stage_missing(run, "payment")
    stage(run, "job_place", [])
    stage(run, "district", [])
    with pytest.raises(ValidationStop) as stop:
        validate_run(run, ["household", "payment", "job_place", "district"], cfg=cfg())
    reports = {r["table"]: TableReport(**r) for r in staging.read_json(run / "validation.json")}
    assert reports["household"].failed_rules == {  # district is empty, so its one household fails
        "okända kolumner i källan ignoreras": 0,
        "district_code: området finns inte i district": 1,
        "inga godkända rader": 0,
    }
    assert reports["payment"].failed_rules == {"tabellen saknas i källan": 0}
    assert (
        reports["job_place"].failed_rules == {"tabellen är tom": 0}
        and reports["job_place"].status == "varning"
    )
    assert (
        reports["district"].failed_rules == {"tabellen är tom": 0} and reports["district"].status == "stopp"
    )
    assert "payment: tabellen saknas i källan" in str(stop.value)
    assert "district: tabellen är tom" in str(stop.value) and "job_place" not in str(stop.value)


def test_wrong_staged_type_is_critical(run):
    stage(run, "household", households("H1"))
    stage(run, "payment", [payment("P1")])
    path = staging.table_path(run, staging.RAW, "payment")
    table = pq.read_table(path)
    i = table.schema.get_field_index("amount_sek")
    pq.write_table(table.set_column(i, "amount_sek", pa.array(["1000.0"])), path)
    with pytest.raises(ValidationStop, match=r"payment: fel datatyp i staging \(amount_sek: string"):
        validate_run(run, ["payment"], cfg=cfg())


# --------------------------------------------------------------------------------------------
# Period and validation frame


def test_period_from_run_name_or_data(tmp_path):
    assert infer_period(tmp_path / "cli__2018-T2", {}) == Period(2018, 2)
    months = pd.Series(pd.to_datetime(["2019-03-01", "2019-06-01"]))
    assert infer_period(tmp_path / "scheduled__x", {"payment": pd.DataFrame({"benefit_month": months})}) == (
        Period(2019, 2)
    )
    assert infer_period(tmp_path / "manual__x", {}) is None


def test_an_application_for_the_month_after_the_period_does_not_move_the_inferred_period(tmp_path):
    """Extraction reads the applications decided in the period, whose benefit month may be the
    month after it: only payment and staff_month say where the period ends."""
    payments = pd.DataFrame({"benefit_month": pd.to_datetime(["2018-03-01", "2018-04-01"])})
    applications = pd.DataFrame({"benefit_month": pd.to_datetime(["2018-04-01", "2018-05-01"])})
    tables = {"payment": payments, "application": applications}
    assert infer_period(tmp_path / "scheduled__x", tables) == Period(2018, 1)
    assert infer_period(tmp_path / "scheduled__x", {"application": applications}) is None
    staff = pd.DataFrame({"month": pd.to_datetime(["2018-05-01"])})
    assert infer_period(tmp_path / "scheduled__x", {**tables, "staff_month": staff}) == Period(2018, 2)


def test_gx_fingerprints_each_frame_once(run, monkeypatch):
    """GX hashes a batch's frame each time it builds a batch from it; validation reuses the value
    for every batch of a table (etl.validation.gx_runner._gx_fingerprint): one hash per table, also
    when a failed rule sends the table through GX a second time."""
    stage(run, "household", households("H1"))
    stage(run, "payment", [payment("P1"), payment("P2", amount=-1.0)])
    hashed = []
    real = pd.util.hash_pandas_object

    def counted(df, **kwargs):
        if kwargs.get("index", True):  # the fingerprint hashes the index; uniqueness rules do not
            hashed.append(len(df))
        return real(df, **kwargs)

    monkeypatch.setattr(pd.util, "hash_pandas_object", counted)
    validate_run(run, ["household", "payment"], cfg=cfg(quarantine_stop=False))
    assert sorted(hashed) == [1, 2]
    results = staging.read_json(run / "gx" / "payment.json")
    assert len(results["meta"]["batch_markers"]["pandas_data_fingerprint"]) == 32


def test_nothing_of_a_validated_table_stays_in_memory(run):
    """GX keeps its data context after the run and caches every metric it resolved, each rule's
    row condition among them; validation empties that cache per table, so no column-sized object
    of a validated table is left (nationally ~250 MB held through the rest of the run). In a
    fresh interpreter: objects other tests keep alive cannot be mistaken for the run's."""
    n = 1237
    stage(run, "household", households("H1"))
    stage(run, "payment", [payment(f"P{i:05d}", amount=-1.0 if i == 7 else 100.0) for i in range(n)])
    code = f"""
import gc, pandas as pd
from etl.validation.run import validate_run
from tests.support.validation import cfg
validate_run({str(run)!r}, ["household", "payment"], cfg=cfg(quarantine_stop=False))
gc.collect()
frames = (pd.Series, pd.DataFrame, pd.Index)
print(sum(1 for o in gc.get_objects() if issubclass(type(o), frames) and len(o) == {n}))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "0"


def test_rules_checked_in_several_passes_give_one_passs_results(tmp_path, monkeypatch):
    """A large table goes through GX a few rules at a time (passes.CONDITION_ROWS, a memory
    cap): the stored GX results, the report and the quarantine are those of one pass."""
    from etl.validation import passes

    def validate(run: Path, cap: int):
        monkeypatch.setattr(passes, "CONDITION_ROWS", cap)
        stage(run, "household", households("H1"))
        stage(run, "payment", [payment("P1"), payment("P2", amount=-1.0), payment("P3", household="H9")])
        report = report_of(run, "payment", cfg(quarantine_stop=False))
        return report, staging.read_json(run / "gx" / "payment.json"), pq.read_table(
            staging.table_path(run, staging.QUARANTINE, "payment"))  # fmt: skip

    one = validate(tmp_path / "one" / "cli__2018-T1", 10**9)
    seen, frame = [], passes.frame_for
    monkeypatch.setattr(passes, "frame_for", lambda *a: seen.append(f := frame(*a)) or f)
    rule_by_rule = validate(tmp_path / "many" / "cli__2018-T1", 1)  # 3 rows: one rule a pass
    # Each pass sees only what its rules read: every column without rows (the column and type
    # rules), every row without columns (the row count), else a rule's one or two columns.
    payments = [f for f in seen if len(f) == 3]
    assert max(len(f.columns) for f in payments) <= 2 and min(len(f.columns) for f in payments) == 0
    assert any(len(f) == 0 and len(f.columns) > 2 for f in seen)
    assert rule_by_rule[0] == one[0] and rule_by_rule[2].equals(one[2])
    assert rule_by_rule[1] == one[1]
    assert one[1]["statistics"]["unsuccessful_expectations"] == 2 and one[1]["success"] is False


@pytest.mark.parametrize("bad", [(), (3, 9, 10, 22), tuple(range(23))])
def test_validated_and_quarantine_are_the_staged_rows_filtered(run, tmp_path, monkeypatch, bad):
    """validated/ and quarantine/ are written a staged row group at a time: validated/ has the
    bytes of the filtered whole table written at once (in row groups that here span several
    staged ones), quarantine/ the other rows; none, some or all rows quarantined."""
    from etl.validation import run as validation

    monkeypatch.setattr(validation, "_ROW_GROUP_ROWS", 7)
    n = 23
    stage(run, "household", households("H1"))
    stage(run, "payment", [payment(f"P{i:03d}", amount=-1.0 if i in bad else 100.0) for i in range(n)])
    path = staging.table_path(run, staging.RAW, "payment")
    raw = pq.read_table(path)
    pq.write_table(raw, path, row_group_size=5)  # five staged row groups
    try:
        report_of(run, "payment", cfg(quarantine_stop=False))
    except ValidationStop:
        assert len(bad) == n  # payment is required: no accepted row stops the run, after writing
    keep = np.array([i not in bad for i in range(n)])
    expected = tmp_path / "expected.parquet"
    pq.write_table(raw.filter(pa.array(keep)), expected, row_group_size=7)
    assert staging.table_path(run, staging.VALIDATED, "payment").read_bytes() == expected.read_bytes()
    quarantined = pq.read_table(staging.table_path(run, staging.QUARANTINE, "payment"))
    assert quarantined.drop_columns([RULE_COLUMN]).equals(raw.filter(pa.array(~keep)))
    assert quarantined[RULE_COLUMN].to_pylist() == ["amount_sek: negativt belopp"] * len(bad)
