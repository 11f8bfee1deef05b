"""Numba kernels of the systolic-array model: closed forms, no per-fold or per-cycle loops.

Cycles, utilisation and SRAM demand traffic reproduce SCALE-Sim 3.0.0 in CALC mode exactly (see
/docs/systolic.md): a layer lowers to G GEMMs of M x K by K x N; per dataflow the array rows carry
Sr, the columns Sc and time streams T (os: M, N, K; ws: K, N, M; is: K, M, N); every one of the
ceil(Sr/R) * ceil(Sc/C) folds costs a full array pass. Operand refetches from DRAM come from the
tiling/reuse model in dram_model.py. Two accountings of what leaves the chip:
- SCALESIM: SCALE-Sim's: every partial sum of every fold is written to DRAM (ws, is), every layer
  reads its input from and writes its output to DRAM;
- REUSE (ZigZag's and Timeloop's): operand refetches see the whole SRAM (SCALE-Sim's buffer keeps
  reuse within about half of it); partial sums stay in the ofmap SRAM while a column fold's
  partial-sum tile fits in it (ZigZag's rule: the whole SRAM) and only the excess spills and comes
  back; a feature map stays on chip when the ofmap SRAM holds it over its whole life (the table's
  IN_OCC/OUT_OCC context), and then the next layer's ifmap SRAM refills from the ofmap SRAM.
Element-wise work (pooling, adds, activations, unfolded BN) runs on the vector unit: standalone
rows stall the array; ops fused onto a MAC row's input/output stream overlap with it (stalling it
when the unit cannot keep up) or run after it (vector_overlap = "serial"). DRAM stalls follow a
per-layer roofline: transfers overlap compute, and a layer stalls by the cycles its DRAM traffic
needs beyond its busy cycles. Energy = access counts x the TechModel's unit costs (costs.py).
"""
import math

import numpy as np
from numba import njit, prange

from archgym.core.workloads.table import (ACT, ADD, EH, EW, FH, FW, G, H, IN2_OCC, IN_OCC, K, KIND, M, N, OUT_OCC,
                                          POOL, POST, PRE, SH, SW, C, W)
from simulators.systolic.costs import (COST_FIELDS, C_A_PE, C_A_SRAM, C_A_VEC, C_DRAM_R, C_DRAM_W, C_F_R, C_F_W, C_IF_R, C_IF_W,
                                       C_LEAK, C_MAC, C_OF_R, C_OF_W, C_REG, C_VEC, design_costs)
from simulators.systolic.dram_model import dram_traffic

# Design vector layout (float64): the kernel's view of a design.
DESIGN_FIELDS = ("rows", "cols", "dataflow", "ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb",
                 "dram_bytes_per_cycle", "clock_ghz", "bits", "acc_bits", "tech_nm", "vector_lanes",
                 "vector_ops_per_lane", "vector_overlap")
(D_ROWS, D_COLS, D_DATAFLOW, D_IFMAP_KB, D_FILTER_KB, D_OFMAP_KB, D_DRAM_BPC, D_CLOCK_GHZ, D_BITS, D_ACC_BITS,
 D_TECH_NM, D_LANES, D_LANE_OPS, D_VEC_SERIAL) = range(len(DESIGN_FIELDS))
DATAFLOWS = ("os", "ws", "is")
VECTOR_MODES = ("overlap", "serial")
ACCOUNTING = ("reuse", "scalesim")
REUSE, SCALESIM = range(len(ACCOUNTING))

# Per-layer outputs (float64 columns of the detail kernel).
LAYER_FIELDS = ("compute_cycles", "vector_cycles", "vector_stall_cycles", "stall_cycles", "cycles", "overall_util",
                "mapping_efficiency", "compute_util", "macs", "n_vector_ops",
                "ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes", "ofmap_sram_reads",
                "ifmap_sram_fills", "filter_sram_fills",
                "psum_sram_reads", "psum_sram_writes", "ifmap_reg_writes", "weight_reg_writes", "psum_reg_writes",
                "ifmap_dram_reads", "filter_dram_reads", "ofmap_dram_writes",
                "psum_dram_writes", "psum_dram_reads", "dram_read_bytes", "dram_write_bytes", "dram_bytes",
                "latency_s", "energy_mac_j", "energy_reg_j", "energy_ifmap_sram_j", "energy_filter_sram_j",
                "energy_ofmap_sram_j", "energy_dram_j", "energy_vector_j")
(L_COMPUTE, L_VEC, L_VSTALL, L_STALL, L_CYCLES, L_OVERALL_UTIL, L_MAPPING, L_COMPUTE_UTIL, L_MACS, L_VEC_OPS,
 L_IF_SRAM, L_F_SRAM, L_OF_SRAM, L_OF_SRAM_R, L_IF_FILL, L_F_FILL, L_PS_SRAM_R, L_PS_SRAM_W, L_IF_REG, L_W_REG,
 L_PS_REG, L_IF_DRAM, L_F_DRAM, L_OF_DRAM, L_PS_DRAM_W, L_PS_DRAM_R, L_DRAM_RB, L_DRAM_WB, L_DRAM_BYTES, L_LATENCY, L_E_MAC, L_E_REG, L_E_IF, L_E_F, L_E_OF,
 L_E_DRAM, L_E_VEC) = range(len(LAYER_FIELDS))

# Whole-network outputs (float64 columns of the totals and batch kernels).
TOTAL_FIELDS = ("latency_s", "energy_j", "area_mm2", "power_w", "cycles", "compute_cycles", "vector_stall_cycles",
                "stall_cycles", "overall_util", "mapping_efficiency", "compute_util", "macs", "n_vector_ops",
                "sram_reads", "sram_writes", "dram_reads", "dram_writes", "dram_bytes",
                "energy_mac_j", "energy_reg_j", "energy_sram_j", "energy_dram_j", "energy_vector_j",
                "energy_leakage_j", "area_pe_mm2", "area_sram_mm2", "area_vector_mm2")
(T_LATENCY, T_ENERGY, T_AREA, T_POWER, T_CYCLES, T_COMPUTE, T_VSTALL, T_STALL, T_OVERALL_UTIL, T_MAPPING,
 T_COMPUTE_UTIL, T_MACS, T_VEC_OPS, T_SRAM_R, T_SRAM_W, T_DRAM_R, T_DRAM_W, T_DRAM_BYTES, T_E_MAC, T_E_REG, T_E_SRAM,
 T_E_DRAM, T_E_VEC, T_E_LEAK, T_A_PE, T_A_SRAM, T_A_VEC) = range(len(TOTAL_FIELDS))


@njit(cache=True, inline="always")
def _ceil_div(a, b):
    return -(-a // b)


@njit(cache=True)
def costs_of(d, tech):
    """The unit costs of design vector d (see costs.COST_FIELDS)."""
    return design_costs(d[D_ROWS], d[D_COLS], d[D_IFMAP_KB], d[D_FILTER_KB], d[D_OFMAP_KB], d[D_BITS],
                        _acc(d), d[D_TECH_NM], d[D_LANES], tech)


@njit(cache=True, inline="always")
def _acc(d):
    """Accumulator (partial-sum) bits: never narrower than the operands."""
    return max(d[D_ACC_BITS], d[D_BITS])


@njit(cache=True)
def _finish(d, c, o):
    """Cycles, latency and energy of a layer whose counts are in o (bits-wide words unless psum)."""
    bits = d[D_BITS]
    busy = o[L_COMPUTE] + o[L_VSTALL]
    o[L_STALL] = max(0.0, math.ceil(o[L_DRAM_BYTES] / d[D_DRAM_BPC]) - busy)
    o[L_CYCLES] = busy + o[L_STALL]
    o[L_LATENCY] = o[L_CYCLES] / (d[D_CLOCK_GHZ] * 1e9)
    o[L_E_MAC] = o[L_MACS] * c[C_MAC] * 1e-12
    o[L_E_VEC] = o[L_VEC_OPS] * c[C_VEC] * 1e-12
    o[L_E_IF] = bits * (o[L_IF_SRAM] * c[C_IF_R] + o[L_IF_FILL] * c[C_IF_W]) * 1e-12
    o[L_E_F] = bits * (o[L_F_SRAM] * c[C_F_R] + o[L_F_FILL] * c[C_F_W]) * 1e-12
    o[L_E_DRAM] = 8.0 * (o[L_DRAM_RB] * c[C_DRAM_R] + o[L_DRAM_WB] * c[C_DRAM_W]) * 1e-12


@njit(cache=True)
def _vector_row(d, t, c, mode, o):
    """A pooling, add or activation row on the vector unit (the array idles)."""
    bits = d[D_BITS]
    cap = d[D_OFMAP_KB] * 8192.0 / bits
    kind = t[KIND]
    g, m, n = float(t[G]), float(t[M]), float(t[N])
    out_elems = g * m * n
    if kind == POOL:
        in_elems = float(t[H]) * t[W] * t[C]
        ops = out_elems * (t[FH] * t[FW] + t[POST])
        n_in = 1
    else:
        in_elems = out_elems
        ops = out_elems * (t[POST] + (1.0 if kind == ADD else 0.0))
        n_in = 2 if kind == ADD else 1
    off_in = 0.0  # operand words streamed in from DRAM (through the ofmap SRAM)
    if mode == SCALESIM or t[IN_OCC] > cap:
        off_in += in_elems
    if n_in == 2 and (mode == SCALESIM or t[IN2_OCC] > cap):
        off_in += in_elems
    out_off = mode == SCALESIM or t[OUT_OCC] > cap
    o[L_VEC_OPS] = ops
    o[L_VEC] = math.ceil(ops / (d[D_LANES] * d[D_LANE_OPS]))
    o[L_VSTALL] = o[L_VEC]
    o[L_OF_SRAM] = off_in + out_elems
    o[L_OF_SRAM_R] = n_in * in_elems + (out_elems if out_off else 0.0)
    o[L_IF_DRAM] = off_in
    o[L_OF_DRAM] = out_elems if out_off else 0.0
    o[L_DRAM_RB] = off_in * bits / 8.0
    o[L_DRAM_WB] = o[L_OF_DRAM] * bits / 8.0
    o[L_DRAM_BYTES] = o[L_DRAM_RB] + o[L_DRAM_WB]
    _finish(d, c, o)
    o[L_E_OF] = bits * (o[L_OF_SRAM] * c[C_OF_W] + o[L_OF_SRAM_R] * c[C_OF_R]) * 1e-12


@njit(cache=True)
def layer(d, t, c, mode, o):
    """Layer-table row t on design d with unit costs c (costs_of) -> o[:] = LAYER_FIELDS values
    (counts summed over groups); mode REUSE or SCALESIM."""
    o[:] = 0.0
    if t[KIND] == POOL or t[KIND] == ADD or t[KIND] == ACT or t[K] == 0:
        _vector_row(d, t, c, mode, o)
        return
    R = np.int64(d[D_ROWS])
    Cc = np.int64(d[D_COLS])
    df = np.int64(d[D_DATAFLOW])
    m, n, k, g = t[M], t[N], t[K], t[G]
    if df == 0:
        sr, sc, tt = m, n, k
    elif df == 1:
        sr, sc, tt = k, n, m
    else:
        sr, sc, tt = k, m, n
    folds = _ceil_div(sr, R) * _ceil_div(sc, Cc)
    if df == 0:
        fold_cycles = tt + R + Cc - 2
        util_cycles = fold_cycles
    else:
        fold_cycles = tt + 2 * R + Cc - 2
        util_cycles = tt + 2 * R + 2 * Cc - 3  # SCALE-Sim's compute-util denominator for ws/is
    # SCALE-Sim's count, but never below one MAC per PE per cycle (its -1 breaks that only for os on 1x1 arrays)
    cycles1 = max(folds * fold_cycles - 1, _ceil_div(m * n * k, R * Cc))
    area = float(R * Cc)
    macs1 = float(m) * n * k
    if df == 0:
        if_r, f_r, of_w = _ceil_div(n, Cc) * m * k, _ceil_div(m, R) * k * n, m * n + folds * (R + Cc)
    elif df == 1:
        if_r, f_r, of_w = _ceil_div(n, Cc) * m * k, k * n, _ceil_div(k, R) * m * n
    else:
        if_r, f_r, of_w = k * m, _ceil_div(m, Cc) * k * n, _ceil_div(k, R) * m * n
    bits = d[D_BITS]
    words_per_kb = 8192.0 / bits
    # SCALE-Sim's buffer keeps reuse within about half its capacity (the other half prefetches); the
    # reuse accounting lets a tile use all of it, as ZigZag and Timeloop allocate buffers
    reach = words_per_kb * (1.0 if mode == SCALESIM else 2.0)
    if_d, f_d, of_d = dram_traffic(R, Cc, df, m, n, k, t[KIND], t[H], t[W], t[C] // g, t[FH], t[FW],
                                   t[SH], t[SW], t[EH], t[EW], np.int64(d[D_IFMAP_KB] * reach),
                                   np.int64(d[D_FILTER_KB] * reach), np.int64(d[D_OFMAP_KB] * reach))
    o[L_COMPUTE] = g * cycles1
    o[L_OVERALL_UTIL] = macs1 / (cycles1 * area)
    o[L_MAPPING] = sr * sc / (folds * area)
    o[L_COMPUTE_UTIL] = sr * sc * float(tt) / (folds * area * util_cycles)
    o[L_MACS] = g * macs1
    o[L_IF_SRAM], o[L_F_SRAM], o[L_OF_SRAM] = g * if_r, g * f_r, g * of_w
    o[L_IF_FILL], o[L_F_FILL], o[L_F_DRAM] = g * if_d, g * f_d, g * f_d
    acc = _acc(d)
    outputs = g * float(m) * n
    in_elems = float(t[H]) * t[W] * t[C] if t[KIND] == 0 else g * float(m) * k
    psum_demand = 0.0  # SCALE-Sim's ofmap writes that are partial sums (accumulator wide; the rest are bits wide)
    if mode == SCALESIM:
        o[L_IF_DRAM] = g * if_d
        o[L_OF_DRAM] = g * of_d
        o[L_OF_SRAM_R] = o[L_OF_DRAM]  # drained to DRAM
    else:
        cap = d[D_OFMAP_KB] * words_per_kb
        if t[IN_OCC] <= cap:  # the input is on chip: the ofmap SRAM refills the ifmap SRAM
            o[L_OF_SRAM_R] += o[L_IF_FILL]
        else:
            o[L_IF_DRAM] = o[L_IF_FILL]
        out_on = t[OUT_OCC] <= cap
        passes = 1 if df == 0 else _ceil_div(k, R)
        if passes > 1:  # partial sums: written by every pass but the last, read back by the next
            psum_demand = (passes - 1) * outputs
            o[L_PS_SRAM_R] = psum_demand
            if not out_on:  # a column fold's tile: T x width; the SRAM holds what fits, the excess spills
                room = d[D_OFMAP_KB] * 8192.0 / acc
                t_len = m if df == 1 else n
                full, rem = sc // Cc, sc % Cc
                spill = full * max(0.0, float(t_len) * Cc - room)
                if rem > 0:
                    spill += max(0.0, float(t_len) * rem - room)
                o[L_PS_DRAM_W] = o[L_PS_DRAM_R] = g * (passes - 1) * spill
                o[L_PS_SRAM_R] += o[L_PS_DRAM_W]  # spilled words leave through the SRAM ...
                o[L_PS_SRAM_W] = o[L_PS_DRAM_R]  # ... and come back through it
        if not out_on:
            o[L_OF_DRAM] = outputs
            o[L_OF_SRAM_R] += outputs
    o[L_DRAM_RB] = (o[L_IF_DRAM] + o[L_F_DRAM]) * bits / 8.0 + o[L_PS_DRAM_R] * acc / 8.0
    o[L_DRAM_WB] = o[L_OF_DRAM] * bits / 8.0 + o[L_PS_DRAM_W] * acc / 8.0
    o[L_DRAM_BYTES] = o[L_DRAM_RB] + o[L_DRAM_WB]
    # fused element ops on the input (PRE) and output (POST) streams
    o[L_VEC_OPS] = t[PRE] * in_elems + t[POST] * outputs
    if o[L_VEC_OPS] > 0:
        o[L_VEC] = math.ceil(o[L_VEC_OPS] / (d[D_LANES] * d[D_LANE_OPS]))
        o[L_VSTALL] = o[L_VEC] if d[D_VEC_SERIAL] != 0 else max(0.0, o[L_VEC] - o[L_COMPUTE])
    # registers: one write per word entering one; moving operands every MAC, stationary ones per fill
    o[L_IF_REG] = o[L_IF_SRAM] if df == 2 else o[L_MACS]
    o[L_W_REG] = o[L_F_SRAM] if df == 1 else o[L_MACS]
    o[L_PS_REG] = o[L_MACS]
    o[L_E_REG] = ((o[L_IF_REG] + o[L_W_REG]) * bits + o[L_PS_REG] * acc) * c[C_REG] * 1e-12
    _finish(d, c, o)
    of_bits_w = (o[L_OF_SRAM] - psum_demand) * bits + (psum_demand + o[L_PS_SRAM_W]) * acc
    of_bits_r = o[L_OF_SRAM_R] * bits + o[L_PS_SRAM_R] * acc
    o[L_E_OF] = (of_bits_w * c[C_OF_W] + of_bits_r * c[C_OF_R]) * 1e-12


@njit(cache=True)
def simulate_layers(d, table, tech, mode):
    """Per-layer detail: (n_layers, len(LAYER_FIELDS)) float64 for design vector d."""
    out = np.zeros((table.shape[0], len(LAYER_FIELDS)))
    c = costs_of(d, tech)
    for i in range(table.shape[0]):
        layer(d, table[i], c, mode, out[i])
    return out


@njit(cache=True)
def _totals(d, table, tech, mode, out):
    c = costs_of(d, tech)
    o = np.empty(len(LAYER_FIELDS))
    tot = np.zeros(len(LAYER_FIELDS))
    mapping_w = util_w = 0.0
    for i in range(table.shape[0]):
        layer(d, table[i], c, mode, o)
        tot += o
        mapping_w += o[L_MAPPING] * o[L_COMPUTE]
        util_w += o[L_COMPUTE_UTIL] * o[L_COMPUTE]
    combine(d, c, tot, mapping_w, util_w, out)


@njit(cache=True)
def totals_of_layers(d, layers, tech):
    """Whole-network totals of per-layer rows (as simulate_layers returns, possibly with their stalls,
    cycles, latency and DRAM energy replaced, as the DRAM controller mode does)."""
    return totals_of_rows(d, layers, np.ones(layers.shape[0]), tech)


@njit(cache=True)
def totals_of_rows(d, rows, counts, tech):
    """Totals of a network made of `counts[j]` copies of layer row j (rows: per-row LAYER_FIELDS of
    design d, e.g. from rows_batch): a table's unique rows are costed once and summed."""
    out = np.empty(len(TOTAL_FIELDS))
    tot = np.zeros(len(LAYER_FIELDS))
    mapping_w = util_w = 0.0
    for i in range(rows.shape[0]):
        tot += counts[i] * rows[i]
        mapping_w += counts[i] * rows[i, L_MAPPING] * rows[i, L_COMPUTE]
        util_w += counts[i] * rows[i, L_COMPUTE_UTIL] * rows[i, L_COMPUTE]
    combine(d, costs_of(d, tech), tot, mapping_w, util_w, out)
    return out


@njit(cache=True, parallel=True)
def rows_batch(designs, rows, tech, mode):
    """Per-row LAYER_FIELDS (n_designs, n_rows, len(LAYER_FIELDS)) of every design on every row: a row's
    cost depends only on the design and the row (its feature-map context included), so a space of
    networks built from the same rows is costed once per (design, unique row)."""
    out = np.zeros((designs.shape[0], rows.shape[0], len(LAYER_FIELDS)))
    for i in prange(designs.shape[0]):
        c = costs_of(designs[i], tech)
        for j in range(rows.shape[0]):
            layer(designs[i], rows[j], c, mode, out[i, j])
    return out


@njit(cache=True, parallel=True)
def totals_of_pairs(designs, per_row, design_of, counts, arch_of, tech):
    """Totals (n, len(TOTAL_FIELDS)) of n (design, network) pairs: pair i runs network arch_of[i], made of
    counts[arch_of[i], j] copies of unique row j, on design design_of[i], whose per-row costs are
    per_row[design_of[i]] (from rows_batch). prange over pairs; each design's unit costs once."""
    costs = np.empty((designs.shape[0], len(COST_FIELDS)))
    for k in prange(designs.shape[0]):
        costs[k] = costs_of(designs[k], tech)
    nz = counts != 0.0
    n = design_of.shape[0]
    out = np.empty((n, len(TOTAL_FIELDS)))
    for i in prange(n):
        a, k = arch_of[i], design_of[i]
        tot = np.zeros(len(LAYER_FIELDS))
        mapping_w = util_w = 0.0
        for j in range(per_row.shape[1]):
            if nz[a, j]:
                cnt = counts[a, j]
                r = per_row[k, j]
                for f in range(len(LAYER_FIELDS)):
                    tot[f] += cnt * r[f]
                mapping_w += cnt * r[L_MAPPING] * r[L_COMPUTE]
                util_w += cnt * r[L_COMPUTE_UTIL] * r[L_COMPUTE]
        combine(designs[k], costs[k], tot, mapping_w, util_w, out[i])
    return out


@njit(cache=True)
def combine(d, c, tot, mapping_w, util_w, out):
    """TOTAL_FIELDS into out from the summed layer fields `tot` and compute-weighted utilisations."""
    compute, cycles = tot[L_COMPUTE], tot[L_CYCLES]
    latency = cycles / (d[D_CLOCK_GHZ] * 1e9)
    e_leak = c[C_LEAK] * latency
    e_sram = tot[L_E_IF] + tot[L_E_F] + tot[L_E_OF]
    energy = tot[L_E_MAC] + tot[L_E_REG] + e_sram + tot[L_E_DRAM] + tot[L_E_VEC] + e_leak
    out[T_LATENCY] = latency
    out[T_ENERGY] = energy
    out[T_AREA] = c[C_A_PE] + c[C_A_SRAM] + c[C_A_VEC]
    out[T_POWER] = energy / latency if latency > 0 else 0.0
    out[T_CYCLES] = cycles
    out[T_COMPUTE] = compute
    out[T_VSTALL] = tot[L_VSTALL]
    out[T_STALL] = tot[L_STALL]
    out[T_OVERALL_UTIL] = tot[L_MACS] / (cycles * d[D_ROWS] * d[D_COLS]) if cycles > 0 else 0.0
    out[T_MAPPING] = mapping_w / compute if compute > 0 else 0.0  # compute-cycle-weighted means
    out[T_COMPUTE_UTIL] = util_w / compute if compute > 0 else 0.0
    out[T_MACS] = tot[L_MACS]
    out[T_VEC_OPS] = tot[L_VEC_OPS]
    out[T_SRAM_R] = tot[L_IF_SRAM] + tot[L_F_SRAM] + tot[L_OF_SRAM_R] + tot[L_PS_SRAM_R]
    out[T_SRAM_W] = tot[L_OF_SRAM] + tot[L_IF_FILL] + tot[L_F_FILL] + tot[L_PS_SRAM_W]
    out[T_DRAM_R] = tot[L_IF_DRAM] + tot[L_F_DRAM] + tot[L_PS_DRAM_R]
    out[T_DRAM_W] = tot[L_OF_DRAM] + tot[L_PS_DRAM_W]
    out[T_DRAM_BYTES] = tot[L_DRAM_BYTES]
    out[T_E_MAC] = tot[L_E_MAC]
    out[T_E_REG] = tot[L_E_REG]
    out[T_E_SRAM] = e_sram
    out[T_E_DRAM] = tot[L_E_DRAM]
    out[T_E_VEC] = tot[L_E_VEC]
    out[T_E_LEAK] = e_leak
    out[T_A_PE] = c[C_A_PE]
    out[T_A_SRAM] = c[C_A_SRAM]
    out[T_A_VEC] = c[C_A_VEC]


@njit(cache=True)
def simulate_total(d, table, tech, mode):
    """Whole-network totals: (len(TOTAL_FIELDS),) float64 for design vector d."""
    out = np.empty(len(TOTAL_FIELDS))
    _totals(d, table, tech, mode, out)
    return out


@njit(cache=True, parallel=True)
def packed_parallel(designs, slots, rows, starts, ends, tech, mode):
    """Totals (n, len(TOTAL_FIELDS)) where design i runs the layer table rows[starts[slots[i]]:
    ends[slots[i]]] (several networks packed in one array); prange over designs."""
    out = np.empty((designs.shape[0], len(TOTAL_FIELDS)))
    for i in prange(designs.shape[0]):
        s = slots[i]
        _totals(designs[i], rows[starts[s]:ends[s]], tech, mode, out[i])
    return out


@njit(cache=True)
def packed_serial(designs, slots, rows, starts, ends, tech, mode):
    """`packed_parallel` on one thread: small batches cost less than a thread-pool launch."""
    out = np.empty((designs.shape[0], len(TOTAL_FIELDS)))
    for i in range(designs.shape[0]):
        s = slots[i]
        _totals(designs[i], rows[starts[s]:ends[s]], tech, mode, out[i])
    return out
