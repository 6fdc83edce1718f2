"""A copy of config/ to change in a test, and the settings read from it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import yaml

from etl.settings import load

REPO = Path(__file__).resolve().parents[2]


def config_copy(tmp_path: Path, **edits: Callable[[dict], object]) -> Path:
    """config/ copied to ``tmp_path / "config"``; each edit (file stem → function changing the
    parsed YAML in place, e.g. ``pipeline=lambda raw: ...``) is applied and written back.
    Plan files are named ``plans_2018`` etc."""
    target = tmp_path / "config"
    shutil.copytree(REPO / "config", target)
    for stem, change in edits.items():
        path = target / (stem.replace("plans_", "plans/") + ".yml")
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(raw)
        path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def load_copy(tmp_path: Path, **edits: Callable[[dict], object]):
    """The settings of an edited copy of config/ (bypassing the cache of the real folder)."""
    return load.__wrapped__(config_copy(tmp_path, **edits))
