"""Validation of one run: decide which staged rows the statistics may use (issue 3).

Reads the staged tables, builds each table's *validation frame* (``validation_frame``: the staged
rows plus the derived ``_ok_*`` checks), runs its suite in GX and turns the failed rules into the
outcome: rows that fail a row rule go to ``<run>/quarantine/``, the rest to ``<run>/validated/``,
the report to ``<run>/validation.json``; ``ValidationStop`` if a critical rule failed. The
package docstring (``etl.validation``) says what each kind of failure means.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import re
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
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
from etl.validation.gx_runner import DATA_DOCS_DIR, GX_DIR, GxRun, raised, result_key
from etl.validation.report import TableReport, ValidationStop, example_keys, message
from etl.validation.suites import (
    CRITICAL,
    NS_MAX,
    NS_MIN,
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


def validation_frame(
    name: str, df: pd.DataFrame, meta: dict, tables: dict[str, pd.DataFrame]
) -> tuple[pd.DataFrame, list[str]]:
    """The staged rows as GX sees them: missing source columns dropped, derived checks added,
    dates as datetime64[ns] (clipped to its range), a RangeIndex (GX's row indices = positions)."""
    # The derived checks first: their temporaries are gone before the dates are copied.
    derived, skipped = derived_checks(name, df.reset_index(drop=True), tables)
    frame = df.drop(columns=[c for c in meta.get("columns_missing", []) if c in df.columns])
    frame = frame.reset_index(drop=True)
    for col in frame.columns:
        if isinstance(frame[col].dtype, np.dtypes.DateTime64DType) and frame[col].dtype != "datetime64[ns]":
            frame[col] = frame[col].clip(NS_MIN, NS_MAX).astype("datetime64[ns]")
    if derived:
        frame = pd.concat([frame, pd.DataFrame(derived, index=frame.index)], axis=1)
    return frame, skipped


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
            found[table] = _to_pandas(pq.read_table(path, columns=[column]))
    return found


_NULLABLE = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype(), pa.string(): pd.StringDtype()}


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """The contract's pandas types: nullable Int64/boolean/string whatever the nulls
    (``pd.read_parquet`` would give float64 for an integer column with a null)."""
    return table.to_pandas(types_mapper=_NULLABLE.get)


@dataclass
class _Staged:
    name: str
    df: pd.DataFrame
    """The raw staged rows in the contract's pandas types (``_to_pandas``); once the validation
    frame is built, only their key and type-error columns."""
    meta: dict
    path: Path
    """The raw staged file: validated/ and quarantine/ are row subsets of it, read again as Arrow
    when they are written (same schema, so the statistics read the same types). Not kept in
    memory beside the pandas copy: at national scale that would double the largest table."""

    def table(self) -> pa.Table:
        return pq.read_table(self.path)


def _read_meta(run: Path, name: str) -> dict | None:
    path = staging.meta_path(run, staging.RAW, name)
    return staging.read_json(path) if path.exists() else None


def _read_staged(run: Path, name: str, meta: dict) -> _Staged:
    path = staging.table_path(run, staging.RAW, name)
    table = pq.read_table(path)
    # self_destruct: each Arrow column is freed once converted (the table is not used again).
    df = table.to_pandas(types_mapper=_NULLABLE.get, self_destruct=True, split_blocks=True)
    del table
    pa.default_memory_pool().release_unused()  # the Arrow table's pages, before the checks run
    return _Staged(name, df, meta, path)


class _Parents(Mapping):
    """The staged tables other tables' derived checks look up, read on first use with only the
    columns they need (``PARENT_COLUMNS``): one table is validated at a time, so a national run
    never holds every table whole. Not staged, or missing in the source: absent."""

    def __init__(self, run: Path, metas: dict[str, dict], extra: dict[str, pd.DataFrame]):
        self.run, self.loaded = run, dict(extra)
        self.names = [n for n, m in metas.items() if n in PARENT_COLUMNS and not m.get("table_missing")]

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.loaded:
            if name not in self.names:
                raise KeyError(name)
            path = staging.table_path(self.run, staging.RAW, name)
            present = set(pq.read_schema(path).names)
            columns = [c for c in PARENT_COLUMNS[name] if c in present]
            self.loaded[name] = _to_pandas(pq.read_table(path, columns=columns))
        return self.loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self.loaded, *self.names]))

    def __len__(self) -> int:
        return len(set(self.loaded) | set(self.names))


class _Outcome:
    """Failed rules of one table, collected in suite order, then turned into a report."""

    def __init__(self, staged: _Staged, cfg: Validation, suites_dir: Path | None = None):
        self.staged, self.cfg = staged, cfg
        self.key = table_key(staged.name, suites_dir)
        self.failed: list[tuple[int, dict, str]] = []  # (order, detail, message)
        self.quarantine = np.zeros(len(staged.df), dtype=bool)
        self.reasons: list[tuple[str, np.ndarray]] = []
        self.notes: list[str] = []

    def add(self, rule: Rule, positions: np.ndarray | None = None, detail: str = "") -> None:
        """Record a failed rule; a row-level one quarantines the rows at ``positions``."""
        rows = 0 if positions is None else len(positions)
        examples = []
        if rows:
            examples = example_keys(self.staged.df, self.key, positions, self.cfg.examples)
            if rule.level == ROW:
                self.quarantine[positions] = True
                self.reasons.append((rule.label, positions))
        info = {"rule": rule.label, "column": rule.column, "severity": rule.severity, "level": rule.level}
        info.update(rows=rows, examples=examples, expectation=rule.type)
        if detail:
            info["detail"] = detail
        self.failed.append((rule.index, info, message(self.staged.name, rule.label, rows, examples, detail)))

    def report(self) -> TableReport:
        n, quarantined, cfg = len(self.staged.df), int(self.quarantine.sum()), self.cfg
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
        table, mask = self.staged.table(), self.quarantine
        reasons = np.full(len(table), "", dtype=object)
        for label, positions in self.reasons:  # vectorised per rule, not per row
            reasons[positions] = reasons[positions] + label + "; "
        quarantined = table.filter(pa.array(mask)).append_column(
            RULE_COLUMN, pa.array([r[:-2] for r in reasons[mask]], type=pa.string())
        )
        # A table without quarantined rows is written as read: the same bytes as filtering it
        # with an all-true mask (tested), without a copy of the largest tables.
        kept = table.filter(pa.array(~mask)) if mask.any() else table
        for stage, part in ((staging.VALIDATED, kept), (staging.QUARANTINE, quarantined)):
            with staging.atomic_path(staging.table_path(run, stage, self.staged.name)) as tmp:
                pq.write_table(part, tmp)


def _validate_table(
    staged: _Staged, tables: dict[str, pd.DataFrame], gx_run: GxRun, params: dict, out: _Outcome
) -> dict | None:
    """Check one table's rules into ``out``; returns GX's (trimmed) results, if GX ran."""
    name, meta, df = staged.name, staged.meta, staged.df
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
    frame, skipped = validation_frame(name, df, meta, tables)
    # From here on the staged rows give only example keys and type-error details: the other
    # columns are dropped, so dates are not held twice (GX sees datetime64[ns] copies).
    staged.df = df = df[[c for c in df.columns if c in {*out.key, TYPE_ERRORS}]]
    out.notes += [f"{name}: regeln kunde inte prövas: {s}" for s in skipped]
    missing = set(meta.get("columns_missing", []))
    all_rules = suite_rules(name, gx_run.suites_dir)
    rules = [r for r in all_rules if not (missing & set(r.columns))]
    if missing:
        out.notes.append(f"{name}: {len(all_rules) - len(rules)} regler på saknade kolumner prövades inte")
    result = gx_run.validate(name, frame, rules, params)
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
                cols = df[TYPE_ERRORS].iloc[positions].str.split(";").explode()
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
        outcome = _Outcome(_read_staged(run, name, metas[name]), cfg, suites_dir)
        gx_json = _validate_table(outcome.staged, frames, gx_run, params, outcome)
        if period is None:
            outcome.notes.append(f"{name}: perioden är okänd; datumregler mot periodens slut prövades inte")
        report = outcome.report()
        outcome.staged.df = None  # reported; the rows are written from the Arrow file, not from here
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
