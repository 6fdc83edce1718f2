"""config/pipeline.yml: the unit, extraction, staging, disclosure thresholds, gender analysis,
judgement rule and orchestration."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from etl.settings.base import Frozen
from etl.vocabulary import ALL

MIN_RESAMPLES = 1000
"""Fewer bootstrap resamples give unstable interval ends."""

Code = Annotated[str, Field(pattern=r"^[A-Z]{2,5}$")]


class Unit(Frozen):
    name: str = Field(min_length=1)
    districts: tuple[Code, ...] = Field(min_length=1)
    timezone: str
    """Tertials begin and end at this zone's midnight (the timetable and the run's interval)."""

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"tidszonen {value!r} finns inte (t.ex. Europe/Stockholm)") from None
        return value

    @field_validator("districts")
    @classmethod
    def _districts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if ALL in value or len(set(value)) != len(value):
            raise ValueError(f"stadsdelskoderna ska vara unika och inte {ALL!r}")
        return value


class Extract(Frozen):
    chunk_rows: int = Field(gt=0)
    source_work_mem_mb: int = Field(gt=0)
    """PostgreSQL ``work_mem`` of the read sessions (config/pipeline.yml says why)."""
    workers: int = Field(default=1, ge=1)
    """Extraction tasks a CLI run runs at once (etl.pipeline, etl.child_step.run_all)."""


class Staging(Frozen):
    retention_days: int = Field(ge=1)


class Archive(Frozen):
    personal_data_retention_days: int = Field(ge=1)
    """This many days after it was archived, a package keeps its figures but no
    pseudonyms: quarantine examples, GX results and Data Docs are redacted (etl/retention.py)."""


class Disclosure(Frozen):
    """Thresholds and symbols; which figures are linked or add up comes from the catalogue."""

    min_persons: int = Field(ge=1)
    min_staff_group: int = Field(ge=1)
    suppressed_symbol: str = Field(min_length=1)
    nothing_symbol: str = Field(min_length=1)
    audit_rounds: int = Field(default=5, ge=0)
    """Rounds of audit-guided additions after the rule-based pattern (etl.disclosure)."""
    audit_threads: int = Field(default=1, ge=1)
    """Threads that solve the audit's intervals of one connected set (etl.audit_intervals)."""


class GenderAnalysis(Frozen):
    bootstrap_resamples: int = Field(ge=MIN_RESAMPLES)
    bootstrap_threads: int = Field(default=1, ge=1)
    """Threads resampling at once (the draws stay in one stream: the same results whatever the number)."""
    seed: int
    confidence: float = Field(gt=0, lt=1)
    min_households_per_sex: int = Field(ge=1)
    """A stratum enters the standardisation alone only with this many households of each sex."""
    multimodal_share: float = Field(gt=0, lt=1)
    """A kept stratum missing from more than this share of resamples flags the bootstrap."""


class Judgement(Frozen):
    tolerance_delvis: float = Field(ge=0, lt=1)
    """A result on the wrong side of the target but at most this far away (relative) is delvis uppfyllt."""
    rule: str = Field(min_length=1)
    """The rule in plain Swedish, printed on the workbook's Om statistiken sheet."""

    @field_validator("rule")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return " ".join(value.split())


class Orchestration(Frozen):
    source_pool: str = Field(min_length=1)
    source_pool_slots: int = Field(ge=1)
    deadline_hours: float = Field(gt=0)
    start_date: dt.date
    end_date: dt.date | None = None
    """Last day a scheduled tertial may start (None: no end); ``$EB_SCHEDULE_END`` overrides it."""

    @model_validator(mode="after")
    def _order(self) -> Orchestration:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date ligger före start_date")
        return self


class Comments(Frozen):
    """The managers' analysis round trip (etl/comments/)."""

    max_chars: int = Field(ge=1, le=32767)
    """Longest text accepted in one Analys or Åtgärder cell (Excel's own limit is 32 767)."""
    inbox_minutes: int = Field(ge=1)
    """How often the manager_comments DAG looks in the inbox."""
    settle_seconds: int = Field(ge=0)
    """A file changed more recently than this is left for the next look (still being copied)."""
    return_to: str = Field(min_length=1)
    """Where managers leave the filled-in workbook, in their words (the T1/T2 e-mail says it)."""


class Pipeline(Frozen):
    unit: Unit
    extract: Extract
    staging: Staging
    archive: Archive
    disclosure: Disclosure
    gender_analysis: GenderAnalysis
    judgement: Judgement
    orchestration: Orchestration
    comments: Comments

    @property
    def scopes(self) -> tuple[str, ...]:
        """Recipient scopes: the whole unit and each district (one workbook each)."""
        return (ALL, *self.unit.districts)
