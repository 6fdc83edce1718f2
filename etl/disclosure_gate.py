"""The disclosure gate: a package whose published figures fail the audit is not e-mailed or archived.

The statistics step writes ``disclosure.json`` beside ``published.csv``: how many cells the
primary rule hid and how many more were hidden to protect them, and which cells are primary (the
sensitive cells the audit must find protected; internal, like statistics.csv, never e-mailed).
The e-mail and archive steps call :func:`require_clean`, which audits the published tables again
(etl.audit) and stops with a Swedish message naming each cell and relation.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from etl import audit
from etl.published import PUBLISHED, read_published
from etl.statistics.comparison import PUBLISHED_COMPARISON as COMPARISON

SUMMARY = "disclosure.json"
_KEY = ["period", "indicator_id", "district_code", "sex"]


def summarize(suppressed: pd.DataFrame, period: str, *others: pd.DataFrame) -> dict:
    """Counts for ``period`` and the sensitive cells of every table (``suppress`` output)."""
    from etl.disclosure import PRIMARY, SUPPRESSED

    mine = suppressed[suppressed["period"].astype(str) == period]
    hidden = mine[SUPPRESSED].astype(bool)
    primary = mine[PRIMARY].astype(bool) & hidden
    sensitive = pd.concat([t.loc[t[PRIMARY].astype(bool), _KEY] for t in (suppressed, *others)])
    return {
        "period": period,
        "primary": int(primary.sum()),
        "secondary": int((hidden & ~primary).sum()),
        "sensitive": sorted(map(list, sensitive.astype(str).drop_duplicates().itertuples(index=False))),
    }


def sensitive_cells(summary: dict) -> set[tuple[str, str, str, str]]:
    return {tuple(cell) for cell in summary.get("sensitive", [])}


def note(summary: dict | None) -> str:
    """The workbook's sentence on over-suppression (plain Swedish)."""
    if not summary:
        return ""
    n, m = summary["primary"], summary["secondary"]
    return (
        f"Perioden: {n} uppgifter döljs för att de vilar på för få personer (grundregeln) och "
        f"{m} till för att de dolda inte ska gå att räkna fram ur totaler och andra uppgifter."
    )


def write_summary(output: Path, summary: dict) -> Path:
    path = Path(output) / SUMMARY
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def read_summary(output: Path) -> dict | None:
    path = Path(output) / SUMMARY
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def check(output: Path) -> audit.AuditResult:
    """The audit of everything the package publishes (the period and its comparison periods)."""
    output = Path(output)
    summary = read_summary(output)
    if summary is None:
        raise audit.DisclosureAuditError(
            f"Röjandegranskningen kan inte göras: {SUMMARY} saknas i {output}. Kör statistiksteget igen."
        )
    tables = [read_published(output / PUBLISHED)]
    earlier = output / COMPARISON
    if earlier.exists():
        tables.append(read_published(earlier))
    return audit.audit(pd.concat(tables, ignore_index=True), sensitive=sensitive_cells(summary))


def require_clean(output: Path, action: str) -> audit.AuditResult:
    """Raise DisclosureAuditError (Swedish, naming cell and relation) unless the audit passes."""
    result = check(output)
    if not result.ok:
        raise audit.DisclosureAuditError(
            f"Paketet {action} inte: en dold uppgift kan räknas fram ur det som visas.\n{result.summary()}\n"
            "Rätta röjandekontrollen (etl/disclosure.py, docs/disclosure.md) och kör statistiksteget igen."
        )
    return result
