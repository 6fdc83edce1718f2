"""Configuration from config/*.yml, read once into typed, immutable objects."""

from __future__ import annotations

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
    min_persons: int
    min_staff_group: int
    suppressed_symbol: str
    nothing_symbol: str


@dataclass(frozen=True)
class PipelineConfig:
    unit_name: str
    timezone: str
    districts: tuple[str, ...]
    chunk_rows: int
    staging_retention_days: int
    disclosure: DisclosureConfig


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
    )


def data_dir() -> Path:
    """Root for staging and the archive: $EB_DATA_DIR, else var/data in the repository."""
    default = Path(__file__).resolve().parent.parent / "var" / "data"
    return Path(os.environ.get("EB_DATA_DIR", default))


def scopes() -> list[str]:
    """Recipient scopes: the whole unit and each district (one workbook each)."""
    return [ALL, *pipeline().districts]
