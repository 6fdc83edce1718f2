"""The demo generator: calibration against published figures, identifiers, consistency, determinism.

Every figure is recomputed here with its own SQL from the written tables (never from generator
internals), on SQLite and on PostgreSQL. ``pytest -s`` prints the calibration table.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from dataclasses import dataclass

import pandas as pd
import pytest
import sqlalchemy as sa

from demo import SCALES, generate
from etl import source
from etl.pseudonym import luhn_valid
from tests.support.db import new_postgres_database, require_postgres

SEED = 2018
YEARS = (2017, 2018, 2019)
TOLERANCE = 0.15
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class DemoDb:
    url: str
    engine: sa.Engine
    counts: dict[str, int]
    backend: str


@pytest.fixture(scope="module", params=BACKENDS)
def unit_db(request, tmp_path_factory):
    """The unit scale, 2017–2019, generated once per backend for the whole module."""
    drop = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'unit.db'}"
    else:
        require_postgres()
        url, drop = new_postgres_database()
    engine = None
    try:
        counts = generate(url, scale="unit", seed=SEED, years=YEARS)
        engine = sa.create_engine(url)
        yield DemoDb(url, engine, counts, request.param)
    finally:
        if engine is not None:
            engine.dispose()
        if drop is not None:
            drop()


def frame(engine: sa.Engine, sql: str) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(sa.text(sql), conn)


def scalar(engine: sa.Engine, sql: str):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar_one()


def year_between(column: str, year: int) -> str:
    return f"{column} BETWEEN '{year}-01-01' AND '{year}-12-31'"


# --------------------------------------------------------------------------- figures


def recipients_by_district(engine: sa.Engine, year: int) -> pd.Series:
    """Persons (children included) in households with a payment for a benefit month in ``year``."""
    sql = f"""
        SELECT h.district_code, COUNT(DISTINCT p.person_id) AS recipients
        FROM person p JOIN household h ON h.household_id = p.household_id
        WHERE p.household_id IN (SELECT household_id FROM payment WHERE {year_between("benefit_month", year)})
        GROUP BY h.district_code"""
    return frame(engine, sql).set_index("district_code")["recipients"].astype(int)


def population_by_district(engine: sa.Engine, year: int) -> pd.Series:
    sql = (
        f'SELECT district_code, SUM("count") AS n FROM population WHERE year = {year} GROUP BY district_code'
    )
    return frame(engine, sql).set_index("district_code")["n"].astype(int)


def household_months(engine: sa.Engine, year: int) -> pd.DataFrame:
    """Paid SEK per household and benefit month in ``year``, with the household's district."""
    sql = f"""
        SELECT p.household_id, h.district_code, p.benefit_month, SUM(p.amount_sek) AS paid
        FROM payment p JOIN household h ON h.household_id = p.household_id
        WHERE {year_between("p.benefit_month", year)}
        GROUP BY p.household_id, h.district_code, p.benefit_month"""
    out = frame(engine, sql)
    out["paid"] = out["paid"].astype(float)
    return out


def gender_strata(engine: sa.Engine) -> pd.DataFrame:
    """Decided applications of single adults (types 3–6) with the applicant's sex and obstacle."""
    sql = """
        SELECT a.benefit_month, a.decision, a.granted_sek, h.household_type, h.district_code, p.sex, s.code
        FROM application a
        JOIN household h ON h.household_id = a.household_id
        JOIN person p ON p.person_id = a.applicant_id
        JOIN support_obstacle s ON s.person_id = a.applicant_id AND s.benefit_month = a.benefit_month
        WHERE h.household_type IN (3, 4, 5, 6) AND a.decision IS NOT NULL"""
    out = frame(engine, sql)
    out["year"] = pd.to_datetime(out["benefit_month"]).dt.year
    out["children"] = out["household_type"].isin([4, 6])
    out["granted_sek"] = out["granted_sek"].astype(float)
    return out


def gender_gap(engine: sa.Engine) -> tuple[float, float]:
    """Women's mean granted / men's, standardised over strata (year × district × children × obstacle:
    Östermalm pays more per household, the same for women and men); avslag K − M."""
    d = gender_strata(engine)
    granted = d[d["decision"] != "avslag"]
    g = (
        granted.groupby(["year", "district_code", "children", "code", "sex"])["granted_sek"]
        .agg(["mean", "size"])
        .unstack("sex")
    )
    g = g.dropna()
    women, men = g[("size", "K")], g[("size", "M")]
    weights = women * men / (women + men)  # small cells (few single fathers) count little
    ratio = (weights * g[("mean", "K")]).sum() / (weights * g[("mean", "M")]).sum()
    avslag = (d["decision"] == "avslag").groupby(d["sex"]).mean()
    return float(ratio), float(avslag["K"] - avslag["M"])


@dataclass
class Figure:
    name: str
    published: float | None
    generated: float
    low: float
    high: float

    @property
    def ok(self) -> bool:
        return self.low <= self.generated <= self.high


def near(name: str, published: float, generated: float) -> Figure:
    return Figure(name, published, generated, published * (1 - TOLERANCE), published * (1 + TOLERANCE))


def calibration_figures(engine: sa.Engine) -> list[Figure]:
    figures: list[Figure] = []
    rec = recipients_by_district(engine, 2017)
    # Share of the population (Kolada N31807): inhabitants 31 December of the SAME year (2017).
    pop = population_by_district(engine, 2017)
    for code, published, share in (("KUN", 310, 0.4), ("NOR", 312, 0.4), ("OST", 260, 0.3)):
        figures.append(near(f"Mottagare 2017 {code}", published, rec[code]))
        figures.append(near(f"Andel av befolkningen 2017 {code} (%)", share, 100 * rec[code] / pop[code]))
    hm = household_months(engine, 2017)
    figures.append(near("Biståndsmånader per hushåll 2017", 7.0, len(hm) / hm["household_id"].nunique()))
    city = hm["district_code"] != "OST"  # Kungsholmen and Norrmalm pay the city's mean
    paid = hm.groupby(city)["paid"].mean()
    figures.append(near("Utbetalt per hushåll och månad 2017 KUN, NOR (kr)", 9135, paid[True]))
    # Östermalm pays 1.5 × that (demo.calibration.OST_PAYOUT_LEVEL), so that its 2018 payouts
    # meet its budget line (plan 2018: ekonomiskt bistånd 15.4 mnkr).
    figures.append(near("Utbetalt per hushåll och månad 2017 OST (kr)", 1.5 * 9135, paid[False]))
    paid_ost = household_months(engine, 2018).query("district_code == 'OST'")["paid"].sum() / 1e6
    figures.append(near("Utbetalt OST 2018 (mnkr), budget", 15.4, paid_ost))

    staff = frame(
        engine,
        "SELECT sex, COUNT(*) AS n FROM staff WHERE employed_from <= '2018-12-31' "
        "AND (employed_to IS NULL OR employed_to >= '2018-12-31') GROUP BY sex",
    ).set_index("sex")["n"]
    figures.append(Figure("Anställda 2018-12-31", 32, int(staff.sum()), 32, 32))
    figures.append(Figure("  varav män", 4, int(staff.get("M", 0)), 4, 4))
    sick = (
        frame(
            engine,
            "SELECT SUM(sick_hours) AS sick, SUM(sick_hours_day_1_14) AS short, "
            f"SUM(scheduled_hours) AS sched FROM staff_month WHERE {year_between('month', 2018)}",
        )
        .astype(float)
        .iloc[0]
    )
    figures.append(Figure("Sjukfrånvaro 2018 (%)", 12, 100 * sick["sick"] / sick["sched"], 5, 12))
    figures.append(
        Figure("Sjukfrånvaro dag 1–14 2018 (%)", 1.3, 100 * sick["short"] / sick["sched"], 0.5, 2.5)
    )

    kinds = frame(
        engine,
        "SELECT kind, COUNT(DISTINCT person_id) AS n FROM intervention "
        f"WHERE {year_between('started_on', 2018)} GROUP BY kind",
    ).set_index("kind")["n"]
    figures.append(near("Aspiranter med Stockholmsjobb 2018", 18, kinds["stockholmsjobb"]))
    figures.append(near("Praktiktillfällen 2018", 40, kinds["praktik"]))
    places = frame(
        engine,
        f"SELECT kind, COUNT(*) AS n FROM job_place WHERE {year_between('offered_on', 2018)} GROUP BY kind",
    ).set_index("kind")["n"]
    figures.append(near("Platser för feriejobb 2018", 696, places["feriejobb"]))
    figures.append(near("Platser för Stockholmsjobb 2018", 75, places["stockholmsjobb"]))
    ar = frame(engine, "SELECT outcome FROM intervention WHERE kind = 'ar_rehab' AND outcome IS NOT NULL")
    to_work = ar["outcome"].isin(["egen_forsorjning", "annan_forsorjning"]).mean()
    figures.append(Figure("AR: till egen/annan försörjning (%)", 25, 100 * to_work, 20, 40))

    dec = frame(
        engine, "SELECT decision, received_on, decided_on FROM application WHERE decision IS NOT NULL"
    )
    figures.append(Figure("Andel avslag (%)", None, 100 * (dec["decision"] == "avslag").mean(), 8, 12))
    days = (pd.to_datetime(dec["decided_on"]) - pd.to_datetime(dec["received_on"])).dt.days
    figures.append(Figure("Median handläggningstid (dagar)", None, float(days.median()), 5, 10))
    children = (
        frame(
            engine,
            'SELECT SUM(CASE WHEN age < 18 THEN "count" ELSE 0 END) AS c, SUM("count") AS t FROM population',
        )
        .astype(float)
        .iloc[0]
    )
    figures.append(Figure("Barn 0–17 i befolkningen (%)", None, 100 * children["c"] / children["t"], 17, 20))
    ratio, avslag_diff = gender_gap(engine)
    figures.append(Figure("Kvinnor/män beviljat, typ 3–6 per stratum", 0.965, ratio, 0.93, 0.99))
    figures.append(Figure("Avslag kvinnor − män, typ 3–6 (pe)", 2.0, 100 * avslag_diff, -1.0, 5.0))
    return figures


def print_table(title: str, figures: list[Figure]) -> None:
    print(f"\n{title}")
    print(f"{'Mått':<46} {'Publicerat/mål':>14} {'Genererat':>11} {'Godkänt intervall':>20}  ")
    for f in figures:
        published = "" if f.published is None else f"{f.published:g}"
        print(
            f"{f.name:<46} {published:>14} {f.generated:>11.3f} {f'{f.low:g}–{f.high:g}':>20}  "
            + ("ok" if f.ok else "AVVIKER")
        )


# --------------------------------------------------------------------------- tests


def test_calibration_against_published_figures(unit_db: DemoDb) -> None:
    figures = calibration_figures(unit_db.engine)
    print_table(f"Kalibrering, skala unit, seed {SEED}, {unit_db.backend}", figures)
    assert not [f.name for f in figures if not f.ok]


def test_row_counts_returned_match_tables(unit_db: DemoDb) -> None:
    assert set(unit_db.counts) == set(source.TABLES)
    for name, n in unit_db.counts.items():
        assert scalar(unit_db.engine, f"SELECT COUNT(*) FROM {name}") == n, name
    assert unit_db.counts["district"] == 3
    years = frame(unit_db.engine, "SELECT DISTINCT year FROM population")["year"]
    assert sorted(years) == [2016, 2017, 2018, 2019]
    cells = scalar(unit_db.engine, "SELECT COUNT(*) FROM population WHERE year = 2017")
    assert cells == 3 * 2 * 101


def test_person_ids_are_valid_personnummer(unit_db: DemoDb) -> None:
    p = frame(unit_db.engine, "SELECT person_id, sex, birth_date FROM person")
    ids = p["person_id"].astype(str)
    assert ids.str.fullmatch(r"\d{12}").all()
    assert ids.is_unique
    assert luhn_valid(ids).all()
    eleventh_odd = ids.str[10].astype(int) % 2 == 1
    assert (eleventh_odd == (p["sex"] == "M")).all()
    day = ids.str[6:8].astype(int)
    samordning = day > 60
    assert 0.01 < samordning.mean() < 0.06
    birth = pd.to_datetime(p["birth_date"])
    assert (ids.str[:6].astype(int) == birth.dt.year * 100 + birth.dt.month).all()
    assert (day - 60 * samordning == birth.dt.day).all()
    for table, column in (
        ("application", "applicant_id"),
        ("support_obstacle", "person_id"),
        ("intervention", "person_id"),
    ):
        orphans = scalar(
            unit_db.engine,
            f"SELECT COUNT(*) FROM {table} WHERE {column} NOT IN (SELECT person_id FROM person)",
        )
        assert orphans == 0, table


def test_households_and_roles(unit_db: DemoDb) -> None:
    e = unit_db.engine
    per_household = frame(
        e,
        "SELECT h.household_id, h.household_type, "
        "SUM(CASE WHEN p.role = 'registerledare' THEN 1 ELSE 0 END) AS rl, "
        "SUM(CASE WHEN p.role = 'medsokande' THEN 1 ELSE 0 END) AS partners, "
        "SUM(CASE WHEN p.role = 'barn' THEN 1 ELSE 0 END) AS children "
        "FROM household h LEFT JOIN person p ON p.household_id = h.household_id "
        "GROUP BY h.household_id, h.household_type",
    )
    assert (per_household["rl"] == 1).all()
    couples = per_household["household_type"].isin([7, 8])
    assert (per_household.loc[couples, "partners"] == 1).all()
    assert (per_household.loc[~couples, "partners"] == 0).all()
    with_children = per_household["household_type"].isin([4, 6, 8])
    assert (per_household.loc[with_children, "children"] >= 1).all()
    assert (per_household.loc[~with_children, "children"] == 0).all()
    shares = per_household["household_type"].value_counts(normalize=True)
    assert 0.6 <= shares[3] + shares[5] <= 0.75
    assert shares[6] > shares[4]
    wrong_sex = scalar(
        e,
        "SELECT COUNT(*) FROM person p JOIN household h ON h.household_id = p.household_id "
        "WHERE p.role = 'registerledare' AND ((h.household_type IN (3, 4) AND p.sex <> 'M') "
        "OR (h.household_type IN (5, 6) AND p.sex <> 'K'))",
    )
    assert wrong_sex == 0
    assert scalar(e, "SELECT COUNT(*) FROM household WHERE closed_on < opened_on") == 0
    late_open = scalar(
        e,
        "SELECT COUNT(*) FROM application a JOIN household h ON h.household_id = a.household_id "
        "WHERE a.received_on < h.opened_on",
    )
    assert late_open == 0


def test_applications_payments_and_decisions(unit_db: DemoDb) -> None:
    e = unit_db.engine
    assert scalar(e, "SELECT COUNT(*) FROM application WHERE granted_sek > applied_sek") == 0
    inconsistent_pending = scalar(
        e,
        "SELECT COUNT(*) FROM application WHERE (decision IS NULL) <> (granted_sek IS NULL) "
        "OR (decision IS NULL) <> (decided_on IS NULL)",
    )
    assert inconsistent_pending == 0
    assert 0 < scalar(e, "SELECT COUNT(*) FROM application WHERE decision IS NULL") < 50
    assert scalar(e, "SELECT COUNT(*) FROM application WHERE decided_on < received_on") == 0
    decisions = set(
        frame(e, "SELECT DISTINCT decision FROM application WHERE decision IS NOT NULL")["decision"]
    )
    assert decisions == {"bifall", "delvis_bifall", "avslag"}
    bad_handler = scalar(
        e,
        "SELECT COUNT(*) FROM application WHERE handler_id NOT IN "
        "(SELECT staff_id FROM staff WHERE role IN ('socialsekreterare', 'bidragshandlaggare'))",
    )
    assert bad_handler == 0
    # Payments add up to what was granted (manual payments carry no application id).
    over = scalar(
        e,
        "SELECT COUNT(*) FROM (SELECT a.application_id FROM application a "
        "JOIN payment p ON p.application_id = a.application_id "
        "GROUP BY a.application_id, a.granted_sek HAVING SUM(p.amount_sek) > a.granted_sek + 0.005) x",
    )
    assert over == 0
    manual = scalar(e, "SELECT COUNT(*) FROM payment WHERE application_id IS NULL")
    assert 0 < manual < 0.03 * unit_db.counts["payment"]
    per_adult_month = scalar(
        e,
        "SELECT COUNT(*) FROM application a JOIN person p ON p.household_id = a.household_id "
        "AND p.role IN ('registerledare', 'medsokande')",
    )
    assert per_adult_month == unit_db.counts["support_obstacle"]
    codes = frame(e, "SELECT code, COUNT(*) AS n FROM support_obstacle GROUP BY code").set_index("code")["n"]
    assert codes.idxmax() in {"sjukskriven", "sociala_skal"}


def test_staff_interventions_and_indicators(unit_db: DemoDb) -> None:
    e = unit_db.engine
    ids = frame(e, "SELECT staff_id, birth_year FROM staff")
    assert ids["staff_id"].str.fullmatch(r"A\d{4}").all()
    ages = 2018 - ids["birth_year"]
    assert (ages <= 29).any() and ages.between(30, 49).any() and (ages >= 50).any()
    assert scalar(e, "SELECT COUNT(*) FROM staff WHERE employed_to IS NOT NULL") >= 2
    bad_sick = scalar(
        e,
        "SELECT COUNT(*) FROM staff_month WHERE sick_hours > scheduled_hours "
        "OR sick_hours_day_1_14 > sick_hours OR sick_hours_day_60_plus > sick_hours",
    )
    assert bad_sick == 0
    assert scalar(e, "SELECT COUNT(*) FROM staff_month WHERE sick_hours_day_60_plus > 0") > 0
    assert scalar(e, "SELECT COUNT(*) FROM intervention WHERE ended_on < started_on") == 0
    assert scalar(e, "SELECT COUNT(*) FROM intervention WHERE (ended_on IS NULL) <> (outcome IS NULL)") == 0
    indicators = frame(e, "SELECT indicator_id, tertial, sex, value FROM indicator_input")
    yearly = indicators[indicators["tertial"].isna()]
    assert set(yearly["sex"]) == {"T", "K", "M"}
    means = yearly[yearly["sex"] == "T"].groupby("indicator_id")["value"].mean().astype(float)
    assert means["aktivt_medskapandeindex"] == pytest.approx(83, abs=4)
    assert means["ledarskapsindex"] == pytest.approx(80, abs=4)
    purchases = indicators[indicators["indicator_id"] == "elektroniska_inkop_andel"]
    assert len(purchases) == 3 * len(YEARS)
    assert purchases["value"].astype(float).mean() == pytest.approx(65, abs=5)


def _digests(url: str) -> dict[str, str]:
    """Order-independent digest per table of normalised values (dates ISO, numbers rounded)."""

    def norm(value) -> str:
        if value is None:
            return ""
        if hasattr(value, "isoformat"):
            return value.isoformat()
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int | float) or type(value).__name__ == "Decimal":
            return f"{float(value):.4f}"
        return str(value)

    engine = sa.create_engine(url)
    out = {}
    try:
        with engine.connect() as conn, warnings.catch_warnings():
            warnings.simplefilter("ignore", sa.exc.SAWarning)  # SQLite has no native Decimal
            for name, table in source.TABLES.items():
                rows = sorted("\t".join(norm(v) for v in row) for row in conn.execute(sa.select(table)))
                out[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    finally:
        engine.dispose()
    return out


def test_same_seed_gives_identical_content(unit_db: DemoDb, tmp_path) -> None:
    """A fresh SQLite file with the same seed equals the module database (SQLite or PostgreSQL)."""
    again = f"sqlite:///{tmp_path / 'again.db'}"
    generate(again, scale="unit", seed=SEED, years=YEARS)
    assert _digests(again) == _digests(unit_db.url)


def test_different_seed_differs(tmp_path) -> None:
    a, b = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    generate(a, scale="unit", seed=SEED, years=(2018,))
    generate(b, scale="unit", seed=SEED + 1, years=(2018,))
    da, db = _digests(a), _digests(b)
    assert da["district"] == db["district"]  # fixed by the scale, not by the seed
    for table in ("household", "person", "application", "payment", "staff_month"):
        assert da[table] != db[table], table


def test_refuses_to_fill_a_database_twice(unit_db: DemoDb) -> None:
    with pytest.raises(ValueError, match="redan data"):
        generate(unit_db.url, scale="unit", seed=SEED, years=YEARS)
    assert scalar(unit_db.engine, "SELECT COUNT(*) FROM application") == unit_db.counts["application"]


def test_refuses_when_any_table_has_rows(empty_db_url: str) -> None:
    engine = sa.create_engine(empty_db_url)
    try:
        source.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(source.district.insert(), [{"district_code": "KUN", "name": "Kungsholmen"}])
        with pytest.raises(ValueError, match="district"):
            generate(empty_db_url, scale="unit")
        assert scalar(engine, "SELECT COUNT(*) FROM household") == 0
    finally:
        engine.dispose()


def test_rejects_unknown_scale_and_broken_years(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(ValueError, match="skala"):
        generate(url, scale="galaxy")
    with pytest.raises(ValueError, match="obruten"):
        generate(url, years=(2017, 2019))


def test_scales_are_typed_and_sized() -> None:
    assert [d.code for d in SCALES["unit"].districts] == ["KUN", "NOR", "OST"]
    city = SCALES["city"].districts
    assert len(city) == 14 and all(len(d.code) == 3 for d in city)
    assert {"Kungsholmen", "Rinkeby-Kista", "Skärholmen", "Enskede-Årsta-Vantör"} <= {d.name for d in city}
    assert sum(d.recipients for d in city) == 25_228
    national = SCALES["national"].districts
    assert len(national) == 290
    assert (national[0].code, national[0].name, national[-1].code) == ("K0001", "Kommun 0001", "K0290")
    with pytest.raises(AttributeError):
        SCALES["unit"].reference_year = 2020  # frozen


@pytest.mark.slow  # city scale
def test_city_scale_one_year_on_sqlite(tmp_path) -> None:
    """Smoke test: the city (14 districts) for 2018; big enough to see the planted gender gap."""
    url = f"sqlite:///{tmp_path / 'city.db'}"
    started = time.perf_counter()
    counts = generate(url, scale="city", seed=SEED, years=(2018,))
    seconds = time.perf_counter() - started
    engine = sa.create_engine(url)
    try:
        households = scalar(
            engine,
            f"SELECT COUNT(DISTINCT household_id) FROM payment WHERE {year_between('benefit_month', 2018)}",
        )
        rec = recipients_by_district(engine, 2018)
        ratio, avslag_diff = gender_gap(engine)
    finally:
        engine.dispose()
    print(
        f"\nStad 2018 (SQLite): {seconds:.1f} s, {sum(counts.values()):,} rader, {households:,} hushåll, "
        f"{rec.sum():,} mottagare; kvinnor/män beviljat {ratio:.3f}, avslag K−M {100 * avslag_diff:+.1f} pe"
    )
    assert counts["district"] == 14
    assert 12_000 <= households <= 17_000
    assert rec.sum() == pytest.approx(25_228, rel=TOLERANCE)
    assert rec.idxmax() == "RKI"
    assert 0.95 <= ratio <= 0.985
    assert 0.01 <= avslag_diff <= 0.03
