"""A seeded simulated case review (``make review-demo``): fills a reviewer workbook as a reviewer
would, with a gender gap before the project and a smaller one after.

Demo only: never imported by etl or reports. ``python -m demo.review IN.xlsx OUT.xlsx --seed N
[--after]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from etl.review.columns import CASES_SHEET, COLUMNS, HEADER_ROW
from etl.settings import settings


def fill(workbook: Path, out: Path, seed: int, after: bool) -> Path:
    """Answer every case; women's investigations are rated lower before the project."""
    import openpyxl

    answers = settings().review.answers
    rng = np.random.default_rng(seed)
    book = openpyxl.load_workbook(workbook)
    ws = book[CASES_SHEET]
    col = {c.key: j + 1 for j, c in enumerate(COLUMNS)}
    row = HEADER_ROW + 2
    while ws.cell(row, col["nr"]).value is not None:
        woman = ws.cell(row, col["sex"]).value == "K"
        gap = 0.0 if not woman else (0.15 if after else 0.45)
        quality = int(np.clip(np.round(rng.normal(3.0 - 2 * gap, 0.8)), 1, 4))
        ws.cell(row, col["concerned"]).value = str(
            rng.choice(list(answers.concerned), p=_weights(len(answers.concerned)))
        )
        ws.cell(row, col["quality"]).value = quality
        ws.cell(row, col["guideline"]).value = (
            "ja" if rng.random() > 0.15 + gap else str(rng.choice(["nej", "delvis"]))
        )
        ws.cell(row, col["bemotande"]).value = "ja" if rng.random() > 0.3 + gap / 2 else "nej"
        row += 1
    book.save(out)
    return out


def _weights(n: int) -> list[float]:
    w = np.array([0.5] + [0.5 / (n - 1)] * (n - 1))
    return list(w / w.sum())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m demo.review", description="simulerad ärendegranskning (demo)")
    p.add_argument("workbook", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--after", action="store_true", help="omgången efter projektet (mindre skillnad)")
    args = p.parse_args(argv)
    print(f"Simulerad granskning: {fill(args.workbook, args.out, args.seed, args.after)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
