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

import highspy
import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

SPREAD_ROUNDS = 32
"""At most this many pairs of ±1 objectives (on the cells not cleared yet) before the cells' own
solves: nationally ~15 pairs clear three in four of 1,100 cells."""
SPREAD_PATIENCE = 2
"""Pairs in a row that clear no cell end the spreading."""
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

    def relax(self) -> None:
        for row in np.flatnonzero(self.exact):
            self.h.changeRowBounds(int(row), float(self.b[row]), highspy.kHighsInf)
        self.relaxed = True

    def run(self, cost: np.ndarray) -> tuple[object, float, np.ndarray | None]:
        """(status, objective, point) for minimising ``cost·x``."""
        self.h.changeColsCost(self.n, self.columns, cost)
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


def intervals(
    a: csr_matrix, b: np.ndarray, s: np.ndarray, bounds: list[tuple], wanted: list[int], width: np.ndarray
) -> dict[int, tuple[float, float]]:
    """For each ``wanted`` column of one connected set: (low, high), or nothing when the points
    met already span ``width`` (it cannot fail) or an end is undefined (no solution)."""
    model = _Model(a, b, s, bounds)
    n = a.shape[1]
    wanted = np.asarray(wanted, dtype=np.int64)
    seen_low, seen_high = np.full(n, np.inf), np.full(n, -np.inf)
    has_equalities = bool(model.exact.any())

    def solve(cost: np.ndarray, spread: bool = False) -> tuple[object, float]:
        status, value, point = model.run(cost)
        if status == _INFEASIBLE and has_equalities and not model.relaxed and not spread:
            model.relax()  # the equalities have no solution for any objective: relaxed for good
            seen_low.fill(np.inf)
            seen_high.fill(-np.inf)
            status, value, point = model.run(cost)
            spread_points()
        if point is not None:
            np.minimum(seen_low, point, out=seen_low)
            np.maximum(seen_high, point, out=seen_high)
        return status, value

    def cleared(cols: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            scale = np.maximum(1.0, np.maximum(np.abs(low), np.abs(high)))
            return high - low >= width[cols] + SEEN_MARGIN * np.where(np.isfinite(scale), scale, 0.0)

    def spread_points() -> None:
        """±1 on the cells not cleared yet, random but seeded, until two rounds clear none."""
        cap = 2 * float(np.abs(b).max(initial=0.0)) + 2 * float(width.max(initial=0.0)) + 1.0
        model.with_bounds(np.maximum(model.low, -cap), np.minimum(model.high, cap))  # any point counts
        rng, stale = np.random.default_rng(0), 0
        for _ in range(SPREAD_ROUNDS):
            still = wanted[~cleared(wanted, seen_low[wanted], seen_high[wanted])]
            if not len(still) or stale == SPREAD_PATIENCE:
                break
            cost = np.zeros(n)
            cost[still] = rng.choice([-1.0, 1.0], size=len(still))
            solve(cost, spread=True)
            solve(-cost, spread=True)
            stale = stale + 1 if cleared(still, seen_low[still], seen_high[still]).sum() == 0 else 0
        model.with_bounds(model.low, model.high)

    spread_points()
    out = {}
    for j in wanted:
        ends = []
        for sign in (1.0, -1.0):
            if cleared(np.array([j]), seen_low[j : j + 1], seen_high[j : j + 1])[0]:
                break  # the points met (this cell's own low included) already span its width
            cost = np.zeros(n)
            cost[j] = sign
            status, value = solve(cost)
            if status == _UNBOUNDED:
                end = -math.inf * sign  # no lower (min) or no upper (max) end
            elif status == _OPTIMAL:
                end = sign * value
            elif status == _INFEASIBLE:
                end = math.nan
            else:
                res = model.linprog(cost)
                end = -math.inf * sign if res.status == 3 else (sign * res.fun if res.success else math.nan)
            if math.isnan(end) or math.isinf(end):
                break  # no interval (no solution) or an unbounded one: never a finding
            ends.append(end)
        if len(ends) == 2:
            out[int(j)] = (ends[0], ends[1])
    return out
