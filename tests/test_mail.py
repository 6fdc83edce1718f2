"""E-mail: message content, allow-list, write-once ledger, real SMTP on loopback (aiosmtpd).

Golden values are written out by hand; hashes are computed here with hashlib over literal
inputs, never by the code under test.
"""

from __future__ import annotations

import email
import hashlib
import io
import json
import os
import socket
import stat
import threading
from email import policy
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xlsxwriter
from aiosmtpd.controller import Controller

from etl.addresses import RecipientNotAllowed, check_allowed
from etl.mail import ledger as mail_ledger
from etl.mail import message, recipients, sending
from etl.mail.ledger import ledger_entries
from etl.mail.message import build_message
from etl.mail.sending import MailDeliveryError, send_to_recipient
from etl.periods import Period
from etl.settings import Recipient, settings
from etl.settings.base import SettingsError

NBSP = "\u00a0"
DOMAINS = ("stockholm.se", "edu.stockholm.se")
T1 = Period(2018, 1)
OST_CHEF = Recipient(
    name="Olga Fiktivsdotter",
    email="olga.fiktivsdotter@stockholm.se",
    scope="OST",
    role="biträdande enhetschef",
)
UNIT_CHEF = Recipient(
    name="Karin Exempelsson", email="karin.exempelsson@stockholm.se", scope="ALL", role="enhetschef"
)


# ------------------------------------------------------------------------------------------
# Fixtures: published table, tiny workbooks, SMTP server
# ------------------------------------------------------------------------------------------


def _published() -> pd.DataFrame:
    """A hand-made published table (as etl.disclosure.publish writes it) for 2018-T1."""
    nan = np.nan
    rows = [
        # indicator, scope, sex, value, unit, suppressed
        ("eb_hushall", "OST", "T", 1234.0, "antal", False),
        ("eb_hushall", "OST", "K", 600.0, "antal", False),
        ("eb_hushall", "OST", "M", 634.0, "antal", False),
        # Suppressed K and M; 4321 leaked into a suppressed row must never be shown.
        ("eb_mottagare", "OST", "T", 2345.0, "antal", False),
        ("eb_mottagare", "OST", "K", 4321.0, "antal", True),
        ("eb_mottagare", "OST", "M", nan, "antal", True),
        ("eb_andel_befolkning", "OST", "T", 0.31, "procent", False),
        ("eb_andel_befolkning", "OST", "K", 0.35, "procent", False),
        ("eb_andel_befolkning", "OST", "M", 0.27, "procent", False),
        ("eb_utbetalt_kr", "OST", "T", 12345678.0, "kr", False),
        ("eb_utbetalt_kr", "OST", "K", 6000000.0, "kr", False),
        ("eb_utbetalt_kr", "OST", "M", 6345678.0, "kr", False),
        ("ja_beviljat_kr_justerad_skillnad", "OST", "T", -121.4, "kr", False),
        ("ja_beviljat_kr_justerad_skillnad_ki_lag", "OST", "T", -480.0, "kr", False),
        ("ja_beviljat_kr_justerad_skillnad_ki_hog", "OST", "T", 250.4, "kr", False),
        ("ja_justerad_fa_hushall", "OST", "T", 1.0, "antal", False),
        ("am_stockholmsjobb_aspiranter", "OST", "T", nan, "antal", True),
        ("am_stockholmsjobb_aspiranter", "OST", "K", nan, "antal", True),
        ("am_stockholmsjobb_aspiranter", "OST", "M", 0.0, "antal", False),
        ("am_praktik", "OST", "T", 3.0, "antal", False),
        # Other scopes: must not appear in the Östermalm e-mail.
        ("eb_hushall", "KUN", "T", 987.0, "antal", False),
        ("eb_hushall", "ALL", "T", 3333.0, "antal", False),
        ("eb_hushall", "ALL", "K", 1500.0, "antal", False),
        ("eb_hushall", "ALL", "M", 1833.0, "antal", False),
    ]
    df = pd.DataFrame(rows, columns=["indicator_id", "district_code", "sex", "value", "unit", "suppressed"])
    df.insert(1, "period", "2018-T1")
    df["published"] = df["value"].map(lambda v: f"{v:.10g}").mask(df["suppressed"], "..")
    return df


def _workbook(path: Path, text: str) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Sammanfattning")
    ws.write(0, 0, text)
    ws.write(1, 0, 1234)
    wb.close()
    return path


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def workbooks(tmp_path) -> dict[str, Path]:
    return {
        "OST": _workbook(tmp_path / "Tertialuppfoljning_2018_T1_Forsorjningsstod_OST.xlsx", "Östermalm"),
        "ALL": _workbook(tmp_path / "Tertialuppfoljning_2018_T1_Forsorjningsstod_ALL.xlsx", "Enheten"),
    }


class _Collect:
    def __init__(self):
        self.envelopes: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _set_connection(monkeypatch, port: int, retry_limit: int = 1) -> None:
    conn = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "extra": {"disable_ssl": True, "disable_tls": True, "timeout": 5, "retry_limit": retry_limit},
    }
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(conn))


@pytest.fixture(scope="module")
def smtp_server():
    handler = _Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, handler
    controller.stop()


@pytest.fixture
def smtp(smtp_server, monkeypatch):
    controller, handler = smtp_server
    handler.envelopes.clear()
    _set_connection(monkeypatch, controller.port)
    return handler


def _parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


def _bodies(msg) -> tuple[str, str]:
    return (
        msg.get_body(preferencelist=("plain",)).get_content(),
        msg.get_body(preferencelist=("html",)).get_content(),
    )


# ------------------------------------------------------------------------------------------
# Allow-list
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address, expected",
    [
        ("anna.andersson@stockholm.se", "anna.andersson@stockholm.se"),
        ("Anna.Andersson@STOCKHOLM.SE", "Anna.Andersson@stockholm.se"),  # domain case-insensitive
        ("larare@edu.stockholm.se", "larare@edu.stockholm.se"),
        ("x@sub.edu.stockholm.se", "x@sub.edu.stockholm.se"),  # subdomain
    ],
)
def test_allowed_addresses(address, expected):
    assert check_allowed(address, DOMAINS) == expected


@pytest.mark.parametrize(
    "address",
    [
        "anna@gmail.com",
        "anna@evilstockholm.se",  # suffix without a dot is another domain
        "anna@stockholm.se.evil.com",
        "Chef <anna@gmail.com>",  # display name
        "anna@stockholm.se <anna@gmail.com>",
        '"anna@stockholm.se" <anna@gmail.com>',
        "anna@stockholm.se, anna@gmail.com",  # a list
        "anna@stockholm.se;anna@gmail.com",
        "anna@gmail.com (anna@stockholm.se)",  # comment
        "anna@gmail.com@stockholm.se",
        "anna@stockholm.se\r\nBcc: x@gmail.com",  # header injection
        "anna @stockholm.se",
        "@stockholm.se",
        "anna@",
        "anna@stockholm.se.",
        "anna..b@stockholm.se",
        "lärare@stockholm.se",  # non-ASCII local part: the organisation's addresses are ASCII
        "anna@xn--stckholm-?.se",
        "",
    ],
)
def test_refused_addresses(address):
    with pytest.raises(RecipientNotAllowed, match="tillåtna domäner|Tillåtna domäner"):
        check_allowed(address, DOMAINS)


def test_refusal_message_is_clear_swedish():
    with pytest.raises(RecipientNotAllowed) as err:
        check_allowed("anna@gmail.com", DOMAINS)
    assert "utanför de tillåtna domänerna (stockholm.se, edu.stockholm.se)" in str(err.value)
    assert "får inte skickas utanför organisationen" in str(err.value)


# ------------------------------------------------------------------------------------------
# Delivery mode
# ------------------------------------------------------------------------------------------


def test_delivery_mode_env_override(monkeypatch):
    cfg = settings().mail
    cfg = cfg.model_copy(update={"delivery": cfg.delivery.model_copy(update={"mode": "smtp"})})
    monkeypatch.delenv("EB_MAIL_MODE", raising=False)
    assert recipients.delivery_mode(cfg) == "smtp"
    monkeypatch.setenv("EB_MAIL_MODE", "outbox")
    assert recipients.delivery_mode(cfg) == "outbox"
    monkeypatch.setenv("EB_MAIL_MODE", "brevduva")
    with pytest.raises(
        SettingsError, match="EB_MAIL_MODE: värdet 'brevduva' ska vara en av 'smtp', 'outbox'"
    ):
        recipients.delivery_mode(cfg)


# ------------------------------------------------------------------------------------------
# Summary and message
# ------------------------------------------------------------------------------------------


def test_summary_rows_published_text_and_judgement():
    rows = {r["indicator_id"]: r for r in message.summary_rows(_published(), "OST")}
    # Config order; eb_kr_per_hushallsmanad is not in the table, so it is left out.
    assert list(rows) == [
        "eb_hushall",
        "eb_mottagare",
        "eb_andel_befolkning",
        "eb_utbetalt_kr",
        "ja_beviljat_kr_justerad_skillnad",
    ]
    assert (rows["eb_hushall"]["T"], rows["eb_hushall"]["K"], rows["eb_hushall"]["M"]) == (
        f"1{NBSP}234",
        "600",
        "634",
    )
    assert (rows["eb_mottagare"]["K"], rows["eb_mottagare"]["M"]) == ("..", "..")
    assert rows["eb_andel_befolkning"]["T"] == f"0,3{NBSP}%"
    # An annual share in T1 is judged on a prognosis from last year's figures (etl.targets,
    # kind annual_share); without them it is not judged before the year end.
    assert rows["eb_andel_befolkning"]["judgement"] == "ej mätt"
    assert rows["eb_utbetalt_kr"]["T"] == f"12{NBSP}345{NBSP}678{NBSP}kr"
    assert rows["eb_hushall"]["judgement"] is None  # not a plan indicator
    skillnad = rows["ja_beviljat_kr_justerad_skillnad"]
    # Never a bare point estimate: the interval, the verdict and the one-household warning.
    assert skillnad["T"] == (
        f"-121{NBSP}kr (95 % konfidensintervall -480 till 250{NBSP}kr; inte statistiskt säkerställd); "
        "skattningen vilar på mycket få hushåll"
    )
    assert (skillnad["K"], skillnad["M"]) == (None, None)


def test_adjusted_difference_without_interval_is_not_shown_bare():
    df = _published()
    df = df[~df["indicator_id"].str.endswith("_ki_hog")]
    rows = {r["indicator_id"]: r for r in message.summary_rows(df, "OST")}
    assert rows["ja_beviljat_kr_justerad_skillnad"]["T"] == "–"  # nothing to report, not "-121 kr"
    df.loc[df["indicator_id"] == "ja_beviljat_kr_justerad_skillnad_ki_lag", "suppressed"] = True
    rows = {r["indicator_id"]: r for r in message.summary_rows(df, "OST")}
    assert rows["ja_beviljat_kr_justerad_skillnad"]["T"] == ".."


def test_goal_rows():
    goals = {g["indicator_id"]: g for g in message.goal_rows(_published(), "OST")}
    assert set(goals) == {"eb_andel_befolkning", "am_stockholmsjobb_aspiranter", "am_praktik"}
    # Suppressed total → no outcome to judge → "ej mätt".
    assert goals["am_stockholmsjobb_aspiranter"]["outcome"] == ".."
    assert goals["am_stockholmsjobb_aspiranter"]["judgement"] == "ej mätt"
    # OST praktik: årsmål 5, T1 = 5 × 4 / 12 = 1.67; 3 ≥ 1.67, higher is better → uppfyllt.
    assert goals["am_praktik"]["target"] == "5 (1,7 för perioden)"
    assert goals["am_praktik"]["judgement"] == "uppfyllt"
    assert goals["eb_andel_befolkning"]["target"] == f"0,3{NBSP}%"


def test_summary_needs_one_period():
    df = _published()
    df.loc[0, "period"] = "2018-T2"
    with pytest.raises(ValueError, match="en period"):
        message.summary_rows(df, "OST")
    with pytest.raises(ValueError, match="saknar kolumnerna"):
        message.summary_rows(df.drop(columns="suppressed"), "OST")


def test_build_message(workbooks):
    msg = build_message(OST_CHEF, T1, None, _published(), workbooks["OST"])
    assert msg["Subject"] == "Tertialuppföljning T1 2018 – Försörjningsstödsenheten (Östermalm)"
    assert msg["To"].addresses[0].addr_spec == "olga.fiktivsdotter@stockholm.se"
    # 16 May 2018 (day 16 of the month after T1) 07:00 CEST; 2018-01-01 was a Monday, so
    # 16 May (day 136) is a Wednesday.
    assert msg["Date"] == "Wed, 16 May 2018 07:00:00 +0200"
    sha = _sha256_file(workbooks["OST"])
    digest = hashlib.sha256(f"2018-T1\nolga.fiktivsdotter@stockholm.se\n{sha}".encode()).hexdigest()
    assert msg["Message-ID"] == f"<eb.2018-T1.{digest[:32]}@stockholm.se>"
    assert msg["Content-Language"] == "sv" and msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "multipart/mixed"
    assert msg.get_payload()[0].get_content_type() == "multipart/alternative"
    (att,) = list(msg.iter_attachments())
    assert att.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert att.get_filename() == "Tertialuppfoljning_2018_T1_Forsorjningsstod_OST.xlsx"
    # Deterministic: the same input gives the same bytes (boundaries, Date, Message-ID).
    again = build_message(OST_CHEF, T1, None, _published(), workbooks["OST"])
    assert again.as_bytes() == msg.as_bytes()


def test_subjects_for_unit_and_full_year(workbooks):
    unit = build_message(UNIT_CHEF, T1, None, _published(), workbooks["ALL"])
    assert unit["Subject"] == "Tertialuppföljning T1 2018 – Försörjningsstödsenheten (hela enheten)"
    year = build_message(UNIT_CHEF, "2018-T3", None, {"rows": []}, workbooks["ALL"])
    assert year["Subject"] == "Verksamhetsberättelse 2018 – Försörjningsstödsenheten (hela enheten)"
    # T3: the run is due 16 January 2019 (a Wednesday: 2019-01-01 was a Tuesday), CET.
    assert year["Date"] == "Wed, 16 Jan 2019 07:00:00 +0100"


def test_html_escapes_everything(workbooks):
    sly = Recipient(name="<b>Eva</b> & co", email="eva@stockholm.se", scope="OST", role="chef <script>")
    msg = build_message(sly, T1, "Öst<malm>", {"rows": [{"label": "<i>x</i>", "T": "1", "judgement": None}]},
                        workbooks["OST"])  # fmt: skip
    text, html_body = _bodies(msg)
    assert "&lt;b&gt;Eva&lt;/b&gt; &amp; co" in html_body
    assert "chef &lt;script&gt;" in html_body and "<script>" not in html_body
    assert "&lt;i&gt;x&lt;/i&gt;" in html_body and "Öst&lt;malm&gt;" in html_body
    assert "Hej <b>Eva</b> & co," in text  # plain text stays as written


# ------------------------------------------------------------------------------------------
# SMTP on loopback
# ------------------------------------------------------------------------------------------


def test_send_two_recipients_once(smtp, workbooks, tmp_path):
    ledger = tmp_path / "ledger"
    published = _published()
    sent = {}
    for who, scope in ((OST_CHEF, "OST"), (UNIT_CHEF, "ALL")):
        msg = build_message(who, T1, None, published, workbooks[scope])
        result = send_to_recipient(who, msg, ledger, mode="smtp")
        assert result["status"] == "sent"
        sent[who.email] = msg
    assert len(smtp.envelopes) == 2

    by_rcpt = {tuple(rcpts): (mail_from, _parse(raw)) for mail_from, rcpts, raw in smtp.envelopes}
    assert set(by_rcpt) == {("olga.fiktivsdotter@stockholm.se",), ("karin.exempelsson@stockholm.se",)}
    mail_from, ost = by_rcpt[("olga.fiktivsdotter@stockholm.se",)]
    assert mail_from == "tertialuppfoljning@stockholm.se"
    assert ost["Subject"] == "Tertialuppföljning T1 2018 – Försörjningsstödsenheten (Östermalm)"
    text, html_body = _bodies(ost)
    for body in (text, html_body):
        assert f"1{NBSP}234" in body and "600" in body and "634" in body  # households T/K/M
        assert f"2{NBSP}345" in body  # recipients total
        assert f"0,3{NBSP}%" in body and "ej mätt" in body
        assert f"12{NBSP}345{NBSP}678{NBSP}kr" in body
        assert ".." in body
        # The value leaked into a suppressed row, and other scopes' figures, never appear.
        assert "4321" not in body and f"4{NBSP}321" not in body
        assert "987" not in body and f"3{NBSP}333" not in body
    assert "Hej Olga Fiktivsdotter," in text
    assert "uppgifter till och med 30 april 2018" in text
    (att,) = list(ost.iter_attachments())
    data = att.get_content()
    assert hashlib.sha256(data).hexdigest() == _sha256_file(workbooks["OST"])
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Sammanfattning"] and wb["Sammanfattning"]["A1"].value == "Östermalm"

    _, unit = by_rcpt[("karin.exempelsson@stockholm.se",)]
    assert unit["Subject"].endswith("(hela enheten)")
    assert f"3{NBSP}333" in _bodies(unit)[0]

    # A retried/cleared task: nothing new reaches the server.
    again = send_to_recipient(OST_CHEF, sent[OST_CHEF.email], ledger, mode="smtp")
    assert again["status"] == "already_sent"
    assert again["message_id"] == str(sent[OST_CHEF.email]["Message-ID"])
    assert len(smtp.envelopes) == 2

    # Explicit resend: sent again, recorded in a new entry; the original is untouched.
    sha = _sha256_file(workbooks["OST"])
    original = ledger / f"olga.fiktivsdotter_at_stockholm.se__{sha}.json"
    before = original.read_bytes()
    resent = send_to_recipient(OST_CHEF, sent[OST_CHEF.email], ledger, mode="smtp", resend=True)
    assert resent["status"] == "sent" and resent["resend"] == 1
    assert resent["ledger_file"] == f"olga.fiktivsdotter_at_stockholm.se__{sha}-resend-1.json"
    assert len(smtp.envelopes) == 3
    assert original.read_bytes() == before

    entries = ledger_entries(ledger, [sha, _sha256_file(workbooks["ALL"])])
    assert [(e["to"], e["resend"]) for e in entries] == [
        ("karin.exempelsson@stockholm.se", 0),  # ..._ALL.xlsx sorts before ..._OST.xlsx
        ("olga.fiktivsdotter@stockholm.se", 0),
        ("olga.fiktivsdotter@stockholm.se", 1),
    ]
    assert entries[1] == {
        "to": "olga.fiktivsdotter@stockholm.se",
        "subject": "Tertialuppföljning T1 2018 – Försörjningsstödsenheten (Östermalm)",
        "message_id": str(sent[OST_CHEF.email]["Message-ID"]),
        "attachment": {"name": "Tertialuppfoljning_2018_T1_Forsorjningsstod_OST.xlsx", "sha256": sha},
        "content_sha256": sha,
        "mode": "smtp",
        "resend": 0,
        "chain_seq": 1,  # sent first: the chain's start
        "chain_prev_sha256": None,
    }
    # The hash chain: Karin's entry (second) holds the SHA-256 of Olga's file, the resend (third)
    # Karin's.
    karin = ledger / f"karin.exempelsson_at_stockholm.se__{_sha256_file(workbooks['ALL'])}.json"
    olga = hashlib.sha256(before).hexdigest()
    assert (entries[0]["chain_seq"], entries[0]["chain_prev_sha256"]) == (2, olga)
    assert (entries[2]["chain_seq"], entries[2]["chain_prev_sha256"]) == (
        3, hashlib.sha256(karin.read_bytes()).hexdigest()
    )  # fmt: skip
    assert ledger_entries(ledger, [sha])[0]["to"] == "olga.fiktivsdotter@stockholm.se"
    assert ledger_entries(ledger, ["0" * 64]) == []
    assert ledger_entries(tmp_path / "none", [sha]) == []


def test_ledger_entries_are_write_once(smtp, workbooks, tmp_path):
    ledger = tmp_path / "ledger"
    msg = build_message(OST_CHEF, T1, None, _published(), workbooks["OST"])
    result = send_to_recipient(OST_CHEF, msg, ledger, mode="smtp")
    path = ledger / result["ledger_file"]
    before = path.read_bytes()
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)  # read-only
    assert mail_ledger._write_once(path, b"{}") is False
    assert path.read_bytes() == before
    # Exactly these fields: no timestamps, nothing that differs between identical sends.
    assert set(json.loads(before)) == {
        "to",
        "subject",
        "message_id",
        "attachment",
        "content_sha256",
        "mode",
        "resend",
        "chain_seq",
        "chain_prev_sha256",
    }
    assert [p.name for p in ledger.iterdir()] == [result["ledger_file"]]  # no temp files left


def test_write_once_without_hard_links(tmp_path, monkeypatch):
    """File systems without hard links: exclusive create, still never overwriting."""

    def no_link(src, dst):
        raise PermissionError("hard links not supported")

    monkeypatch.setattr(mail_ledger.os, "link", no_link)
    path = tmp_path / "entry.json"
    assert mail_ledger._write_once(path, b'{"a": 1}') is True
    assert mail_ledger._write_once(path, b'{"a": 2}') is False
    assert path.read_bytes() == b'{"a": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["entry.json"]


def test_address_outside_allow_list_is_refused_before_connecting(monkeypatch, workbooks, tmp_path):
    # Any connection attempt would be a bug: point the connection at a port nobody listens on
    # and make building the hook fail loudly.
    _set_connection(monkeypatch, _free_port())
    monkeypatch.setattr(sending, "_smtp_hook", lambda *a: pytest.fail("connected despite the allow-list"))
    outsider = Recipient(name="Extern", email="chef@gmail.com", scope="OST", role="enhetschef")
    msg = build_message(outsider, T1, None, _published(), workbooks["OST"])
    with pytest.raises(RecipientNotAllowed, match="utanför de tillåtna domänerna"):
        send_to_recipient(outsider, msg, tmp_path / "ledger", mode="smtp")
    # A message whose To smuggles another address behind an allowed-looking display name.
    msg = build_message(OST_CHEF, T1, None, _published(), workbooks["OST"])
    msg.replace_header("To", '"olga.fiktivsdotter@stockholm.se" <olga@gmail.com>')
    with pytest.raises(RecipientNotAllowed):
        send_to_recipient(OST_CHEF, msg, tmp_path / "ledger", mode="smtp")
    # A message addressed to someone else than the recipient.
    msg = build_message(UNIT_CHEF, T1, None, _published(), workbooks["OST"])
    with pytest.raises(ValueError, match="inte till mottagaren"):
        send_to_recipient(OST_CHEF, msg, tmp_path / "ledger", mode="smtp")
    assert not any((tmp_path / "ledger").glob("*.json"))


def test_server_down_fails_at_once_without_ledger(monkeypatch, workbooks, tmp_path):
    """No retry loop here: one attempt, a clear error; the Airflow task's retries try again."""
    port = _free_port()  # closed: connection refused
    _set_connection(monkeypatch, port, retry_limit=2)  # the connection's retry_limit is ignored
    msg = build_message(OST_CHEF, T1, None, _published(), workbooks["OST"])
    with pytest.raises(MailDeliveryError) as err:
        send_to_recipient(OST_CHEF, msg, tmp_path / "ledger", mode="smtp")
    text = str(err.value)
    assert f"127.0.0.1:{port}" in text and "ConnectionRefusedError" in text
    assert "kunde inte skickas" in text and "inget har förts in i utskicksloggen" in text
    assert isinstance(err.value.__cause__, ConnectionRefusedError)
    assert list((tmp_path / "ledger").glob("*.json")) == []


def test_server_dropping_connections_is_tried_once(monkeypatch, workbooks, tmp_path):
    """A server that accepts and hangs up: one connection per call, whatever retry_limit says."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(1)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        _set_connection(monkeypatch, listener.getsockname()[1], retry_limit=2)
        msg = build_message(OST_CHEF, T1, None, _published(), workbooks["OST"])
        with pytest.raises(MailDeliveryError, match="kunde inte skickas"):
            send_to_recipient(OST_CHEF, msg, tmp_path / "ledger", mode="smtp")
    finally:
        listener.close()
    assert len(accepted) == 1
    assert list((tmp_path / "ledger").glob("*.json")) == []


def test_task_retries_send_once(smtp_server, monkeypatch, workbooks, tmp_path):
    """As Airflow runs the task: try 1 fails (server down), try 2 sends, try 3 (after success,
    e.g. a cleared task) sends nothing."""
    controller, handler = smtp_server
    handler.envelopes.clear()
    ledger_folder = tmp_path / "ledger"
    msg = build_message(OST_CHEF, T1, None, _published(), workbooks["OST"])
    _set_connection(monkeypatch, _free_port())
    with pytest.raises(MailDeliveryError):
        send_to_recipient(OST_CHEF, msg, ledger_folder, mode="smtp")
    _set_connection(monkeypatch, controller.port)
    assert send_to_recipient(OST_CHEF, msg, ledger_folder, mode="smtp")["status"] == "sent"
    assert len(handler.envelopes) == 1
    again = send_to_recipient(OST_CHEF, msg, ledger_folder, mode="smtp")
    assert again["status"] == "already_sent" and again["resend"] == 0
    assert len(handler.envelopes) == 1
    assert [p.name for p in ledger_folder.iterdir()] == [again["ledger_file"]]


def test_missing_connection_is_a_clear_error(monkeypatch, workbooks, tmp_path):
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_NOWHERE", raising=False)
    msg = build_message(OST_CHEF, T1, None, _published(), workbooks["OST"])
    with pytest.raises(MailDeliveryError, match="'smtp_nowhere' för e-post saknas"):
        send_to_recipient(OST_CHEF, msg, tmp_path / "ledger", mode="smtp", smtp_conn_id="smtp_nowhere")
    assert list((tmp_path / "ledger").glob("*.json")) == []


def test_bad_arguments(workbooks, tmp_path):
    msg = build_message(OST_CHEF, T1, None, _published(), workbooks["OST"])
    with pytest.raises(ValueError, match="Okänt leveranssätt 'fax'"):
        send_to_recipient(OST_CHEF, msg, tmp_path, mode="fax")
    with pytest.raises(ValueError, match="kräver en utkorg"):
        send_to_recipient(OST_CHEF, msg, tmp_path, mode="outbox")
    bare = build_message(OST_CHEF, T1, None, _published(), workbooks["OST"])
    bare.clear_content()
    bare.set_content("utan bilaga")
    with pytest.raises(ValueError, match="exakt en bilaga"):
        send_to_recipient(OST_CHEF, bare, tmp_path, mode="outbox", outbox_dir=tmp_path / "out")


# ------------------------------------------------------------------------------------------
# Outbox
# ------------------------------------------------------------------------------------------


def test_outbox_writes_parseable_eml(workbooks, tmp_path):
    outbox, ledger = tmp_path / "outbox", tmp_path / "ledger"
    for who, scope in ((OST_CHEF, "OST"), (UNIT_CHEF, "ALL")):
        msg = build_message(who, T1, None, _published(), workbooks[scope])
        assert send_to_recipient(who, msg, ledger, mode="outbox", outbox_dir=outbox)["status"] == "sent"
    files = sorted(p.name for p in outbox.iterdir())
    assert files == ["karin.exempelsson_at_stockholm.se.eml", "olga.fiktivsdotter_at_stockholm.se.eml"]
    eml = _parse((outbox / "olga.fiktivsdotter_at_stockholm.se.eml").read_bytes())
    assert eml["Subject"] == "Tertialuppföljning T1 2018 – Försörjningsstödsenheten (Östermalm)"
    assert f"1{NBSP}234" in _bodies(eml)[0]
    (att,) = list(eml.iter_attachments())
    assert hashlib.sha256(att.get_content()).hexdigest() == _sha256_file(workbooks["OST"])
    entries = ledger_entries(ledger, [_sha256_file(workbooks["OST"])])
    assert [(e["to"], e["mode"]) for e in entries] == [("olga.fiktivsdotter@stockholm.se", "outbox")]
    # Second run: nothing rewritten.
    mtime = os.stat(outbox / "olga.fiktivsdotter_at_stockholm.se.eml").st_mtime_ns
    msg = build_message(OST_CHEF, T1, None, _published(), workbooks["OST"])
    assert (
        send_to_recipient(OST_CHEF, msg, ledger, mode="outbox", outbox_dir=outbox)["status"] == "already_sent"
    )
    assert os.stat(outbox / "olga.fiktivsdotter_at_stockholm.se.eml").st_mtime_ns == mtime


# ------------------------------------------------------------------------------------------
# deliver(): the DAG's mapped e-mail task
# ------------------------------------------------------------------------------------------


def test_recipient_addresses_are_the_configured_ones():
    addresses = recipients.recipient_addresses()
    assert "olga.fiktivsdotter@stockholm.se" in addresses
    assert len(addresses) == len(set(addresses)) == len(settings().mail.recipients)


def test_deliver_from_published_csv_to_outbox(workbooks, tmp_path):
    csv = tmp_path / "published.csv"
    _published().to_csv(csv, index=False)
    archive_root, outbox = tmp_path / "archive", tmp_path / "outbox"
    kwargs = dict(period="2018-T1", published=csv, workbooks=tmp_path, archive_root=archive_root)
    result = sending.deliver("Olga.Fiktivsdotter@stockholm.se", outbox_dir=outbox, mode="outbox", **kwargs)
    assert result["status"] == "sent"
    assert result["attachment"]["name"] == "Tertialuppfoljning_2018_T1_Forsorjningsstod_OST.xlsx"
    # The ledger lives beside the period's package versions, so a new run id still sees it.
    assert (archive_root / "2018" / "T1" / "email_ledger" / result["ledger_file"]).exists()
    eml = _parse((outbox / "olga.fiktivsdotter_at_stockholm.se.eml").read_bytes())
    text = _bodies(eml)[0]
    assert f"1{NBSP}234" in text and "(kvinnor .., män ..)" in text and "4321" not in text
    again = sending.deliver("olga.fiktivsdotter@stockholm.se", outbox_dir=outbox, mode="outbox", **kwargs)
    assert again["status"] == "already_sent"
    with pytest.raises(ValueError, match="finns inte bland mottagarna"):
        sending.deliver("okand@stockholm.se", outbox_dir=outbox, mode="outbox", **kwargs)
    # Lars (ALL) has a workbook; Nils (NOR) has none in the folder.
    with pytest.raises(FileNotFoundError, match="ingen arbetsbok för omfattningen NOR"):
        sending.deliver("nils.testberg@stockholm.se", outbox_dir=outbox, mode="outbox", **kwargs)


def test_module_imports_cheaply():
    """The DAG file imports etl.mail.operators and .recipients at parse time: they add no Airflow,
    Jinja2 or pandas to what etl.settings already imports (pandas comes with etl.vocabulary)."""
    import subprocess
    import sys

    code = (
        "import sys, etl.settings; before = set(sys.modules); "
        "import etl.mail.operators, etl.mail.recipients; "
        "new = {m.split('.')[0] for m in set(sys.modules) - before}; "
        "print(sorted(new & {'airflow', 'jinja2', 'pandas'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_hook_takes_timeout_from_config_unless_the_connection_sets_it_and_never_retries(monkeypatch):
    # recipients.yml: delivery.smtp.timeout_seconds 30.
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({"conn_type": "smtp", "host": "127.0.0.1"}))
    hook = sending._smtp_hook("smtp_default", settings().mail.delivery.smtp)
    hook.smtp_connection = hook.get_connection("smtp_default")
    assert (hook.timeout, hook.smtp_retry_limit) == (30, 0)  # the provider's default would be 5
    _set_connection(monkeypatch, 25, retry_limit=1)  # extras: timeout 5, retry_limit 1
    hook = sending._smtp_hook("smtp_default", settings().mail.delivery.smtp)
    hook.smtp_connection = hook.get_connection("smtp_default")
    assert (hook.timeout, hook.smtp_retry_limit) == (5, 0)


@pytest.mark.parametrize("year", [2017, 2019])
def test_a_year_without_a_plan_mails_no_targets(year):
    from etl.mail.message import goal_rows, summary_rows
    from etl.periods import Period
    from tests.support.reports import published_table

    published = published_table(Period(year, 1))
    assert goal_rows(published, "ALL") == []  # no 2018 årsmål in a 2017 or 2019 e-mail
    judged = {r["indicator_id"]: r["judgement"] for r in summary_rows(published, "ALL")}
    assert judged["eb_andel_befolkning"] == "ej bedömt" and judged["eb_hushall"] is None


def test_tertial_mail_says_where_to_return_the_analysis_and_the_full_year_does_not(workbooks):
    """T1/T2 carry the Analys/Åtgärder cells (docs/comments.md); the e-mail names the place from
    config/pipeline.yml so managers know where the filled-in workbook goes."""
    where = "den gemensamma mappen Tertialuppföljning/Inkorg"
    for period in (T1, "2018-T2"):
        text, html_body = _bodies(build_message(OST_CHEF, period, None, _published(), workbooks["OST"]))
        assert f"lägg den i {where}." in text
        assert "<b>Analys</b>" in html_body and where in html_body
    text, html_body = _bodies(build_message(UNIT_CHEF, "2018-T3", None, {"rows": []}, workbooks["ALL"]))
    assert where not in text and where not in html_body
