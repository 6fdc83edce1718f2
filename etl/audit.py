"""The disclosure auditor: what can an attacker derive about a hidden cell from what is published?

Statistical offices audit a suppression pattern this way. For every period in a published table
the auditor writes down the linear relations an attacker knows (T = K + M; the districts add up
to the unit; household types, months and age bands add up to their total; staff sick-leave
rates weighted by the shown full-time equivalents) and, for each hidden cell (``..``), finds the
smallest and largest value consistent with them by linear programming (scipy's HiGHS). A cell
fails when its feasible interval is narrower than the protection width (±2 persons for counts,
±1 percentage point for rates) or when it is exactly determined.

Rates of persons (shares, means, medians) have unknown weights; for them the attacker knows
only that the total lies between its parts (a weighted mean, or a pooled median), which
decides a hidden part exactly when, e.g., the total is 0 % or equals the only other part.
Attribute disclosure is checked too: a hidden total whose shown parts are all zero but one
hidden part tells everyone who is in the group, and a staff figure (also "–") for a group of ten
or fewer employees is a figure about that group. Workbooks and e-mails show only published
figures (reports.model.Figures) and figures derived from shown ones, so the published table is
what an attacker has.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
import pandas as pd

from etl import audit_intervals
from etl.settings import settings
from etl.settings.catalogue import AGE_BANDS
from etl.vocabulary import ALL, SEXES

COUNT_PROTECTION = 2.0
"""± persons an attacker must not get closer than for a hidden count."""
RATE_PROTECTION = 1.0
"""± percentage points for a hidden rate."""
EXACT = 1e-6
SOLVER_NOISE = 1e-9
"""Relative error of an LP end: an interval within it of the protection width is not narrower."""
NON_ADDITIVE = ("ja_justerad_fa_hushall", "ja_justerad_flera_toppar")
"""Counts that do not add up (flags)."""
ADDITIVE_KR = ("eb_utbetalt_kr",)
"""Amounts that add up (the id and its month family); other kr figures are means."""
NO_RELATION = ("_ki_lag", "_ki_hog", "skillnad", "index", "_fa_hushall", "_flera_toppar", "utesluten")
DIFFERENCES = {
    "ja_avslag_andel_skillnad": "ja_avslag_andel",
    "ja_beviljat_andel_av_ansokt_skillnad": "ja_beviljat_andel_av_ansokt",
    "ja_beviljat_kr_skillnad": "ja_beviljat_kr_medel",
}
"""Women-minus-men differences (T) of per-sex figures: K = difference + M, exactly."""
STAFF_RATES = ("pe_sjukfranvaro", "pe_sjukfranvaro_dag_1_14", "pe_langtidssjuk_andel")
HEADCOUNT, FTE, SICK = "pe_anstallda", "pe_arsarbetare", "pe_sjukfranvaro"
_STAFF_SLACK = 0.02
"""Percentage points (per FTE of the total) the FTE-weighted relation may miss the hours-weighted
one by: scheduled hours are nearly proportional to FTE, so an attacker treats it as exact."""


@dataclass(frozen=True)
class Finding:
    period: str
    indicator_id: str
    scope: str
    sex: str
    kind: str  # interval | exact | attribute | small_group
    low: float | None = None
    high: float | None = None
    fix: tuple = ()
    """Shown cells (id, scope, sex) whose suppression closes this leak (etl.disclosure uses them)."""
    relation: str = ""
    """The relation that gives it away, in Swedish (the gate's message)."""

    def text(self) -> str:
        where = f"{self.indicator_id} {self.scope} {self.sex} ({self.period})"
        if self.relation:
            where += f" [samband: {self.relation}]"
        if self.kind == "attribute":
            return f"{where}: det som visas bredvid (nollor eller –) röjer vad som gäller den dolda gruppen."
        if self.kind == "small_group":
            return f"{where}: en uppgift (även –) om en personalgrupp på högst tio anställda visas."
        span = f"{self.low:.4g} … {self.high:.4g}"
        if self.kind == "exact":
            return f"{where}: den dolda uppgiften kan räknas fram exakt ({span})."
        return f"{where}: den dolda uppgiften kan ringas in till {span}, snävare än skyddsbredden."


@dataclass
class AuditResult:
    findings: list[Finding] = field(default_factory=list)
    hidden: int = 0
    checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        if self.ok:
            return f"Röjandegranskningen godkänd: {self.hidden} dolda uppgifter, ingen kan räknas fram."
        head = f"Röjandegranskningen underkänd: {len(self.findings)} läckor ({self.hidden} dolda uppgifter)."
        lines = [head]
        return "\n".join(lines + [f"- {f.text()}" for f in self.findings])


class DisclosureAuditError(RuntimeError):
    """A package whose published figures reveal a protected cell: not to be sent or archived."""


# --------------------------------------------------------------------------- cells and relations


def _kind(indicator_id: str) -> str:
    """additive | staff | hull | none: how the attacker can relate this figure to others."""
    if any(part in indicator_id for part in NO_RELATION) or indicator_id in NON_ADDITIVE:
        return "none"
    entry = settings().catalogue.entry_for(indicator_id)
    if entry is None:
        return "none"
    if entry.id in STAFF_RATES:
        return "staff"
    if entry.unit in ("antal", "årsarbetare") or entry.id.startswith(ADDITIVE_KR):
        return "additive"
    return "hull" if entry.unit in ("procent", "kr", "dagar") else "none"


@lru_cache(maxsize=8)
def _groups(ids: frozenset, scopes: frozenset, year: str, cat) -> tuple[tuple, dict[tuple, list[int]]]:
    """(total, parts) of every relation among one period's ids (cells: id, scope, sex), and each
    cell's relations by position. The same in every audit round of a table: kept till its end."""
    districts = sorted(scopes - {ALL})
    out = []
    for i in ids:
        for s in scopes:
            out.append(((i, s, "T"), [(i, s, "K"), (i, s, "M")]))
        for x in SEXES:
            out.append(((i, ALL, x), [(i, d, x) for d in districts]))
    for entry in cat.indicators:
        if entry.family == "age_band":
            parts = [f"{entry.id}{band}" for band in AGE_BANDS]
            if entry.id in ids and all(p in ids for p in parts):
                out += [((entry.id, s, x), [(p, s, x) for p in parts]) for s in scopes for x in SEXES]
        elif entry.part_of and entry.family:
            pattern = entry.pattern
            members = sorted(i for i in ids if pattern.match(i) and i != entry.part_of)
            if entry.family == "month":
                members = [i for i in members if i[-6:-2] == year]
            if members and entry.part_of in ids:
                out += [((entry.part_of, s, x), [(p, s, x) for p in members]) for s in scopes for x in SEXES]
    for diff, base in DIFFERENCES.items():
        if diff in ids and base in ids:
            out += [((base, s, "K"), [(diff, s, "T"), (base, s, "M")]) for s in scopes]
    where: dict[tuple, list[int]] = {}
    for g, cell in ((g, cell) for g, (total, parts) in enumerate(out) for cell in (total, *parts)):
        where.setdefault(cell, []).append(g)
    return tuple(out), where


def forget_relations() -> None:
    """Drop the relations kept for a table's audit rounds (etl.disclosure, when its rounds end)."""
    _groups.cache_clear()


def _staff_weight(cells: dict, cell: tuple) -> float | None:
    """Full-time equivalents of a staff rate's group (× sick-leave rate for the long-spell share)."""
    indicator_id, scope, sex = cell
    base = next(r for r in sorted(STAFF_RATES, key=len, reverse=True) if indicator_id.startswith(r))
    suffix = indicator_id[len(base) :]
    fte = cells.get((FTE + suffix, scope, sex))
    if fte is None or fte[1] or math.isnan(fte[0]):
        return None
    if base == "pe_langtidssjuk_andel":
        sick = cells.get((SICK + suffix, scope, sex))
        if sick is None or sick[1] or math.isnan(sick[0]):
            return None
        return fte[0] * sick[0]
    return fte[0]


# --------------------------------------------------------------------------- the audit


def _period_audit(
    frame: pd.DataFrame, period: str, min_staff_group: int, sensitive: set | None = None
) -> tuple[list[Finding], int]:
    value = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    hidden = frame["suppressed"].astype("string").str.lower().isin(["true", "1"]).to_numpy()
    keys = list(zip(*(frame[c].astype(str).tolist() for c in ("indicator_id", "district_code", "sex")),
                    strict=True))  # fmt: skip
    cells = {k: (v, h) for k, v, h in zip(keys, value.to_numpy(), hidden, strict=True)}
    kinds = {i: _kind(i) for i in {k[0] for k in keys}}
    findings: list[Finding] = []

    def finding(cell, kind, low=None, high=None, fix=()):
        findings.append(Finding(period, *cell, kind, low, high, tuple(fix)))

    # A staff figure, "–" included, for a group of at most ten employees; and a "–" beside a shown
    # total, which says the group had no hours at all (attribute disclosure) unless it is large.
    for cell, (v, h) in cells.items():
        if kinds[cell[0]] != "staff" or h:
            continue
        base = next(r for r in sorted(STAFF_RATES, key=len, reverse=True) if cell[0].startswith(r))
        n = cells.get((HEADCOUNT + cell[0][len(base) :], cell[1], cell[2]))
        size = None if n is None or n[1] or math.isnan(n[0]) else n[0]
        total = cells.get((cell[0], cell[1], "T"))
        if size is not None and 0 < size <= min_staff_group:
            finding(cell, "small_group", fix=[cell])
        elif (math.isnan(v) and cell[2] != "T" and size is None and total is not None and not total[1]
              and not math.isnan(total[0])):  # fmt: skip
            finding(cell, "attribute", fix=[cell])

    groups, where = _groups(frozenset(kinds), frozenset(k[1] for k in keys), period[:4], settings().catalogue)
    rows, rhs, slack = [], [], []
    var: dict[tuple, int] = {}
    hull_bounds: dict[tuple, list[float]] = {}
    relations: dict[tuple, list[tuple[tuple, list[tuple]]]] = {}  # hidden cell → (total, parts)
    # Only a relation holding a hidden cell says anything; in their order, so the LPs are the same.
    holding = sorted({g for cell, (_, h) in cells.items() if h for g in where.get(cell, ())})
    for total, parts in (groups[g] for g in holding):
        kind = "difference" if parts and parts[0][0] in DIFFERENCES else kinds[total[0]]
        members = [c for c in (total, *parts) if c in cells]
        if kind == "none" or total not in cells or len(members) < 2 or not any(cells[c][1] for c in members):
            continue
        if kind == "difference" and any(not cells[c][1] and math.isnan(cells[c][0]) for c in members):
            continue  # a "–" difference or mean is undefined (nobody of one sex), not zero: no relation
        weights = {c: 1.0 for c in members}
        if kind == "staff":
            w = {c: _staff_weight(cells, c) for c in members}
            kind = "hull" if any(x is None for x in w.values()) else "linear"
            weights = w if kind == "linear" else weights
        present = [p for p in parts if p in cells]
        for c in members:
            if cells[c][1]:
                relations.setdefault(c, []).append((total, present))
        if kind == "hull":
            _hull(cells, total, present, hull_bounds)
            continue
        shown_parts = [p for p in present if not cells[p][1]]
        hidden_parts = [p for p in present if cells[p][1]]
        if (
            kind == "additive"
            and cells[total][1]
            and len(hidden_parts) == 1
            and shown_parts
            and all(cells[p][0] == 0 and not _structural(cells, p) for p in shown_parts)
        ):
            findings.append(Finding(period, *hidden_parts[0], "attribute",
                                    fix=tuple(p for p in shown_parts if cells[p][0] == 0),
                                    relation=_relation_text(total, present)))  # fmt: skip
        coef, b = {}, 0.0
        for c, sign in [(total, 1.0)] + [(p, -1.0) for p in present]:
            v, h = cells[c]
            if h:
                coef[c] = coef.get(c, 0.0) + sign * weights[c]
            elif not math.isnan(v):
                b -= sign * weights[c] * v
        if not coef:
            continue
        for c in coef:
            var.setdefault(c, len(var))
        rows.append(coef)
        rhs.append(b)
        staff = kinds[total[0]] == "staff" and kind != "difference"
        slack.append(_STAFF_SLACK * weights[total] if staff else 0.0)

    def protected(cell) -> bool:
        return sensitive is None or (period, *cell) in sensitive

    if var:
        for f in _linear(var, rows, rhs, slack, kinds, period, protected):
            if protected((f.indicator_id, f.scope, f.sex)):
                findings.append(replace(f, fix=_fix(cells, relations, f), relation=_named(relations, f)))
    for cell, (low, high) in hull_bounds.items():
        if not protected(cell) or not cells[cell][1]:
            continue
        width = high - low
        entry = settings().catalogue.entry_for(cell[0])
        protect = RATE_PROTECTION if entry is not None and entry.unit == "procent" else 0.5
        if width < 2 * protect or width <= EXACT:
            f = Finding(period, *cell, "exact" if width <= EXACT else "interval", low, high)
            findings.append(replace(f, fix=_fix(cells, relations, f), relation=_named(relations, f)))
    return findings, int(hidden.sum())


def _structural(cells: dict, cell: tuple) -> bool:
    """A district's zero that the unit's shown figures already give (the unit's cell of that sex
    is a shown 0 beside a shown total): it tells nothing the unit's figures do not."""
    indicator_id, scope, sex = cell
    unit, total = cells.get((indicator_id, ALL, sex)), cells.get((indicator_id, ALL, "T"))
    return (scope != ALL and unit is not None and not unit[1] and unit[0] == 0
            and total is not None and not total[1])  # fmt: skip


def _relation_text(total: tuple, parts: list[tuple]) -> str:
    """E.g. "totalt = kvinnor + män (eb_hushall KUN)"."""
    if parts and all(p[0] == total[0] and p[1] == total[1] for p in parts):
        return f"totalt = kvinnor + män ({total[0]} {total[1]})"
    if parts and all(p[0] == total[0] for p in parts):
        return f"stadsdelarna = hela enheten ({total[0]} {total[2]})"
    if parts and parts[0][0] in DIFFERENCES:
        return f"kvinnor = skillnaden + män ({total[0]} {total[1]})"
    names = " + ".join(sorted({p[0] for p in parts}))
    return f"delarna = helheten ({total[0]} = {names}, {total[1]} {total[2]})"


def _named(relations: dict, f: Finding) -> str:
    found = relations.get((f.indicator_id, f.scope, f.sex))
    return _relation_text(*found[0]) if found else ""


def _fix(cells: dict, relations: dict, f: Finding) -> tuple:
    """One shown cell to hide: a part before a total, the smallest non-zero value first."""
    cell = (f.indicator_id, f.scope, f.sex)
    options = []
    for total, parts in relations.get(cell, []):
        for c in (total, *parts):
            v, h = cells[c]
            if not h and not math.isnan(v):
                options.append((c == total, v == 0, abs(v), c))
    return (min(options)[3],) if options else ()


def _hull(cells, total, parts, bounds) -> None:
    """Weighted means (and pooled medians) lie between their parts: bounds on hidden cells."""
    t, t_hidden = cells[total]
    data = [p for p in parts if cells[p][1] or not math.isnan(cells[p][0])]  # "–" parts have no weight
    hidden = [p for p in data if cells[p][1]]
    shown = [cells[p][0] for p in data if not cells[p][1]]
    upper = 100.0 if settings().catalogue.entry_for(total[0]).unit == "procent" else math.inf

    def narrow(cell, low, high):
        old = bounds.get(cell, [0.0, upper])
        bounds[cell] = [max(old[0], low), min(old[1], high)]

    if t_hidden:
        if hidden or not shown:
            return
        narrow(total, min(shown), max(shown))
        return
    if math.isnan(t):
        return
    if len(hidden) == 1:
        h = hidden[0]
        if not shown or all(s == t for s in shown):
            narrow(h, t, t)
        elif all(s > t for s in shown):
            narrow(h, 0.0, t)
        elif all(s < t for s in shown):
            narrow(h, t, upper)
    elif hidden and (t == 0 or t == upper):
        for h in hidden:
            narrow(h, t, t)


def _linear(var, rows, rhs, slack, kinds, period, protected) -> list[Finding]:
    """Min and max of every hidden cell under the relations (equalities within their slack),
    one connected set of hidden cells at a time (etl.audit_intervals). The relation matrix is
    sparse: a national period holds thousands of hidden cells."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(var)
    r_idx = np.fromiter((r for r, coef in enumerate(rows) for _ in coef), dtype=np.int64)
    c_idx = np.fromiter((var[c] for coef in rows for c in coef), dtype=np.int64)
    w = np.fromiter((x for coef in rows for x in coef.values()), dtype="float64")
    a = coo_matrix((w, (r_idx, c_idx)), shape=(len(rows), n)).tocsr()
    a.eliminate_zeros()
    b, s = np.asarray(rhs), np.asarray(slack)
    cells = sorted(var, key=var.get)
    touches = (a != 0).astype("int8")
    _, label = connected_components((touches.T @ touches) > 0, directed=False)
    # Every relation with a coefficient lies in one component: that of its first column.
    has = np.diff(a.indptr) > 0
    row_label = np.full(len(rows), -1)
    row_label[has] = label[a.indices[a.indptr[:-1][has]]]
    col_order = np.argsort(label, kind="stable")
    col_cuts = np.searchsorted(label[col_order], np.arange(label.max() + 2))
    row_order = np.argsort(row_label, kind="stable")
    row_cuts = np.searchsorted(row_label[row_order], np.arange(label.max() + 2))
    out = []
    for component in range(len(col_cuts) - 1):
        cols = col_order[col_cuts[component] : col_cuts[component + 1]]
        used = row_order[row_cuts[component] : row_cuts[component + 1]]
        if not len(cols):
            continue
        out += _solve(a[used][:, cols], b[used], s[used], [cells[j] for j in cols], kinds, period, protected)
    return out


def _solve(a, b, s, cells, kinds, period, protected) -> list[Finding]:
    """Findings among one connected set's protected cells (a complement needs no interval)."""
    wanted = [j for j, c in enumerate(cells) if protected(c)]
    if not wanted:
        return []
    per_id = {i: (_bounds(i, kinds), 2 * _protection(i, kinds)) for i in {c[0] for c in cells}}
    width = np.array([per_id[c[0]][1] for c in cells])
    bounds = [per_id[c[0]][0] for c in cells]
    out, threads = [], settings().pipeline.disclosure.audit_threads
    for j, (low, high) in audit_intervals.intervals(a, b, s, bounds, wanted, width, threads).items():
        # Narrower than the width by more than solver noise: a width of exactly 4 persons
        # computed as 3.9999999999999942 is not a leak (nor may the row order decide it).
        noise = max(EXACT, SOLVER_NOISE * max(abs(low), abs(high)))
        if high - low <= EXACT:
            out.append(Finding(period, *cells[j], "exact", low, high))
        elif high - low < width[j] - noise:
            out.append(Finding(period, *cells[j], "interval", low, high))
    return out


def _bounds(indicator_id: str, kinds: dict) -> tuple[float | None, float | None]:
    if indicator_id in DIFFERENCES:
        return (None, None)
    entry = settings().catalogue.entry_for(indicator_id)
    if kinds[indicator_id] == "staff" or (entry is not None and entry.unit == "procent"):
        return (0.0, 100.0)
    return (0.0, None)


def _protection(indicator_id: str, kinds: dict) -> float:
    entry = settings().catalogue.entry_for(indicator_id)
    if kinds[indicator_id] == "staff" or (entry is not None and entry.unit == "procent"):
        return RATE_PROTECTION
    return COUNT_PROTECTION if kinds[indicator_id] == "additive" else 0.5


def audit(published: pd.DataFrame, sensitive: set[tuple[str, str, str, str]] | None = None) -> AuditResult:
    """Every leak in a published table (any number of periods).

    ``sensitive``: the (period, id, scope, sex) cells the primary rule hid. Only they need a
    protection interval (a complement resting on many persons may well be derivable); without
    it every hidden cell is held to the width, as an outsider who cannot tell them apart would.
    """
    min_staff = settings().pipeline.disclosure.min_staff_group
    result = AuditResult()
    for period, frame in published.groupby("period", sort=True):
        found, hidden = _period_audit(frame, str(period), min_staff, sensitive)
        result.findings += sorted(set(found), key=lambda f: (f.indicator_id, f.scope, f.sex, f.kind))
        result.hidden += hidden
        result.checked += len(frame)
    return result


def require_clean(published_csv) -> AuditResult:
    """Raise DisclosureAuditError when the table fails the audit (the pipeline's gate)."""
    from etl.published import read_published

    result = audit(read_published(published_csv))
    if not result.ok:
        raise DisclosureAuditError(result.summary())
    return result
