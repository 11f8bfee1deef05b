"""Ground truth, Pareto fronts, hypervolume and regret (archgym.analysis)."""
from __future__ import annotations

import numpy as np
import pytest

from archgym import analysis
from archgym.core.errors import ArchGymError
from archgym.core.objectives import Objective
from test_agents_toy import toy_env


def _brute_front(F, ok):
    rows = [i for i in range(len(F)) if ok[i] and not any(
        ok[j] and np.all(F[j] <= F[i]) and np.any(F[j] < F[i]) for j in range(len(F)))]
    return np.array(rows, dtype=int)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_pareto_mask_matches_brute_force(k):
    rng = np.random.default_rng(k)
    F = rng.integers(0, 6, size=(120, k)).astype(float)  # many ties and duplicates
    ok = rng.random(120) < 0.8
    np.testing.assert_array_equal(np.flatnonzero(analysis.pareto_mask(F, ok)), _brute_front(F, ok))
    assert not analysis.pareto_mask(F, np.zeros(120, dtype=bool)).any()


def test_hypervolume_of_a_staircase():
    # (3.5, 3.5) is dominated and (5, 0.5) lies outside the reference box: neither adds volume
    F = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [3.5, 3.5], [5.0, 0.5]])
    ref = np.array([4.0, 4.0])
    assert analysis.hypervolume(F, ref) == pytest.approx(3 * 1 + 2 * 1 + 1 * 1)
    assert analysis.hypervolume(F[[4]], ref) == 0.0
    assert analysis.hypervolume(np.array([[0.5]]), np.array([2.0])) == pytest.approx(1.5)


def test_hypervolume_curve_is_the_running_hypervolume():
    rng = np.random.default_rng(0)
    F = rng.random((60, 3))
    ok = rng.random(60) < 0.7
    ref = np.full(3, 1.1)
    curve = analysis.hypervolume_curve(F, ref, ok)
    for i in (0, 9, 30, 59):
        front = F[: i + 1][ok[: i + 1]]
        assert curve[i] == pytest.approx(analysis.hypervolume(front, ref) if len(front) else 0.0)
    assert np.all(np.diff(curve) >= 0)


def test_exhaustive_finds_the_true_optimum_and_front():
    env = toy_env()
    gt = analysis.exhaustive(env)
    base = env.unwrapped
    out = base.evaluate(base.space.enumerate_indices())
    assert gt.size == 6912 and gt.best_score == pytest.approx(out["reward"].max())
    assert gt.best_design == {"rows": 16, "cols": 16, "dataflow": "ws", "sram_kb": 192, "clock_ghz": 1.5}
    assert gt.best_metrics["latency_s"] == pytest.approx(out["latency_s"][np.argmax(out["reward"])])
    F = analysis.objective_matrix(base.objective, out)
    np.testing.assert_array_equal(gt.pareto_rows, np.flatnonzero(analysis.pareto_mask(F, out["feasible"])))
    assert gt.feasible[gt.pareto_rows].all()
    assert gt.hypervolume == pytest.approx(analysis.hypervolume(gt.pareto_front, gt.ref_point)) and gt.hypervolume > 0
    # the product optimum lies on the front
    assert gt.best_row in set(gt.pareto_rows)


def test_exhaustive_chunks_do_not_change_the_answer():
    a, b = analysis.exhaustive(toy_env(), chunk=1000), analysis.exhaustive(toy_env(), chunk=100_000)
    assert a.best_row == b.best_row and np.array_equal(a.pareto_rows, b.pareto_rows)


def test_exhaustive_refuses_spaces_over_the_limit():
    with pytest.raises(ArchGymError, match="6,912 designs, more than the exhaustive limit 1,000"):
        analysis.exhaustive(toy_env(), limit=1000)


def test_exhaustive_on_the_enumerable_systolic_env():
    import gymnasium as gym
    gt = analysis.exhaustive(gym.make("archgym/Systolic-ResNet18-Small-v0"))
    assert gt.size == 36_750 and gt.feasible.all() and len(gt.pareto_rows) >= 3
    assert np.isfinite(gt.best_score) and gt.best_row in set(gt.pareto_rows)


def test_reference_point_is_default_design_plus_one_decade():
    env = toy_env()
    base = env.unwrapped
    out = base.evaluate([base.space.default()])
    expected = np.log10([out["latency_s"][0], out["energy_j"][0], out["area_mm2"][0]]) + 1.0
    np.testing.assert_allclose(analysis.reference_point(env), expected)


def test_gap_is_relative_on_the_scalarised_metric():
    product = Objective("product", ["latency_s", "energy_j"])
    assert analysis.gap(5.0 - np.log10(1.05), 5.0, product) == pytest.approx(0.05)
    assert analysis.gap(5.0, 5.0, product) == 0.0
    util = Objective("constraint", optimize="utilization", limits={"latency_s": 1.0})
    assert analysis.gap(0.76, 0.8, util) == pytest.approx(0.05)


def test_objective_matrix_orients_for_minimisation():
    obj = Objective("product", ["latency_s", "throughput_fps", "utilization"])
    F = analysis.objective_matrix(obj, {"latency_s": np.array([10.0]), "throughput_fps": np.array([100.0]),
                                        "utilization": np.array([0.5])})
    np.testing.assert_allclose(F, [[1.0, -2.0, -0.5]])
