"""Non-MAC work and feature maps: the vector unit, tensors between layers, element-wise rows from torch."""
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from archgym.core.errors import WorkloadError
from archgym.core.workloads import Workload, conv_row
from archgym.core.workloads.table import (ACT, IN2_OCC, IN_OCC, KIND, N_SHAPE_COLUMNS, NEVER, OUT_OCC, POST, PRE,
                                          act_row, add_row, pool_row)
from archgym.frontends import from_torch
from archgym.frontends.graph import ELEMENTWISE_OPS, FREE
from simulators import systolic

DOCS = Path(__file__).resolve().parent.parent / "docs" / "systolic.md"


def design(**kw):
    return {"rows": 16, "cols": 16, "dataflow": "ws", "ifmap_sram_kb": 64, "filter_sram_kb": 64, "ofmap_sram_kb": 64,
            "dram_bytes_per_cycle": 1024, **kw}


def test_vector_rows_hand_computed():
    """Pooling, add and activation rows run on lanes x ops-per-lane element ops per cycle; the array idles."""
    wl = Workload.from_rows("v", [("pool", pool_row(8, 8, 16, 2)), ("add", add_row(4, 4, 16)),
                                  ("act", act_row(4, 4, 16, 2))]).isolated()
    res = systolic.simulate(design(vector_lanes=4, vector_ops_per_lane=2), wl)
    op_pj = systolic.unit_costs(design(vector_lanes=4, vector_ops_per_lane=2))["vector_op_pj"]
    for layer, ops in zip(res.layers, (16 * 16 * 4, 16 * 16, 16 * 16 * 2)):  # 2x2 windows; one add; two ops
        assert layer["n_vector_ops"] == ops
        assert layer["vector_cycles"] == layer["vector_stall_cycles"] == layer["cycles"] == math.ceil(ops / 8)
        assert layer["compute_cycles"] == 0 and layer["macs"] == 0
        assert layer["energy_vector_j"] == pytest.approx(ops * op_pj * 1e-12)
    pool, add, _ = res.layers
    assert pool["ifmap_dram_reads"] == 8 * 8 * 16 and pool["ofmap_dram_writes"] == 4 * 4 * 16
    assert add["ifmap_dram_reads"] == 2 * 4 * 4 * 16  # both operands come from DRAM when isolated


@pytest.mark.parametrize("mode", systolic.kernel.VECTOR_MODES)
def test_fused_ops_overlap_with_the_array_or_run_after_it(mode):
    row = conv_row(8, 8, 16, 16, 3, pad=1)
    row[POST] = 3  # e.g. an unfolded batch norm and a ReLU on the output stream
    wl = Workload.from_rows("c", [("c", row)]).isolated()
    layer = systolic.simulate(design(vector_lanes=1, vector_overlap=mode), wl).layers[0]
    ops = 3 * 8 * 8 * 16
    assert layer["n_vector_ops"] == ops and layer["vector_cycles"] == ops
    expected = ops - layer["compute_cycles"] if mode == "overlap" else ops  # the array waits for the unit
    assert layer["vector_stall_cycles"] == expected
    fast = systolic.simulate(design(vector_lanes=64, vector_overlap=mode), wl).layers[0]
    assert fast["vector_stall_cycles"] == (0 if mode == "overlap" else math.ceil(ops / 64))


def test_feature_map_stays_on_chip_when_the_ofmap_sram_holds_it():
    """Two chained convs: the 16 x 16 x 8 map between them (2048 words) stays on chip in a 2 kB ofmap
    SRAM (the next layer's ifmap SRAM refills from it) and goes to DRAM and back in a 1 kB one."""
    wl = Workload.from_rows("chain", [("a", conv_row(16, 16, 8, 8, 3, pad=1)), ("b", conv_row(16, 16, 8, 8, 3, pad=1))])
    assert wl.table[0, OUT_OCC] == wl.table[1, IN_OCC] == 2048
    on = systolic.simulate(design(ofmap_sram_kb=2), wl).layers
    off = systolic.simulate(design(ofmap_sram_kb=1), wl).layers
    assert on[0]["ofmap_dram_writes"] == 0 and on[1]["ifmap_dram_reads"] == 0
    assert on[1]["ofmap_sram_reads"] - off[1]["ofmap_sram_reads"] == on[1]["ifmap_sram_fills"]
    assert off[0]["ofmap_dram_writes"] == 2048 and off[1]["ifmap_dram_reads"] == off[1]["ifmap_sram_fills"] >= 2048
    assert off[1]["ofmap_dram_writes"] == on[1]["ofmap_dram_writes"] == 2048  # the network's output leaves
    tot_on = systolic.simulate(design(ofmap_sram_kb=2), wl).metrics
    tot_off = systolic.simulate(design(ofmap_sram_kb=1), wl).metrics
    assert tot_on["dram_bytes"] < tot_off["dram_bytes"] and tot_on["energy_dram_j"] < tot_off["energy_dram_j"]
    scalesim = systolic.simulate(design(ofmap_sram_kb=2), wl, accounting="scalesim").layers
    assert scalesim[0]["ofmap_dram_writes"] > 0 and scalesim[1]["ifmap_dram_reads"] > 0  # SCALE-Sim: always DRAM


class Residual(nn.Module):
    def __init__(self, c=16):
        super().__init__()
        self.stem = nn.Conv2d(3, c, 3, padding=1)
        self.a, self.b = nn.Conv2d(c, c, 3, padding=1), nn.Conv2d(c, c, 3, padding=1)
        self.bn = nn.BatchNorm2d(c)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        return torch.relu(self.b(torch.relu(self.bn(self.a(x)))) + x)


def test_a_live_residual_counts_against_sram_capacity():
    wl = from_torch(Residual(), torch.randn(1, 3, 8, 8))
    assert wl.kinds() == ["conv", "conv", "conv", "add", "act"]
    t = wl.table
    assert tuple(t[:3, POST]) == (1, 1, 0)  # ReLUs fused onto the convs' output streams, the BN folded
    fmap = 8 * 8 * 16
    # the stem's output lives until the add, so at conv b three maps are alive: the skip, a's and b's
    assert (t[0, OUT_OCC], t[1, OUT_OCC], t[2, OUT_OCC]) == (3 * fmap, 3 * fmap, 3 * fmap)
    assert (t[3, IN_OCC], t[3, IN2_OCC], t[4, OUT_OCC]) == (3 * fmap, 3 * fmap, NEVER)
    # without the skip two maps would do; with it, a two-map ofmap SRAM sends every map to DRAM and back
    two, three = (systolic.simulate(design(ofmap_sram_kb=k * fmap // 1024), wl).layers for k in (2, 3))
    assert [layer["ofmap_dram_writes"] for layer in two[:3]] == [fmap] * 3
    assert two[3]["ifmap_dram_reads"] == 2 * fmap  # both operands of the add come back
    assert [layer["ofmap_dram_writes"] for layer in three[:4]] == [0] * 4 and three[3]["ifmap_dram_reads"] == 0
    chain = Workload("chain", wl.table[:3, :N_SHAPE_COLUMNS], wl.layer_names[:3])  # context from the chain rule
    assert chain.table[1, OUT_OCC] == 2 * fmap  # the same convs as a plain chain


class ReLUConvBN(nn.Module):
    def __init__(self, c, k):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(), nn.Conv2d(c, c, k, padding=k // 2, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return self.op(x)


class Zero(nn.Module):
    def forward(self, x):
        return x.mul(0.0)


class Cell(nn.Module):
    """A NAS-Bench-201 cell (D-X-Y/AutoDL-Projects InferCell): node j is the plain sum of op(node i), i < j;
    edges in order 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2."""
    OPS = {"nor_conv_3x3": lambda c: ReLUConvBN(c, 3), "nor_conv_1x1": lambda c: ReLUConvBN(c, 1),
           "avg_pool_3x3": lambda c: nn.AvgPool2d(3, 1, 1, count_include_pad=False),
           "skip_connect": lambda c: nn.Identity(), "none": lambda c: Zero()}

    def __init__(self, ops, c=16):
        super().__init__()
        self.edges = nn.ModuleList(self.OPS[o](c) for o in ops)

    def forward(self, x):
        nodes, k = [x], 0
        for j in range(1, 4):
            terms = []
            for i in range(j):
                terms.append(self.edges[k](nodes[i]))
                k += 1
            nodes.append(sum(terms))
        return nodes[-1]


def test_nas_bench_201_cell_rows():
    ops = ["nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3", "skip_connect", "nor_conv_3x3", "none"]
    wl = from_torch(Cell(ops), torch.randn(1, 16, 32, 32))
    assert wl.kinds() == ["conv", "conv", "pool", "add", "conv", "add"]  # node 2 = c1(x) + pool(n1); node 3 = x + c3(n1)
    t = wl.table
    assert (t[t[:, KIND] == 0, PRE] == 1).all() and (t[:, KIND] != ACT).all()  # every ReLU rides on its conv's input
    assert t[3, OUT_OCC] == 0  # node 2 only feeds the `none` edge: computed, never written
    assert t[5, IN_OCC] == NEVER  # the cell input (the network input here) is an operand of node 3's sum
    assert wl.macs == 1024 * 16 * (2 * 144 + 16)
    pools = from_torch(nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), Cell(["avg_pool_3x3"] * 6)),
                       torch.randn(1, 3, 32, 32))
    assert pools.kinds().count("pool") == 6 and pools.kinds().count("add") == 3
    cost = systolic.simulate(design(), pools).metrics
    assert cost["n_vector_ops"] == 6 * 1024 * 16 * 9 + 3 * 1024 * 16  # 3x3 windows; three node sums
    assert cost["vector_stall_cycles"] == pytest.approx(cost["n_vector_ops"] / 32, abs=9)  # 32 lanes, rows round up


def test_ops_the_table_cannot_cost_are_errors():
    class Sorts(nn.Module):
        def forward(self, x):
            return nn.functional.conv2d(x, torch.ones(4, 3, 1, 1)).sort(dim=1).values

    with pytest.raises(WorkloadError, match="cannot cost the torch op 'sort'"):
        from_torch(Sorts(), torch.randn(1, 3, 4, 4))


def test_a_row_the_model_cannot_cost_is_an_error_naming_it():
    row = add_row(4, 4, 8)
    row[KIND] = 9  # a kind without MACs that the vector unit does not run
    with pytest.raises(WorkloadError, match=r"cannot cost layer 'odd' \(row 1, kind 9\)"):
        systolic.prepare(Workload.from_rows("w", [("c", conv_row(4, 4, 8, 8, 1)), ("odd", row)]))


def test_every_zero_cost_and_costed_op_is_documented():
    text = DOCS.read_text()
    missing = [op for op in sorted(FREE | set(ELEMENTWISE_OPS)) if f"`{op}`" not in text]
    assert not missing, missing


@pytest.mark.parametrize("accounting", systolic.ACCOUNTING)
def test_more_ofmap_sram_never_adds_traffic_on_a_cell(accounting):
    wl = from_torch(Cell(["nor_conv_3x3", "avg_pool_3x3", "nor_conv_1x1", "skip_connect", "nor_conv_3x3",
                          "avg_pool_3x3"]), torch.randn(1, 16, 32, 32))
    prev = None
    for kb in (1, 4, 16, 64, 256):
        m = systolic.simulate(design(ofmap_sram_kb=kb, rows=8, cols=8), wl, accounting=accounting).metrics
        if prev is not None:
            assert m["dram_bytes"] <= prev
        prev = m["dram_bytes"]


def test_small_channel_layers_leave_a_64x64_array_mostly_idle():
    """NB201's 16-channel stage on a 64 x 64 array: ws maps the 144-long reduction onto 3 row folds and 16
    filters onto 64 columns, SCALE-Sim's mapping efficiency 144 x 16 / (3 x 64 x 64); the same figures
    SCALE-Sim reports are checked exactly on tests/fixtures/scalesim/topologies/nb201.csv (test_systolic.py)."""
    wl = Workload.from_rows("cell16", [("c", conv_row(32, 32, 16, 16, 3, pad=1))])
    util = {df: systolic.simulate(design(rows=64, cols=64, dataflow=df), wl).layers[0]["mapping_efficiency"]
            for df in systolic.DATAFLOWS}
    assert util["ws"] == pytest.approx(144 * 16 / (3 * 64 * 64))
    assert util["os"] == pytest.approx(1024 * 16 / (16 * 64 * 64))  # 1024 pixels fold exactly; 16 of 64 columns
    assert util["is"] == pytest.approx(144 * 1024 / (3 * 16 * 64 * 64))
    big = Workload.from_rows("cell64", [("c", conv_row(8, 8, 64, 64, 3, pad=1))])
    assert systolic.simulate(design(rows=64, cols=64), big).layers[0]["mapping_efficiency"] == pytest.approx(
        576 * 64 / (9 * 64 * 64))  # 64 channels fill the columns
    assert np.all(np.isfinite(list(util.values())))


def test_networks_cost_as_sums_of_their_unique_rows():
    """Every coupling term (vector unit, feature-map spills, live tensors) sits in a row's own context, so a
    network's totals are the totals of its unique rows, each costed once per design, times their counts."""
    cell = from_torch(nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), Cell(["nor_conv_3x3", "avg_pool_3x3", "nor_conv_1x1",
                                                                          "skip_connect", "nor_conv_3x3", "none"]),
                                    Cell(["nor_conv_3x3", "avg_pool_3x3", "nor_conv_1x1", "skip_connect",
                                          "nor_conv_3x3", "none"])), torch.randn(1, 3, 32, 32))
    uniq, counts = np.unique(cell.table, axis=0, return_counts=True)
    assert len(uniq) < len(cell.table)
    p = systolic.prepare(cell)
    designs = np.stack([systolic.design_vector(design(rows=r, ofmap_sram_kb=kb)) for r, kb in ((8, 16), (32, 256))])
    per_row = systolic.rows_batch(designs, uniq, p.tech_arrays, p.mode)
    for d, rows, full in zip(designs, per_row, systolic.simulate_batch(designs, p)):
        np.testing.assert_allclose(systolic.totals_of_rows(d, rows, counts.astype(float), p.tech_arrays), full, rtol=1e-12)
    # a space of networks over the same unique rows: (design, network) pairs in one parallel call
    other = np.zeros_like(counts, dtype=float)
    other[:3] = 1.0  # some other multiset of the unique rows
    nets = np.stack([counts.astype(float), other])
    pairs = systolic.totals_of_pairs(designs, per_row, np.array([0, 1, 1, 0]), nets, np.array([0, 0, 1, 1]),
                                     p.tech_arrays)
    for (k, a), got in zip(((0, 0), (1, 0), (1, 1), (0, 1)), pairs):
        np.testing.assert_allclose(got, systolic.totals_of_rows(designs[k], per_row[k], nets[a], p.tech_arrays),
                                   rtol=1e-12)
