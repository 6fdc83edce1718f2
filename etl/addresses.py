"""E-mail addresses: one plain address in an allow-listed domain, nothing else.

The statistics must not leave the organisation, so both the configuration (when it is read)
and the sending step (just before a message goes out) check every address here.
"""

from __future__ import annotations

import re

# An address is one addr-spec, nothing else: no display name, comments, lists or quoting. The
# local part takes letters, digits and . _ + - only: '%' and '!' route mail onwards on some servers.
_LOCAL_RE = re.compile(r"^[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*$")
_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


class RecipientNotAllowed(ValueError):
    """An address that is malformed or outside the allow-listed domains."""


def normalise_domain(domain: str) -> str:
    d = str(domain).strip().lower().lstrip("@")
    if not d or not all(_LABEL_RE.match(label) for label in d.split(".")):
        raise RecipientNotAllowed(f"{domain!r} är ingen giltig domän i allowed_domains.")
    return d


def check_allowed(address: str, allowed_domains) -> str:
    """Return ``address`` (domain lower-cased) if it is one plain address in an allowed domain.

    Exact domain or a subdomain of it. Anything but a bare ``local@domain`` is refused, so a
    display name, a second address or a comment cannot smuggle in another destination.
    """
    domains = tuple(normalise_domain(d) for d in allowed_domains)
    allowed_text = ", ".join(domains)
    if not isinstance(address, str) or address.count("@") != 1:
        raise RecipientNotAllowed(
            f"{address!r} är ingen giltig e-postadress: ange exakt en adress (namn@domän), utan "
            f"visningsnamn. Tillåtna domäner: {allowed_text}."
        )
    local, domain = address.split("@")
    domain = domain.lower()
    labels = domain.split(".")
    if not _LOCAL_RE.match(local) or len(labels) < 2 or not all(_LABEL_RE.match(x) for x in labels):
        raise RecipientNotAllowed(
            f"{address!r} är ingen giltig e-postadress: ange exakt en adress (namn@domän), utan "
            f"visningsnamn, mellanslag eller citattecken. Tillåtna domäner: {allowed_text}."
        )
    if not any(domain == d or domain.endswith("." + d) for d in domains):
        raise RecipientNotAllowed(
            f"Adressen {address} ligger utanför de tillåtna domänerna ({allowed_text}): "
            "tertialstatistiken får inte skickas utanför organisationen. Rätta config/recipients.yml."
        )
    return f"{local}@{domain}"


def slug(email: str) -> str:
    """File-name-safe form of an address (ledger and outbox file names)."""
    return re.sub(r"[^a-z0-9._-]", "_", email.lower().replace("@", "_at_"))
