"""The review's steps as the CLI and the DAG call them: compare two rounds into a workbook, with
the registered-data gender analysis of the same years from the archive."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd

from etl import archive
from etl.disclosure import DisclosureConfig
from etl.periods import Period
from etl.published import PUBLISHED, read_published
from etl.review import paths
from etl.review.compare import compare
from etl.review.importer import latest_answers
from etl.review.sample import load_round
from etl.settings import env, settings
from etl.vocabulary import ALL

REGISTERED = {
    "ja_avslag_andel": "Avslag, andel av beslut (%)",
    "ja_beviljat_kr_medel": "Beviljat belopp, medelvärde (kr)",
    "ja_beviljat_andel_av_ansokt": "Beviljat av ansökt belopp (%)",
    "ja_handlaggningstid_median": "Handläggningstid, median (dagar)",
    "ja_beviljat_kr_justerad_skillnad": "Skillnad kvinnor − män i beviljat belopp, justerad (kr)",
    "ja_beviljat_kr_justerad_skillnad_ki_lag": "  konfidensintervall, nedre (kr)",
    "ja_beviljat_kr_justerad_skillnad_ki_hog": "  konfidensintervall, övre (kr)",
}
"""The registered-data gender analysis shown beside the review (etl/statistics/gender.py)."""


def registered(archive_root: Path, years: tuple[int, ...]) -> pd.DataFrame:
    """The gender analysis of each year from its latest archived tertial (T3 if there is one)."""
    rows = []
    for year in years:
        for tertial in (3, 2, 1):
            found = archive.versions(archive_root, Period(year, tertial))
            if found and (found[-1] / PUBLISHED).exists():
                pub = read_published(found[-1] / PUBLISHED)
                pub = pub[pub["indicator_id"].isin(REGISTERED) & (pub["district_code"] == ALL)]
                for r in pub.itertuples():
                    rows.append(
                        {
                            "indicator": r.indicator_id,
                            "label": REGISTERED[r.indicator_id],
                            "year": year,
                            "sex": r.sex,
                            "value": r.value,
                            "unit": r.unit,
                            "suppressed": bool(r.suppressed),
                            "period": f"{year}-T{tertial}",
                        }
                    )
                break
    frame = pd.DataFrame(
        rows, columns=["indicator", "label", "year", "sex", "value", "unit", "suppressed", "period"]
    )
    order = {k: i for i, k in enumerate(REGISTERED)}
    return frame.sort_values(
        ["indicator", "year", "sex"], key=lambda s: s.map(order) if s.name == "indicator" else s
    )


def compare_rounds(before: str, after: str, data_dir: Path | None = None) -> Path:
    """Write ``review/comparisons/<before>_<after>/jamforelse-….xlsx`` and archive a copy with its hash."""
    from reports.review_compare import write_comparison

    data_dir = Path(data_dir or env().data_dir)
    root = paths.root(data_dir)
    (rec_b, _), (rec_a, _) = load_round(root, before), load_round(root, after)
    cfg = settings()
    disclosure = DisclosureConfig.from_settings()
    comp = compare(
        latest_answers(root, before), latest_answers(root, after), before, after, cfg.review, disclosure
    )
    years = (int(rec_b["year"]), int(rec_a["year"]))
    folder = paths.restricted(root / paths.COMPARISONS / f"{before}_{after}")
    book = write_comparison(
        folder / f"jamforelse-{before}-{after}.xlsx",
        comp,
        registered(data_dir / "archive", years),
        years,
        cfg.unit_name,
        (disclosure.suppressed_symbol, disclosure.nothing_symbol),
    )
    kept = data_dir / "archive" / "review" / "comparisons"
    kept.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(book, kept / book.name)  # aggregated and suppressed only: may leave the folder
    digest = hashlib.sha256(book.read_bytes()).hexdigest()
    meta = {"before": before, "after": after, "years": list(years), "workbook": book.name, "sha256": digest}
    (kept / f"{book.stem}.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return book


def latest_comparison(data_dir: Path | None = None) -> Path | None:
    """The newest archived comparison workbook (for the verksamhetsberättelse to link), or None."""
    kept = Path(data_dir or env().data_dir) / "archive" / "review" / "comparisons"
    books = sorted(kept.glob("jamforelse-*.xlsx"), key=lambda p: p.stat().st_mtime) if kept.is_dir() else []
    return books[-1] if books else None
