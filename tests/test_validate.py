"""Validation rules one by one, on tiny staging folders with hand-computed outcomes.

Staging is written the way extraction writes it (``transform_chunk`` + the staging schema), so
ids are pseudonymised and ``_luhn_ok``/``_type_errors`` are set exactly as in a real run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl import source, staging, validate
from etl.extract import TYPE_ERRORS, staging_schema, transform_chunk
from etl.periods import Period
from etl.pseudonym import luhn_check_digit, pseudonymise

KEY = b"unit-test-pseudonym-key-0123456789"
REPO = Path(__file__).resolve().parent.parent
CFG = validate.ValidationConfig(data_docs=False)
D = dt.date
FEB, JAN28, FEB3 = D(2018, 2, 1), D(2018, 1, 28), D(2018, 2, 3)


def pnr(serial: int, female: bool = True) -> str:
    body = "850505" + f"{serial:02d}" + ("2" if female else "1")
    return "19" + body + str(luhn_check_digit(body))


def stage(run: Path, name: str, rows: list[dict], *, drop: tuple[str, ...] = (), extra: tuple[str, ...] = ()):
    """Write ``rows`` as extraction would: contract types, pseudonyms, flags, meta file."""
    contract = source.TABLES[name]
    cols = [c.name for c in contract.columns if c.name not in drop]
    raw = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols, dtype=object)
    chunk = transform_chunk(raw, contract, KEY)
    path = staging.table_path(run, staging.RAW, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(chunk, schema=staging_schema(contract), preserve_index=False), path)
    meta = {"table": name, "rows": len(rows), "path": str(path), "table_missing": False,
            "columns_missing": sorted(drop), "columns_extra": sorted(extra), "type_errors": 0}  # fmt: skip
    staging.write_json(staging.meta_path(run, staging.RAW, name), meta)


def stage_missing(run: Path, name: str) -> None:
    path = staging.table_path(run, staging.RAW, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(staging_schema(source.TABLES[name]).empty_table(), path)
    staging.write_json(
        staging.meta_path(run, staging.RAW, name), {"table": name, "rows": 0, "table_missing": True}
    )


def households(*ids: str) -> list[dict]:
    return [
        {"household_id": h, "district_code": "KUN", "household_type": 3, "opened_on": D(2017, 1, 1)}
        for h in ids
    ]


def payment(pid, household="H1", month=FEB, amount=1000.0, application=None, paid=None) -> dict:
    return {"payment_id": pid, "household_id": household, "application_id": application,
            "benefit_month": month, "paid_on": paid or month, "amount_sek": amount}  # fmt: skip


def report_of(run: Path, table: str, cfg=CFG, period=None) -> validate.TableReport:
    return next(r for r in validate.validate_run(run, [table], cfg=cfg, period=period) if r.table == table)


def quarantine(run: Path, table: str) -> pd.DataFrame:
    return pd.read_parquet(staging.table_path(run, staging.QUARANTINE, table))


def validated(run: Path, table: str) -> pd.DataFrame:
    return pd.read_parquet(staging.table_path(run, staging.VALIDATED, table))


@pytest.fixture
def run(tmp_path) -> Path:
    return tmp_path / "cli__2018-T1"  # the period comes from the run folder, like a CLI run


# --------------------------------------------------------------------------------------------
# The suites


def test_suites_load_into_gx_with_severity_rule_and_every_contract_column():
    validate._custom_expectations()
    from great_expectations.core import ExpectationSuite

    docs = (REPO / "docs" / "validation.md").read_text(encoding="utf-8")
    for name, table in source.TABLES.items():
        raw = json.loads((REPO / "expectations" / f"{name}.json").read_text(encoding="utf-8"))
        assert set(raw) == {"name", "expectations", "meta"} and raw["name"] == name
        suite = ExpectationSuite(**raw)
        assert len(suite.expectations) == len(raw["expectations"])
        rules = validate.suite_rules(name)
        assert all(r.severity in ("critical", "warning") and r.rule for r in rules)
        columns = next(r for r in rules if r.type == "expect_table_columns_to_match_set").kwargs["column_set"]
        assert columns == [c.name for c in table.columns]
        types = next(r for r in rules if r.type == "expect_table_column_types_to_match").kwargs[
            "column_types"
        ]
        assert set(types) >= set(columns)
        for key in table.primary_key.columns:  # primary keys: never null; every key unique (critical)
            assert any(
                r.type == "expect_column_values_to_not_be_null" and r.column == key.name for r in rules
            )
        uniques = [r for r in rules if "unique" in r.type and r.rule == "nyckeln är inte unik"]
        assert len(uniques) >= 1 and all(r.severity == "critical" for r in uniques)
        for r in rules:  # docs/validation.md lists every rule
            assert f"`{r.label}`" in docs, (name, r.label)


def test_config_file_matches_the_documented_defaults():
    assert validate.settings() == validate.ValidationConfig()
    assert validate.settings(Path("/nonexistent.yml")) == validate.ValidationConfig()


def test_importing_validate_does_not_import_great_expectations():
    code = "import sys, etl.validate, etl.pipeline; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------------------------
# Row rules: quarantine with the failed rules, nothing lost


def test_payment_row_rules_quarantine_with_every_failed_rule(run):
    stage(run, "household", households("H1", "H2"))
    stage(
        run, "application", [{"application_id": "A1", "household_id": "H1", "benefit_month": D(2018, 2, 1)}]
    )
    stage(run, "payment", [
        payment("P1"),                                  # valid
        payment("P2", application="A1"),                # valid, refers to an application
        payment("P3", amount=-5.0),                     # negative
        payment("P4", amount=100_000.01),               # above the ceiling (100 000)
        payment("P5", amount=100_000.0),                # exactly the ceiling: valid
        payment("P6", month=D(2018, 2, 2)),             # not first of month
        payment("P7", household="H9"),                  # household missing
        payment("P8", application="A9"),                # application missing
        payment("P9", paid=D(2018, 7, 2)),              # 63 days after 2018-04-30: too late
        payment("P10", paid=D(2018, 7, 1)),             # 62 days: still fine
        payment(None),                                  # key missing
        payment("P12", household="H9", amount=-1.0),    # two rules at once
    ])  # fmt: skip
    report = report_of(run, "payment", dataclasses.replace(CFG, quarantine_stop=False))
    assert report.failed_rules == {
        "payment_id: nyckel saknas": 1,
        "amount_sek: negativt belopp": 2,
        "amount_sek: belopp över taket för en utbetalning": 1,
        "benefit_month: inte första dagen i månaden": 1,
        "paid_on: orimligt datum för perioden": 1,
        "household_id: hushållet finns inte": 2,
        "application_id: ansökan finns inte": 1,
    }
    assert (report.rows_read, report.rows_accepted, report.rows_quarantined) == (12, 4, 8)
    assert report.reconciles() and report.status == "varning" and report.critical == []
    assert sorted(validated(run, "payment")["payment_id"]) == ["P1", "P10", "P2", "P5"]
    q = quarantine(run, "payment").set_index("payment_id")[validate.RULE_COLUMN]
    assert q["P12"] == "amount_sek: negativt belopp; household_id: hushållet finns inte"
    assert q["P4"] == "amount_sek: belopp över taket för en utbetalning"
    assert "payment.household_id: hushållet finns inte: 2 rader, t.ex. P7, P12" in report.warnings


def test_validated_and_quarantine_keep_the_staged_arrow_schema(run):
    stage(run, "household", households("H1"))
    stage(run, "payment", [payment("P1"), payment("P2", amount=-1.0)])
    report_of(run, "payment", dataclasses.replace(CFG, quarantine_stop=False))
    raw = pq.read_schema(staging.table_path(run, staging.RAW, "payment"))
    assert pq.read_schema(staging.table_path(run, staging.VALIDATED, "payment")).equals(raw)
    q = pq.read_schema(staging.table_path(run, staging.QUARANTINE, "payment"))
    assert q.names == [*raw.names, validate.RULE_COLUMN]


def test_code_sets_luhn_and_nulls_on_person(run):
    stage(run, "household", households("H1", "H2"))
    bad_luhn = pnr(3)[:-1] + str((int(pnr(3)[-1]) + 1) % 10)
    people = [
        {"person_id": pnr(1), "household_id": "H1", "role": "registerledare", "sex": "K"},
        {"person_id": pnr(2, False), "household_id": "H2", "role": "registerledare", "sex": "M"},
        {"person_id": bad_luhn, "household_id": "H1", "role": "barn", "sex": "K"},
        {"person_id": pnr(4), "household_id": "H1", "role": "barn", "sex": "X"},
        {"person_id": pnr(5), "household_id": "H1", "role": "granne", "sex": "K"},
        {"person_id": pnr(6), "household_id": None, "role": "barn", "sex": "K"},
    ]
    for p in people:
        p.update(birth_date=D(1985, 5, 5), born_abroad=False)
    stage(run, "person", people)
    report = report_of(run, "person", dataclasses.replace(CFG, quarantine_stop=False))
    assert report.failed_rules == {
        "household_id: värde saknas": 1,
        "person_id: ogiltig kontrollsiffra": 1,
        "role: okänd roll": 1,
        "sex: okänd könskod": 1,
    }
    assert report.rows_quarantined == 4
    example = next(r for r in report.rules if r["rule"] == "person_id: ogiltig kontrollsiffra")["examples"]
    assert example == pseudonymise(pd.Series([bad_luhn]), KEY).tolist()  # pseudonyms only


def test_one_registerledare_per_household(run):
    stage(run, "household", households("H1", "H2", "H3"))
    base = {"sex": "K", "birth_date": D(1985, 5, 5), "born_abroad": False}
    stage(run, "person", [
        {"person_id": pnr(1), "household_id": "H1", "role": "registerledare", **base},
        {"person_id": pnr(2), "household_id": "H2", "role": "registerledare", **base},
        {"person_id": pnr(3), "household_id": "H2", "role": "registerledare", **base},
        {"person_id": pnr(4), "household_id": "H3", "role": "barn", **base},
    ])  # fmt: skip
    report = report_of(run, "household", dataclasses.replace(CFG, quarantine_stop=False))
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
    reports = validate.validate_run(run, ["person", "household"], cfg=CFG, sex_before=before)
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
    reports = validate.validate_run(run, ["person", "household"], cfg=CFG)
    assert {r.table: r.rows_quarantined for r in reports} == {"person": 1, "household": 0}


def application(aid, household="H1", applicant=1, month=FEB, received=JAN28, decided=FEB3,
                applied=5000.0, granted=5000.0, decision="bifall") -> dict:  # fmt: skip
    return {"application_id": aid, "household_id": household, "applicant_id": pnr(applicant),
            "received_on": received, "decided_on": decided, "benefit_month": month, "applied_sek": applied,
            "granted_sek": granted, "decision": decision, "handler_id": "S1"}  # fmt: skip


def test_application_rules(run):
    stage(run, "household", households("H1", "H2", "H3"))
    base = {"role": "registerledare", "sex": "K", "birth_date": D(1985, 5, 5), "born_abroad": False}
    stage(run, "person", [{"person_id": pnr(i), "household_id": f"H{i}", **base} for i in (1, 2, 3)])
    stage(run, "application", [
        application("A1"),                                                       # valid
        application("A2", month=D(2018, 1, 1), decided=None, granted=None, decision=None),  # pending: valid
        application("A3", household="H2", applicant=2, decided=D(2018, 1, 27)),  # decided before received
        application("A4", household="H2", applicant=2, month=D(2018, 3, 1), granted=6000.0),  # > applied
        application("A5", household="H2", applicant=2, month=D(2018, 4, 1), decision="ja"),  # unknown
        application("A6", household="H3", applicant=3, month=D(2018, 1, 1), decision=None),  # incomplete
        application("A7", household="H3", applicant=1, month=D(2018, 2, 1)),   # applicant 1 also in H1 in Feb
        application("A8", household="H3", applicant=3, month=D(2018, 2, 1)),   # second for H3 in Feb
        application("A9", household="H3", applicant=9, month=D(2018, 3, 1)),   # applicant not a person
    ])  # fmt: skip
    report = report_of(run, "application", dataclasses.replace(CFG, quarantine_stop=False))
    assert report.failed_rules == {
        "decision: okänt beslut": 1,
        "decided_on, received_on: beslut före ansökan": 1,
        "decision: beslut, beslutsdatum och beviljat belopp hänger inte ihop": 1,
        "applied_sek, granted_sek: beviljat belopp över sökt belopp": 1,
        "applicant_id: sökande finns inte i person": 1,
        "household_id, benefit_month: flera ansökningar för samma hushåll och månad": 2,
        "applicant_id: sökande i flera hushåll samma månad": 2,
    }
    assert sorted(validated(run, "application")["application_id"]) == ["A2"]
    assert report.rows_quarantined == 8


def staff_month(sid, month, scheduled=160.0, sick=8.0, d14=8.0, d60=0.0) -> dict:
    return {"staff_id": sid, "month": month, "fte": 1.0, "scheduled_hours": scheduled, "sick_hours": sick,
            "sick_hours_day_1_14": d14, "sick_hours_day_60_plus": d60}  # fmt: skip


def test_staff_hours_rules(run):
    stage(run, "staff", [
        {"staff_id": "S1", "sex": "K", "role": "handläggare", "birth_year": 1980,
         "employed_from": D(2010, 1, 1)},
        {"staff_id": "S2", "sex": "M", "role": "handläggare", "birth_year": 1980,
         "employed_from": D(2018, 2, 10), "employed_to": D(2018, 3, 15)},
    ])  # fmt: skip
    stage(run, "staff_month", [
        staff_month("S1", D(2018, 1, 1)),                         # valid
        staff_month("S1", D(2018, 2, 1), sick=170.0, d14=8.0),   # sick > scheduled
        staff_month("S1", D(2018, 3, 1), sick=8.0, d14=9.0),     # day 1-14 > sick
        staff_month("S1", D(2018, 4, 1), sick=8.0, d60=8.5),     # day 60+ > sick
        staff_month("S2", D(2018, 1, 1)),                         # before employed_from
        staff_month("S2", D(2018, 2, 1)),                         # employment starts within the month: fine
        staff_month("S2", D(2018, 3, 1)),                         # ends within the month: fine
        staff_month("S2", D(2018, 4, 1)),                         # after employed_to
        staff_month("S2", D(2018, 4, 1), scheduled=0.0, sick=0.0, d14=0.0),  # no hours: fine (but a dup)
        staff_month("S3", D(2018, 1, 1)),                         # unknown employee
        staff_month("S1", D(2018, 1, 15)),                        # not first of month
    ])  # fmt: skip
    with pytest.raises(validate.ValidationStop, match=r"staff_month\.staff_id, month: nyckeln är inte unik"):
        validate.validate_run(run, ["staff_month"], cfg=dataclasses.replace(CFG, quarantine_stop=False))
    report = validate.TableReport(**staging.read_json(run / "validation.json")[0])
    assert report.failed_rules == {
        "staff_id, month: nyckeln är inte unik": 2,
        "month: inte första dagen i månaden": 1,
        "scheduled_hours, sick_hours: sjuktimmar över schemalagda timmar": 1,
        "sick_hours, sick_hours_day_1_14: sjuktimmar dag 1–14 över alla sjuktimmar": 1,
        "sick_hours, sick_hours_day_60_plus: sjuktimmar dag 60– över alla sjuktimmar": 1,
        "staff_id: den anställda finns inte i staff": 1,
        "month: timmar utanför anställningstiden": 2,
    }
    assert (report.rows_accepted, report.rows_quarantined) == (3, 8) and report.reconciles()


def test_order_of_dates_ignores_missing_values(run):
    stage(run, "intervention", [
        {"intervention_id": "I1", "person_id": pnr(1), "kind": "praktik", "started_on": D(2018, 1, 1)},
        {"intervention_id": "I2", "person_id": pnr(1), "kind": "praktik", "started_on": D(2018, 1, 1),
         "ended_on": D(2017, 12, 31), "outcome": "avbrott"},
        {"intervention_id": "I3", "person_id": pnr(1), "kind": "osa", "started_on": D(2018, 1, 1),
         "outcome": "studier"},
        {"intervention_id": "I4", "person_id": pnr(1), "kind": "osa", "started_on": D(2018, 1, 1),
         "ended_on": D(2018, 1, 1), "outcome": "studier"},
    ])  # fmt: skip
    report = report_of(run, "intervention", dataclasses.replace(CFG, quarantine_stop=False))
    assert report.failed_rules == {
        "ended_on, started_on: avslutad före start": 1,
        "outcome: utfall utan slutdatum": 1,
    }
    assert any("regeln kunde inte prövas: _ok_person_exists (tabellen person finns inte i staging)" in w
               for w in report.warnings)  # fmt: skip


def test_type_errors_are_quarantined_and_name_the_column(run):
    stage(run, "household", households("H1"))
    stage(
        run,
        "payment",
        [
            payment("P1"),
            payment("P2", amount="12,50 kr"),
            payment("P3", month="2018-02-31", paid=D(2018, 2, 1)),
        ],
    )
    report = report_of(run, "payment", dataclasses.replace(CFG, quarantine_stop=False))
    assert report.failed_rules == {
        "_type_errors: värde av fel typ i källan": 2,
        "benefit_month: värde saknas": 1,
        "amount_sek: värde saknas": 1,
    }
    rule = next(r for r in report.rules if r["rule"].startswith("_type_errors"))
    assert rule["detail"] == "amount_sek: 1, benefit_month: 1"


# --------------------------------------------------------------------------------------------
# Table rules and severity


def test_duplicate_key_is_critical_and_names_table_column_rows_and_keys(run):
    stage(run, "household", households("H1"))
    stage(run, "payment", [payment("P1"), payment("P2"), payment("P2"), payment("P3", amount=-1.0)])
    with pytest.raises(validate.ValidationStop) as stop:
        validate.validate_run(run, ["payment"], cfg=CFG)
    assert "payment.payment_id: nyckeln är inte unik: 2 rader, t.ex. P2, P2" in str(stop.value)
    assert "negativt belopp" not in str(stop.value)  # a warning does not stop
    saved = staging.read_json(run / "validation.json")
    report = validate.TableReport(**saved[0])
    assert report.status == "stopp" and report.rows_quarantined == 3 and report.reconciles()


def test_quarantined_share_above_the_limit_is_critical(run):
    stage(run, "household", households("H1"))
    rows = [payment(f"P{i:04d}") for i in range(1000)]
    for i in range(11):  # 11 of 1000 = 1.1 % > 1 %
        rows[i]["amount_sek"] = -1.0
    stage(run, "payment", rows)
    with pytest.raises(validate.ValidationStop, match=r"andel i karantän över gränsen \(11 av 1000 rader"):
        validate.validate_run(run, ["payment"], cfg=CFG)
    rows[10]["amount_sek"] = 1.0  # 10 of 1000 = 1.0 %: not above
    stage(run, "payment", rows)
    assert report_of(run, "payment").rows_quarantined == 10
    rows[10]["amount_sek"] = -1.0
    stage(run, "payment", rows)
    assert report_of(run, "payment", dataclasses.replace(CFG, quarantine_stop=False)).rows_quarantined == 11


def test_a_few_bad_rows_in_a_small_table_do_not_stop(run):
    stage(run, "household", households("H1"))
    rows = [payment(f"P{i}", amount=-1.0 if i < 9 else 1.0) for i in range(20)]  # 45 %, but 9 < min_rows
    stage(run, "payment", rows)
    assert report_of(run, "payment").rows_quarantined == 9
    rows[9]["amount_sek"] = -1.0  # 10 rows: the share rule applies
    stage(run, "payment", rows)
    with pytest.raises(validate.ValidationStop, match="10 av 20 rader"):
        validate.validate_run(run, ["payment"], cfg=CFG)


def test_required_table_without_accepted_rows_stops(run):
    stage(run, "household", households("H1"))
    stage(run, "payment", [payment("P1", amount=-1.0)])
    with pytest.raises(validate.ValidationStop, match="payment: inga godkända rader"):
        validate.validate_run(run, ["payment"], cfg=CFG)


def test_missing_column_is_critical_without_quarantine(run):
    stage(run, "household", households("H1"))
    stage(run, "payment", [payment("P1"), payment("P2", amount=-1.0)], drop=("paid_on",))
    with pytest.raises(validate.ValidationStop, match=r"payment: kolumner saknas i källan \(paid_on\)"):
        validate.validate_run(run, ["payment"], cfg=CFG)
    report = validate.TableReport(**staging.read_json(run / "validation.json")[0])
    assert report.failed_rules == {"kolumner saknas i källan": 0, "amount_sek: negativt belopp": 1}
    assert "payment: 2 regler på saknade kolumner prövades inte" in report.warnings


def test_extra_column_warns_missing_table_and_empty_tables(run):
    stage(run, "household", households("H1"), extra=("kommentar",))
    stage_missing(run, "payment")
    stage(run, "job_place", [])
    stage(run, "district", [])
    with pytest.raises(validate.ValidationStop) as stop:
        validate.validate_run(run, ["household", "payment", "job_place", "district"], cfg=CFG)
    reports = {r["table"]: validate.TableReport(**r) for r in staging.read_json(run / "validation.json")}
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
    with pytest.raises(validate.ValidationStop, match=r"payment: fel datatyp i staging \(amount_sek: string"):
        validate.validate_run(run, ["payment"], cfg=CFG)


# --------------------------------------------------------------------------------------------
# Report, determinism, period


def test_report_is_deterministic_and_round_trips(run):
    stage(run, "household", households("H1"))
    stage(run, "payment", [payment("P1"), payment("P2", amount=-1.0)])
    first = validate.validate_run(run, ["payment", "household"], cfg=CFG)
    files = sorted(p for p in run.rglob("*.json") if "raw" not in p.parts)
    before = {p: p.read_bytes() for p in files}
    assert validate.validate_run(run, ["payment", "household"], cfg=CFG) == first
    assert {p: p.read_bytes() for p in files} == before
    saved = staging.read_json(run / "validation.json")
    assert [validate.TableReport(**r) for r in saved] == first
    text = (run / "gx" / "payment.json").read_text(encoding="utf-8")
    assert '"id"' not in text and "ge_load_time" not in text and "1970-01-01" in text
    table = validate.summary_table(first)
    assert "payment" in table and "amount_sek: negativt belopp (1)" in table and "varning" in table


def test_period_from_run_name_or_data_and_parameters(tmp_path):
    assert validate.infer_period(tmp_path / "cli__2018-T2", {}) == Period(2018, 2)
    months = pd.Series(pd.to_datetime(["2019-03-01", "2019-06-01"]))
    assert validate.infer_period(
        tmp_path / "scheduled__x", {"payment": pd.DataFrame({"benefit_month": months})}
    ) == (Period(2019, 2))
    assert validate.infer_period(tmp_path / "manual__x", {}) is None
    params = validate.expectation_parameters(Period(2018, 1), CFG)
    assert params["max_fact_date"] == "2018-07-01T00:00:00"  # 30 April + 62 days
    assert params["max_any_date"] == "2028-04-30T00:00:00"
    assert (params["min_birth_year"], params["max_birth_year"]) == (1943, 2003)
    assert params["max_payment_sek"] == 100_000.0 and params["earliest_date"] == "1900-01-01T00:00:00"


def test_exists_passes_nulls_and_uses_every_key():
    values = pd.Series(["a", None, "b", "x"], dtype="string")
    keys = pd.Series(["b", None, "a", "a"], dtype="string")
    assert validate._exists(values, keys).tolist() == [True, True, True, False]
    assert validate._exists(values, keys.iloc[:0]).tolist() == [False, True, False, False]


def test_validation_frame_clips_dates_to_datetime_ns_and_adds_checks():
    df = pd.DataFrame({
        "payment_id": pd.array(["P1", "P2"], dtype="string"),
        "household_id": pd.array(["H1", None], dtype="string"),
        "application_id": pd.array([None, None], dtype="string"),
        "benefit_month": np.array(["2018-02-01", "9999-01-15"], dtype="datetime64[s]"),
        "paid_on": np.array(["2018-02-01", "2018-02-01"], dtype="datetime64[s]"),
        "amount_sek": [1.0, 2.0],
        TYPE_ERRORS: pd.array([None, None], dtype="string"),
    })  # fmt: skip
    frame, skipped = validate.validation_frame(
        "payment", df, {}, {"household": pd.DataFrame({"household_id": ["H1"]})}
    )
    assert str(frame["benefit_month"].dtype) == "datetime64[ns]"
    assert frame["benefit_month"].iloc[1] == pd.Timestamp("2261-12-31")
    assert frame["_ok_first_of_month"].tolist() == [True, False]  # computed on the original dates
    assert frame["_ok_household_exists"].tolist() == [True, True]
    assert skipped == ["_ok_application_exists (tabellen application finns inte i staging)"]
