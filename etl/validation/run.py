"""Validation of one run: decide which staged rows the statistics may use (issue 3).

Reads the staged tables, computes each table's derived ``_ok_*`` checks, runs its suite in GX on
its *validation frame* (``frames.TableFrames``: the staged rows plus those checks) and turns the
failed rules into the outcome: rows that fail a row rule go to ``<run>/quarantine/``, the rest
to ``<run>/validated/``, the report to ``<run>/validation.json``; ``ValidationStop`` if a critical
rule failed. The package docstring (``etl.validation``) says what each kind of failure means.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import re
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from etl import source, staging
from etl.extract import TYPE_ERRORS
from etl.periods import TERTIAL_END_MONTH, Period
from etl.settings import Validation, settings
from etl.validation.derived import PARENT_COLUMNS, SEX_HISTORY, derived_checks
from etl.validation.frames import TableFrames, read_pandas
from etl.validation.gx_runner import DATA_DOCS_DIR, GX_DIR, GxRun, raised, result_key
from etl.validation.report import TableReport, ValidationStop, example_keys, message
from etl.validation.suites import (
    CRITICAL,
    ROW,
    TABLE,
    WARNING,
    Rule,
    expectation_parameters,
    python_rule,
    suite_rules,
    table_key,
)

log = logging.getLogger(__name__)

RULE_COLUMN = "_failed_rules"
REPORT = "validation.json"


_RUN_PERIOD = re.compile(r"(\d{4}-T[123])(?![0-9])")
_PERIOD_COLUMNS = {"payment": "benefit_month", "staff_month": "month"}


def infer_period(run: Path, tables: dict[str, pd.DataFrame]) -> Period | None:
    """The run's period: from the run folder's name (the CLI's ``cli__2018-T1``), else the
    tertial holding the latest benefit month of payment or staff_month (extraction stops at the
    period end). Not application's: extraction reads the applications decided in the period,
    whose benefit month may be the month after it."""
    m = _RUN_PERIOD.search(Path(run).name)
    if m:
        return Period.parse(m.group(1))
    months = [
        tables[t][c].max()
        for t, c in _PERIOD_COLUMNS.items()
        if t in tables and c in tables[t] and tables[t][c].notna().any()
    ]
    if not months:
        return None
    last = max(months)
    tertial = next(t for t, end in TERTIAL_END_MONTH.items() if last.month <= end)
    return Period(last.year, tertial)


def _period_columns(run: Path, metas: dict[str, dict]) -> dict[str, pd.DataFrame]:
    """The columns ``infer_period`` reads, for a run folder whose name gives no period."""
    if _RUN_PERIOD.search(run.name):
        return {}
    found = {}
    for table, column in _PERIOD_COLUMNS.items():
        path = staging.table_path(run, staging.RAW, table)
        if table in metas and not metas[table].get("table_missing") and column in pq.read_schema(path).names:
            found[table] = read_pandas(path, [column])
    return found


@dataclass
class _Staged:
    name: str
    meta: dict
    path: Path
    """The raw staged file: GX reads its columns from it (``TableFrames``), and validated/ and
    quarantine/ are its row groups filtered (same schema, so the statistics read the same types)."""
    key: list[str]
    rows: int = field(init=False)
    _keys: pd.DataFrame | None = field(default=None, init=False, repr=False)

    def __post_init__(self):
        self.rows = pq.read_metadata(self.path).num_rows

    def keys(self) -> pd.DataFrame:
        """The key and type-error columns (the report's examples and details), read when first
        asked for: only a table with failed rules needs them (national support_obstacle's key is
        most of its columns, ~300 MB)."""
        if self._keys is None:
            cols = [c for c in pq.read_schema(self.path).names if c in {*self.key, TYPE_ERRORS}]
            self._keys = (
                read_pandas(self.path, cols) if cols else pd.DataFrame(index=pd.RangeIndex(self.rows))
            )
        return self._keys

    def forget(self) -> None:
        self._keys = None


def _read_meta(run: Path, name: str) -> dict | None:
    path = staging.meta_path(run, staging.RAW, name)
    return staging.read_json(path) if path.exists() else None


class _Parents(Mapping):
    """The staged tables other tables' derived checks look up, read each time a check asks, with
    only the columns the checks need (``PARENT_COLUMNS``): nothing of them is held between checks
    (a check asks once; national person and application ids are ~150 MB, read in a fraction of a
    second). ``extra`` (the sex-code history) is given in memory. Not staged, or missing in the
    source: absent."""

    def __init__(self, run: Path, metas: dict[str, dict], extra: dict[str, pd.DataFrame]):
        self.run, self.extra = run, dict(extra)
        self.names = [n for n, m in metas.items() if n in PARENT_COLUMNS and not m.get("table_missing")]

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name in self.extra:
            return self.extra[name]
        if name not in self.names:
            raise KeyError(name)
        path = staging.table_path(self.run, staging.RAW, name)
        present = set(pq.read_schema(path).names)
        return read_pandas(path, [c for c in PARENT_COLUMNS[name] if c in present])

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self.extra, *self.names]))

    def __len__(self) -> int:
        return len(set(self.extra) | set(self.names))


class _Outcome:
    """Failed rules of one table, collected in suite order, then turned into a report."""

    def __init__(self, staged: _Staged, cfg: Validation):
        self.staged, self.cfg = staged, cfg
        self.failed: list[tuple[int, dict, str]] = []  # (order, detail, message)
        self.quarantine = np.zeros(staged.rows, dtype=bool)
        self.reasons: list[tuple[str, np.ndarray]] = []
        self.notes: list[str] = []

    def add(self, rule: Rule, positions: np.ndarray | None = None, detail: str = "") -> None:
        """Record a failed rule; a row-level one quarantines the rows at ``positions``."""
        rows = 0 if positions is None else len(positions)
        examples = []
        if rows:
            examples = example_keys(self.staged.keys(), self.staged.key, positions, self.cfg.examples)
            if rule.level == ROW:
                self.quarantine[positions] = True
                self.reasons.append((rule.label, positions))
        info = {"rule": rule.label, "column": rule.column, "severity": rule.severity, "level": rule.level}
        info.update(rows=rows, examples=examples, expectation=rule.type)
        if detail:
            info["detail"] = detail
        self.failed.append((rule.index, info, message(self.staged.name, rule.label, rows, examples, detail)))

    def report(self) -> TableReport:
        n, quarantined, cfg = self.staged.rows, int(self.quarantine.sum()), self.cfg
        too_many = quarantined > cfg.quarantine.max_share * n and quarantined >= max(
            1, cfg.quarantine.min_rows
        )
        if cfg.quarantine.stop_enabled and too_many:
            share = (
                f"{quarantined} av {n} rader ({quarantined / n:.1%}), gräns {cfg.quarantine.max_share:.1%}"
            )
            self.add(python_rule(10_000, "andel i karantän över gränsen", CRITICAL), detail=share)
        if self.staged.name in cfg.required_tables and n and quarantined == n:
            self.add(python_rule(10_001, "inga godkända rader", CRITICAL))
        name = self.staged.name
        report = TableReport(name, n, n - quarantined, quarantined)
        for _, info, text in sorted(self.failed, key=lambda f: f[0]):
            report.rules.append(info)
            report.failed_rules[info["rule"]] = info["rows"]
            (report.critical if info["severity"] == CRITICAL else report.warnings).append(text)
        report.warnings.extend(self.notes)
        report.status = "stopp" if report.critical else "varning" if report.warnings else "ok"
        return report

    def write(self, run: Path) -> None:
        """validated/ and quarantine/: the staged rows without and with the quarantined ones, read
        a row group at a time (never the whole table) and written in the row groups
        ``pq.write_table`` gives the whole table: the same bytes (tested)."""
        mask, reasons = self.quarantine, np.full(self.staged.rows, "", dtype=object)
        for label, positions in self.reasons:  # vectorised per rule, not per row
            reasons[positions] = reasons[positions] + label + "; "
        source, start, held, written = pq.ParquetFile(self.staged.path), 0, [], 0
        with (
            staging.atomic_path(staging.table_path(run, staging.VALIDATED, self.staged.name)) as tmp,
            pq.ParquetWriter(tmp, source.schema_arrow) as kept,
        ):
            pending = source.schema_arrow.empty_table()
            for group in range(source.num_row_groups):
                rows = source.read_row_group(group)
                part = mask[start : start + rows.num_rows]
                start += rows.num_rows
                if part.any():
                    held.append(rows.filter(pa.array(part)))
                pending = pa.concat_tables([pending, rows.filter(pa.array(~part)) if part.any() else rows])
                while pending.num_rows >= _ROW_GROUP_ROWS:
                    kept.write_table(pending.slice(0, _ROW_GROUP_ROWS))
                    pending, written = pending.slice(_ROW_GROUP_ROWS), written + 1
            if pending.num_rows or not written:  # as write_table: an empty table is one empty group
                kept.write_table(pending)
        quarantined = pa.concat_tables([source.schema_arrow.empty_table(), *held]).append_column(
            RULE_COLUMN, pa.array([r[:-2] for r in reasons[mask]], type=pa.string())
        )
        with staging.atomic_path(staging.table_path(run, staging.QUARANTINE, self.staged.name)) as tmp:
            pq.write_table(quarantined, tmp)


_ROW_GROUP_ROWS = 1024 * 1024
"""Rows per row group ``pq.write_table`` writes by default (Arrow's ``DEFAULT_MAX_ROW_GROUP_LENGTH``)."""


def _validate_table(
    staged: _Staged, tables: _Parents, gx_run: GxRun, params: dict, out: _Outcome
) -> dict | None:
    """Check one table's rules into ``out``; returns GX's (trimmed) results, if GX ran."""
    name, meta = staged.name, staged.meta
    if meta.get("table_missing"):
        optional = name in out.cfg.optional_tables  # the run goes on; its figures say "saknas"
        out.add(python_rule(-2, "tabellen saknas i källan", WARNING if optional else CRITICAL))
        return None
    if meta.get("columns_extra"):
        out.add(
            python_rule(-1, "okända kolumner i källan ignoreras", WARNING),
            None,
            ", ".join(meta["columns_extra"]),
        )
    derived, skipped = derived_checks(name, lambda cols: read_pandas(staged.path, cols), tables)
    frames = TableFrames(staged.path, meta.get("columns_missing", []), derived)
    out.notes += [f"{name}: regeln kunde inte prövas: {s}" for s in skipped]
    missing = set(meta.get("columns_missing", []))
    all_rules = suite_rules(name, gx_run.suites_dir)
    rules = [r for r in all_rules if not (missing & set(r.columns))]
    if missing:
        out.notes.append(f"{name}: {len(all_rules) - len(rules)} regler på saknade kolumner prövades inte")
    result = gx_run.validate(name, frames, rules, params)
    by_key = {result_key(r): r for r in result.results}
    for rule in rules:
        res = by_key[(rule.type, rule.rule, rule.column)]
        error = raised(res)
        if error is not None:  # fail closed: a rule that cannot be checked stops the run
            broken = dataclasses.replace(rule, severity=CRITICAL, level=TABLE)
            out.add(broken, None, f"regeln kunde inte prövas: {error.splitlines()[0][:200]}")
            continue
        if res.success:
            continue
        detail = ""
        if rule.type == "expect_table_columns_to_match_set":
            missing_cols = res.result.get("details", {}).get("mismatched", {}).get("missing", [])
            detail = ", ".join(missing_cols)
        elif rule.type == "expect_table_column_types_to_match":
            wrong = res.result.get("details", {}).get("mismatched", {})
            detail = ", ".join(
                f"{c}: {w['observed']}, väntat {w['expected']}" for c, w in sorted(wrong.items())
            )
        positions = None
        if rule.level == ROW:
            positions = np.asarray(res.result.get("unexpected_index_list") or [], dtype=np.int64)
            if rule.kwargs.get("column") == TYPE_ERRORS and len(positions):
                cols = staged.keys()[TYPE_ERRORS].iloc[positions].str.split(";").explode()
                counts = cols[cols != ""].value_counts().sort_index()
                detail = ", ".join(f"{c}: {k}" for c, k in counts.items())
        out.add(rule, positions, detail)
    return gx_run.store(name, result)


def validate_run(
    run: Path,
    tables: list[str] | None = None,
    *,
    period: Period | str | None = None,
    cfg: Validation | None = None,
    suites_dir: Path | None = None,
    sex_before: pd.DataFrame | None = None,
) -> list[TableReport]:
    """Validate the staged tables; write validated/, quarantine/, ``validation.json``, GX results
    and Data Docs; raise ValidationStop if any critical rule failed.

    ``period`` anchors the date rules; by default it is read from the run folder's name or
    inferred from the staged data (see ``infer_period``). ``sex_before`` (person_id, sex) is
    the sex-code history before this extract; persons whose code changed are rejected.
    """
    run = Path(run)
    cfg = cfg or settings().validation
    names = list(tables or source.TABLES)
    metas = {n: m for n in source.TABLES if (m := _read_meta(run, n)) is not None}
    for n in names:
        if n not in metas:
            raise FileNotFoundError(f"{n}: ingen staging-fil i {run / staging.RAW}")
    frames = _Parents(run, metas, {} if sex_before is None else {SEX_HISTORY: sex_before})
    if isinstance(period, str):
        period = Period.parse(period)
    period = period or infer_period(run, _period_columns(run, metas))
    params = expectation_parameters(period, cfg)
    for old in (run / GX_DIR, run / DATA_DOCS_DIR):  # a rerun in the same folder starts afresh
        shutil.rmtree(old, ignore_errors=True)
    gx_run = GxRun(run, suites_dir, cfg.data_docs)
    reports, gx_results = [], {}
    for name in names:  # one table in memory at a time (its parents' key columns beside it)
        path = staging.table_path(run, staging.RAW, name)
        outcome = _Outcome(_Staged(name, metas[name], path, table_key(name, suites_dir)), cfg)
        gx_json = _validate_table(outcome.staged, frames, gx_run, params, outcome)
        if period is None:
            outcome.notes.append(f"{name}: perioden är okänd; datumregler mot periodens slut prövades inte")
        report = outcome.report()
        outcome.staged.forget()  # reported; the rows are written from the Arrow file, not from here
        # GX leaves reference cycles that hold the frame and its temporaries until the collector
        # happens to run: collected here, so the rows are not read again beside them.
        gc.collect()
        pa.default_memory_pool().release_unused()  # before the rows are read again
        outcome.write(run)
        reports.append(report)
        del outcome  # the table's rows; its report and trimmed GX results are kept
        pa.default_memory_pool().release_unused()  # Arrow keeps freed memory for reuse otherwise
        if gx_json is not None:
            gx_results[name] = gx_json
    for name, data in gx_results.items():
        staging.write_json(run / GX_DIR / f"{name}.json", data)
    staging.write_json(run / REPORT, [asdict(r) for r in reports])
    docs = None
    if cfg.data_docs and gx_run.stored:
        docs = gx_run.build_data_docs()
        log.info("Data Docs: %s", docs)
    critical = [c for r in reports for c in r.critical]
    if critical:
        where = f" Rapport: {run / REPORT}" + (f", Data Docs: {docs}" if docs else "")
        raise ValidationStop("Valideringen stoppade körningen: " + " | ".join(critical) + "." + where)
    return reports
