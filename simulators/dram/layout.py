"""Array layouts of the DRAM kernel: knob codes, the parameter vector P, the scalar state S, and
the slot, bank, bank-group, rank and channel tables, plus `init_state`, which allocates them for
one design, and `grow`, which doubles the request slots when more requests are in flight.

The tables are flat int64 arrays with row lengths fixed at compile time, read through the index
helpers below (`bank[bnk(B_X, gb)]` is bank gb's B_X): the address of a field is then a constant
offset from one pointer, with no row length to keep in a register and no negative-index
wraparound (numba emits a sign test for every signed index; the helpers' indices are unsigned).
That takes a fifth of the instructions and a quarter of the data reads per request off 2-D tables
(benchmarks/dram_counts.py in each version; the counts are in the message of the commit that
made the tables flat), for the same results bit for bit; the price is a bank table padded to
NB_MAX banks (125 kB a design). `views` gives the 2-D tables for reading in Python."""
from __future__ import annotations

import numpy as np
from numba import njit

INF = np.int64(1) << 62
HIST_BINS = 1 << 16          # read-latency histogram, 1-cycle bins (last bin holds the overflow)
MAX_ACTIVE = 128             # upper bound of max_active_transactions and request_buffer_size
SLOTS0 = 256                 # initial request slots (grown by doubling)
MAX_BANKS_PER_CHANNEL = 64   # ranks (<= 4) x banks (<= 16): kernel.round_robin's bitmask is one int64
MAX_CHANNELS = 8             # the bank table's stride holds this many; the `channels` knob's upper bound
# the bank table's row length, a compile-time stride; 8 more than the banks so that one bank's fields are not
# 4 KiB apart (in an 8-way L1 cache of 4 KiB ways, as x86 cores have, they would all compete for one set)
NB_MAX = MAX_CHANNELS * MAX_BANKS_PER_CHANNEL + 8

# knob codes (the Python front maps strings to these)
OPEN, OPEN_ADAPTIVE, CLOSED, CLOSED_ADAPTIVE = 0, 1, 2, 3
FIFO_SCHED, FR_FCFS, FR_FCFS_GRP = 0, 1, 2
BANKWISE, READ_WRITE, SHARED = 0, 1, 2
RESP_FIFO, RESP_REORDER = 0, 1
NO_REFRESH, ALL_BANK, PER_BANK = 0, 1, 2
NO_POWER_DOWN, STAGGERED = 0, 1
ARB_SIMPLE, ARB_FIFO, ARB_REORDER, ARB_DS3 = 0, 1, 2, 3
DRAIN_LOW = 8               # DRAMSim3 controller.cc ScheduleTransaction: drain writes above 8 when idle

# P: the parameter vector
(P_CL, P_CWL, P_RCD, P_RP, P_RPAB, P_RAS, P_RC, P_WR, P_RTP, P_RRDS, P_RRDL, P_FAW, P_CCDS, P_CCDL,
 P_WTRS, P_WTRL, P_RFC, P_REFI, P_RFCPB, P_REFIPB, P_XP, P_CKE, P_RTRS, P_BURST,
 P_NCH, P_NRANK, P_NBG, P_NBPG, P_RATIO_NUM, P_RATIO_DEN,
 P_PAGE, P_SCHED, P_SBUF, P_BUFSZ, P_RESPQ, P_REFPOL, P_MAXPOST, P_MAXPULL, P_PDPOL, P_ARB, P_MAXACT,
 N_PARAMS) = range(42)
N_KNOBS = N_PARAMS - P_PAGE

# command codes; bank "next legal" columns are ACT, PRE, RD, WR; rank columns add REFA and PREA
ACT, PRE, RD, WR, REFA, PREA = 0, 1, 2, 3, 4, 5

# S: scalar state and counters
(S_NOW, S_NEXT_ID, S_DELIVERED, S_WAITING, S_SEND_OK, S_ACTIVE, S_PARKED, S_LAST_DELIV,
 S_PEND_HEAD, S_PEND_TAIL, S_UND_HEAD, S_UND_TAIL, S_FREE_N, S_END,
 S_N_ACT, S_N_PRE, S_N_RD, S_N_WR, S_N_REF, S_N_REFPB, S_N_AUTOPRE, S_N_PD, S_N_HITS, S_N_CLOSE,
 S_RLAT_SUM, S_N_RLAT, S_LAT_SUM, S_EVENTS, S_PROGRESS, N_SCALARS) = range(30)   # S_PROGRESS: last acceptance or response

# slot fields (one slot per request in flight); NEXT/PREV link the channel queue, then the bank
# queue; RNEXT the response queue, then the initiator's pending responses; UNEXT the undelivered list;
# TNEXT the bank's transaction-queue list (DRAMSim3 arbiter with a bankwise buffer)
(Q_ID, Q_ADDR, Q_WRITE, Q_BANK, Q_ROW, Q_PUSHED, Q_ACCEPT, Q_DONE, Q_RESPONDED,
 Q_NEXT, Q_PREV, Q_RNEXT, Q_UNEXT, Q_TNEXT, N_QF) = range(15)

# bank fields after the 4 next-legal-time columns
# (B_GR, B_GBG: the bank's global rank and bank group; B_BGCOL: the bank-group column of its cached
# command, BG_NONE for PRE; B_RDACOL: B_RDA for a RD with auto-precharge, else B_ZERO, always 0)
# B_X: the earliest cycle of the cached command by the bank's, rank's and bank group's tables (not the
# command bus), INF when the bank has no request or may not issue; B_CAND_ID: its request's id; B_LOCAL:
# the bank's index in its rank; B_TQH/B_TQT/B_TQI + 0 (reads) or + 1 (writes): the first and last slot
# and the first's id (INF: none) of the bank's requests in the transaction queue, oldest first, kept
# for the DRAMSim3 arbiter with a bankwise buffer: its pick is a min over the banks, not a queue walk;
# B_CH: the bank's channel, a lookup instead of a division per request)
(B_RDA, B_OPEN_ROW, B_CLOSE_T, B_ACT_T, B_CAS, B_HEAD, B_TAIL, B_NQ, B_CAND, B_CMD, B_AUTO, B_GR, B_GBG, B_BGCOL,
 B_RDACOL, B_ZERO, B_X, B_CAND_ID, B_LOCAL, B_TQH, _, B_TQT, _, B_TQI, _, B_CH, N_BF) = range(4, 31)
BG_NONE = 3                  # bank-group columns: ACT, RD, WR, then one that stays 0

# rank fields after the 6 next-legal-time columns (R_FAW0..+3: the last four ACT cycles, a ring)
R_FAW0 = 6
(R_FAW_I, R_TRIGGER, R_STATE, R_COUNTER, R_BLOCKED, R_REMAIN, R_CURRENT, R_SKIP, R_CMD, R_WAKE,
 R_IN_PD, R_PD_ENTER, R_PD_KIND, R_PD_READY, R_NQ, R_N_OPEN, R_ALLCLOSED, R_PPD, R_APD, R_BANK_ACT,
 R_CLOSE_MAX, N_RF) = range(10, 32)   # R_CLOSE_MAX: the latest B_CLOSE_T set in the rank (they only rise)
REGULAR, PULLEDIN = 0, 1
NO_CMD = -1

# channel fields (C_FIFO_*: the arbiter's queue, or the transaction queue's reads; C_WQ_*: its writes)
(C_CMDBUS, C_FIFO_HEAD, C_FIFO_TAIL, C_LAST_END_REQ, C_NR, C_NW, C_LAST_BANK, C_LAST_WRITE,
 C_RQ_HEAD, C_RQ_TAIL, C_RESP_OK, C_RESP_BUSY, C_MIN, C_BEST, C_BEST_GB, C_STALE,
 C_WQ_HEAD, C_WQ_TAIL, C_TQ_NR, C_TQ_NW, C_DRAIN, C_RR, C_RESCAN,
 C_TQ_PICK, C_TQ_PREV, C_TQ_DRAIN, C_TQ_W, C_TQ_DIRTY, C_REF_QUIET, N_CF) = range(30)   # C_RR: DRAMSim3's round-robin bank
# C_STALE: every bank's B_X must be recomputed before the next pick; C_RESCAN: only the pick
# C_TQ_PICK/PREV/DRAIN: frontend.tq_pick's answer and C_TQ_W its direction, valid until C_TQ_DIRTY
# C_REF_QUIET: before this cycle the channel's refresh managers do nothing (min of its ranks' R_WAKE and
# R_TRIGGER with no R_CMD pending; -1: recompute), so the kernel skips their loops

DONE, NEED_MORE, NEED_SLOTS, STALLED = 0, 1, 2, 3
STALL_CYCLES = 1 << 32       # a request in flight this long without progress is a kernel bug


# --- index helpers of the flat tables (unsigned: numba adds no wraparound code) -------------------
@njit(forceinline=True)
def bnk(f, gb):
    """Field f of bank gb (the bank table is field-major: one field of every bank is contiguous)."""
    return np.uint64(f * NB_MAX + gb)


@njit(forceinline=True)
def rnk(gr, f):
    """Field f of rank gr."""
    return np.uint64(gr * N_RF + f)


@njit(forceinline=True)
def chn(ch, f):
    """Field f of channel ch."""
    return np.uint64(ch * N_CF + f)


@njit(forceinline=True)
def grp(gbg, c):
    """Column c of bank group gbg."""
    return np.uint64(gbg * (BG_NONE + 1) + c)


@njit(forceinline=True)
def slt(s, f):
    """Field f of request slot s."""
    return np.uint64(s * N_QF + f)


@njit(cache=True)
def init_state(P):
    """Fresh state arrays for parameter vector P: init_core's and a zero latency histogram."""
    S, slots, free, bank, bgn, rank, chan = init_core(P)
    return S, slots, free, bank, bgn, rank, chan, np.zeros(HIST_BINS, np.int64)


@njit(cache=True)
def init_core(P):
    """Fresh state arrays for parameter vector P but the histogram (S, slots, free, bank, bgn, rank, chan),
    the tables flat."""
    S, slots, free, bank, bgn, rank, chan = _tables(P)
    return S, slots.reshape(-1), free, bank.reshape(-1), bgn.reshape(-1), rank.reshape(-1), chan.reshape(-1)


def views(P, slots, bank, bgn, rank, chan):
    """The flat tables as 2-D views, for reading in Python: slots (capacity, N_QF), bank (N_BF, banks),
    bgn (bank groups, BG_NONE + 1), rank (ranks, N_RF), chan (channels, N_CF)."""
    nb = P[P_NCH] * P[P_NRANK] * P[P_NBG] * P[P_NBPG]
    return (slots.reshape(-1, N_QF), bank.reshape(N_BF, NB_MAX)[:, :nb], bgn.reshape(-1, BG_NONE + 1),
            rank.reshape(-1, N_RF), chan.reshape(-1, N_CF))


@njit(cache=True)
def _tables(P):
    """init_core's tables, 2-D."""
    nch, nrank, nbg, nbpg = P[P_NCH], P[P_NRANK], P[P_NBG], P[P_NBPG]
    nr = nch * nrank
    nbanks = nbg * nbpg
    nb = nr * nbanks
    S = np.zeros(N_SCALARS, np.int64)
    S[S_PARKED] = -1
    S[S_LAST_DELIV] = -1
    S[S_PEND_HEAD] = -1
    S[S_UND_HEAD] = -1
    S[S_FREE_N] = SLOTS0
    slots = np.zeros((SLOTS0, N_QF), np.int64)
    free = np.arange(SLOTS0 - 1, -1, -1).astype(np.int64)   # a stack: slot 0 is popped first
    bank = np.zeros((N_BF, NB_MAX), np.int64)   # field-major, rows padded to the compile-time NB_MAX
    bank[B_OPEN_ROW, :] = -1
    bank[B_HEAD, :] = -1
    bank[B_CAND, :] = -1
    bank[B_RDACOL, :] = B_ZERO
    for gb in range(nb):
        bank[B_GR, gb] = gb // nbanks
        bank[B_GBG, gb] = gb // nbpg
        bank[B_LOCAL, gb] = gb % nbanks
        bank[B_CH, gb] = gb // (nrank * nbanks)
    bank[B_X, :] = INF
    bank[B_TQH:B_TQT + 2, :] = -1
    bank[B_TQI:B_TQI + 2, :] = INF
    bgn = np.zeros((nr * nbg, BG_NONE + 1), np.int64)     # ACT, RD, WR, none
    rank = np.zeros((nr, N_RF), np.int64)
    interval = P[P_REFIPB] if P[P_REFPOL] == PER_BANK else P[P_REFI]
    for gr in range(nr):
        for k in range(4):
            rank[gr, R_FAW0 + k] = -INF
        r = gr % nrank                          # RefreshManagerIF::getTimeForFirstTrigger: bit-reversed ranks
        rev, bits, n = 0, 0, nrank
        while n > 1:
            bits += 1
            n >>= 1
        for k in range(bits):
            rev |= ((r >> k) & 1) << (bits - 1 - k)
        rank[gr, R_TRIGGER] = interval - rev * interval // nrank if P[P_REFPOL] != NO_REFRESH else INF
        rank[gr, R_BLOCKED] = -2
        rank[gr, R_REMAIN] = (1 << nbanks) - 1
        rank[gr, R_CMD] = NO_CMD
        rank[gr, R_WAKE] = INF
    chan = np.zeros((nch, N_CF), np.int64)
    chan[:, C_FIFO_HEAD] = -1
    chan[:, C_WQ_HEAD] = -1
    chan[:, C_LAST_END_REQ] = -1
    chan[:, C_RQ_HEAD] = -1
    chan[:, C_STALE] = 1
    chan[:, C_TQ_DIRTY] = 1
    for ch in range(nch):
        chan[ch, C_LAST_BANK] = ch * nrank * nbanks
    return S, slots, free, bank, bgn, rank, chan


@njit(cache=True)
def grow(S, slots, free):
    """Twice the request slots (flat); the new ones are free."""
    cap = slots.shape[0] // N_QF
    new = np.zeros(2 * cap * N_QF, np.int64)
    new[:cap * N_QF] = slots
    nfree = np.zeros(2 * cap, np.int64)
    k = S[S_FREE_N]
    nfree[:k] = free[:k]
    for s in range(2 * cap - 1, cap - 1, -1):
        nfree[k] = s
        k += 1
    S[S_FREE_N] = k
    return new, nfree
