"""The rules extraction cleans source text by, in one place for both of its paths (the exact
per-value coercion in etl/extract.py and the vectorised one in etl/extract_arrow.py)."""

from __future__ import annotations

MAX_TEXT = 1_000
"""Longer text values are type errors (quarantined): no source text of this contract is that long,
and a workbook cell would cut it silently at 32,767 characters."""
HIDDEN = r"[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]"
"""Control characters (NUL, line breaks, ...) and bidirectional overrides (RLO, U+202E): removed
from text values at extraction, counted in the meta file (``cleaned``)."""
HIDDEN_RE2 = r"[\x00-\x1f\x7f\x{200e}\x{200f}\x{202a}-\x{202e}\x{2066}-\x{2069}]"
"""``HIDDEN`` in RE2's syntax (Arrow's regular expressions)."""
