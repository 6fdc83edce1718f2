"""Drawing a review round: a stratified random sample of decided applications of one year.

Equal numbers of women and men as applicant (optionally spread evenly over household types),
drawn with ``numpy.random.default_rng(seed)``. The sample depends only on the seed and the data:
the frame is read from the source with the case system's own ids (no pseudonyms), sorted by its
data columns with the case system's application id last, so the same seed and data give the same
sample whatever the pseudonymisation key. Earlier rounds' applications can be excluded; no
application is drawn twice. The case list, the reviewer workbook and the round record go to the
restricted folder only (``etl.review.paths``); what is returned holds no ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from etl import source
from etl.pseudonym import pseudonymise
from etl.review import columns, paths
from etl.review.paths import ReviewError
from etl.settings import settings

SEXES = ("K", "M")
STRATA = ("household_type",)
"""Columns a sample may be balanced over (``--by``)."""
ORDER = [
    "benefit_month",
    "received_on",
    "decided_on",
    "sex",
    "household_type",
    "decision",
    "applied_sek",
    "granted_sek",
    "application_id",
]
"""Sort order of the frame: data only, the case system's application id breaks the last ties."""
SAMPLED = [c for c in columns.SAMPLED if c != "nr"]
"""The sampled columns the reviewer sees (and must not edit)."""


@dataclass(frozen=True)
class Round:
    """A drawn round: its folder and its record (no ids)."""

    round_id: str
    folder: Path
    record: dict

    @property
    def workbook(self) -> Path:
        return self.folder / paths.workbook_name(self.round_id)


def read_frame(source_url: str, year: int, decisions: tuple[str, ...]) -> pd.DataFrame:
    """Decided applications of ``year`` with the applicant's sex and the household type."""
    app, person, household = source.application, source.person, source.household
    query = (
        sa.select(
            app.c.application_id,
            app.c.household_id,
            person.c.sex,
            household.c.household_type,
            app.c.benefit_month,
            app.c.received_on,
            app.c.decided_on,
            app.c.decision,
            app.c.applied_sek,
            app.c.granted_sek,
        )
        .join(person, person.c.person_id == app.c.applicant_id)
        .join(household, household.c.household_id == app.c.household_id)
        .where(app.c.decided_on.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
        .where(app.c.decision.in_(decisions))
    )
    engine = sa.create_engine(source_url)
    try:
        with engine.connect() as conn:
            frame = pd.DataFrame(
                conn.execute(query).mappings().all(), columns=[c.name for c in query.selected_columns]
            )
    finally:
        engine.dispose()
    return clean(frame)


def clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Typed, only rows the review can use (sex K/M, dates and amounts readable), one per id."""
    df = frame.copy()
    for col in ("application_id", "household_id", "sex", "decision"):
        df[col] = df[col].astype("string").str.strip()
    for col in ("benefit_month", "received_on", "decided_on"):
        df[col] = pd.to_datetime(
            df[col].astype("string").str.slice(0, 10), errors="coerce", format="%Y-%m-%d"
        )
    for col in ("applied_sek", "granted_sek"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    df["household_type"] = pd.to_numeric(df["household_type"], errors="coerce").astype("Int64")
    usable = df["sex"].isin(SEXES) & df["application_id"].notna() & df["benefit_month"].notna()
    usable &= df["decided_on"].notna() & df["household_type"].notna()
    df = df[usable.fillna(False).astype(bool)]
    df = df[~df["application_id"].duplicated(keep=False)]  # an id twice in the source: neither is safe
    return sort(df)


def sort(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(ORDER, kind="stable", na_position="first").reset_index(drop=True)


def data_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of the sorted frame: the same data gives the same hash (recorded with the round)."""
    text = sort(frame)[ORDER + ["household_id"]].to_csv(
        index=False, lineterminator="\n", date_format="%Y-%m-%d"
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def quotas(per_sex: int, groups: list) -> dict:
    """``per_sex`` spread as evenly as possible over ``groups`` (the first ones get the remainder)."""
    base, extra = divmod(per_sex, len(groups))
    return {g: base + (1 if i < extra else 0) for i, g in enumerate(groups)}


def draw(
    frame: pd.DataFrame, per_sex: int, seed: int, by: str | None = None, exclude: frozenset[str] = frozenset()
) -> tuple[pd.DataFrame, list[dict]]:
    """The sample of ``frame`` (sorted by ``sort``) and one line per stratum (available, drawn)."""
    if by is not None and by not in STRATA:
        raise ReviewError(f"Urvalet kan bara fördelas över {', '.join(STRATA)}, inte {by!r}.")
    df = sort(frame[~frame["application_id"].isin(exclude)])
    rng = np.random.default_rng(seed)
    picked, strata = [], []
    for sex in SEXES:
        of_sex = df[df["sex"] == sex]
        groups = sorted(of_sex[by].dropna().unique().tolist()) if by else [None]
        for group, quota in quotas(per_sex, groups or [None]).items():
            rows = of_sex if group is None else of_sex[of_sex[by] == group]
            order = rng.permutation(len(rows))
            chosen = rows.iloc[np.sort(order[:quota])]
            picked.append(chosen)
            strata.append(
                {
                    "sex": sex,
                    by or "stratum": None if group is None else int(group),
                    "available": len(rows),
                    "quota": quota,
                    "drawn": len(chosen),
                }
            )
    sample = pd.concat(picked).sort_values(["benefit_month", "sex", "application_id"], kind="stable")
    return sample.reset_index(drop=True), strata


def sample_hash(cases: pd.DataFrame) -> str:
    """SHA-256 of the sampled columns as the workbook shows them (the import checks it)."""
    text = cases[["nr", *SAMPLED]].to_csv(index=False, lineterminator="\n", date_format="%Y-%m")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def excluded_ids(review_root: Path, rounds: list[str]) -> frozenset[str]:
    ids: set[str] = set()
    for round_id in rounds:
        folder = paths.round_dir(review_root, round_id)
        if not (folder / paths.CASES_FILE).exists():
            raise ReviewError(
                f"Omgången {round_id} finns inte i {review_root / paths.ROUNDS}; kan inte undantas."
            )
        ids |= set(pd.read_parquet(folder / paths.CASES_FILE)["application_id"].astype(str))
    return frozenset(ids)


def draw_round(
    source_url: str,
    year: int,
    seed: int,
    key: bytes,
    per_sex: int | None = None,
    by: str | None = None,
    exclude_rounds: tuple[str, ...] = (),
    data_dir: Path | None = None,
    now: dt.datetime | None = None,
) -> Round:
    """Draw, write the case list, the reviewer workbook and the round record; nothing else."""
    from reports.review_workbook import write_reviewer_workbook

    cfg = settings().review
    per_sex = per_sex or cfg.sample.per_sex
    frame = read_frame(source_url, year, cfg.sample.decisions)
    if frame.empty:
        raise ReviewError(f"Källan har inga beslutade ansökningar {year}; inget urval kan dras.")
    root = paths.root(data_dir)
    chosen, strata = draw(frame, per_sex, seed, by, excluded_ids(root, list(exclude_rounds)))
    round_id = paths.next_round_id(root, year)
    folder = paths.restricted(paths.round_dir(root, round_id))
    cases = chosen[SAMPLED].copy()
    cases.insert(0, "nr", np.arange(1, len(cases) + 1))
    cases["application_pseudonym"] = pseudonymise(cases["application_id"], key)
    cases["household_pseudonym"] = pseudonymise(cases["household_id"], key)
    cases.to_parquet(folder / paths.CASES_FILE, index=False)
    record = {
        "round": round_id,
        "year": year,
        "seed": seed,
        "per_sex": per_sex,
        "by": by,
        "exclude_rounds": list(exclude_rounds),
        "decisions": list(cfg.sample.decisions),
        "frame_rows": len(frame),
        "data_hash": data_hash(frame),
        "cases": len(cases),
        "sample_hash": sample_hash(cases),
        "strata": strata,
        "created": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
    }
    book = folder / paths.workbook_name(round_id)
    write_reviewer_workbook(book, cases, record, cfg.answers)
    record["workbook_sha256"] = hashlib.sha256(book.read_bytes()).hexdigest()
    (folder / paths.ROUND_FILE).write_text(
        json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return Round(round_id, folder, record)


def load_round(review_root: Path, round_id: str) -> tuple[dict, pd.DataFrame]:
    """A round's record and case list; a ReviewError when it does not exist."""
    folder = paths.round_dir(review_root, round_id)
    if not (folder / paths.ROUND_FILE).exists():
        raise ReviewError(f"Omgången {round_id} finns inte i {review_root / paths.ROUNDS}.")
    record = json.loads((folder / paths.ROUND_FILE).read_text(encoding="utf-8"))
    return record, pd.read_parquet(folder / paths.CASES_FILE)
