"""Find personnummer/samordningsnummer in files the pipeline wrote.

Text files are scanned as they are; Parquet files value by value (their pages are
compressed); xlsx and other zip containers member by member. A hit is a 12-digit number
(optionally with - or + before the last four) with a plausible birth date (day + 60 for
samordningsnummer) and a valid Luhn check digit.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from etl.pseudonym import luhn_check_digit

PNR = re.compile(r"(?<![0-9])((?:18|19|20)\d{6})[-+]?(\d{4})(?![0-9])")


def _is_personnummer(date8: str, last4: str) -> bool:
    month, day = int(date8[4:6]), int(date8[6:8])
    if not (1 <= month <= 12 and (1 <= day <= 31 or 61 <= day <= 91)):
        return False
    return luhn_check_digit(date8[2:] + last4[:3]) == int(last4[3])


def find_in_text(text: str) -> list[str]:
    return [m.group(0) for m in PNR.finditer(text) if _is_personnummer(m.group(1), m.group(2))]


def _parquet_text(path: Path) -> str:
    table = pq.read_table(path)
    parts = [" ".join(table.column_names)]
    for col in table.columns:
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            parts.append("\n".join(v for v in col.to_pylist() if v is not None))
        elif pa.types.is_integer(col.type):
            parts.append("\n".join(str(v) for v in col.to_pylist() if v is not None))
    return "\n".join(parts)


def scan(root: Path) -> dict[str, list[str]]:
    """Every file under ``root`` with the personnummer found in it."""
    hits: dict[str, list[str]] = {}
    for path in sorted(Path(root).rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".parquet":
            texts = [_parquet_text(path)]
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                texts = [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
        else:
            texts = [path.read_bytes().decode("latin-1")]
        found = [h for t in texts for h in find_in_text(t)]
        if found:
            hits[str(path)] = found
    return hits
