"""numba kernels of the FINN-style dataflow model: one folded design -> cycles, resources, latency,
feasibility and power; batch (prange) and serial drivers. Per-unit formulas: estimators.py; folding:
folding.py; array layouts: layout.py.

A layer is its compute unit (MVAU, VVAU, StreamingMaxPool, GlobalAccPool, Pool_Batch), preceded by
a sliding-window unit when it convolves, by a width converter wherever the stream widths differ
(FINN InsertDWC) and by a FIFO where its MVAU would otherwise stall the producer (FINN's FIFO
sizing); a LabelSelect follows the classifier, a depth-32 FIFO precedes the first unit (FINN's
io_fifo_depth) and the DMA shell adds its buffers. Throughput is f_clk / II with II the slowest
stage; latency is one frame through an empty pipeline, row by row (`_latency`).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from simulators.fpga import estimators as E
from simulators.fpga.folding import explicit_folding, set_folding, unit_cycles
from simulators.fpga.layout import (CH, DW, D_ABITS, D_BOARD, D_CLOCK, D_MEM, D_MULT, D_RAM, D_TARGET, D_WBITS,
    GAP, HAS_ACT, IFM_W, KH, KIND, KW, L_BRAM, L_CYC, L_DONE, L_DSP, L_DWC_LUT, L_FF, L_FIFO_BRAM, L_FIFO_DEPTH,
    L_FIFO_LUT, L_LUT, L_PE, L_SIMD, L_SWU_BRAM, L_SWU_CYC, L_SWU_LUT, L_SWU_SIMD, L_T_BRAM, L_T_LUT, L_UNIT_LUT,
    L_URAM, L_W_BRAM, MAXPOOL, MVAU, M_ENERGY, M_FEAS, M_FPS, M_II, M_LAT, M_LAT_S, M_LUT, M_MAX_UTIL, M_OVER, M_POWER,
    M_SPILL, M_UTIL, M_VIOL, NEED_SWU, NEED_UNIT, N_LAYER, N_METRICS, N_PE, OUT_W, O_FF_PER_LUT, O_INPUT_BITS,
    O_LABEL_SELECT, O_LANE_LUT, O_SWU_LUT, O_TOGGLE, O_WWIDTH_MAX, PE_DIV, PE_Q, P_STATIC, R_BRAM, ROWS, SH,
    SIMD_DIV, SIMD_Q, SWU, SWU_CYC, SWU_DIV, SWU_Q, VEC, VVAU)

# The DMA shell's BRAM: two RAMB36 of HLS m_axi read/write buffers (BNN-PYNQ's LFC: its 6 RAMB36 are
# these two plus the two 1024x64 stream FIFOs of top.cpp, 2 RAMB36 each).
SHELL_BRAM18 = 4
# FINN DeriveFIFOSizes(io_fifo_depth=32): the FIFO in front of the first unit (derive_characteristic.py).
IO_FIFO_DEPTH = 32


@njit(cache=True)
def _impl(t, mult_style, wbits, ain):
    """MAC implementation: 0 HLS LUT multipliers, 1 HLS DSP multipliers, 2 RTL MVU. mult_style auto
    follows FINN's SpecializeLayers (specialize_layers.py _determine_impl_style, _mvu_rtl_possible):
    RTL for an MVAU with 4..8-bit weights and inputs and no embedded thresholds, else HLS, which
    FINN's estimate counts as LUT multipliers."""
    if mult_style == 1:
        return 0
    if mult_style == 2:
        return 1
    if t[KIND] == MVAU and not t[HAS_ACT] and 4 <= wbits <= 8 and 4 <= ain <= 8:
        return 2
    return 0


@njit(cache=True)
def _out_width(t, pe, abits, ain, acc):
    """Bits per cycle leaving a unit: PE activations (or accumulators for the classifier), all
    channels of a max-pool, PE sums of a global pool."""
    kind = t[KIND]
    if kind == MAXPOOL:
        return t[CH] * ain
    if kind == MVAU or kind == VVAU:
        return pe * (abits if t[HAS_ACT] else acc)
    if kind == GAP:
        return pe * (ain + E.clog2(t[VEC]))
    return pe * ain


@njit(cache=True)
def _in_width(t, pe, simd, swu_simd, ain):
    """Bits per cycle entering a layer's first unit (its sliding window, if any)."""
    if t[SWU]:
        return swu_simd * ain
    kind = t[KIND]
    if kind == MVAU:
        return simd * ain
    if kind == MAXPOOL:
        return t[CH] * ain
    return pe * ain


@njit(cache=True)
def _stage(prev, cur, p_rows, start, rows, cycles, tail, first, need, off, window_cycles, window_tail, window_off):
    """Finish time of each output row of one layer into `cur`; returns when the layer emits its
    first output (the next layer's start). The layer starts at `start`, when its producer emitted
    its first output. A row ends after the unit's own per-row work (cycles/rows) following its
    previous row, and `tail` cycles after the last input row it needs finished (`need[off + r]`,
    network.needs). The first output leaves `first` cycles after the inputs of the first row are
    in. With `window_cycles` > 0 a sliding window sits in front (same rows): its rows end the same
    way from the producer's rows (`need[window_off + r]`, `window_tail`), its first window leaves
    `window_tail` cycles after its first rows are in, which is when the unit starts, and the unit's
    row r needs the window's."""
    c = cycles / rows
    if window_cycles > 0:
        cw = window_cycles / rows
        ready = max(start, prev[need[window_off]]) if p_rows > 0 else start
        unit_start = ready + window_tail
        # fin[r] = max(fin[r-1] + c, dep[r]) as a running max of dep[k] - (k+1)*c: a max-only chain
        u_w, u = start, unit_start
        for r in range(rows):
            k = r + 1.0
            if p_rows > 0:
                u_w = max(u_w, prev[need[window_off + r]] + window_tail - k * cw)
            u = max(u, u_w + k * cw + tail - k * c)
            cur[r] = u + k * c
        return unit_start + first
    u = start
    for r in range(rows):
        k = r + 1.0
        if p_rows > 0:
            u = max(u, prev[need[off + r]] + tail - k * c)
        cur[r] = u + k * c
    return (max(start, prev[need[off]]) if p_rows > 0 else start) + first


@njit(cache=True)
def _latency(net, tab, need, fold, cyc, scyc, label_cycles, buf, detail, keep):
    """Cycles for one frame to cross the empty pipeline: each layer's rows (its output feature-map
    rows; one for a fully connected layer) finish as `_stage` says, each layer starting when its
    producer emits its first output (the pipeline fill). A unit's tail after its last input is the
    rest of that output's work: (MH/PE - 1)*(MW/SIMD) for an MVAU, which reads its input during
    the first of its MH/PE neuron folds; one output row for a max-pool; MH/PE for a global pool; a
    cycle otherwise. A window's tail is one K x K window; an MVAU behind a window emits its first
    output MW/SIMD cycles after the window's first. A LabelSelect needs every score, then takes
    its own cycles."""
    prev, cur = buf[0], buf[1]
    p_rows, start = 0, 0.0
    for i in range(net.shape[0]):
        t = net[i]
        kind = t[KIND]
        q_pe = tab[i, PE_Q, fold[0, i]]
        q_simd = tab[i, SIMD_Q, fold[1, i]]
        first = 1
        if kind == MVAU:
            tail = (q_pe - 1) * q_simd + 1
            if t[SWU]:
                first = q_simd
        elif kind == MAXPOOL:
            tail = t[OUT_W]
        elif kind == GAP:
            tail = q_pe
        else:
            tail = 1
        start = _stage(prev, cur, p_rows, start, t[ROWS], cyc[i], tail, first, need, t[NEED_UNIT], scyc[i],
                       t[KH] * t[KW] * tab[i, SWU_Q, fold[2, i]], t[NEED_SWU])
        prev, cur = cur, prev
        p_rows = t[ROWS]
        if keep:
            detail[i, L_DONE] = prev[p_rows - 1]
    return prev[p_rows - 1] + label_cycles


@njit(cache=True)
def evaluate(net, tab, need, acc, fold, design, available, power, caps_pct, opts, out, d, detail, buf):
    """Metrics of one folded design into column d of `out` (METRICS rows); per-layer rows into
    `detail` (LAYER_FIELDS) when it has n_layers rows. `buf`: `_scratch(net)`."""
    n_layers = net.shape[0]
    wbits = int(design[D_WBITS])
    abits = int(design[D_ABITS])
    mult_style = int(design[D_MULT])
    ram_style = int(design[D_RAM])
    embedded = int(design[D_MEM]) == 1
    input_bits = int(opts[O_INPUT_BITS])
    keep = detail.shape[0] == n_layers
    # pass 1: cycles and the initiation interval
    cyc, scyc = buf[2], buf[3]
    ii = 0
    for i in range(n_layers):
        t = net[i]
        c = unit_cycles(t, tab[i, PE_Q, fold[0, i]], tab[i, SIMD_Q, fold[1, i]])
        cyc[i] = c
        scyc[i] = tab[i, SWU_CYC, fold[2, i]] if t[SWU] else 0
        ii = max(ii, c, int(scyc[i]))
    last = net[n_layers - 1]
    label_cycles = 0
    if opts[O_LABEL_SELECT] > 0 and (last[KIND] == MVAU or last[KIND] == VVAU):
        # labelselect.py get_exp_cycles = Labels/PE, PE folded like SetFolding's pe_ops: the smallest
        # divisor of the labels that keeps pace with the slowest stage
        for j in range(last[N_PE]):
            if tab[n_layers - 1, PE_Q, j] <= ii:
                label_cycles = tab[n_layers - 1, PE_Q, j]
                break
    # pass 2: resources, with the width converters and FIFOs on every edge
    u_lut, u_bram, u_uram, u_dsp = 0, SHELL_BRAM18, 0, 0
    prev_width = 0
    for i in range(n_layers):
        t = net[i]
        kind = t[KIND]
        a, b, s = fold[0, i], fold[1, i], fold[2, i]
        pe, q_pe, simd, q_simd = tab[i, PE_DIV, a], tab[i, PE_Q, a], tab[i, SIMD_DIV, b], tab[i, SIMD_Q, b]
        swu_simd = tab[i, SWU_DIV, s] if t[SWU] else 0
        ain = input_bits if i == 0 else abits
        acc_bits = acc[i, wbits + ain]
        unit_lut, t_lut, w_bram, t_bram, uram, dsp = 0, 0, 0, 0, 0, 0
        fifo = 0
        if kind == MVAU or kind == VVAU:
            levels = (1 << abits) - 1 if t[HAS_ACT] else 0
            unit_lut, dsp = E.mac_array(pe, simd, wbits, ain, acc_bits, levels, _impl(t, mult_style, wbits, ain),
                                        opts[O_LANE_LUT])
            wl, w_bram, uram = E.weight_memory(pe, simd, wbits, q_pe * q_simd, ram_style, embedded)
            unit_lut += wl
            if levels:
                t_lut, t_bram = E.threshold_memory(pe, q_pe, levels, acc_bits)
                unit_lut += t_lut
            if kind == MVAU:
                unit_lut += E.input_buffer_luts(q_simd, q_pe, simd * ain)
                fifo = E.fifo_depth(t[VEC] * q_simd, (q_pe - 1) * q_simd, ii)
        elif kind == MAXPOOL:
            unit_lut = E.maxpool_luts(t[CH], ain, t[OUT_W])
        swu_lut, swu_bram, swu_uram = 0, 0, 0
        if t[SWU]:
            depth = t[IFM_W] * tab[i, SWU_Q, s]
            sl, swu_bram, swu_uram = E.swu_buffers(t[KH] + t[SH], depth, swu_simd * ain, ram_style)
            swu_lut = int(opts[O_SWU_LUT]) + sl
        in_width = _in_width(t, pe, simd, swu_simd, ain)
        dwc = E.dwc_luts(prev_width, in_width) if i > 0 else 0
        if t[SWU] and not t[DW]:
            dwc += E.dwc_luts(swu_simd * ain, simd * ain)
        fifo_lut, fifo_bram = E.fifo_cost(fifo, simd * ain)
        if i == 0:
            il, ib = E.fifo_cost(IO_FIFO_DEPTH, in_width)
            fifo_lut += il
            fifo_bram += ib
        prev_width = _out_width(t, pe, abits, ain, acc_bits)
        lut = unit_lut + swu_lut + dwc + fifo_lut
        bram = w_bram + t_bram + swu_bram + fifo_bram
        u_lut += lut
        u_bram += bram
        u_uram += uram + swu_uram
        u_dsp += dsp
        if keep:
            row = detail[i]
            row[L_PE], row[L_SIMD], row[L_SWU_SIMD], row[L_CYC], row[L_SWU_CYC] = pe, simd, swu_simd, cyc[i], scyc[i]
            row[L_FIFO_DEPTH], row[L_LUT], row[L_FF], row[L_BRAM] = fifo, lut, int(opts[O_FF_PER_LUT] * lut), bram
            row[L_URAM], row[L_DSP], row[L_UNIT_LUT], row[L_SWU_LUT], row[L_DWC_LUT] = uram + swu_uram, dsp, unit_lut, \
                swu_lut, dwc
            row[L_FIFO_LUT], row[L_W_BRAM], row[L_T_BRAM], row[L_SWU_BRAM], row[L_FIFO_BRAM] = fifo_lut, w_bram, \
                t_bram, swu_bram, fifo_bram
            row[L_T_LUT] = t_lut
    if label_cycles > 0:
        u_lut += E.dwc_luts(prev_width, acc[n_layers - 1, wbits + abits])
    u_ff = int(opts[O_FF_PER_LUT] * u_lut)
    # block RAM beyond the board's total becomes LUTRAM (Vivado synthesis; estimators.bram_spill)
    u_bram, spill = E.bram_spill(u_bram, available[R_BRAM])
    u_lut += spill
    # pass 3: latency of one frame
    lat = _latency(net, tab, need, fold, cyc, scyc, label_cycles, buf, detail, keep)
    # totals, feasibility, power
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
    out[M_VIOL, d], out[M_FEAS, d], out[M_OVER, d], out[M_SPILL, d] = violation, feasible, over, spill


@njit(cache=True)
def _one(net, tab, need, acc, available, power, caps_pct, opts, design, pe, simd, explicit, fold, out, d, detail, buf):
    if not explicit or pe.min() < 0 or simd.min() < 0:
        set_folding(net, tab, design[D_TARGET], int(design[D_WBITS]), int(opts[O_WWIDTH_MAX]), fold)
    if explicit:
        explicit_folding(net, tab, pe, simd, fold)
    board = int(design[D_BOARD])
    evaluate(net, tab, need, acc, fold, design, available[board], power[board], caps_pct, opts, out, d, detail, buf)


@njit(cache=True)
def _scratch(net):
    """Scratch rows: two of row finish times (`_latency`), unit and window cycles per layer."""
    return np.zeros((4, max(net.shape[0], net[:, ROWS].max())))


@njit(cache=True)
def simulate_layers(net, tab, need, acc, available, power, caps_pct, opts, design, pe, simd, explicit):
    """One design: (metrics (N_METRICS, 1), per-layer detail (n_layers, N_LAYER))."""
    fold = np.empty((3, net.shape[0]), dtype=np.int64)
    out = np.empty((N_METRICS, 1))
    detail = np.zeros((net.shape[0], N_LAYER))
    _one(net, tab, need, acc, available, power, caps_pct, opts, design, pe, simd, explicit, fold, out, 0, detail,
         _scratch(net))
    return out, detail


@njit(cache=True)
def _designs_into(lo, hi, net, tab, need, acc, available, power, caps_pct, opts, designs, pe, simd, out):
    """Metrics of designs lo..hi-1 into out[:, lo:hi] (explicit folding when pe has rows)."""
    fold = np.empty((3, net.shape[0]), dtype=np.int64)
    no_detail = np.zeros((0, N_LAYER))
    no_fold = np.zeros(0, dtype=np.int64)
    buf = _scratch(net)
    for d in range(lo, hi):
        if pe.shape[0] > 0:
            _one(net, tab, need, acc, available, power, caps_pct, opts, designs[d], pe[d], simd[d], True, fold, out, d,
                 no_detail, buf)
        else:
            _one(net, tab, need, acc, available, power, caps_pct, opts, designs[d], no_fold, no_fold, False, fold, out,
                 d, no_detail, buf)


@njit(cache=True, parallel=True)
def simulate_batch(net, tab, need, acc, available, power, caps_pct, opts, designs, pe, simd, n_chunks):
    """Metrics of n designs: (N_METRICS, n), prange over n_chunks chunks of designs. `pe`/`simd`
    hold (n, n_layers) choice indices for explicit folding, or are (0, n_layers) to run SetFolding
    on each design's target_cycles."""
    n = designs.shape[0]
    out = np.empty((N_METRICS, n))
    n_chunks = max(1, min(n, n_chunks))
    for k in prange(n_chunks):
        _designs_into(k * n // n_chunks, (k + 1) * n // n_chunks, net, tab, need, acc, available, power, caps_pct, opts,
                      designs, pe, simd, out)
    return out


@njit(cache=True)
def simulate_serial(net, tab, need, acc, available, power, caps_pct, opts, designs, pe, simd):
    """`simulate_batch` on one thread, for batches too small to pay for the thread-pool launch."""
    out = np.empty((N_METRICS, designs.shape[0]))
    _designs_into(0, designs.shape[0], net, tab, need, acc, available, power, caps_pct, opts, designs, pe, simd, out)
    return out
