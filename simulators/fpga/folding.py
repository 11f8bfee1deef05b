"""Folding as numba kernels: FINN's SetFolding (transformation/fpgadataflow/set_folding.py) and
explicit per-layer PE/SIMD. A fold is a (3, n_layers) int64 array of indices into each layer's
divisor tables (network.py): PE, SIMD and the sliding-window unit's SIMD."""
from __future__ import annotations

from numba import njit

from simulators.fpga.layout import (DW, FIXED, GAP, KIND, MAXPOOL, MH, MVAU, MW, N_PE, N_SIMD, N_SWU, PE_Q, POOL,
                                    SIMD_DIV, SIMD_Q, SWU, SWU_CYC, SWU_DIV, VEC, VVAU)


@njit(cache=True)
def unit_cycles(t, q_pe, q_simd):
    """Cycles per frame of a compute unit from MH/PE and MW/SIMD: MVAU/VVAU/Pool_Batch
    get_exp_cycles = (MH/PE)*(MW/SIMD)*vectors (matrixvectoractivation.py, vectorvectoractivation.py,
    pool.py); GlobalAccPool C/PE*H*W + C/PE (globalaccpool.py); StreamingMaxPool fixed (network.py)."""
    kind = t[KIND]
    if kind == MAXPOOL:
        return t[FIXED]
    if kind == GAP:
        return q_pe * (t[VEC] + 1)
    return q_pe * q_simd * t[VEC]


@njit(cache=True, inline="always")
def _first(q, n, base, target):
    """FINN's optimize_attribute_val over a decreasing cycles table q*base: the first index that
    beats the target, else the last."""
    for j in range(n):
        if q[j] * base < target:
            return j
    return n - 1


@njit(cache=True)
def max_cycles(net, tab, fold):
    m = 0
    for i in range(net.shape[0]):
        m = max(m, unit_cycles(net[i], tab[i, PE_Q, fold[0, i]], tab[i, SIMD_Q, fold[1, i]]))
        if net[i, SWU]:
            m = max(m, tab[i, SWU_CYC, fold[2, i]])
    return m


@njit(cache=True)
def set_folding(net, tab, target, wbits, wwidth_max, fold):
    """FINN SetFolding with two-pass relaxation. MVAU: SIMD up while W*SIMD <= wwidth_max until the
    cycles beat the target, then PE; VVAU: PE, then SIMD once PE is exhausted; pools: PE; a dense
    sliding window is folded alone (SIMD over the divisors of C), a depthwise one takes its unit's PE."""
    for _ in range(2):
        for i in range(net.shape[0]):
            t = net[i]
            kind = t[KIND]
            a, b = 0, 0
            if kind == MVAU:
                for j in range(t[N_SIMD]):
                    prev = b
                    b = j
                    if t[MH] * tab[i, SIMD_Q, j] * t[VEC] < target:
                        break
                    if wbits * tab[i, SIMD_DIV, j] > wwidth_max:
                        b = prev
                        break
                a = _first(tab[i, PE_Q], t[N_PE], tab[i, SIMD_Q, b] * t[VEC], target)
            elif kind == VVAU:
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
            if t[SWU]:
                fold[2, i] = a if t[DW] else _first(tab[i, SWU_CYC], t[N_SWU], 1, target)
        slowest = max_cycles(net, tab, fold)
        if slowest <= target:
            break
        target = float(slowest)  # second pass: balance the pipeline to the achievable bottleneck


@njit(cache=True)
def explicit_folding(net, tab, pe, simd, fold):
    """PE/SIMD indices per layer; a negative index keeps the choice already in `fold` (SetFolding's).
    A depthwise window takes its unit's PE (FINN requires it). A dense window takes the largest SIMD
    that divides both C and the MVAU's SIMD, as BNN-PYNQ's ConvLayer_Batch and finn-examples'
    folding configs do (window SIMD = MVAU SIMD whenever it divides C), if that keeps pace with the
    MVAU; otherwise the smallest SIMD that does (FINN folds windows on their own, with a width
    converter between them)."""
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
                continue
            s = tab[i, SIMD_DIV, fold[1, i]]
            for j in range(t[N_SWU]):
                if s % tab[i, SWU_DIV, j] == 0:
                    fold[2, i] = j
            cyc = unit_cycles(t, tab[i, PE_Q, fold[0, i]], tab[i, SIMD_Q, fold[1, i]])
            if tab[i, SWU_CYC, fold[2, i]] > cyc:
                fold[2, i] = _first(tab[i, SWU_CYC], t[N_SWU], 1, cyc + 1)
