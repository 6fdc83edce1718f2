"""Importing a filled-in reviewer workbook, checked by the Great Expectations suite
``expectations/review.json`` (run through ``etl.validation.gx_runner``).

The file is first opened and its shape checked here (an .xlsx at all, the sheets, the headers,
a known round); the suite then checks every row: allowed answers, every sampled case present
once, no added rows, no edited ids or case data, the round's id and checksum. Any failure refuses
the whole file with Swedish messages naming the row and column, and nothing is stored. A good
file is stored under its round as a new version ``results/v<N>/`` (an identical file again adds
no version); the archive gets only the file's hash and the aggregated answers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from etl.review import paths
from etl.review.columns import (
    ANSWERS,
    CASES_SHEET,
    COLUMNS,
    HEADER_ROW,
    ROUND_CELLS,
    ROUND_SHEET,
    SAMPLED,
    excel_column,
    where,
)
from etl.review.paths import ReviewError
from etl.review.sample import load_round
from etl.settings import settings

SUITE = "review"
STORED = [
    "nr",
    "application_pseudonym",
    "household_pseudonym",
    "sex",
    "household_type",
    "benefit_month",
    "decision",
    "applied_sek",
    "granted_sek",
    *ANSWERS,
    "comment",
]
"""What a stored result keeps: pseudonyms, never the case system's ids."""


MAX_SHOWN = 40
"""Problems listed in the message (an unfilled workbook would otherwise list every empty cell)."""


class ImportRefused(ReviewError):
    """The workbook was refused; ``problems`` holds one Swedish line per problem."""

    def __init__(self, path: Path, problems: list[str]):
        self.problems = problems
        shown = [f"- {p}" for p in problems[:MAX_SHOWN]]
        if len(problems) > MAX_SHOWN:
            shown.append(f"- … och {len(problems) - MAX_SHOWN} problem till av samma slag.")
        super().__init__(f"{Path(path).name} importerades inte:\n" + "\n".join(shown))


@dataclass(frozen=True)
class Imported:
    round_id: str
    version: Path
    rows: int
    new: bool


# --- reading -----------------------------------------------------------------------------


def _text(value) -> str:
    """A cell as text the way the writer wrote it (numbers without float noise)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m")
    return str(value).strip()


def _open(path: Path):
    import openpyxl

    path = Path(path)
    if not path.is_file():
        raise ImportRefused(path, [f"Filen {path} finns inte."])
    if path.stat().st_size == 0:
        raise ImportRefused(path, ["Filen är tom (0 byte)."])
    if not zipfile.is_zipfile(path):
        raise ImportRefused(path, ["Filen är ingen Excel-arbetsbok (.xlsx); spara den som .xlsx."])
    try:
        return openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is refused with its reason
        raise ImportRefused(path, [f"Filen kan inte läsas som .xlsx ({type(exc).__name__})."]) from None


def read_workbook(path: Path) -> tuple[str, str, pd.DataFrame]:
    """The round id, the checksum and the cases sheet (one row per non-empty row, ``_row`` = Excel row)."""
    book = _open(path)
    missing = [s for s in (CASES_SHEET, ROUND_SHEET) if s not in book.sheetnames]
    if missing:
        raise ImportRefused(path, [f"Bladet {s!r} saknas (fel blad eller fel fil?)." for s in missing])
    meta = book[ROUND_SHEET]
    round_id, checksum = (_text(meta.cell(r + 1, c + 1).value) for r, c in ROUND_CELLS.values())
    sheet = book[CASES_SHEET]
    problems = []
    headers = [_text(sheet.cell(HEADER_ROW + 1, j + 1).value) for j in range(len(COLUMNS))]
    for j, (col, found) in enumerate(zip(COLUMNS, headers, strict=True)):
        if found != col.header:
            problems.append(
                f"{CASES_SHEET} rad {HEADER_ROW + 1}, kolumn {excel_column(j)}: rubriken ska vara "
                f"{col.header!r} men är {found!r}."
            )
    extra = _text(sheet.cell(HEADER_ROW + 1, len(COLUMNS) + 1).value)
    if extra:
        problems.append(
            f"{CASES_SHEET} rad {HEADER_ROW + 1}, kolumn {excel_column(len(COLUMNS))}: "
            f"okänd kolumn {extra!r} (lägg inte till kolumner)."
        )
    if problems:
        raise ImportRefused(path, problems)
    rows = []
    for i, values in enumerate(
        sheet.iter_rows(min_row=HEADER_ROW + 2, values_only=True), start=HEADER_ROW + 2
    ):
        cells = [_text(v) for v in values[: len(COLUMNS) + 1]]
        if not any(cells):
            continue
        rows.append({"_row": i, **{c.key: cells[j] if j < len(cells) else "" for j, c in enumerate(COLUMNS)}})
    frame = pd.DataFrame(rows, columns=["_row", *(c.key for c in COLUMNS)])
    return round_id, checksum, frame


# --- checking ----------------------------------------------------------------------------


def _expected_text(key: str, value) -> str:
    if pd.isna(value):
        return ""
    if key == "benefit_month":
        return pd.Timestamp(value).strftime("%Y-%m")
    return _text(float(value) if key in ("applied_sek", "granted_sek", "nr", "household_type") else value)


def validation_frame(frame: pd.DataFrame, cases: pd.DataFrame, round_id: str, checksum: str) -> pd.DataFrame:
    """The sheet with, per row, the sampled values its number should have (``expected_*``)."""
    df = frame.copy().astype({c.key: "string" for c in COLUMNS})
    by_nr = {
        _expected_text("nr", n): case for n, case in zip(cases["nr"], cases.to_dict("records"), strict=True)
    }
    for key in SAMPLED:
        if key != "nr":
            # a row not in the sample is reported once, by its number, not once per column
            pairs = zip(df["nr"], df[key], strict=True)
            expected = [_expected_text(key, by_nr[n][key]) if n in by_nr else own for n, own in pairs]
            df[f"expected_{key}"] = pd.Series(expected, index=df.index, dtype="string")
    for key in (*ANSWERS, "comment"):
        df[key] = df[key].mask(df[key] == "")
    df["round"] = pd.Series(round_id, index=df.index, dtype="string")
    df["sample_hash"] = pd.Series(checksum, index=df.index, dtype="string")
    return df.reset_index(drop=True)


def _parameters(record: dict, cases: pd.DataFrame) -> dict:
    answers = settings().review.answers
    return {
        "cases": len(cases),
        "round": [record["round"]],
        "sample_hash": [record["sample_hash"]],
        "numbers": [_expected_text("nr", n) for n in cases["nr"]],
        "concerned_values": list(answers.concerned),
        "quality_values": [str(q) for q in answers.quality],
        "guideline_values": list(answers.guideline),
        "bemotande_values": list(answers.bemotande),
    }


ROUND_COLUMNS = ("round", "sample_hash")
"""Frame columns that carry the Omgång sheet's cells (one value for every row)."""


def _place(column: str, excel_row: int) -> str:
    if column in ROUND_COLUMNS:
        r, c = ROUND_CELLS[column]
        return f"{ROUND_SHEET} cell {excel_column(c)}{r + 1}"
    return f"{CASES_SHEET} rad {excel_row}, {where(column)}"


def check(frame: pd.DataFrame, record: dict, cases: pd.DataFrame) -> list[str]:
    """Run the suite; one Swedish line per failing row and rule (empty: the file is good)."""
    from etl.validation.gx_runner import GxRun, raised, result_key
    from etl.validation.suites import ROW, suite_rules

    rules = suite_rules(SUITE)
    # GX writes nothing without Data Docs; the folder is only what GxRun asks for, never in the data
    with tempfile.TemporaryDirectory() as tmp:
        result = GxRun(Path(tmp), None, data_docs=False).validate(
            SUITE, frame, rules, _parameters(record, cases)
        )
    by_key = {(r.type, r.rule, r.column): r for r in rules}
    problems, foreign = [], False
    for res in result.results:
        if res.success:
            continue
        rule = by_key[result_key(res)]
        if rule.column in ROUND_COLUMNS:  # one cell, not one line per row; rows of another round not compared
            value = str(frame[rule.column].iloc[0])
            shown = value[:12] + "…" if len(value) > 12 else value
            problems.append(
                f"{_place(rule.column, 0)}: {rule.rule} (värde {shown!r}, omgång {record['round']})."
            )
            foreign = True
            continue
        error = raised(res)
        if error:
            problems.append(f"Regeln {rule.label!r} kunde inte prövas: {error}")
        elif rule.level == ROW:
            column = rule.column.split(",")[0].strip() if rule.column else rule.kwargs.get("column", "")
            for index in res.result.get("unexpected_index_list") or []:
                row = frame.loc[int(index)]
                value = row.get(column)
                shown = "tomt" if pd.isna(value) or value == "" else repr(str(value))
                problems.append(f"{_place(column, int(row['_row']))}: {rule.rule} (värde {shown}).")
        else:
            observed = res.result.get("observed_value")
            problems.append(f"{CASES_SHEET}: {rule.rule} ({observed} rader, urvalet har {len(cases)}).")
    if foreign:
        return [p for p in problems if p.startswith(ROUND_SHEET)] + [
            f"Arbetsboken hör inte till omgång {record['round']}; raderna har inte jämförts med urvalet."
        ]
    missing = sorted(set(_parameters(record, cases)["numbers"]) - set(frame["nr"].dropna()), key=int)
    for nr in missing:
        problems.append(
            f"{CASES_SHEET}, {where('nr')}: ärende nr {nr} saknas (raden är borttagen eller numret ändrat)."
        )
    return problems


# --- storing -----------------------------------------------------------------------------


def _answers(frame: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    answers = frame[["nr", *ANSWERS, "comment"]].copy()
    answers["nr"] = answers["nr"].astype(int)
    answers["quality"] = answers["quality"].astype(int)
    merged = cases.merge(answers, on="nr", how="left", validate="one_to_one")
    return merged[STORED].sort_values("nr").reset_index(drop=True)


def aggregate(answers: pd.DataFrame) -> dict:
    """Counts per sex and answer (what the archive keeps of a round)."""
    out: dict = {}
    for sex, group in answers.groupby("sex", sort=True):
        out[str(sex)] = {
            "cases": len(group),
            **{
                key: {str(k): int(v) for k, v in group[key].value_counts().sort_index().items()}
                for key in ANSWERS
            },
            "avslag": int((group["decision"] == "avslag").sum()),
        }
    return out


def import_workbook(path: Path, data_dir: Path | None = None, now: dt.datetime | None = None) -> Imported:
    """Check ``path`` and store its answers under its round; ImportRefused (nothing stored) if bad."""
    path = Path(path)
    round_id, checksum, frame = read_workbook(path)
    root = paths.root(data_dir)
    try:
        paths.check_round_id(round_id)
        record, cases = load_round(root, round_id)
    except ReviewError as exc:
        raise ImportRefused(path, [f"{_place('round', 0)}: {exc}"]) from None
    problems = check(validation_frame(frame, cases, round_id, checksum), record, cases)
    if problems:
        raise ImportRefused(path, problems)
    file_hash = hashlib.sha256(path.read_bytes()).hexdigest()
    results = paths.restricted(paths.round_dir(root, round_id) / paths.RESULTS)
    done = paths.versions(results)
    if done:
        last = json.loads((done[-1] / paths.IMPORT_FILE).read_text(encoding="utf-8"))
        if last["file_sha256"] == file_hash:
            return Imported(round_id, done[-1], last["rows"], new=False)
    version = results / f"v{len(done) + 1}"
    answers = _answers(frame, cases)
    meta = {
        "round": round_id,
        "version": version.name,
        "file": path.name,
        "file_sha256": file_hash,
        "rows": len(answers),
        "imported": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "aggregate": aggregate(answers),
    }
    incoming = Path(tempfile.mkdtemp(prefix=".incoming-", dir=results))
    try:
        answers.to_parquet(incoming / paths.ANSWERS_FILE, index=False)
        (incoming / paths.IMPORT_FILE).write_text(
            json.dumps(meta, indent=2, ensure_ascii=False) + "\n", "utf-8"
        )
        os.chmod(incoming, paths.MODE)
        incoming.rename(version)
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
    _archive(root.parent, round_id, version.name, {k: v for k, v in meta.items() if k != "file"}, record)
    return Imported(round_id, version, len(answers), new=True)


def _archive(data_root: Path, round_id: str, version: str, meta: dict, record: dict) -> Path:
    """``archive/review/<round>/<version>.json``: the hashes and the aggregated answers, no ids."""
    folder = data_root / "archive" / "review" / round_id
    folder.mkdir(parents=True, exist_ok=True)
    keep = {
        k: record[k]
        for k in (
            "round",
            "year",
            "seed",
            "per_sex",
            "by",
            "exclude_rounds",
            "data_hash",
            "sample_hash",
            "workbook_sha256",
            "created",
            "cases",
        )
    }
    target = folder / f"{version}.json"
    target.write_text(json.dumps({**keep, "import": meta}, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return target


def latest_answers(review_root: Path, round_id: str) -> pd.DataFrame:
    """The newest imported answers of a round; a ReviewError when none is imported yet."""
    done = paths.versions(paths.round_dir(review_root, round_id) / paths.RESULTS)
    if not done:
        raise ReviewError(
            f"Omgången {round_id} har ingen importerad granskning ännu (python -m etl review import)."
        )
    return pd.read_parquet(done[-1] / paths.ANSWERS_FILE)


def import_inbox(data_dir: Path | None = None) -> dict[str, list[str]]:
    """Import every .xlsx in ``review/inbox/``: a good file moves to ``inbox/imported/``, a refused
    one stays with a ``.fel.txt`` beside it. One Swedish line per file, imported or refused."""
    root = paths.root(data_dir)
    inbox = paths.restricted(root / paths.INBOX)
    out: dict[str, list[str]] = {"imported": [], "refused": []}
    for file in sorted(inbox.glob("*.xlsx")):
        try:
            done = import_workbook(file, data_dir)
        except ImportRefused as exc:
            file.with_suffix(".fel.txt").write_text(str(exc) + "\n", encoding="utf-8")
            out["refused"].append(str(exc))
            continue
        file.rename(paths.restricted(inbox / "imported") / file.name)
        out["imported"].append(
            f"{file.name}: omgång {done.round_id}, {done.rows} ärenden, {done.version.name}"
        )
    return out
