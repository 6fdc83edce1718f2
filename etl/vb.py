"""The verksamhetsberättelse at the T3 run: gather the year's figures, write the VB workbook,
archive it as ``archive/<year>/VB/v<N>/`` (never overwritten) and e-mail it once.

Figures per stage: the latest archived package of the period (what was reported then); where a
period has no package, the T3 run's comparison figures (computed from its own extract by
etl.statistics.comparison and disclosure-checked like the rest); else "saknas". The e-mail goes
to the recipients who get the VB (config/recipients.yml: verksamhetsberattelse), through the
same delivery and write-once ledger as the tertial mail, keyed by the figures and comments shown
(:func:`content_sha256`): a re-run with the same figures and comments sends nothing.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from etl import archive
from etl.periods import Period
from etl.published import PUBLISHED, read_published
from etl.settings import settings
from etl.vocabulary import ALL
from reports.model import Figures, ReportContext
from reports.vb import write_vb_workbook
from reports.vb.model import PREVIOUS, Stage, VbInputs

log = logging.getLogger(__name__)
WORKBOOKS = "workbooks"
THIS_RUN = "den här helårskörningen (arkivpaketet för helåret)"
COMPUTED = "beräknat ur helårskörningens källuttag (inget arkivpaket för perioden)"
NONE = "saknas: inget arkivpaket, och källuttaget omfattar inte perioden"


def year_comments(archive_root: Path, year: int) -> pd.DataFrame:
    """The managers' T1/T2 analyses of the year as stored by the comment round trip (columns
    year, tertial, scope, indicator, analys, atgarder; etl.comments.store)."""
    from etl.comments.store import comments_for_year

    return comments_for_year(archive_root, year)


def _latest(root: Path, period: Period) -> tuple[pd.DataFrame, str] | None:
    found = archive.versions(root, period)
    if not found:
        return None
    when = "helår" if period.tertial == 3 else f"T{period.tertial}"
    return read_published(
        found[-1] / PUBLISHED
    ), f"arkivpaketet för {when} {period.year}, version {found[-1].name[1:]}"


def stages(root: Path, ctx: ReportContext) -> dict[str, Stage]:
    """T1, T2 and helår of the year and of the previous year, each with where it comes from."""
    year, symbol = ctx.period.year, ctx.suppressed_symbol
    names = {1: "T1", 2: "T2", 3: "Helår"}
    out = {"T3": Stage(f"Helår {year}", ctx.figures, THIS_RUN)}
    wanted = {f"T{t}": Period(year, t) for t in (1, 2)}
    wanted |= {f"{PREVIOUS}_T{t}": Period(year - 1, t) for t in (1, 2, 3)}
    for key, period in wanted.items():
        label = f"{names[period.tertial]} {period.year}"
        hit = _latest(root, period)
        if hit is not None:
            out[key] = Stage(label, Figures(hit[0], symbol), hit[1])
        else:
            computed = ctx.figures_for(str(period))
            out[key] = Stage(label, computed, COMPUTED) if computed is not None else Stage(label, None, NONE)
    return out


def gender_years(root: Path, ctx: ReportContext) -> dict[int, Figures]:
    """Every year up to the report's with a full-year package, and the report's own year."""
    year = ctx.period.year
    years: dict[int, Figures] = {}
    for folder in sorted(p for p in Path(root).glob("[0-9][0-9][0-9][0-9]") if int(p.name) < year):
        hit = _latest(root, Period(int(folder.name), 3))
        if hit is not None:
            years[int(folder.name)] = Figures(hit[0], ctx.suppressed_symbol)
    years[year] = ctx.figures
    return years


def gender_tertials(root: Path, ctx: ReportContext) -> dict[tuple[int, int], Figures]:
    """T1 and T2 (year to date) of every year up to the report's with an archived package: the
    adjusted difference's trend within the years."""
    out: dict[tuple[int, int], Figures] = {}
    years = sorted(int(p.name) for p in Path(root).glob("[0-9][0-9][0-9][0-9]"))
    for year in (y for y in years if y <= ctx.period.year):
        for t in (1, 2):
            hit = _latest(root, Period(year, t))
            if hit is not None:
                out[(year, t)] = Figures(hit[0], ctx.suppressed_symbol)
    return out


@dataclass(frozen=True)
class VbResult:
    archived: archive.ArchiveResult
    content_sha256: str
    """The figures and comments the workbook shows (the e-mail ledger's key)."""


def content_sha256(inputs: VbInputs) -> str:
    """One hash over every table the workbook shows and the comments: equal figures and texts
    give an equal key, so a re-run whose workbook differs only in layout sends nothing again."""
    h = hashlib.sha256()
    tables = {f"stage/{k}": s.figures.published for k, s in sorted(inputs.stages.items()) if s.figures}
    tables |= {f"gender/{label}": f.published for label, f, _ in inputs.gender_rows()}
    tables["comments"] = inputs.comments
    for name, frame in tables.items():
        h.update(f"{name}\0".encode())
        h.update(frame.to_csv(index=False, lineterminator="\n").encode())
    return h.hexdigest()


def build_vb(
    root: Path, ctx: ReportContext, out_dir: Path, comments: pd.DataFrame, review: Path | None = None
) -> VbResult:
    """Write the VB workbook for the T3 run's ``ctx`` (scope ALL) and archive the VB bundle, with
    the case review's latest before/after comparison (``review``) when the project has one."""
    if ctx.scope != ALL:
        raise ValueError(f"Verksamhetsberättelsen gäller hela enheten, inte omfattningen {ctx.scope}.")
    files = {f"granskning/{review.name}": review} if review else {}
    inputs = VbInputs(ctx, stages(root, ctx), gender_years(root, ctx), gender_tertials(root, ctx), comments,
                      next(iter(files), None))  # fmt: skip
    book = write_vb_workbook(inputs, out_dir)
    archived = archive.assemble_vb(root, ctx.period.year, {**files, f"{WORKBOOKS}/{book.name}": book})
    return VbResult(archived, content_sha256(inputs))


def vb_ledger_dir(root: Path, year: int) -> Path:
    """The VB's e-mail ledger: beside its package versions, kept across runs (as the tertials')."""
    return Path(root) / str(year) / archive.VB / archive.EMAIL_LEDGER_DIR


def send_vb(
    root: Path,
    package: Path,
    published: pd.DataFrame,
    outbox_dir: Path,
    *,
    content_sha256: str | None = None,
    resend: bool = False,
) -> list[dict]:
    """E-mail the archived VB workbook of ``package`` to each VB recipient, once per recipient and
    ``content_sha256`` (default: the workbook's own hash) in the VB's ledger.

    Every recipient is tried; an uncertain delivery is raised after the others got theirs."""
    from etl.mail import ledger, message, recipients, sending

    cfg = settings()
    books = sorted((package / WORKBOOKS).glob("Verksamhetsberattelse_*.xlsx"))
    if len(books) != 1:
        raise FileNotFoundError(f"VB-paketet {package} ska ha en arbetsbok, har {[b.name for b in books]}.")
    year = int(package.parent.parent.name)
    period = Period(year, 3)
    scope_name = cfg.mail.scope_name(ALL)
    summary = {"rows": message.summary_rows(published, ALL), "goals": message.goal_rows(published, ALL)}
    results, uncertain = [], []
    for recipient in cfg.mail.vb_recipients():
        msg = message.build_message(recipient, period, scope_name, summary, books[0])
        msg.replace_header(
            "Subject", f"Verksamhetsberättelse {year}, årsrapport – {cfg.unit_name} ({scope_name})"
        )
        try:
            result = sending.send_to_recipient(
                recipient, msg, vb_ledger_dir(root, year), mode=recipients.delivery_mode(), resend=resend,
                outbox_dir=outbox_dir, content_sha256=content_sha256,
            )  # fmt: skip
        except ledger.DeliveryUncertain as exc:
            log.error("%s", exc)
            uncertain.append(str(exc))
            continue
        verb = {"sent": "Verksamhetsberättelsen skickad", "already_sent": "Redan skickad tidigare"}
        log.info("%s: %s", verb[result["status"]], result["to"])
        results.append(result)
    if uncertain:
        raise ledger.DeliveryUncertain(" | ".join(uncertain))
    return results
