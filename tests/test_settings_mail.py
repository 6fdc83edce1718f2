"""config/recipients.yml read into etl.settings.mail.Mail: what it accepts and what it refuses."""

from __future__ import annotations

import datetime as dt

import pytest

from etl.settings import settings
from etl.settings.base import SettingsError, parse
from etl.settings.mail import Mail, Recipient

SOURCE = "config/recipients.yml"
SCOPES = ("ALL", "KUN", "NOR", "OST")


def _raw() -> dict:
    return {
        "delivery": {
            "mode": "smtp",
            "from": "Enheten <tertial@stockholm.se>",
            "allowed_domains": ["stockholm.se"],
            "smtp": {"conn_id": "smtp_default", "timeout_seconds": 30},
            "date_day_of_month": 16,
            "date_time": "07:00",
        },
        "operators": ["drift@stockholm.se"],
        "scope_names": {"ALL": "hela enheten", "KUN": "Kungsholmen", "NOR": "Norrmalm", "OST": "Östermalm"},
        "recipients": [{"name": "A B", "email": "a.b@stockholm.se", "scope": "OST", "role": "enhetschef"}],
    }


def test_repository_config_loads():
    cfg = settings().mail
    assert cfg.delivery.mode in ("smtp", "outbox")
    assert cfg.delivery.allowed_domains == ("stockholm.se", "edu.stockholm.se")
    assert {r.scope for r in cfg.recipients} == {"ALL", "KUN", "NOR", "OST"}
    assert all(r.email.endswith("@stockholm.se") for r in cfg.recipients)
    assert cfg.operators and all(o.endswith("@stockholm.se") for o in cfg.operators)
    assert cfg.scope_name("OST") == "Östermalm" and cfg.scope_name("ALL") == "hela enheten"
    assert cfg.delivery.smtp.conn_id == "smtp_default" and cfg.delivery.smtp.timeout_seconds == 30


def test_parse_ok():
    cfg = parse(Mail, _raw(), SOURCE)
    assert cfg.recipients == (
        Recipient(name="A B", email="a.b@stockholm.se", scope="OST", role="enhetschef"),
    )
    assert cfg.recipients_for("OST") == cfg.recipients and cfg.recipients_for("KUN") == ()
    assert cfg.recipient("A.B@stockholm.se").role == "enhetschef"
    assert cfg.recipients[0].slug == "a.b_at_stockholm.se"
    assert cfg.delivery.sender == "Enheten <tertial@stockholm.se>"  # YAML key "from"
    assert (cfg.delivery.date_day_of_month, cfg.delivery.date_time) == (16, dt.time(7, 0))
    cfg.check_scopes(SCOPES)  # no error


@pytest.mark.parametrize(
    "change, match",
    [
        (
            lambda r: r["delivery"].update(mode="fax"),
            r"delivery\.mode: värdet 'fax' ska vara en av 'smtp', 'outbox'",
        ),
        (lambda r: r["recipients"][0].update(email="a@gmail.com"), "a@gmail.com ligger utanför"),
        (lambda r: r["operators"].append("drift@gmail.com"), "drift@gmail.com ligger utanför"),
        (lambda r: r["delivery"].update({"from": "Enheten <x@gmail.com>"}), "x@gmail.com ligger utanför"),
        (lambda r: r["recipients"].append(dict(r["recipients"][0])), "a.b@stockholm.se står två gånger"),
        (lambda r: r["recipients"][0].pop("role"), r"recipients\.0\.role: saknas"),
        (
            lambda r: r["delivery"].update(date_day_of_month=31),
            "date_day_of_month: värdet 31 ska vara högst 28",
        ),
        (lambda r: r["delivery"].update(date_time="sju"), "date_time: värdet 'sju' ska vara en tid TT:MM"),
        (
            lambda r: r["delivery"]["smtp"].update(timeout_seconds=0),
            "timeout_seconds: värdet 0 ska vara större",
        ),
        (
            lambda r: r["delivery"].update(allowed_domains=["stock holm.se"]),
            "'stock holm.se' är ingen giltig domän",
        ),
        # Retries are the Airflow task's, not the connection's: the old keys are refused.
        (lambda r: r["delivery"]["smtp"].update(retry_limit=3), r"smtp\.retry_limit: är ingen känd nyckel"),
    ],
)
def test_parse_refuses_bad_input(change, match):
    raw = _raw()
    change(raw)
    with pytest.raises(SettingsError, match=match) as err:
        parse(Mail, raw, SOURCE)
    assert str(err.value).startswith(f"{SOURCE}: ")


def test_misspelt_key_is_refused():
    raw = _raw()
    raw["recipents"] = raw.pop("recipients")
    with pytest.raises(SettingsError) as err:
        parse(Mail, raw, SOURCE)
    assert str(err.value).splitlines() == [
        f"{SOURCE}: recipients: saknas",
        f"{SOURCE}: recipents: är ingen känd nyckel (felstavad?)",
    ]


@pytest.mark.parametrize("field", ["name", "role"])
@pytest.mark.parametrize("text", ["A B\r\nBcc: x@gmail.com", "A B\nX", "A\rB"])
def test_line_breaks_in_a_recipient_are_refused(field, text):
    """Names and roles go into e-mail headers and bodies: no header injection."""
    raw = _raw()
    raw["recipients"][0][field] = text
    with pytest.raises(SettingsError, match=rf"recipients\.0\.{field}: .*inte innehålla radbrytningar"):
        parse(Mail, raw, SOURCE)


@pytest.mark.parametrize(
    "address", ["spy%evil.example@stockholm.se", "spy!evil.example@stockholm.se", "Chef <a@stockholm.se>"]
)
def test_routing_tricks_in_an_address_are_refused(address):
    """'%' and '!' route mail onwards on some servers: an allowed domain is not enough."""
    raw = _raw()
    raw["recipients"][0]["email"] = address
    with pytest.raises(SettingsError, match="är ingen giltig e-postadress"):
        parse(Mail, raw, SOURCE)


def test_domain_case_is_normalised():
    raw = _raw()
    raw["recipients"][0]["email"] = "A.B@STOCKHOLM.SE"
    raw["delivery"]["allowed_domains"] = ["@Stockholm.SE"]
    cfg = parse(Mail, raw, SOURCE)
    assert cfg.recipients[0].email == "A.B@stockholm.se"
    assert cfg.delivery.allowed_domains == ("stockholm.se",)


def test_check_scopes_across_files():
    cfg = parse(Mail, _raw(), SOURCE)
    with pytest.raises(ValueError, match=r"scope_names ska ha nycklarna \['ALL', 'KUN', 'NOR'\]"):
        cfg.check_scopes(("ALL", "KUN", "NOR"))
    raw = _raw()
    raw["recipients"][0]["scope"] = "SOD"
    with pytest.raises(ValueError, match="a.b@stockholm.se har omfattningen 'SOD'"):
        parse(Mail, raw, SOURCE).check_scopes(SCOPES)


def test_lookups_name_what_is_missing():
    cfg = parse(Mail, _raw(), SOURCE)
    with pytest.raises(ValueError, match="okand@stockholm.se finns inte bland mottagarna"):
        cfg.recipient("okand@stockholm.se")
    with pytest.raises(ValueError, match="scope_names saknar omfattningen 'SOD'"):
        cfg.scope_name("SOD")

