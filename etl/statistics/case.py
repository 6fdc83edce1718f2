"""Case statistics: the eb_, am_ and ar_ indicators and the reported (indicator_input) values.

Every indicator yields one row per scope (district code or ``ALL``) × sex (T, K, M), zero rows
included, so a missing figure is never confused with a zero. config/catalogue.yml gives each
definition and its source.

Everything is vectorised. Each counted entity (person, household, household-month,
intervention) belongs to exactly one district and one sex, so figures are first summed per
district × sex and the margins (T, ALL) are sums of those few cells.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from etl.periods import Period
from etl.settings import Catalogue, settings
from etl.settings.catalogue import HOUSEHOLD_TYPES
from etl.statistics import unit_goals
from etl.statistics.frames import min_nonzero, ratio, sort_rows
from etl.vocabulary import ALL, BASIS, NOT_INDIVIDUAL, PERSONS, RULE, SEXES, require_columns

# Definitions (config/catalogue.yml). They define the indicators, so they are not settings.
ADULT_AGE = 18
"""Age (completed years at the end of P) from which a person counts as an adult."""
LONG_TERM_WINDOW_MONTHS = 12
LONG_TERM_MIN_MONTHS = 10
"""Långvarigt bistånd (Socialstyrelsen): payments for >= 10 distinct months of the last 12."""
SELF_SUPPORT = ("egen_forsorjning", "annan_forsorjning")
"""Outcomes of an ended ar_rehab intervention that count as going to (own or other) support."""
PLACES = {"feriejobb": "am_feriejobb_platser", "stockholmsjobb": "am_stockholmsjobb_platser"}
"""job_place.kind -> indicator id (places, not persons: sex T only)."""

REQUIRED = {
    "household": ("household_id", "district_code", "household_type"),
    "person": ("person_id", "household_id", "role", "sex", "birth_date"),
    "payment": ("household_id", "benefit_month", "amount_sek"),
    "population": ("year", "district_code", "sex", "age", "count"),
    "intervention": ("person_id", "kind", "started_on", "ended_on", "outcome"),
    "job_place": ("kind", "district_code", "offered_on"),
    "indicator_input": ("indicator_id", "year", "tertial", "district_code", "sex", "value"),
}
"""Validated tables and columns the case statistics read."""


def population_year(period: Period) -> int:
    """The population the shares divide by: the year before P's, the latest known at report time."""
    return period.year - 1


# --- helpers -------------------------------------------------------------------------------


def _between(dates: pd.Series, start, end_exclusive) -> pd.Series:
    """start <= date < end_exclusive; missing dates are outside."""
    return (dates >= pd.Timestamp(start)) & (dates < pd.Timestamp(end_exclusive))


def _age_at(birth: pd.Series, day) -> pd.Series:
    """Completed years on ``day`` (a person born on ``day`` 18 years earlier is 18)."""
    not_yet = (birth.dt.month > day.month) | ((birth.dt.month == day.month) & (birth.dt.day > day.day))
    return (day.year - birth.dt.year - not_yet.astype("int64")).astype("float64")


def _cells(
    df: pd.DataFrame,
    values: list[str],
    districts: list[str],
    key: str | None = None,
    keys: Iterable = (),
) -> pd.DataFrame:
    """Sum ``values`` per [key ×] district × sex with T and ALL margins, over the full grid (zeros).

    Each row of ``df`` is one entity of one district and sex (K/M; missing sex counts in T
    only), so the margins are sums of the district × sex cells.
    """
    by = [*([key] if key else []), "district_code", "sex"]
    fine = df.groupby(by, dropna=False, sort=False)[values].sum().reset_index()
    fine = pd.concat([fine[fine["sex"].notna()], fine.assign(sex="T")], ignore_index=True)
    fine = pd.concat([fine, fine.assign(district_code=ALL)], ignore_index=True)
    sums = fine.groupby(by)[values].sum()
    levels = [pd.Index([*districts, ALL], dtype=object), pd.Index(SEXES, dtype=object)]
    grid = pd.MultiIndex.from_product([list(keys), *levels] if key else levels, names=by)
    return sums.reindex(grid, fill_value=0).astype("float64")


def _indicator(
    indicator_id: str,
    unit: str,
    value: pd.Series,
    basis: pd.Series,
    numerator: pd.Series | None = None,
    denominator: pd.Series | None = None,
    rule: str = PERSONS,
) -> pd.DataFrame:
    """Rows of one indicator from Series indexed by (district_code, sex)."""
    n = len(value)
    missing = np.full(n, np.nan)
    return pd.DataFrame(
        {
            "indicator_id": np.full(n, indicator_id, dtype=object),
            "district_code": np.asarray(value.index.get_level_values("district_code"), dtype=object),
            "sex": np.asarray(value.index.get_level_values("sex"), dtype=object),
            "numerator": missing if numerator is None else numerator.to_numpy(dtype="float64"),
            "denominator": missing if denominator is None else denominator.to_numpy(dtype="float64"),
            "value": value.to_numpy(dtype="float64"),
            "unit": np.full(n, unit, dtype=object),
            BASIS: basis.to_numpy(dtype="float64").astype("int64"),
            RULE: np.full(n, rule, dtype=object),
        }
    )


def _count(indicator_id: str, n: pd.Series, unit: str = "antal") -> pd.DataFrame:
    """A count of persons or households: the figure rests on itself."""
    return _indicator(indicator_id, unit, n, basis=n, numerator=n)


def _population_share(indicator_id: str, n: pd.Series, population: pd.Series) -> pd.DataFrame:
    """Persons / population × 100; the population does not identify anyone: basis = numerator."""
    return _indicator(
        indicator_id, "procent", ratio(n, population, 100), basis=n, numerator=n, denominator=population
    )


def _positions(ids: pd.Series, table: str, key: pd.Series) -> np.ndarray:
    """Row of ``key`` (a table's primary key) for each id, -1 where unknown."""
    index = pd.Index(key)
    if not index.is_unique:
        raise ValueError(f"Statistiken kan inte beräknas: {key.name} i tabellen {table} är inte unik.")
    return index.get_indexer(ids)


def _take(values: np.ndarray, positions: np.ndarray, missing=None) -> np.ndarray:
    """values[positions], with ``missing`` where the position is -1 (unknown key)."""
    out = values[np.where(positions >= 0, positions, 0)] if len(values) else np.full(len(positions), missing)
    return np.where(positions >= 0, out, missing)


# --- the case indicators ---------------------------------------------------------------------


def case_statistics(
    tables: Mapping[str, pd.DataFrame],
    period: Period,
    districts: list[str],
    catalogue: Catalogue | None = None,
) -> pd.DataFrame:
    """Every case indicator (eb_*, am_*, ar_*, passthrough) for ``period``, without ``period``.

    ``tables`` are validated staging tables; person figures are split by the person's sex,
    household figures by the registerledare's sex; a person's district is the household's.
    Keys are turned into row positions once, so the work is numpy indexing and small groupbys.
    """
    require_columns(tables, REQUIRED)
    start, end_x = period.start, period.end_exclusive

    # Households: district, type and the registerledare's sex, by row position.
    household, person = tables["household"], tables["person"]
    hh_district = household["district_code"].to_numpy(dtype=object)
    hh_type = household["household_type"].to_numpy(dtype="float64", na_value=np.nan)
    p_hh = _positions(person["household_id"], "household", household["household_id"])
    p_sex = person["sex"].to_numpy(dtype=object)
    leader = person["role"].isin(["registerledare"]).to_numpy() & (p_hh >= 0)
    hh_sex = np.full(len(household), None, dtype=object)
    hh_sex[p_hh[leader]] = p_sex[leader]

    # Persons (of a known household): district and type of the household, sex, age at end of P.
    members = pd.DataFrame(
        {
            "hh": p_hh,
            "district_code": _take(hh_district, p_hh),
            "household_type": _take(hh_type, p_hh, np.nan),
            "sex": p_sex,
            "age": _age_at(person["birth_date"], period.end).to_numpy(),
        }
    )
    members = members[members["hh"] >= 0]

    payment = tables["payment"]
    pay = pd.DataFrame(
        {
            "hh": _positions(payment["household_id"], "household", household["household_id"]),
            "benefit_month": payment["benefit_month"].to_numpy(),
            "kr": payment["amount_sek"].to_numpy(dtype="float64", na_value=np.nan),
        }
    )
    # A household whose registerledare was quarantined (validated staging has no leader, so no
    # sex) is left out of every figure: counted in T but in neither K nor M, T − K − M would
    # reveal it and its kronor. Its members' person rows leave with it (paid_in_p below).
    known = pd.notna(hh_sex)
    rows = pay["hh"].to_numpy()
    pay = pay[(rows >= 0) & known[np.where(rows >= 0, rows, 0)]]  # one copy of the payments, not two
    paid = pay[_between(pay["benefit_month"], start, end_x)]
    per_hh = paid.groupby("hh").agg(kr=("kr", "sum"), months=("benefit_month", "nunique")).reset_index()
    per_hh = _household_columns(per_hh, hh_district, hh_type, hh_sex)
    del paid

    paid_in_p = np.zeros(len(household), dtype=bool)
    paid_in_p[per_hh["hh"].to_numpy()] = True
    recipients = members[paid_in_p[members["hh"].to_numpy()]]
    recipients = recipients.assign(n=1, child=(recipients["age"] < ADULT_AGE).astype("int64"))

    pop = tables["population"]
    pop = pop[pop["year"].astype("float64") == population_year(period)]
    count, age = pop["count"].astype("float64").fillna(0), pop["age"].astype("float64")
    pop = pd.DataFrame(
        {
            "district_code": pop["district_code"].to_numpy(dtype=object),
            "sex": pop["sex"].to_numpy(dtype=object),
            "total": count.to_numpy(),
            "child": count.where(age < ADULT_AGE, 0).to_numpy(),
            "adult": count.where(age >= ADULT_AGE, 0).to_numpy(),
        }
    )
    population = _cells(pop, ["total", "child", "adult"], districts)

    rec = _cells(recipients, ["n", "child"], districts)
    hh = _cells(per_hh, ["n", "kr", "months"], districts)
    parts = [
        _count("eb_mottagare", rec["n"]),
        _population_share("eb_andel_befolkning", rec["n"], population["total"]),
        _population_share("eb_andel_barn", rec["child"], population["child"]),
        _population_share(
            "eb_langvarigt_vuxna", _long_term_adults(pay, members, period, districts), population["adult"]
        ),
        _count("eb_hushall", hh["n"]),
        _indicator("eb_utbetalt_kr", "kr", hh["kr"], basis=hh["n"], numerator=hh["kr"]),
        _indicator(
            "eb_kr_per_hushallsmanad",
            "kr",
            ratio(hh["kr"], hh["months"]),
            basis=hh["n"],
            numerator=hh["kr"],
            denominator=hh["months"],
        ),  # fmt: skip
        *_by_household_type(per_hh, recipients, districts),
        *_monthly(pay, (hh_district, hh_sex), period, districts),
        *_interventions(tables["intervention"], person, members, period, districts),
        *_places(tables["job_place"], period, districts),
        _passthrough(tables["indicator_input"], period, catalogue or settings().catalogue),
        *([unit_goals.social_share(tables, period, districts)] if "support_obstacle" in tables else []),
    ]
    return sort_rows(pd.concat(parts, ignore_index=True))


def _household_columns(
    frame: pd.DataFrame, hh_district: np.ndarray, hh_type: np.ndarray, hh_sex: np.ndarray
) -> pd.DataFrame:
    """Add district, type and registerledare's sex (``sex``) by household position ``hh``; n = 1."""
    rows = frame["hh"].to_numpy()
    return frame.assign(district_code=hh_district[rows], household_type=hh_type[rows], sex=hh_sex[rows], n=1)


def _long_term_adults(
    pay: pd.DataFrame, members: pd.DataFrame, period: Period, districts: list[str]
) -> pd.Series:
    """Adults in households paid for >= 10 distinct benefit months in the 12 ending with P."""
    window_start = pd.Timestamp(period.end_exclusive) - pd.DateOffset(months=LONG_TERM_WINDOW_MONTHS)
    window = pay[_between(pay["benefit_month"], window_start, period.end_exclusive)]
    months = window.groupby("hh")["benefit_month"].nunique()
    long_term = months.index[months >= LONG_TERM_MIN_MONTHS]
    adults = members[members["hh"].isin(long_term) & (members["age"] >= ADULT_AGE)]
    return _cells(adults.assign(n=1), ["n"], districts)["n"]


def _by_household_type(
    per_hh: pd.DataFrame, recipients: pd.DataFrame, districts: list[str]
) -> list[pd.DataFrame]:
    hh = _cells(per_hh, ["n"], districts, "household_type", HOUSEHOLD_TYPES)["n"]
    rec = _cells(recipients, ["n"], districts, "household_type", HOUSEHOLD_TYPES)["n"]
    return [
        frame
        for t in HOUSEHOLD_TYPES
        for frame in (_count(f"eb_hushall_typ_{t}", hh.xs(t)), _count(f"eb_mottagare_typ_{t}", rec.xs(t)))
    ]


def _monthly(
    pay: pd.DataFrame, attributes: tuple[np.ndarray, np.ndarray], period: Period, districts: list[str]
) -> list[pd.DataFrame]:
    """Paid and households per benefit month: P's months and the same months a year earlier.

    Month by month: each household's payments summed (in their row order), then those sums per
    district × sex of the household (in household order), grouped on integer codes. The same sums
    to the bit as grouping every household-month with its district and sex as text, without a
    copy of the national year's household-months (~0.3 GB) or a hash table of them."""
    years = (period.year - 1, period.year)
    months = [pd.Timestamp(y, m, 1) for y in years for m in range(1, period.months + 1)]
    district, district_names = pd.factorize(attributes[0], use_na_sentinel=False)
    sex, sex_names = pd.factorize(attributes[1], use_na_sentinel=False)
    cell_of = district * len(sex_names) + sex  # per household
    month_at = pd.Index(months).get_indexer(pay["benefit_month"])  # -1: not one of the months
    by_month = np.argsort(month_at, kind="stable")
    bounds = np.searchsorted(month_at[by_month], np.arange(len(months) + 1))
    hh, kr = pay["hh"].to_numpy(), pay["kr"].to_numpy()
    sums = []
    for at, (first, stop) in enumerate(itertools.pairwise(bounds)):
        rows = by_month[first:stop]
        per_household = pd.Series(kr[rows]).groupby(hh[rows]).sum()
        by_cell = per_household.groupby(cell_of[per_household.index.to_numpy()], sort=False)
        sums.append(by_cell.agg(kr="sum", n="size").rename_axis("cell").reset_index().assign(key=at))
    frame = pd.concat(sums, ignore_index=True)
    code = frame.pop("cell").to_numpy()
    frame["district_code"] = np.asarray(district_names, dtype=object)[code // len(sex_names)]
    frame["sex"] = np.asarray(sex_names, dtype=object)[code % len(sex_names)]
    cells = _cells(frame, ["kr", "n"], districts, "key", range(len(months)))
    parts = []
    for at, month in enumerate(months):
        c = cells.xs(at)
        suffix = f"{month.year}{month.month:02d}"
        paid = _indicator(f"eb_utbetalt_kr_manad_{suffix}", "kr", c["kr"], basis=c["n"], numerator=c["kr"])
        parts += [paid, _count(f"eb_hushall_manad_{suffix}", c["n"])]
    return parts


def _interventions(
    intervention: pd.DataFrame,
    person: pd.DataFrame,
    members: pd.DataFrame,
    period: Period,
    districts: list[str],
) -> list[pd.DataFrame]:
    """Stockholmsjobb aspirants, praktik and AR outcomes; person's sex, household's district."""
    iv = pd.DataFrame(
        {
            "person": _positions(intervention["person_id"], "person", person["person_id"]),
            "kind": intervention["kind"].to_numpy(dtype=object),
            "started_on": intervention["started_on"].to_numpy(),
            "ended_on": intervention["ended_on"].to_numpy(),
            "ok": intervention["outcome"].isin(SELF_SUPPORT).to_numpy().astype("int64"),
        }
    )
    # members' index is the person's row position in ``person``.
    iv = iv.merge(members[["district_code", "sex"]], left_on="person", right_index=True)
    started = iv[_between(iv["started_on"], period.start, period.end_exclusive)]
    keys = ["person", "district_code", "sex"]

    aspirants = started[started["kind"] == "stockholmsjobb"].drop_duplicates("person")
    n_asp = _cells(aspirants.assign(n=1), ["n"], districts)["n"]

    praktik = started[started["kind"] == "praktik"].groupby(keys).size().rename("k").reset_index()
    prak = _cells(praktik.assign(n=1), ["k", "n"], districts)

    ended = iv[(iv["kind"] == "ar_rehab") & _between(iv["ended_on"], period.start, period.end_exclusive)]
    per = ended.assign(all=1).groupby(keys)[["ok", "all"]].sum().reset_index()
    per = per.assign(n_all=1, n_ok=(per["ok"] > 0).astype("int64"))
    ar = _cells(per, ["ok", "all", "n_ok", "n_all"], districts)
    return [
        _count("am_stockholmsjobb_aspiranter", n_asp),
        _indicator("am_praktik", "antal", prak["k"], basis=prak["n"], numerator=prak["k"]),
        _indicator(
            "ar_till_forsorjning",
            "procent",
            ratio(ar["ok"], ar["all"], 100),
            basis=min_nonzero(ar["n_ok"], ar["n_all"]),
            numerator=ar["ok"],
            denominator=ar["all"],
        ),  # fmt: skip
    ]


def _places(job_place: pd.DataFrame, period: Period, districts: list[str]) -> list[pd.DataFrame]:
    """Places offered in P by the place's district; not individual-based, so sex T only."""
    offered = job_place[_between(job_place["offered_on"], period.start, period.end_exclusive)]
    offered = pd.DataFrame(
        {
            "kind": offered["kind"].to_numpy(dtype=object),
            "district_code": offered["district_code"].to_numpy(dtype=object),
            "sex": None,
            "n": 1,
        }
    )
    cells = _cells(offered, ["n"], districts, "kind", PLACES)["n"]
    parts = []
    for kind, indicator_id in PLACES.items():
        n = cells.xs(kind)
        n = n[n.index.get_level_values("sex") == "T"]
        parts.append(_indicator(indicator_id, "antal", n, basis=n * 0, numerator=n, rule=NOT_INDIVIDUAL))
    return parts


def _passthrough(indicator_input: pd.DataFrame, period: Period, catalogue: Catalogue) -> pd.DataFrame:
    """indicator_input rows for P's tertial, and annual rows (no tertial) in T3, as they come."""
    year = indicator_input["year"].astype("float64") == period.year
    tertial = indicator_input["tertial"].astype("float64")
    chosen = year & ((tertial == period.tertial) | (tertial.isna() & (period.tertial == 3)))
    rows = indicator_input.loc[chosen, ["indicator_id", "district_code", "sex", "value"]]
    rows = rows.assign(district_code=rows["district_code"].fillna(ALL))

    reported = {e.id: e for e in catalogue if e.computed_by == "input"}
    ids = rows["indicator_id"].drop_duplicates()
    computed = ids[ids.map(lambda i: (e := catalogue.entry_for(i)) is not None and e.computed_by != "input")]
    if len(computed):
        raise ValueError(
            "indicator_input: indikatorn " + ", ".join(sorted(computed)) + " beräknas av statistiken och "
            "kan inte också läsas in; ta bort raderna i källan."
        )
    unknown = ids[~ids.isin(list(reported)) & ~ids.isin(computed)]
    if len(unknown):
        raise ValueError(
            "indicator_input: okänd indikator " + ", ".join(sorted(unknown)) + " (finns inte i "
            "config/catalogue.yml som inrapporterad); lägg till den där eller rätta källan."
        )
    dup = rows.duplicated(["indicator_id", "district_code", "sex"], keep=False)
    if dup.any():
        twice = sorted(rows.loc[dup, "indicator_id"].unique())
        raise ValueError(
            "indicator_input: " + ", ".join(twice) + f" har flera värden för {period} (samma område och "
            "kön, både tertial- och årsvärde?); behåll ett i källan."
        )
    n = len(rows)
    return pd.DataFrame(
        {
            "indicator_id": rows["indicator_id"].to_numpy(dtype=object),
            "district_code": rows["district_code"].to_numpy(dtype=object),
            "sex": rows["sex"].to_numpy(dtype=object),
            "numerator": np.full(n, np.nan),
            "denominator": np.full(n, np.nan),
            "value": rows["value"].to_numpy(dtype="float64", na_value=np.nan),
            "unit": rows["indicator_id"].map({i: e.unit for i, e in reported.items()}).to_numpy(dtype=object),
            BASIS: np.zeros(n, dtype="int64"),
            RULE: np.full(n, NOT_INDIVIDUAL, dtype=object),
        }
    )
