"""A small analytic accelerator landscape for the agent tests (no simulator): 6,912 designs, a known
optimum, a three-metric Pareto front, and an area budget that makes some designs infeasible.
Imported by the other agent tests; its own tests check the landscape itself."""
from __future__ import annotations

import numpy as np
import pytest

from archgym.envs.base import ArchGymEnv, Evaluator
from archgym.core.space import Categorical, DesignSpace, Integer, PowerOfTwo, Real

AREA_BUDGET_MM2 = 40.0


class ToyEvaluator(Evaluator):
    """latency falls with more PEs (if well shaped), SRAM and clock; energy rises with clock and
    SRAM; area rises with PEs and SRAM; designs over AREA_BUDGET_MM2 are infeasible."""
    metric_names = ("latency_s", "energy_j", "area_mm2", "utilization")

    def __init__(self):
        self.space = DesignSpace([
            PowerOfTwo("rows", 2, 64, default=8),
            PowerOfTwo("cols", 2, 64, default=8),
            Categorical("dataflow", ("os", "ws", "is"), default="ws"),
            Integer("sram_kb", 16, 256, step=16, default=128),
            Real("clock_ghz", 0.5, 2.0, levels=4, default=1.0),
        ])
        self.objective_defaults = {
            "metrics": ["latency_s", "energy_j", "area_mm2"],
            "default": "product",
            "target": {"targets": {"latency_s": 2e-4, "energy_j": 2e-3, "area_mm2": 10.0}},
            "constraint": {"optimize": "latency_s", "limits": {"energy_j": 3e-3}},
        }

    def __call__(self, idx):
        v = self.space.decode(idx)
        rows, cols, flow, sram, clock = v.T
        pes = rows * cols
        util = np.array([0.85, 1.0, 0.75])[flow.astype(int)] / (1.0 + 0.15 * np.abs(np.log2(rows / cols)))
        cycles = 1e6 / (pes * util) + 2e6 / sram + 2e3
        latency = cycles / (clock * 1e9)
        energy = 1e-3 * (0.5 + 0.4 * clock ** 2) + 2e-6 * sram + 1e-6 * pes + 5e-4 * (1.0 - util)
        area = 4.0 + 0.02 * pes + 0.04 * sram
        return {"latency_s": latency, "energy_j": energy, "area_mm2": area, "utilization": util,
                "feasible": area <= AREA_BUDGET_MM2, "violation": np.maximum(area / AREA_BUDGET_MM2 - 1.0, 0.0)}


def toy_env(objective=None, max_episode_steps: int | None = 16):
    """The toy env, wrapped in a TimeLimit like registered envs are."""
    import gymnasium as gym
    env = ArchGymEnv(ToyEvaluator(), objective=objective)
    return gym.wrappers.TimeLimit(env, max_episode_steps) if max_episode_steps else env


def test_toy_landscape_has_one_interior_optimum_and_infeasible_corner():
    from archgym.analysis import exhaustive
    gt = exhaustive(toy_env())
    assert gt.size == 6 * 6 * 3 * 16 * 4 == 6912
    assert 0.05 < 1 - gt.feasible.mean() < 0.5                   # the area budget bites
    assert np.sum(gt.score >= gt.best_score - 1e-12) == 1         # a unique optimum
    d = gt.best_design
    assert (d["rows"], d["cols"], d["dataflow"], d["sram_kb"], d["clock_ghz"]) == (16, 16, "ws", 192, 1.5)
    assert len(gt.pareto_rows) > 20


def test_toy_env_passes_gymnasium_checker():
    from gymnasium.utils.env_checker import check_env
    check_env(toy_env().unwrapped, skip_render_check=True)


@pytest.mark.parametrize("mode", ["product", "target", "constraint", "vector"])
def test_toy_env_every_objective_mode_scores(mode):
    out = toy_env(mode).unwrapped.evaluate(np.zeros((3, 5), dtype=np.int64))
    assert np.all(np.isfinite(out["reward"]))


# Small hyper-parameters so that every agent's model path runs within a tiny budget.
FAST = {
    "random": {"designs_per_ask": 16}, "grid": {"designs_per_ask": 16}, "qmc": {"designs_per_ask": 16},
    "ga": {"population": 8}, "regularized_evolution": {"population": 8, "sample_size": 4, "designs_per_ask": 4},
    "aco": {"ants": 8, "elite": 2}, "sa": {"designs_per_ask": 3},
    "hill_climbing": {"designs_per_ask": 3}, "one_plus_one_ea": {"designs_per_ask": 2},
    "tpe": {"n_startup_trials": 5}, "motpe": {"n_startup_trials": 5, "designs_per_ask": 2},
    "gp": {"n_startup_trials": 5, "designs_per_ask": 4, "n_candidates": 256}, "nsga2": {"population_size": 8},
    "ppo": {"n_steps": 16, "minibatch_size": 8, "n_epochs": 2}, "a2c": {"n_steps": 4},
    "sequential": {"inner": "random"}, "hardware_first": {"inner": "random"}, "latency_aware_nas": {"inner": "random"},
    "dqn": {"learning_starts": 8, "minibatch_size": 8, "train_freq": 2, "target_update_interval": 10},
    "marl": {"n_steps": 8, "n_epochs": 2},
}
