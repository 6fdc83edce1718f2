"""The validation report: one ``TableReport`` per table, its Swedish messages and the log table.

``<run>/validation.json`` is the list of ``TableReport``s (``dataclasses.asdict``), read back with
``TableReport(**entry)``. Messages name table, rule, rows and example keys (pseudonyms only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from etl.validation.suites import CRITICAL


class ValidationStop(RuntimeError):
    """A critical rule failed: no statistic, workbook, email or archive may be produced.

    The message ends with what to do, so the log, the CLI and the operators' alert all say it.
    """

    ACTION = (
        "Gör så här: be förvaltaren av källsystemet rätta uppgifterna i tabellerna ovan och kör sedan om "
        "perioden – i Airflow Trigger med parametern period (eller Clear på hela körningen så att källan "
        "läses in på nytt), utan Airflow `python -m etl run --period …`."
    )

    def __str__(self) -> str:
        return f"{super().__str__()} {self.ACTION}"


@dataclass
class TableReport:
    table: str
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    critical: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failed_rules: dict[str, int] = field(default_factory=dict)
    status: str = "ok"
    """ok, varning (warnings only) or stopp (at least one critical failure)."""
    rules: list[dict] = field(default_factory=list)
    """Every failed rule: rule, column, severity, level (rad/tabell), rows, examples, expectation."""

    def reconciles(self) -> bool:
        return self.rows_read == self.rows_accepted + self.rows_quarantined


def _fmt(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "NULL"
    if isinstance(value, pd.Timestamp):
        return "NaT" if pd.isna(value) else value.date().isoformat()
    return str(value)


def example_keys(df: pd.DataFrame, key: list[str], positions: np.ndarray, n: int) -> list[str]:
    """Keys (pseudonymised ids) of the first ``n`` failing rows, in staging order."""
    cols = [k for k in key if k in df.columns]
    if not cols or n <= 0:
        return [f"rad {int(p) + 1}" for p in positions[:n]]
    rows = df.iloc[np.sort(positions)[:n]][cols]
    return ["/".join(_fmt(v) for v in rec) for rec in rows.itertuples(index=False, name=None)]


def message(table: str, label: str, rows: int | None, examples: list[str], detail: str = "") -> str:
    text = f"{table}.{label}" if ": " in label else f"{table}: {label}"
    if detail:
        text += f" ({detail})"
    if rows:
        text += f": {rows} {'rad' if rows == 1 else 'rader'}"
        if examples:
            text += ", t.ex. " + ", ".join(examples)
    return text


def summary_table(reports: list[TableReport]) -> str:
    """Compact text table for the task log: table, rows, failed rules, quarantined."""
    lines = [f"{'tabell':<18}{'lästa':>10}{'godkända':>10}{'karantän':>10}  {'status':<8} regler"]
    for r in reports:
        parts = []
        for info in r.rules or [{"rule": k, "rows": v, "severity": ""} for k, v in r.failed_rules.items()]:
            mark = "!" if info.get("severity") == CRITICAL else ""
            parts.append(f"{mark}{info['rule']}" + (f" ({info['rows']})" if info.get("rows") else ""))
        counts = f"{r.rows_read:>10}{r.rows_accepted:>10}{r.rows_quarantined:>10}"
        lines.append(f"{r.table:<18}{counts}  {r.status:<8} {', '.join(parts) or '-'}")
    lines.append("! = kritisk regel; (n) = antal rader")
    return "\n".join(lines)
