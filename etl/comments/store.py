"""The managers' comments in the archive: each import is a new version of the tertial's package.

The new version holds every file of the tertial's latest version plus ``manager_comments.csv``
(every scope's comments so far; the imported scope's rows replaced) and ``manager_comments.json``
(the imports in order: scope, file name and hashes). Nothing is overwritten: etl.archive writes
the version, indexes it and ``verify`` checks it like any other. Comments that equal the latest
stored ones add no version.
"""

from __future__ import annotations

import contextlib
import fcntl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from etl import archive, staging
from etl.comments.identity import TERTIALS
from etl.comments.reader import Returned
from etl.periods import Period

COMMENTS = "manager_comments.csv"
IMPORTS = "manager_comments.json"
COLUMNS = ["year", "tertial", "scope", "indicator", "analys", "atgarder"]
"""``tertial`` is the number (1 or 2); ``scope`` ``ALL`` or a district code; texts plain UTF-8."""
LOCK = ".manager_comments.lock"


@dataclass(frozen=True)
class Stored:
    version: Path
    created: bool
    comments: pd.DataFrame
    """The imported scope's comments as stored (COLUMNS)."""


def empty() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype="int64" if c in ("year", "tertial") else "string") for c in COLUMNS}
    )


def _read(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype="string", keep_default_na=False, encoding="utf-8")
    return _tidy(df)


def _tidy(df: pd.DataFrame) -> pd.DataFrame:
    """COLUMNS with their types, sorted: the same comments always give the same bytes."""
    out = df[COLUMNS].astype({c: "string" for c in COLUMNS[2:]}).astype({"year": "int64", "tertial": "int64"})
    return out.sort_values(["year", "tertial", "scope", "indicator"]).reset_index(drop=True)


def _latest_with_comments(root: Path, period: Period) -> Path | None:
    """The newest version of the tertial holding comments (a later re-run of the tertial has none)."""
    return next((v for v in reversed(archive.versions(root, period)) if (v / COMMENTS).is_file()), None)


def period_comments(root: Path, period: Period) -> tuple[pd.DataFrame, list[dict]]:
    """The tertial's stored comments and import record (empty when none)."""
    found = _latest_with_comments(Path(root), period)
    if found is None:
        return empty(), []
    imports = staging.read_json(found / IMPORTS) if (found / IMPORTS).is_file() else []
    return _read(found / COMMENTS), list(imports)


def comments_for_year(archive_root: Path, year: int) -> pd.DataFrame:
    """Every stored comment of ``year`` (T1 and T2, each scope): the newest stored version's per
    tertial, with exactly COLUMNS, sorted; an empty frame with COLUMNS when there are none."""
    frames = [period_comments(Path(archive_root), Period(int(year), t))[0] for t in TERTIALS]
    frames = [f for f in frames if len(f)]
    return _tidy(pd.concat(frames, ignore_index=True)) if frames else empty()


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """One import at a time (CLI and DAG): the read, merge and write of the comments."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root.parent / LOCK, "a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def scope_rows(returned: Returned) -> pd.DataFrame:
    rows = [
        {"year": returned.period.year, "tertial": returned.period.tertial, "scope": returned.scope,
         "indicator": c.indicator, "analys": c.analys, "atgarder": c.atgarder}
        for c in returned.comments
    ]  # fmt: skip
    return _tidy(pd.DataFrame(rows, columns=COLUMNS)) if rows else empty()


def store(archive_root: Path, returned: Returned) -> Stored:
    """Store the comments of ``returned`` as a new version of its tertial's package (or find
    them already stored: no new version)."""
    root = Path(archive_root)
    mine = scope_rows(returned)
    with _locked(root):
        before, imports = period_comments(root, returned.period)
        others = before[before["scope"] != returned.scope]
        after = _tidy(pd.concat([f for f in (others, mine) if len(f)], ignore_index=True)) if (
            len(others) or len(mine)) else empty()  # fmt: skip
        held = _latest_with_comments(root, returned.period)
        if held is not None and after.equals(before):
            return Stored(held, False, mine)
        latest = archive.versions(root, returned.period)[-1]
        manifest = archive.read_manifest(latest)
        files = {name: latest / name for name in manifest.get("files", {}) if name not in (COMMENTS, IMPORTS)}
        record = {
            "scope": returned.scope,
            "workbook": returned.workbook,
            "file_sha256": returned.file_sha256,
            "figures_sha256": returned.figures_sha256,
            "from_version": returned.origin.name,
            "comments": len(mine),
        }
        metadata = {k: v for k, v in manifest.items() if k not in ("files", "content_sha256", "period")}
        metadata["manager_comments"] = {"based_on": latest.name, **record}
        with tempfile.TemporaryDirectory() as tmp:
            csv = Path(tmp) / COMMENTS
            after.to_csv(csv, index=False, encoding="utf-8", lineterminator="\n")
            log = Path(tmp) / IMPORTS
            staging.write_json(log, [*imports, record])
            result = archive.archive_package(
                root, returned.period, {**files, COMMENTS: csv, IMPORTS: log}, metadata
            )
    return Stored(result.path, result.created, mine)
