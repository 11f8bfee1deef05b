"""Differential test: the numba kernel and the per-cycle simpy golden model agree exactly, on every
request's admission and response cycle and on every metric (tolerance: float rounding only)."""
import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from archgym.core.errors import DesignError
from archgym.core.workloads import traces as tr
from simulators import dram
from simulators.dram import reference
from simulators.dram.dramsys import MemorySystem

KNOBS = {p.name: st.sampled_from(p.values) for p in dram.PARAMETERS
         if p.name not in ("request_buffer_size", "max_active_transactions",
                           "refresh_max_postponed", "refresh_max_pulledin")}


@st.composite
def cases(draw):
    design = {name: draw(s) for name, s in KNOBS.items()}
    design["request_buffer_size"] = draw(st.integers(1, 12))
    design["max_active_transactions"] = draw(st.integers(1, 40))
    design["refresh_max_postponed"] = draw(st.integers(0, 2))
    design["refresh_max_pulledin"] = draw(st.integers(0, 2))
    n = draw(st.integers(1, 300))
    span = min(dram.capacity_bytes(design), draw(st.sampled_from([1 << 16, 1 << 20, 1 << 26])))
    seed = draw(st.integers(0, 2**31))
    kind = draw(st.sampled_from(["random", "mixed", "bursty"]))
    w = draw(st.sampled_from([0.0, 0.3, 0.7]))
    if kind == "random":
        trace = tr.random(n, span=span, gap=draw(st.integers(0, 6)), write_fraction=w, seed=seed)
    elif kind == "mixed":
        trace = tr.mixed(n, sequential_fraction=0.7, span=span, gap=draw(st.integers(0, 40)), write_fraction=w, seed=seed)
    else:   # idle gaps long enough for refresh, pull-in and power-down to matter
        trace = tr.random(n, span=span, write_fraction=w, seed=seed)
        trace[:, 2] = np.sort(np.random.default_rng(seed).integers(0, 40000, n))
    return design, trace


def check_same(design, trace):
    fast = dram.simulate(design, trace, requests=True)
    slow = reference.simulate(design, trace)
    for key in ("accept_cycle", "response_cycle"):
        np.testing.assert_array_equal(fast.requests[key], slow.requests[key])
    for name, value in fast.metrics.items():
        assert np.isclose(value, slow.metrics[name], rtol=1e-12, atol=0), (name, value, slow.metrics[name])


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_kernel_matches_simpy_model(case):
    check_same(*case)


def test_kernel_matches_simpy_on_saturated_multi_rank_traffic():
    design = {"channels": 2, "ranks": 2, "address_mapping": "rorababgcoch", "scheduler": "fr_fcfs_grp",
              "scheduler_buffer": "shared", "request_buffer_size": 16, "page_policy": "open_adaptive",
              "refresh_policy": "per_bank", "power_down_policy": "staggered", "arbiter": "reorder"}
    check_same(design, tr.mixed(1500, sequential_fraction=0.5, write_fraction=0.4, span=1 << 32, seed=5))


def test_kernel_matches_simpy_on_dramsim3_round_robin_over_64_banks():
    """DRAMSim3's round robin over the most banks a channel can have (4 ranks x 16: the bitmask's top bit)."""
    design = {"ranks": 4, "arbiter": "dramsim3", "max_active_transactions": 64, "request_buffer_size": 4,
              "refresh_policy": "per_bank", "address_mapping": "rorababgcoch"}
    check_same(design, tr.random(1500, span=1 << 34, gap=0, write_fraction=0.33, seed=11))


def test_more_banks_per_channel_than_the_kernel_holds_is_a_design_error():
    d, system = dram.memory_system({"ranks": 4})
    wide = MemorySystem(dataclasses.replace(system.standard, banks_per_group=8), system.channels, 4, system.mapping)
    with pytest.raises(DesignError, match=r"ranks: 4 ranks x 32 banks .* make 128 banks per channel; allowed: ranks x banks <= 64"):
        dram.params(d, wide)


def test_more_channels_than_the_kernel_holds_is_a_design_error():
    """A memory system from elsewhere (a DRAMSys config) with 16 channels: the bank table's stride holds 8."""
    d, system = dram.memory_system({})
    wide = MemorySystem(system.standard, 16, system.ranks, system.mapping)
    with pytest.raises(DesignError, match=r"channels: 16; allowed: 1 to 8"):
        dram.params(d, wide)


def test_reference_reproduces_hand_computed_cycles():
    rows = np.array([[0, 0, 0], [1 << 13, 0, 0], [2 << 13, 0, 0], [3 << 13, 0, 0], [1 << 15, 0, 0]])
    r = reference.simulate({"refresh_policy": "no_refresh"}, rows)
    assert r.requests["response_cycle"].tolist() == [38, 42, 46, 50, 64]   # tFAW holds the fifth ACT
