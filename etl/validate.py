"""Validation: decide which staged rows the statistics may use (issue 3).

The rules are Great Expectations suites, one JSON file per source table in ``expectations/``
(GX 1.x format; each expectation's ``meta`` carries ``severity`` and a short Swedish ``rule``).
They run against an in-memory *validation frame*: the staged table (minus the columns the
source lacked, so schema drift is visible to GX) plus boolean ``_ok_*`` columns that pandas
computes, vectorised, for the rules GX cannot express on one table (references between
tables, one registerledare per household, first-of-month dates, ...).

What a failure means:

* **Row-level rules** (column map expectations: not null, in set, between, unique, column
  pairs, compound keys, the ``_ok_*`` flags) quarantine the failing rows: they are written to
  ``<run>/quarantine/<table>.parquet`` with the rule(s) in ``_failed_rules`` and kept out of
  ``<run>/validated/``. A *warning* rule lets the run continue; a *critical* one (a key that is
  not unique: the export itself is broken) stops it.
* **Table-level rules** (columns present, staged types, row count, and the Python checks
  below) quarantine nothing: *critical* stops the run, *warning* is recorded.
* Python checks in the same format: the table is missing in the source (critical), the source
  has columns the contract does not know (warning), the quarantined share of a table is above
  ``config/validation.yml``'s limit (critical), a required table has no accepted row (critical).

Nothing is lost: for every table rows read = rows accepted + rows quarantined. The report
(``<run>/validation.json``) is deterministic; GX's own results go to ``<run>/gx/<table>.json``
(trimmed, without ids or wall-clock times) and are rendered as Data Docs in ``<run>/data_docs/``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from etl import source, staging
from etl.extract import TYPE_ERRORS
from etl.periods import TERTIAL_END_MONTH, Period
from etl.settings import Validation as ValidationConfig
from etl.settings import settings

log = logging.getLogger(__name__)

RULE_COLUMN = "_failed_rules"
EXPECTATIONS_DIR = Path(__file__).resolve().parent.parent / "expectations"
GX_DIR = "gx"
DATA_DOCS_DIR = "data_docs"
REPORT = "validation.json"
SEX_HISTORY = "_person_sex_before"
"""Key under which derived checks see the persons' sex codes before this extract (etl.sex_history)."""

CRITICAL, WARNING = "critical", "warning"
ROW, TABLE = "rad", "tabell"

ROW_LEVEL_TYPES = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_unique",
        "expect_column_values_to_match_regex",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_pair_values_to_be_equal",
        "expect_compound_columns_to_be_unique",
        "expect_multicolumn_sum_to_equal",
        "expect_select_column_values_to_be_unique_within_record",
    }
)
"""Column map expectations: GX returns the failing rows, which are quarantined."""

# pandas cannot hold datetime64[ns] outside these bounds; GX compares dates vectorised only
# in [ns] (other units go through a per-row Python map), so the validation frame clips to them.
# Every bound in the suites lies inside, so a clipped date compares exactly like the original.
_NS_MIN, _NS_MAX = pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31")
_PARTIAL = 20  # unexpected values/indices kept per rule in GX's stored results and Data Docs


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
    status: str = "ok"
    """ok, varning (warnings only) or stopp (at least one critical failure)."""
    rules: list[dict] = field(default_factory=list)
    """Every failed rule: rule, column, severity, level (rad/tabell), rows, examples, expectation."""

    def reconciles(self) -> bool:
        return self.rows_read == self.rows_accepted + self.rows_quarantined


# --------------------------------------------------------------------------------------------
# Suites


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite, with what the report needs to say about it."""

    index: int
    type: str
    kwargs: dict
    severity: str
    rule: str
    column: str
    level: str

    @property
    def label(self) -> str:
        return f"{self.column}: {self.rule}" if self.column else self.rule

    @property
    def columns(self) -> list[str]:
        """Frame columns the expectation reads (to skip it when the source lacks one)."""
        kw = self.kwargs
        cols = [kw[k] for k in ("column", "column_A", "column_B") if k in kw]
        return cols + list(kw.get("column_list", ()))


def _rule_column(expectation: dict) -> str:
    meta, kw = expectation.get("meta", {}), expectation["kwargs"]
    if "column" in meta:
        return meta["column"]
    if "column" in kw:
        return kw["column"]
    if "column_list" in kw:
        return ", ".join(kw["column_list"])
    return ", ".join(kw[k] for k in ("column_A", "column_B") if k in kw)


@cache
def _suite_file(path: str, mtime_ns: int) -> dict:
    del mtime_ns  # cache key only: an edited file is read again
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load_suite(table: str, directory: Path | None = None) -> dict:
    """The suite JSON of ``table``, checked: every expectation has a severity and a unique rule."""
    path = Path(directory or EXPECTATIONS_DIR) / f"{table}.json"
    suite = _suite_file(str(path), path.stat().st_mtime_ns)
    seen: set[str] = set()
    for i, exp in enumerate(suite["expectations"]):
        rule = suite_rule(i, exp)
        if rule.severity not in (CRITICAL, WARNING):
            raise ValueError(f"{path}: regel {i} saknar severity critical/warning")
        if rule.label in seen:
            raise ValueError(f"{path}: regeln {rule.label!r} förekommer två gånger")
        seen.add(rule.label)
    return suite


def suite_rule(index: int, expectation: dict) -> Rule:
    meta = expectation.get("meta", {})
    return Rule(
        index=index,
        type=expectation["type"],
        kwargs=expectation["kwargs"],
        severity=meta.get("severity", ""),
        rule=meta.get("rule", expectation["type"]),
        column=_rule_column(expectation),
        level=ROW if expectation["type"] in ROW_LEVEL_TYPES else TABLE,
    )


def suite_rules(table: str, directory: Path | None = None) -> list[Rule]:
    return [suite_rule(i, e) for i, e in enumerate(load_suite(table, directory)["expectations"])]


def table_key(table: str, directory: Path | None = None) -> list[str]:
    """Columns that identify a row in messages: the primary key, else the suite's natural key."""
    pk = [c.name for c in source.TABLES[table].primary_key.columns]
    return pk or list(load_suite(table, directory)["meta"].get("key", []))


# --------------------------------------------------------------------------------------------
# Derived row checks (pandas, vectorised): True where the row passes. Null inputs pass; the
# not-null rules report them. A check whose parent table is not staged is not evaluated.


class _NotStaged(LookupError):
    pass


@dataclass
class _Ctx:
    tables: dict[str, pd.DataFrame]

    def parent(self, name: str) -> pd.DataFrame:
        if name not in self.tables:
            raise _NotStaged(name)
        return self.tables[name]


def _exists(values: pd.Series, keys: pd.Series) -> np.ndarray:
    """Null, or found among ``keys``. In Arrow: pandas' ``isin`` on string columns converts the
    key set one Python object at a time (20 s for a national payment table's application ids)."""
    arr = pa.array(values, from_pandas=True)
    key_set = pc.unique(pa.array(keys, from_pandas=True).drop_null()).cast(arr.type)
    found = pc.is_in(arr, value_set=key_set).to_numpy(zero_copy_only=False).astype(bool)
    return found | values.isna().to_numpy(dtype=bool)


def _first_of_month(col: str) -> Callable[[pd.DataFrame, _Ctx], np.ndarray]:
    return lambda df, ctx: (df[col].isna() | (df[col].dt.day == 1)).to_numpy(dtype=bool)


def _refers(col: str, parent: str, parent_col: str) -> Callable[[pd.DataFrame, _Ctx], np.ndarray]:
    return lambda df, ctx: _exists(df[col], ctx.parent(parent)[parent_col])


def _one_registerledare(df: pd.DataFrame, ctx: _Ctx) -> np.ndarray:
    person = ctx.parent("person")
    leaders = person.loc[person["role"].eq("registerledare").fillna(False).astype(bool), "household_id"]
    leaders = leaders.value_counts()
    n = df["household_id"].map(leaders).fillna(0)
    return (df["household_id"].isna() | (n == 1)).to_numpy(dtype=bool)


def _sex_changed(person: pd.DataFrame, ctx: _Ctx) -> np.ndarray:
    """True where a person's sex code differs from the history before this extract."""
    before = ctx.tables.get(SEX_HISTORY)
    if before is None or before.empty:
        return np.zeros(len(person), dtype=bool)
    earlier = person["person_id"].map(before.drop_duplicates("person_id").set_index("person_id")["sex"])
    changed = earlier.notna() & person["sex"].notna() & person["sex"].ne(earlier)
    return changed.fillna(False).to_numpy(dtype=bool)


def _sex_as_before(df: pd.DataFrame, ctx: _Ctx) -> np.ndarray:
    return ~_sex_changed(df, ctx)


def _registerledare_sex_as_before(df: pd.DataFrame, ctx: _Ctx) -> np.ndarray:
    person = ctx.parent("person")
    leader = person["role"].eq("registerledare").fillna(False).to_numpy(dtype=bool)
    changed = person.loc[leader & _sex_changed(person, ctx), "household_id"].dropna()
    return ~_exists(df["household_id"], changed) | df["household_id"].isna().to_numpy(dtype=bool)


def _applicant_one_household(df: pd.DataFrame, ctx: _Ctx) -> np.ndarray:
    keys = ["applicant_id", "benefit_month"]
    households = df.groupby(keys, dropna=True)["household_id"].transform("nunique")
    return (households.isna() | (households <= 1)).to_numpy(dtype=bool)


def _decision_complete(df: pd.DataFrame, ctx: _Ctx) -> np.ndarray:
    decided = df["decided_on"].notna()
    return ((df["decision"].notna() == decided) & (df["granted_sek"].notna() == decided)).to_numpy(dtype=bool)


def _outcome_when_ended(df: pd.DataFrame, ctx: _Ctx) -> np.ndarray:
    return (df["outcome"].isna() | df["ended_on"].notna()).to_numpy(dtype=bool)


def _within_employment(df: pd.DataFrame, ctx: _Ctx) -> np.ndarray:
    staff = ctx.parent("staff")[["staff_id", "employed_from", "employed_to"]]
    staff = staff.dropna(subset=["staff_id"]).drop_duplicates("staff_id")
    employment = df[["staff_id"]].merge(staff, on="staff_id", how="left")  # keeps df's row order
    start, end = employment["employed_from"].to_numpy(), employment["employed_to"].to_numpy()
    start, end = pd.Series(start, index=df.index), pd.Series(end, index=df.index)
    month_end = df["month"] + pd.offsets.MonthEnd(0)
    hours = (df["scheduled_hours"].fillna(0) > 0) | (df["sick_hours"].fillna(0) > 0)
    outside = (end.notna() & (df["month"] > end)) | (start.notna() & (month_end < start))
    return (~(hours & outside.fillna(False))).to_numpy(dtype=bool)


DERIVED: dict[str, dict[str, Callable[[pd.DataFrame, _Ctx], np.ndarray]]] = {
    "population": {"_ok_district_exists": _refers("district_code", "district", "district_code")},
    "household": {
        "_ok_district_exists": _refers("district_code", "district", "district_code"),
        "_ok_one_registerledare": _one_registerledare,
        "_ok_registerledare_sex_as_before": _registerledare_sex_as_before,
    },
    "person": {
        "_ok_household_exists": _refers("household_id", "household", "household_id"),
        "_ok_sex_as_before": _sex_as_before,
    },
    "application": {
        "_ok_first_of_month": _first_of_month("benefit_month"),
        "_ok_decision_complete": _decision_complete,
        "_ok_household_exists": _refers("household_id", "household", "household_id"),
        "_ok_applicant_exists": _refers("applicant_id", "person", "person_id"),
        "_ok_applicant_one_household": _applicant_one_household,
    },
    "payment": {
        "_ok_first_of_month": _first_of_month("benefit_month"),
        "_ok_household_exists": _refers("household_id", "household", "household_id"),
        "_ok_application_exists": _refers("application_id", "application", "application_id"),
    },
    "support_obstacle": {
        "_ok_first_of_month": _first_of_month("benefit_month"),
        "_ok_person_exists": _refers("person_id", "person", "person_id"),
    },
    "intervention": {
        "_ok_outcome_when_ended": _outcome_when_ended,
        "_ok_person_exists": _refers("person_id", "person", "person_id"),
    },
    "job_place": {"_ok_district_exists": _refers("district_code", "district", "district_code")},
    "staff_month": {
        "_ok_first_of_month": _first_of_month("month"),
        "_ok_staff_exists": _refers("staff_id", "staff", "staff_id"),
        "_ok_within_employment": _within_employment,
    },
    "indicator_input": {"_ok_district_exists": _refers("district_code", "district", "district_code")},
}


def derived_checks(name: str, df: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> tuple[dict, list[str]]:
    """The ``_ok_*`` columns of ``name``; and the checks that could not be evaluated."""
    ctx, out, skipped = _Ctx(tables), {}, []
    for col, fn in DERIVED.get(name, {}).items():
        try:
            out[col] = fn(df, ctx)
        except _NotStaged as exc:
            out[col] = np.ones(len(df), dtype=bool)
            skipped.append(f"{col} (tabellen {exc.args[0]} finns inte i staging)")
    return out, skipped


def validation_frame(
    name: str, df: pd.DataFrame, meta: dict, tables: dict[str, pd.DataFrame]
) -> tuple[pd.DataFrame, list[str]]:
    """The staged rows as GX sees them: missing source columns dropped, derived checks added,
    dates as datetime64[ns] (clipped to its range), a RangeIndex (GX's row indices = positions)."""
    frame = df.drop(columns=[c for c in meta.get("columns_missing", []) if c in df.columns])
    frame = frame.reset_index(drop=True)
    for col in frame.columns:
        if isinstance(frame[col].dtype, np.dtypes.DateTime64DType) and frame[col].dtype != "datetime64[ns]":
            frame[col] = frame[col].clip(_NS_MIN, _NS_MAX).astype("datetime64[ns]")
    derived, skipped = derived_checks(name, df.reset_index(drop=True), tables)
    if derived:
        frame = pd.concat([frame, pd.DataFrame(derived, index=frame.index)], axis=1)
    return frame, skipped


# --------------------------------------------------------------------------------------------
# Period and parameters


_RUN_PERIOD = re.compile(r"(\d{4}-T[123])(?![0-9])")


def infer_period(run: Path, tables: dict[str, pd.DataFrame]) -> Period | None:
    """The run's period: from the run folder's name (the CLI's ``cli__2018-T1``), else the
    tertial holding the latest benefit month in staging (extraction stops at the period end)."""
    m = _RUN_PERIOD.search(Path(run).name)
    if m:
        return Period.parse(m.group(1))
    months = [
        tables[t][c].max()
        for t, c in [("payment", "benefit_month"), ("application", "benefit_month"), ("staff_month", "month")]
        if t in tables and c in tables[t] and tables[t][c].notna().any()
    ]
    if not months:
        return None
    last = max(months)
    tertial = next(t for t, end in TERTIAL_END_MONTH.items() if last.month <= end)
    return Period(last.year, tertial)


def _iso(day: dt.date) -> str:
    return dt.datetime.combine(day, dt.time()).isoformat()


def expectation_parameters(period: Period | None, cfg: ValidationConfig) -> dict[str, Any]:
    """Values for the suites' ``$PARAMETER``s."""
    if period is None:  # nothing to anchor dates to: only the contract's outer bounds apply
        end, year = _NS_MAX.date(), None
        max_fact = max_any = end
    else:
        end, year = period.end, period.year
        max_fact = end + dt.timedelta(days=cfg.dates.fact_days_after_period_end)
        max_any = dt.date(end.year + cfg.dates.max_years_after_period_end, end.month, end.day)
    young, old = cfg.staff_age
    return {
        "earliest_date": _iso(cfg.dates.earliest),
        "max_fact_date": _iso(max_fact),
        "max_any_date": _iso(max_any),
        "max_payment_sek": cfg.amounts.max_payment_sek,
        "min_birth_year": (year - old) if year else 1800,
        "max_birth_year": (year - young) if year else 2262,
    }


# --------------------------------------------------------------------------------------------
# Great Expectations


@cache
def _gx():
    """Import GX lazily (slow; the DAG file must stay light), analytics off."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)  # its import logs at INFO
    import great_expectations as gx

    return gx


@cache
def _custom_expectations() -> tuple[type, ...]:
    """Register our own expectations with GX (once per process).

    ``expect_table_column_types_to_match``: every listed column that exists has exactly this
    pandas dtype (``str(dtype)``: Int64, float64, boolean, string, datetime64[ns]). One metric
    per table instead of one ``expect_column_values_to_be_of_type`` per column (each of which
    resolves the column types again), and exact: GX's ``type_="str"`` also accepts ``object``.
    Missing columns are left to ``expect_table_columns_to_match_set``.
    """
    _gx()
    from typing import ClassVar

    from great_expectations.expectations.expectation import BatchExpectation

    class ExpectTableColumnTypesToMatch(BatchExpectation):
        column_types: dict[str, str]

        metric_dependencies: ClassVar[tuple[str, ...]] = ("table.column_types",)
        success_keys: ClassVar[tuple[str, ...]] = ("column_types",)
        args_keys: ClassVar[tuple[str, ...]] = ("column_types",)

        def _validate(self, metrics: dict, runtime_configuration=None, execution_engine=None):
            actual = {c["name"]: str(c["type"]) for c in metrics["table.column_types"]}
            wrong = {
                col: {"expected": dtype, "observed": actual[col]}
                for col, dtype in self.column_types.items()
                if col in actual and actual[col] != dtype
            }
            observed = {col: actual[col] for col in self.column_types if col in actual}
            return {
                "success": not wrong,
                "result": {"observed_value": observed, "details": {"mismatched": wrong}},
            }

    return (ExpectTableColumnTypesToMatch,)


def _key(type_: str, kwargs: dict, meta: dict) -> tuple[str, str, str]:
    """Identifies an expectation within a suite (labels are unique per suite)."""
    return type_, meta.get("rule", type_), _rule_column({"kwargs": kwargs, "meta": meta})


class _GxRun:
    """One ephemeral GX context per validation run."""

    def __init__(self, run: Path, suites_dir: Path | None, data_docs: bool):
        gx = _gx()
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        self.run = Path(run)
        self.suites_dir = suites_dir
        self.data_docs = data_docs
        # In memory, and without GX's default docs site in a temporary folder: ours goes in the run.
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
        )
        self.context = gx.get_context(mode="ephemeral", project_config=config)
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        # One asset and batch definition for every table: each add_* call re-serialises the
        # context's whole configuration, which would cost more than validating a small table.
        self.batches = (
            self.context.data_sources.add_pandas("staging")
            .add_dataframe_asset("staged_table")
            .add_batch_definition_whole_dataframe("whole_table")
        )
        # Fixed name and time: the archived Data Docs must not change with the Airflow run id or
        # the clock, or an identical re-run could not be recognised as identical.
        self.run_id = RunIdentifier(run_name="validering", run_time=dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
        self.stored: list = []

    def validate(self, name: str, frame: pd.DataFrame, rules: list[Rule], params: dict):
        """Validate ``frame`` against the suite's ``rules``; returns GX's suite result.

        Two passes: every expectation with BOOLEAN_ONLY (a third of the cost of COMPLETE on
        small tables), then only the failed ones again with COMPLETE for their row indices (the
        quarantine) and observed values. No ``unexpected_index_column_names``: with them GX looks
        each failing row up one by one (minutes on a national table); the validation frame's
        index is the row position, and keys are looked up here instead.
        """
        from great_expectations.core import ExpectationSuite

        _custom_expectations()
        suite_json = load_suite(name, self.suites_dir)
        expectations = [{**suite_json["expectations"][r.index], "severity": r.severity} for r in rules]
        suite = ExpectationSuite(name=name, expectations=expectations, meta=suite_json.get("meta", {}))
        if self.data_docs:  # the suite's own page in Data Docs; validating does not need it stored
            suite = self.context.suites.add(suite)
        batch = self.batches.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(
            suite, result_format={"result_format": "BOOLEAN_ONLY"}, expectation_parameters=params
        )
        failed = {
            _key(r.expectation_config.type, r.expectation_config.kwargs, r.expectation_config.meta)
            for r in result.results
            if not r.success
        }
        if failed:
            again = ExpectationSuite(
                name=name,
                expectations=[
                    e for e in expectations if _key(e["type"], e["kwargs"], e.get("meta", {})) in failed
                ],
            )
            detail = batch.validate(
                again, result_format={"result_format": "COMPLETE"}, expectation_parameters=params
            )
            by_key = {
                _key(r.expectation_config.type, r.expectation_config.kwargs, r.expectation_config.meta): r
                for r in detail.results
            }
            result.results = [
                by_key.get(
                    _key(r.expectation_config.type, r.expectation_config.kwargs, r.expectation_config.meta), r
                )
                for r in result.results
            ]
        order = {(r.type, r.rule, r.column): r.index for r in rules}  # GX orders by its metric graph
        result.results.sort(
            key=lambda r: order[
                _key(r.expectation_config.type, r.expectation_config.kwargs, r.expectation_config.meta)
            ]
        )
        return result

    def store(self, name: str, result) -> dict:
        """Trim the result (ids, wall-clock, long lists) for the JSON file and Data Docs."""
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        for r in result.results:
            for key in ("unexpected_list", "unexpected_index_list"):
                if isinstance(r.result.get(key), list):
                    r.result[key] = r.result[key][:_PARTIAL]
            r.result.pop("unexpected_index_query", None)
        result.meta.get("batch_markers", {}).pop("ge_load_time", None)
        result.meta["run_id"] = self.run_id
        if self.data_docs:
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=name),
                run_id=self.run_id,
                batch_identifier=name,
            )
            self.context.validation_results_store.set(key, result)
            self.stored.append(key)
        return _strip_ids(result.to_json_dict())

    def build_data_docs(self) -> Path:
        site = self.run / DATA_DOCS_DIR
        self.context.add_data_docs_site(
            "run",
            {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        self.context.build_data_docs(site_names=["run"])
        _strip_build_time(site)
        _add_static_index(site)
        return site / "index.html"


_BUILD_STAMP = re.compile(r"\?d=\d{8}T\d{6}\.\d+Z")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _add_static_index(site: Path) -> None:
    """Add a plain list of every suite and validation page to the index.

    GX's index builds its tables with scripts from public CDNs, so on a closed network, or when
    the archive is opened years later, it lists nothing; this list needs no script or network.
    """
    index = site / "index.html"

    def links(folder: str) -> str:
        pages = sorted(p.relative_to(site).as_posix() for p in (site / folder).rglob("*.html"))
        return "".join(f'<li><a href="{page}">{Path(page).stem}</a></li>' for page in pages)

    section = (
        '<section id="eb-static-index" style="margin:1em">'
        "<h2>Valideringsresultat</h2><ul>" + links("validations") + "</ul>"
        "<h2>Förväntningssviter (expectation suites)</h2><ul>" + links("expectations") + "</ul></section>"
    )
    page = index.read_text(encoding="utf-8")
    index.write_text(
        re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + section, page, count=1), encoding="utf-8"
    )


def _renumber_uuids(text: str) -> str:
    numbers: dict[str, str] = {}
    return _UUID.sub(lambda m: numbers.setdefault(m.group(0), f"block-{len(numbers) + 1}"), text)


def _strip_build_time(site: Path) -> None:
    """Make Data Docs reproducible so an identical re-run is recognised by the archive.

    GX stamps the build's wall-clock time into every page (a cache-busting ``?d=``) and gives
    collapsible blocks random UUIDs; the stamp is removed and the UUIDs are renumbered per page
    in order of appearance, which keeps each link pointing at its block.
    """
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        cleaned = _renumber_uuids(_BUILD_STAMP.sub("", text))
        if cleaned != text:
            page.write_text(cleaned, encoding="utf-8")


def _strip_ids(obj: Any) -> Any:
    """GX results without uuids (expectation ids, validation ids): same input, same bytes."""
    if isinstance(obj, dict):
        return {k: _strip_ids(v) for k, v in obj.items() if k not in ("id", "validation_id", "checkpoint_id")}
    if isinstance(obj, list):
        return [_strip_ids(v) for v in obj]
    return obj


def _raised(result) -> str | None:
    info = result.exception_info or {}
    if info.get("raised_exception"):
        return info.get("exception_message") or "okänt fel"
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return value.get("exception_message") or "okänt fel"
    return None


# --------------------------------------------------------------------------------------------
# Tables


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


def _message(table: str, label: str, rows: int | None, examples: list[str], detail: str = "") -> str:
    text = f"{table}.{label}" if ": " in label else f"{table}: {label}"
    if detail:
        text += f" ({detail})"
    if rows:
        text += f": {rows} {'rad' if rows == 1 else 'rader'}"
        if examples:
            text += ", t.ex. " + ", ".join(examples)
    return text


_NULLABLE = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype(), pa.string(): pd.StringDtype()}


@dataclass
class _Staged:
    name: str
    table: pa.Table
    """The raw staged rows exactly as extraction wrote them (validated/ and quarantine/ are
    row subsets of this, same Arrow schema, so the statistics read the same types)."""
    df: pd.DataFrame
    """The same rows in the contract's pandas types: nullable Int64/boolean/string whatever the
    nulls (``pd.read_parquet`` would give float64 for an integer column with a null)."""
    meta: dict


def _read_staged(run: Path, name: str) -> _Staged | None:
    meta_path = staging.meta_path(run, staging.RAW, name)
    if not meta_path.exists():
        return None
    table = pq.read_table(staging.table_path(run, staging.RAW, name))
    df = table.to_pandas(types_mapper=_NULLABLE.get)
    return _Staged(name, table, df, staging.read_json(meta_path))


class _Outcome:
    """Failed rules of one table, collected in suite order, then turned into a report."""

    def __init__(self, staged: _Staged, cfg: ValidationConfig, suites_dir: Path | None = None):
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
        self.failed.append((rule.index, info, _message(self.staged.name, rule.label, rows, examples, detail)))

    def report(self) -> TableReport:
        n, quarantined, cfg = len(self.staged.df), int(self.quarantine.sum()), self.cfg
        too_many = quarantined > cfg.quarantine.max_share * n and quarantined >= max(
            1, cfg.quarantine.min_rows
        )
        if cfg.quarantine.stop_enabled and too_many:
            share = (
                f"{quarantined} av {n} rader ({quarantined / n:.1%}), gräns {cfg.quarantine.max_share:.1%}"
            )
            self.add(_python_rule(10_000, "andel i karantän över gränsen", CRITICAL), detail=share)
        if self.staged.name in cfg.required_tables and n and quarantined == n:
            self.add(_python_rule(10_001, "inga godkända rader", CRITICAL))
        name = self.staged.name
        report = TableReport(name, n, n - quarantined, quarantined)
        for _, info, message in sorted(self.failed, key=lambda f: f[0]):
            report.rules.append(info)
            report.failed_rules[info["rule"]] = info["rows"]
            (report.critical if info["severity"] == CRITICAL else report.warnings).append(message)
        report.warnings.extend(self.notes)
        report.status = "stopp" if report.critical else "varning" if report.warnings else "ok"
        return report

    def write(self, run: Path) -> None:
        table, mask = self.staged.table, self.quarantine
        reasons = np.full(len(table), "", dtype=object)
        for label, positions in self.reasons:  # vectorised per rule, not per row
            reasons[positions] = reasons[positions] + label + "; "
        quarantined = table.filter(pa.array(mask)).append_column(
            RULE_COLUMN, pa.array([r[:-2] for r in reasons[mask]], type=pa.string())
        )
        for stage, part in (
            (staging.VALIDATED, table.filter(pa.array(~mask))),
            (staging.QUARANTINE, quarantined),
        ):
            path = staging.table_path(run, stage, self.staged.name)
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(part, path)


def _python_rule(index: int, rule: str, severity: str) -> Rule:
    """A table-level rule checked in Python (not a GX expectation), reported the same way."""
    return Rule(index, "python", {}, severity, rule, "", TABLE)


def _validate_table(
    staged: _Staged, tables: dict[str, pd.DataFrame], gx_run: _GxRun, params: dict, out: _Outcome
) -> dict | None:
    """Check one table's rules into ``out``; returns GX's (trimmed) results, if GX ran."""
    name, meta, df = staged.name, staged.meta, staged.df
    if meta.get("table_missing"):
        out.add(_python_rule(-2, "tabellen saknas i källan", CRITICAL))
        return None
    if meta.get("columns_extra"):
        out.add(
            _python_rule(-1, "okända kolumner i källan ignoreras", WARNING),
            None,
            ", ".join(meta["columns_extra"]),
        )
    frame, skipped = validation_frame(name, df, meta, tables)
    out.notes += [f"{name}: regeln kunde inte prövas: {s}" for s in skipped]
    missing = set(meta.get("columns_missing", []))
    all_rules = suite_rules(name, gx_run.suites_dir)
    rules = [r for r in all_rules if not (missing & set(r.columns))]
    if missing:
        out.notes.append(f"{name}: {len(all_rules) - len(rules)} regler på saknade kolumner prövades inte")
    result = gx_run.validate(name, frame, rules, params)
    by_key = {
        _key(r.expectation_config.type, r.expectation_config.kwargs, r.expectation_config.meta): r
        for r in result.results
    }
    for rule in rules:
        res = by_key[(rule.type, rule.rule, rule.column)]
        error = _raised(res)
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
    cfg: ValidationConfig | None = None,
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
    staged = {n: s for n in source.TABLES if (s := _read_staged(run, n)) is not None}
    for n in names:
        if n not in staged:
            raise FileNotFoundError(f"{n}: ingen staging-fil i {run / staging.RAW}")
    frames = {n: s.df for n, s in staged.items() if not s.meta.get("table_missing")}
    if sex_before is not None:
        frames[SEX_HISTORY] = sex_before
    if isinstance(period, str):
        period = Period.parse(period)
    period = period or infer_period(run, frames)
    params = expectation_parameters(period, cfg)
    for old in (run / GX_DIR, run / DATA_DOCS_DIR):  # a rerun in the same folder starts afresh
        shutil.rmtree(old, ignore_errors=True)
    gx_run = _GxRun(run, suites_dir, cfg.data_docs)
    reports, gx_results = [], {}
    for name in names:
        outcome = _Outcome(staged[name], cfg, suites_dir)
        gx_json = _validate_table(staged[name], frames, gx_run, params, outcome)
        if period is None:
            outcome.notes.append(f"{name}: perioden är okänd; datumregler mot periodens slut prövades inte")
        report = outcome.report()
        outcome.write(run)
        reports.append(report)
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
