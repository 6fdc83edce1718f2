"""Command line: ``python -m etl run|verify|docs|review|comments`` (demo data: ``python -m demo``).

Exit codes for ``run``: 0 success, 2 validation stopped the run, 1 any other error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from etl.comments import cli as comments_cli
from etl.periods import Period, PeriodError
from etl.review import cli as review_cli

EXIT_OK, EXIT_ERROR, EXIT_VALIDATION = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m etl", description="Tertialuppföljning ekonomiskt bistånd")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="kör hela kedjan för en period utan Airflow")
    run.add_argument("--source", required=True, help="källdatabasens SQLAlchemy-URL")
    run.add_argument("--period", required=True, help="t.ex. 2018-T1")
    run.add_argument("--out", required=True, type=Path, help="mapp för staging, utdata och arkiv")
    run.add_argument("--no-email", action="store_true", help="skicka inga e-postmeddelanden")
    run.add_argument(
        "--resend", action="store_true", help="skicka igen även till den som redan fått samma siffror"
    )

    ver = sub.add_parser("verify", help="kontrollera arkivets checksummor")
    ver.add_argument("archive_root", type=Path)

    sub.add_parser("docs", help="skriv om de genererade tabellerna i docs/ från konfigurationen")

    aud = sub.add_parser("audit-disclosure", help="pröva om dolda uppgifter i ett paket kan räknas fram")
    aud.add_argument("package", type=Path, help="arkivpaketet (mappen med published.csv) eller filen")
    review_cli.add_parser(sub)
    comments_cli.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    args = _parser().parse_args(argv)
    if args.command == "review":
        return review_cli.main(args)
    if args.command == "comments":
        return comments_cli.main(args)
    if args.command == "docs":
        from etl import docs

        for name in docs.write():
            print(f"Uppdaterade {name}")
        return EXIT_OK
    if args.command == "audit-disclosure":
        from etl import audit, disclosure_gate
        from etl.published import PUBLISHED, read_published

        path = args.package / PUBLISHED if args.package.is_dir() else args.package
        summary = disclosure_gate.read_summary(path.parent)  # the primary cells, when the package has them
        if summary and args.package.is_dir():  # the package's comparison periods too
            result = disclosure_gate.check(args.package)
        else:
            sensitive = disclosure_gate.sensitive_cells(summary) if summary else None
            result = audit.audit(read_published(path), sensitive=sensitive)
        if summary:
            print(disclosure_gate.note(summary))
        print(result.summary())
        return EXIT_OK if result.ok else EXIT_ERROR
    if args.command == "verify":
        from etl import archive

        problems = archive.verify(args.archive_root)
        for line in problems:
            print(line, file=sys.stderr)
        print("Arkivet är intakt." if not problems else f"{len(problems)} avvikelser.")
        return EXIT_ERROR if problems else EXIT_OK
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    from etl import pipeline, pseudonym, staging
    from etl.mail.ledger import DeliveryUncertain
    from etl.validation.report import ValidationStop

    try:
        period = Period.parse(args.period)
        key = pseudonym.load_key()
        result = pipeline.run_period(
            args.source, period, args.out, key, send_emails=not args.no_email, resend=args.resend
        )
    except ValidationStop as exc:
        print(f"STOPP: {exc}", file=sys.stderr)
        return EXIT_VALIDATION
    except (PeriodError, pseudonym.PseudonymKeyError, staging.RunLocked, DeliveryUncertain) as exc:
        print(f"FEL: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - the CLI's contract is exit 1 with a readable reason
        logging.getLogger("etl").exception("Körningen misslyckades")
        print(f"FEL: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(f"Arkivpaket: {result.package}")
    for book in result.workbooks:
        print(f"Arbetsbok: {book}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
