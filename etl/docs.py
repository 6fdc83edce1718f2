"""Generated parts of the documentation: tables kept between markers in docs/*.md.

``python -m etl docs`` rewrites them; tests fail while a committed table differs from what
the configuration says, so the docs cannot drift from the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from etl import windows
from etl.settings import catalogue as catalogue_docs
from etl.settings import settings
from etl.settings.environment import REPO


def _catalogue() -> str:
    return catalogue_docs.markdown(settings().catalogue)


BLOCKS: tuple[tuple[str, str, str, Callable[[], str]], ...] = (
    ("docs/indicators.md", catalogue_docs.DOC_BEGIN, catalogue_docs.DOC_END, _catalogue),
    ("docs/source-contract.md", windows.DOC_BEGIN, windows.DOC_END, windows.markdown),
)
"""(file, begin marker, end marker, generator returning the block with its markers)."""


def _replace(text: str, begin: str, end: str, block: str) -> str:
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError(f"Markörerna {begin!r} … {end!r} saknas.")
    return pattern.sub(lambda _: block, text, count=1)


def stale(repo: Path = REPO) -> list[str]:
    """The docs files whose generated block differs from the configuration."""
    return [
        name
        for name, begin, end, make in BLOCKS
        if (text := (repo / name).read_text(encoding="utf-8")) != _replace(text, begin, end, make())
    ]


def write(repo: Path = REPO) -> list[str]:
    """Rewrite every generated block; returns the files that changed."""
    changed = []
    for name, begin, end, make in BLOCKS:
        path = repo / name
        text = path.read_text(encoding="utf-8")
        new = _replace(text, begin, end, make())
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(name)
    return changed
