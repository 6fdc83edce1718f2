"""A hand-built validated run for the benchmark's DuckDB baseline (benchmarks/duck.py).

Six households in two districts; the golden figures in tests/test_bench.py are counted by hand
from these rows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from etl import staging

D, T = dt.date, dt.datetime
HOUSEHOLD = {
    "household_id": ["H1", "H2", "H3", "H4", "H5", "H6"],
    "district_code": ["A", "A", "B", "B", "B", "A"],
    "household_type": [6, 3, 5, 5, 1, 5],
}
# H1: leader K, a boy (M) and a person of unknown sex; H2: leader M; H3: leader of unknown sex
# (left out of every eb_ figure); H4: leader K, paid only before the period; H5 (a couple
# household, not single-adult): leader M, an adult K who turns 18 on the last day of P, a boy
# who turns 18 the day after, a girl and an adult of unknown sex; paid for 10 distinct months of
# 2019 (long-term); H6: leader K, paid for 9 distinct months of 2019 (not long-term); P7: no
# household.
PERSON = {
    "person_id": [f"P{i}" for i in range(1, 14)],
    "household_id": ["H1", "H1", "H1", "H2", "H3", "H4", "H9", "H5", "H5", "H5", "H5", "H5", "H6"],
    "role": ["registerledare", "barn", "medsokande", "registerledare", "registerledare", "registerledare",
             "registerledare", "registerledare", "barn", "medsokande", "barn", "medsokande",
             "registerledare"],
    "sex": ["K", "M", None, "M", None, "K", "K", "M", "K", "K", "M", None, "K"],
    "birth_date": [D(1985, 5, 5), D(2012, 1, 1), D(1987, 1, 1), D(1970, 1, 1), D(1960, 1, 1), D(1990, 1, 1),
                   D(1975, 1, 1), D(1980, 2, 2), D(2010, 6, 6), D(2001, 12, 31), D(2002, 1, 1),
                   D(1990, 1, 1), D(1995, 3, 3)],
}  # fmt: skip
_TEN = Decimal("10.00")
PAYMENT = {
    "household_id": ["H1", "H1", "H1", "H2", "H3", "H4", "H9"] + ["H5"] * 11 + ["H6"] * 11,
    "benefit_month": [D(2019, 1, 1), D(2019, 12, 1), D(2018, 12, 1), D(2019, 6, 1), D(2019, 3, 1),
                      D(2018, 11, 1), D(2019, 2, 1)]
    + [D(2019, m, 1) for m in range(1, 11)] + [D(2019, 3, 1)]  # H5: 10 months, March twice
    + [D(2018, 12, 1)] + [D(2019, m, 1) for m in range(1, 10)] + [D(2019, 5, 1)],  # H6: 9 in 2019
    "amount_sek": [Decimal("100.50"), Decimal("200.25"), Decimal("999.00"), Decimal("50.00"),
                   Decimal("10.00"), Decimal("70.00"), Decimal("30.00")] + [_TEN] * 22,
}  # fmt: skip
# Decisions (the gender analysis): A1, A2 (the last day of P) and A3 (after P) for P1 (K, H1);
# A4 avslag, A5 bifall and A6 bifall without an amount for P4 (M, H2); A7 in a couple household;
# A8 for P5 (unknown sex, H3); A9 without a decision, A10 not decided, A11 by an applicant not in
# person, A12 decided before P.
APPLICATION = {
    "application_id": [f"A{i}" for i in range(1, 13)],
    "household_id": ["H1", "H1", "H1", "H2", "H2", "H2", "H5", "H3", "H6", "H6", "H6", "H4"],
    "applicant_id": ["P1", "P1", "P1", "P4", "P4", "P4", "P8", "P5", "P13", "P13", "PX", "P6"],
    "decided_on": [T(2019, 3, 10), T(2019, 12, 31), T(2020, 1, 1), T(2019, 5, 5), T(2019, 6, 1),
                   T(2019, 7, 1), T(2019, 2, 1), T(2019, 8, 8), T(2019, 4, 1), None, T(2019, 4, 1),
                   T(2018, 12, 31)],
    "decision": ["bifall", "delvis_bifall", "bifall", "avslag", "bifall", "bifall", "bifall", "bifall", None,
                 "bifall", "bifall", "bifall"],
    "granted_sek": [1000.0, 500.5, 7000.0, None, 800.0, None, 5000.0, 300.0, 100.0, 100.0, 100.0, 100.0],
}  # fmt: skip
TYPES = {
    "amount_sek": pa.decimal128(12, 2),
    "benefit_month": pa.date32(),
    "birth_date": pa.date32(),
    "decided_on": pa.timestamp("ms"),
    "granted_sek": pa.float64(),
    "household_type": pa.int64(),
}
TABLES = {"household": HOUSEHOLD, "person": PERSON, "payment": PAYMENT, "application": APPLICATION}


def write_validated(run: Path) -> dict[str, int]:
    """Write the tables into ``run``/validated; rows per table."""
    rows = {}
    for name, data in TABLES.items():
        arrays = {c: pa.array(v, type=TYPES.get(c, pa.string())) for c, v in data.items()}
        path = staging.table_path(run, staging.VALIDATED, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(arrays), path)
        rows[name] = len(next(iter(data.values())))
    return rows
