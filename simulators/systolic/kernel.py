"""Numba kernels of the systolic-array model: closed forms, no per-fold or per-cycle loops.

Cycles, utilisation and SRAM traffic reproduce SCALE-Sim 3.0.0 in CALC mode exactly (see
/docs/systolic.md): a layer lowers to G GEMMs of M x K by K x N; per dataflow the array rows
carry Sr, the columns Sc and time streams T (os: M, N, K; ws: K, N, M; is: K, M, N); every one of
the ceil(Sr/R) * ceil(Sc/C) folds costs a full array pass. DRAM traffic comes from the tiling and
reuse model in dram_model.py. Stalls (our extension; SCALE-Sim's CALC mode has none) follow a
per-layer roofline: with double buffering, DRAM transfers overlap compute, and a layer stalls by
the cycles its DRAM traffic needs beyond its compute cycles.
"""
import math

import numpy as np
from numba import njit, prange

from archgym.core.workloads.table import FH, FW, G, H, K, KIND, M, N, POOL, SH, SW, W, C, EH, EW
from simulators import tech
from simulators.systolic.dram_model import dram_traffic

# Design vector layout (float64): the kernel's view of a design.
DESIGN_FIELDS = ("rows", "cols", "dataflow", "ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb",
                 "dram_bytes_per_cycle", "clock_ghz", "bits", "tech_nm")
(D_ROWS, D_COLS, D_DATAFLOW, D_IFMAP_KB, D_FILTER_KB, D_OFMAP_KB, D_DRAM_BPC, D_CLOCK_GHZ, D_BITS,
 D_TECH_NM) = range(len(DESIGN_FIELDS))
DATAFLOWS = ("os", "ws", "is")

# Per-layer outputs (float64 columns of the detail kernel).
LAYER_FIELDS = ("compute_cycles", "stall_cycles", "cycles", "overall_util", "mapping_efficiency",
                "compute_util", "ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes",
                "ifmap_dram_reads", "filter_dram_reads", "ofmap_dram_writes", "dram_bytes", "macs",
                "latency_s", "energy_mac_j", "energy_sram_j", "energy_dram_j")
(L_COMPUTE, L_STALL, L_CYCLES, L_OVERALL_UTIL, L_MAPPING, L_COMPUTE_UTIL, L_IF_SRAM, L_F_SRAM,
 L_OF_SRAM, L_IF_DRAM, L_F_DRAM, L_OF_DRAM, L_DRAM_BYTES, L_MACS, L_LATENCY, L_E_MAC, L_E_SRAM,
 L_E_DRAM) = range(len(LAYER_FIELDS))

# Whole-network outputs (float64 columns of the totals and batch kernels).
TOTAL_FIELDS = ("latency_s", "energy_j", "area_mm2", "power_w", "cycles", "compute_cycles",
                "stall_cycles", "overall_util", "mapping_efficiency", "compute_util", "macs",
                "sram_reads", "sram_writes", "dram_reads", "dram_writes", "dram_bytes",
                "energy_mac_j", "energy_sram_j", "energy_dram_j", "energy_leakage_j",
                "area_pe_mm2", "area_sram_mm2")
(T_LATENCY, T_ENERGY, T_AREA, T_POWER, T_CYCLES, T_COMPUTE, T_STALL, T_OVERALL_UTIL, T_MAPPING,
 T_COMPUTE_UTIL, T_MACS, T_SRAM_R, T_SRAM_W, T_DRAM_R, T_DRAM_W, T_DRAM_BYTES, T_E_MAC, T_E_SRAM,
 T_E_DRAM, T_E_LEAK, T_A_PE, T_A_SRAM) = range(len(TOTAL_FIELDS))


@njit(cache=True, inline="always")
def _ceil_div(a, b):
    return -(-a // b)


@njit(cache=True)
def _energy_per_op(d):
    """(MAC pJ, SRAM pJ per word for ifmap/filter/ofmap, DRAM pJ per word) for design d."""
    bits = d[D_BITS]
    es = d[D_TECH_NM] / tech.BASE_NODE_NM
    mac = (tech.MULT8_PJ * (bits / 8.0) ** 2 + tech.ADD32_PJ * tech.ACC_WIDTH_FACTOR * bits / 32.0) * es
    per_bit = tech.SRAM64_8KB_PJ / 64.0 * es
    e_if = per_bit * bits * math.sqrt(d[D_IFMAP_KB] / 8.0)
    e_f = per_bit * bits * math.sqrt(d[D_FILTER_KB] / 8.0)
    e_of = per_bit * bits * math.sqrt(d[D_OFMAP_KB] / 8.0)
    return mac, e_if, e_f, e_of, tech.DRAM_PJ_PER_BIT * bits


@njit(cache=True)
def _areas(d):
    """(PE array mm^2, SRAM mm^2) for design d."""
    bits = d[D_BITS]
    s = (d[D_TECH_NM] / tech.BASE_NODE_NM) ** 2
    pe_um2 = (tech.MULT8_UM2 * (bits / 8.0) ** 2 + tech.ADD32_UM2 * tech.ACC_WIDTH_FACTOR * bits / 32.0
              + tech.DFF_UM2 * (2 + tech.ACC_WIDTH_FACTOR) * bits)
    pe = d[D_ROWS] * d[D_COLS] * pe_um2 * 1e-6 * s
    sram = (d[D_IFMAP_KB] + d[D_FILTER_KB] + d[D_OFMAP_KB]) * 8192.0 * tech.SRAM_BIT_UM2 * 1e-6 * s
    return pe, sram


@njit(cache=True)
def _layer(d, t, e_mac, e_if, e_f, e_of, e_dram):
    """One layer row t on design d -> tuple of LAYER_FIELDS values (counts summed over groups)."""
    if t[KIND] == POOL or t[K] == 0:
        return (0.0,) * 18
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
    mapping = sr * sc / (folds * area)
    compute_util = sr * sc * float(tt) / (folds * area * util_cycles)
    macs1 = float(m) * n * k
    overall = macs1 / (cycles1 * area)
    if df == 0:
        if_r, f_r, of_w = _ceil_div(n, Cc) * m * k, _ceil_div(m, R) * k * n, m * n + folds * (R + Cc)
    elif df == 1:
        if_r, f_r, of_w = _ceil_div(n, Cc) * m * k, k * n, _ceil_div(k, R) * m * n
    else:
        if_r, f_r, of_w = k * m, _ceil_div(m, Cc) * k * n, _ceil_div(k, R) * m * n
    words_per_kb = 8192.0 / d[D_BITS]
    if_d, f_d, of_d = dram_traffic(R, Cc, df, m, n, k, t[KIND], t[H], t[W], t[C] // g, t[FH], t[FW],
                                   t[SH], t[SW], t[EH], t[EW], np.int64(d[D_IFMAP_KB] * words_per_kb),
                                   np.int64(d[D_FILTER_KB] * words_per_kb), np.int64(d[D_OFMAP_KB] * words_per_kb))
    compute = float(g * cycles1)
    dram_words = float(g * (if_d + f_d + of_d))
    dram_bytes = dram_words * d[D_BITS] / 8.0
    stall = max(0.0, math.ceil(dram_bytes / d[D_DRAM_BPC]) - compute)
    cycles = compute + stall
    # SRAM energy: array demand traffic plus the fills from DRAM and the drains to it.
    e_sram = g * ((if_r + if_d) * e_if + (f_r + f_d) * e_f + (of_w + of_d) * e_of) * 1e-12
    return (compute, stall, cycles, overall, mapping, compute_util, float(g * if_r), float(g * f_r),
            float(g * of_w), float(g * if_d), float(g * f_d), float(g * of_d), dram_bytes, g * macs1,
            cycles / (d[D_CLOCK_GHZ] * 1e9), g * macs1 * e_mac * 1e-12, e_sram, dram_words * e_dram * 1e-12)


@njit(cache=True)
def simulate_layers(d, table):
    """Per-layer detail: (n_layers, len(LAYER_FIELDS)) float64 for design vector d."""
    out = np.zeros((table.shape[0], len(LAYER_FIELDS)))
    e_mac, e_if, e_f, e_of, e_dram = _energy_per_op(d)
    for i in range(table.shape[0]):
        vals = _layer(d, table[i], e_mac, e_if, e_f, e_of, e_dram)
        for j in range(len(vals)):
            out[i, j] = vals[j]
    return out


@njit(cache=True)
def _totals(d, table, out):
    e_mac, e_if, e_f, e_of, e_dram = _energy_per_op(d)
    compute = stall = macs = sram_r = sram_w = dram_r = dram_w = dram_bytes = 0.0
    e_m = e_s = e_d = 0.0
    mapping_w = util_w = 0.0
    for i in range(table.shape[0]):
        v = _layer(d, table[i], e_mac, e_if, e_f, e_of, e_dram)
        compute += v[L_COMPUTE]
        stall += v[L_STALL]
        macs += v[L_MACS]
        sram_r += v[L_IF_SRAM] + v[L_F_SRAM]
        sram_w += v[L_OF_SRAM]
        dram_r += v[L_IF_DRAM] + v[L_F_DRAM]
        dram_w += v[L_OF_DRAM]
        dram_bytes += v[L_DRAM_BYTES]
        e_m += v[L_E_MAC]
        e_s += v[L_E_SRAM]
        e_d += v[L_E_DRAM]
        mapping_w += v[L_MAPPING] * v[L_COMPUTE]
        util_w += v[L_COMPUTE_UTIL] * v[L_COMPUTE]
    cycles = compute + stall
    latency = cycles / (d[D_CLOCK_GHZ] * 1e9)
    a_pe, a_sram = _areas(d)
    area = a_pe + a_sram
    e_leak = tech.STATIC_W_PER_MM2 * area * latency
    energy = e_m + e_s + e_d + e_leak
    out[T_LATENCY] = latency
    out[T_ENERGY] = energy
    out[T_AREA] = area
    out[T_POWER] = energy / latency if latency > 0 else 0.0
    out[T_CYCLES] = cycles
    out[T_COMPUTE] = compute
    out[T_STALL] = stall
    out[T_OVERALL_UTIL] = macs / (cycles * d[D_ROWS] * d[D_COLS]) if cycles > 0 else 0.0
    out[T_MAPPING] = mapping_w / compute if compute > 0 else 0.0  # compute-cycle-weighted means
    out[T_COMPUTE_UTIL] = util_w / compute if compute > 0 else 0.0
    out[T_MACS] = macs
    out[T_SRAM_R] = sram_r
    out[T_SRAM_W] = sram_w
    out[T_DRAM_R] = dram_r
    out[T_DRAM_W] = dram_w
    out[T_DRAM_BYTES] = dram_bytes
    out[T_E_MAC] = e_m
    out[T_E_SRAM] = e_s
    out[T_E_DRAM] = e_d
    out[T_E_LEAK] = e_leak
    out[T_A_PE] = a_pe
    out[T_A_SRAM] = a_sram


@njit(cache=True)
def simulate_total(d, table):
    """Whole-network totals: (len(TOTAL_FIELDS),) float64 for design vector d."""
    out = np.empty(len(TOTAL_FIELDS))
    _totals(d, table, out)
    return out


@njit(cache=True, parallel=True)
def simulate_packed(designs, slots, rows, starts, ends):
    """Totals (n, len(TOTAL_FIELDS)) where design i runs the layer table rows[starts[slots[i]]:
    ends[slots[i]]] (several networks packed in one array); prange over designs."""
    out = np.empty((designs.shape[0], len(TOTAL_FIELDS)))
    for i in prange(designs.shape[0]):
        s = slots[i]
        _totals(designs[i], rows[starts[s]:ends[s]], out[i])
    return out


@njit(cache=True)
def simulate_packed_serial(designs, slots, rows, starts, ends):
    """`simulate_packed` on one thread: small batches cost less than a thread-pool launch."""
    out = np.empty((designs.shape[0], len(TOTAL_FIELDS)))
    for i in range(designs.shape[0]):
        s = slots[i]
        _totals(designs[i], rows[starts[s]:ends[s]], out[i])
    return out


def simulate_batch(designs, table, parallel=True):
    """Totals for many designs on one workload table: (n, len(TOTAL_FIELDS)), one kernel call."""
    kernel = simulate_packed if parallel else simulate_packed_serial
    return kernel(designs, np.zeros(len(designs), np.int64), table, np.zeros(1, np.int64),
                  np.array([len(table)], np.int64))
