"""Disclosure control: what may leave the archive (policy: docs/disclosure.md).

Primary suppression by each row's rule (``etl.vocabulary.RULE``): a figure resting on 1–4
persons, or staff sick leave for a group of at most ten employees (even "nothing to report",
which would say "no sick leave"), is replaced by ``..``; figures that are not about individuals
are never hidden. A figure with nothing to report (zero denominator, NaN) is shown as ``–``.

Complements, rule-based and iterated to a fixed point (each step only adds cells, so it ends).
The relations: each indicator's T/K/M triple per scope (for rates too: a rate times a public
population is a count), the district cells adding up to ``ALL`` per sex, and the configured
part/total groups (age bands, hushållstyp, the months of P). A relation must never hold exactly
one hidden cell (hidden zeros count: 0 % of 3 persons is about them); where it does, a non-zero
cell closing most exposed relations, then resting on the fewest persons, is hidden too. A zero
beside a hidden count total with one hidden part would tell who is in it: it is hidden, unless
structural (the unit's own shown figures already say it). Linked indicators (e.g. a count and
its share of the population) are hidden together at the same period, scope and sex. Then, for
at most ``audit_rounds`` rounds, etl.audit checks every primary cell's feasible interval and a
cell it names is hidden, followed by the rules again.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from etl.settings import Settings, settings
from etl.vocabulary import ALL, BASIS, DISCLOSURE_RULES, NOT_INDIVIDUAL, PERSONS, RULE, STAFF_GROUP

log = logging.getLogger(__name__)

SUPPRESSED = "suppressed"
PUBLISHED_COLUMNS = [
    "indicator_id", "period", "district_code", "sex", "value", "unit", SUPPRESSED, "published",
]  # fmt: skip
REQUIRED = ["indicator_id", "period", "district_code", "sex", "value", "unit", BASIS, RULE]
RULES = DISCLOSURE_RULES
_CELL = ["period", "district_code", "sex"]
_AUDIT_CELL = ["indicator_id", "district_code", "sex"]
PRIMARY = "primary"
AUDIT_LEFT = "audit_leaks_left"
"""suppress()'s frame attribute: leaks its last audit found (0 = clean; None = not audited)."""


@dataclass(frozen=True)
class DisclosureConfig:
    """What disclosure control needs: thresholds and symbols (config/pipeline.yml) and which
    figures are linked or add up (config/catalogue.yml).

    - ``linked``: families of id patterns hidden together at the same period, scope and sex. An
      id may hold one ``*``: members are linked where their ``*`` parts are equal.
    - ``sum_groups``: ``(total, parts)``: the parts add up to the total at the same period,
      scope and sex. A ``*`` in a part is carried into the total; ``{year}`` only matches the
      row's own period year.
    """

    min_persons: int
    min_staff_group: int
    suppressed_symbol: str
    nothing_symbol: str
    linked: tuple[tuple[str, ...], ...] = ()
    sum_groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    audit_rounds: int = 0

    def __post_init__(self) -> None:
        if int(self.min_persons) < 1 or int(self.min_staff_group) < 1:
            raise ValueError("disclosure: min_persons och min_staff_group måste vara positiva heltal.")
        linked = tuple(tuple(str(i) for i in family) for family in self.linked)
        if any(len(family) < 2 for family in linked):
            raise ValueError("disclosure.linked: varje familj måste ha minst två indikatorer.")
        groups = []
        for entry in self.sum_groups:
            total, parts = (entry["total"], entry["parts"]) if isinstance(entry, dict) else entry
            parts = (parts,) if isinstance(parts, str) else tuple(str(p) for p in parts)
            if not parts:
                raise ValueError(f"disclosure.sum_groups: totalen {total!r} saknar delar.")
            groups.append((str(total), parts))
        object.__setattr__(self, "linked", linked)
        object.__setattr__(self, "sum_groups", tuple(groups))

    @classmethod
    def from_settings(cls, cfg: Settings | None = None) -> DisclosureConfig:
        cfg = cfg or settings()
        d = cfg.pipeline.disclosure
        return cls(
            min_persons=d.min_persons,
            min_staff_group=d.min_staff_group,
            suppressed_symbol=d.suppressed_symbol,
            nothing_symbol=d.nothing_symbol,
            audit_rounds=d.audit_rounds,
            linked=cfg.catalogue.linked_families(),
            sum_groups=cfg.catalogue.sum_groups(),
        )


def _pattern(text: str) -> re.Pattern[str]:
    """A config id pattern as a regex: ``*`` captures (group ``star``), ``{year}`` a year."""
    escaped = re.escape(text).replace(r"\{year\}", r"(?P<year>\d{4})")
    return re.compile("^" + escaped.replace(r"\*", "(?P<star>.+?)", 1) + "$")


class _IdYears:
    """Each row's indicator id and period year, matched against a config pattern once per
    distinct pair (hundreds) rather than per row (tens of thousands nationally)."""

    def __init__(self, df: pd.DataFrame) -> None:
        ids = df["indicator_id"].astype("string")
        years = df["period"].astype("string").str[:4]
        self.codes = pd.factorize(ids + "|" + years)[0]  # -1 where either is missing
        codes, first = np.unique(self.codes, return_index=True)
        first = first[codes >= 0]
        self.ids = ids.iloc[first].reset_index(drop=True)
        self.years = years.iloc[first].reset_index(drop=True)
        self.index = df.index

    def match(self, text: str) -> pd.Series:
        """For each row: the ``*`` text of ``text`` ("" when none), or <NA> when the id does not
        match. ``{year}`` matches only the row's own period year."""
        pattern = _pattern(text)
        hit = self.ids.str.fullmatch(pattern).fillna(False).astype(bool)
        star = pd.Series("", index=self.ids.index, dtype="string")
        if pattern.groups:
            found = self.ids.str.extract(pattern)
            if "year" in found:
                hit &= (found["year"] == self.years).fillna(False).astype(bool)
            if "star" in found:
                star = found["star"].astype("string")
        per_pair = star.where(hit).array
        return pd.Series(per_pair.take(self.codes, allow_fill=True), index=self.index, dtype="string")


def _validate(stats: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in REQUIRED if c not in stats.columns]
    if missing:
        raise ValueError(
            f"Statistiken saknar kolumnerna {', '.join(missing)}; röjandekontroll kan inte göras."
        )
    unknown = sorted(set(stats[RULE].dropna().astype(str)) - set(RULES))
    if unknown or stats[RULE].isna().any():
        raise ValueError(f"Okänd eller saknad röjanderegel i statistiken: {unknown or 'tom'}.")
    basis = pd.to_numeric(stats[BASIS], errors="coerce")
    lacking = basis.isna() & (stats[RULE] != NOT_INDIVIDUAL)
    if lacking.any():
        ids = sorted(stats.loc[lacking, "indicator_id"].astype(str).unique())
        raise ValueError(
            f"Underlag (antal personer) saknas för {', '.join(ids)}; uppgifterna kan inte prövas."
        )
    if (basis < 0).any():
        raise ValueError("Underlaget (antal personer) får inte vara negativt.")
    key = ["indicator_id", *_CELL]
    if stats.duplicated(key).any():
        dup = stats.loc[stats.duplicated(key, keep=False), key].astype(str).head(3).to_numpy().tolist()
        raise ValueError(f"Statistiken har dubbla rader för samma indikator, period, område och kön: {dup}")
    df = stats.reset_index(drop=True).copy()
    df[BASIS] = basis.fillna(0).to_numpy()
    return df


def _text(df: pd.DataFrame, *cols: str) -> pd.Series:
    out = df[cols[0]].astype("string")
    for col in cols[1:]:
        out = out + "|" + df[col].astype("string")
    return out


def _groups(df: pd.DataFrame, cfg: DisclosureConfig, pairs: _IdYears) -> pd.DataFrame:
    """Every sum group as (group, row, total) memberships; only groups with a total and a part."""
    ids = df["indicator_id"].astype("string")
    cell = _text(df, *_CELL)
    # (group key per row, is the row the group's total): T of a triple, ALL of the districts.
    keyed = [
        (_text(df, "indicator_id", "period", "district_code") + "|tkm", df["sex"] == "T"),
        (_text(df, "indicator_id", "period", "sex") + "|dist", df["district_code"] == ALL),
    ]
    for i, (total, members) in enumerate(cfg.sum_groups):
        head, _, tail = total.partition("*")
        total_of = pd.Series(pd.NA, index=df.index, dtype="string")
        for member in members:
            star = pairs.match(member)
            total_of = total_of.fillna(head + star + tail if "*" in total else star.where(star.isna(), total))
        is_total = ids.isin(set(total_of.dropna())) & total_of.isna()
        keyed.append((f"sum{i}|" + total_of.fillna(ids.where(is_total)) + "|" + cell, is_total))
    long = pd.concat(
        [pd.DataFrame({"key": key, "row": np.arange(len(df)), "total": tot}) for key, tot in keyed],
        ignore_index=True,
    ).dropna(subset=["key"])
    by_key = long.groupby("key")
    long = long[by_key["total"].transform("any") & (by_key["row"].transform("size") >= 2)]
    return pd.DataFrame(
        {
            "group": pd.factorize(long["key"])[0],
            "row": long["row"].to_numpy(),
            "total": long["total"].astype(bool).to_numpy(),
        }
    )


def _families(df: pd.DataFrame, cfg: DisclosureConfig, pairs: _IdYears) -> list[np.ndarray]:
    """For each linked family: a group number per row (-1 when the row is not a member)."""
    cell = _text(df, *_CELL)
    out = []
    for family in cfg.linked:
        key = pd.Series(pd.NA, index=df.index, dtype="string")
        for member in family:
            key = key.fillna(pairs.match(member))
        codes = pd.factorize(key + "|" + cell)[0]  # NA keys get -1
        if (codes >= 0).any():
            out.append(codes)
    return out


def _spread(hidden: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Hide a cell in every member of its family when it is hidden in one."""
    member = codes >= 0
    any_hidden = np.zeros(codes.max() + 1, dtype=bool)
    np.logical_or.at(any_hidden, codes[member], hidden[member])
    return hidden | (member & any_hidden[np.where(member, codes, 0)])


def _first(group: np.ndarray, row: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Per group, the member row with the smallest ``key`` (rows already ordered by rank)."""
    pick = pd.DataFrame({"group": group, "row": row, "key": key})
    return pick.sort_values(["key"], kind="stable").drop_duplicates("group")["row"].to_numpy()


class _Pattern:
    """The rule-based suppression pattern of one table (see the module docstring)."""

    def __init__(self, df: pd.DataFrame, cfg: DisclosureConfig) -> None:
        basis = df[BASIS].to_numpy(dtype="float64")
        rule = df[RULE].astype(str).to_numpy()
        value = pd.to_numeric(df["value"], errors="coerce").to_numpy(dtype="float64")
        staff = rule == STAFF_GROUP
        small_staff = staff & (basis < cfg.min_staff_group)
        # A staff rate of a small group is hidden even when it is "nothing" ("–" would say the
        # group had no sick leave); a group of nobody (basis 0, no value) shows "–".
        self.primary = ((rule == PERSONS) & (basis > 0) & (basis < cfg.min_persons) & ~np.isnan(value)) | (
            small_staff & (~np.isnan(value) | (basis > 0))
        )
        self.hideable = ~np.isnan(value) & (rule != NOT_INDIVIDUAL)
        self.zero = (value == 0) | ((basis == 0) & self.hideable)
        self.count = df["unit"].astype(str).to_numpy() == "antal"
        self.structural = _structural_zeros(df, value, self.primary)
        pairs = _IdYears(df)
        members = _groups(df, cfg, pairs)
        self.group, self.row = members["group"].to_numpy(), members["row"].to_numpy()
        self.is_total = members["total"].to_numpy()
        self.n_groups = int(self.group.max()) + 1 if len(self.group) else 0
        self.families = _families(df, cfg, pairs)
        # Fewest persons first; on a tie a part before a total (a district before the unit, a sex
        # before T), then a fixed order (deterministic output).
        order = df[["indicator_id", "district_code", "sex", "period"]].astype(str)
        order = order.assign(basis=basis, unit=order["district_code"] == ALL, total=order["sex"] == "T")
        by = ["basis", "unit", "total", "indicator_id", "district_code", "sex", "period"]
        self.rank = np.empty(len(df), dtype="int64")
        self.rank[order.sort_values(by, kind="stable").index] = np.arange(len(df))

    def close(self, hidden: np.ndarray) -> np.ndarray:
        """Hide complements until no relation holds exactly one hidden cell and no zero beside a
        hidden total tells who is in it; families are hidden together. A fixed point."""
        hidden = hidden.copy()
        group, row = self.group, self.row
        while True:
            before = hidden.copy()
            for codes in self.families:
                hidden |= _spread(hidden, codes) & self.hideable & ~self.zero
            count = np.bincount(group, weights=hidden[row], minlength=self.n_groups)
            shown = ~hidden[row] & self.hideable[row]
            exposed = (count == 1)[group] & shown & ~self.structural[row]
            if exposed.any():
                # Prefer a non-zero cell, then one that closes most exposed groups (a crossing
                # relation's), then the one resting on the fewest persons.
                closes = np.bincount(row[exposed], minlength=len(hidden))
                key = self.zero[row[exposed]] * 2**40 - closes[row[exposed]] * 2**32 + self.rank[row[exposed]]
                hidden[_first(group[exposed], row[exposed], key)] = True
            # Attribute disclosure: a hidden count total with one hidden part and every shown
            # part zero says the hidden part holds everyone: hide one of the zeros too.
            total_hidden = np.zeros(self.n_groups, dtype=bool)
            total_hidden[group[self.is_total & hidden[row]]] = True
            part = ~self.is_total
            hidden_parts = np.bincount(group[part], weights=hidden[row[part]], minlength=self.n_groups)
            public = ~hidden & (~self.zero | self.structural)  # a non-zero, or a zero the unit shows
            public_parts = np.bincount(group[part], weights=public[row[part]], minlength=self.n_groups)
            telling = total_hidden & (hidden_parts == 1) & (public_parts == 0)
            zeros = telling[group] & part & shown & self.zero[row] & self.count[row]
            if zeros.any():
                hidden[_first(group[zeros], row[zeros], self.rank[row[zeros]])] = True
            if (hidden == before).all():
                return hidden


def _structural_zeros(df: pd.DataFrame, value: np.ndarray, primary: np.ndarray) -> np.ndarray:
    """District zeros the unit's own shown figures already give: the unit's cell of the same sex is
    0 beside a shown total (e.g. single men with children among women). Hiding them hides nothing."""
    key = _text(df, "indicator_id", "period")
    unit = df["district_code"] == ALL
    zero_all = pd.Series(value == 0, index=df.index)[unit]
    zero_at = dict(zip(key[unit] + "|" + df.loc[unit, "sex"].astype("string"), zero_all, strict=True))
    total_shown = dict(zip(key[unit & (df["sex"] == "T")], ~primary[(unit & (df["sex"] == "T")).to_numpy()],
                           strict=True))  # fmt: skip
    same = (key + "|" + df["sex"].astype("string")).map(zero_at).fillna(False).astype(bool)
    shown_total = key.map(total_shown).fillna(False).astype(bool)
    return (~unit & same & shown_total).to_numpy() & (value == 0)


def _published_frame(df: pd.DataFrame, hidden: np.ndarray) -> pd.DataFrame:
    value = pd.to_numeric(df["value"], errors="coerce").astype("float64")
    out = df[["indicator_id", "period", "district_code", "sex", "unit"]].copy()
    out["value"] = value.mask(hidden)
    out[SUPPRESSED] = hidden
    return out


def _close_leaks(df: pd.DataFrame, pattern: _Pattern, hidden: np.ndarray, keys: dict, sensitive: set):
    """The last resort when the audit still finds a leak (small sources): hide every cell of
    every relation that holds a leaking cell, zeros included, then the rules again; repeat until
    the audit passes or nothing is left to hide (then the gate refuses the package). Always ends:
    each round hides at least one more cell."""
    from etl import audit

    group, row = pattern.group, pattern.row
    while True:
        findings = audit.audit(_published_frame(df, hidden), sensitive=sensitive).findings
        leaking = [keys.get((f.period, f.indicator_id, f.scope, f.sex)) for f in findings]
        leaking = np.array([i for i in leaking if i is not None], dtype="int64")
        relations = np.unique(group[np.isin(row, leaking)])
        members = np.unique(row[np.isin(group, relations)])
        wider = hidden.copy()
        wider[members] |= pattern.hideable[members]
        if not findings or (wider == hidden).all():
            return hidden, len(findings)
        log.info("Röjandekontroll: %d läckor kvar, hela sambanden döljs (%d uppgifter till)",
                 len(findings), int((wider & ~hidden).sum()))  # fmt: skip
        hidden = pattern.close(wider)


def suppress(stats: pd.DataFrame, cfg: DisclosureConfig) -> pd.DataFrame:
    """``stats`` with boolean ``suppressed`` and ``primary`` columns: primary cells, the
    rule-based complements, then (bounded) cells the audit still asks for."""
    from etl import audit

    df = _validate(stats)
    pattern = _Pattern(df, cfg)
    hidden = pattern.close(pattern.primary)
    keys = {
        k: i for i, k in enumerate(zip(*(df[c].astype(str) for c in ["period", *_AUDIT_CELL]), strict=True))
    }
    sensitive = {k for k, i in keys.items() if pattern.primary[i]}
    left = None  # leaks the last audit found (None: the last pattern was not audited)
    for _ in range(cfg.audit_rounds):
        findings = audit.audit(_published_frame(df, hidden), sensitive=sensitive).findings
        fixes = [keys.get((f.period, *c)) for f in findings for c in f.fix]
        fixes = [i for i in fixes if i is not None and not hidden[i]]
        left = len(findings)
        if not fixes:
            break
        hidden[fixes] = True
        hidden = pattern.close(hidden)
        left = None
    if cfg.audit_rounds and left != 0:
        hidden, left = _close_leaks(df, pattern, hidden, keys, sensitive)
    audit.forget_relations()  # this table's rounds are done: the next table has other cells

    group, row = pattern.group, pattern.row
    count = np.bincount(group, weights=hidden[row], minlength=pattern.n_groups)
    alone = np.unique(row[(count == 1)[group] & hidden[row]])
    if len(alone):
        ids = sorted(df.loc[alone, "indicator_id"].astype(str).unique())
        log.warning("Röjandekontroll: en dold uppgift kan inte skyddas av någon annan i %s", ", ".join(ids))
    out = stats.reset_index(drop=True).copy()
    out[SUPPRESSED] = hidden
    out[PRIMARY] = pattern.primary
    out.attrs[AUDIT_LEFT] = left
    return out


def _format(values: pd.Series) -> pd.Series:
    """Dot decimal, no exponent for ordinary amounts, no float noise (15 significant digits)."""
    return values.map(lambda v: f"{v:.15g}", na_action="ignore")


def protect(stats: pd.DataFrame, cfg: DisclosureConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The publishable table and ``suppress``'s output (with the ``primary`` column, internal)."""
    df = suppress(stats, cfg)
    out = df.copy()
    value = pd.to_numeric(out["value"], errors="coerce").astype("float64")
    text = _format(value).astype("string").fillna(cfg.nothing_symbol)
    out["published"] = text.mask(out[SUPPRESSED], cfg.suppressed_symbol)
    out["value"] = value.mask(out[SUPPRESSED])
    out[SUPPRESSED] = out[SUPPRESSED].astype(bool)
    return out[PUBLISHED_COLUMNS], df


def publish(stats: pd.DataFrame, cfg: DisclosureConfig) -> pd.DataFrame:
    """The publishable table: values as text with the symbols, no basis counts or rules."""
    return protect(stats, cfg)[0]
