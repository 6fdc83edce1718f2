"""Command line: ``python -m demo --db URL [--scale unit|city|national] [--seed N]``."""

from __future__ import annotations

import argparse
import sys

from demo.calibration import SCALES
from demo.write import generate


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m demo", description="skapa syntetisk demodata i en databas")
    p.add_argument("--db", required=True, help="SQLAlchemy-URL, t.ex. sqlite:///var/demo/source.db")
    p.add_argument("--scale", default="unit", choices=list(SCALES))
    p.add_argument("--seed", type=int, default=2018)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    counts = generate(args.db, scale=args.scale, seed=args.seed)
    for table, n in counts.items():
        print(f"{table:<18}{n:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
