"""The suites (expectations/*.json) and their parameters; then each table's rules one by one,
on tiny staging folders with hand-computed outcomes (tests/support/validation.py)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from etl import source, staging
from etl.periods import Period
from etl.pseudonym import pseudonymise
from etl.settings import settings
from etl.validation import gx_runner
from etl.validation.report import TableReport, ValidationStop
from etl.validation.run import RULE_COLUMN, validate_run
from etl.validation.suites import expectation_parameters, suite_rules
from tests.support.validation import (
    KEY,
    cfg,
    households,
    payment,
    pnr,
    quarantine,
    report_of,
    stage,
    validated,
)

REPO = Path(__file__).resolve().parent.parent
D = dt.date
FEB, JAN28, FEB3 = D(2018, 2, 1), D(2018, 1, 28), D(2018, 2, 3)


@pytest.fixture
def run(tmp_path) -> Path:
    return tmp_path / "cli__2018-T1"  # the period comes from the run folder, like a CLI run


# --------------------------------------------------------------------------------------------
# The suites


def test_suites_load_into_gx_with_severity_rule_and_every_contract_column():
    gx_runner._custom_expectations()
    from great_expectations.core import ExpectationSuite

    docs = (REPO / "docs" / "validation.md").read_text(encoding="utf-8")
    for name, table in source.TABLES.items():
        raw = json.loads((REPO / "expectations" / f"{name}.json").read_text(encoding="utf-8"))
        assert set(raw) == {"name", "expectations", "meta"} and raw["name"] == name
        suite = ExpectationSuite(**raw)
        assert len(suite.expectations) == len(raw["expectations"])
        rules = suite_rules(name)
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
    """config/validation.yml holds the values docs/validation.md documents (Thresholds)."""
    v = settings().validation
    assert v.required_tables == ("district", "household", "person", "payment")
    assert v.optional_tables == ("booked_cost",)
    assert (v.quarantine.stop_enabled, v.quarantine.max_share, v.quarantine.min_rows) == (True, 0.01, 10)
    assert v.amounts.max_payment_sek == 100_000
    assert v.dates.earliest == D(1900, 1, 1)
    assert (v.dates.fact_days_after_period_end, v.dates.max_years_after_period_end) == (62, 10)
    assert v.staff_age == (15, 75)
    assert (v.examples, v.data_docs, v.sex_history_years) == (5, True, 2)


def test_expectation_parameters_for_a_period():
    params = expectation_parameters(Period(2018, 1), cfg())
    assert params["max_fact_date"] == "2018-07-01T00:00:00"  # 30 April + 62 days
    assert params["max_any_date"] == "2028-04-30T00:00:00"
    assert (params["min_birth_year"], params["max_birth_year"]) == (1943, 2003)
    assert params["max_payment_sek"] == 100_000.0 and params["earliest_date"] == "1900-01-01T00:00:00"


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
    report = report_of(run, "payment", cfg(quarantine_stop=False))
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
    q = quarantine(run, "payment").set_index("payment_id")[RULE_COLUMN]
    assert q["P12"] == "amount_sek: negativt belopp; household_id: hushållet finns inte"
    assert q["P4"] == "amount_sek: belopp över taket för en utbetalning"
    assert "payment.household_id: hushållet finns inte: 2 rader, t.ex. P7, P12" in report.warnings


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
    report = report_of(run, "person", cfg(quarantine_stop=False))
    assert report.failed_rules == {
        "household_id: värde saknas": 1,
        "person_id: ogiltig kontrollsiffra": 1,
        "role: okänd roll": 1,
        "sex: okänd könskod": 1,
    }
    assert report.rows_quarantined == 4
    example = next(r for r in report.rules if r["rule"] == "person_id: ogiltig kontrollsiffra")["examples"]
    assert example == pseudonymise(pd.Series([bad_luhn]), KEY).tolist()  # pseudonyms only


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
    report = report_of(run, "application", cfg(quarantine_stop=False))
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
    with pytest.raises(ValidationStop, match=r"staff_month\.staff_id, month: nyckeln är inte unik"):
        validate_run(run, ["staff_month"], cfg=cfg(quarantine_stop=False))
    report = TableReport(**staging.read_json(run / "validation.json")[0])
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
    report = report_of(run, "intervention", cfg(quarantine_stop=False))
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
    report = report_of(run, "payment", cfg(quarantine_stop=False))
    assert report.failed_rules == {
        "_type_errors: värde av fel typ i källan": 2,
        "benefit_month: värde saknas": 1,
        "amount_sek: värde saknas": 1,
    }
    rule = next(r for r in report.rules if r["rule"].startswith("_type_errors"))
    assert rule["detail"] == "amount_sek: 1, benefit_month: 1"


def test_a_person_born_after_the_period_is_quarantined(run):
    """Dates far ahead are 'orimligt datum' (period end + 10 years); a birth date after P's end,
    though within that, means the person cannot be in P (15 such persons passed before)."""
    stage(run, "household", households("H1"))
    base = {"household_id": "H1", "sex": "K", "born_abroad": False}
    stage(run, "person", [
        {"person_id": pnr(1), "role": "registerledare", "birth_date": D(1985, 5, 5), **base},
        {"person_id": pnr(2), "role": "barn", "birth_date": D(2018, 4, 30), **base},  # P's last day: fine
        {"person_id": pnr(3), "role": "barn", "birth_date": D(2018, 5, 1), **base},
        {"person_id": pnr(4), "role": "barn", "birth_date": D(2027, 3, 1), **base},
    ])  # fmt: skip
    report = report_of(run, "person", cfg(quarantine_stop=False), period=Period.parse("2018-T1"))
    assert report.failed_rules == {"birth_date: född efter periodens slut": 2}
    assert sorted(validated(run, "person")["person_id"]) == sorted(
        pseudonymise(pd.Series([pnr(1), pnr(2)]), KEY).tolist()
    )
