"""Reading YAML into typed, immutable models, with Swedish errors that name file, key and value."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

M = TypeVar("M", bound=BaseModel)
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""PyYAML's safe loader, in C where libyaml is built in (the catalogue parses ~10× faster)."""


class SettingsError(ValueError):
    """A configuration file or environment variable holds a value the pipeline cannot use."""


class Frozen(BaseModel):
    """Immutable; unknown keys (a typo) and NaN/infinite numbers are refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)


_MESSAGES = {
    "missing": "saknas",
    "extra_forbidden": "är ingen känd nyckel (felstavad?)",
    "int_parsing": "ska vara ett heltal",
    "int_type": "ska vara ett heltal",
    "int_from_float": "ska vara ett heltal",
    "float_parsing": "ska vara ett tal",
    "float_type": "ska vara ett tal",
    "finite_number": "ska vara ett ändligt tal",
    "bool_parsing": "ska vara true eller false",
    "bool_type": "ska vara true eller false",
    "string_type": "ska vara en text",
    "date_parsing": "ska vara ett datum ÅÅÅÅ-MM-DD",
    "date_from_datetime_parsing": "ska vara ett datum ÅÅÅÅ-MM-DD",
    "date_type": "ska vara ett datum ÅÅÅÅ-MM-DD",
    "time_parsing": "ska vara en tid TT:MM",
    "list_type": "ska vara en lista",
    "tuple_type": "ska vara en lista",
    "dict_type": "ska vara en tabell (nyckel: värde)",
    "model_type": "ska vara en tabell (nyckel: värde)",
    "too_short": "har för få element",
}
_BOUNDS = {
    "greater_than": "ska vara större än {gt}",
    "greater_than_equal": "ska vara minst {ge}",
    "less_than": "ska vara mindre än {lt}",
    "less_than_equal": "ska vara högst {le}",
    "literal_error": "ska vara en av {expected}",
    "string_pattern_mismatch": "har fel form (mönster {pattern})",
}


def refuse_twice(ids: list[str]) -> None:
    """An indicator may be listed only once (in the catalogue, in a plan)."""
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ValueError(f"indikatorn {', '.join(twice)} står två gånger")


def _where(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "(hela filen)"


def explain(exc: ValidationError, source: str) -> SettingsError:
    """One Swedish line per problem: ``config/x.yml: a.b: värdet 'fem' ska vara ett heltal``."""
    lines = []
    for err in exc.errors(include_url=False):
        kind, ctx = err["type"], err.get("ctx") or {}
        loc = tuple(p for p in err["loc"] if p not in ("function-after", "function-before"))
        if kind in _MESSAGES:
            text = _MESSAGES[kind]
        elif kind in _BOUNDS:
            bounds = {k: ctx.get(k) for k in ("gt", "ge", "lt", "le", "expected", "pattern")}
            if isinstance(bounds["expected"], str):  # pydantic lists choices in English: "'a' or 'b'"
                bounds["expected"] = bounds["expected"].replace(" or ", ", ")
            text = _BOUNDS[kind].format(**bounds)
        elif kind == "value_error":
            text = str(ctx.get("error", err["msg"]))
        else:
            text = err["msg"]
        given = err.get("input")
        # A missing or unknown key has no value to show; a check of a whole section names its
        # own culprit in its message (showing the whole section would bury it).
        plain = kind not in ("missing", "extra_forbidden") and not isinstance(given, dict | list | tuple)
        value = f"värdet {given!r} " if plain else ""
        lines.append(f"{source}: {_where(loc)}: {value}{text}")
    return SettingsError("\n".join(lines))


def parse(model: type[M], raw: Any, source: str) -> M:
    """``model`` from ``raw``; a ValidationError becomes a SettingsError naming ``source``."""
    try:
        return model.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        raise explain(exc, source) from None


def read_yaml(path: Path) -> Any:
    """A YAML file's content; a missing or unreadable file is a SettingsError naming it."""
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.load(f, Loader=SAFE_LOADER)
    except FileNotFoundError:
        raise SettingsError(f"Konfigurationsfilen {path} finns inte.") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: ogiltig YAML ({exc}).") from None
