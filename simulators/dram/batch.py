"""Whole traces through the DRAM kernel: closing the background accounts, one design, and many
designs in parallel (prange over designs)."""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from simulators.dram.kernel import run
from simulators.dram.layout import (B_CLOSE_T, HIST_BINS, N_SCALARS, P_NBG, P_NBPG, P_NCH, P_NRANK, R_ALLCLOSED,
                                    R_APD, R_IN_PD, R_N_OPEN, R_PD_ENTER, R_PD_KIND, R_PPD, S_END, init_state)


@njit(cache=True)
def finish(P, S, bank, rank):
    """Close the background accounts at the end time. Returns per-rank cycles (n_ranks, 4):
    active standby, precharged standby, precharge power-down, active power-down."""
    nbanks = P[P_NBG] * P[P_NBPG]
    nr = rank.shape[0]
    end = S[S_END]
    out = np.zeros((nr, 4), np.int64)
    for gr in range(nr):
        closed = rank[gr, R_ALLCLOSED]
        ppd, apd = rank[gr, R_PPD], rank[gr, R_APD]
        if rank[gr, R_N_OPEN] == 0:
            m = np.int64(0)
            for gb in range(gr * nbanks, (gr + 1) * nbanks):
                m = max(m, bank[gb, B_CLOSE_T])
            if m < end:
                closed += end - m
        if rank[gr, R_IN_PD] and rank[gr, R_PD_ENTER] < end:
            if rank[gr, R_PD_KIND]:
                apd += end - rank[gr, R_PD_ENTER]
            else:
                ppd += end - rank[gr, R_PD_ENTER]
        out[gr, 0] = end - closed - apd
        out[gr, 1] = closed - ppd
        out[gr, 2] = ppd
        out[gr, 3] = apd
    return out


@njit(cache=True)
def simulate_one(P, trace, resp_out):
    """A whole in-memory trace, one design: (scalars S, latency histogram, background cycles).
    resp_out: (n, 2) admission and response cycle per request, or shape (0, 2) for none."""
    S, slots, free, rings, bank, bankq, bgn, rank, chan, hist = init_state(P)
    run(P, trace, 0, True, trace.shape[0], S, slots, free, rings, bank, bankq, bgn, rank, chan, hist, resp_out)
    return S, hist, finish(P, S, bank, rank)


@njit(cache=True)
def _alloc(Ps):
    n = Ps.shape[0]
    nr_max = 1
    for i in range(n):
        nr_max = max(nr_max, Ps[i, P_NCH] * Ps[i, P_NRANK])
    return (np.zeros((n, N_SCALARS), np.int64), np.zeros((n, HIST_BINS), np.int64),
            np.zeros((n, nr_max, 4), np.int64))


@njit(cache=True)
def _run_into(i, Ps, traces, which, S_all, H_all, B_all):
    S, hist, bg = simulate_one(Ps[i], traces[which[i]], np.zeros((0, 2), np.int64))
    S_all[i] = S
    H_all[i] = hist
    B_all[i, :bg.shape[0]] = bg


@njit(cache=True, parallel=True)
def simulate_batch(Ps, traces, which):
    """Many designs (rows of Ps) on one trace; traces[which[i]] is the trace with arrivals in
    design i's clock (designs of different standards have different clocks).
    Returns scalars (n, N_SCALARS), histograms (n, HIST_BINS), background (n, ranks_max, 4)."""
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
