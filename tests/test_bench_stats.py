"""Benchmark statistics and landscape diagnostics against hand-computed cases and brute force."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from archgym.analysis import landscape as L
from archgym.analysis import stats
from archgym.core.objectives import Objective


# --- statistics -------------------------------------------------------------------------------------------
def test_holm_matches_the_step_down_by_hand():
    # sorted p: 0.005 0.01 0.03 0.04, times 4 3 2 1: 0.02 0.03 0.06 0.04, then running max
    np.testing.assert_allclose(stats.holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    assert stats.holm([0.6, 0.9])[1] == 1.0  # capped at 1


def test_pairwise_tests_direction_effect_size_and_correction():
    rng = np.random.default_rng(0)
    groups = {"good": rng.uniform(0, 1, 20), "bad": rng.uniform(2, 3, 20), "same": np.zeros(20), "same2": np.zeros(20)}
    df = stats.pairwise_tests(groups).set_index(["a", "b"])
    assert df.loc[("good", "bad"), "a_better"] == 1.0          # every good run beats every bad run
    assert df.loc[("good", "bad"), "p"] < 1e-6
    assert df.loc[("same", "same2"), "p"] == 1.0 and df.loc[("same", "same2"), "a_better"] == 0.5
    assert np.all(df["p_holm"] >= df["p"]) and len(df) == 6


def test_critical_difference_matches_demsars_table():
    # Demsar (JMLR 2006), Table 5: q_0.05 = 3.164 for k = 10; CD = q sqrt(k(k+1)/(6N))
    assert stats.critical_difference(10, 14) == pytest.approx(3.164 * np.sqrt(10 * 11 / (6 * 14)), abs=2e-3)
    assert stats.critical_difference(2, 1) == pytest.approx(1.960 * np.sqrt(1), abs=2e-3)


def test_rank_table_ranks_medians_per_task_and_averages():
    per_task = {"t1": {"a": [0, 0, 0], "b": [1, 1, 2], "c": [5, 5, 5]},
                "t2": {"a": [3, 3, 3], "b": [1, 1, 1], "c": [9, 9, 9]}}
    table, p, cd = stats.rank_table(per_task)
    assert table.loc["a", "t1"] == 1 and table.loc["a", "t2"] == 2 and table.loc["c", "average rank"] == 3
    assert list(table.index) == ["a", "b", "c"] and 0 < p <= 1 and cd > 0


def test_runtime_ecdf_is_the_share_solved_by_each_budget():
    hits = stats.first_hits(np.array([[5, 3, 0.5, 0.5], [5, 5, 5, 5], [0.9, 0.9, 0.9, 0.1]]), 1.0)
    np.testing.assert_array_equal(hits, [3, np.inf, 1])
    np.testing.assert_allclose(stats.runtime_ecdf(hits, 4, np.array([1, 2, 3, 4])), [1 / 3, 1 / 3, 2 / 3, 2 / 3])
    np.testing.assert_array_equal(stats.runtime_ecdf(np.array([np.inf, np.inf]), 4, np.array([1, 4])), [0, 0])


def test_median_ci_brackets_the_median_and_is_reproducible():
    x = np.random.default_rng(1).exponential(size=30)
    med, lo, hi = stats.median_ci(x)
    assert lo <= med <= hi and med == np.median(x) and (lo, hi) == stats.median_ci(x)[1:]
    assert stats.median_ci(np.zeros(5)) == (0.0, 0.0, 0.0)


def test_igd_plus_by_hand():
    true = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert stats.igd_plus(true, true) == 0.0
    assert stats.igd_plus(np.array([[1.0, 1.0]]), true) == pytest.approx(1.0)   # d+ = 1 to each true point
    assert stats.igd_plus(np.array([[0.0, 0.0]]), true) == 0.0                  # dominating costs nothing
    assert stats.igd_plus(np.zeros((0, 2)), true) == np.inf


# --- landscape ----------------------------------------------------------------------------------------------
S = np.array([[5.0, 0, 0], [0, 0, 0], [0, 0, 4]])


def test_local_optima_by_hand_with_a_spoiled_plateau():
    nvec = (3, 3)
    weak = L.weak_local_optima(S.ravel(), nvec).reshape(3, 3)
    assert weak[0, 0] and weak[2, 2] and weak[1, 1]       # (1,1) ties all its neighbours...
    assert L.count_local_optima(S.ravel(), nvec) == 2      # ...but its plateau reaches (1,0), below 5
    flat = np.array([[1.0, 1.0], [0.0, 0.0]])              # one optimal plateau of two designs
    assert L.weak_local_optima(flat.ravel(), (2, 2)).sum() == 2 and L.count_local_optima(flat.ravel(), (2, 2)) == 1


def test_steepest_ascent_ends_by_hand():
    ends = L.steepest_ascent_ends(S.ravel(), (3, 3)).reshape(3, 3)
    assert ends[0, 2] == 0          # (0,2): row max 5 at (0,0) beats column max 4
    assert ends[1, 2] == 8          # (1,2): column max 4 at (2,2)
    assert ends[1, 1] == 4          # nothing strictly better: stays


def _brute(score, nvec):
    """Local-optimum plateaus and steepest-ascent ends by explicit neighbour loops and union-find."""
    shape = tuple(nvec)
    pts = list(itertools.product(*[range(n) for n in shape]))
    flat = {p: i for i, p in enumerate(pts)}

    def nbrs(p):
        for j, n in enumerate(shape):
            for v in range(n):
                if v != p[j]:
                    yield p[:j] + (v,) + p[j + 1:]
    parent = list(range(len(pts)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    for p in pts:
        for q in nbrs(p):
            if score[flat[p]] == score[flat[q]]:
                parent[find(flat[p])] = find(flat[q])
    escapes = {find(flat[p]) for p in pts if any(score[flat[q]] > score[flat[p]] for q in nbrs(p))}
    optima = {find(i) for i in range(len(pts))} - escapes
    ends = []
    for p in pts:
        cur = p
        while True:
            best = max(nbrs(cur), key=lambda q: (score[flat[q]], -flat[q]), default=cur)
            best_val = max(score[flat[q]] for q in nbrs(cur))
            cand = [q for q in nbrs(cur) if score[flat[q]] == best_val]
            if best_val <= score[flat[cur]]:
                break
            cur = min(cand, key=lambda q: (next(j for j in range(len(shape)) if q[j] != cur[j]), q))
        ends.append(flat[cur])
    return len(optima), np.array(ends)


@pytest.mark.parametrize("seed", range(4))
def test_landscape_agrees_with_brute_force(seed):
    rng = np.random.default_rng(seed)
    nvec = (3, 4, 2, 3)
    score = rng.integers(0, 6, size=int(np.prod(nvec))).astype(float)  # many ties: plateaus
    n_opt, ends = _brute(score, nvec)
    assert L.count_local_optima(score, nvec) == n_opt
    got = L.steepest_ascent_ends(score, nvec)
    np.testing.assert_array_equal(score[got], score[ends])  # same end value (ties may pick another design)


def test_fdc_is_minus_one_when_score_falls_with_distance_and_shares_are_exact():
    nvec = (4, 4, 4)
    idx = np.stack(np.unravel_index(np.arange(64), nvec), axis=1)
    score = -(idx != [1, 2, 3]).sum(axis=1).astype(float)
    assert L.fitness_distance_correlation(score, nvec, np.ones(64, bool)) == pytest.approx(-1.0)
    obj = Objective("product", ["latency_s"])
    land = L.landscape(score, nvec, np.ones(64, bool), obj)
    assert land.local_optima == 1 and land.global_optima == 1 and land.basin_share == 1.0
    assert land.within_1pct == 1 / 64 and land.random_median_evals_1pct == 45  # geom(1/64) median

