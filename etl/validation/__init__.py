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

Modules: ``suites`` (the rules, their parameters), ``derived`` (the ``_ok_*`` checks),
``report`` (``TableReport``, messages, ``ValidationStop``), ``gx_runner`` (the GX run and Data
Docs) and ``run`` (``validate_run``: one run, start to end), which imports the others; ``report``
and ``gx_runner`` import ``suites`` only. Nothing is imported here: importing the package or one
of its modules does not import GX.
"""
