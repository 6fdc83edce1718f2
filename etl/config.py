"""Configuration from config/*.yml, read once into typed, immutable objects."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

ALL = "ALL"
"""Scope code for the whole unit (all districts together)."""

CONFIG_DIR = Path(os.environ.get("EB_CONFIG_DIR", Path(__file__).resolve().parent.parent / "config"))


@dataclass(frozen=True)
class DisclosureConfig:
    """Disclosure rules (etl.disclosure). ``linked`` and ``sum_groups`` may come from YAML as
    lists and dicts; they are normalised to tuples so the object stays immutable.

    - ``linked``: families of indicator ids hidden together at the same period, scope and sex
      (one figure can be computed from another). An id may hold one ``*``: members are linked
      where their ``*`` parts are equal.
    - ``sum_groups``: ``(total, parts)``: the parts add up to the total at the same period,
      scope and sex. A ``*`` in a part is carried into the total; ``{year}`` only matches the
      row's own period year.
    """

    min_persons: int
    min_staff_group: int
    suppressed_symbol: str
    nothing_symbol: str
    linked: tuple[tuple[str, ...], ...] = ()
    sum_groups: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __post_init__(self) -> None:
        if int(self.min_persons) < 1 or int(self.min_staff_group) < 1:
            raise ValueError("disclosure: min_persons och min_staff_group måste vara positiva heltal.")
        linked = tuple(tuple(str(i) for i in family) for family in self.linked)
        if any(len(family) < 2 for family in linked):
            raise ValueError("disclosure.linked: varje familj måste ha minst två indikatorer.")
        groups = []
        for entry in self.sum_groups:
            total, parts = (entry["total"], entry["parts"]) if isinstance(entry, dict) else entry
            parts = (parts,) if isinstance(parts, str) else tuple(str(p) for p in parts)
            if not parts:
                raise ValueError(f"disclosure.sum_groups: totalen {total!r} saknar delar.")
            groups.append((str(total), parts))
        object.__setattr__(self, "linked", linked)
        object.__setattr__(self, "sum_groups", tuple(groups))


@dataclass(frozen=True)
class GenderAnalysisConfig:
    bootstrap_resamples: int
    seed: int
    confidence: float


@dataclass(frozen=True)
class OrchestrationConfig:
    source_pool: str
    source_pool_slots: int
    deadline_hours: float
    start_date: dt.date
    end_date: dt.date | None = None
    """Last day a tertial may start (None: no end). ``$EB_SCHEDULE_END`` overrides it, so the
    demo's Airflow schedules only the tertials its data covers."""

    @classmethod
    def from_dict(cls, raw: dict) -> OrchestrationConfig:
        end = os.environ.get("EB_SCHEDULE_END") or raw.get("end_date")
        return cls(
            source_pool=str(raw["source_pool"]),
            source_pool_slots=int(raw["source_pool_slots"]),
            deadline_hours=float(raw["deadline_hours"]),
            start_date=_date(raw["start_date"]),
            end_date=_date(end) if end else None,
        )


def _date(value: str | dt.date) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


@dataclass(frozen=True)
class PipelineConfig:
    unit_name: str
    timezone: str
    districts: tuple[str, ...]
    chunk_rows: int
    staging_retention_days: int
    disclosure: DisclosureConfig
    gender_analysis: GenderAnalysisConfig
    orchestration: OrchestrationConfig


def _read(name: str) -> dict:
    with open(CONFIG_DIR / name, encoding="utf-8") as f:
        return yaml.safe_load(f)


@cache
def pipeline() -> PipelineConfig:
    raw = _read("pipeline.yml")
    return PipelineConfig(
        unit_name=raw["unit"]["name"],
        timezone=raw["unit"]["timezone"],
        districts=tuple(raw["unit"]["districts"]),
        chunk_rows=int(raw["extract"]["chunk_rows"]),
        staging_retention_days=int(raw["staging"]["retention_days"]),
        disclosure=DisclosureConfig(**raw["disclosure"]),
        gender_analysis=GenderAnalysisConfig(**raw["gender_analysis"]),
        orchestration=OrchestrationConfig.from_dict(raw["orchestration"]),
    )


def data_dir() -> Path:
    """Root for staging and the archive: $EB_DATA_DIR, else var/data in the repository."""
    default = Path(__file__).resolve().parent.parent / "var" / "data"
    return Path(os.environ.get("EB_DATA_DIR", default))


def scopes() -> list[str]:
    """Recipient scopes: the whole unit and each district (one workbook each)."""
    return [ALL, *pipeline().districts]
