"""Whole traces through the DRAM kernel: closing the background accounts, one design, and many
designs in parallel (prange over designs)."""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from simulators.dram.kernel import run
from simulators.dram.layout import (B_ACT_T, B_CLOSE_T, B_OPEN_ROW, HIST_BINS, INF, N_SCALARS, NEED_SLOTS, P_NBG,
                                    P_NBPG, P_NCH, P_NRANK, R_ALLCLOSED, R_APD, R_BANK_ACT, R_IN_PD, R_N_OPEN,
                                    R_PD_ENTER, R_PD_KIND, R_PPD, S_END, grow, init_state)


@njit(cache=True)
def finish(P, S, bank, rank):
    """Close the background accounts at the end time. Returns per-rank cycles (n_ranks, 5):
    active standby, precharged standby, precharge power-down, active power-down, and bank-active
    cycles summed over the rank's banks (DRAMPower's bank-wise background)."""
    nbanks = P[P_NBG] * P[P_NBPG]
    nr = rank.shape[0]
    end = S[S_END]
    out = np.zeros((nr, 5), np.int64)
    for gr in range(nr):
        closed = rank[gr, R_ALLCLOSED]
        ppd, apd, bank_act = rank[gr, R_PPD], rank[gr, R_APD], rank[gr, R_BANK_ACT]
        m = np.int64(0)
        for gb in range(gr * nbanks, (gr + 1) * nbanks):
            c = bank[gb, B_CLOSE_T]
            m = max(m, c)
            if bank[gb, B_OPEN_ROW] >= 0 and c == INF:
                bank_act += end - bank[gb, B_ACT_T]
            elif c > end:                       # closes (auto-precharge, refresh) after the end
                bank_act -= c - end
        if rank[gr, R_N_OPEN] == 0 and m < end:
            closed += end - m
        if rank[gr, R_IN_PD] and rank[gr, R_PD_ENTER] < end:
            d = end - rank[gr, R_PD_ENTER]
            if rank[gr, R_PD_KIND]:
                apd += d
                bank_act -= d * rank[gr, R_N_OPEN]
            else:
                ppd += d
        out[gr, 0] = end - closed - apd
        out[gr, 1] = closed - ppd
        out[gr, 2] = ppd
        out[gr, 3] = apd
        out[gr, 4] = bank_act
    return out


@njit(cache=True)
def simulate_one(P, trace, resp_out):
    """A whole in-memory decoded trace, one design: (scalars S, latency histogram, background
    cycles). resp_out: (n, 2) acceptance and response cycle per request, or shape (0, 2) for none."""
    S, slots, free, bank, bgn, rank, chan, hist = init_state(P)
    while run(P, trace, 0, True, trace.shape[0], S, slots, free, bank, bgn, rank, chan, hist, resp_out) == NEED_SLOTS:
        slots, free = grow(S, slots, free)
    return S, hist, finish(P, S, bank, rank)   # a stalled run ends with S_DELIVERED < n (checked by the caller)


@njit(cache=True)
def _alloc(Ps):
    n = Ps.shape[0]
    nr_max = 1
    for i in range(n):
        nr_max = max(nr_max, Ps[i, P_NCH] * Ps[i, P_NRANK])
    return (np.zeros((n, N_SCALARS), np.int64), np.zeros((n, HIST_BINS), np.int64),
            np.zeros((n, nr_max, 5), np.int64))


@njit(cache=True)
def _run_into(i, Ps, traces, which, S_all, H_all, B_all):
    S, hist, bg = simulate_one(Ps[i], traces[which[i]], np.zeros((0, 2), np.int64))
    S_all[i] = S
    H_all[i] = hist
    B_all[i, :bg.shape[0]] = bg


@njit(cache=True, parallel=True)
def simulate_batch(Ps, traces, which):
    """Many designs (rows of Ps) on one trace; traces[which[i]] is the trace decoded for design
    i's memory system (arrivals in its clock).
    Returns scalars (n, N_SCALARS), histograms (n, HIST_BINS), background (n, ranks_max, 5)."""
    S_all, H_all, B_all = _alloc(Ps)
    for i in prange(Ps.shape[0]):
        _run_into(i, Ps, traces, which, S_all, H_all, B_all)
    return S_all, H_all, B_all


@njit(cache=True)
def simulate_serial(Ps, traces, which):
    """`simulate_batch` on one thread, for batches too small to pay for the thread-pool launch."""
    S_all, H_all, B_all = _alloc(Ps)
    for i in range(Ps.shape[0]):
        _run_into(i, Ps, traces, which, S_all, H_all, B_all)
    return S_all, H_all, B_all
