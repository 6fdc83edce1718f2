"""Feasible intervals of hidden cells: the smallest and largest value of each that the audit's
linear relations allow (etl.audit writes the relations and judges the intervals).

A national period holds thousands of hidden cells linked into one set (districts × household
types × sexes), so one LP from scratch per end (scipy's ``linprog``, ~40 ms there) made the audit
the slowest stage of the run. Here each connected set is one HiGHS model, built once; between
solves only the objective changes, and the primal simplex starts from the last optimal basis
(~1 ms). Before a cell's own two solves, the feasible points already met (other cells' optima and
a few fixed ±1 objectives) are checked: when they span its protection width the interval holds
them, so the cell cannot fail and is not solved. A status other than optimal, infeasible or
unbounded is solved again with ``linprog``, as before.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import highspy
import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

SPREAD_ROUNDS = 32
"""At most this many pairs of ±1 objectives (on the cells not cleared yet) before the cells' own
solves: nationally ~15 pairs clear three in four of 1,100 cells."""
SPREAD_PATIENCE = 2
"""Pairs in a row that clear no cell end the spreading."""
MIN_CELLS_PER_THREAD = 32
"""A thread of its own only for this many open cells: a model copy costs a few solves."""
SEEN_MARGIN = 1e-6
"""Relative margin by which the points met must exceed a protection width (solver tolerance)."""
_OPTIMAL = highspy.HighsModelStatus.kOptimal
_INFEASIBLE = highspy.HighsModelStatus.kInfeasible
_UNBOUNDED = highspy.HighsModelStatus.kUnbounded


class _Model:
    """One connected set's relations as a HiGHS model: rows ``b - s ≤ a·x ≤ b + s``. When the
    equalities have no solution, the set is relaxed for good to totals ≥ parts (``a·x ≥ b``), as
    the audit has always read such relations."""

    def __init__(self, a: csr_matrix, b: np.ndarray, s: np.ndarray, bounds: list[tuple]) -> None:
        self.a, self.b, self.s = a, b, s
        self.bounds = bounds
        self.low = np.array([-highspy.kHighsInf if lo is None else lo for lo, _ in bounds], dtype="float64")
        self.high = np.array([highspy.kHighsInf if hi is None else hi for _, hi in bounds], dtype="float64")
        self.exact = s == 0
        self.relaxed = False
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("presolve", "off")
        h.setOptionValue("simplex_strategy", 4)  # primal: a new objective keeps the basis feasible
        n = a.shape[1]
        h.addVars(n, self.low, self.high)
        h.addRows(a.shape[0], b - s, b + s, a.nnz, a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32),
                  a.data)  # fmt: skip
        self.h, self.n = h, n
        self.columns = np.arange(n, dtype=np.int32)
        self.cost = np.zeros(n)  # the model's objective now (HiGHS starts at zero)

    def relax(self) -> None:
        for row in np.flatnonzero(self.exact):
            self.h.changeRowBounds(int(row), float(self.b[row]), highspy.kHighsInf)
        self.relaxed = True

    def run(self, cost: np.ndarray) -> tuple[object, float, np.ndarray | None]:
        """(status, objective, point) for minimising ``cost·x``. Only the costs that differ from
        the last objective are passed (a cell's own solve changes two of thousands)."""
        changed = np.flatnonzero(cost != self.cost).astype(np.int32)
        if len(changed):
            self.h.changeColsCost(len(changed), changed, cost[changed])
            self.cost = cost.copy()
        self.h.run()
        status = self.h.getModelStatus()
        if status != _OPTIMAL:
            return status, math.nan, None
        return status, self.h.getInfo().objective_function_value, np.asarray(self.h.getSolution().col_value)

    def with_bounds(self, low: np.ndarray, high: np.ndarray) -> None:
        self.h.changeColsBounds(self.n, self.columns, low, high)

    def linprog(self, cost: np.ndarray):
        """The same LP from scratch with scipy (the audit's old path, for odd statuses)."""
        a, b, s, exact = self.a, self.b, self.s, self.exact
        ub = (None, None)
        if (~exact).any():  # slack rows as two inequalities each
            rows, rhs, slack = a[~exact], b[~exact], s[~exact]
            ub = (_stack(rows, -rows), np.concatenate([rhs + slack, -(rhs - slack)]))
        if self.relaxed:
            ub, eq = (_stack(ub[0], -a[exact]), _cat(ub[1], -b[exact])), (None, None)
        else:
            eq = (a[exact], b[exact]) if exact.any() else (None, None)
        bounds = self.bounds
        return linprog(cost, A_ub=ub[0], b_ub=ub[1], A_eq=eq[0], b_eq=eq[1], bounds=bounds, method="highs")


def _stack(a, b):
    from scipy.sparse import vstack

    return b if a is None else vstack([a, b]).tocsr()


def _cat(a, b):
    return b if a is None else np.concatenate([a, b])


class _Search:
    """One connected set's model and the feasible points met so far (per cell, the lowest and
    highest value seen): the points clear cells without their own solves."""

    def __init__(self, a: csr_matrix, b: np.ndarray, s: np.ndarray, bounds: list[tuple],
                 wanted: np.ndarray, width: np.ndarray) -> None:  # fmt: skip
        self.model = _Model(a, b, s, bounds)
        self.b, self.wanted, self.width = b, wanted, width
        self.n = a.shape[1]
        self.seen_low, self.seen_high = np.full(self.n, np.inf), np.full(self.n, -np.inf)
        self.has_equalities = bool(self.model.exact.any())

    def copy(self) -> _Search:
        """The same model and points for another thread, from this model's basis if it has one."""
        other = _Search.__new__(_Search)
        other.__dict__.update(self.__dict__)
        m = self.model
        other.model = _Model(m.a, m.b, m.s, m.bounds)
        if m.relaxed:
            other.model.relax()
        basis = m.h.getBasis()
        if basis.valid:
            other.model.h.setBasis(basis)
        other.seen_low, other.seen_high = self.seen_low.copy(), self.seen_high.copy()
        return other

    def see(self, point: np.ndarray | None) -> None:
        if point is not None:
            np.minimum(self.seen_low, point, out=self.seen_low)
            np.maximum(self.seen_high, point, out=self.seen_high)

    def solve(self, cost: np.ndarray, spread: bool = False) -> tuple[object, float]:
        model = self.model
        status, value, point = model.run(cost)
        if status == _INFEASIBLE and self.has_equalities and not model.relaxed and not spread:
            model.relax()  # the equalities have no solution for any objective: relaxed for good
            self.seen_low.fill(np.inf)
            self.seen_high.fill(-np.inf)
            status, value, point = model.run(cost)
            self.spread()
        self.see(point)
        return status, value

    def cleared(self, cols: np.ndarray) -> np.ndarray:
        low, high = self.seen_low[cols], self.seen_high[cols]
        with np.errstate(invalid="ignore"):
            scale = np.maximum(1.0, np.maximum(np.abs(low), np.abs(high)))
            return high - low >= self.width[cols] + SEEN_MARGIN * np.where(np.isfinite(scale), scale, 0.0)

    def still_open(self) -> np.ndarray:
        """The wanted cells the points met do not clear yet, in order."""
        return self.wanted[~self.cleared(self.wanted)]

    def cleared_one(self, j: int) -> bool:
        """``cleared`` of one cell in plain floats (the same operations, called per solve)."""
        low, high = float(self.seen_low[j]), float(self.seen_high[j])
        scale = max(1.0, abs(low), abs(high))
        return high - low >= float(self.width[j]) + (SEEN_MARGIN * scale if math.isfinite(scale) else 0.0)

    def spread(self, twin: _Search | None = None, pool: ThreadPoolExecutor | None = None) -> None:
        """±1 on the cells not cleared yet, random but seeded, until two rounds clear none. With
        a ``twin`` (another model of the set), it solves each pair's −1 side at the same time."""
        models = [self.model] if twin is None else [self.model, twin.model]
        cap = 2 * float(np.abs(self.b).max(initial=0.0)) + 2 * float(self.width.max(initial=0.0)) + 1.0
        for model in models:
            model.with_bounds(np.maximum(model.low, -cap), np.minimum(model.high, cap))  # any point counts
        rng, stale = np.random.default_rng(0), 0
        for _ in range(SPREAD_ROUNDS):
            still = self.still_open()
            if not len(still) or stale == SPREAD_PATIENCE:
                break
            cost = np.zeros(self.n)
            cost[still] = rng.choice([-1.0, 1.0], size=len(still))
            if twin is None:
                self.solve(cost, spread=True)
                self.solve(-cost, spread=True)
            else:
                for run in [pool.submit(self.model.run, cost), pool.submit(twin.model.run, -cost)]:
                    self.see(run.result()[2])
            stale = stale + 1 if self.cleared(still).sum() == 0 else 0
        for model in models:
            model.with_bounds(model.low, model.high)

    def ends(self, cells: np.ndarray) -> dict[int, tuple[float, float]]:
        """(low, high) of each of ``cells`` that the points met do not clear first, in order."""
        out = {}
        for j in cells:
            ends = []
            for sign in (1.0, -1.0):
                if self.cleared_one(j):
                    break  # the points met (this cell's own low included) already span its width
                cost = np.zeros(self.n)
                cost[j] = sign
                status, value = self.solve(cost)
                if status == _UNBOUNDED:
                    end = -math.inf * sign  # no lower (min) or no upper (max) end
                elif status == _OPTIMAL:
                    end = sign * value
                elif status == _INFEASIBLE:
                    end = math.nan
                else:
                    res = self.model.linprog(cost)
                    end = sign * res.fun if res.success else math.nan
                    end = -math.inf * sign if res.status == 3 else end
                if math.isnan(end) or math.isinf(end):
                    break  # no interval (no solution) or an unbounded one: never a finding
                ends.append(end)
            if len(ends) == 2:
                out[int(j)] = (ends[0], ends[1])
        return out


def intervals(
    a: csr_matrix,
    b: np.ndarray,
    s: np.ndarray,
    bounds: list[tuple],
    wanted: list[int],
    width: np.ndarray,
    threads: int = 1,
) -> dict[int, tuple[float, float]]:
    """For each ``wanted`` column of one connected set: (low, high), or nothing when the points
    met already span ``width`` (it cannot fail) or an end is undefined (no solution).

    With ``threads`` > 1 (and enough cells), copies of the model solve at the same time (HiGHS
    releases the GIL): a second one each ±1 pair's other side, then each copy its own run of
    the cells still open, in order. The same cuts whatever the machine, so the same solves;
    every end is the LP's optimum, whichever points cleared the other cells."""
    search = _Search(a, b, s, bounds, np.asarray(wanted, dtype=np.int64), width)
    workers = max(1, min(threads, len(search.wanted) // MIN_CELLS_PER_THREAD))
    if workers == 1:
        search.spread()
        return search.ends(search.still_open())
    twins = [search.copy() for _ in range(workers - 1)]
    with ThreadPoolExecutor(workers, thread_name_prefix="audit") as pool:
        search.spread(twins[0], pool)
        todo = search.still_open()
        parts = np.array_split(todo, max(1, min(workers, len(todo) // MIN_CELLS_PER_THREAD)))
        searches = [search, *twins][: len(parts)]
        for twin in searches[1:]:
            twin.seen_low[:], twin.seen_high[:] = search.seen_low, search.seen_high
        found = list(pool.map(_Search.ends, searches, parts))
    return {j: ends for part in found for j, ends in part.items()}
