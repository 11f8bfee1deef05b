"""Systolic model: exact agreement with SCALE-Sim 3.0.0, properties, and bad input."""
import csv
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archgym.core.errors import DesignError, WorkloadError
from archgym.core.workloads import Workload, conv_row, linear_row, load
from simulators import systolic
from simulators.tech import dram_stream_pj_per_bit, scaling

FIXTURES = Path(__file__).parent / "fixtures" / "scalesim"

# Measured with scalesim 3.0.0, CALC mode, 64 kB SRAMs (reference/systolic.md).
REFERENCE_CASES = [
    ("test.csv", 128, 128, "is", 10723), ("test.csv", 128, 128, "os", 5945), ("test.csv", 128, 128, "ws", 17093),
    ("test_mnk_input.csv", 128, 128, "is", 2039), ("test_mnk_input.csv", 128, 128, "os", 1019),
    ("test_mnk_input.csv", 128, 128, "ws", 1275), ("test_mnk_input.csv", 32, 32, "is", 14207),
    ("test_mnk_input.csv", 32, 32, "os", 10175), ("test_mnk_input.csv", 32, 32, "ws", 11199),
]


def design(rows, cols, df, kb=64, **kw):
    return {"rows": rows, "cols": cols, "dataflow": df, "ifmap_sram_kb": kb, "filter_sram_kb": kb,
            "ofmap_sram_kb": kb, **kw}


@pytest.mark.parametrize("topo,rows,cols,df,cycles", REFERENCE_CASES)
def test_reference_cycles(topo, rows, cols, df, cycles):
    res = systolic.simulate(design(rows, cols, df), FIXTURES / "topologies" / topo, accounting="scalesim")
    assert res.layers[0]["compute_cycles"] == cycles


def _fixture_groups():
    """SCALE-Sim rows grouped per our layer (its DP layers run once per channel)."""
    groups = defaultdict(list)
    with open(FIXTURES / "reference.csv") as f:
        for r in csv.DictReader(f):
            key = (r["topology"], r["rows"], r["cols"], r["dataflow"], r["sram_kb"])
            groups[key].append(r)
    return groups


FIXTURE_CASES = sorted(_fixture_groups())


def test_fixture_covers_the_issue():
    """Every layer of >= 2 SCALE-Sim topologies at 2 array sizes and all 3 dataflows."""
    cases = {(t, r, d) for t, r, c, d, kb in FIXTURE_CASES}
    for topo in ("alexnet.csv", "mobilenet.csv"):
        for rows in ("32", "128"):
            assert {(topo, rows, df) for df in ("os", "ws", "is")} <= cases


@pytest.mark.parametrize("case", FIXTURE_CASES, ids=lambda c: "-".join(c))
def test_fixture_exact(case):
    topo, rows, cols, df, kb = case
    refs = _fixture_groups()[case]
    res = systolic.simulate(design(int(rows), int(cols), df, int(kb)), FIXTURES / "topologies" / topo,
                            accounting="scalesim")
    ours = {layer["name"]: layer for layer in res.layers}
    per_layer = defaultdict(list)
    for r in refs:
        per_layer[r["layer"].split("Channel_")[0]].append(r)
    assert set(per_layer) == set(ours)
    for name, rs in per_layer.items():
        layer = ours[name]
        assert layer["compute_cycles"] == sum(int(r["total_cycles"]) for r in rs)
        assert layer["ifmap_sram_reads"] == sum(int(r["ifmap_sram_reads"]) for r in rs)
        assert layer["filter_sram_reads"] == sum(int(r["filter_sram_reads"]) for r in rs)
        assert layer["ofmap_sram_writes"] == sum(int(r["ofmap_sram_writes"]) for r in rs)
        r0 = rs[0]  # every channel of a DP layer has the same utilisation
        assert layer["overall_util"] == pytest.approx(float(r0["overall_util"]) / 100, rel=1e-12)
        assert layer["mapping_efficiency"] == pytest.approx(float(r0["mapping_eff"]) / 100, rel=1e-12)
        assert layer["compute_util"] == pytest.approx(float(r0["compute_util"]) / 100, rel=1e-12)


def test_one_by_one_array_never_beats_one_mac_per_cycle():
    wl = Workload.from_rows("g", [("g", linear_row(2, 1, tokens=1))])
    layer = systolic.simulate(design(1, 1, "os"), wl).layers[0]
    assert layer["compute_cycles"] == 2 and layer["overall_util"] == 1.0


def test_hand_computed_gemm():
    """M=N=K=64 on 8x8 os: 64 folds of (64 + 8 + 8 - 2) cycles, minus 1."""
    wl = Workload.from_rows("g", [("g", linear_row(64, 64, tokens=64))])
    layer = systolic.simulate(design(8, 8, "os"), wl).layers[0]
    assert layer["compute_cycles"] == 64 * 78 - 1
    assert layer["ifmap_sram_reads"] == 8 * 64 * 64
    assert layer["ofmap_sram_writes"] == 64 * 64 + 64 * 16
    assert layer["mapping_efficiency"] == 1.0
    assert layer["macs"] == 64 ** 3


def test_grouped_conv_is_g_independent_gemms():
    dw = Workload.from_rows("dw", [("dw", conv_row(14, 14, 32, 32, 3, pad=1, groups=32))])
    one = Workload.from_rows("one", [("one", conv_row(14, 14, 1, 1, 3, pad=1))])
    a = systolic.simulate(design(8, 8, "ws"), dw).layers[0]
    b = systolic.simulate(design(8, 8, "ws"), one).layers[0]
    assert a["compute_cycles"] == 32 * b["compute_cycles"]
    assert a["macs"] == 32 * b["macs"] == 32 * 14 * 14 * 9


def test_totals_are_sums_and_breakdowns_add_up():
    res = systolic.simulate(design(16, 32, "is", dram_bytes_per_cycle=2.0), "mobilenet_v2")
    m = res.metrics
    assert m["compute_cycles"] == sum(layer["compute_cycles"] for layer in res.layers)
    assert m["stall_cycles"] == sum(layer["stall_cycles"] for layer in res.layers) > 0
    assert m["cycles"] == m["compute_cycles"] + m["vector_stall_cycles"] + m["stall_cycles"]
    assert m["latency_s"] == pytest.approx(m["cycles"] / 1e9)
    parts = ("energy_mac_j", "energy_reg_j", "energy_sram_j", "energy_dram_j", "energy_vector_j", "energy_leakage_j")
    assert m["energy_j"] == pytest.approx(sum(m[k] for k in parts))
    assert m["energy_sram_j"] == pytest.approx(sum(layer[f"energy_{s}_sram_j"] for layer in res.layers
                                                   for s in ("ifmap", "filter", "ofmap")))
    assert m["area_mm2"] == pytest.approx(m["area_pe_mm2"] + m["area_sram_mm2"] + m["area_vector_mm2"])
    assert m["power_w"] == pytest.approx(m["energy_j"] / m["latency_s"])
    assert m["macs"] == load("mobilenet_v2").macs


def _cacti_row(size_bytes, width_bits, nm=45):
    """One row of the shipped CACTI table, read independently of simulators.tech."""
    path = Path(systolic.__file__).parent.parent / "tech" / "data" / "sram_cacti.csv"
    with open(path) as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        for r in rows:
            if (int(r["tech_nm"]), int(r["size_bytes"]), int(r["width_bits"])) == (nm, size_bytes, width_bits):
                return {k: float(v) for k, v in r.items()}
    raise KeyError((nm, size_bytes, width_bits))


def test_energy_and_area_hand_computed():
    """One 64x64x64 GEMM, 8-bit, 45 nm, 8x8 os array, 8 kB SRAMs (two 4 kB banks each; ports of 8 words:
    64 bits for ifmap and filter, 8 x 32-bit partial sums for the ofmap), SCALE-Sim accounting."""
    wl = Workload.from_rows("g", [("g", linear_row(64, 64, tokens=64))])
    m = systolic.simulate(design(8, 8, "os", kb=8, dram_bytes_per_cycle=1024.0, vector_lanes=4), wl,
                          accounting="scalesim").metrics
    assert m["energy_mac_j"] == pytest.approx(64 ** 3 * (0.2 + 0.1) * 1e-12)  # Horowitz: 8b multiply + 32b add
    reg_pj_per_bit = 0.009 * scaling.energy_scale(40, 45)  # Aladdin 40 nm register, scaled to 45 nm
    assert m["energy_reg_j"] == pytest.approx(64 ** 3 * (8 + 8 + 32) * reg_pj_per_bit * 1e-12)  # os: 2 moving, 1 psum
    cacti = [_cacti_row(4096, 64), _cacti_row(4096, 64), _cacti_row(4096, 256)]
    assert m["area_sram_mm2"] == pytest.approx(2 * sum(r["area_mm2"] for r in cacti))
    pe_um2 = 282 + 137 + 5.98 * 48 * scaling.area_scale(40, 45)  # multiplier, 32b adder, 6 x 8 flip-flops
    assert m["area_pe_mm2"] == pytest.approx(64 * pe_um2 * 1e-6)
    layer = systolic.simulate(design(8, 8, "os", kb=8, dram_bytes_per_cycle=1024.0), wl, accounting="scalesim").layers[0]
    read_if = cacti[0]["read_pj"] / 64 * 8  # pJ per 8-bit word
    fill_if = cacti[0]["write_pj"] / 64 * 8
    assert layer["energy_ifmap_sram_j"] == pytest.approx((layer["ifmap_sram_reads"] * read_if
                                                          + layer["ifmap_dram_reads"] * fill_if) * 1e-12)
    rd, wr = dram_stream_pj_per_bit("ddr4_2400")
    assert layer["energy_dram_j"] == pytest.approx(8 * (layer["dram_read_bytes"] * rd + layer["dram_write_bytes"] * wr)
                                                   * 1e-12)
    assert m["stall_cycles"] == 0


def test_tech_node_scaling():
    """Stillmaker & Baas as Accelergy applies it: 45 -> 32 nm multiplies logic energy by 0.6593 at 0.8 V."""
    a = systolic.simulate(design(32, 32, "ws", tech_nm=45), "resnet18").metrics
    b = systolic.simulate(design(32, 32, "ws", tech_nm=32), "resnet18").metrics
    assert scaling.energy_scale(45, 32) == pytest.approx(0.6593, abs=5e-5)
    assert b["energy_mac_j"] == pytest.approx(a["energy_mac_j"] * 0.6593, rel=1e-4)
    assert b["area_pe_mm2"] < a["area_pe_mm2"] * 0.6 and b["area_sram_mm2"] < a["area_sram_mm2"]
    assert b["energy_dram_j"] == pytest.approx(a["energy_dram_j"])  # DRAM does not scale with the logic node
    assert b["cycles"] == a["cycles"]


@pytest.mark.parametrize("accounting", systolic.ACCOUNTING)
def test_batch_kernel_matches_single_designs(accounting):
    prepared = systolic.prepare("resnet50", accounting=accounting)
    rng = np.random.default_rng(0)
    designs = np.array([systolic.design_vector(
        {"rows": int(2 ** rng.integers(2, 9)), "cols": int(2 ** rng.integers(2, 9)),
         "dataflow": systolic.DATAFLOWS[rng.integers(3)], "ifmap_sram_kb": int(2 ** rng.integers(3, 12))})
        for _ in range(16)])
    batch = systolic.simulate_batch(designs, prepared)
    for d, row in zip(designs, batch):
        np.testing.assert_array_equal(systolic.simulate_total(d, prepared.table, prepared.tech_arrays, prepared.mode), row)


gemm = st.tuples(st.integers(1, 300), st.integers(1, 300), st.integers(1, 300))
arrays = st.tuples(st.integers(1, 64), st.integers(1, 64), st.sampled_from(systolic.DATAFLOWS))


@settings(max_examples=300, deadline=None)
@given(gemm, arrays, st.integers(1, 512), st.floats(0.25, 256), st.sampled_from(systolic.ACCOUNTING))
def test_properties(mnk, arr, kb, bw, accounting):
    m, n, k = mnk
    rows, cols, df = arr
    wl = systolic.prepare(Workload.from_rows("g", [("g", linear_row(k, n, tokens=m))]), accounting=accounting)
    res = systolic.simulate(design(rows, cols, df, kb, dram_bytes_per_cycle=bw), wl)
    layer, tot = res.layers[0], res.metrics
    assert layer["compute_cycles"] >= m * n * k / (rows * cols)
    assert all(math.isfinite(v) and v >= 0 for v in tot.values())
    assert 0 < tot["overall_util"] <= 1 and 0 < tot["mapping_efficiency"] <= 1 and 0 < tot["compute_util"] <= 1
    bigger = systolic.simulate(design(rows, cols, df, 2 * kb, dram_bytes_per_cycle=bw), wl).layers[0]
    for key in ("ifmap_dram_reads", "filter_dram_reads", "ofmap_dram_writes", "psum_dram_writes", "dram_bytes"):
        assert bigger[key] <= layer[key]  # more SRAM never raises DRAM traffic
    faster = systolic.simulate(design(rows, cols, df, kb, dram_bytes_per_cycle=2 * bw), wl).metrics
    assert faster["stall_cycles"] <= tot["stall_cycles"]


@pytest.mark.parametrize("bad,match", [
    ({"rows": 0}, "'rows': 0 is not allowed"),
    ({"cols": -4}, "'cols': -4 is not allowed"),
    ({"dataflow": "rs"}, r"'dataflow': 'rs' is not allowed; allowed values: \{os, ws, is\}"),
    ({"ifmap_sram_kb": 0}, "'ifmap_sram_kb': 0 is not allowed"),
    ({"clock_ghz": float("nan")}, "'clock_ghz': nan is not allowed"),
    ({"rows": float("nan")}, "'rows': nan is not allowed"),
    ({"rows": 8.5}, "'rows': 8.5 is not allowed"),
    ({"bits": 4}, "'bits': 4 is not allowed; allowed values: integers 8..32"),
    ({"tech_nm": 7}, r"'tech_nm': 7 is not allowed; allowed values: \{22, 28, 32, 40, 45, 65, 90\}"),
    ({"vector_lanes": 0}, "'vector_lanes': 0 is not allowed"),
    ({"pe_count": 8}, "unknown parameter 'pe_count'"),
])
def test_bad_designs(bad, match):
    with pytest.raises(DesignError, match=match):
        systolic.simulate(bad, "resnet18")


def test_design_missing_a_parameter_is_an_error_where_strict():
    with pytest.raises(DesignError, match="missing parameter 'dataflow'"):
        systolic.PARAMETERS.validate({k: v for k, v in systolic.PARAMETERS.default().items() if k != "dataflow"})


def test_filter_larger_than_input():
    with pytest.raises(WorkloadError, match="larger than"):
        conv_row(3, 3, 8, 8, 5)
