"""What a manager gets: subject, date, Message-ID, the summary and goal rows, the EmailMessage.

Only published (suppressed) figures: a suppressed cell shows the suppressed symbol even if a
value slipped through. Messages are deterministic: Message-ID from (period, recipient,
attachment hash), Date from the period (the day the run is due, config ``date_day_of_month``),
fixed MIME boundaries. The text and HTML bodies are the templates in ``templates/`` (HTML
autoescaped: every piece of data is escaped).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from etl import targets
from etl.comments.identity import TERTIALS as COMMENT_TERTIALS
from etl.periods import Period
from etl.settings import Mail, Recipient, settings
from etl.vocabulary import SEXES
from reports import gender_text
from reports.swedish import MONTHS, NBSP, date_text, format_number

if TYPE_CHECKING:
    import jinja2
    import pandas as pd

XLSX_MIME = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
TEMPLATES = Path(__file__).with_name("templates")

# --------------------------------------------------------------------------------------------
# Summary from the published table
# --------------------------------------------------------------------------------------------


def _format(value: float, unit: str, decimals: int | None = None) -> str:
    """Swedish number text: thousands separated by a no-break space, decimal comma.

    Counts and kronor without decimals, everything else with one (as in the workbook).
    """
    if decimals is None:
        decimals = 0 if unit in ("antal", "kr") else 1
    text = format_number(value, decimals, space=NBSP, real_minus=False)
    suffix = {"procent": f"{NBSP}%", "kr": f"{NBSP}kr", "dagar": f"{NBSP}dagar"}.get(unit, "")
    return text + suffix


def _cell(value, suppressed: bool, unit: str) -> str:
    disclosure = settings().pipeline.disclosure
    if suppressed:
        return disclosure.suppressed_symbol
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return disclosure.nothing_symbol
    return _format(float(value), unit)


def _scope_rows(published: pd.DataFrame, scope: str, ids: list[str]) -> pd.DataFrame:
    """The rows of ``ids`` for ``scope`` with ``suppressed`` as a real bool and value as float."""
    import pandas as pd

    missing = {"indicator_id", "period", "district_code", "sex", "value", "unit", "suppressed"} - set(
        published.columns
    )
    if missing:
        raise ValueError(f"Den publicerade tabellen saknar kolumnerna {sorted(missing)}.")
    rows = published[(published["district_code"] == scope) & published["indicator_id"].isin(ids)].copy()
    flag = rows["suppressed"]
    if flag.dtype == bool:
        rows["suppressed"] = flag
    else:
        rows["suppressed"] = flag.astype("string").str.lower().isin(["true", "1"]).astype(bool)
    rows["value"] = pd.to_numeric(rows["value"], errors="coerce").astype(float)
    # Never show a figure the disclosure step suppressed, even if a value slipped through.
    rows.loc[rows["suppressed"], "value"] = float("nan")
    return rows


def _period_of(published: pd.DataFrame) -> Period:
    periods = published["period"].dropna().unique()
    if len(periods) != 1:
        raise ValueError(f"Den publicerade tabellen ska gälla en period, har {sorted(map(str, periods))}.")
    return Period.parse(str(periods[0]))


def _cells(rows: pd.DataFrame, indicator_id: str) -> tuple[dict, str, float | None]:
    """(texts by sex, unit, total value) for one indicator from the scope's rows."""
    ind = rows[rows["indicator_id"] == indicator_id].set_index("sex")
    unit = str(ind["unit"].iloc[0])
    texts = {
        sex: (
            _cell(ind.at[sex, "value"], bool(ind.at[sex, "suppressed"]), unit) if sex in ind.index else None
        )
        for sex in SEXES
    }
    total = float(ind.at["T", "value"]) if "T" in ind.index else None
    return texts, unit, total


_DIFF_COMPANIONS = ("ja_beviljat_kr_justerad_skillnad_ki_lag", "ja_beviljat_kr_justerad_skillnad_ki_hog",
                    "ja_justerad_fa_hushall")  # fmt: skip


def _adjusted_difference_text(rows: pd.DataFrame, diff: float | None) -> str:
    """The adjusted gender difference with its interval, verdict and (if so) its fragility."""
    ids = (gender_text.DIFF_ID, *_DIFF_COMPANIONS)
    totals = rows[rows["sex"] == "T"].drop_duplicates("indicator_id")
    picked = totals.set_index("indicator_id").reindex(list(ids))
    low, high, fragile = (None if math.isnan(v) else float(v) for v in picked["value"].iloc[1:])
    d = settings().pipeline.disclosure
    hidden = picked["suppressed"].iloc[:3].fillna(False).astype(bool).any()
    symbol = d.suppressed_symbol if hidden else d.nothing_symbol
    text = gender_text.email_text(diff, low, high, fragile, symbol)
    return text.replace("−", "-").replace(" kr", f"{NBSP}kr")


def summary_rows(published: pd.DataFrame, scope: str, comparison: pd.DataFrame | None = None) -> list[dict]:
    """The catalogue's e-mail summary indicators for ``scope``, as published text.

    Each row: indicator_id, label, unit, T, K, M (text; None where the indicator has no such
    sex), judgement (the workbook's måluppfyllelse word, :mod:`reports.judgements`, from the
    published and the published comparison figures; None without an årsmål). Indicators absent
    from the table are left out.
    """
    cfg = settings()
    entries = cfg.catalogue.email_summary()
    rows = _scope_rows(published, scope, [e.id for e in entries] + list(_DIFF_COMPANIONS))
    from reports.judgements import Judgements  # pandas: not at the DAG file's parse time

    judged = Judgements(published, comparison, _period_of(published))
    out = []
    for entry in entries:  # a handful of indicators
        if not (rows["indicator_id"] == entry.id).any():
            continue
        texts, unit, total = _cells(rows, entry.id)
        if entry.id == gender_text.DIFF_ID:  # never a bare point estimate: interval and verdict
            texts["T"] = _adjusted_difference_text(rows, total)
        judgement = judged.assess(entry, scope).judgement if entry.goal else None
        out.append(
            {"indicator_id": entry.id, "label": entry.name, "unit": unit, **texts, "judgement": judgement}
        )
    return out


def goal_rows(published: pd.DataFrame, scope: str, comparison: pd.DataFrame | None = None) -> list[dict]:
    """Måluppfyllelse for every indicator with an årsmål in the year's plan, judged for ``scope``.

    Each row: indicator_id, name, outcome (published total), target (årsmål text), judgement.
    Indicators without an årsmål for the scope, or absent from the table, are left out; a year
    without a plan has none. Judged as :func:`summary_rows` (the workbook's judgement).
    """
    cfg = settings()
    period = _period_of(published)
    plan = cfg.plan(period.year)
    from reports.judgements import Judgements

    judged = Judgements(published, comparison, period)
    goals = [e for e in cfg.catalogue.goals() if plan is not None and plan.target(e.id, scope) is not None]
    rows = _scope_rows(published, scope, [e.id for e in goals])
    out = []
    for entry in goals:  # the plan's ~17 indicators
        if not (rows["indicator_id"] == entry.id).any():
            continue
        texts, _, _ = _cells(rows, entry.id)
        target_text = _format(plan.target(entry.id, scope), entry.unit)
        if entry.is_count and period.months < 12:
            # Counts are judged against the årsmål pro-rated to the period: show both.
            pro_rated = targets.period_target(entry, plan, period.months, scope)
            decimals = 0 if float(pro_rated).is_integer() else 1
            target_text += f" ({_format(pro_rated, entry.unit, decimals)} för perioden)"
        out.append(
            {
                "indicator_id": entry.id,
                "name": entry.name,
                "outcome": texts["T"],
                "target": target_text,
                "judgement": judged.assess(entry, scope).judgement,
            }
        )
    return out


# --------------------------------------------------------------------------------------------
# The message
# --------------------------------------------------------------------------------------------


def as_period(period: Period | str) -> Period:
    return period if isinstance(period, Period) else Period.parse(str(period))


def subject(period: Period | str, scope_name: str) -> str:
    """ "Tertialuppföljning T1 2018 – Försörjningsstödsenheten (Östermalm)"; T3: Verksamhetsberättelse."""
    p = as_period(period)
    report = (
        f"Verksamhetsberättelse {p.year}" if p.tertial == 3 else f"Tertialuppföljning T{p.tertial} {p.year}"
    )
    return f"{report} – {settings().unit_name} ({scope_name})"


def message_date(period: Period | str, cfg: Mail | None = None) -> dt.datetime:
    """The day the run is due (config day of the month after the tertial), local time."""
    cfg = (cfg or settings().mail).delivery
    end = as_period(period).end_exclusive
    day = dt.date(end.year, end.month, cfg.date_day_of_month)
    return dt.datetime.combine(day, cfg.date_time, tzinfo=ZoneInfo(settings().timezone))


def message_id(period: Period | str, recipient_email: str, attachment_sha256: str, sender: str) -> str:
    """Deterministic Message-ID: the same report to the same person is the same message."""
    digest = hashlib.sha256(
        f"{as_period(period)}\n{recipient_email.lower()}\n{attachment_sha256}".encode()
    ).hexdigest()
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<eb.{as_period(period)}.{digest[:32]}@{domain}>"


@cache
def _templates() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _bodies(
    recipient: Recipient, p: Period, scope_name: str, rows: list[dict], goals: list[dict], workbook: str
) -> tuple[str, str]:
    """(plain text, HTML) bodies from templates/manager.txt.j2 and manager.html.j2."""
    disclosure = settings().pipeline.disclosure
    context = {
        "recipient": recipient,
        "subject": subject(p, scope_name),
        "report": "Verksamhetsberättelse" if p.tertial == 3 else f"Tertialuppföljning T{p.tertial}",
        "year": p.year,
        "unit_name": settings().unit_name,
        "scope_name": scope_name,
        "period_text": f"januari–{MONTHS[p.months - 1]} {p.year}",
        "end_text": date_text(p.end),
        "workbook": workbook,
        "rows": rows,
        "goals": goals,
        "sexes": SEXES,
        "suppressed_symbol": disclosure.suppressed_symbol,
        "nothing_symbol": disclosure.nothing_symbol,
        "min_persons": disclosure.min_persons,
        "comments_return_to": (settings().pipeline.comments.return_to
                               if p.tertial in COMMENT_TERTIALS else None),
    }
    env = _templates()
    return (
        env.get_template("manager.txt.j2").render(context),
        env.get_template("manager.html.j2").render(context),
    )


def attachment(message: EmailMessage) -> tuple[str, str]:
    """(file name, SHA-256) of the message's one attachment (the workbook)."""
    found = list(message.iter_attachments())
    if len(found) != 1:
        raise ValueError(f"Meddelandet ska ha exakt en bilaga (arbetsboken), har {len(found)}.")
    part = found[0]
    # the bytes as attached (get_content() would decode a text attachment, e.g. a receipt's CSV)
    return part.get_filename(), hashlib.sha256(part.get_payload(decode=True)).hexdigest()


def build_message(
    recipient: Recipient,
    period: Period | str,
    scope_name: str | None,
    summary: pd.DataFrame | dict | list,
    workbook: Path,
    sender: str | None = None,
    *,
    date: dt.datetime | None = None,
    comparison: pd.DataFrame | None = None,
) -> EmailMessage:
    """The e-mail for one recipient: text + HTML summary and the workbook attached.

    ``summary`` is the published table (rows are picked for ``recipient.scope``), or a dict
    ``{"rows": summary_rows(...), "goals": goal_rows(...)}``. ``scope_name`` defaults to the
    configured name of the recipient's scope; ``sender`` to ``delivery.from``; ``date`` to
    :func:`message_date` (pass the DAG run's ``run_after`` to date it by the run instead);
    ``comparison`` the run's published comparison figures, which the judgements need as the
    workbook's did.
    """
    cfg = settings().mail
    p = as_period(period)
    scope_name = scope_name or cfg.scope_name(recipient.scope)
    sender = sender or cfg.delivery.sender
    if hasattr(summary, "columns"):
        scope = recipient.scope
        rows, goals = summary_rows(summary, scope, comparison), goal_rows(summary, scope, comparison)
    elif isinstance(summary, dict):
        rows, goals = list(summary.get("rows", [])), list(summary.get("goals", []))
    else:
        rows, goals = list(summary), []
    workbook = Path(workbook)
    data = workbook.read_bytes()
    attachment_sha = hashlib.sha256(data).hexdigest()
    text, html_body = _bodies(recipient, p, scope_name, rows, goals, workbook.name)

    msg = EmailMessage()
    msg["Subject"] = subject(p, scope_name)
    msg["From"] = sender
    msg["To"] = Address(display_name=recipient.name, addr_spec=recipient.email)
    msg["Date"] = format_datetime(date or message_date(p, cfg))
    mid = message_id(p, recipient.email, attachment_sha, sender)
    msg["Message-ID"] = mid
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies
    msg["X-EB-Period"] = str(p)
    msg["X-EB-Attachment-SHA256"] = attachment_sha
    msg.set_content(text, subtype="plain", cte="quoted-printable")
    msg.add_alternative(html_body, subtype="html", cte="quoted-printable")
    msg.add_attachment(data, maintype=XLSX_MIME[0], subtype=XLSX_MIME[1], filename=workbook.name)
    # Fixed boundaries (random by default) keep the bytes identical for the same input.
    token = mid.strip("<>").split("@")[0].replace(".", "-")
    msg.set_boundary(f"=_{token}_mixed")
    msg.get_payload()[0].set_boundary(f"=_{token}_alt")
    msg["Content-Language"] = "sv"  # after set_content, which drops Content-* headers
    return msg
