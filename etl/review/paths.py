"""The restricted review folder ``$EB_DATA_DIR/review/`` and its layout.

Every folder is created with permissions 0700 (owner only) and checked on each use: it holds the
case system's ids of sampled applications. Layout::

    review/rounds/<round>/round.json, cases.parquet, granskning-<round>.xlsx
    review/rounds/<round>/results/v<N>/answers.parquet, import.json
    review/inbox/                  filled-in workbooks waiting for import (the DAG reads these)
    review/comparisons/<before>_<after>/jamforelse-<before>-<after>.xlsx
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

from etl.settings import env

REVIEW = "review"
ROUNDS, INBOX, COMPARISONS, RESULTS = "rounds", "inbox", "comparisons", "results"
ROUND_FILE, CASES_FILE, ANSWERS_FILE, IMPORT_FILE = (
    "round.json",
    "cases.parquet",
    "answers.parquet",
    "import.json",
)
MODE = 0o700
_ROUND_ID = re.compile(r"\d{4}-\d{2}")
_VERSION = re.compile(r"v([1-9][0-9]*)")


class ReviewError(RuntimeError):
    """A review step cannot go on; the message is Swedish and says what to do."""


def root(data_dir: Path | None = None) -> Path:
    """``<data_dir>/review`` (default ``$EB_DATA_DIR``), created 0700 and checked."""
    base = Path(data_dir or env().data_dir)
    base.mkdir(parents=True, exist_ok=True)  # the data folder keeps its own permissions
    return restricted(base / REVIEW)


def restricted(folder: Path) -> Path:
    """``folder`` (and missing parents inside it) with mode 0700; refuses a folder others can read."""
    if not folder.parent.exists():  # a new folder between it and the review root: closed too
        restricted(folder.parent)
    folder.mkdir(parents=True, exist_ok=True, mode=MODE)
    folder.chmod(MODE)  # mkdir's mode is masked by umask, and an existing folder keeps its own
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode != MODE:
        raise ReviewError(f"Mappen {folder} har behörigheterna {mode:o}; den måste ha 700 (bara ägaren).")
    return folder


def check_round_id(round_id: str) -> str:
    if not _ROUND_ID.fullmatch(str(round_id)):
        raise ReviewError(f"Omgången {round_id!r} har fel form (ska vara t.ex. 2018-01).")
    return str(round_id)


def round_dir(review_root: Path, round_id: str) -> Path:
    return review_root / ROUNDS / check_round_id(round_id)


def round_ids(review_root: Path) -> list[str]:
    folder = review_root / ROUNDS
    if not folder.is_dir():
        return []
    return sorted(
        p.name for p in folder.iterdir() if _ROUND_ID.fullmatch(p.name) and (p / ROUND_FILE).exists()
    )


def next_round_id(review_root: Path, year: int) -> str:
    taken = [r for r in round_ids(review_root) if r.startswith(f"{year}-")]
    return f"{year}-{len(taken) + 1:02d}"


def versions(folder: Path) -> list[Path]:
    """``v1, v2, …`` under ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _VERSION.fullmatch(p.name))]
    return [p for _, p in sorted(found)]


def workbook_name(round_id: str) -> str:
    return f"granskning-{round_id}.xlsx"
