"""A hand-built validated run for the benchmark's DuckDB baseline (benchmarks/duck.py).

Four households in two districts; the golden figures in tests/test_bench.py are counted by hand
from these rows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from etl import staging

HOUSEHOLD = {"household_id": ["H1", "H2", "H3", "H4"], "district_code": ["A", "A", "B", "B"]}
# H1: leader K, a boy (M) and a person of unknown sex; H2: leader M; H3: leader of unknown sex
# (left out of every figure); H4: leader K, paid only before the period; P9: no household.
PERSON = {
    "household_id": ["H1", "H1", "H1", "H2", "H3", "H4", "H9"],
    "role": ["registerledare", "barn", "medsokande", "registerledare", "registerledare", "registerledare",
             "registerledare"],
    "sex": ["K", "M", None, "M", None, "K", "K"],
}  # fmt: skip
PAYMENT = {
    "household_id": ["H1", "H1", "H1", "H2", "H3", "H4", "H9"],
    "benefit_month": [dt.date(2019, 1, 1), dt.date(2019, 12, 1), dt.date(2018, 12, 1), dt.date(2019, 6, 1),
                      dt.date(2019, 3, 1), dt.date(2018, 11, 1), dt.date(2019, 2, 1)],
    "amount_sek": [Decimal("100.50"), Decimal("200.25"), Decimal("999.00"), Decimal("50.00"),
                   Decimal("10.00"), Decimal("70.00"), Decimal("30.00")],
}  # fmt: skip
TYPES = {"amount_sek": pa.decimal128(12, 2), "benefit_month": pa.date32()}


def write_validated(run: Path) -> dict[str, int]:
    """Write household, person and payment into ``run``/validated; rows per table."""
    rows = {}
    for name, data in (("household", HOUSEHOLD), ("person", PERSON), ("payment", PAYMENT)):
        arrays = {c: pa.array(v, type=TYPES.get(c, pa.string())) for c, v in data.items()}
        path = staging.table_path(run, staging.VALIDATED, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(arrays), path)
        rows[name] = len(next(iter(data.values())))
    return rows
