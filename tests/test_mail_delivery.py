"""At most once per recipient and figures, against a real (stdlib) SMTP server on loopback that
misbehaves after DATA: it answers 250 and hangs up, hangs up before answering, or refuses.

A 250 to DATA is delivery (one message, one ledger entry, no error, nothing sent again); a
connection lost before that answer is "oklart om levererat": an attempt marker stays, nothing is
sent again automatically (not by the task's retries, not by a new run) until ``resend``.
"""

from __future__ import annotations

import json
import socket
import threading
from email.message import EmailMessage

import pytest

from etl.mail import ledger
from etl.mail.sending import DeliveryUncertain, MailDeliveryError, send_to_recipient
from etl.settings import Recipient

CHEF = Recipient(name="Olga Fiktivsdotter", email="olga.fiktivsdotter@stockholm.se", scope="OST", role="chef")
KEY = "a" * 64


class _Smtp:
    """A tiny SMTP server: ``after_data`` is 'ok' (250, stays), 'drop_after_250', 'drop' (hang
    up before answering) or 'refuse' (554). ``received`` counts complete messages."""

    def __init__(self, after_data: str):
        self.after_data = after_data
        self.received = 0
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as rf:
                self._session(conn, rf)

    def _session(self, conn, rf):
        conn.sendall(b"220 test ESMTP\r\n")
        while line := rf.readline():
            cmd = line.strip().upper()
            if cmd.startswith((b"EHLO", b"HELO")):
                conn.sendall(b"250 test\r\n")
            elif cmd.startswith((b"MAIL", b"RCPT", b"RSET", b"NOOP")):
                conn.sendall(b"250 OK\r\n")
            elif cmd == b"DATA":
                conn.sendall(b"354 go ahead\r\n")
                while rf.readline() not in (b".\r\n", b""):
                    pass
                self.received += 1
                if self.after_data == "drop":
                    return
                if self.after_data == "refuse":
                    conn.sendall(b"554 no\r\n")
                    continue
                conn.sendall(b"250 queued\r\n")
                if self.after_data == "drop_after_250":
                    return
            elif cmd == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return

    def close(self):
        self.listener.close()


@pytest.fixture
def server(monkeypatch):
    started = []

    def start(after_data: str) -> _Smtp:
        srv = _Smtp(after_data)
        started.append(srv)
        conn = {"conn_type": "smtp", "host": "127.0.0.1", "port": srv.port,
                "extra": {"disable_ssl": True, "disable_tls": True, "timeout": 5}}  # fmt: skip
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(conn))
        return srv

    yield start
    for srv in started:
        srv.close()


def _message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "statistik@stockholm.se"
    msg["To"] = f"{CHEF.name} <{CHEF.email}>"
    msg["Subject"] = "Tertialuppföljning 2018 T1"
    msg["Message-ID"] = "<t1-ost@stockholm.se>"
    msg.set_content("Hej")
    msg.add_attachment(b"PK\x03\x04book", maintype="application", subtype="octet-stream", filename="b.xlsx")
    return msg


def _send(folder, **kw):
    return send_to_recipient(CHEF, _message(), folder, mode="smtp", content_sha256=KEY, **kw)


def test_250_then_drop_is_delivered_once(server, tmp_path):
    srv = server("drop_after_250")
    result = _send(tmp_path / "ledger")  # no error: the server took the message
    assert result["status"] == "sent" and srv.received == 1
    for _ in range(3):  # the task's retries or a re-run
        assert _send(tmp_path / "ledger")["status"] == "already_sent"
    assert srv.received == 1
    assert [p.name for p in (tmp_path / "ledger").iterdir()] == [f"{CHEF.slug}__{KEY}.json"]


def test_drop_before_the_answer_is_uncertain_and_never_resent_automatically(server, tmp_path):
    srv = server("drop")
    with pytest.raises(DeliveryUncertain, match="Oklart om levererat: e-posten till olga.fiktivsdotter@"):
        _send(tmp_path / "ledger")
    assert srv.received == 1
    for _ in range(3):  # retries and new runs report, they do not send
        with pytest.raises(DeliveryUncertain, match="markering") as err:
            _send(tmp_path / "ledger")
        assert "Inget är skickat" not in str(err.value)
    assert srv.received == 1
    assert list((tmp_path / "ledger").glob("*.json")) == []  # not recorded as delivered
    assert len(ledger.unresolved(tmp_path / "ledger", CHEF.slug, KEY)) == 1
    srv.after_data = "ok"  # the operator checked: it did not arrive
    resent = _send(tmp_path / "ledger", resend=True)
    assert resent["status"] == "sent" and resent["resend"] == 1 and srv.received == 2
    assert _send(tmp_path / "ledger")["status"] == "already_sent"


def test_refused_data_is_certainly_not_sent_and_a_retry_sends(server, tmp_path):
    srv = server("refuse")
    with pytest.raises(MailDeliveryError, match="Inget är skickat"):
        _send(tmp_path / "ledger")
    assert ledger.unresolved(tmp_path / "ledger", CHEF.slug, KEY) == []
    srv.after_data = "ok"
    assert _send(tmp_path / "ledger")["status"] == "sent"
    assert _send(tmp_path / "ledger")["status"] == "already_sent" and srv.received == 2


def test_a_killed_attempt_is_not_resent_by_the_next_run(server, tmp_path):
    """SIGKILL between DATA and the ledger entry leaves only the attempt marker."""
    srv = server("ok")
    ledger.begin(tmp_path / "ledger", CHEF.slug, KEY, {"to": CHEF.email})  # as a killed process left it
    with pytest.raises(DeliveryUncertain, match=r"\.attempt"):
        _send(tmp_path / "ledger")
    assert srv.received == 0


def test_two_runs_sending_the_same_figures_at_once_send_one_message(tmp_path):
    """Both passed the ledger check; only the first reserves the entry, the second does not send."""
    first = ledger.begin(tmp_path / "ledger", CHEF.slug, KEY, {"to": CHEF.email})
    with pytest.raises(DeliveryUncertain, match="skickas eller har skickats av en annan körning"):
        ledger.begin(tmp_path / "ledger", CHEF.slug, KEY, {"to": CHEF.email})
    assert first.name == f"{CHEF.slug}__{KEY}.json"
    again = ledger.begin(tmp_path / "ledger", CHEF.slug, KEY, {"to": CHEF.email}, resend=True)
    assert again.name == f"{CHEF.slug}__{KEY}-resend-1.json"  # only an explicit resend adds one
