"""The Great Expectations run: one ephemeral context per validation run.

GX is imported lazily (slow; the DAG file must stay light). Its results are trimmed to be
deterministic (no ids, wall-clock times or long lists) and rendered as Data Docs in
``<run>/data_docs/``, made reproducible (no build stamps, UUIDs renumbered), given a static
index that needs no script, and styled from vendored copies of GX's CDN assets (nothing is
requested from outside the machine; ``offline_assets``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from etl.validation import duplicates, offline_assets, passes
from etl.validation.frames import Frames, InMemory
from etl.validation.suites import Rule, load_suite, rule_column

GX_DIR = "gx"
DATA_DOCS_DIR = "data_docs"
_PARTIAL = 20  # unexpected values/indices kept per rule in GX's stored results and Data Docs


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


_TABLE_FINGERPRINT: list[str | None] = [None]
"""The fingerprint of the table being validated, while ``GxRun.validate`` runs (else None)."""


@cache
def _gx_fingerprint():
    """Give every batch of a table the table's fingerprint, computed once; GX's own function
    (returned) for anything else.

    GX records an md5 over ``pd.util.hash_pandas_object`` of the batch's DataFrame in the
    results (``batch_markers.pandas_data_fingerprint``) each time it builds a batch from it:
    twice per pass over the suite, a third of validation's time at national scale. A table
    checked a few columns at a time is many batches of one frame; each records the whole frame's
    fingerprint, as one batch of it would.
    """
    from great_expectations.execution_engine import pandas_execution_engine as engine

    compute = engine.hash_pandas_dataframe
    engine.hash_pandas_dataframe = lambda df: _TABLE_FINGERPRINT[0] or compute(df)
    return compute


def _forget_metrics(engine) -> None:
    """Empty GX's metric cache: it keeps every resolved metric for the life of the context (and GX
    keeps the last context), each rule's row condition among them (~250 MB after application
    nationally). A pass's metrics are not asked for again once its results are in."""
    if isinstance(cache := getattr(engine, "_metric_cache", None), dict):
        cache.clear()


def _merged(parts: list):
    """One suite result from the results of its groups of rules, as one pass would give it."""
    from great_expectations.validator.validation_statistics import calc_validation_statistics

    result = parts[0]
    result.results = [r for part in parts for r in part.results]
    stats = calc_validation_statistics(result.results)
    result.success = stats.success
    result.statistics = {k: getattr(stats, k) for k in result.statistics}
    return result


_COLUMN_KEYS = ("column", "column_A", "column_B", "column_list")
_IGNORE_ROW_IF = {
    "column_A": {"both_values_are_missing": "all", "either_value_is_missing": "any", "neither": None},
    "column_list": {"all_values_are_missing": "all", "any_value_is_missing": "any", "never": None},
}


@cache
def _narrow_domains() -> None:
    """Give GX's column, column pair and multicolumn metrics only their own columns.

    GX's pandas engine hands every such metric the whole batch and filters its rows there (null
    rows of the column, ``ignore_row_if``): a copy of every column of the frame per metric,
    the peak of validation at national scale. The metrics read only their domain's columns
    (results are computed from them, row indices from the index, which is kept), so the same
    rows of just those columns give the same results. Anything unusual (a column that is not
    in the frame, a repeated column, an ``ignore_row_if`` GX would refuse) goes to GX as is.
    """
    from great_expectations.execution_engine.pandas_execution_engine import PandasExecutionEngine

    records = PandasExecutionEngine.get_domain_records

    def narrowed(self, domain_kwargs: dict) -> pd.DataFrame:
        kind = next((k for k in _COLUMN_KEYS if k in domain_kwargs), None)
        if kind is None or (kind == "column_A" and "column_B" not in domain_kwargs):
            return records(self, domain_kwargs)
        if kind == "column_list":
            columns = list(domain_kwargs["column_list"])
        else:
            columns = [domain_kwargs[k] for k in ("column", "column_A", "column_B") if k in domain_kwargs]
        how = None
        if kind in _IGNORE_ROW_IF and "ignore_row_if" in domain_kwargs:
            ignore = domain_kwargs["ignore_row_if"]
            if not isinstance(ignore, str) or ignore not in _IGNORE_ROW_IF[kind]:
                return records(self, domain_kwargs)  # GX raises its own error
            how = _IGNORE_ROW_IF[kind][ignore]
        table = records(self, {k: v for k, v in domain_kwargs.items() if k not in _COLUMN_KEYS})
        if len(set(columns)) != len(columns) or not set(columns) <= set(table.columns):
            return records(self, domain_kwargs)
        data = table[columns]
        if how is None:
            return data
        missing = data.isna()
        dropped = (missing.all(axis=1) if how == "all" else missing.any(axis=1)).to_numpy(dtype=bool)
        return data[~dropped] if dropped.any() else data  # no copy of rows that all stay

    PandasExecutionEngine.get_domain_records = narrowed


def _key(type_: str, kwargs: dict, meta: dict) -> tuple[str, str, str]:
    """Identifies an expectation within a suite (labels are unique per suite)."""
    return type_, meta.get("rule", type_), rule_column({"kwargs": kwargs, "meta": meta})


def result_key(result) -> tuple[str, str, str]:
    """The key of the expectation a GX result belongs to (matches ``Rule``'s type, rule, column)."""
    config = result.expectation_config
    return _key(config.type, config.kwargs, config.meta)


def _release(engine) -> None:
    """Let go of a pass's batch and metrics. GX's engine keeps the last batch (the frame) until the
    next one is loaded, and caches every metric it resolved, each rule's row condition among them."""
    engine.batch_manager.reset_batch_cache()
    engine.batch_manager.batch_data_cache.clear()
    _forget_metrics(engine)


class GxRun:
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

    def validate(self, name: str, frames: pd.DataFrame | Frames, rules: list[Rule], params: dict):
        """Validate a table (a frame, or ``Frames`` to read its columns from) against the suite's
        ``rules``; returns GX's suite result.

        GX goes through the table in the passes ``passes.plan`` gives (one, for a small table),
        each on what its rules read; every batch records the table's fingerprint. Each pass is
        two: every expectation with BOOLEAN_ONLY (a third of the cost of COMPLETE on
        small tables), then only the failed ones again with COMPLETE for their row indices (the
        quarantine) and observed values. No ``unexpected_index_column_names``: with them GX looks
        each failing row up one by one (minutes on a national table); the validation frame's
        index is the row position, and keys are looked up here instead.
        """
        from great_expectations.core import ExpectationSuite

        _custom_expectations()
        compute = _gx_fingerprint()
        _narrow_domains()
        duplicates.use_in_gx()
        frames = InMemory(frames) if isinstance(frames, pd.DataFrame) else frames
        suite_json = load_suite(name, self.suites_dir)
        expectations = [{**suite_json["expectations"][r.index], "severity": r.severity} for r in rules]
        suite = ExpectationSuite(name=name, expectations=expectations, meta=suite_json.get("meta", {}))
        if self.data_docs:  # the suite's own page in Data Docs; validating does not need it stored
            suite = self.context.suites.add(suite)
        planned = passes.plan(expectations, frames)
        _TABLE_FINGERPRINT[0] = frames.fingerprint(compute)
        engine, parts = None, []
        try:
            for reads, group in planned:
                batch = self.batches.get_batch(
                    batch_parameters={"dataframe": passes.frame_for(frames, reads)}
                )
                engine = batch.data.execution_engine
                part = suite if len(planned) == 1 else ExpectationSuite(name=name, expectations=group)
                parts.append(self._validate_batch(batch, name, part, group, params))
                del batch
                _release(engine)  # the pass's frame and metrics, before the next pass reads its own
        finally:
            _TABLE_FINGERPRINT[0] = None
            if engine is not None:
                _release(engine)
        result = _merged(parts)
        order = {(r.type, r.rule, r.column): r.index for r in rules}  # GX orders by its metric graph
        result.results.sort(key=lambda r: order[result_key(r)])
        return result

    @staticmethod
    def _validate_batch(batch, name: str, suite, expectations: list[dict], params: dict):
        from great_expectations.core import ExpectationSuite

        result = batch.validate(
            suite, result_format={"result_format": "BOOLEAN_ONLY"}, expectation_parameters=params
        )
        failed = {result_key(r) for r in result.results if not r.success}
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
            by_key = {result_key(r): r for r in detail.results}
            result.results = [by_key.get(result_key(r), r) for r in result.results]
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
        offline_assets.make_offline(site)
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


def raised(result) -> str | None:
    info = result.exception_info or {}
    if info.get("raised_exception"):
        return info.get("exception_message") or "okänt fel"
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return value.get("exception_message") or "okänt fel"
    return None
