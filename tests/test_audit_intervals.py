"""Feasible intervals of hidden cells (etl.audit_intervals): hand-computed systems, and random
systems against a fresh scipy ``linprog`` per end (the audit's former path)."""

import math

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from etl.audit_intervals import intervals

NEVER_SKIP = math.inf
"""A width no set of points can span: every wanted cell gets its own two solves."""


def _run(rows, rhs, slack=None, bounds=None, width=NEVER_SKIP, wanted=None):
    a = csr_matrix(np.array(rows, dtype="float64"))
    n = a.shape[1]
    s = np.zeros(len(rows)) if slack is None else np.array(slack, dtype="float64")
    bounds = bounds or [(0.0, None)] * n
    wanted = list(range(n)) if wanted is None else wanted
    return intervals(a, np.array(rhs, dtype="float64"), s, bounds, wanted, np.full(n, width))


def test_two_hidden_parts_of_a_shown_total_range_over_it():
    # K + M = 10 (T shown), both hidden: each lies anywhere in 0 … 10.
    assert _run([[1, 1]], [10]) == {0: (0.0, 10.0), 1: (0.0, 10.0)}


def test_a_cell_alone_in_a_relation_is_exact():
    # T − K − M = 0 with T = 7 shown and M = 4 shown: 7 − 4 = 3 left for K.
    assert _run([[1]], [3]) == {0: (3.0, 3.0)}


def test_crossing_relations_narrow_a_cell():
    # x0 + x1 = 5 (a district's T), x0 + x2 = 3 (the unit's K over districts), x1 + x3 = 4:
    # x0 ≤ 3 (x2 ≥ 0), x0 ≥ 1 (x1 = 5 − x0 ≤ 4, since x3 = 4 − x1 ≥ 0).
    found = _run([[1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1]], [5, 3, 4])
    assert found[0] == pytest.approx((1.0, 3.0))
    assert found[1] == pytest.approx((2.0, 4.0))


def test_a_slack_relation_widens_by_its_slack():
    # Staff: x0 + x1 = 10 within ± 1 (the FTE-weighted relation an attacker treats as exact).
    assert _run([[1, 1]], [10], slack=[1]) == {0: (0.0, 11.0), 1: (0.0, 11.0)}


def test_a_free_direction_has_no_interval():
    # x0 − x1 = 0 (a hidden total equal to its one hidden part): no upper end, so never a leak.
    assert _run([[1, -1]], [0]) == {}


def test_equalities_without_a_solution_are_read_as_totals_at_least_their_parts():
    # Two rates whose sum is both 10 and 8 (0 … 100 each): read as sums of at least 10 and 8,
    # each rate may be anything in 0 … 100.
    rates = [(0.0, 100.0)] * 2
    assert _run([[1, 1], [1, 1]], [10, 8], bounds=rates) == {0: (0.0, 100.0), 1: (0.0, 100.0)}


def test_relations_without_any_solution_give_no_interval():
    # Two rates (0 … 100) summing to 250: not even "at least" holds.
    assert _run([[1, 1]], [250], bounds=[(0.0, 100.0)] * 2) == {}


def test_a_cell_that_cannot_fail_is_not_solved_but_a_narrow_one_is():
    # Width 4 (± 2 persons): 0 … 10 cannot fail, so it is left out; 0 … 3 is returned.
    assert _run([[1, 1]], [10], width=4.0) == {}
    assert _run([[1, 1]], [3], width=4.0) == {0: (0.0, 3.0), 1: (0.0, 3.0)}


def test_only_wanted_cells_are_returned():
    assert _run([[1, 1]], [10], wanted=[1]) == {1: (0.0, 10.0)}


def test_rates_keep_their_bounds():
    # Two hidden rates whose sum is 150 within 0 … 100 each: each is 50 … 100.
    assert _run([[1, 1]], [150], bounds=[(0.0, 100.0)] * 2) == {0: (50.0, 100.0), 1: (50.0, 100.0)}


def _linprog_interval(a, b, s, bounds, j):
    """The audit's former path: one fresh LP per end, equalities first, relaxed when infeasible."""
    exact = s == 0
    a_ub = np.vstack([a[~exact], -a[~exact]]) if (~exact).any() else None
    b_ub = np.concatenate([b[~exact] + s[~exact], -(b[~exact] - s[~exact])]) if (~exact).any() else None
    ends = []
    for sign in (1.0, -1.0):
        c = np.zeros(a.shape[1])
        c[j] = sign
        res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a[exact] if exact.any() else None,
                      b_eq=b[exact] if exact.any() else None, bounds=bounds, method="highs")  # fmt: skip
        if res.status == 2 and exact.any():
            relaxed = -a[exact] if a_ub is None else np.vstack([a_ub, -a[exact]])
            relaxed_b = -b[exact] if b_ub is None else np.concatenate([b_ub, -b[exact]])
            res = linprog(c, A_ub=relaxed, b_ub=relaxed_b, bounds=bounds, method="highs")
        ends.append(-math.inf * sign if res.status == 3 else (sign * res.fun if res.success else math.nan))
    return tuple(ends)


@pytest.mark.parametrize("seed", range(12))
def test_random_systems_agree_with_a_fresh_lp_per_end(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(3, 12)), int(rng.integers(1, 8))
    a = rng.choice([-1.0, 0.0, 0.0, 1.0], size=(m, n))
    a[np.arange(m), rng.integers(0, n, m)] = 1.0  # no empty relation
    x = rng.integers(0, 20, n).astype("float64")  # a true table the relations come from
    b = a @ x + (rng.random(m) < 0.15) * rng.integers(-30, 0, m)  # some without a solution
    s = np.where(rng.random(m) < 0.3, rng.integers(1, 4, m), 0).astype("float64")
    bounds = [(0.0, 100.0) if rng.random() < 0.3 else (0.0, None) for _ in range(n)]
    found = intervals(csr_matrix(a), b, s, bounds, list(range(n)), np.full(n, NEVER_SKIP))
    for j in range(n):
        expected = _linprog_interval(a, b, s, bounds, j)
        if any(math.isnan(e) or math.isinf(e) for e in expected):
            assert j not in found  # no solution, or an end unbounded: never a leak
        else:
            assert found[j] == pytest.approx(expected, abs=1e-7)


@pytest.mark.parametrize("seed", range(12))
def test_random_systems_never_skip_a_narrow_cell(seed):
    # With a real width, cells the points clear are left out, but every cell narrower than the
    # width (by a fresh LP per end) is returned, with its interval.
    rng = np.random.default_rng(100 + seed)
    n, m = int(rng.integers(4, 16)), int(rng.integers(2, 10))
    a = rng.choice([-1.0, 0.0, 0.0, 1.0], size=(m, n))
    a[np.arange(m), rng.integers(0, n, m)] = 1.0
    b = a @ rng.integers(0, 6, n).astype("float64")
    s = np.zeros(m)
    bounds = [(0.0, None)] * n
    found = intervals(csr_matrix(a), b, s, bounds, list(range(n)), np.full(n, 4.0))
    narrow = 0
    for j in range(n):
        low, high = _linprog_interval(a, b, s, bounds, j)
        if j in found:
            assert found[j] == pytest.approx((low, high), abs=1e-7)
        elif high - low < 4.0:
            pytest.fail(f"cell {j}: {low} … {high} is narrower than 4 but was left out")
        narrow += high - low < 4.0
    assert narrow == sum(1 for lo, hi in found.values() if hi - lo < 4.0)


@pytest.mark.parametrize(("slack", "high"), [(0.0, 10.0), (1.0, 11.0)])
def test_the_scipy_fallback_for_odd_statuses_solves_the_same_lp(slack, high):
    # x0 + x1 = 10 (± slack): the largest x0, as linprog from scratch (equalities only, or slack).
    from etl.audit_intervals import _Model

    model = _Model(csr_matrix(np.array([[1.0, 1.0]])), np.array([10.0]), np.array([slack]), [(0.0, None)] * 2)
    res = model.linprog(np.array([-1.0, 0.0]))
    assert res.status == 0 and -res.fun == pytest.approx(high)


@pytest.mark.parametrize("infeasible", [False, True])
def test_threads_solve_their_shares_to_the_same_ends_as_a_fresh_lp(monkeypatch, infeasible):
    # 90 open cells (width never spanned) in one set: with 2 threads each copy of the model solves
    # half, starting from the shared points and basis; every end is still the LP's optimum. With
    # equalities that have no solution, each copy relaxes on its own, as one model would.
    from etl import audit_intervals

    copies, real = [], audit_intervals._Search.copy
    monkeypatch.setattr(audit_intervals._Search, "copy", lambda self: copies.append(1) or real(self))
    rng = np.random.default_rng(7)
    n, m = 90, 60
    a = rng.choice([-1.0, 0.0, 0.0, 0.0, 1.0], size=(m, n))
    a[np.arange(m), rng.integers(0, n, m)] = 1.0
    a[np.arange(n) % m, np.arange(n)] = 1.0  # every cell in some relation
    b = a @ rng.integers(0, 20, n).astype("float64")
    if infeasible:
        a = np.vstack([a, a[0]])
        b = np.append(b, b[0] - 5.0)  # the same relation with another total
    s = np.zeros(len(b))
    bounds = [(0.0, 100.0)] * n
    found = intervals(csr_matrix(a), b, s, bounds, list(range(n)), np.full(n, NEVER_SKIP), threads=2)
    assert copies == [1]
    expected = {j: _linprog_interval(a, b, s, bounds, j) for j in range(n)}
    assert sorted(found) == [j for j, e in expected.items() if all(map(math.isfinite, e))]
    for j in found:
        assert found[j] == pytest.approx(expected[j], abs=1e-7)


def test_few_open_cells_stay_in_one_thread(monkeypatch):
    from etl import audit_intervals

    monkeypatch.setattr(audit_intervals._Search, "copy", lambda self: pytest.fail("copied for 2 cells"))
    assert _run([[1, 1]], [10]) == {0: (0.0, 10.0), 1: (0.0, 10.0)}
    one = csr_matrix(np.array([[1.0, 1.0]]))
    bounds = [(0.0, None)] * 2
    found = intervals(one, np.array([10.0]), np.zeros(1), bounds, [0, 1], np.full(2, 1.0), threads=2)
    assert found == {}  # 0 … 10 spans a width of 1: cleared by the points, in one thread
