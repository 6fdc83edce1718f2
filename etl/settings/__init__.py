"""All configuration, read once: config/*.yml, config/plans/<year>.yml and every EB_* variable.

``settings()`` gives typed, immutable objects (pydantic, frozen; unknown keys and bad values are
refused with a Swedish message naming the file, key and value). The YAML is read once per
configuration folder; the environment (``env()``) is read on each call, since tests and Airflow
set it per process. Nothing else in the project opens a config file or reads an ``EB_*`` variable.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from etl.settings.base import SettingsError, parse, read_yaml
from etl.settings.catalogue import Catalogue, Entry
from etl.settings.environment import Environment, env
from etl.settings.mail import Mail, Recipient
from etl.settings.pipeline import Pipeline
from etl.settings.plans import Budget, BudgetRow, Plan
from etl.settings.review import Review
from etl.settings.validation import Validation

__all__ = [
    "Budget", "BudgetRow", "Catalogue", "Entry", "Environment", "Mail", "Pipeline", "Plan",
    "Recipient", "Review", "Settings", "SettingsError", "Validation", "env", "reload", "settings",
]  # fmt: skip

PLANS = "plans"
TEMPLATE = "TEMPLATE.yml"


@dataclass(frozen=True)
class Settings:
    pipeline: Pipeline
    validation: Validation
    mail: Mail
    catalogue: Catalogue
    plans: tuple[Plan, ...]
    config_dir: Path
    review: Review = Review()
    """config/review.yml (the case review, docs/review.md); defaults when the file is absent."""

    def plan(self, year: int) -> Plan | None:
        """The verksamhetsplan of ``year``; None when there is none (never another year's)."""
        return next((p for p in self.plans if p.year == year), None)

    @property
    def scopes(self) -> tuple[str, ...]:
        return self.pipeline.scopes

    @property
    def unit_name(self) -> str:
        return self.pipeline.unit.name

    @property
    def timezone(self) -> str:
        return self.pipeline.unit.timezone

    @property
    def districts(self) -> tuple[str, ...]:
        return self.pipeline.unit.districts


def settings() -> Settings:
    """The configuration in ``$EB_CONFIG_DIR`` (default: the repository's config/), read once."""
    return load(env().config_dir)


def reload() -> None:
    """Forget what was read (a test that edits its own copy of the configuration)."""
    load.cache_clear()


def _file(config_dir: Path, name: str, model):
    path = config_dir / name
    return parse(model, read_yaml(path), str(path))


def _cross_check(path: Path, check) -> None:
    try:
        check()
    except ValueError as exc:
        raise SettingsError(f"{path}: {exc}") from None


@cache
def load(config_dir: Path) -> Settings:
    """Read and check every file of ``config_dir``; checks that span files run here."""
    from etl import source  # the source contract names the tables validation may require

    config_dir = Path(config_dir)
    pipeline = _file(config_dir, "pipeline.yml", Pipeline)
    validation = _file(config_dir, "validation.yml", Validation)
    mail = _file(config_dir, "recipients.yml", Mail)
    catalogue = _file(config_dir, "catalogue.yml", Catalogue)
    scopes = pipeline.scopes
    _cross_check(config_dir / "recipients.yml", lambda: mail.check_scopes(scopes))
    for key in ("required_tables", "optional_tables"):
        unknown = sorted(set(getattr(validation, key)) - set(source.TABLES))
        if unknown:
            raise SettingsError(f"{config_dir / 'validation.yml'}: {key}: okända tabeller {unknown}")
    both = sorted(set(validation.required_tables) & set(validation.optional_tables))
    if both:
        raise SettingsError(
            f"{config_dir / 'validation.yml'}: {both} står både i required_tables och optional_tables"
        )
    plans = []
    for path in sorted((config_dir / PLANS).glob("*.yml")):
        if path.name == TEMPLATE:
            continue
        plan = parse(Plan, read_yaml(path), str(path))
        if path.stem != str(plan.year):
            raise SettingsError(
                f"{path}: year {plan.year} stämmer inte med filnamnet (ska vara {plan.year}.yml)"
            )
        missing = [i.id for i in plan.indicators if i.id not in catalogue]
        if missing:
            raise SettingsError(f"{path}: indikatorerna {missing} finns inte i config/catalogue.yml")
        _cross_check(path, lambda plan=plan: plan.check_scopes(scopes))
        _cross_check(path, lambda plan=plan: plan.check_units(catalogue))
        plans.append(plan)
    review_file = config_dir / "review.yml"
    review = _file(config_dir, "review.yml", Review) if review_file.exists() else Review()
    return Settings(pipeline, validation, mail, catalogue, tuple(plans), config_dir, review)


def schedule_end() -> dt.date | None:
    """Last day a scheduled tertial may start: ``$EB_SCHEDULE_END``, else orchestration.end_date."""
    return env().schedule_end or settings().pipeline.orchestration.end_date
