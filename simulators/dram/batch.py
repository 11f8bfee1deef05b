"""Traces through the DRAM kernel: closing the background accounts, one design, many designs in
parallel (prange over designs, handed to the threads one at a time) on a whole in-memory trace, and many designs on a trace streamed in
chunks (`BatchState`: every design's kernel state carried from one chunk to the next)."""
from __future__ import annotations

import numpy as np
from numba import njit, parallel_chunksize, prange

from simulators.dram.kernel import run
from simulators.dram.layout import (B_ACT_T, BG_NONE, B_CLOSE_T, B_OPEN_ROW, DONE, HIST_BINS, INF, N_BF, N_CF, N_QF, N_RF,
                                    N_SCALARS, NB_MAX, NEED_SLOTS, P_NBG, P_NBPG, P_NCH, P_NRANK, R_ALLCLOSED, R_APD,
                                    R_BANK_ACT, R_IN_PD, R_N_OPEN, R_PD_ENTER, R_PD_KIND, R_PPD, S_END,
                                    SLOTS0, bnk, grow, init_core, rnk)


@njit(cache=True)
def finish(P, S, bank, rank):
    """Close the background accounts at the end time. Returns per-rank cycles (n_ranks, 5):
    active standby, precharged standby, precharge power-down, active power-down, and bank-active
    cycles summed over the rank's banks (DRAMPower's bank-wise background)."""
    nbanks = P[P_NBG] * P[P_NBPG]
    nr = P[P_NCH] * P[P_NRANK]
    end = S[S_END]
    out = np.zeros((nr, 5), np.int64)
    for gr in range(nr):
        closed = rank[rnk(gr, R_ALLCLOSED)]
        ppd, apd, bank_act = rank[rnk(gr, R_PPD)], rank[rnk(gr, R_APD)], rank[rnk(gr, R_BANK_ACT)]
        m = np.int64(0)
        for gb in range(gr * nbanks, (gr + 1) * nbanks):
            c = bank[bnk(B_CLOSE_T, gb)]
            m = max(m, c)
            if bank[bnk(B_OPEN_ROW, gb)] >= 0 and c == INF:
                bank_act += end - bank[bnk(B_ACT_T, gb)]
            elif c > end:                       # closes (auto-precharge, refresh) after the end
                bank_act -= c - end
        if rank[rnk(gr, R_N_OPEN)] == 0 and m < end:
            closed += end - m
        if rank[rnk(gr, R_IN_PD)] and rank[rnk(gr, R_PD_ENTER)] < end:
            d = end - rank[rnk(gr, R_PD_ENTER)]
            if rank[rnk(gr, R_PD_KIND)]:
                apd += d
                bank_act -= d * rank[rnk(gr, R_N_OPEN)]
            else:
                ppd += d
        out[gr, 0] = end - closed - apd
        out[gr, 1] = closed - ppd
        out[gr, 2] = ppd
        out[gr, 3] = apd
        out[gr, 4] = bank_act
    return out


@njit(cache=True, _nrt=False)
def read_percentiles(hist, n):
    """(p50, p99) in cycles of the n read latencies counted in hist (1-cycle bins; n = S[S_N_RLAT], the
    histogram's total) by the inverted CDF (numpy's method="inverted_cdf": the first bin whose cumulative
    count reaches ceil(q n / 100), at least 1); (0, 0) for none. One pass, which stops at the p99 bin
    instead of a sum and a cumulative sum over all HIST_BINS bins per percentile."""
    if n == 0:
        return 0, 0
    k50 = max(int(np.ceil(50 / 100.0 * n)), 1)
    k99 = max(int(np.ceil(99 / 100.0 * n)), 1)
    c, p50 = 0, -1
    for b in range(hist.shape[0]):
        c += hist[b]
        if p50 < 0 and c >= k50:
            p50 = b
        if c >= k99:
            return p50, b
    return p50, hist.shape[0] - 1


@njit(cache=True)
def simulate_one(P, trace, resp_out, prof):
    """A whole in-memory decoded trace, one design: (scalars S, latency histogram, background
    cycles). resp_out: (n, 2) acceptance and response cycle per request, or shape (0, 2) for none;
    prof: cycles and laps per kernel phase to add to (kernel.lap), or None."""
    hist = np.zeros(HIST_BINS, np.int64)
    S, bg = simulate_into(P, trace, resp_out, prof, hist)
    return S, hist, bg


@njit(cache=True)
def simulate_into(P, trace, resp_out, prof, hist):
    """simulate_one, counting read latencies into `hist` (zeros, HIST_BINS long): (S, background cycles)."""
    S, slots, free, bank, bgn, rank, chan = init_core(P)
    base, last = np.int64(0), np.bool_(True)  # not literals: `run` compiles once (~80 s) for every caller
    while run(P, trace, base, last, trace.shape[0], S, slots, free, bank, bgn, rank, chan, hist, resp_out,
              prof) == NEED_SLOTS:
        slots, free = grow(S, slots, free)
    return S, finish(P, S, bank, rank)   # a stalled run ends with S_DELIVERED < n (checked by the caller)


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
    S, bg = simulate_into(Ps[i], traces[which[i]], np.zeros((0, 2), np.int64), None, H_all[i])   # no copy of 512 KB
    S_all[i] = S
    B_all[i, :bg.shape[0]] = bg


def simulate_batch(Ps, traces, which):
    """Many designs (rows of Ps) on one trace; traces[which[i]] is the trace decoded for design
    i's memory system (arrivals in its clock).
    Returns scalars (n, N_SCALARS), histograms (n, HIST_BINS), background (n, ranks_max, 5)."""
    with parallel_chunksize(1):       # designs differ in cost many times over: hand them out one at a time
        return _simulate_batch(Ps, traces, which)


@njit(cache=True, parallel=True)
def _simulate_batch(Ps, traces, which):
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


@njit(cache=True)
def init_batch(Ps):
    """Every design's fresh kernel state, one row per design, each flat table padded to the largest
    design's size: S (n, N_SCALARS), slots (n, SLOTS0 * N_QF), free (n, SLOTS0), bank, bgn, rank, chan, hist."""
    n = Ps.shape[0]
    ng, nr, nc = 1, 1, 1
    for i in range(n):
        r = Ps[i, P_NCH] * Ps[i, P_NRANK]
        ng, nr, nc = max(ng, r * Ps[i, P_NBG]), max(nr, r), max(nc, Ps[i, P_NCH])
    S_all = np.zeros((n, N_SCALARS), np.int64)
    slots_all = np.zeros((n, SLOTS0 * N_QF), np.int64)
    free_all = np.zeros((n, SLOTS0), np.int64)
    bank_all = np.zeros((n, N_BF * NB_MAX), np.int64)
    bgn_all = np.zeros((n, ng * (BG_NONE + 1)), np.int64)
    rank_all = np.zeros((n, nr * N_RF), np.int64)
    chan_all = np.zeros((n, nc * N_CF), np.int64)
    hist_all = np.zeros((n, HIST_BINS), np.int64)
    for i in range(n):
        S, slots, free, bank, bgn, rank, chan = init_core(Ps[i])
        S_all[i] = S
        slots_all[i] = slots
        free_all[i] = free
        bank_all[i] = bank
        bgn_all[i, :bgn.size] = bgn
        rank_all[i, :rank.size] = rank
        chan_all[i, :chan.size] = chan
    return S_all, slots_all, free_all, bank_all, bgn_all, rank_all, chan_all, hist_all


@njit(cache=True, _nrt=False)
def _run_chunk_one(i, Ps, chunks, which, base, last, n_total, cap, status, S_all, slots_all, free_all, bank_all,
                   bgn_all, rank_all, chan_all, hist_all, no_responses):
    if status[i] == DONE:
        return
    status[i] = run(Ps[i], chunks[which[i]], base, last, n_total, S_all[i], slots_all[i, :cap[i] * N_QF],
                    free_all[i, :cap[i]], bank_all[i], bgn_all[i], rank_all[i], chan_all[i], hist_all[i],
                    no_responses, None)


def run_chunk(Ps, chunks, which, base, last, n_total, cap, status, *state):
    """Every design not yet DONE through one decoded chunk (request ids base..base+k-1;
    chunks[which[i]] is design i's): status[i] becomes DONE, NEED_MORE, NEED_SLOTS or STALLED.
    state: S_all, slots_all, free_all, bank_all, bgn_all, rank_all, chan_all, hist_all."""
    with parallel_chunksize(1):       # one design at a time, as in simulate_batch
        _run_chunk(Ps, chunks, which, base, last, n_total, cap, status, *state)


@njit(cache=True, parallel=True)
def _run_chunk(Ps, chunks, which, base, last, n_total, cap, status, S_all, slots_all, free_all, bank_all, bgn_all,
               rank_all, chan_all, hist_all):
    no_responses = np.zeros((0, 2), np.int64)
    for i in prange(Ps.shape[0]):
        _run_chunk_one(i, Ps, chunks, which, base, last, n_total, cap, status, S_all, slots_all, free_all,
                       bank_all, bgn_all, rank_all, chan_all, hist_all, no_responses)


@njit(cache=True)
def grow_design(i, cap, S_all, slots_all, free_all):
    """`layout.grow` for design i inside the batch tables (widened first if needed): the same new
    free-slot order, so a design runs exactly as it does alone. Returns the (maybe new) tables."""
    c = cap[i]
    if 2 * c > free_all.shape[1]:
        n = slots_all.shape[0]
        wide = np.zeros((n, 2 * c * N_QF), np.int64)
        wide[:, :slots_all.shape[1]] = slots_all
        wfree = np.zeros((n, 2 * c), np.int64)
        wfree[:, :free_all.shape[1]] = free_all
        slots_all, free_all = wide, wfree
    slots, free = grow(S_all[i], slots_all[i, :c * N_QF], free_all[i, :c])
    slots_all[i, :2 * c * N_QF] = slots
    free_all[i, :2 * c] = free
    cap[i] = 2 * c
    return slots_all, free_all


@njit(cache=True)
def finish_batch(Ps, S_all, bank_all, rank_all):
    """`finish` for every design: background cycles (n, ranks_max, 5)."""
    n = Ps.shape[0]
    B_all = np.zeros((n, rank_all.shape[1] // N_RF, 5), np.int64)
    for i in range(n):
        bg = finish(Ps[i], S_all[i], bank_all[i], rank_all[i])
        B_all[i, :bg.shape[0]] = bg
    return B_all
