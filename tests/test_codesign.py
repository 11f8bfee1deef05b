"""Co-design envs over the shipped tabular benchmark, the sequential baseline and `archgym demo`."""
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import archgym  # noqa: F401  (registers the envs)
import simulators.fpga as fpga
import simulators.systolic as systolic
from archgym.envs.base import ArchGymEnv
from archgym.envs.codesign import CoDesignSystolicEvaluator
from archgym.core.errors import ArchGymError, UnknownNameError
from archgym.nas import MissingEntryError, TabularOracle, get_space
from archgym.nas.oracles import TABLE
from archgym.nas.tables import read_layers, read_table
from archgym.core.objectives import INFEASIBLE_REWARD

SYSTOLIC = "archgym/CoDesign-Systolic-v0"


@pytest.fixture(scope="module")
def env():
    return gym.make(SYSTOLIC)


def test_shipped_table_is_complete_small_and_documented():
    t = read_table(TABLE)
    space = get_space("mbv2-tab")
    assert len(t) == space.space.size == 1152 and len(set(t.hashes)) == 1152
    assert TABLE.stat().st_size < 500_000 and TABLE.with_suffix(".layers.npz").stat().st_size < 200_000
    assert np.all((t.columns["accuracy"] > 0.1) & (t.columns["accuracy"] <= 1.0))
    meta = t.meta
    assert meta["command"].startswith("python scripts/build_nas_table.py") and meta["seed"] == 0
    assert meta["wall_time_s"] > 0 and meta["cpu_time_s"] > 0 and meta["architectures"] == 1152
    assert TabularOracle("mbv2-tab").complete()


def test_shipped_layer_tables_match_torch_extraction():
    shipped = read_layers(TABLE.with_suffix(".layers.npz"))
    fresh = get_space("mbv2").__class__()  # same family, empty cache: extracts with torch
    for arch in get_space("mbv2-tab").space.sample(np.random.default_rng(0), 3):
        key = fresh.hash(arch)
        np.testing.assert_array_equal(shipped[key].table, fresh.layer_table(arch).table)


def test_env_metrics_are_the_oracle_and_the_systolic_simulator(env):
    base = env.unwrapped
    rng = np.random.default_rng(1)
    idx = base.space.sample_indices(rng, 300)
    out = base.evaluate(idx)
    net = get_space("mbv2-tab")
    oracle = TabularOracle("mbv2-tab")
    for i in (0, 1, 2):
        design = base.space.from_indices(idx[i])
        arch = {k: design[k] for k in net.space.names}
        hw = {k: v for k, v in design.items() if k not in arch}
        res = systolic.simulate(hw, net.layer_table(arch))
        for m in ("latency_s", "energy_j", "area_mm2", "cycles", "macs"):
            assert out[m][i] == pytest.approx(res.metrics[m], rel=1e-12)
        assert out["accuracy"][i] == oracle.query(arch)
    # the packed batch kernel agrees with single steps
    single = np.concatenate([base.evaluate(idx[i:i + 1])["latency_s"] for i in range(40)])
    np.testing.assert_allclose(out["latency_s"][:40], single, rtol=1e-12)


def test_default_objective_is_accuracy_under_latency_and_area_budgets(env):
    base = env.unwrapped
    obj = base.objective
    assert obj.mode == "constraint" and obj.optimize == "accuracy"
    assert set(obj.limits) == {"latency_s", "area_mm2"}
    out = base.evaluate(base.space.sample_indices(np.random.default_rng(2), 2000))
    ok = (out["latency_s"] <= obj.limits["latency_s"]) & (out["area_mm2"] <= obj.limits["area_mm2"])
    assert 0 < ok.sum() < len(ok)  # the budgets bind, and can be met
    np.testing.assert_allclose(out["reward"][ok], out["accuracy"][ok])
    assert np.all(out["reward"][~ok] < INFEASIBLE_REWARD)


def test_steps_never_import_torch():
    code = ("import sys, numpy as np, gymnasium as gym, archgym\n"
            f"env = gym.make('{SYSTOLIC}'); env.reset(seed=0)\n"
            "for a in env.unwrapped.space.sample_indices(np.random.default_rng(0), 200): env.step(a)\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_vector_env_matches_single_env(env):
    venv = gym.make_vec(SYSTOLIC, num_envs=4, vectorization_mode="vector_entry_point")
    venv.reset(seed=0)
    actions = env.unwrapped.space.sample_indices(np.random.default_rng(3), 4)
    _, reward, *_ = venv.step(actions)
    np.testing.assert_allclose(reward, env.unwrapped.evaluate(actions)["reward"])


def test_predictor_oracle_env_tracks_the_table():
    env = gym.make(SYSTOLIC, oracle="predictor")
    pred = env.unwrapped.evaluator.network.oracle
    assert pred.rmse < 0.05 and pred.kendall_tau > 0.5
    idx = env.unwrapped.space.sample_indices(np.random.default_rng(4), 500)
    est = env.unwrapped.evaluate(idx)["accuracy"]
    true = gym.make(SYSTOLIC).unwrapped.evaluate(idx)["accuracy"]
    assert np.sqrt(np.mean((est - true) ** 2)) < 0.05


def test_bad_oracle_and_space_combinations():
    with pytest.raises(UnknownNameError, match="unknown accuracy oracle 'imagenet'"):
        gym.make(SYSTOLIC, oracle="imagenet")
    with pytest.raises(ArchGymError, match="covers space 'mbv2-tab' only.*'predictor' or 'trained'"):
        gym.make(SYSTOLIC, network="mbv2")


def test_missing_tabular_entry_offers_the_fallbacks():
    arch = {**get_space("mbv2-tab").space.default(), "s1_depth": 3}  # in "mbv2", not in the table
    with pytest.raises(MissingEntryError, match="no entry.*never invented.*'trained'.*'predictor'"):
        TabularOracle("mbv2").query(arch)


def test_nasaic_env_adds_up_two_accelerators():
    env = gym.make("archgym/CoDesign-NASAIC-v0")
    base = env.unwrapped
    assert base.objective.optimize == "accuracy"
    assert set(base.objective.limits) == {"latency_1_s", "latency_2_s", "area_mm2"}
    design = base.space.from_indices(base.space.sample_indices(np.random.default_rng(5), 1)[0])
    out = base.evaluate(design)
    net = get_space("mbv2-tab")
    area = energy = 0.0
    for k in (1, 2):
        arch = {n: design[f"net{k}_{n}"] for n in net.space.names}
        hw = {n[5:]: v for n, v in design.items() if n.startswith(f"acc{k}_")}
        res = systolic.simulate(hw, net.layer_table(arch))
        assert out[f"latency_{k}_s"][0] == pytest.approx(res.metrics["latency_s"])
        assert out[f"accuracy_{k}"][0] == TabularOracle("mbv2-tab").query(arch)
        area += res.metrics["area_mm2"]
        energy += res.metrics["energy_j"]
    assert out["area_mm2"][0] == pytest.approx(area) and out["energy_j"][0] == pytest.approx(energy)
    assert out["accuracy"][0] == pytest.approx((out["accuracy_1"][0] + out["accuracy_2"][0]) / 2)


def test_fpga_env_uses_quantised_accuracy_and_the_board():
    env = gym.make("archgym/CoDesign-FPGA-v0")
    base = env.unwrapped
    idx = base.space.sample_indices(np.random.default_rng(6), 400)
    out = base.evaluate(idx)
    net = get_space("mbv2-tab")
    for i in (0, 1):
        d = base.space.from_indices(idx[i])
        arch = {k: d[k] for k in net.space.names}
        col = f"accuracy_w{d['weight_bits']}a{d['act_bits']}"
        assert out["accuracy"][i] == TabularOracle("mbv2-tab", column=col).query(arch)
        hw = {k: d[k] for k in ("weight_bits", "act_bits", "target_cycles", "clock_mhz")}
        res = fpga.Model(net.layer_table(arch)).simulate({"board": base.evaluator.fixed["board"], **hw})
        assert out["latency_s"][i] == pytest.approx(res.metrics["latency_s"])
        assert bool(out["feasible"][i]) == res.metrics["feasible"]
    assert 0 < out["feasible"].sum() < len(idx)  # the board's resources bind
    with pytest.raises(ArchGymError, match="accuracy at each bit width"):
        gym.make("archgym/CoDesign-FPGA-v0", oracle="zero-cost")


def test_sequential_baseline_spends_the_same_budget():
    from agents.codesign import Sequential
    env = gym.make("archgym/NB201-Systolic-v0")
    res = Sequential(seed=0, nas_fraction=0.4).search(env, 300)
    assert len(res.history) == 300
    names = get_space("nb201").space.names
    designs = res.history.designs
    stage2 = {tuple(d[k] for k in names) for d in designs[120:]}
    assert len(stage2) == 1  # the hardware stage keeps one network
    stage1_hw = {tuple(v for k, v in d.items() if k not in names) for d in designs[:120]}
    assert stage1_hw == {tuple(v for k, v in env.unwrapped.space.default().items() if k not in names)}
    out = env.unwrapped.evaluate(env.unwrapped.space.default())
    expected = out["macs"][0] * env.unwrapped.objective.limits["latency_s"] / out["latency_s"][0]
    assert res.extra["macs_budget"] == pytest.approx(expected)
    assert res.history.metrics["macs"][120] <= expected  # the network kept by the hardware stage fits the budget
    again = Sequential(seed=0, nas_fraction=0.4).search(env, 300)
    np.testing.assert_array_equal(again.history.indices, res.history.indices)
    from agents import UnsupportedSpaceError
    with pytest.raises(UnsupportedSpaceError, match="single-network co-design env"):
        Sequential(seed=0).search(gym.make("archgym/CoDesign-NASAIC-v0"), 10)


def test_a_macs_budget_below_every_network_is_an_error(env):
    """The old headline rested on this: CoDesign-Systolic-v0's old budgets (20 us, 0.15 mm^2) give a
    rule-of-thumb budget (0.103 M MACs) below its smallest network (0.111 M), so NAS-first had no
    choice at all. (The vector unit and feature maps moved it from 102,882 to 102,862 MACs.)"""
    from agents.codesign import BaselineConfigError, Sequential
    old = gym.make(SYSTOLIC, latency_budget_s=20e-6, area_budget_mm2=0.15)
    with pytest.raises(BaselineConfigError, match=r"macs_budget=102862 admits no network \(derived from the latency "
                                                  r"budget; pass macs_budget= in \[110768, 1.30406e\+06\]\)"):
        Sequential(seed=0).search(old, 50)
    with pytest.raises(BaselineConfigError, match=r"macs_budget=100000 admits no network; .*must be >= 110768"):
        Sequential(seed=0, macs_budget=1e5).search(env, 50)
    res = Sequential(seed=0, macs_budget=3.3e5, inner="random").search(env, 50)
    assert len(res.history) == 50 and res.extra["macs_budget"] == 3.3e5


@pytest.mark.parametrize("env_id", ["archgym/NB201-Systolic-v0", "archgym/NB201-FPGA-v0", "archgym/CoDesign-Systolic-v0",
                                    "archgym/CoDesign-FPGA-v0", "archgym/CoDesign-NASAIC-v0"])
def test_every_co_design_env_has_a_reference_design_that_fits(env_id):
    """The sequential baselines read their budgets off the space's default design, so it must fit its chip."""
    base = gym.make(env_id).unwrapped
    assert base.evaluate(base.space.default())["feasible"][0]


def test_the_rule_of_thumb_refuses_a_reference_design_that_does_not_fit():
    """At 8-bit activations CoDesign-FPGA's reference network exceeds the Pynq-Z1 at every folding (it
    was the env's default until the sequential baseline was found reading its budget off it)."""
    from agents.codesign import BaselineConfigError, Sequential
    env = gym.make("archgym/CoDesign-FPGA-v0", weight_bits=(8,), act_bits=(8,))
    with pytest.raises(BaselineConfigError, match=r"the reference design \(the space's defaults\) is infeasible "
                                                  r"\(violation 21\), so its latency_s cannot set the MACs budget"):
        Sequential(seed=0).search(env, 20)
    fits = gym.make("archgym/CoDesign-FPGA-v0")
    budget = Sequential.derived_macs_budget(fits.unwrapped)  # 863,872 MACs x 66 us / 262.63 us at W4A4, 2^13, 200 MHz
    assert budget == pytest.approx(863872 * 66e-6 / 262.63e-6, rel=1e-5)


def test_hardware_first_and_latency_aware_nas_stages():
    from agents.codesign import HardwareFirst, LatencyAwareNAS
    env = gym.make("archgym/NB201-Systolic-v0")
    space = env.unwrapped.space
    net, default = get_space("nb201").space.names, space.default()
    res = HardwareFirst(seed=0, nas_fraction=0.5, inner="random").search(env, 200)
    d = res.history.designs
    assert {tuple(x[k] for k in net) for x in d[:100]} == {tuple(default[k] for k in net)}  # reference network
    assert len({tuple(v for k, v in x.items() if k not in net) for x in d[100:]}) == 1  # then NAS on one accelerator
    assert res.extra["hardware"] == {k: v for k, v in d[150].items() if k not in net}
    res = LatencyAwareNAS(seed=0, nas_fraction=0.5, inner="random").search(env, 200)
    d = res.history.designs
    assert {tuple(v for k, v in x.items() if k not in net) for x in d[:100]} == \
        {tuple(v for k, v in default.items() if k not in net)}  # NAS on the reference accelerator
    assert len({tuple(x[k] for k in net) for x in d[100:]}) == 1


def test_latency_aware_nas_checks_its_reference_accelerator():
    from agents.codesign import BaselineConfigError, LatencyAwareNAS
    env = gym.make("archgym/CoDesign-FPGA-v0", latency_budget_s=1e-5)  # its default hardware needs >= 81 us
    with pytest.raises(BaselineConfigError, match=r"latency_s limit 1e-05 s admits no network on the reference "
                                                  r"accelerator .* all 1,152 networks take 8.0865e-05 to"):
        LatencyAwareNAS(seed=0).search(env, 20)


def test_exact_search_finds_the_brute_force_optimum():
    from archgym.analysis.exact import streaming_exact as exact_search
    hw = {"rows": (4, 16), "cols": (8,), "dataflow": ("os", "ws"), "ifmap_sram_kb": (8,), "filter_sram_kb": (16,),
          "ofmap_sram_kb": (8,)}
    env = ArchGymEnv(CoDesignSystolicEvaluator(hardware=hw, latency_budget_s=3e-5, area_budget_mm2=0.1))
    ex = exact_search(env, chunk=1000)
    out = env.evaluate(env.space.enumerate_indices())
    assert ex["reward"] == out["reward"].max() and ex["size"] == 1152 * 4
    assert ex["n_meeting_spec"] == int(env.objective.success(out).sum())
    lat, acc = ex["front"]
    assert np.all(np.diff(lat) >= 0) and np.all(np.diff(acc) > 0)


def test_demo_runs_joint_and_sequential_against_the_exact_front(tmp_path, monkeypatch):
    from archgym.cli.demo import run_demo
    monkeypatch.setenv("ARCHGYM_CACHE", str(tmp_path / "cache"))
    small = {"rows": (8, 32), "cols": (16, 32), "dataflow": ("ws",), "ifmap_sram_kb": (8,), "filter_sram_kb": (8,),
             "ofmap_sram_kb": (8,), "dram_bytes_per_cycle": (32.0,)}
    lines = []
    res = run_demo(budget=300, seeds=2, agents=("ga", "random"), baselines=("sequential", "hardware_first"),
                   out=str(tmp_path), echo=lines.append, env_kwargs={"hardware": small})
    text = "\n".join(lines)
    assert "exact answer: 62,500 designs enumerated" in text
    for name in ("joint (ga)", "joint (random)", "sequential (ga)", "hardware_first (ga)"):
        assert f"{name}: 2 seed(s) x 300 evaluations" in text
    assert "CIFAR-10 " in text and "(NB201 index " in text and "meets spec: yes" in text
    assert len(res["exact"].front) > 1 and (tmp_path / "cache" / "exact").is_dir()
    png = tmp_path / "pareto.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_demo_command_rejects_bad_arguments():
    bad = subprocess.run([sys.executable, "-m", "archgym.cli", "demo", "--budget", "1"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--budget must be at least 2" in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "archgym.cli", "demo", "--agents", "ga,hillclimb"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown agent 'hillclimb'" in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "archgym.cli", "demo", "--baselines", "nas_first"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown baseline 'nas_first'; valid: sequential, hardware_first" in bad.stderr


def _experiment():
    import scripts
    return scripts.load("experiments/joint_vs_sequential.py")


def test_holm_adjustment_by_hand():
    # sorted p 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04; running max 0.02, 0.03, 0.06, 0.06
    np.testing.assert_allclose(_experiment().holm(np.array([0.01, 0.04, 0.03, 0.005])), [0.03, 0.06, 0.06, 0.02])


def test_a_difference_within_the_tables_noise_is_a_tie():
    import pandas as pd
    rng = np.random.default_rng(0)
    rows = []
    for env, seq_mean in (("a/Big-v0", 88.0), ("a/Small-v0", 89.5)):
        for seed in range(20):
            rows.append({"env": env, "budget": 100, "seed": seed, "method": "joint", "accuracy": 90 + rng.normal(0, .1),
                         "meets_spec": True})
            for b in ("sequential", "hardware_first", "latency_aware_nas"):
                rows.append({"env": env, "budget": 100, "seed": seed, "method": b, "meets_spec": True,
                             "accuracy": seq_mean + rng.normal(0, .1)})
    envs = {"a/Big-v0": {"noise": 1.0}, "a/Small-v0": {"noise": 1.0}}
    res = _experiment().compare(pd.DataFrame(rows), envs)
    assert set(res[res["env"] == "a/Big-v0"]["verdict"]) == {"joint better"}  # 2 points, noise 1
    assert set(res[res["env"] == "a/Small-v0"]["verdict"]) == {"tie (within noise)"}  # 0.5 points: significant, but noise
    assert (res["ci_low"] <= res["diff"]).all() and (res["diff"] <= res["ci_high"]).all()
