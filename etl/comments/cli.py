"""``python -m etl comments import FILE.xlsx``: the same import the DAG manager_comments runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("comments", help="chefernas analys och åtgärder (docs/comments.md)")
    steps = p.add_subparsers(dest="comments_command", required=True)
    i = steps.add_parser("import", help="läs in en ifylld arbetsbok (Analys och Åtgärder)")
    i.add_argument("file", type=Path)
    i.add_argument("--from", dest="sender", default=None, help="avsändarens adress (får kvittot)")
    i.add_argument("--data-dir", type=Path, default=None, help="datamappen (standard: $EB_DATA_DIR)")


def main(args: argparse.Namespace) -> int:
    from etl.comments.inbox import import_file
    from etl.comments.reader import CommentsRefused
    from etl.mail.ledger import DeliveryUncertain

    try:
        done = import_file(args.file, args.data_dir, sender=args.sender)
    except (CommentsRefused, DeliveryUncertain) as exc:
        print(f"FEL: {exc}", file=sys.stderr)
        return 1
    print(done.summary())
    return 0
