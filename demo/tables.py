"""All source tables for one scale, seed and run of years, as DataFrames: :func:`build`.

Each part draws from its own stream spawned from the seed (population, staff, caseload,
programmes, places, survey), so the same arguments give identical rows wherever they are written.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from demo import cases, ledger, programmes, staff
from demo.arrays import Window
from demo.calibration import SCALES, Scale
from demo.parameters import MAX_AGE
from etl import source


def _districts(spec: Scale) -> pd.DataFrame:
    return pd.DataFrame(
        {"district_code": [d.code for d in spec.districts], "name": [d.name for d in spec.districts]}
    )


def _population(spec: Scale, win: Window, rng: np.random.Generator) -> pd.DataFrame:
    """Year × district × sex × age; ``year`` is the count on 31 December of that year."""
    prof = spec.age_profile
    ages = np.arange(MAX_AGE + 1)
    density = np.interp(ages, prof.anchor_ages, prof.anchor_weights)
    female = np.interp(ages, prof.female_ages, prof.female_share)
    p = np.concatenate([density * female, density * (1 - female)])
    years = np.arange(win.years[0] - 1, win.years[-1] + 1)
    base = np.array([d.population for d in spec.districts], dtype=float)
    growth = (1 + spec.population_growth_per_year) ** (years - spec.reference_year)
    totals = np.round(growth[:, None] * base[None, :]).astype(np.int64).ravel()
    counts = rng.multinomial(totals, p / p.sum())
    n_cells, n_d = len(p), len(base)
    return pd.DataFrame(
        {
            "year": np.repeat(years, n_d * n_cells),
            "district_code": np.tile(np.repeat([d.code for d in spec.districts], n_cells), len(years)),
            "sex": np.tile(np.repeat(["K", "M"], len(ages)), len(totals)),
            "age": np.tile(np.tile(ages, 2), len(totals)),
            "count": counts.ravel(),
        }
    )


def build(
    scale: str = "unit", *, seed: int = 2018, years: tuple[int, ...] = (2017, 2018, 2019)
) -> dict[str, pd.DataFrame]:
    """All source tables as DataFrames (column order as in :mod:`etl.source`), without writing."""
    if scale not in SCALES:
        raise ValueError(f"Okänd skala {scale!r}: välj en av {', '.join(SCALES)}.")
    years = tuple(sorted({int(y) for y in years}))
    if not years or years != tuple(range(years[0], years[-1] + 1)):
        raise ValueError(f"År måste vara en obruten följd, t.ex. (2017, 2018, 2019); fick {years!r}.")
    spec = SCALES[scale]
    win = Window(years)
    # One independent stream per part, so tuning e.g. the staff model leaves the caseload as it was.
    population_rng, staff_rng, case_rng, programme_rng, place_rng, survey_rng = np.random.default_rng(
        seed
    ).spawn(6)
    ledger_rng = np.random.default_rng([seed, 7])  # its own stream: the other tables stay as they were
    tables: dict[str, pd.DataFrame] = {
        "district": _districts(spec),
        "population": _population(spec, win, population_rng),
    }
    tables["staff"], tables["staff_month"] = staff.staff(spec, win, staff_rng)
    caseload = cases.caseload(spec, win, tables["staff"], tables["staff_month"], case_rng)
    tables.update(
        household=caseload.household,
        person=caseload.person,
        application=caseload.application,
        payment=caseload.payment,
        support_obstacle=caseload.support_obstacle,
        intervention=programmes.interventions(spec, win, caseload.persons_extra, programme_rng),
        job_place=programmes.job_places(spec, win, place_rng),
        indicator_input=staff.indicator_inputs(spec, win, tables["staff"], survey_rng),
        booked_cost=ledger.booked_costs(win, ledger_rng, [d.code for d in spec.districts]),
    )
    return {name: tables[name][[c.name for c in table.columns]] for name, table in source.TABLES.items()}

