"""FPGA envs (archgym/FPGADataflow-v0, archgym/FPGAFolding-v0), the FINN workloads and the CLI."""
import json

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import archgym  # noqa: F401  (registers the envs)
from archgym.cli import main
from archgym.envs.fpga import FPGAEvaluator, FPGAFoldingEvaluator
from archgym.core.errors import DesignError, UnknownNameError
from archgym.core.objectives import INFEASIBLE_REWARD
from archgym.core.workloads import load, names
from simulators import fpga


@pytest.mark.parametrize("env_id", ["archgym/FPGADataflow-v0", "archgym/FPGAFolding-v0"])
def test_env_passes_check_env(env_id):
    env = gym.make(env_id)
    check_env(env.unwrapped)
    obs, info = env.reset(seed=0)
    assert info["feasible"] and info["metrics"]["throughput_fps"] > 0 and info["metrics"]["accuracy"] == 0.878
    env.close()


def test_compact_space_and_batch_evaluation():
    ev = FPGAEvaluator("cnv", board="pynq_z1")
    # precision over the published CNV accuracies; no URAM on a Zynq-7000, so no `ultra` weights
    assert ev.space.names == ("precision", "target_cycles", "mult_style", "ram_style", "mem_mode")
    assert ev.space["precision"].values == ("w1a1", "w1a2", "w2a2")
    assert ev.space["ram_style"].values == ("block", "distributed")
    assert ev.fixed["clock_mhz"] == 100.0  # the Pynq-Z1's shipped clock
    env = gym.make("archgym/FPGADataflow-v0").unwrapped
    idx = env.space.sample_indices(np.random.default_rng(0), 500)
    out = env.evaluate(idx)
    assert {"feasible", "violation", "reward", "accuracy", "throughput_fps", "resource_util"} <= set(out)
    ok = out["feasible"]
    assert ok.any() and (~ok).any()
    assert (out["violation"][ok] == 0).all() and (out["violation"][~ok] > 0).all()
    # default objective: most fps with accuracy >= the second-lowest published one (CNV W1A2, 87.80%)
    assert env.objective.mode == "constraint" and env.objective.limits == {"accuracy": 0.878}
    admissible = ok & (out["accuracy"] >= 0.878)
    np.testing.assert_allclose(out["reward"][admissible], np.log10(out["throughput_fps"][admissible]))
    assert out["reward"][~admissible].max() < out["reward"][admissible].min()
    np.testing.assert_allclose(out["reward"][~ok], INFEASIBLE_REWARD - out["violation"][~ok]
                               - np.maximum(0.878 - out["accuracy"][~ok], 0) / 0.878)
    # the batch agrees with the one-design simulator, and accuracy is Brevitas' published top-1
    j = int(np.flatnonzero(ok)[0])
    one = env.simulate(env.space.from_indices(idx[j]))
    assert one.metrics["throughput_fps"] == pytest.approx(out["throughput_fps"][j])
    assert one.metrics["lut"] == out["lut"][j] and one.metrics["accuracy"] == out["accuracy"][j]
    w1a2 = env.space.to_indices({**env.space.default(), "precision": "w1a2"})
    assert env.evaluate(w1a2[None, :])["accuracy"][0] == 0.878


def test_the_default_objective_is_not_solved_by_a_corner():
    env = gym.make("archgym/FPGADataflow-v0").unwrapped
    idx = env.space.enumerate_indices()
    out = env.evaluate(idx)
    best = idx[np.argmax(out["reward"])]
    design = env.space.from_indices(best)
    # neither the smallest SetFolding target (over the board) nor the most accurate precision
    assert 0 < best[env.space.names.index("target_cycles")] < env.space.nvec[1] - 1
    assert design["precision"] == "w1a2" and design["target_cycles"] == 2 ** 15
    assert out["feasible"][np.argmax(out["reward"])]


def test_fixed_parameters_and_board_choice():
    ev = FPGAEvaluator("tfc", board=["pynq_z1", "ultra96"], weight_bits=1, act_bits=1)
    assert ev.space.names[:2] == ("board", "precision") and ev.space["precision"].values == ("w1a1",)
    design = ev.space.default()
    hw = {k: v for k, v in design.items() if k != "precision"}
    direct = fpga.simulate({**hw, "weight_bits": 1, "act_bits": 1, "clock_mhz": 100.0}, "tfc", input_bits=1)
    assert ev.simulate(design).metrics["lut"] == direct.metrics["lut"]
    with pytest.raises(UnknownNameError, match="unknown board 'kv260'"):
        FPGAEvaluator("cnv", board="kv260")
    with pytest.raises(DesignError, match="unknown fixed parameter 'bits'"):
        FPGAEvaluator("cnv", bits=4)
    with pytest.raises(DesignError, match="no published accuracy for W2A1 on 'cnv'; measured: w1a1, w1a2, w2a2"):
        FPGAEvaluator("cnv", weight_bits=2, act_bits=1)
    with pytest.raises(DesignError, match="fix both weight_bits and act_bits"):
        FPGAEvaluator("cnv", weight_bits=2)


def test_without_published_accuracy_the_env_says_so():
    ev = FPGAEvaluator("mobilenet_v1_0.25", board="zcu104")
    assert "no accuracy term" in ev.describe() and "W2A2" in ev.describe()
    assert "accuracy" not in ev.metric_names and "precision" not in ev.space
    assert ev.objective_defaults["constraint"] == {"optimize": "throughput_fps", "limits": {}}


def test_folding_space_is_built_from_the_workload():
    ev = FPGAFoldingEvaluator("cnv", board="pynq_z1", target_cycles=30000)
    conv2_pe = ev.space["conv2.pe"]
    assert conv2_pe.values == (1, 2, 4, 8, 16, 32, 64)
    assert ev.space["conv1.simd"].values == (1, 3, 9, 27)
    assert ev.space["conv6.simd"].values[:2] == (3, 4)  # SIMD >= MW/1024 (FINN's HLS MVAU)
    assert "pool1.pe" not in ev.space and "fc3.pe" in ev.space
    # defaults are FINN SetFolding's folding at target_cycles for the default precision (W1A2)
    assert ev.space.default()["precision"] == "w1a2"
    assert (ev.space["conv1.pe"].default, ev.space["conv1.simd"].default) == (2, 27)
    # an index vector picks divisors; the batch matches the explicit-folding simulator
    idx = ev.space.to_indices({**ev.space.default(), "conv2.pe": 8, "conv2.simd": 4})
    out = ev(idx[None, :])
    res = ev.simulate(ev.space.from_indices(idx))
    assert layer_of(res, "conv2")[:2] == (8, 4)
    assert res.metrics["ii_cycles"] == out["ii_cycles"][0] == (64 // 8) * (576 // 4) * 784


def layer_of(res, name):
    r = next(r for r in res.layers if r["name"] == name)
    return r["pe"], r["simd"]


def test_mobilenet_folding_env_runs():
    ev = FPGAFoldingEvaluator("mobilenet_v1_0.25", board="zcu104")
    assert "dw1.pe" in ev.space and "dw1.simd" in ev.space and "avgpool.pe" in ev.space
    out = ev(ev.space.sample_indices(np.random.default_rng(1), 64))
    assert out["throughput_fps"].shape == (64,) and np.isfinite(out["energy_j"]).all()


# --- workloads ------------------------------------------------------------------------------------
def test_finn_workload_shapes():
    assert {"cnv", "tfc", "sfc", "lfc", "mobilenet_v1_0.25"} <= set(names())
    cnv = load("cnv")
    # conv1 900*64*27 + conv2 784*64*576 + conv3 144*128*576 + conv4 100*128*1152
    # + conv5 9*256*1152 + conv6 256*2304 + fc 256*512 + 512*512 + 512*10
    assert cnv.macs == 59_461_376 and len(cnv) == 11
    assert [load(n).weights for n in ("tfc", "sfc", "lfc")] == [
        784 * 64 + 64 * 64 * 2 + 640, 784 * 256 + 256 * 256 * 2 + 2560, 784 * 1024 + 1024 * 1024 * 2 + 10240]
    mobilenet = load("mobilenet_v1_0.25")
    assert mobilenet.kinds().count("conv") == 27 and 13e6 < mobilenet.macs < 14e6
    # the shapes BNN-PYNQ synthesises (config.h): classifiers padded to 64, LFC's input to 832
    assert load("cnv_bnnpynq").macs == cnv.macs + 512 * 54
    assert load("lfc_bnnpynq").weights == 832 * 1024 + 1024 * 1024 * 2 + 1024 * 64
    assert load("cybsec_mlp").weights == 600 * 64 + 64 * 64 * 2 + 64


@pytest.mark.parametrize("workload, board", [("cnv", "pynq_z1"), ("tfc", "pynq_z1"), ("sfc", "pynq_z1"),
                                             ("lfc", "zcu104"), ("mobilenet_v1_0.25", "zcu104")])
def test_finn_workloads_fit_real_boards(workload, board):
    res = fpga.simulate({"board": board, "weight_bits": 1, "act_bits": 2, "target_cycles": 2 ** 16}, workload)
    assert res.metrics["feasible"], res.metrics


# --- CLI ------------------------------------------------------------------------------------------
def test_cli_simulate_fpga_json(capsys):
    assert main(["simulate", "fpga", "--workload", "cnv", "--set", "board=zcu104", "--set", "target_cycles=30000",
                 "--set", "weight_bits=1", "--set", "act_bits=1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # slowest stage: conv4's SWU, C/SIMD = 128/4, (12*3 + 10*max(10*9, 12)) * 32 = 29952 < 30000
    assert out["metrics"]["feasible"] is True and out["metrics"]["ii_cycles"] == 29952
    assert [(r["pe"], r["simd"]) for r in out["layers"]][:2] == [(2, 27), (32, 36)]


@pytest.mark.parametrize("args, match", [
    (["--set", "board=vcu118"], "unknown board 'vcu118'"),
    (["--set", "weight_bits=40"], "weight_bits must be an integer bit width from 1 to 32"),
    (["--set", "clock_mhz=0"], "clock_mhz must be a positive frequency"),
    (["--workload", "vit_b16"], "matmul"),
])
def test_cli_bad_input_exits_2_with_one_line(capsys, args, match):
    assert main(["simulate", "fpga", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and match in err
