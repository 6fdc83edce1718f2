import base64
import hashlib
import hmac
import re
from pathlib import Path

import pandas as pd
import pytest

from etl.pseudonym import (
    PseudonymKeyError,
    load_key,
    luhn_check_digit,
    luhn_valid,
    pseudonymise,
    pseudonyms_of,
)

KEY = b"k" * 32


def test_luhn_check_digit_matches_skatteverkets_example():
    # Skatteverket's textbook example: 811218-987 has check digit 6 (811218-9876).
    # Weights 2,1,2,...: 8*2=16->7, 1, 1*2=2, 2, 1*2=2, 8, 9*2=18->9, 8, 7*2=14->5: sum 44 -> 6.
    assert luhn_check_digit("811218987") == 6


def test_luhn_valid_is_vectorised_and_strict():
    ids = pd.Series(["198112189876", "198112189875", "19811218987", "19811218987x", None])
    assert luhn_valid(ids).tolist() == [True, False, False, False, False]


def test_pseudonym_is_keyed_stable_and_never_a_digit_run():
    ids = pd.Series(["198112189876", "198112189876", None, "197001010008"])
    a = pseudonymise(ids, KEY)
    assert a[0] == a[1] and a[0] != a[3] and pd.isna(a[2])
    assert pseudonymise(ids, b"x" * 32)[0] != a[0]  # a different key gives other pseudonyms
    assert all(re.fullmatch(r"p[a-z2-7]{26}", v) for v in a.dropna())


@pytest.mark.parametrize("key", [b"k" * 32, b"0123456789" * 6 + b"abcd", b"x" * 65, bytes(range(200))])
def test_pseudonyms_are_hmac_sha256_in_base32(key):
    """The vectorised HMAC and base32 give what the hmac and base64 modules give, for keys
    shorter than, as long as and longer than SHA-256's 64-byte block (hashed first)."""
    values = ["198112189876", "", " P1 ", "Åsa\u202e", "x" * 5000, *(f"19{i:010d}" for i in range(300))]
    expected = [
        "p"
        + base64.b32encode(hmac.new(key, v.encode("utf-8"), hashlib.sha256).digest()).decode()[:26].lower()
        for v in values
    ]
    assert pseudonyms_of(values, key) == expected
    assert pseudonymise(pd.Series([None, *values], index=range(7, 8 + len(values))), key).tolist() == [
        pd.NA,
        *expected,
    ]


def test_luhn_takes_ascii_digits_only():
    """Other scripts' digits are no personnummer (they crashed the check before)."""
    assert luhn_valid(pd.Series(["19811218987\u0666", "١٩٨١١٢١٨٩٨٧٦", "198112189876"])).tolist() == [
        False,
        False,
        True,
    ]


def test_key_must_be_configured_and_long(monkeypatch):
    monkeypatch.delenv("EB_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("EB_PSEUDONYM_KEY_FILE", raising=False)
    with pytest.raises(PseudonymKeyError, match="Ingen pseudonymiseringsnyckel"):
        load_key()
    with pytest.raises(PseudonymKeyError, match="kortare"):
        load_key("short")
    monkeypatch.setenv("EB_PSEUDONYM_KEY", "zy" * 20)
    assert load_key() == b"zy" * 20


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("k", "kortare än 32 byte"),  # a 1-byte password in the eb_pseudonym_key connection
        ("a" * 32, "ett och samma tecken upprepat"),
        (" " * 32, "bara av blanksteg"),
        ("\t\n " * 11, "bara av blanksteg"),
    ],
    ids=["one_byte", "32_times_a", "32_spaces", "blank_mix"],
)
def test_guessable_keys_are_refused(key, message):
    """One loader for the CLI and the DAG's extract task (it passes the connection's password)."""
    with pytest.raises(PseudonymKeyError, match=message):
        load_key(key)


def test_an_empty_variable_falls_through_to_the_key_file(monkeypatch, tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("0123456789abcdef" * 3 + "\n", encoding="utf-8")
    monkeypatch.setenv("EB_PSEUDONYM_KEY", "")
    monkeypatch.setenv("EB_PSEUDONYM_KEY_FILE", str(key_file))
    assert load_key() == b"0123456789abcdef" * 3


def test_the_dag_extract_task_uses_the_one_loader():
    dag = Path(__file__).resolve().parents[1] / "dags" / "tertial_followup.py"
    call = 'pseudonym.load_key(BaseHook.get_connection("eb_pseudonym_key").password'
    assert call in dag.read_text(encoding="utf-8")
