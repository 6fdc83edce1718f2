"""Reading a returned workbook and checking it against its archived original.

Refused (nothing stored) unless: it is an .xlsx this pipeline wrote (its custom properties name
a T1/T2 workbook in the archive, by run id and figures hash, and the figures hash recomputed from
that package's published.csv matches), its figures are still the latest of the tertial, every
sheet and every cell except Analys and Åtgärder on Sammanfattning holds what the pipeline wrote,
and the texts are plain (no formulas, no control characters, at most ``comments.max_chars``).
Every problem is one Swedish line naming the sheet and cell.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from etl import archive
from etl.comments import identity
from etl.periods import Period
from etl.published import PUBLISHED, read_published
from etl.settings import settings
from etl.vocabulary import ALL

WORKBOOKS = "workbooks"
"""The folder of a package that holds the workbooks (etl.pipeline.WORKBOOKS)."""
MAX_SHOWN = 30
"""Problems listed in the message; a workbook edited all over would otherwise list every cell."""
ALLOWED_CONTROL = {"\n"}
"""Line breaks (Alt+Enter in Excel) are plain text; every other control character is refused."""
PROPERTIES = "Dokumentegenskaperna (Arkiv > Info > Egenskaper)"


class CommentsRefused(RuntimeError):
    """The file was refused; ``problems`` holds one Swedish line per problem."""

    def __init__(self, path: Path, problems: list[str]):
        self.path, self.problems = Path(path), problems
        shown = [f"- {p}" for p in problems[:MAX_SHOWN]]
        if len(problems) > MAX_SHOWN:
            shown.append(f"- … och {len(problems) - MAX_SHOWN} problem till.")
        super().__init__(f"{self.path.name} lästes inte in, inget har sparats:\n" + "\n".join(shown))


@dataclass(frozen=True)
class Comment:
    indicator: str
    analys: str
    atgarder: str


@dataclass(frozen=True)
class Returned:
    """A checked returned workbook: which package it belongs to and the comments written in it."""

    path: Path
    file_sha256: str
    period: Period
    scope: str
    workbook: str
    origin: Path
    """The package version the workbook was archived in."""
    figures_sha256: str
    comments: tuple[Comment, ...]


def _open(path: Path):
    import openpyxl

    if not path.is_file():
        raise CommentsRefused(path, [f"Filen {path} finns inte."])
    if path.stat().st_size == 0 or not zipfile.is_zipfile(path):
        raise CommentsRefused(
            path, ["Filen är ingen Excel-arbetsbok (.xlsx). Spara arbetsboken som .xlsx och skicka den igen."]
        )
    try:
        return openpyxl.load_workbook(path)  # formulas as formulas: a comment must not be one
    except Exception as exc:  # noqa: BLE001 - any unreadable file is refused with its reason
        raise CommentsRefused(path, [f"Filen kan inte läsas som .xlsx ({type(exc).__name__})."]) from None


def _properties(book) -> dict[str, str]:
    return {p.name: str(p.value) for p in book.custom_doc_props.props}


def _identity(path: Path, props: dict[str, str]) -> tuple[Period, str]:
    missing = [name for name in identity.IDENTITY if not props.get(name)]
    if missing:
        raise CommentsRefused(
            path,
            [
                f"{PROPERTIES}: {', '.join(missing)} saknas. Arbetsboken kommer inte från "
                "tertialuppföljningen (eller har sparats i ett program som tar bort egenskaperna)."
            ],
        )
    try:
        period = Period(int(props[identity.YEAR]), int(props[identity.TERTIAL]))
    except (TypeError, ValueError):
        raise CommentsRefused(
            path, [f"{PROPERTIES}: år eller tertial är ändrade och går inte att läsa."]
        ) from None
    if period.tertial not in identity.TERTIALS:
        raise CommentsRefused(path, [f"{PROPERTIES}: {period} har inga kommentarsceller (bara T1 och T2)."])
    return period, props[identity.SCOPE]


def _origin(path: Path, root: Path, period: Period, props: dict[str, str]) -> tuple[Path, Path]:
    """The package version and archived workbook this file was made from (run id and figures)."""
    name = props[identity.WORKBOOK]
    if Path(name).name != name:
        raise CommentsRefused(path, [f"{PROPERTIES}: arbetsbokens namn {name!r} är ändrat."])
    for version in archive.versions(root, period):
        book = version / WORKBOOKS / name
        if archive.read_manifest(version).get("run_id") != props[identity.RUN_ID] or not book.is_file():
            continue
        if _properties(_open(book)).get(identity.FIGURES) == props[identity.FIGURES]:
            return version, book
    raise CommentsRefused(
        path,
        [
            f"{PROPERTIES}: arbetsboken {name} ({period}, siffror {props[identity.FIGURES][:12]}…) finns "
            "inte i arkivet. Den kommer inte från tertialuppföljningen eller hör till ett annat paket."
        ],
    )


def _check_archive(path: Path, root: Path, period: Period, scope: str, origin: Path, name: str,
                   figures: str) -> None:  # fmt: skip
    problems = archive.verify_package(origin)
    if problems:
        raise CommentsRefused(path, [f"Arkivpaketet stämmer inte med sitt manifest: {p}" for p in problems])
    shown = identity.shown_scopes(scope, list(settings().districts), ALL)
    again = identity.figures_hash(read_published(origin / PUBLISHED), str(period), scope, shown)
    if again != figures:
        raise CommentsRefused(
            path, [f"{PROPERTIES}: siffrornas kontrollsumma stämmer inte med arkivpaketet {origin.name}."]
        )
    latest = archive.versions(root, period)[-1]
    newest = latest / WORKBOOKS / name
    if not newest.is_file() or _properties(_open(newest)).get(identity.FIGURES) != figures:
        raise CommentsRefused(
            path,
            [
                f"{PROPERTIES}: arbetsboken hör till version {origin.name[1:]} av {period}, men siffrorna "
                f"har ersatts av en senare körning (version {latest.name[1:]}). Skriv in kommentarerna "
                "i den senaste arbetsboken och skicka den."
            ],
        )


def _comment_cells(original) -> dict[tuple[int, int], tuple[str, str]]:
    """(row, column) → (indicator id, which) of every comment cell: the original's unlocked cells
    on the goal rows its properties list (the first is Analys, the second Åtgärder)."""
    ws = original[identity.SHEET]
    cells: dict[tuple[int, int], tuple[str, str]] = {}
    for name, indicator in _properties(original).items():
        if not name.startswith(identity.ROW_PREFIX):
            continue
        row = int(name[len(identity.ROW_PREFIX) :])
        free = [c.column for c in ws[row] if c.protection.locked is False]
        for column, which in zip(free, (identity.ANALYS, identity.ATGARDER), strict=False):
            cells[(row, column)] = (indicator, which)
    return cells


def _same(a, b) -> bool:
    a = None if a == "" else a
    b = None if b == "" else b
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return type(a) is type(b) and a == b


def _shown(value) -> str:
    if value is None or value == "":
        return "tom"
    text = str(value).replace(".", ",") if isinstance(value, float) else str(value)  # Swedish decimal comma
    return repr(text if len(text) <= 40 else text[:40] + "…")


def _changed_cells(original, returned, comment_cells) -> list[str]:
    problems = []
    for name in original.sheetnames:
        if name not in returned.sheetnames:
            problems.append(
                f"Bladet {name!r} saknas (borttaget eller omdöpt); det måste finnas kvar oförändrat."
            )
    for name in returned.sheetnames:
        if name not in original.sheetnames:
            problems.append(f"Bladet {name!r} är tillagt; lägg inte till blad i arbetsboken.")
    for name in [n for n in original.sheetnames if n in returned.sheetnames]:
        a, b = original[name], returned[name]
        for row in range(1, max(a.max_row, b.max_row) + 1):
            for col in range(1, max(a.max_column, b.max_column) + 1):
                if name == identity.SHEET and (row, col) in comment_cells:
                    continue
                was, now = a.cell(row, col).value, b.cell(row, col).value
                if _same(was, now):
                    continue
                kind = "siffra" if isinstance(was, int | float) else "låst cell"
                where = f"{name}!{b.cell(row, col).coordinate}"
                problems.append(
                    f"{where}: ändrad {kind} (var {_shown(was)}, är {_shown(now)}). "
                    "Bara cellerna Analys och Åtgärder på Sammanfattning får fyllas i."
                )
    return problems


def _text(cell, indicator: str, which: str, max_chars: int) -> tuple[str, list[str]]:
    """The plain text of one comment cell, or the problems with it."""
    entry = settings().catalogue.entry_for(indicator)
    where = f"{identity.SHEET}!{cell.coordinate} ({which}, {entry.name if entry else indicator})"
    value = cell.value
    if value is None:
        return "", []
    if cell.data_type == "f" or not isinstance(value, str | int | float) or isinstance(value, bool):
        if isinstance(value, dt.date | dt.time | dt.timedelta | bool):
            return "", [f"{where}: ska vara text, inte ett datum eller sanningsvärde."]
        return "", [f"{where}: en formel är inte tillåten; skriv vanlig text."]
    text = str(value).replace("\r\n", "\n").strip()
    if text.startswith("="):
        return "", [f"{where}: en formel är inte tillåten; skriv vanlig text (börja inte med =)."]
    control = sorted({ch for ch in text if unicodedata.category(ch) == "Cc" and ch not in ALLOWED_CONTROL})
    if control:
        shown = ", ".join(f"U+{ord(ch):04X}" for ch in control)
        return "", [f"{where}: innehåller styrtecken ({shown}); skriv eller klistra in vanlig text."]
    if len(text) > max_chars:
        return "", [f"{where}: {len(text)} tecken, högst {max_chars} får plats. Korta texten."]
    return text, []


def identify(path: Path) -> tuple[Period, str] | None:
    """The tertial and scope a file says it belongs to, or None when it cannot say (to tell the
    right people about a refusal; nothing is trusted from it)."""
    try:
        return _identity(Path(path), _properties(_open(Path(path))))
    except CommentsRefused:
        return None


def read_returned(path: Path, archive_root: Path) -> Returned:
    """Check ``path`` against the archive; CommentsRefused with every problem if it is not good."""
    path, root = Path(path), Path(archive_root)
    book = _open(path)
    props = _properties(book)
    period, scope = _identity(path, props)
    origin, archived = _origin(path, root, period, props)
    _check_archive(path, root, period, scope, origin, props[identity.WORKBOOK], props[identity.FIGURES])
    original = _open(archived)
    cells = _comment_cells(original)
    problems = _changed_cells(original, book, cells)
    texts: dict[str, dict[str, str]] = {}
    if identity.SHEET in book.sheetnames:
        max_chars = settings().pipeline.comments.max_chars
        ws = book[identity.SHEET]
        for (row, col), (indicator, which) in sorted(cells.items()):
            text, wrong = _text(ws.cell(row, col), indicator, which, max_chars)
            problems += wrong
            texts.setdefault(indicator, {})[which] = text
    if problems:
        raise CommentsRefused(path, problems)
    comments = tuple(
        Comment(indicator, t.get(identity.ANALYS, ""), t.get(identity.ATGARDER, ""))
        for indicator, t in sorted(texts.items())
        if t.get(identity.ANALYS) or t.get(identity.ATGARDER)
    )
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    return Returned(
        path, digest, period, scope, props[identity.WORKBOOK], origin, props[identity.FIGURES], comments
    )
