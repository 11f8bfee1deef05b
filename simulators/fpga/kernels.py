"""numba kernels of the FINN-style dataflow model: folding, per-stage cycles and resources, totals.

Formulas follow FINN (Xilinx/finn, src/finn/custom_op/fpgadataflow): MVAU `get_exp_cycles`,
`bram_estimation`, `uram_estimation`, and the HLS `lut_estimation` / `dsp_estimation` (FINN-R,
Blott et al., TRETS 2018); ConvolutionInputGenerator (2-D) `get_exp_cycles` / `bram_estimation`;
SetFolding (transformation/fpgadataflow/set_folding.py). Everything is integer except the LUT
formula, which is evaluated in float64 in FINN's order and truncated like FINN's `int()`.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

# Unit kinds (network.UNIT_NAMES).
MVAU, VVAU, MAXPOOL, GAP, POOL = range(5)

# Network table columns: unit kind; PE dimension MH (output channels), SIMD dimension MW (K*K*C_in),
# input vectors per frame; fixed cycles (max-pool); depthwise SWU flag; thresholds present;
# SWU present and its padded input, kernel, stride, output and channels; number of PE, SIMD and
# SWU-SIMD choices (the divisors in the folding tables).
(KIND, MH, MW, VEC, FIXED, DW, HAS_ACT, SWU, IFM_H, IFM_W, KH, KW, SH, SW, OFM_H, OFM_W, CH,
 N_PE, N_SIMD, N_SWU) = range(20)
N_COLS = 20

# Folding tables, (n_layers, N_TABS, max divisors): the allowed PE (divisors of MH) and MH/PE; SIMD
# and MW/SIMD; SWU SIMD (divisors of C), C/SIMD and the SWU's cycles.
PE_DIV, PE_Q, SIMD_DIV, SIMD_Q, SWU_DIV, SWU_Q, SWU_CYC = range(7)
N_TABS = 7

# Design vector columns (PARAMETERS order; categoricals as codes).
DESIGN_FIELDS = ("board", "target_cycles", "weight_bits", "act_bits", "clock_mhz", "mult_style", "ram_style")
D_BOARD, D_TARGET, D_WBITS, D_ABITS, D_CLOCK, D_MULT, D_RAM = range(len(DESIGN_FIELDS))
MULT_STYLES = ("auto", "lut", "dsp")
RAM_STYLES = ("auto", "block", "distributed", "ultra")

# Options: first-layer input bits, SetFolding's max weight-stream bits per PE, FF per LUT, and the
# toggle rate relative to the one the power coefficients are given at.
O_INPUT_BITS, O_WWIDTH_MAX, O_FF_PER_LUT, O_TOGGLE = range(4)

# Per-board power: static W, then dynamic uW per MHz per LUT, FF, BRAM18, URAM, DSP (boards.py).
P_STATIC = 0

# Metrics per design, rows of the (N_METRICS, n) output: throughput and latency, cycles, resources,
# utilisation of the device per resource and the largest, power and energy per frame, total
# relative overshoot of the budgets, feasibility (1/0) and the resource that overflowed most (-1).
METRICS = ("throughput_fps", "latency_s", "ii_cycles", "latency_cycles", "lut", "ff", "bram18", "uram", "dsp",
           "lut_util", "ff_util", "bram18_util", "uram_util", "dsp_util", "resource_util", "power_w", "energy_j",
           "violation", "feasible", "overflow")
(M_FPS, M_LAT_S, M_II, M_LAT, M_LUT, M_FF, M_BRAM, M_URAM, M_DSP, M_UTIL, _, _, _, _, M_MAX_UTIL, M_POWER,
 M_ENERGY, M_VIOL, M_FEAS, M_OVER) = range(len(METRICS))
N_METRICS = len(METRICS)

# Per-layer detail: the compute unit, then its SWU (zeros when it has none).
LAYER_FIELDS = ("pe", "simd", "swu_simd", "cycles", "lut", "ff", "bram18", "uram", "dsp",
                "swu_cycles", "swu_lut", "swu_ff", "swu_bram18")
N_LAYER = len(LAYER_FIELDS)

SWU_LUT = 300  # finn ConvolutionInputGenerator_hls.lut_estimation: 300 + RAM LUTs (0 for block RAM)


@njit(cache=True, inline="always")
def _cdiv(a, b):
    return -(-a // b)


def swu_cycles(ifm_w, kh, kw, stride_w, ofm_h, ofm_w, c_over_simd):
    """IFM_W*K_H*C/SIMD + OFM_H*max(OFM_W*K_W*K_H*C/SIMD, stride_w*IFM_W*C/SIMD) (Python, tabulated
    once per workload in network.py)."""
    c = c_over_simd
    return ifm_w * kh * c + ofm_h * max(ofm_w * kw * kh * c, stride_w * ifm_w * c)


@njit(cache=True)
def unit_cycles(t, q_pe, q_simd):
    """Cycles per frame of a compute unit from MH/PE and MW/SIMD (MVAU, VVAU and Pool_Batch share
    (MH/PE)*(MW/SIMD)*vectors; GlobalAccPool is C/PE*H*W + C/PE; StreamingMaxPool is fixed)."""
    kind = t[KIND]
    if kind == MAXPOOL:
        return t[FIXED]
    if kind == GAP:
        return q_pe * (t[VEC] + 1)
    return q_pe * q_simd * t[VEC]


@njit(cache=True)
def weight_bram18(omega, width):
    """RAMB18s for a weight memory of depth omega and width bits (FINN-R, SDP mode)."""
    if width == 1:
        return _cdiv(omega, 16384)
    if width == 2:
        return _cdiv(omega, 8192)
    if width <= 4:
        return _cdiv(omega, 4096) * _cdiv(width, 4)
    if width <= 9:
        return _cdiv(omega, 2048) * _cdiv(width, 9)
    if width <= 18 or omega > 512:
        return _cdiv(omega, 1024) * _cdiv(width, 18)
    return _cdiv(omega, 512) * _cdiv(width, 36)


@njit(cache=True)
def swu_bram18(t, simd, depth, abits):
    """(K + stride) line buffers of depth IFM_W*C/SIMD in the best-fitting RAMB18 aspect ratio
    (width, depth): (36, 512), (18, 1024), (9, 2048), (4, 4096), (2, 8192), else (1, 16384)."""
    bits = simd * abits
    if depth <= 512:
        per_line = _cdiv(bits, 36)
    elif depth <= 1024:
        per_line = _cdiv(bits, 18)
    elif depth <= 2048:
        per_line = _cdiv(bits, 9)
    elif depth <= 4096:
        per_line = _cdiv(bits, 4)
    elif depth <= 8192:
        per_line = _cdiv(bits, 2)
    else:
        per_line = bits * _cdiv(depth, 16384)
    return (t[KH] + t[SH]) * per_line


@njit(cache=True)
def mvau_resources(t, pe, simd, wmem, tmem, wbits, ain, aout, acc, mult_style, ram_style):
    """(LUT, BRAM18, URAM, DSP) of an MVAU/VVAU: weight memory wmem deep, threshold memory tmem
    deep, W-bit weights, ain-bit inputs, aout-bit thresholds (LUTRAM), an acc-bit accumulator."""
    width = pe * simd * wbits
    wa = wbits + ain
    use_dsp = mult_style == 2 or (mult_style == 0 and wa > 8)
    mult = 0 if use_dsp else simd * (2 * _cdiv(wa, 6) - 1) * wa
    adder = wa * (2 * simd - 1)
    thr = 0.0
    comp = 0.0
    if t[HAS_ACT]:
        levels = float((1 << aout) - 1)
        thr = levels * acc * _cdiv(tmem, 64)
        comp = levels * acc
    lutram = ram_style == 2 or (ram_style == 0 and wmem <= 128)
    c2 = pe * simd * wbits * _cdiv(wmem, 64) if lutram else 0
    lut = int(300.0 + 1.1 * (pe * (float(mult + adder) + acc + thr + comp)) + c2)
    bram = weight_bram18(wmem, width) if (ram_style == 1 or (ram_style == 0 and not lutram)) else 0
    uram = _cdiv(width, 72) * _cdiv(wmem, 4096) if ram_style == 3 else 0
    dsp = pe * simd * _cdiv(wa, 48) if use_dsp else 0
    return lut, bram, uram, dsp


@njit(cache=True, inline="always")
def _first(q, n, base, target):
    """FINN's optimize_attribute_val over a decreasing cycles table q*base: the first index that
    beats the target, else the last."""
    for j in range(n):
        if q[j] * base < target:
            return j
    return n - 1


@njit(cache=True)
def _max_cycles(net, tab, fold):
    m = 0
    for i in range(net.shape[0]):
        m = max(m, unit_cycles(net[i], tab[i, PE_Q, fold[0, i]], tab[i, SIMD_Q, fold[1, i]]))
        if net[i, SWU]:
            m = max(m, tab[i, SWU_CYC, fold[2, i]])
    return m


@njit(cache=True)
def set_folding(net, tab, target, wbits, wwidth_max, fold):
    """FINN SetFolding with two-pass relaxation. fold rows: indices of PE, SIMD, SWU SIMD."""
    for _ in range(2):
        for i in range(net.shape[0]):
            t = net[i]
            kind = t[KIND]
            a, b = 0, 0
            if kind == MVAU:  # SIMD first while W*SIMD <= wwidth_max, then PE
                for j in range(t[N_SIMD]):
                    prev = b
                    b = j
                    if t[MH] * tab[i, SIMD_Q, j] * t[VEC] < target:
                        break
                    if wbits * tab[i, SIMD_DIV, j] > wwidth_max:
                        b = prev
                        break
                a = _first(tab[i, PE_Q], t[N_PE], tab[i, SIMD_Q, b] * t[VEC], target)
            elif kind == VVAU:  # PE first; SIMD only once PE is exhausted
                a = _first(tab[i, PE_Q], t[N_PE], t[MW] * t[VEC], target)
                if a == t[N_PE] - 1 and t[MW] * t[VEC] > target:
                    b = _first(tab[i, SIMD_Q], t[N_SIMD], t[VEC], target)
            elif kind == POOL:
                a = _first(tab[i, PE_Q], t[N_PE], t[MW] * t[VEC], target)
            elif kind == GAP:
                a = _first(tab[i, PE_Q], t[N_PE], t[VEC] + 1, target)
            fold[0, i] = a
            fold[1, i] = b
            fold[2, i] = 0
            if t[SWU]:  # a depthwise SWU takes its unit's PE (same divisor list); a dense one is folded alone
                fold[2, i] = a if t[DW] else _first(tab[i, SWU_CYC], t[N_SWU], 1, target)
        slowest = _max_cycles(net, tab, fold)
        if slowest <= target:
            break
        target = float(slowest)  # second pass: balance the pipeline to the achievable bottleneck


@njit(cache=True)
def explicit_folding(net, tab, pe, simd, fold):
    """PE/SIMD indices per layer; a negative index keeps the choice already in `fold` (SetFolding's).
    A depthwise SWU runs at its unit's PE (FINN requires it); a dense SWU takes the smallest SIMD
    that keeps pace with its unit (FINN's per-node rule with the unit's cycles as the target; FINN
    inserts width converters between the two)."""
    for i in range(net.shape[0]):
        t = net[i]
        if pe[i] >= 0:
            fold[0, i] = pe[i]
        if simd[i] >= 0:
            fold[1, i] = simd[i]
        fold[2, i] = 0
        if t[SWU]:
            if t[DW]:
                fold[2, i] = fold[0, i]
            else:
                cyc = unit_cycles(t, tab[i, PE_Q, fold[0, i]], tab[i, SIMD_Q, fold[1, i]])
                fold[2, i] = _first(tab[i, SWU_CYC], t[N_SWU], 1, cyc + 1)


@njit(cache=True)
def evaluate(net, tab, acc, fold, design, available, power, caps_pct, opts, out, d, detail):
    """Metrics of one folded design into column d of `out` (METRICS rows); per-layer rows into
    `detail` (LAYER_FIELDS) when it has n_layers rows."""
    wbits = int(design[D_WBITS])
    abits = int(design[D_ABITS])
    mult_style = int(design[D_MULT])
    ram_style = int(design[D_RAM])
    input_bits = int(opts[O_INPUT_BITS])
    ff_per_lut = opts[O_FF_PER_LUT]
    swu_ff = int(ff_per_lut * SWU_LUT)
    keep = detail.shape[0] == net.shape[0]
    ii, lat = 0, 0
    u_lut, u_ff, u_bram, u_uram, u_dsp = 0, 0, 0, 0, 0
    for i in range(net.shape[0]):
        t = net[i]
        a, b, c = fold[0, i], fold[1, i], fold[2, i]
        pe, q_pe, simd, q_simd = tab[i, PE_DIV, a], tab[i, PE_Q, a], tab[i, SIMD_DIV, b], tab[i, SIMD_Q, b]
        ain = input_bits if i == 0 else abits
        cyc = unit_cycles(t, q_pe, q_simd)
        lut, bram, uram, dsp = 0, 0, 0, 0
        if t[KIND] == MVAU or t[KIND] == VVAU:
            lut, bram, uram, dsp = mvau_resources(t, pe, simd, q_pe * q_simd, q_pe, wbits, ain, abits,
                                                  acc[i, wbits + ain], mult_style, ram_style)
        ff = int(ff_per_lut * lut)
        ssimd, scyc, slut, sff, sbram = 0, 0, 0, 0, 0
        if t[SWU]:
            ssimd = tab[i, SWU_DIV, c]
            scyc = tab[i, SWU_CYC, c]
            slut = SWU_LUT
            sff = swu_ff
            sbram = swu_bram18(t, ssimd, t[IFM_W] * tab[i, SWU_Q, c], ain)
        ii = max(ii, cyc, scyc)
        lat += cyc + scyc
        u_lut += lut + slut
        u_ff += ff + sff
        u_bram += bram + sbram
        u_uram += uram
        u_dsp += dsp
        if keep:
            row = detail[i]
            row[0], row[1], row[2], row[3], row[4], row[5], row[6] = pe, simd, ssimd, cyc, lut, ff, bram
            row[7], row[8], row[9], row[10], row[11], row[12] = uram, dsp, scyc, slut, sff, sbram
    mhz = design[D_CLOCK]
    used = (u_lut, u_ff, u_bram, u_uram, u_dsp)
    feasible, over, worst, violation, max_util, dyn = 1.0, -1, 0.0, 0.0, 0.0, 0.0
    for r in range(5):
        out[M_LUT + r, d] = used[r]
        util = used[r] / max(available[r], 1)
        out[M_UTIL + r, d] = util
        max_util = max(max_util, util)
        dyn += used[r] * power[1 + r]
        budget = caps_pct[r] * available[r]  # percent units: an exact integer comparison at the edge
        if used[r] * 100 > budget:
            feasible = 0.0
            o = (used[r] * 100 - budget) / max(budget, 100)  # relative overshoot (per unit when there is no budget)
            violation += o
            if o > worst:
                worst, over = o, r
    watts = power[P_STATIC] + dyn * mhz * opts[O_TOGGLE] * 1e-6
    fps = mhz * 1e6 / ii
    out[M_FPS, d], out[M_LAT_S, d], out[M_II, d], out[M_LAT, d] = fps, lat / (mhz * 1e6), ii, lat
    out[M_MAX_UTIL, d], out[M_POWER, d], out[M_ENERGY, d] = max_util, watts, watts / fps
    out[M_VIOL, d], out[M_FEAS, d], out[M_OVER, d] = violation, feasible, over


@njit(cache=True)
def _one(net, tab, acc, available, power, caps_pct, opts, design, pe, simd, explicit, fold, out, d, detail):
    if not explicit or pe.min() < 0 or simd.min() < 0:
        set_folding(net, tab, design[D_TARGET], int(design[D_WBITS]), int(opts[O_WWIDTH_MAX]), fold)
    if explicit:
        explicit_folding(net, tab, pe, simd, fold)
    board = int(design[D_BOARD])
    evaluate(net, tab, acc, fold, design, available[board], power[board], caps_pct, opts, out, d, detail)


@njit(cache=True)
def simulate_layers(net, tab, acc, available, power, caps_pct, opts, design, pe, simd, explicit):
    """One design: (metrics (N_METRICS, 1), per-layer detail (n_layers, N_LAYER))."""
    fold = np.empty((3, net.shape[0]), dtype=np.int64)
    out = np.empty((N_METRICS, 1))
    detail = np.zeros((net.shape[0], N_LAYER))
    _one(net, tab, acc, available, power, caps_pct, opts, design, pe, simd, explicit, fold, out, 0, detail)
    return out, detail


@njit(cache=True)
def _designs_into(lo, hi, net, tab, acc, available, power, caps_pct, opts, designs, pe, simd, out):
    """Metrics of designs lo..hi-1 into out[:, lo:hi] (explicit folding when pe has rows)."""
    fold = np.empty((3, net.shape[0]), dtype=np.int64)
    no_detail = np.zeros((0, N_LAYER))
    no_fold = np.zeros(0, dtype=np.int64)
    for d in range(lo, hi):
        if pe.shape[0] > 0:
            _one(net, tab, acc, available, power, caps_pct, opts, designs[d], pe[d], simd[d], True, fold, out, d,
                 no_detail)
        else:
            _one(net, tab, acc, available, power, caps_pct, opts, designs[d], no_fold, no_fold, False, fold, out,
                 d, no_detail)


@njit(cache=True, parallel=True)
def simulate_batch(net, tab, acc, available, power, caps_pct, opts, designs, pe, simd, n_chunks):
    """Metrics of n designs: (N_METRICS, n), prange over n_chunks chunks of designs. `pe`/`simd`
    hold (n, n_layers) choice indices for explicit folding, or are (0, n_layers) to run SetFolding
    on each design's target_cycles."""
    n = designs.shape[0]
    out = np.empty((N_METRICS, n))
    n_chunks = max(1, min(n, n_chunks))
    for k in prange(n_chunks):
        _designs_into(k * n // n_chunks, (k + 1) * n // n_chunks, net, tab, acc, available, power, caps_pct, opts,
                      designs, pe, simd, out)
    return out


@njit(cache=True)
def simulate_serial(net, tab, acc, available, power, caps_pct, opts, designs, pe, simd):
    """`simulate_batch` on one thread, for batches too small to pay for the thread-pool launch."""
    out = np.empty((N_METRICS, designs.shape[0]))
    _designs_into(0, designs.shape[0], net, tab, acc, available, power, caps_pct, opts, designs, pe, simd, out)
    return out
