"""Who gets what: the delivery mode, the recipients, and the allow-list check at send time."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import getaddresses

from etl.addresses import check_allowed
from etl.settings import Mail, Recipient, env, settings
from etl.settings.mail import MODES

SMTP, OUTBOX = MODES


def recipient_addresses() -> list[str]:
    """Every recipient's address, in config order (the DAG maps the e-mail task over these)."""
    return [r.email for r in settings().mail.recipients]


def recipient(address: str) -> Recipient:
    """The configured recipient with ``address`` (case-insensitive)."""
    return settings().mail.recipient(address)


def delivery_mode(cfg: Mail | None = None) -> str:
    """$EB_MAIL_MODE if set (the demo uses outbox), else delivery.mode in the config."""
    return env().mail_mode or (cfg or settings().mail).delivery.mode


def message_addresses(message: EmailMessage) -> list[str]:
    """Every address the message is headed for (To, Cc, Bcc)."""
    headers = [str(v) for h in ("To", "Cc", "Bcc") for v in message.get_all(h, [])]
    return [addr for _, addr in getaddresses(headers)]


def check_addressed(recipient: Recipient, message: EmailMessage) -> str:
    """The recipient's address, once it and every address in ``message`` pass the allow-list
    and the message goes to the recipient alone.

    Checked again just before sending, so that a message built or edited elsewhere cannot take
    the statistics outside the organisation.
    """
    domains = settings().mail.delivery.allowed_domains
    email = check_allowed(recipient.email, domains)
    addresses = message_addresses(message)
    for addr in addresses:
        check_allowed(addr, domains)
    if [a.lower() for a in addresses] != [email.lower()]:
        raise ValueError(f"Meddelandet är adresserat till {addresses}, inte till mottagaren {email}.")
    return email
