"""Run-scoped staging storage: one folder per run, one Parquet file per table and stage.

Everything between tasks travels through here, never through XCom. Paths are plain
``pathlib.Path`` or Airflow's ``ObjectStoragePath`` (same interface), so a deployment can
point staging at S3-compatible storage without code changes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

RAW = "raw"
VALIDATED = "validated"
QUARANTINE = "quarantine"

_SAFE_RUN_ID = re.compile(r"[^A-Za-z0-9_.-]+")


def run_dir(staging_root: Path, run_id: str) -> Path:
    """The staging folder of one run; the run id is made filesystem-safe."""
    return Path(staging_root) / _SAFE_RUN_ID.sub("_", run_id)


def table_path(run: Path, stage: str, table: str) -> Path:
    return Path(run) / stage / f"{table}.parquet"


def meta_path(run: Path, stage: str, table: str) -> Path:
    return Path(run) / stage / f"{table}.meta.json"


def read_table(run: Path, stage: str, table: str) -> pd.DataFrame:
    return pd.read_parquet(table_path(run, stage, table))


def write_json(path: Path, data: Any) -> Path:
    """Write JSON deterministically (sorted keys, UTF-8, trailing newline)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))
