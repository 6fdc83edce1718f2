"""Seeded synthetic source data: the whole source contract, filled so the reports show known figures.

Nothing here is real. Every table in :mod:`etl.source` is written with realistic, fully
deterministic content: ``numpy.random.default_rng(seed)`` spawns one independent stream per part
(population, staff, caseload, programmes, places, survey), so the same arguments give identical
rows on SQLite and PostgreSQL. ``generate(url, scale=..., seed=..., years=...)`` refuses to write
into a database whose source tables already hold data; ``build(...)`` returns the DataFrames.

Scales (``SCALES``, frozen dataclasses; every calibration number lives there)
------------------------------------------------------------------------------
- ``unit``: Försörjningsstödsenheten, districts KUN Kungsholmen, NOR Norrmalm, OST Östermalm.
- ``city``: Stockholm's 14 stadsdelsområden (≈14,000 households, ≈25,000 recipients a year).
- ``national``: 290 synthetic municipalities K0001 … K0290 ("Kommun 0001" …), ≈200,000
  households and ≈1.5 million payments a year; for benchmarks, not for tests.

Calibration (reference year 2017; what the unit scale reproduces)
------------------------------------------------------------------
- Recipients (persons incl. children in households with a payment for a benefit month in the
  year): KUN 310, NOR 312, OST 260 = 0.4 / 0.4 / 0.3 % of the population (Kolada N31807:
  inhabitants on 31 December of the same year; ``population.year`` is that 31 December, rows
  exist from the year before the first year). Households are simulated with 25 % oversupply and
  thinned at random until the reference year's persons reach the target, so 2017 lands within a
  few persons; later years follow a −3 %/year inflow trend. Population KUN 77,000, NOR 78,000,
  OST 86,000 in 2017, +1 %/year, children ≈18 %.
- Household types (Socialstyrelsen 1, 3–9): ≈68 % single adults without children (3, 5), single
  parents (4 rare, 6 common), couples (7, 8), a few 1 (all members under 18, so the
  registerledare is 16–17 years old) and 9 (unknown). Spells last ≈22 months on average (half
  are long-term: ≥10 months, mean 40), so many households carry over between years;
  ≈7 assistance months per household and year. Need is rescaled so the reference year's mean
  granted per household and month is exactly 9,135 SEK (Stockholm 2017), +2 %/year after.
  Östermalm pays 1.5 × that (``District.payout_level``, applied after the rescaling), so that
  its payouts meet its own budget line (plan 2018: ekonomiskt bistånd 15.4 mnkr): every 2018
  tertial within ±15 % of the period's budget (tests/test_demo_budget.py).
- Applications: one per household and month applied for (4 % of spell months skipped);
  received 14 days before to 20 days after the first of the benefit month, decided ≈7 days later
  (median); still pending (decision, decided_on, granted_sek NULL) when the decision would fall
  after the last day of data. ≈10 % avslag (granted 0), 15 % delvis_bifall, else bifall.
  Payments: one per granted application, 12 % split in two, 1 % manual (application_id NULL);
  payments dated after the last day of data are not yet in the extract.
- Försörjningshinder (``support_obstacle.code``, ``OBSTACLES``), one per adult (registerledare,
  medsökande) and benefit month, Socialstyrelsen's main groups: ``arbetslos_utan_ersattning``
  (arbetslös utan, med otillräcklig eller i väntan på ersättning), ``arbetslos_etablering``
  (arbetslös med etableringsersättning), ``sjukskriven``, ``sociala_skal``, ``foraldraledig``,
  ``otillracklig_inkomst`` (arbetar med otillräcklig inkomst), ``studerande``, ``ovrigt``.
  ``sjukskriven`` and ``sociala_skal`` dominate ("socialmedicinska arbetshinder").
- Programmes (``intervention``) per year: Stockholmsjobb aspirants 18 (KUN 6, NOR 7, OST 5),
  praktik 40 (20/15/5), AR-rehab for ≈10 % of active households with ≈28 % of ended spells
  going to egen/annan försörjning (target ≥25 %), a few OSA, feriejobb for 16–17-year-olds.
  ``job_place``: feriejobb 696 (250/200/246, offered February–May, 10 % in June) and
  Stockholmsjobb 75 (20/40/15), ±3 %. Other scales scale these with recipients/population.
- Staff: 32 employed on 31 December of the middle year (4 men, 28 women; managers ≥35), all
  three age bands, a few joining and leaving. Sick leave ≈7 % of scheduled hours (spells
  are stratified per year, so even 32 staff stay within ≈5.5–9 %), day 1–14 ≈1.8 %, and long
  spells reaching day 60+ (≈25 % of sick hours).
  Survey indices ≈83/80/84/78 per year (T, K, M consistent by headcount) and e-purchasing
  ≈65 % per tertial (plan 2018 targets).
- Ids: person_id is a synthetic personnummer YYYYMMDDNNNC (11th digit odd for men, Luhn check
  digit; ≈3 % samordningsnummer with day + 60); household H0000001, application AP000000001,
  payment P000000001, intervention I0000001, job place J0000001, staff A0001.

PLANTED GENDER DIFFERENCE (``GenderGap``; what analysts should find)
--------------------------------------------------------------------
For single-adult households (types 3 and 4 = men, 5 and 6 = women), within the same stratum
(with/without children × the registerledare's försörjningshinder that month × year):

- granted amounts for women are ``women_granted_factor`` = 0.965 × those for men (−3.5 %);
- the avslag probability is ``men_avslag_share`` = 9.0 % for men and 9.0 + ``women_extra_avslag``
  (2.0) = 11.0 % for women (+2 percentage points).

Children, rent level (household factor), obstacle mix, delvis share and handling time are drawn
from the same distributions for both sexes. Compare within strata: a naive comparison across
types 3–6 is confounded, because women are far more often single parents (type 6 ≫ 4), whose
need is higher. Couples (7, 8) and types 1 and 9 carry no planted difference. At unit scale the
ratio is estimated only to about ±2 %, at city scale to about ±1 %.

Command line: ``python -m demo --db URL [--scale unit|city|national] [--seed N]``. Layout:
:mod:`demo.calibration` (published reference values, ``SCALES``), :mod:`demo.parameters` (model
parameters), :mod:`demo.tables` (``build``), :mod:`demo.households`, :mod:`demo.cases`,
:mod:`demo.staff`, :mod:`demo.programmes`, :mod:`demo.write` (``generate``). Production code
(``etl``, ``reports``) never imports this package.
"""

from demo.arrays import personnummer
from demo.calibration import SCALES, District, Scale
from demo.parameters import GenderGap
from demo.tables import build
from demo.write import generate

__all__ = ["SCALES", "District", "GenderGap", "Scale", "build", "generate", "personnummer"]
