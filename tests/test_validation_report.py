"""The report (etl.validation.report): deterministic, round-trips through validation.json, log table."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl import staging
from etl.validation.report import TableReport, summary_table
from etl.validation.run import validate_run
from tests.support.validation import cfg, households, payment, stage


@pytest.fixture
def run(tmp_path) -> Path:
    return tmp_path / "cli__2018-T1"  # the period comes from the run folder, like a CLI run


def test_report_is_deterministic_and_round_trips(run):
    stage(run, "household", households("H1"))
    stage(run, "payment", [payment("P1"), payment("P2", amount=-1.0)])
    first = validate_run(run, ["payment", "household"], cfg=cfg())
    files = sorted(p for p in run.rglob("*.json") if "raw" not in p.parts)
    before = {p: p.read_bytes() for p in files}
    assert validate_run(run, ["payment", "household"], cfg=cfg()) == first
    assert {p: p.read_bytes() for p in files} == before
    saved = staging.read_json(run / "validation.json")
    assert [TableReport(**r) for r in saved] == first
    text = (run / "gx" / "payment.json").read_text(encoding="utf-8")
    assert '"id"' not in text and "ge_load_time" not in text and "1970-01-01" in text
    table = summary_table(first)
    assert "payment" in table and "amount_sek: negativt belopp (1)" in table and "varning" in table
