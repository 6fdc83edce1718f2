"""``python -m etl review sample|import|compare`` (docs/review.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from etl.review.paths import ReviewError


def add_parser(sub) -> None:
    p = sub.add_parser("review", help="ärendegranskning: urval, import och jämförelse (docs/review.md)")
    steps = p.add_subparsers(dest="review_command", required=True)
    s = steps.add_parser("sample", help="dra en granskningsomgång och skriv granskarens arbetsbok")
    s.add_argument("--source", required=True, help="källdatabasens SQLAlchemy-URL")
    s.add_argument("--year", required=True, type=int, help="år då ansökningarna beslutades")
    s.add_argument("--per-sex", type=int, default=None, help="ärenden per kön (standard: config/review.yml)")
    s.add_argument("--by", choices=["household_type"], default=None, help="fördela jämnt över hushållstyper")
    s.add_argument("--exclude-round", action="append", default=[], help="undanta en tidigare omgångs ärenden")
    s.add_argument("--seed", required=True, type=int, help="slumpfrö: samma frö och data ger samma urval")
    i = steps.add_parser("import", help="läs in en ifylld granskningsarbetsbok")
    i.add_argument("file", type=Path)
    c = steps.add_parser("compare", help="jämför två omgångar (före och efter)")
    c.add_argument("--before", required=True)
    c.add_argument("--after", required=True)


def main(args: argparse.Namespace) -> int:
    try:
        if args.review_command == "sample":
            from etl import pseudonym
            from etl.review.sample import draw_round

            done = draw_round(
                args.source,
                args.year,
                args.seed,
                pseudonym.load_key(),
                args.per_sex,
                args.by,
                tuple(args.exclude_round),
            )
            print(f"Omgång {done.round_id}: {done.record['cases']} ärenden. Arbetsbok: {done.workbook}")
            short = [s for s in done.record["strata"] if s["drawn"] < s["quota"]]
            for s in short:
                print(f"OBS: bara {s['drawn']} av {s['quota']} ärenden fanns i stratum {s}", file=sys.stderr)
        elif args.review_command == "import":
            from etl.review.importer import import_workbook

            done = import_workbook(args.file)
            state = "ny version" if done.new else "samma fil som redan är inläst"
            print(f"Omgång {done.round_id}: {done.rows} ärenden inlästa ({done.version.name}, {state}).")
        else:
            from etl.review.steps import compare_rounds

            print(f"Jämförelse: {compare_rounds(args.before, args.after)}")
    except ReviewError as exc:
        print(f"FEL: {exc}", file=sys.stderr)
        return 1
    return 0
