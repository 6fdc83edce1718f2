"""config/recipients.yml: who receives the follow-up, how it is delivered, the operators' address."""

from __future__ import annotations

import datetime as dt
from email.utils import parseaddr
from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from etl.addresses import check_allowed, normalise_domain, slug
from etl.settings.base import Frozen

MODES = ("smtp", "outbox")


def _plain(value: str) -> str:
    """No line breaks or control characters: names end up in e-mail headers."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("får inte innehålla radbrytningar eller styrtecken")
    return value


class Smtp(Frozen):
    conn_id: str = Field(min_length=1)
    timeout_seconds: int = Field(gt=0)


class Delivery(Frozen):
    model_config = ConfigDict(populate_by_name=True)

    mode: Literal["smtp", "outbox"]
    sender: str = Field(alias="from", min_length=3)
    allowed_domains: tuple[str, ...] = Field(min_length=1)
    smtp: Smtp
    date_day_of_month: int = Field(ge=1, le=28)
    date_time: dt.time

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(normalise_domain(d) for d in value)

    @model_validator(mode="after")
    def _sender(self) -> Delivery:
        _plain(self.sender)
        check_allowed(parseaddr(self.sender)[1], self.allowed_domains)
        return self


class Recipient(Frozen):
    name: str = Field(min_length=1)
    email: str
    scope: str
    role: str = Field(min_length=1)
    verksamhetsberattelse: bool | None = None
    """Gets the VB workbook at T3: true/false here, else by role (Mail.verksamhetsberattelse.roles)."""

    _plain_name = field_validator("name", "role")(classmethod(lambda cls, v: _plain(v)))

    @property
    def slug(self) -> str:
        """File-name-safe form of the address (ledger and outbox file names)."""
        return slug(self.email)


class VbMail(Frozen):
    """Who gets the verksamhetsberättelse's workbook (T3) besides their tertial workbook."""

    roles: tuple[str, ...] = ("enhetschef",)


class Mail(Frozen):
    delivery: Delivery
    operators: tuple[str, ...] = Field(min_length=1)
    scope_names: dict[str, str]
    recipients: tuple[Recipient, ...]
    verksamhetsberattelse: VbMail = VbMail()

    @model_validator(mode="after")
    def _addresses(self) -> Mail:
        domains = self.delivery.allowed_domains
        object.__setattr__(self, "operators", tuple(check_allowed(a, domains) for a in self.operators))
        seen: set[str] = set()
        fixed = []
        for r in self.recipients:
            email = check_allowed(r.email, domains)
            if email.lower() in seen:  # one message per address and run; the address is the map key
                raise ValueError(f"{email} står två gånger bland recipients (en adress får en omfattning)")
            seen.add(email.lower())
            fixed.append(r.model_copy(update={"email": email}))
        object.__setattr__(self, "recipients", tuple(fixed))
        return self

    def check_scopes(self, scopes: tuple[str, ...]) -> None:
        """Scope names and recipients' scopes must be the pipeline's scopes (checked across files)."""
        if set(self.scope_names) != set(scopes):
            raise ValueError(f"scope_names ska ha nycklarna {list(scopes)}, har {list(self.scope_names)}")
        for r in self.recipients:
            if r.scope not in scopes:
                raise ValueError(
                    f"recipients: {r.email} har omfattningen {r.scope!r}; tillåtna: {list(scopes)}"
                )

    def scope_name(self, scope: str) -> str:
        if scope not in self.scope_names:
            raise ValueError(f"recipients.yml: scope_names saknar omfattningen {scope!r}.")
        return self.scope_names[scope]

    def recipients_for(self, scope: str) -> tuple[Recipient, ...]:
        return tuple(r for r in self.recipients if r.scope == scope)

    def vb_recipients(self) -> tuple[Recipient, ...]:
        """Recipients of the VB workbook: ``verksamhetsberattelse: true``, or unset and a role in
        ``verksamhetsberattelse.roles`` (enhetschef by default), in config order."""
        roles = {r.casefold() for r in self.verksamhetsberattelse.roles}
        return tuple(
            r for r in self.recipients
            if r.verksamhetsberattelse or (r.verksamhetsberattelse is None and r.role.casefold() in roles)
        )  # fmt: skip

    def recipient(self, address: str) -> Recipient:
        for r in self.recipients:
            if r.email.lower() == address.lower():
                return r
        raise ValueError(f"{address} finns inte bland mottagarna i config/recipients.yml.")
