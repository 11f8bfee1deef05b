"""The FINN-style dataflow model (simulators/fpga): every expected number below is worked out by
hand from FINN's formulas as restated in simulators/fpga/estimators.py, not taken from the code."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archgym.core.errors import DesignError, UnknownNameError, WorkloadError
from archgym.core.workloads import Workload, conv_row, linear_row, load, matmul_row, pool_row
from simulators import fpga
from simulators.fpga import estimators as E
from simulators.fpga import kernels
from simulators.fpga import layout as K
from simulators.fpga.boards import FF_PER_LUT


def net(*rows):
    return Workload.from_rows("t", [(f"l{i}", r) for i, r in enumerate(rows)])


def layer(res, name):
    return next(r for r in res.layers if r["name"] == name)


# --- MVAU: cycles, BRAM, LUT, DSP -----------------------------------------------------------------
# A 512 -> 256 FC layer with W = A = 2 (input_bits=2 so the first layer sees A too), followed by a
# classifier so it keeps its thresholds. FINN's memory mode internal_decoupled (default), block RAM.
# Hand arithmetic for PE=16, SIMD=32 (estimators.py; MAC_LANE_LUT = 0.58):
#   cycles = (256/16) * (512/32) * 1 = 256
#   WMEM = 512*256/(16*32) = 256, one memory 16*32*2 = 1024 bits wide -> w > 18 and WMEM <= 512:
#   BRAM18 = ceil(256/512) * ceil(1024/36) = 1 * 29 = 29
#   W+A = 4: mult = 32*(2*ceil(4/6)-1)*4 = 128, adder = 4*(2*32-1) = 252,
#   acc = ceil(a + log2(1 + 2^-a) + 1) with a = log2(512) + 4 - 1 - 1 (signed) = 11 -> 13,
#   MAC array = int(300 + 0.58*16*(128 + 252) + 1.1*16*(13 + 3*13)) = int(4741.6) = 4741
#   thresholds, TMEM = 16 <= 128 in LUTRAM: int(1.1*16*3*13*ceil(16/64)) = int(686.4) = 686
#   input buffer, NF = 16 > 1, SF = 16: SIMD*A * ceil(SF/4) = 64*4 = 256 -> unit 5683
#   input FIFO (io_fifo_depth 32, 64 bits): 2*ceil(log2 32) + ceil(32/32)*ceil(64/2) = 42 -> 5725
FC = net(linear_row(512, 256), linear_row(256, 10))
DESIGN = {"weight_bits": 2, "act_bits": 2, "mult_style": "lut", "ram_style": "block"}


def test_mvau_cycles_bram_lut_by_hand():
    res = fpga.simulate(DESIGN, FC, folding=[(16, 32), (1, 1)], input_bits=2)
    fc = layer(res, "l0")
    assert (fc["pe"], fc["simd"], fc["cycles"]) == (16, 32, 256)
    assert (fc["weight_bram18"], fc["unit_lut"], fc["fifo_lut"], fc["lut"]) == (29, 5683, 42, 5725)
    assert (fc["threshold_lut"], fc["threshold_bram18"]) == (686, 0)
    assert (fc["dsp"], fc["uram"]) == (0, 0)
    # classifier (no thresholds), MW=256, PE=SIMD=1: cycles 10*256 = 2560 = II; WMEM 2560 x 2 bits:
    # BRAM18 = ceil(2560/8192) = 1. acc: a = 8 + 4 - 2 = 10 -> 12. MAC: mult 1*1*4 = 4, adder 4*1 = 4:
    # int(300 + 0.58*8 + 1.1*12) = int(317.84) = 317; input buffer SF = 256: 2*ceil(256/4) = 128 -> 445.
    # Its FIFO holds what l0 emits while it is idle: ceil(words 256 * idle 9*256 / II 2560) = 231 deep,
    # 2 bits: 2*8 + ceil(231/32)*1 = 24; width converter 32 -> 2 bits: ceil(log2 16) + 2 = 6 -> 475
    cls = layer(res, "l1")
    assert (cls["cycles"], cls["weight_bram18"], cls["unit_lut"], cls["fifo_depth"], cls["fifo_lut"], cls["dwc_lut"],
            cls["lut"], cls["threshold_lut"]) == (2560, 1, 445, 231, 24, 6, 475, 0)
    # totals: LUT 5725 + 475, BRAM 29 + 1 + 4 (the DMA shell); LabelSelect: 10 cycles after the scores
    assert (res.metrics["lut"], res.metrics["bram18"], res.metrics["ii_cycles"]) == (6200, 34, 2560)
    assert res.metrics["ff"] == int(6200 * FF_PER_LUT)


def test_latency_is_one_frame_through_the_empty_pipeline_by_hand():
    # l0: one row of 256 cycles; its first output leaves 1 cycle after its input (the whole vector)
    # is in, when l1 starts. l1 needs l0's row, then the rest of its work: (NF - 1)*SF + 1 = 9*256 + 1
    # = 2305 -> max(1 + 2560, 256 + 2305) = 2561; LabelSelect + 10
    res = fpga.simulate(DESIGN, FC, folding=[(16, 32), (1, 1)], input_bits=2)
    assert [layer(res, n)["done_cycles"] for n in ("l0", "l1")] == [256, 2561]
    assert res.metrics["latency_cycles"] == 2571
    assert fpga.simulate(DESIGN, FC, folding=[(16, 32), (1, 1)], input_bits=2,
                         label_select=False).metrics["latency_cycles"] == 2561
    # FINN's critical-path estimate would be the sum, 256 + 2560 + 10; pipelining hides l0
    assert res.metrics["throughput_fps"] == pytest.approx(100e6 / 2560)


def test_mvau_dsp_multipliers_by_hand():
    # mult_style=dsp: DSP = PE*SIMD*ceil((W+A)/48) = 16*32*1 = 512, no multiplier LUTs:
    # int(300 + 0.58*16*252 + 915.2) = int(3553.76) = 3553, + thresholds 686 + input buffer 256 = 4495
    res = fpga.simulate({**DESIGN, "mult_style": "dsp"}, FC, folding=[(16, 32), (1, 1)], input_bits=2)
    assert (layer(res, "l0")["dsp"], layer(res, "l0")["unit_lut"]) == (512, 4495)
    # auto follows FINN's SpecializeLayers: an RTL MVU (DSP48: ceil(PE/4)*SIMD) only for 4..8-bit
    # weights and inputs without embedded thresholds, i.e. here the classifier: ceil(2/4)*4 = 4
    auto = fpga.simulate({**DESIGN, "mult_style": "auto", "weight_bits": 4, "act_bits": 4}, FC,
                         folding=[(16, 32), (2, 4)], input_bits=4)
    assert (layer(auto, "l0")["dsp"], layer(auto, "l1")["dsp"]) == (0, 4)
    low = fpga.simulate({**DESIGN, "mult_style": "auto"}, FC, folding=[(16, 32), (2, 4)], input_bits=2)
    assert layer(low, "l1")["dsp"] == 0


@pytest.mark.parametrize("mem_mode, ram_style, bram, uram, unit_lut", [
    # decoupled: one memstream WMEM=256 deep, 1024 bits wide (FINN's bram/uram_estimation)
    ("internal_decoupled", "block", 29, 0, 5683),
    ("internal_decoupled", "ultra", 0, 15, 5683),          # ceil(1024/72)*ceil(256/4096) = 15
    # embedded: 16 per-PE memories of 256 x 64 bits, each ceil(256/512)*ceil(64/36) = 2 RAMB18
    ("internal_embedded", "block", 32, 0, 5683),
    ("internal_embedded", "ultra", 0, 16, 5683),           # 16 * ceil(64/72) * 1
    # LUTRAM either way: c2 = 16*32*2*ceil(256/64) = 4096 LUTs
    ("internal_decoupled", "distributed", 0, 0, 5683 + 4096),
    ("internal_embedded", "distributed", 0, 0, 5683 + 4096),
])
def test_weight_memory_modes_by_hand(mem_mode, ram_style, bram, uram, unit_lut):
    res = fpga.simulate({**DESIGN, "mem_mode": mem_mode, "ram_style": ram_style}, FC, folding=[(16, 32), (1, 1)],
                        input_bits=2)
    fc = layer(res, "l0")
    assert (fc["weight_bram18"], fc["uram"], fc["unit_lut"]) == (bram, uram, unit_lut)


def test_deep_thresholds_go_to_bram_by_hand():
    # 64 -> 512 with PE=1: TMEM = 512 > 128, W1A2 (3 levels); acc for MW=64, W+A = 1+2 = 3:
    # a = 6 + 3 - 1 - 1 = 7 -> ceil(7 + log2(1 + 2^-7) + 1) = 9; 3 memories of 512 x 9 bits:
    # 3 * ceil(512/2048)*ceil(9/9) = 3 RAMB18
    wl = net(linear_row(64, 512), linear_row(512, 10))
    res = fpga.simulate({"weight_bits": 1, "act_bits": 2}, wl, folding=[(1, 64), (1, 512)], input_bits=2)
    assert layer(res, "l0")["threshold_bram18"] == 3
    shallow = fpga.simulate({"weight_bits": 1, "act_bits": 2}, wl, folding=[(4, 64), (1, 512)], input_bits=2)
    assert layer(shallow, "l0")["threshold_bram18"] == 0  # TMEM 128: LUTRAM


@pytest.mark.parametrize("omega, width, expected", [
    (20000, 1, 2),     # ceil(20000/16384)
    (10000, 2, 2),     # ceil(10000/8192)
    (5000, 3, 2),      # ceil(5000/4096) * ceil(3/4)
    (3000, 8, 2),      # ceil(3000/2048) * ceil(8/9)
    (1000, 12, 1),     # w <= 18: ceil(1000/1024) * ceil(12/18)
    (600, 32, 2),      # WMEM > 512: ceil(600/1024) * ceil(32/18)
    (256, 64, 2),      # otherwise: ceil(256/512) * ceil(64/36)
])
def test_weight_bram_branches(omega, width, expected):
    assert E.ramb18(omega, width) == expected


def test_clog2_is_exact():
    ns = [*range(1, 2000), *(2 ** k + d for k in range(11, 62) for d in (-1, 0, 1))]
    assert [E.clog2(n) for n in ns] == [(n - 1).bit_length() for n in ns]


# --- SWU, VVAU and pooling units ------------------------------------------------------------------
@pytest.mark.parametrize("depth, simd, abits, expected", [
    (128, 16, 8, 16),     # (36, 512): (3+1) * ceil(128/36)
    (1000, 4, 4, 4),      # (18, 1024): 4 * ceil(16/18)
    (3000, 8, 2, 16),     # (4, 4096): 4 * ceil(16/4)
    (20000, 2, 1, 16),    # (1, 16384): 4 * ceil(2/1) * ceil(20000/16384)
])
def test_swu_bram_aspect_ratios(depth, simd, abits, expected):
    assert E.swu_buffers(3 + 1, depth, simd * abits, 1) == (0, expected, 0)  # K + stride blocks, block RAM
    # distributed: blocks*width*ceil(depth/64) LUTs; ultra: blocks*ceil(width/64)*ceil(depth/4096) URAM
    assert E.swu_buffers(4, depth, simd * abits, 2) == (4 * simd * abits * -(-depth // 64), 0, 0)
    assert E.swu_buffers(4, depth, simd * abits, 3) == (0, 0, 4 * -(-simd * abits // 64) * -(-depth // 4096))


def test_conv_swu_by_hand():
    # 3x3 conv, 32x32x64 -> 30x30x64, then a 1x1 conv (no SWU). MVAU PE=16, SIMD=32:
    #   cycles = (64/16)*(576/32)*900 = 64800
    # SWU cycles at SIMD s = IFM_W*K*C/s + OFM_H*max(OFM_W*K*K*C/s, 1*IFM_W*C/s) = (64/s)*8196.
    # The window takes the MVAU's SIMD, 32 (it divides C and keeps pace: 16392 <= 64800).
    # SWU BRAM18 with 8-bit input: 256 bits x depth 32*64/32 = 64 -> (36, 512): (3+1)*ceil(256/36) = 32
    wl = net(conv_row(32, 32, 64, 64, 3), conv_row(30, 30, 64, 10, 1))
    res = fpga.simulate({"weight_bits": 1, "act_bits": 1}, wl, folding=[(16, 32), (10, 64)])
    c = layer(res, "l0")
    assert (c["cycles"], c["swu_simd"], c["swu_cycles"], c["swu_bram18"], c["swu_lut"]) == (64800, 32, 16392, 32, E.SWU_LUT_BASE)
    assert layer(res, "l1")["swu_cycles"] == 0
    assert res.metrics["ii_cycles"] == 64800
    # latency, 30 rows each: the MVAU starts when the window's first 3x3 window is out (9*64/32 = 18
    # cycles) and then ends a row every 2160 cycles (the window's come every 16392/30): 18 + 30*2160
    # = 64818. It emits its first output MW/SIMD = 18 cycles after it starts, when the 1x1 conv
    # starts; that conv's row r needs l0's row r plus 1 cycle (NF = 1): 64819; LabelSelect over the
    # 10 outputs: 64829 (FINN's critical-path sum would be 64800 + 16392 + 900 + 10)
    assert [c["done_cycles"], layer(res, "l1")["done_cycles"]] == [64818, 64819]
    assert res.metrics["latency_cycles"] == 64829
    # SIMD 36 (divides MW = 576, not C = 64): the common divisor 4 would take (64/4)*8196 = 131136
    # cycles > the MVAU's (64/16)*(576/36)*900 = 57600, so the window takes the smallest SIMD that
    # keeps pace: 8 gives 65568, 16 gives 32784
    slow = fpga.simulate({"weight_bits": 1, "act_bits": 1}, wl, folding=[(16, 36), (10, 64)])
    assert (layer(slow, "l0")["swu_simd"], slow.metrics["ii_cycles"]) == (16, 57600)


def test_depthwise_global_and_overlapping_pools_by_hand():
    wl = net(conv_row(16, 16, 32, 32, 3, pad=1, groups=32),  # VVAU: MH=32 channels, MW=9
             pool_row(16, 16, 32, 3, 2, 1),                  # Pool_Batch: 3x3/2 pad 1 -> 8x8
             pool_row(8, 8, 32, 8),                          # GlobalAccPool
             pool_row(8, 8, 32, 2, 2),                       # 2x2 StreamingMaxPool on 8x8 (shapes need not chain)
             linear_row(32, 10))
    res = fpga.simulate({"weight_bits": 1, "act_bits": 1}, wl, folding=[(8, 3), (4, 1), (16, 1), (1, 1), (1, 1)])
    dw, pool, gap, mp = (layer(res, f"l{i}") for i in range(4))
    # VVAU: (32/8)*(9/3)*256 = 3072; its SWU runs at PE=8: (32/8)*(18*3 + 16*max(16*9, 18)) = 9432
    assert (dw["unit"], dw["cycles"], dw["swu_simd"], dw["swu_cycles"]) == ("vvau", 3072, 8, 9432)
    # Pool_Batch: (32/4)*9*64 = 4608; SWU at 4: 18*3*8 + 8*max(8*9*8, 2*18*8) = 432 + 4608 = 5040
    assert (pool["unit"], pool["cycles"], pool["swu_cycles"]) == ("pool", 4608, 5040)
    # GlobalAccPool: 32/16 * 64 + 32/16 = 130; StreamingMaxPool: int(8*8*(1 + 1/4)) = 80
    assert (gap["unit"], gap["cycles"]) == ("globalaccpool", 130)
    assert (mp["unit"], mp["cycles"]) == ("maxpool", 80)


# FINN's hand folding of CNV-w1a1 (tests/end2end/test_end2end_bnn_pynq.py, fold_cnv_large).
CNV_FINN_FOLDING = [(16, 3), (32, 32), (1, 1), (16, 32), (16, 32), (1, 1), (4, 32), (1, 32), (1, 4), (1, 8), (5, 1)]


def test_cnv_finn_folding_cycles():
    res = fpga.simulate({"weight_bits": 1, "act_bits": 1, "clock_mhz": 100}, "cnv", folding=CNV_FINN_FOLDING)
    cycles = [r["cycles"] for r in res.layers]
    # conv1 (64/16)*(27/3)*900, conv2 (64/32)*(576/32)*784, pool 28*28*1.25, conv3 (128/16)*(576/32)*144,
    # conv4 (128/16)*(1152/32)*100, pool 10*10*1.25, conv5 (256/4)*(1152/32)*9, conv6 256*(2304/32),
    # fc1 512*(256/4), fc2 512*(512/8), fc3 (10/5)*512
    assert cycles == [32400, 28224, 980, 20736, 28800, 125, 20736, 18432, 32768, 32768, 1024]
    assert res.metrics["ii_cycles"] == 32768
    assert res.metrics["throughput_fps"] == pytest.approx(100e6 / 32768)


# --- SetFolding ------------------------------------------------------------------------------------
def test_setfolding_cnv_single_pass_by_hand():
    # W=1, target 30000 (FINN: SIMD up while W*SIMD <= 36 or until cycles < target, then PE):
    # conv1 MW=27: no SIMD meets 30000 (27 -> 57600), PE: 64/2*900 = 28800 -> (2, 27)
    # conv2 MW=576: width cap stops at 36; PE: 64/32*16*784 = 25088 -> (32, 36)
    # conv3: (16, 36) 18432; conv4: (16, 36) 25600; conv5: (4, 36) 18432
    # conv6 MW=2304: SIMD 24 gives 256*96 = 24576 < 30000 -> (1, 24); fc1 (1, 8); fc2 (1, 16); fc3 (1, 1)
    fold = fpga.set_folding({"weight_bits": 1, "act_bits": 1, "target_cycles": 30000}, "cnv")
    assert fold == [(2, 27), (32, 36), (1, 1), (16, 36), (16, 36), (1, 1), (4, 36), (1, 24), (1, 8), (1, 16), (1, 1)]


def test_setfolding_cnv_two_pass_relaxation():
    # target 1000 is out of reach: the first pass leaves conv2 at PE=64, SIMD=36: 16*784 = 12544
    # cycles, the bottleneck; the second pass balances every stage to < 12544, e.g. conv1
    # PE: 64/4*900 = 14400 >= 12544, 64/8*900 = 7200 -> (8, 27).
    design = {"weight_bits": 1, "act_bits": 1, "target_cycles": 1000}
    fold = fpga.set_folding(design, "cnv")
    assert fold[0] == (8, 27) and fold[1] == (64, 36)
    res = fpga.simulate(design, "cnv")
    assert res.metrics["ii_cycles"] == 12544
    assert all(r["cycles"] < 12544 or r["name"] == "conv2" for r in res.layers)


def test_setfolding_documented_rules_hold_on_cnv():
    # Every MVAU meets the (possibly relaxed) target or has PE fully unfolded; SIMD passes W*SIMD <= 36
    # only where that SIMD alone met the target. A missed target relaxes to the achieved bottleneck.
    model = fpga.Model("cnv")
    t = model.network.table
    for w in (1, 2, 4, 8):
        for target in (2 ** 13, 2 ** 15, 2 ** 18):
            res = model.simulate({"weight_bits": w, "act_bits": 2, "target_cycles": target})
            ii = res.metrics["ii_cycles"]
            effective = target if ii < target else ii
            for i, r in enumerate(res.layers):
                if r["unit"] == "mvau":
                    assert r["cycles"] < effective or r["pe"] == t[i, K.MH]
                    assert w * r["simd"] <= 36 or t[i, K.MH] * (t[i, K.MW] // r["simd"]) * t[i, K.VEC] < effective


def test_finn_setfolding_test_case():
    # FINN tests/fpgadataflow/test_set_folding.py: five 128x128 FC layers, INT4 weights, INT2
    # activations; target 20 cycles (1e7 fps at 200 MHz) must be met: SIMD stops at 8
    # (4*16 > 36), then PE 128 gives 1*16 = 16 < 20.
    wl = net(*[linear_row(128, 128) for _ in range(5)])
    res = fpga.simulate({"weight_bits": 4, "act_bits": 2, "target_cycles": 20}, wl, input_bits=2)
    assert [(r["pe"], r["simd"]) for r in res.layers] == [(128, 8)] * 5
    assert res.metrics["ii_cycles"] == 16


# --- monotonicity and feasibility ------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2 ** 31 - 1), workload=st.sampled_from(["cnv", "mobilenet_v1_0.25"]))
def test_more_pe_never_adds_cycles(seed, workload):
    model = fpga.Model(workload)
    t = model.network.table
    rng = np.random.default_rng(seed)
    pe = (rng.random(len(t)) * t[:, K.N_PE]).astype(np.int64)
    simd = (rng.random(len(t)) * t[:, K.N_SIMD]).astype(np.int64)
    layers = np.flatnonzero(pe < t[:, K.N_PE] - 1)
    i = int(rng.choice(layers))
    more = pe.copy()
    more[i] += int(rng.integers(1, t[i, K.N_PE] - pe[i]))
    bits = {"weight_bits": int(rng.integers(1, 9)), "act_bits": int(rng.integers(1, 9))}
    d = fpga.design_vector(fpga.check_design(bits))
    out = model.evaluate(np.stack([d, d]), np.stack([pe, more]), np.stack([simd, simd]))
    assert out["ii_cycles"][1] <= out["ii_cycles"][0]
    assert out["latency_cycles"][1] <= out["latency_cycles"][0]


def test_feasibility_uses_the_whole_device():
    # BNN-PYNQ's cnvW2A2 ships on a Pynq-Z1 using all 280 BRAM18 (its README): the model's 272 fit.
    fold = [(8, 3), (16, 16), (1, 1), (8, 16), (8, 16), (1, 1), (4, 8), (1, 8), (1, 2), (2, 2), (4, 1)]
    design = {"board": "pynq_z1", "weight_bits": 2, "act_bits": 2, "mult_style": "lut",
              "mem_mode": "internal_embedded"}
    res = fpga.simulate(design, "cnv_bnnpynq", folding=fold, label_select=False)
    assert res.metrics["bram18"] == 272 and res.metrics["feasible"] and res.metrics["violation"] == 0
    # FINN's DEFAULT_RES_LIMITS (80% BRAM = 224) would have rejected it
    assert res.metrics["bram18"] > 0.8 * fpga.BOARDS["pynq_z1"].bram18


def test_feasibility_edge_for_every_resource():
    # The kernel compares used*100 <= cap% * available in integers (caps are 100%): a board of
    # exactly `used` units is feasible, one unit less is not, and the violation is the overshoot;
    # except block RAM, whose overflow becomes LUTRAM (estimators.bram_spill).
    model = fpga.Model("cnv")
    d = fpga.design_vector(fpga.check_design({"board": "u250", "target_cycles": 4096, "ram_style": "ultra",
                                              "mult_style": "dsp"}))
    table, tab, need, acc, available, power, caps, opts = model._args
    assert (caps == 100).all()
    empty = np.zeros(0, dtype=np.int64)
    used = kernels.simulate_layers(*model._args, d, empty, empty, False)[0][K.M_LUT:K.M_DSP + 1, 0]
    assert (used > 0).all()
    for r in range(5):
        board = available.copy()
        board[d[K.D_BOARD].astype(int), r] = used[r]
        ok = kernels.simulate_layers(table, tab, need, acc, board, power, caps, opts, d, empty, empty, False)[0]
        board[d[K.D_BOARD].astype(int), r] -= 1
        bad = kernels.simulate_layers(table, tab, need, acc, board, power, caps, opts, d, empty, empty, False)[0]
        assert ok[K.M_FEAS, 0] == 1 and ok[K.M_SPILL, 0] == 0
        if r == K.R_BRAM:  # one BRAM18 short: it spills to LUTRAM (288 LUTs), still feasible on this board
            assert bad[K.M_FEAS, 0] == 1 and bad[K.M_BRAM, 0] == used[r] - 1 and bad[K.M_SPILL, 0] == 288
            assert bad[K.M_LUT, 0] == used[0] + 288 and bad[K.M_FF, 0] == ok[K.M_FF, 0]
            continue
        assert bad[K.M_FEAS, 0] == 0 and bad[K.M_OVER, 0] == r
        assert bad[K.M_VIOL, 0] == pytest.approx(1 / (used[r] - 1))


def test_power_and_energy():
    lo = fpga.simulate({"clock_mhz": 100}, "cnv").metrics
    hi = fpga.simulate({"clock_mhz": 200}, "cnv").metrics
    static = fpga.BOARDS["zcu104"].static_w
    assert hi["power_w"] - static == pytest.approx(2 * (lo["power_w"] - static))  # dynamic ~ f_clk
    assert hi["throughput_fps"] == pytest.approx(2 * lo["throughput_fps"])
    assert lo["energy_j"] == pytest.approx(lo["power_w"] / lo["throughput_fps"])
    assert lo["latency_s"] == pytest.approx(lo["latency_cycles"] / 100e6)


# --- bad input ------------------------------------------------------------------------------------
def test_bad_pe_and_simd_name_the_layer_and_allowed_values():
    with pytest.raises(DesignError, match=r"layer 'l0'.*PE=3 does not divide MH = output channels = 256.*1, 2, 4"):
        fpga.simulate({}, FC, folding=[(3, 32), (1, 1)])
    with pytest.raises(DesignError, match=r"layer 'l0'.*SIMD=5 does not divide MW = K\*K\*C_in = 512"):
        fpga.simulate({}, FC, folding=[(16, 5), (1, 1)])
    with pytest.raises(DesignError, match=r"layer 'pool1'.*PE=2.*StreamingMaxPool"):
        fpga.simulate({}, "cnv", folding={**{n: (1, 1) for n in load("cnv").layer_names}, "pool1": (2, 1)})
    with pytest.raises(DesignError, match="one \\(pe, simd\\) pair per layer"):
        fpga.simulate({}, FC, folding=[(1, 1)])
    # FINN's HLS MVAU needs SIMD >= MW/1024: conv6 (MW = 2304) starts at SIMD 3
    cnv = dict(zip(load("cnv").layer_names, CNV_FINN_FOLDING))
    with pytest.raises(DesignError, match=r"'conv6'.*SIMD=2 is below MW/1024 = 2.25.*allowed SIMD values: 3, 4, 6"):
        fpga.simulate({}, "cnv", folding={**cnv, "conv6": (1, 2)})
    assert fpga.Model("cnv").network.simd_choices[7][:2] == (3, 4)


@pytest.mark.parametrize("design, error, match", [
    ({"board": "de10"}, UnknownNameError, r"unknown board 'de10'; valid: pynq_z1, .*zcu104"),
    ({"weight_bits": 0}, DesignError, "weight_bits must be an integer bit width from 1 to 32, got 0"),
    ({"act_bits": 33}, DesignError, "act_bits must be an integer bit width from 1 to 32, got 33"),
    ({"clock_mhz": 0}, DesignError, "clock_mhz must be a positive frequency in MHz, got 0"),
    ({"clock_mhz": -5.0}, DesignError, "clock_mhz must be a positive frequency"),
    ({"ram_style": "bram"}, DesignError, "ram_style"),
    ({"mem_mode": "const"}, DesignError, "mem_mode.*internal_decoupled.*internal_embedded"),
])
def test_bad_design_values(design, error, match):
    with pytest.raises(error, match=match):
        fpga.simulate(design, "tfc")


@pytest.mark.parametrize("options, match", [
    ({"lut_coefficients": (1.0,)}, "lut_coefficients must be two finite numbers"),
    ({"lut_coefficients": (float("nan"), 1.0)}, "lut_coefficients"),
    ({"label_select": 1}, "label_select must be True or False"),
    ({"input_bits": 0}, "input_bits must be an integer from 1 to 32"),
])
def test_bad_model_options(options, match):
    with pytest.raises(DesignError, match=match):
        fpga.Model("tfc", **options)


def test_unmappable_layers_say_which_and_why():
    with pytest.raises(WorkloadError, match=r"layer 'encoder.0.qk'.*matmul.*no weights"):
        fpga.simulate({}, "bert_base_128")
    grouped = net(conv_row(8, 8, 16, 16, 3, pad=1, groups=4))
    with pytest.raises(WorkloadError, match=r"layer 'l0'.*grouped convolution with 4 groups"):
        fpga.simulate({}, grouped)
    with pytest.raises(WorkloadError, match=r"layer 'l1'.*matmul"):
        fpga.simulate({}, net(linear_row(8, 8), matmul_row(4, 4, 4)))


def test_bram_overflow_spills_to_lutram_by_hand():
    # TFC W1A1, BNN-PYNQ-style per-PE weight memories in BRAM, folding 16:49 8:8 8:8 10:8. By hand
    # (estimators.ramb18): fc1 16 PEs x (64 x 49 bit: 2 RAMB18) = 32, fc2 and fc3 8 x (64 x 8: 1) = 8
    # each, fc4 10 x (8 x 8: 1) = 10, DMA shell 4: 62 BRAM18; thresholds (4-8 deep) are LUTRAM and
    # the FIFOs (<= 32 deep) SRLs. On a board with 50 BRAM18 the other 12 spill: 12 x 18,432 bits /
    # 64 bits per LUT = 3,456 LUTs, no FFs; with one LUT less than that total, LUT overflows.
    model = fpga.Model("tfc", input_bits=1)
    design = {"board": "pynq_z1", "weight_bits": 1, "act_bits": 1, "mem_mode": "internal_embedded",
              "ram_style": "block"}
    folding = [(16, 49), (8, 8), (8, 8), (10, 8)]
    res = model.simulate(design, folding)
    assert [layer["bram18"] for layer in res.layers] == [32, 8, 8, 10]
    assert res.metrics["bram18"] == 62 and res.metrics["n_spill_lut"] == 0
    table, tab, need, acc, available, power, caps, opts = model._args
    d = fpga.design_vector(fpga.check_design(design))
    pe, simd = model.check_folding(folding)
    board = available.copy()
    board[int(d[K.D_BOARD]), K.R_BRAM] = 50
    out = kernels.simulate_layers(table, tab, need, acc, board, power, caps, opts, d, pe, simd, True)[0][:, 0]
    assert out[K.M_BRAM] == 50 and out[K.M_SPILL] == 3_456
    assert out[K.M_LUT] == res.metrics["lut"] + 3_456 and out[K.M_FF] == res.metrics["ff"]
    assert out[K.M_FEAS] == 1
    board[int(d[K.D_BOARD]), 0] = res.metrics["lut"] + 3_455
    out = kernels.simulate_layers(table, tab, need, acc, board, power, caps, opts, d, pe, simd, True)[0][:, 0]
    assert out[K.M_FEAS] == 0 and out[K.M_OVER] == 0 and out[K.M_BRAM] == 50
