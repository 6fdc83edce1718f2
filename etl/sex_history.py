"""Each person's sex code as of the latest extract, kept between runs.

Household figures are split by the registerledare's sex, so a person whose legal sex code
changes between two extracts (in Sweden a change of legal sex gives a new personnummer) is a
source error that would move a household from one column to the other. Validation compares
each extract with the history as it stood after the previous period (etl.validation) and
rejects such persons and their households; this module keeps that history.

One Parquet file per period under ``<data_dir>/reference/person_sex/``: pseudonymised person
id and sex code, carried forward from the previous period and overridden by the period's own
extract. Re-running a period compares with the same previous file, so results repeat. Files
older than ``keep_years`` years are removed; the history holds pseudonyms, never personnummer.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from etl.periods import Period

log = logging.getLogger(__name__)

FOLDER = "person_sex"
COLUMNS = ["person_id", "sex"]
SEX_CODES = ("K", "M")


def _files(root: Path) -> dict[Period, Path]:
    folder = Path(root) / FOLDER
    found = {}
    for path in folder.glob("*.parquet") if folder.is_dir() else []:
        try:
            found[Period.parse(path.stem)] = path
        except ValueError:
            log.warning("Okänd fil i könskodshistoriken lämnas orörd: %s", path)
    return found


def previous(root: Path, period: Period) -> pd.DataFrame | None:
    """The history as it stood after the latest period before ``period``; None if there is none."""
    files = _files(root)
    earlier = [p for p in files if p < period]
    return pd.read_parquet(files[max(earlier)]) if earlier else None


def record(root: Path, period: Period, person: pd.DataFrame) -> Path:
    """Write the history after ``period``: the previous history, overridden by this extract's
    persons with a valid sex code. Deterministic (sorted by person id)."""
    current = person.loc[person["person_id"].notna() & person["sex"].isin(SEX_CODES), COLUMNS]
    history = previous(root, period)
    if history is not None:
        current = pd.concat([history[~history["person_id"].isin(current["person_id"])], current])
    current = current.astype("string").sort_values("person_id", kind="stable").reset_index(drop=True)
    path = Path(root) / FOLDER / f"{period}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pq.write_table(pa.Table.from_pandas(current, preserve_index=False), tmp)
    tmp.replace(path)
    return path


def prune(root: Path, keep_years: int) -> list[Path]:
    """Remove histories more than ``keep_years`` years older than the newest; returns them."""
    if isinstance(keep_years, bool) or not isinstance(keep_years, int) or keep_years < 1:
        raise ValueError(f"sex_history_years måste vara ett heltal på minst 1 (var {keep_years!r}).")
    files = _files(root)
    newest = max(files, default=None)
    removed = [path for p, path in sorted(files.items()) if newest and p.year <= newest.year - keep_years]
    for path in removed:
        path.unlink()
        log.info("Rensade könskodshistoriken %s", path.name)
    return removed
