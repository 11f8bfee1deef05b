"""dram_model="controller": the array's DRAM request stream through simulators.dram."""
import numpy as np
import pytest

from archgym.core.errors import DesignError
from archgym.core.workloads import Workload, conv_row, linear_row
from simulators import dram, systolic
from simulators.check import check_simulator
from simulators.systolic.controller import DRAM_PARAMETERS, layer_trace

TINY = Workload.from_rows("tiny", [("c1", conv_row(16, 16, 8, 16, 3, pad=1)), ("fc", linear_row(16 * 16 * 16, 10))])


def test_contract_in_controller_mode():
    check_simulator(systolic, systolic.prepare(TINY, dram_model="controller"), n=6)


def test_dram_knobs_join_the_design_and_bad_ones_are_the_dram_simulators_errors():
    p = systolic.prepare(TINY, dram_model="controller")
    names = systolic.parameters(p).names
    assert names[:len(systolic.PARAMETERS)] == systolic.PARAMETERS.names
    assert [n for n in names[len(systolic.PARAMETERS):]] == ["dram_" + n for n in dram.PARAMETERS.names]
    with pytest.raises(DesignError, match="'dram_standard': 'ddr9' is not allowed; allowed values: "
                                          r"\{ddr3_1600, ddr4_2400, ddr4_2400_4gb, ddr4_3200, lpddr4_3200\}"):
        systolic.simulate({"dram_standard": "ddr9"}, p)
    with pytest.raises(DesignError, match="unknown parameter 'dram_channels'"):
        systolic.simulate({"dram_channels": 2}, TINY)  # roofline mode has no controller knobs
    with pytest.raises(DesignError, match="dram_sample"):
        systolic.prepare(TINY, dram_model="controller", dram_sample=3)


def test_trace_spreads_reads_and_writes_over_the_busy_cycles():
    trace, n = layer_trace(64 * 300, 64 * 100, busy_cycles=4000, limit=None, capacity=1 << 31)
    assert n == len(trace) == 400 and trace[:, 1].sum() == 100
    assert trace[0, 2] == 0 and trace[-1, 2] == 399 * 4000 // 400 and np.all(np.diff(trace[:, 2]) >= 0)
    reads, writes = trace[trace[:, 1] == 0, 0], trace[trace[:, 1] == 1, 0]
    assert np.array_equal(reads, np.arange(300) * 64) and np.array_equal(writes, (1 << 30) + np.arange(100) * 64)
    assert np.abs(np.cumsum(trace[:, 1]) - np.arange(1, 401) / 4).max() <= 1  # interleaved in proportion


@pytest.mark.parametrize("ofmap_kb", [8, 1024])  # DRAM-bound (partial sums spill) and compute-bound
def test_sampled_layers_match_the_full_simulation(ofmap_kb):
    """Extrapolating each layer from its first 2048 requests: latency and DRAM energy within 5% of
    simulating every request (measured here: 2.8% and 0.4% latency)."""
    wl = Workload.from_rows("c", [("c", conv_row(56, 56, 64, 64, 3, pad=1))])
    design = {"rows": 32, "cols": 32, "dataflow": "ws", "ofmap_sram_kb": ofmap_kb, "dram_channels": 1}
    full = systolic.simulate(design, wl, dram_model="controller", dram_sample=None).metrics
    part = systolic.simulate(design, wl, dram_model="controller", dram_sample=2048).metrics
    assert part["latency_s"] == pytest.approx(full["latency_s"], rel=0.05)
    assert part["energy_dram_j"] == pytest.approx(full["energy_dram_j"], rel=0.05)


def test_controller_matches_the_roofline_where_dram_is_not_the_bottleneck():
    design = {"rows": 16, "cols": 16, "dataflow": "ws", "ofmap_sram_kb": 256, "dram_bytes_per_cycle": 16}
    roof = systolic.simulate(design, TINY).metrics
    ctrl = systolic.simulate(design, TINY, dram_model="controller").metrics
    assert roof["stall_cycles"] == 0 and ctrl["compute_cycles"] == roof["compute_cycles"]
    assert ctrl["stall_cycles"] < 0.02 * ctrl["compute_cycles"]  # one request's latency per layer at most


def test_channels_speed_up_a_dram_bound_layer_when_addresses_interleave():
    wl = Workload.from_rows("c", [("c", conv_row(56, 56, 64, 64, 3, pad=1))])
    design = {"rows": 32, "cols": 32, "dataflow": "ws", "ofmap_sram_kb": 8, "dram_address_mapping": "rorababgcoch"}
    lat = [systolic.simulate({**design, "dram_channels": ch}, wl, dram_model="controller").metrics["latency_s"]
           for ch in (1, 2, 4)]
    assert lat[0] > lat[1] > lat[2]


def test_controller_parameters_are_named_after_the_dram_simulators():
    assert DRAM_PARAMETERS.names == tuple("dram_" + n for n in dram.PARAMETERS.names)


def test_systolic_dram_env_passes_sb3_check_env():
    import gymnasium as gym
    from stable_baselines3.common.env_checker import check_env

    import archgym  # noqa: F401
    env = gym.make("archgym/SystolicDRAM-v0")
    check_env(env.unwrapped)
    names = env.unwrapped.space.names
    assert {"rows", "ofmap_sram_kb", "dram_standard", "dram_channels", "dram_scheduler"} <= set(names)
