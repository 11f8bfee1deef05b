"""The NAS-Bench-201 network in torch and its layer tables composed from recorded parts (no torch at step time)."""
import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from archgym.core.workloads.table import ADD, CONV, IN2_OCC, KIND, KINDS, LINEAR, OUT_OCC, POOL, POST, PRE, G, K, M, N
from archgym.frontends import from_torch, trace_torch
from archgym.nas import get_space, nb201
from archgym.nas.nb201_compose import compose, compose_cell
from archgym.nas.nb201_space import RESNET
from archgym.nas.nb201_torch import Cell, NB201Network, extract_parts

# NB201's published CIFAR-10 ranges over all 15,625 cells (FLOPs as NB201 counts them: conv and linear
# multiply-accumulates including the classifier's 10 bias adds, in millions; parameters in millions,
# BatchNorm included): 7.78305..220.11969 MFLOPs, 0.073306..1.531546 M parameters.
FLOPS_RANGE_M = (7.78305, 220.11969)
PARAMS_RANGE_M = (0.073306, 1.531546)
CLASSIFIER_BIAS = 10


def _params(ops) -> int:
    return sum(p.numel() for p in NB201Network(ops).parameters())


def test_shipped_parts_are_what_trace_torch_records():
    shipped, fresh = get_space("nb201").networks.parts, extract_parts()
    for k in ("rows", "reads", "batch_norm", "starts", "ends", "outputs"):
        np.testing.assert_array_equal(getattr(shipped, k), getattr(fresh, k), err_msg=k)


def test_shipped_tables_are_the_composition_of_the_parts():
    """The shipped tables are nb201_compose run on the shipped parts (no torch), on a sample."""
    nets = get_space("nb201").networks
    for number in np.random.default_rng(2).choice(nb201.N_ARCHS, 25, replace=False):
        ops = nb201.ops_of_number(int(number))
        np.testing.assert_array_equal(nets.table(int(number)), compose(ops, nets.parts).finish().table)


# Cells whose fusion or feature-map context crosses cell boundaries: node 3 a lone conv whose output the next
# cell's lone ReLU-conv reads (the ReLU fuses onto it; the head's BN folds into the last one); a cell that passes
# its input through (its conv is dead); a cell whose output is zero (the next cell reads a constant).
ACROSS = (("nor_conv_3x3", "none", "none", "none", "nor_conv_3x3", "none"),
          ("nor_conv_3x3", "none", "none", "skip_connect", "none", "none"),
          ("nor_conv_1x1", "avg_pool_3x3", "none", "none", "none", "none"))


@pytest.mark.parametrize("ops", [*ACROSS, *(nb201.ops_of_number(nb201.number_of_index(i))
                                            for i in (1, 1651, 1462, 1835, 15624))])
def test_composed_table_equals_from_torch_of_the_whole_network(ops):
    space = get_space("nb201")
    with torch.device("meta"):
        ref = from_torch(NB201Network(ops), torch.zeros(1, 3, 32, 32, device="meta")).table
    np.testing.assert_array_equal(space.layer_table(ops).table, ref)


def test_composed_cells_equal_trace_torch_on_a_sample_of_every_stage():
    """scripts/build_nb201_table.py --blocks checks all 5^6 cells of every stage; here 80 per stage."""
    parts = get_space("nb201").networks.parts
    cells = list(itertools.product(nb201.OPS, repeat=6))
    pick = np.random.default_rng(1).choice(len(cells), 80, replace=False)
    for s, (ch, size) in enumerate(zip(nb201.STAGE_CHANNELS, nb201.STAGE_SIZES)):
        for i in pick:
            ops = cells[i]
            with torch.device("meta"):
                ref = trace_torch(Cell(ops, ch), torch.zeros(1, ch, size, size, device="meta"))
            got = compose_cell(s, ops, parts)
            np.testing.assert_array_equal(got.table, ref.table.reshape(got.table.shape), err_msg=f"stage {s}, {ops}")
            if len(ref.table):
                np.testing.assert_array_equal(got.finish().table, ref.finish().table, err_msg=f"stage {s}, {ops}")


def test_node_sums_fused_activations_and_live_tensors_of_the_resnet_cell():
    """NB201's ResNet cell in stage 0 (16 x 32 x 32 = 16,384 elements per tensor), by hand: node 1 =
    conv(node 0) whose ReLU-conv successor is its only reader (the ReLU fuses onto it: POST 1), node 2 =
    conv(node 1), node 3 = node 0 + node 2 (an add row). Node 0 stays live until the add, so the conv
    making node 2 runs with three tensors on chip: OUT_OCC 3 x 16,384."""
    t = get_space("nb201").layer_table(RESNET).table
    first = t[1:4]  # the first cell's rows (after the stem)
    assert [KINDS[k] for k in first[:, KIND]] == ["conv", "conv", "add"]
    assert first[0, POST] == 1 and first[1, PRE] == 0  # the ReLU before the 2nd conv fused onto the 1st
    assert first[0, OUT_OCC] == 3 * 16384 and first[1, OUT_OCC] == 3 * 16384 and first[2, IN2_OCC] == 3 * 16384
    adds = (t[:, KIND] == ADD).sum()
    assert adds == 15 + 2  # one node sum per cell, one residual add per reduction


def test_macs_and_params_match_nb201s_published_ranges():
    space = get_space("nb201")
    flops = {}  # in NB201's unit: millions of multiply-accumulates (+ the classifier's bias adds)
    for ops in itertools.product(nb201.OPS, repeat=6):
        key = (ops.count("nor_conv_3x3"), ops.count("nor_conv_1x1"))
        if key not in flops:
            t = space.layer_table(ops).table
            flops[key] = (int((t[:, G] * t[:, M] * t[:, N] * t[:, K]).sum()) + CLASSIFIER_BIAS) / 1e6
    assert len(flops) == 28  # MACs depend on the numbers of conv edges only, as in NB201
    assert min(flops.values()) == pytest.approx(FLOPS_RANGE_M[0], abs=5e-7)
    assert max(flops.values()) == pytest.approx(FLOPS_RANGE_M[1], abs=5e-7)
    # an edge costs the same in every stage (C^2 x H x W is constant): 15 cells x 9 x 16^2 x 32^2 (conv3x3)
    assert flops[(1, 0)] - flops[(0, 0)] == pytest.approx(15 * 2.359296, abs=5e-7)
    assert flops[(0, 1)] - flops[(0, 0)] == pytest.approx(15 * 0.262144, abs=5e-7)
    assert _params(["none"] * 6) / 1e6 == pytest.approx(PARAMS_RANGE_M[0], abs=5e-7)
    assert _params(["avg_pool_3x3"] * 6) == _params(["skip_connect"] * 6) == _params(["none"] * 6)
    assert _params(["nor_conv_3x3"] * 6) / 1e6 == pytest.approx(PARAMS_RANGE_M[1], abs=5e-7)


def test_dead_edges_are_costed_like_nb201_does():
    """NB201 executes (and counts) every edge, also one whose output cannot reach the cell output."""
    space = get_space("nb201")
    dead = ("nor_conv_3x3", "none", "none", "skip_connect", "none", "none")  # node 1 feeds nothing
    live = ("skip_connect", "none", "none", "nor_conv_3x3", "none", "none")
    assert space.layer_table(dead).macs == space.layer_table(live).macs
    kinds = space.layer_table(dead).table[:, KIND]
    assert (kinds == CONV).sum() == 1 + 2 * 3 + 15 and (kinds == POOL).sum() == 2 + 1 and (kinds == LINEAR).sum() == 1


def test_layer_tables_need_no_torch():
    import subprocess
    import sys
    code = ("import sys; from archgym.nas import get_space; s = get_space('nb201')\n"
            "t = [s.layer_table(i) for i in range(0, 15625, 125)]\nprint('torch' in sys.modules, len(t))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "125"]
