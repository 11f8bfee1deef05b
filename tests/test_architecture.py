"""The architecture as executable checks: layers, the light base layer, env registration,
parameter groups, constraints, and file size."""
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import archgym
from archgym.core.space import Categorical, Constraint, DesignSpace, Integer
from archgym.envs.evaluator import Evaluator
from archgym.envs.base import ArchGymEnv

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def test_import_linter_contracts_are_kept():
    proc = subprocess.run([str(Path(PY).parent / "lint-imports"), "--config", str(ROOT / "pyproject.toml")],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_simulators_import_without_gymnasium_or_torch():
    code = ("import simulators.systolic, simulators.dram, simulators.fpga, sys; "
            "bad = {'gymnasium', 'torch'} & set(sys.modules); assert not bad, bad")
    subprocess.run([PY, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize("code", [
    "import archgym, gymnasium as gym; gym.make('archgym/Systolic-v0')",          # archgym first
    "import gymnasium as gym, archgym; gym.make('archgym/Systolic-v0')",          # gymnasium first
    "import simulators.systolic, gymnasium as gym; gym.make('archgym/Systolic-v0')",  # via a simulator
    "import archgym, gymnasium.spaces, gymnasium as gym; gym.make('archgym/DRAMController-v0')",
])
def test_envs_register_in_any_import_order(code):
    subprocess.run([PY, "-c", code], check=True, cwd=ROOT)


def test_no_source_file_is_over_600_lines():
    long = [(str(p.relative_to(ROOT)), n) for d in ("archgym", "simulators", "agents")
            for p in (ROOT / d).rglob("*.py") if (n := len(p.read_text().splitlines())) > 600]
    assert not long, long


class _Toy(Evaluator):
    """x + y on a 4 x 4 grid; every design feasible by the simulator."""
    metric_names = ("cost_s",)
    objective_defaults = {"metrics": ["cost_s"], "default": "product"}

    def __init__(self, space):
        self.space = space

    def __call__(self, idx):
        v = self.space.decode(idx)
        return {"cost_s": 1.0 + v[:, 0] + v[:, 1], "feasible": np.ones(len(idx), bool), "violation": np.zeros(len(idx))}


def _space(**constraints):
    return DesignSpace([Integer("x", 0, 3, group="hardware"), Categorical("y", (0, 1, 2, 3), group="network")],
                       [Constraint(name, fn) for name, fn in constraints.items()])


def test_a_broken_constraint_is_a_scored_infeasible_design_named_in_info():
    env = ArchGymEnv(_Toy(_space(x_plus_y_at_least_3=lambda v: v["x"] + v["y"] >= 3)))
    env.reset(seed=0)
    _, reward, _, _, info = env.step(np.array([0, 1]))
    assert info["feasible"] is False and info["violated_constraints"] == ["x_plus_y_at_least_3"]
    _, good, _, _, info = env.step(np.array([2, 1]))
    assert info["feasible"] is True and "violated_constraints" not in info
    assert reward < good
    out = env.evaluate(np.array([[0, 0], [3, 3]]))
    np.testing.assert_array_equal(out["feasible"], [False, True])
    assert out["violation"][0] == 1.0


def test_constraints_see_values_and_report_each_rule():
    space = _space(small_x=lambda v: v["x"] <= 1, even_y=lambda v: v["y"] % 2 == 0)
    mask = space.constraint_mask(np.array([[0, 0], [2, 1], [1, 3]]))
    np.testing.assert_array_equal(mask, [[False, False], [True, True], [False, True]])
    assert space.is_feasible({"x": 1, "y": 2}) and not space.is_feasible({"x": 2, "y": 2})


def test_parameter_groups_name_the_parts_of_a_design():
    space = _space()
    assert space.groups == {"hardware": ("x",), "network": ("y",)}
    np.testing.assert_array_equal(space.group_columns("network"), [1])
    with pytest.raises(archgym.DesignError, match="no parameter is in group 'memory'"):
        space.group_columns("memory")
    joint = gym.make("archgym/CoDesign-Systolic-v0").unwrapped.space
    assert set(joint.groups) == {"network", "hardware"}
