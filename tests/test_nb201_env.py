"""NB201-Systolic-v0 and NB201-FPGA-v0: composed costs equal the simulators on whole networks, the
accuracy is the table's, both pass SB3's checker, bad input names the field, and the exact front and
optimum equal brute force."""
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import archgym  # noqa: F401  (registers the envs)
import simulators.fpga as fpga
import simulators.systolic as systolic
from archgym import analysis
from archgym.analysis.exact import _chunks, exact_front, fingerprint, regret
from archgym.core.errors import DesignError
from archgym.envs import nb201 as nb201_env
from archgym.envs.base import ArchGymEnv
from archgym.envs.nb201 import SUMMED, NB201FPGAEvaluator, NB201SystolicEvaluator
from archgym.nas import get_space, nb201
from archgym.nas.nb201_table import read_nb201_table

SYSTOLIC, FPGA = "archgym/NB201-Systolic-v0", "archgym/NB201-FPGA-v0"


@pytest.fixture(scope="module")
def sys_env():
    return gym.make(SYSTOLIC)


@pytest.fixture(scope="module")
def fpga_env():
    return gym.make(FPGA)


def _sampled(env, n: int, seed: int, every: int):
    """Batch metrics of n random designs, and (row, network, hardware dict) of every `every`-th."""
    base = env.unwrapped
    idx = base.space.sample_indices(np.random.default_rng(seed), n)
    net = get_space("nb201")
    picks = []
    for i in range(0, n, every):
        d = base.space.from_indices(idx[i])
        arch = {k: d[k] for k in net.space.names}
        picks.append((i, arch, {k: v for k, v in d.items() if k not in arch}))
    return idx, base.evaluate(idx), picks


def test_systolic_costs_are_the_simulator_on_the_whole_network(sys_env):
    idx, out, picks = _sampled(sys_env, 4000, 0, 160)
    net = get_space("nb201")
    for i, arch, hw in picks:
        res = systolic.simulate(hw, net.layer_table(arch))  # the simulator, every layer of the network
        for m in (*SUMMED, "area_mm2", "power_w"):
            assert out[m][i] == pytest.approx(res.metrics[m], rel=1e-12), m
        ptq = read_nb201_table().percent["ptq"][net.index(arch)]
        assert out["accuracy"][i] == pytest.approx(ptq / 100, abs=1e-15)
    single = np.concatenate([sys_env.unwrapped.evaluate(idx[i:i + 1])["latency_s"] for i in range(50)])
    np.testing.assert_array_equal(single, out["latency_s"][:50])


def test_fpga_costs_are_the_model_on_the_whole_network(fpga_env):
    _, out, picks = _sampled(fpga_env, 3000, 1, 150)
    net = get_space("nb201")
    for i, arch, hw in picks:
        res = fpga.Model(net.layer_table(arch)).simulate({"board": "u250", "weight_bits": 8, "act_bits": 8, **hw})
        for m in ("latency_s", "throughput_fps", "energy_j", "lut", "bram18", "dsp", "resource_util"):
            assert out[m][i] == pytest.approx(res.metrics[m], rel=1e-12), m
        assert bool(out["feasible"][i]) == res.metrics["feasible"]
        assert out["accuracy"][i] == read_nb201_table().percent["ptq"][net.index(arch)] / 100
    assert 0.05 < out["feasible"].mean() < 0.95  # the board's resources bind


def test_fpga_batch_paths_equal_the_model_run_per_design(fpga_env, monkeypatch):
    """Every way the env costs a batch (pairs computed one by one, whole hardware rows, the cached
    table, no table) gives bit-identical metrics to fpga.Model.simulate on each design's network."""
    ev = fpga_env.unwrapped.evaluator
    rng = np.random.default_rng(5)
    archs, hws = rng.choice(nb201.N_ARCHS, 40, replace=False), rng.choice(ev.n_hardware, 60, replace=False)
    arch, hw = archs[rng.integers(0, len(archs), 3000)], hws[rng.integers(0, len(hws), 3000)]
    idx = ev.indices(arch, hw)
    n_classes = len(ev.representatives)
    pairs = np.unique(hw * n_classes + ev.classes[arch])
    done = ev._done.copy()
    batch = ev(idx)  # each hardware design needs few of its classes: only those pairs run
    done[pairs] = True
    np.testing.assert_array_equal(ev._done, done)
    rows = ev.grid(hws[:2])  # whole hardware rows
    assert ev._done.reshape(ev.n_hardware, n_classes)[hws[:2]].all()
    again = ev(idx)  # from the table
    monkeypatch.setattr(nb201_env, "CACHE_PAIRS", 0)
    uncached = NB201FPGAEvaluator()
    assert uncached._costs is None
    direct = uncached(idx)
    net = get_space("nb201")
    models = {a: fpga.Model(net.layer_table(nb201.ops_of_number(a))) for a in archs}
    in_rows = 0
    for i, design in enumerate(map(ev.space.from_indices, idx)):
        res = models[arch[i]].simulate(ev.hardware.design_dict(design)).metrics
        for m in nb201_env._FPGA_COSTS:
            assert batch[m][i] == again[m][i] == direct[m][i] == res[m], (m, i)
            for r in np.flatnonzero(hws[:2] == hw[i]):
                assert rows[m][r, arch[i]] == res[m], (m, i)
                in_rows += 1
    assert in_rows > 0
    assert 0.05 < batch["feasible"].mean() < 0.95


def test_both_envs_pass_stable_baselines3_checker(sys_env, fpga_env):
    from stable_baselines3.common.env_checker import check_env
    for env in (sys_env, fpga_env):
        check_env(env.unwrapped, warn=True)


def test_objectives_constraint_and_vector(sys_env):
    base = sys_env.unwrapped
    obj = base.objective
    assert obj.mode == "constraint" and obj.optimize == "accuracy"
    assert obj.limits == {"latency_s": 150e-6, "area_mm2": 1.1}
    out = base.evaluate(base.space.sample_indices(np.random.default_rng(2), 20000))
    ok = (out["latency_s"] <= 150e-6) & (out["area_mm2"] <= 1.1)
    assert 0 < ok.sum() < len(ok)
    np.testing.assert_array_equal(out["reward"][ok], out["accuracy"][ok])
    vec = gym.make(SYSTOLIC, objective="vector")
    assert vec.unwrapped.objective.metrics == ("accuracy", "latency_s", "energy_j", "area_mm2")
    assert vec.unwrapped.reward_space.shape == (4,)
    vec.reset(seed=0)
    _, r, *_ = vec.step(vec.action_space.sample())
    assert r.shape == (4,)


def test_steps_never_import_torch():
    code = ("import sys, numpy as np, gymnasium as gym, archgym\n"
            f"for env_id in ('{SYSTOLIC}', '{FPGA}'):\n"
            "    env = gym.make(env_id); env.reset(seed=0)\n"
            "    for a in env.unwrapped.space.sample_indices(np.random.default_rng(0), 300): env.step(a)\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_bad_input_names_the_field():
    with pytest.raises(DesignError, match="weight_bits=4: .*allowed value: 8"):
        gym.make(FPGA, weight_bits=4)
    with pytest.raises(DesignError, match="weight_bits=16"):
        gym.make(SYSTOLIC, bits=16)
    with pytest.raises(DesignError, match="accuracy must be 'ptq' or 'qat'"):
        gym.make(SYSTOLIC, accuracy="baseline")
    env = gym.make(SYSTOLIC)
    with pytest.raises(DesignError, match="edge_0_1.*allowed values: {none, skip_connect"):
        env.unwrapped.evaluate([{**env.unwrapped.space.default(), "edge_0_1": "conv_5x5"}])
    with pytest.raises(DesignError, match="parameter 'rows': 128 is not allowed; allowed values: {8, 16, 32, 64}"):
        env.unwrapped.evaluate([{**env.unwrapped.space.default(), "rows": 128}])


def test_grid_scan_equals_batch_evaluation(sys_env, fpga_env):
    for env in (sys_env, fpga_env):
        base = env.unwrapped
        out, rows_to_indices = next(_chunks(base, 3 * nb201.N_ARCHS))
        rows = np.random.default_rng(3).choice(len(out["latency_s"]), 500, replace=False)
        ref = base.evaluate(rows_to_indices(rows))
        for m in base.evaluator.metric_names + ("feasible",):
            np.testing.assert_array_equal(out[m][rows], ref[m], err_msg=m)


def _small(objective=None, **fixed):
    """NB201 x 4 systolic designs: 62,500 designs, small enough to keep every one (exhaustive)."""
    hw = {"rows": (8, 32), "cols": (16,), "dataflow": ("ws", "os"), "ifmap_sram_kb": (32,), "filter_sram_kb": (32,),
          "ofmap_sram_kb": (32,), "dram_bytes_per_cycle": (32.0,)}
    return ArchGymEnv(NB201SystolicEvaluator(hardware=hw, latency_budget_s=50e-6, area_budget_mm2=1.0, **fixed),
                      objective)


def test_exact_front_and_optimum_equal_brute_force(tmp_path):
    env = _small()
    gt = analysis.exhaustive(env)  # every design scored and kept
    ex = exact_front(env, chunk=20_000, cache=tmp_path)
    assert ex.size == gt.size == 4 * 15625
    assert ex.best_score == gt.best_score
    assert gt.size > ex.n_meeting_spec == int(env.objective.success(env.evaluate(gt.indices)).sum()) > 0
    assert ex.metrics == env.objective.metrics
    found = np.unique(ex.front, axis=0)
    np.testing.assert_allclose(found, np.unique(gt.pareto_front, axis=0), rtol=0, atol=0)
    assert ex.hypervolume == pytest.approx(gt.hypervolume, rel=1e-12)
    # cached by fingerprint: a second call reads the file; another model gives another key
    again = exact_front(env, cache=tmp_path)
    assert again.best_score == ex.best_score and np.array_equal(again.front_indices, ex.front_indices)
    assert fingerprint(env) == fingerprint(_small())
    assert fingerprint(env) != fingerprint(_small(tech_nm=28))  # same space, another model


def test_regret_against_the_exact_answer(tmp_path):
    from agents import make_agent
    env = _small()
    ex = exact_front(env, cache=tmp_path)
    res = make_agent("random", seed=0).search(env, 400)
    r = regret(res, ex)
    assert r["score_gap"] == pytest.approx(ex.best_score - res.best_score) and r["score_gap"] >= 0
    assert 0 < r["hv_ratio"] <= 1
    full = make_agent("grid", seed=0).search(env, env.space.size)
    assert regret(full, ex) == {"score_gap": 0.0, "hv_ratio": pytest.approx(1.0, rel=1e-12)}


def test_fpga_env_only_offers_measured_bit_widths(fpga_env):
    ev = fpga_env.unwrapped.evaluator
    assert isinstance(ev, NB201FPGAEvaluator)
    assert ev.fixed["weight_bits"] == ev.fixed["act_bits"] == 8
    assert "weight_bits" not in fpga_env.unwrapped.space and "act_bits" not in fpga_env.unwrapped.space
    # network classes: the FPGA model maps MAC and pooling rows only, so a cell is its edges' layers (conv1x1,
    # conv3x3, pool; skip and none have none): multisets of up to 6 of them, or their sequences when the model's
    # numbers depend on layer order
    assert len(ev.representatives) == (sum(3 ** k for k in range(7)) if ev.order_matters else 84)
