"""Cell formats of the workbooks: one place for number formats, symbols and styles.

Number formats use Excel's invariant codes (``#,##0``, ``0.0``) tagged Swedish (``[$-41D]``,
see ``swedish``): Excel shows them with the reader's separators (``1 234 567`` and ``0,4 %`` in
Swedish Excel), LibreOffice, which reads the tag, always in Swedish. A literal space as the
thousands separator cannot group millions or negative numbers in a number format, the tag can.
Percent values are already in percent units, so the format appends " %" instead of using
Excel's ``%`` (which multiplies by 100).
"""

from __future__ import annotations

import xlsxwriter
from xlsxwriter.format import Format

NUMBER_FORMATS: dict[str, str] = {
    "antal": "#,##0",
    "procent": '0.0" %"',
    "kr": '#,##0" kr"',
    "dagar": '0.0" dagar"',
    "årsarbetare": "#,##0.0",
    "index": "0",
}
"""Excel number format per statistics unit (the published table's ``unit`` column)."""

SWEDISH = "[$-41D]"
"""Locale tag of a number format: Swedish (LCID 0x041D)."""
HEADER_BG = "#DDEBF7"
GROUP_BG = "#BDD7EE"
NOTE_COLOR = "#595959"


def swedish(num_format: str) -> str:
    """``num_format`` tagged Swedish: space between thousands, decimal comma."""
    if num_format in ("General", "@", ";;;") or num_format.startswith("[$"):
        return num_format
    return SWEDISH + num_format


class Formats:
    """Formats of one workbook, created on first use in a fixed order (deterministic styles)."""

    def __init__(self, wb: xlsxwriter.Workbook):
        self.wb = wb
        self._cache: dict[tuple, Format] = {}

    def _get(self, key: tuple, props: dict) -> Format:
        if key not in self._cache:
            self._cache[key] = self.wb.add_format(props)
        return self._cache[key]

    def number(self, unit: str, bold: bool = False) -> Format:
        return self.num_format(NUMBER_FORMATS.get(unit, "General"), bold)

    def num_format(self, num_format: str, bold: bool = False) -> Format:
        props = {"num_format": swedish(num_format), "border": 1, "bold": bold, "valign": "top"}
        return self._get(("num", num_format, bold), props)

    def symbol(self, bold: bool = False) -> Format:
        """Suppression and nothing-to-report symbols: text, right aligned like numbers."""
        return self._get(("sym", bold), {"border": 1, "align": "right", "bold": bold, "valign": "top"})

    def blank(self) -> Format:
        """A cell that does not apply (e.g. sex for job places): grey, no value."""
        return self._get(("blank",), {"border": 1, "pattern": 1, "bg_color": "#F2F2F2"})

    @property
    def title(self) -> Format:
        return self._get(("title",), {"bold": True, "font_size": 14})

    @property
    def subtitle(self) -> Format:
        return self._get(("subtitle",), {"bold": True, "font_size": 11})

    @property
    def header(self) -> Format:
        props = {"bold": True, "bg_color": HEADER_BG, "border": 1, "text_wrap": True, "valign": "top"}
        return self._get(("header",), props)

    @property
    def header_right(self) -> Format:
        props = {"bold": True, "bg_color": HEADER_BG, "border": 1, "text_wrap": True, "valign": "top",
                 "align": "right"}  # fmt: skip
        return self._get(("header_right",), props)

    @property
    def group(self) -> Format:
        props = {"bold": True, "bg_color": GROUP_BG, "border": 1, "align": "center"}
        return self._get(("group",), props)

    @property
    def text(self) -> Format:
        return self._get(("text",), {"border": 1, "valign": "top", "text_wrap": True})

    @property
    def text_bold(self) -> Format:
        return self._get(("text_bold",), {"border": 1, "valign": "top", "text_wrap": True, "bold": True})

    @property
    def plain(self) -> Format:
        return self._get(("plain",), {"valign": "top"})

    @property
    def plain_wrap(self) -> Format:
        return self._get(("plain_wrap",), {"valign": "top", "text_wrap": True})

    @property
    def note(self) -> Format:
        return self._get(("note",), {"italic": True, "font_color": NOTE_COLOR})

    @property
    def note_wrap(self) -> Format:
        props = {"italic": True, "font_color": NOTE_COLOR, "text_wrap": True, "valign": "top"}
        return self._get(("note_wrap",), props)

    @property
    def wrap(self) -> Format:
        return self._get(("wrap",), {"text_wrap": True, "valign": "top", "border": 1})

    @property
    def icon(self) -> Format:
        return self._get(("icon",), {"border": 1, "align": "center", "valign": "top", "num_format": ";;;"})
