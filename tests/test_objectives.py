"""Objectives: every mode's reward computed by hand; higher is always better."""
import math

import numpy as np
import pytest

from archgym.core.errors import ArchGymError
from archgym.envs.spaces import reward_space
from archgym.core.objectives import INFEASIBLE_REWARD, Objective

M = {"latency_s": np.array([1e-3, 2e-3]), "energy_j": np.array([1e-2, 1e-2]),
     "area_mm2": np.array([10.0, 40.0]), "accuracy": np.array([0.9, 0.8])}
DEFAULTS = {"metrics": ["latency_s", "energy_j", "area_mm2"]}


def test_product_is_minus_log_edap():
    r = Objective.build("product", DEFAULTS).reward(M)
    assert r == pytest.approx([-math.log10(1e-3 * 1e-2 * 10), -math.log10(2e-3 * 1e-2 * 40)])


def test_weighted_log_sum():
    r = Objective.build({"mode": "weighted", "weights": {"latency_s": 2.0, "area_mm2": 0.5}}, DEFAULTS).reward(M)
    assert r[0] == pytest.approx(2 * 3 + 1 * 2 - 0.5 * 1)


def test_target_distance_is_zero_when_met():
    o = Objective("target", targets={"latency_s": 1.5e-3, "area_mm2": 20.0})
    assert o.reward(M) == pytest.approx([0.0, -math.log10(2e-3 / 1.5e-3) - math.log10(40 / 20)])
    assert o.success(M).tolist() == [True, False]


def test_target_misses_stay_above_the_infeasible_floor():
    o = Objective("target", targets={"latency_s": 1e-9})
    r = o.reward({"latency_s": np.array([1e3])})[0]
    assert r == pytest.approx(-12.0) and r > INFEASIBLE_REWARD


def test_target_for_maximised_metric():
    o = Objective("target", targets={"accuracy": 0.85})
    assert o.reward(M) == pytest.approx([0.0, -0.05 / 0.85])


def test_constraint_infeasible_is_below_every_feasible_design():
    o = Objective.build({"mode": "constraint", "optimize": "accuracy", "limits": {"latency_s": 1.5e-3}}, DEFAULTS)
    r = o.reward(M)
    assert r[0] == pytest.approx(0.9)  # accuracy is a fraction: scored linearly
    assert r[1] == pytest.approx(INFEASIBLE_REWARD - 0.5e-3 / 1.5e-3)
    assert o.metrics[0] == "accuracy"


def test_simulator_infeasibility_and_violation():
    o = Objective.build("product", DEFAULTS)
    r = o.reward(M, feasible=[True, False], violation=[0.0, 0.25])
    assert r[1] == INFEASIBLE_REWARD - 0.25 and r[0] > r[1]


def test_vector_mode_follows_mo_gymnasium():
    o = Objective.build("vector", DEFAULTS)
    r = o.reward(M)
    assert r.shape == (2, 3) and reward_space(o).shape == (3,)
    assert r[0] == pytest.approx([3, 2, -1])
    assert o.scalarize(r) == pytest.approx(r.sum(axis=1))


def test_minimised_orients_maximised_metrics():
    o = Objective("vector", ["latency_s", "accuracy"])
    assert o.minimised(M)[:, 1].tolist() == [-0.9, -0.8]


@pytest.mark.parametrize("spec,match", [
    ("best", "unknown objective mode 'best'"),
    ({"mode": "constraint"}, "needs optimize"),
    ({"mode": "target", "metrics": ["latency_s"], "targets": {"latency_s": -1}}, "positive finite"),
    ({"mode": "weighted", "wieghts": {}}, "unknown objective key 'wieghts'"),
    (42, "objective must be"),
])
def test_bad_objectives(spec, match):
    with pytest.raises(ArchGymError, match=match):
        Objective.build(spec, DEFAULTS)


def test_target_needs_every_target():
    with pytest.raises(ArchGymError, match="needs a target for metric 'energy_j'"):
        Objective("target", ["latency_s", "energy_j"], targets={"latency_s": 1.0})


def test_unknown_metric_for_simulator():
    o = Objective("product", ["latency_s", "flops"])
    with pytest.raises(ArchGymError, match="unknown objective metric 'flops'"):
        o.check_metrics(["latency_s", "energy_j"])
