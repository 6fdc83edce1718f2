"""Validation: decide which staged rows the statistics may use.

Walking-skeleton rules (the Great Expectations suites of issue 3 replace and extend them):
a missing table or column stops the run (critical); a row with a value of the wrong type, a
missing primary key or an id failing its Luhn check is quarantined (row-level). Nothing is
lost: for every table rows read = rows accepted + rows quarantined, and the report says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from etl import source, staging
from etl.extract import LUHN_SUFFIX, TYPE_ERRORS

RULE_COLUMN = "_failed_rules"


class ValidationStop(RuntimeError):
    """A critical rule failed: no statistic, workbook, email or archive may be produced."""


@dataclass
class TableReport:
    table: str
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    critical: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failed_rules: dict[str, int] = field(default_factory=dict)

    def reconciles(self) -> bool:
        return self.rows_read == self.rows_accepted + self.rows_quarantined


def _row_rules(df: pd.DataFrame, name: str) -> dict[str, pd.Series]:
    """Boolean masks, True where a row fails the rule."""
    table = source.TABLES[name]
    rules: dict[str, pd.Series] = {"typ": df[TYPE_ERRORS].notna()}
    for col in table.primary_key.columns:
        rules[f"{col.name}: nyckel saknas"] = df[col.name].isna()
    for col in source.PERSON_ID_COLUMNS.get(name, ()):
        rules[f"{col}: ogiltig kontrollsiffra"] = ~df[col + LUHN_SUFFIX].astype(bool)
    return rules


def validate_table(run: Path, name: str) -> TableReport:
    """Validate one staged table; write its accepted and quarantined rows."""
    meta = staging.read_json(staging.meta_path(run, staging.RAW, name))
    df = staging.read_table(run, staging.RAW, name)
    report = TableReport(name, len(df), 0, 0)
    if meta["table_missing"]:
        report.critical.append(f"{name}: tabellen saknas i källan")
    if meta["columns_missing"]:
        report.critical.append(f"{name}: kolumner saknas i källan: {', '.join(meta['columns_missing'])}")
    if meta["columns_extra"]:
        report.warnings.append(f"{name}: okända kolumner ignoreras: {', '.join(meta['columns_extra'])}")
    failed = pd.Series(False, index=df.index)
    reasons = pd.Series("", index=df.index, dtype="string")
    for rule, mask in _row_rules(df, name).items():
        mask = mask.fillna(True).astype(bool)
        if mask.any():
            report.failed_rules[rule] = int(mask.sum())
            reasons = reasons.mask(mask, reasons + rule + "; ")
            failed |= mask
    accepted, quarantined = df[~failed], df[failed].assign(**{RULE_COLUMN: reasons[failed]})
    staging.table_path(run, staging.VALIDATED, name).parent.mkdir(parents=True, exist_ok=True)
    staging.table_path(run, staging.QUARANTINE, name).parent.mkdir(parents=True, exist_ok=True)
    accepted.to_parquet(staging.table_path(run, staging.VALIDATED, name), index=False)
    quarantined.to_parquet(staging.table_path(run, staging.QUARANTINE, name), index=False)
    report.rows_accepted, report.rows_quarantined = len(accepted), len(quarantined)
    return report


def validate_run(run: Path, tables: list[str] | None = None) -> list[TableReport]:
    """Validate every staged table; write ``validation.json``; raise ValidationStop on critical failures."""
    reports = [validate_table(run, name) for name in (tables or list(source.TABLES))]
    staging.write_json(Path(run) / "validation.json", [asdict(r) for r in reports])
    critical = [c for r in reports for c in r.critical]
    if critical:
        raise ValidationStop("Valideringen stoppade körningen: " + " | ".join(critical))
    return reports


def summary_table(reports: list[TableReport]) -> str:
    """Compact text table for the task log: table, rows, failed rules, quarantined."""
    lines = [f"{'tabell':<18}{'lästa':>10}{'godkända':>10}{'karantän':>10}  regler"]
    for r in reports:
        rules = ", ".join(f"{k} ({v})" for k, v in r.failed_rules.items()) or "-"
        lines.append(f"{r.table:<18}{r.rows_read:>10}{r.rows_accepted:>10}{r.rows_quarantined:>10}  {rules}")
    return "\n".join(lines)
