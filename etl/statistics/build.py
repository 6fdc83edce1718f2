"""All statistics of a run: case, staff and gender figures, checked against the catalogue.

Reads validated staging, writes ``statistics.parquet`` (internal columns) and, for the archive,
the unsuppressed ``statistics.csv``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from etl.periods import Period
from etl.settings import Catalogue, settings
from etl.statistics import case, economy, gender, inputs, staff
from etl.statistics.frames import sort_rows
from etl.vocabulary import COLUMNS, INTERNAL


def check_catalogue(stats: pd.DataFrame, catalogue: Catalogue) -> None:
    """Every computed id must have a catalogue entry whose module computed it."""
    ids = pd.Series(stats["indicator_id"].unique())
    entries = ids.map(catalogue.entry_for)
    unknown = sorted(ids[entries.isna()])
    if unknown:
        raise ValueError(
            f"Statistiken har indikatorer som saknas i config/catalogue.yml: {', '.join(unknown)}."
        )


def build_statistics(run: Path, period: Period, tables: Mapping | None = None) -> pd.DataFrame:
    """Compute all statistics from validated staging; write ``statistics.parquet``.

    ``tables``: etl.statistics.inputs.read_tables(run, …), when the caller has already read them.
    """
    cfg = settings()
    tables = inputs.read_tables(run, cfg.catalogue) if tables is None else tables
    districts = inputs.districts(tables)
    parts = [
        case.case_statistics(tables, period, districts, cfg.catalogue),
        staff.staff_statistics(tables, period),
        gender.gender_statistics(tables, period, districts, cfg=cfg.pipeline.gender_analysis),
        economy.economy_statistics(tables, period, districts),
    ]
    stats = pd.concat([p for p in parts if len(p)], ignore_index=True)
    twice = stats.duplicated(["indicator_id", "district_code", "sex"], keep=False)
    if twice.any():
        ids = ", ".join(sorted(stats.loc[twice, "indicator_id"].unique()))
        raise ValueError(f"Statistiken har dubbla rader för {ids} (samma område och kön).")
    check_catalogue(stats, cfg.catalogue)
    stats["period"] = str(period)
    stats = sort_rows(stats[INTERNAL])
    stats.to_parquet(Path(run) / "statistics.parquet", index=False)
    return stats


def write_statistics_csv(stats: pd.DataFrame, path: Path) -> Path:
    """The internal, unsuppressed statistics.csv (archive only, never emailed)."""
    stats[COLUMNS].to_csv(path, index=False, float_format="%.10g", lineterminator="\n")
    return path
