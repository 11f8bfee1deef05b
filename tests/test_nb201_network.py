"""The NAS-Bench-201 network in torch and its layer tables composed from blocks (no torch at step time)."""
import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from archgym.core.errors import WorkloadError
from archgym.core.workloads.table import CONV, KIND, LINEAR, POOL, G, K, M, N
from archgym.frontends import from_torch
from archgym.nas import get_space, nb201
from archgym.nas.nb201_torch import Cell, NB201Network, extract_blocks

# NB201's published CIFAR-10 ranges over all 15,625 cells (FLOPs as NB201 counts them: conv and linear
# multiply-accumulates including the classifier's 10 bias adds, in millions; parameters in millions,
# BatchNorm included): 7.78305..220.11969 MFLOPs, 0.073306..1.531546 M parameters.
FLOPS_RANGE_M = (7.78305, 220.11969)
PARAMS_RANGE_M = (0.073306, 1.531546)
CLASSIFIER_BIAS = 10


def _params(ops) -> int:
    return sum(p.numel() for p in NB201Network(ops).parameters())


def test_shipped_blocks_are_what_from_torch_records():
    shipped, fresh = nb201.read_blocks(), extract_blocks()
    np.testing.assert_array_equal(shipped.rows, fresh.rows)
    np.testing.assert_array_equal(shipped.starts, fresh.starts)
    np.testing.assert_array_equal(shipped.ends, fresh.ends)


@pytest.mark.parametrize("index", [1, 1651, 1462, 1835, 15624])
def test_composed_table_equals_from_torch_of_the_whole_network(index):
    space = get_space("nb201")
    ops = space.ops(index)
    ref = from_torch(NB201Network(ops), space.example_input()).table
    np.testing.assert_array_equal(space.layer_table(index).table, ref)


def test_composed_cells_equal_from_torch_on_a_sample_of_every_stage():
    """scripts/build_nb201_table.py --blocks checks all 5^6 cells of every stage; here 80 per stage."""
    blocks = nb201.read_blocks()
    cells = list(itertools.product(nb201.OPS, repeat=6))
    pick = np.random.default_rng(1).choice(len(cells), 80, replace=False)
    for s, (ch, size) in enumerate(zip(nb201.STAGE_CHANNELS, nb201.STAGE_SIZES)):
        for i in pick:
            ops = cells[i]
            composed = np.concatenate([blocks.table(nb201.cell_block(s, e, nb201.OPS.index(o))) for e, o in enumerate(ops)])
            with torch.device("meta"):
                cell = Cell(ops, ch)
            try:
                ref = from_torch(cell, torch.zeros(1, ch, size, size, device="meta")).table
            except WorkloadError:  # only skips and zeros: nothing for from_torch to record
                ref = composed[:0]
            np.testing.assert_array_equal(composed, ref, err_msg=f"stage {s}, {nb201.to_string(ops)}")


def test_macs_and_params_match_nb201s_published_ranges():
    blocks = nb201.read_blocks()
    flops = {}  # in NB201's unit: millions of multiply-accumulates (+ the classifier's bias adds)
    for ops in itertools.product(nb201.OPS, repeat=6):
        key = (ops.count("nor_conv_3x3"), ops.count("nor_conv_1x1"))
        if key not in flops:
            t = blocks.compose(ops)
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
