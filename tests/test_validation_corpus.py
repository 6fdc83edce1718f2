"""Bad-input corpus: small mutations of one valid source database, each run through the real
entry point (``python -m etl run``) on SQLite and on PostgreSQL.

Every case states its exact outcome: the exit code (2 = validation stopped the run), every rule
that failed in every table with its number of rows, how many rows each table quarantined, and
what the stop message names. Always: rows read = rows accepted + rows quarantined, and a stopped
run leaves no archive.

The base database is built here (all twelve tables, a handful of rows each) rather than by
``demo``: small and hand-checkable, and fast enough to run 30 cases on two backends.
Its tables have no primary-key constraints, like a source we do not control, so duplicated and
missing keys can be loaded. GX Data Docs are switched off for the corpus (the rendering is not
what it tests, and costs a second per run); ``test_data_docs_and_gx_results_are_written`` keeps
them on.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from etl import pipeline, source, staging
from etl.__main__ import main
from etl.pseudonym import luhn_check_digit
from etl.validation.report import TableReport
from etl.validation.run import RULE_COLUMN

pytestmark = pytest.mark.slow

D = dt.date
JAN, FEB = D(2018, 1, 1), D(2018, 2, 1)


def pnr(birth: dt.date, serial: int, female: bool) -> str:
    """A valid 12-digit personnummer: 11th digit even for women, odd for men; Luhn check digit."""
    body = birth.strftime("%y%m%d") + f"{serial:02d}" + ("2" if female else "1")
    return birth.strftime("%Y")[:2] + body + str(luhn_check_digit(body))


def with_bad_check_digit(pid: str) -> str:
    return pid[:-1] + str((int(pid[-1]) + 1) % 10)


# --------------------------------------------------------------------------------------------
# The valid base database

PEOPLE = {  # household: [(role, female, birth date)]
    "H1": [("registerledare", False, D(1980, 5, 5))],
    "H2": [("registerledare", True, D(1985, 7, 7))],
    "H3": [("registerledare", True, D(1979, 3, 3)), ("medsokande", False, D(1978, 4, 4)),
           ("barn", True, D(2010, 6, 6)), ("barn", False, D(2012, 8, 8))],
    "H4": [("registerledare", True, D(1990, 9, 9))],
    "H5": [("registerledare", False, D(1970, 10, 10))],
    "H6": [("registerledare", False, D(1995, 11, 11)), ("ovrig", True, D(1960, 12, 12))],
}  # fmt: skip
HOUSEHOLDS = {  # id: (district, type, opened, closed)
    "H1": ("KUN", 3, D(2016, 3, 1), None),
    "H2": ("KUN", 5, D(2016, 9, 1), None),
    "H3": ("NOR", 7, D(2017, 2, 1), None),
    "H4": ("NOR", 5, D(2017, 6, 1), None),
    "H5": ("OST", 3, D(2015, 1, 1), None),
    "H6": ("OST", 9, D(2017, 11, 1), D(2018, 3, 31)),
}
OBSTACLES = ["arbetslos_utan_ersattning", "arbetslos_etablering", "sjukskriven", "sociala_skal",
             "foraldraledig", "otillracklig_inkomst", "studerande", "ovrigt"]  # fmt: skip


def leader(household: str) -> str:
    return next(
        p["person_id"] for p in _PERSONS if p["household_id"] == household and p["role"] == "registerledare"
    )


def _persons() -> list[dict]:
    rows, serial = [], 10
    for hid, members in PEOPLE.items():
        for role, female, birth in members:
            serial += 1
            rows.append({"person_id": pnr(birth, serial, female), "household_id": hid, "role": role,
                         "sex": "K" if female else "M", "birth_date": birth,
                         "born_abroad": serial % 3 == 0})  # fmt: skip
    return rows


_PERSONS = _persons()


def base_rows() -> dict[str, list[dict]]:
    """A valid source for 2018-T1: every rule passes, every table has rows."""
    rows: dict[str, list[dict]] = {}
    names = [("KUN", "Kungsholmen"), ("NOR", "Norrmalm"), ("OST", "Östermalm")]
    rows["district"] = [{"district_code": c, "name": n} for c, n in names]
    rows["population"] = [
        {"year": y, "district_code": d, "sex": s, "age": a, "count": 100 + a}
        for y in (2017, 2018) for d in ("KUN", "NOR", "OST") for s in ("K", "M") for a in (20, 40)
    ]  # fmt: skip
    rows["household"] = [
        {"household_id": h, "district_code": d, "household_type": t, "opened_on": o, "closed_on": c}
        for h, (d, t, o, c) in HOUSEHOLDS.items()
    ]
    rows["person"] = copy.deepcopy(_PERSONS)
    apps, pays = [], []
    n = 0
    for hid in HOUSEHOLDS:
        for month in (JAN, FEB):
            n += 1
            received = month - dt.timedelta(days=6)
            decided, granted, decision = received + dt.timedelta(days=5), 10000.0, "bifall"
            if n == 3:
                granted, decision = 8000.0, "delvis_bifall"
            elif n == 7:
                granted, decision = 0.0, "avslag"
            elif n == 12:  # H6 February: still pending
                decided, granted, decision = None, None, None
            aid = f"A{n:02d}"
            apps.append({"application_id": aid, "household_id": hid, "applicant_id": leader(hid),
                         "received_on": received, "decided_on": decided, "benefit_month": month,
                         "applied_sek": 10000.0, "granted_sek": granted, "decision": decision,
                         "handler_id": "S1" if n % 2 else "S2"})  # fmt: skip
            if granted:
                pays.append({"payment_id": f"P{len(pays) + 1:02d}", "household_id": hid,
                             "application_id": aid, "benefit_month": month, "paid_on": decided,
                             "amount_sek": granted})  # fmt: skip
    for hid, month in (("H1", D(2017, 6, 1)), ("H2", D(2017, 11, 1))):  # manual payments, previous year
        pays.append({"payment_id": f"P{len(pays) + 1:02d}", "household_id": hid, "application_id": None,
                     "benefit_month": month, "paid_on": month - dt.timedelta(days=3),
                     "amount_sek": 1500.5})  # fmt: skip
    rows["application"], rows["payment"] = apps, pays
    rows["support_obstacle"] = [
        {"person_id": leader(h), "benefit_month": m, "code": OBSTACLES[(i + j) % len(OBSTACLES)]}
        for i, h in enumerate(HOUSEHOLDS) for j, m in enumerate((JAN, FEB))
    ]  # fmt: skip
    rows["intervention"] = [
        {"intervention_id": "I1", "person_id": leader("H1"), "kind": "ar_rehab", "started_on": D(2017, 9, 1),
         "ended_on": D(2018, 2, 28), "outcome": "egen_forsorjning"},
        {"intervention_id": "I2", "person_id": leader("H3"), "kind": "praktik", "started_on": D(2018, 1, 15),
         "ended_on": None, "outcome": None},
        {"intervention_id": "I3", "person_id": leader("H5"), "kind": "stockholmsjobb",
         "started_on": D(2018, 2, 1), "ended_on": None, "outcome": None},
    ]  # fmt: skip
    rows["job_place"] = [
        {"place_id": "J1", "kind": "feriejobb", "district_code": "KUN", "offered_on": D(2017, 5, 1)},
        {"place_id": "J2", "kind": "stockholmsjobb", "district_code": "NOR", "offered_on": D(2018, 1, 10)},
        {"place_id": "J3", "kind": "stockholmsjobb", "district_code": "OST", "offered_on": D(2018, 3, 1)},
    ]
    rows["staff"] = [
        {"staff_id": "S1", "sex": "K", "role": "handläggare", "birth_year": 1975,
         "employed_from": D(2010, 1, 1), "employed_to": None},
        {"staff_id": "S2", "sex": "M", "role": "handläggare", "birth_year": 1980,
         "employed_from": D(2015, 8, 1), "employed_to": None},
        {"staff_id": "S3", "sex": "K", "role": "enhetschef", "birth_year": 1990,
         "employed_from": D(2017, 1, 1), "employed_to": None},
        {"staff_id": "S4", "sex": "M", "role": "handläggare", "birth_year": 1985,
         "employed_from": D(2012, 1, 1), "employed_to": D(2018, 2, 28)},
    ]  # fmt: skip
    months = [D(2018, m, 1) for m in (1, 2, 3, 4)]
    rows["staff_month"] = [
        {"staff_id": s, "month": m, "fte": 1.0, "scheduled_hours": 160.0, "sick_hours": 8.0 * (i + 1),
         "sick_hours_day_1_14": 8.0, "sick_hours_day_60_plus": 8.0 * i}
        for s in ("S1", "S2", "S3", "S4") for i, m in enumerate(months) if s != "S4" or m < D(2018, 3, 1)
    ]  # fmt: skip
    rows["indicator_input"] = [
        {"indicator_id": "ledarskapsindex", "year": 2018, "tertial": 1, "district_code": None, "sex": "T",
         "value": 78.5},
        {"indicator_id": "ledarskapsindex", "year": 2018, "tertial": 1, "district_code": "KUN", "sex": "K",
         "value": 80.0},
        {"indicator_id": "e_inkop", "year": 2017, "tertial": None, "district_code": None, "sex": "T",
         "value": 0.92},
    ]  # fmt: skip
    rows["booked_cost"] = [
        {"month": m, "district_code": "OST", "account": a, "cost_sek": 1000.0, "income_sek": 500.0}
        for m in months for a in ("handlaggning", "arbetsmarknadsatgarder")
    ]  # fmt: skip
    return rows


@dataclass
class Source:
    """A mutable description of the source database: rows plus schema deviations."""

    rows: dict[str, list[dict]]
    types: dict[tuple[str, str], sa.types.TypeEngine] = field(default_factory=dict)
    drop_columns: set[tuple[str, str]] = field(default_factory=set)
    extra_columns: dict[tuple[str, str], object] = field(default_factory=dict)
    drop_tables: set[str] = field(default_factory=set)

    def create(self, url: str) -> None:
        md = sa.MetaData()
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            for name, contract in source.TABLES.items():
                if name in self.drop_tables:
                    continue
                cols = [
                    sa.Column(c.name, self.types.get((name, c.name), c.type))
                    for c in contract.columns
                    if (name, c.name) not in self.drop_columns
                ]
                cols += [sa.Column(c, sa.Text) for (t, c) in self.extra_columns if t == name]
                table = sa.Table(name, md, *cols)  # no primary key: the source is not ours to constrain
                table.create(conn)
                records = []
                for r in self.rows.get(name, []):
                    rec = {k: v for k, v in r.items() if (name, k) not in self.drop_columns}
                    rec.update({c: v for (t, c), v in self.extra_columns.items() if t == name})
                    records.append(rec)
                if records:
                    conn.execute(table.insert(), records)
        engine.dispose()


def row(src: Source, table: str, **match) -> dict:
    return next(r for r in src.rows[table] if all(r[k] == v for k, v in match.items()))


# --------------------------------------------------------------------------------------------
# The cases


@dataclass
class Case:
    id: str
    mutate: Callable[[Source], None]
    exit_code: int
    rules: dict[str, dict[str, int]] = field(default_factory=dict)
    """Every failed rule of every table: {table: {rule: rows}} (0 for table-level rules)."""
    quarantined: dict[str, int] = field(default_factory=dict)
    stop: list[str] = field(default_factory=list)
    """Substrings of the stop message (exit 2)."""
    period: str = "2018-T1"


def _set(table: str, match: dict, **values) -> Callable[[Source], None]:
    return lambda s: row(s, table, **match).update(values)


def _add(table: str, **values) -> Callable[[Source], None]:
    return lambda s: s.rows[table].append(values)


def _dup(table: str, match: dict, **changes) -> Callable[[Source], None]:
    return lambda s: s.rows[table].append({**row(s, table, **match), **changes})


def _all(*fns: Callable[[Source], None]) -> Callable[[Source], None]:
    def run(s: Source) -> None:
        for fn in fns:
            fn(s)

    return run


def _delete_rows(table: str) -> Callable[[Source], None]:
    return lambda s: s.rows.__setitem__(table, [])


def _second_barn_sex(value: str) -> Callable[[Source], None]:
    return lambda s: [p for p in s.rows["person"] if p["role"] == "barn"][1].update(sex=value)


def _bad_luhn(s: Source) -> None:
    child = [p for p in s.rows["person"] if p["role"] == "barn"][0]
    child["person_id"] = with_bad_check_digit(child["person_id"])


def _two_leaders(s: Source) -> None:
    row(s, "person", household_id="H3", role="medsokande")["role"] = "registerledare"


def _text_amounts(s: Source) -> None:
    s.types[("payment", "amount_sek")] = sa.Text()
    for p in s.rows["payment"]:
        p["amount_sek"] = f"{p['amount_sek']:.2f}"
    row(s, "payment", payment_id="P03")["amount_sek"] = "9 000 kr"


def _integer_dates(s: Source) -> None:
    s.types[("payment", "paid_on")] = sa.Integer()
    for p in s.rows["payment"]:
        p["paid_on"] = int(p["paid_on"].strftime("%Y%m%d"))


def _person_in_two_households(s: Source) -> None:
    # H2's February application names H1's registerledare as applicant: one person, two households.
    row(s, "application", household_id="H2", benefit_month=FEB)["applicant_id"] = leader("H1")


def _many_mid_month(s: Source) -> None:
    for p in s.rows["payment"][:10]:
        p["benefit_month"] = p["benefit_month"] + dt.timedelta(days=14)


EMPTY_WARN = "tabellen är tom"
CASES = [
    Case("valid_base", lambda s: None, 0),
    Case("unknown_sex_code", _second_barn_sex("X"), 0, {"person": {"sex: okänd könskod": 1}}, {"person": 1}),
    Case("born_after_the_period",  # 2027 in a 2018-T1 extract: within "orimligt datum" (P + 10 years)
         lambda s: [p for p in s.rows["person"] if p["role"] == "barn"][1].update(birth_date=D(2027, 3, 1)),
         0, {"person": {"birth_date: född efter periodens slut": 1}}, {"person": 1}),
    Case("bad_luhn_digit", _bad_luhn, 0, {"person": {"person_id: ogiltig kontrollsiffra": 1}}, {"person": 1}),
    Case("duplicated_primary_key", _dup("payment", {"payment_id": "P02"}), 2,
         {"payment": {"payment_id: nyckeln är inte unik": 2}}, {"payment": 2},
         ["payment.payment_id: nyckeln är inte unik: 2 rader, t.ex. P02, P02"]),
    Case("payment_for_missing_household", _set("payment", {"payment_id": "P05"}, household_id="H99"), 0,
         {"payment": {"household_id: hushållet finns inte": 1}}, {"payment": 1}),
    Case("household_with_two_registerledare", _two_leaders, 0,
         {"household": {"household_id: inte exakt en registerledare": 1}}, {"household": 1}),
    Case("negative_amount", _set("payment", {"payment_id": "P04"}, amount_sek=-500.0), 0,
         {"payment": {"amount_sek: negativt belopp": 1}}, {"payment": 1}),
    Case("absurd_amount", _set("payment", {"payment_id": "P04"}, amount_sek=250_000.0), 0,
         {"payment": {"amount_sek: belopp över taket för en utbetalning": 1}}, {"payment": 1}),
    Case("decision_before_application",
         _set("application", {"application_id": "A04"}, decided_on=D(2018, 1, 20)), 0,
         {"application": {"decided_on, received_on: beslut före ansökan": 1}}, {"application": 1}),
    Case("benefit_month_not_first_of_month",
         _set("payment", {"payment_id": "P06"}, benefit_month=D(2018, 2, 15)), 0,
         {"payment": {"benefit_month: inte första dagen i månaden": 1}}, {"payment": 1}),
    # I2 started in P, so extraction reads it (an intervention neither started nor ended in P is
    # outside every definition's window and is not read, whatever its dates).
    Case("ended_before_started", _set("intervention", {"intervention_id": "I2"}, ended_on=D(2018, 1, 10)), 0,
         {"intervention": {"ended_on, started_on: avslutad före start": 1}}, {"intervention": 1}),
    Case("unknown_household_type", _set("household", {"household_id": "H4"}, household_type=2), 0,
         {"household": {"household_type: okänd hushållstyp": 1}}, {"household": 1}),
    Case("unknown_role", _set("person", {"household_id": "H6", "role": "ovrig"}, role="inneboende"), 0,
         {"person": {"role: okänd roll": 1}}, {"person": 1}),
    Case("unknown_obstacle_code", lambda s: s.rows["support_obstacle"][3].update(code="arbetslos"), 0,
         {"support_obstacle": {"code: okänd hinderkod": 1}}, {"support_obstacle": 1}),
    Case("unknown_decision", _set("application", {"application_id": "A01"}, decision="ja"), 0,
         {"application": {"decision: okänt beslut": 1}}, {"application": 1}),
    Case("unknown_intervention_kind_and_outcome",
         _set("intervention", {"intervention_id": "I1"}, kind="kurs", outcome="flytt"), 0,
         {"intervention": {"kind: okänd insatstyp": 1, "outcome: okänt utfall": 1}}, {"intervention": 1}),
    Case("null_primary_key", _set("payment", {"payment_id": "P07"}, payment_id=None), 0,
         {"payment": {"payment_id: nyckel saknas": 1}}, {"payment": 1}),
    Case("null_foreign_key",
         _set("person", {"household_id": "H3", "role": "medsokande"}, household_id=None), 0,
         {"person": {"household_id: värde saknas": 1}}, {"person": 1}),
    Case("sick_hours_above_scheduled",
         _set("staff_month", {"staff_id": "S2", "month": FEB}, sick_hours=200.0), 0,
         {"staff_month": {"scheduled_hours, sick_hours: sjuktimmar över schemalagda timmar": 1}},
         {"staff_month": 1}),
    Case("sick_days_60_plus_above_sick_hours",
         _set("staff_month", {"staff_id": "S3", "month": D(2018, 3, 1)}, sick_hours_day_60_plus=30.0), 0,
         {"staff_month": {"sick_hours, sick_hours_day_60_plus: sjuktimmar dag 60– över alla sjuktimmar": 1}},
         {"staff_month": 1}),
    Case("staff_hours_after_employed_to",
         _add("staff_month", staff_id="S4", month=D(2018, 3, 1), fte=1.0, scheduled_hours=160.0,
              sick_hours=0.0, sick_hours_day_1_14=0.0, sick_hours_day_60_plus=0.0), 0,
         {"staff_month": {"month: timmar utanför anställningstiden": 1}}, {"staff_month": 1}),
    Case("granted_above_applied", _set("application", {"application_id": "A05"}, granted_sek=12000.0), 0,
         {"application": {"applied_sek, granted_sek: beviljat belopp över sökt belopp": 1}},
         {"application": 1}),
    Case("duplicate_application_same_month",
         _dup("application", {"application_id": "A02"}, application_id="A99", received_on=D(2018, 1, 28)), 0,
         {"application": {"household_id, benefit_month: flera ansökningar för samma hushåll och månad": 2}},
         {"application": 2}),
    Case("person_in_two_households_at_once", _person_in_two_households, 0,
         {"application": {"applicant_id: sökande i flera hushåll samma månad": 2}}, {"application": 2}),
    Case("date_far_in_the_future", _set("payment", {"payment_id": "P08"}, paid_on=D(2099, 2, 1)), 0,
         {"payment": {"paid_on: orimligt datum för perioden": 1}}, {"payment": 1}),
    Case("date_far_in_the_past", _set("household", {"household_id": "H2"}, opened_on=D(1016, 9, 1)), 0,
         {"household": {"opened_on: orimligt datum": 1}}, {"household": 1}),
    Case("text_in_numeric_column", _text_amounts, 0,
         {"payment": {"_type_errors: värde av fel typ i källan": 1, "amount_sek: värde saknas": 1}},
         {"payment": 1}),
    Case("wrong_column_type", _integer_dates, 2,
         {"payment": {"_type_errors: värde av fel typ i källan": 12, "paid_on: värde saknas": 12,
                      "andel i karantän över gränsen": 0, "inga godkända rader": 0}},
         {"payment": 12},
         ["payment: andel i karantän över gränsen (12 av 12 rader (100.0%), gräns 1.0%)",
          "payment: inga godkända rader"]),
    Case("quarantined_share_above_limit", _many_mid_month, 2,
         {"payment": {"benefit_month: inte första dagen i månaden": 10, "andel i karantän över gränsen": 0}},
         {"payment": 10}, ["payment: andel i karantän över gränsen (10 av 12 rader (83.3%), gräns 1.0%)"]),
    Case("missing_column", lambda s: s.drop_columns.add(("payment", "paid_on")), 2,
         {"payment": {"kolumner saknas i källan": 0}}, {}, ["payment: kolumner saknas i källan (paid_on)"]),
    Case("extra_column", lambda s: s.extra_columns.update({("household", "kommentar"): "fri text"}), 0,
         {"household": {"okända kolumner i källan ignoreras": 0}}),
    Case("empty_required_table", _delete_rows("payment"), 2,
         {"payment": {EMPTY_WARN: 0}}, {}, ["payment: tabellen är tom"]),
    Case("empty_optional_table", _delete_rows("job_place"), 0, {"job_place": {EMPTY_WARN: 0}}),
    Case("missing_table", lambda s: s.drop_tables.add("staff_month"), 2,
         {"staff_month": {"tabellen saknas i källan": 0}}, {}, ["staff_month: tabellen saknas i källan"]),
    Case("period_with_no_data", lambda s: None, 2,
         {"payment": {EMPTY_WARN: 0}, **{t: {EMPTY_WARN: 0} for t in (
             "population", "application", "support_obstacle", "intervention", "job_place", "staff_month",
             "indicator_input", "booked_cost")}},
         {}, ["payment: tabellen är tom"], period="2015-T1"),
]  # fmt: skip


@pytest.fixture
def key_env(monkeypatch):
    monkeypatch.setenv("EB_PSEUDONYM_KEY", "test-pseudonym-key-0123456789abcdef")


@pytest.fixture
def no_data_docs(monkeypatch):
    real = pipeline.settings

    def without_data_docs():
        configured = real()
        validation = configured.validation.model_copy(update={"data_docs": False})
        return dataclasses.replace(configured, validation=validation)

    monkeypatch.setattr(pipeline, "settings", without_data_docs)


def run_case(case: Case, url: str, out: Path) -> tuple[int, list[dict], Path]:
    src = Source(base_rows())
    case.mutate(src)
    src.create(url)
    code = main(["run", "--source", url, "--period", case.period, "--out", str(out), "--no-email"])
    run = out / "staging" / f"cli__{case.period}"
    return code, staging.read_json(run / "validation.json"), run


def test_a_source_without_any_contract_table_is_a_source_error(empty_db_url, tmp_path, key_env, capsys):
    """Not bad data but the wrong (or an empty) database: extraction fails with a source error
    (the DAG retries it, then alerts), nothing is validated, exit 1."""
    src = Source(base_rows())
    src.drop_tables.update(source.TABLES)
    src.create(empty_db_url)
    out = tmp_path / "out"
    code = main(["run", "--source", empty_db_url, "--period", "2018-T1", "--out", str(out), "--no-email"])
    assert code == 1
    assert "källdatabasen har ingen av källtabellerna" in capsys.readouterr().err
    assert not (out / "staging" / "cli__2018-T1" / "validation.json").exists()


def test_the_corpus_has_enough_distinct_cases():
    assert len({c.id for c in CASES}) == len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, empty_db_url, tmp_path, key_env, no_data_docs, capsys):
    out = tmp_path / "out"
    code, saved, run = run_case(case, empty_db_url, out)
    err = capsys.readouterr().err
    assert code == case.exit_code, err

    reports = {r["table"]: TableReport(**r) for r in saved}
    assert list(reports) == list(source.TABLES)
    assert {t: r.failed_rules for t, r in reports.items() if r.failed_rules} == case.rules
    assert {t: r.rows_quarantined for t, r in reports.items() if r.rows_quarantined} == case.quarantined
    for name, report in reports.items():
        assert report.reconciles(), name
        assert report.status == ("stopp" if report.critical else "varning" if report.warnings else "ok")
        quarantine = pd.read_parquet(run / "quarantine" / f"{name}.parquet")
        accepted = pd.read_parquet(run / "validated" / f"{name}.parquet")
        assert (len(accepted), len(quarantine)) == (report.rows_accepted, report.rows_quarantined)
        for labels in quarantine[RULE_COLUMN]:
            assert set(labels.split("; ")) <= set(report.failed_rules)

    if case.exit_code == 2:
        assert "STOPP: Valideringen stoppade körningen" in err
        for text in case.stop:
            assert text in err
        assert not (out / "archive").exists()
        assert not (out / "output").exists()
    else:
        assert not [c for r in reports.values() for c in r.critical]
        assert list((out / "archive" / "2018" / "T1").iterdir())


def test_stopped_run_names_rule_rows_and_pseudonymised_keys(
    empty_db_url, tmp_path, key_env, no_data_docs, capsys
):
    """A critical row rule names table, column, rule, failing rows and example keys; person ids
    appear only as pseudonyms."""
    src = Source(base_rows())
    src.rows["person"].append(dict(src.rows["person"][0], household_id="H2"))  # same person twice
    src.create(empty_db_url)
    out = tmp_path / "out"
    args = ["run", "--source", empty_db_url, "--period", "2018-T1", "--out", str(out), "--no-email"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "person.person_id: nyckeln är inte unik: 2 rader, t.ex. p" in err
    assert src.rows["person"][0]["person_id"] not in err
    report = {r["table"]: r for r in staging.read_json(out / "staging" / "cli__2018-T1" / "validation.json")}
    rule = next(r for r in report["person"]["rules"] if r["rule"] == "person_id: nyckeln är inte unik")
    assert rule["severity"] == "critical" and rule["level"] == "rad" and rule["rows"] == 2
    assert len(rule["examples"]) == 2 and all(e.startswith("p") and len(e) == 27 for e in rule["examples"])
    assert not (out / "archive").exists()


def _assert_offline_and_styled(site):
    """No page or stylesheet points off the machine, and every local asset a page loads exists."""
    for page in [*site.rglob("*.html"), *site.rglob("*.css")]:
        text = page.read_text(encoding="utf-8")
        assert not re.findall(r"""(?:src|href)=["'](?:https?:)?//""", text), page
        assert not re.findall(r"""url\(\s*["']?(?:https?:)?//""", text), page
    index = (site / "index.html").read_text(encoding="utf-8")
    loaded = re.findall(r"""<(?:script|link)\b[^>]*\b(?:src|href)=["']([^"'#]+)["']""", index)
    for name in ("bootstrap.min.css", "jquery.min.js", "bootstrap.bundle.min.js", "all.min.css"):
        assert any(path.endswith(name) for path in loaded), name
    for path in loaded:
        assert (site / path).resolve().is_file(), path
    css = site / "static/vendor/font_awesome/css"
    fonts = re.findall(r"url\(([^)]+\.woff2)\)", (css / "all.min.css").read_text())
    assert fonts and all((css / f).resolve().is_file() for f in fonts)


def test_data_docs_and_gx_results_are_written(empty_db_url, tmp_path, key_env):
    src = Source(base_rows())
    _set("payment", {"payment_id": "P04"}, amount_sek=-1.0)(src)
    src.create(empty_db_url)
    out = tmp_path / "out"
    assert (
        main(["run", "--source", empty_db_url, "--period", "2018-T1", "--out", str(out), "--no-email"]) == 0
    )
    run = out / "staging" / "cli__2018-T1"
    index = run / "data_docs" / "index.html"
    assert index.exists()
    pages = list((run / "data_docs" / "validations").rglob("*.html"))
    assert {p.stem for p in pages} == set(source.TABLES)
    _assert_offline_and_styled(run / "data_docs")
    gx = staging.read_json(run / "gx" / "payment.json")
    failed = [r for r in gx["results"] if not r["success"]]
    assert [r["expectation_config"]["meta"]["rule"] for r in failed] == ["negativt belopp"]
    assert failed[0]["result"]["unexpected_list"] == [-1.0]
    text = (run / "gx" / "payment.json").read_text(encoding="utf-8")
    assert '"id"' not in text and "ge_load_time" not in text and "validation_time" not in text
