"""Personnummer checks and keyed pseudonyms.

An unkeyed hash of a personnummer can be reversed by trying all ~36 million candidates, so
ids are replaced by an HMAC-SHA256 whose key is a secret kept apart from the data. The
pseudonym is base32 text with a letter prefix: it never contains a run of 12 digits, so a
scan for personnummer in outputs cannot be fooled by (or confused with) a pseudonym.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd

from etl.settings import env

KEY_ENV = "EB_PSEUDONYM_KEY"
KEY_FILE_ENV = "EB_PSEUDONYM_KEY_FILE"
MIN_KEY_BYTES = 32


class PseudonymKeyError(RuntimeError):
    """No usable pseudonymisation key was configured."""


def luhn_check_digit(nine_digits: str) -> int:
    """Check digit over YYMMDDNNN with weights 2,1,2,… (Skatteverket's rule)."""
    total = 0
    for i, ch in enumerate(nine_digits):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


def luhn_valid(ids: pd.Series) -> pd.Series:
    """True where the id is a 12-digit number whose last digit is a correct Luhn check digit.

    Vectorised: digits are unpacked into an integer matrix instead of looping over rows. ASCII
    digits only: ``\\d`` would also take other scripts' digits (and crash on them).
    """
    s = ids.astype("string")
    shape_ok = s.str.fullmatch(r"[0-9]{12}").fillna(False).to_numpy(dtype=bool)
    result = np.zeros(len(s), dtype=bool)
    if shape_ok.any():
        good = s[shape_ok].to_numpy(dtype=str)
        digits = np.frombuffer("".join(good).encode("ascii"), dtype=np.uint8).reshape(-1, 12)
        digits = digits.astype(np.int64) - ord("0")
        body = digits[:, 2:11]  # YYMMDDNNN
        weights = np.array([2, 1, 2, 1, 2, 1, 2, 1, 2])
        prod = body * weights
        prod = np.where(prod > 9, prod - 9, prod)
        check = (10 - prod.sum(axis=1) % 10) % 10
        result[shape_ok] = check == digits[:, 11]
    return pd.Series(result, index=ids.index, name=None)


def load_key(key: bytes | str | None = None) -> bytes:
    """The HMAC key: given explicitly, else from $EB_PSEUDONYM_KEY, else the file $EB_PSEUDONYM_KEY_FILE."""
    variables = env()
    if key is None and variables.pseudonym_key is not None:
        key = variables.pseudonym_key.get_secret_value() or None  # empty: fall through to the file
    if key is None and variables.pseudonym_key_file is not None:
        key = variables.pseudonym_key_file.read_text(encoding="utf-8").strip()
    if key is None:
        raise PseudonymKeyError(
            f"Ingen pseudonymiseringsnyckel: sätt {KEY_ENV} eller {KEY_FILE_ENV} "
            "(eller Airflow-anslutningen eb_pseudonym_key)."
        )
    raw = key.encode("utf-8") if isinstance(key, str) else key
    if len(raw) < MIN_KEY_BYTES:
        raise PseudonymKeyError(f"Pseudonymiseringsnyckeln är kortare än {MIN_KEY_BYTES} byte.")
    if not raw.strip():
        raise PseudonymKeyError("Pseudonymiseringsnyckeln består bara av blanksteg: generera en ny.")
    if len(set(raw)) == 1:
        raise PseudonymKeyError(
            "Pseudonymiseringsnyckeln är ett och samma tecken upprepat och går att gissa: generera en ny "
            "(openssl rand -hex 32)."
        )
    return raw


def new_key_file(path: Path) -> Path:
    """Write a fresh random key (for the local demo only); never overwrite an existing key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(base64.b32encode(os.urandom(40)).decode("ascii"), encoding="utf-8")
        path.chmod(0o600)
    return path


_BASE32 = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz234567", dtype=np.uint8)
_PSEUDONYM_CHARS = 26
_BIT_WEIGHTS = np.array([16, 8, 4, 2, 1], dtype=np.uint8)


_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))
_BLOCK = 64  # SHA-256's block size


def _hmac_states(key: bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    """HMAC-SHA256's inner and outer hashes with the key already absorbed (RFC 2104, as the
    ``hmac`` module does it): copying them costs a third of ``hmac.digest``'s key set-up per id."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return hashlib.sha256(key.translate(_IPAD)), hashlib.sha256(key.translate(_OPAD))


def pseudonyms_of(values: list[str], key: bytes) -> list[str]:
    """'p' + the first 26 characters of base32(HMAC-SHA256(key, value)), lower case, for each value.

    The HMAC runs once per value; the base32 of all digests is done at once with numpy (the same
    text as ``base64.b32encode(digest)[:26].lower()``: 26 characters are the digest's first 130 bits).
    """
    if not values:
        return []
    inner, outer = _hmac_states(key)
    digests = []
    for v in values:
        h = inner.copy()
        h.update(v.encode("utf-8"))
        o = outer.copy()
        o.update(h.digest())
        digests.append(o.digest())
    digests = b"".join(digests)
    head = np.frombuffer(digests, dtype=np.uint8).reshape(len(values), 32)[:, :17]  # 136 bits
    bits = np.unpackbits(head, axis=1)[:, : 5 * _PSEUDONYM_CHARS].reshape(len(values), _PSEUDONYM_CHARS, 5)
    text = np.empty((len(values), _PSEUDONYM_CHARS + 1), dtype=np.uint8)
    text[:, 0] = ord("p")
    text[:, 1:] = _BASE32[bits @ _BIT_WEIGHTS]
    joined = text.tobytes().decode("ascii")
    width = _PSEUDONYM_CHARS + 1
    return [joined[i : i + width] for i in range(0, len(joined), width)]


def cached_pseudonyms(uniques: list[str], key: bytes, cache: dict[str, str]) -> list[str]:
    """The pseudonyms of distinct ``uniques``, hashing only those not yet in ``cache`` (id → pseudonym)."""
    missing = [u for u in uniques if u not in cache]
    cache.update(zip(missing, pseudonyms_of(missing, key), strict=True))
    return [cache[u] for u in uniques]


def pseudonymise(ids: pd.Series, key: bytes, cache: dict[str, str] | None = None) -> pd.Series:
    """Replace each id by 'p' + base32(HMAC-SHA256(key, id))[:26]; nulls stay null.

    HMAC runs once per distinct id, then maps back by the ids' codes. ``cache`` (id → pseudonym)
    lets a caller streaming many chunks hash each id only once.
    """
    s = ids.astype("string")
    codes, uniques = pd.factorize(s)
    names = cached_pseudonyms(list(uniques), key, {} if cache is None else cache)
    out = np.array([*names, None], dtype=object)[codes]  # code -1 (null) takes the last: None
    return pd.Series(out, index=ids.index, name=ids.name).astype("string")
