"""Array layouts of the DRAM kernel: knob codes, the parameter vector P, the scalar state S, and
the slot, bank, rank and channel tables, plus `init_state`, which allocates them for one design."""
from __future__ import annotations

import numpy as np
from numba import njit

INF = np.int64(1) << 62
HIST_BINS = 1 << 16          # read-latency histogram, 1-cycle bins (last bin holds the overflow)
MAX_SLOTS = 128              # upper bound of max_active_transactions

# knob codes (the Python front maps strings to these)
OPEN, OPEN_ADAPTIVE, CLOSED, CLOSED_ADAPTIVE = 0, 1, 2, 3
FIFO_SCHED, FR_FCFS, FR_FCFS_GRP = 0, 1, 2
BANKWISE, READ_WRITE, SHARED = 0, 1, 2
RESP_FIFO, RESP_REORDER = 0, 1
NO_REFRESH, ALL_BANK, PER_BANK = 0, 1, 2
NO_POWER_DOWN, STAGGERED = 0, 1
ARB_SIMPLE, ARB_FIFO, ARB_REORDER = 0, 1, 2

# P: the parameter vector
(P_CL, P_CWL, P_RCD, P_RP, P_RPAB, P_RAS, P_RC, P_WR, P_RTP, P_RRDS, P_RRDL, P_FAW, P_CCDS, P_CCDL,
 P_WTRS, P_WTRL, P_RFC, P_REFI, P_RFCPB, P_REFIPB, P_XP, P_CKE, P_RTRS, P_BURST,
 P_NCH, P_NRANK, P_NBG, P_NBPG,
 P_SH_CH, P_MK_CH, P_SH_RA, P_MK_RA, P_SH_BG, P_MK_BG, P_SH_BA, P_MK_BA, P_SH_RO, P_MK_RO,
 P_PAGE, P_SCHED, P_SBUF, P_BUFSZ, P_RESPQ, P_REFPOL, P_MAXPOST, P_MAXPULL, P_PDPOL, P_ARB, P_MAXACT,
 N_PARAMS) = range(50)

# command codes; also the first columns of the bank, bank-group and rank "next legal time" tables
ACT, PRE, RD, WR, REF = 0, 1, 2, 3, 4

# S: scalar state and counters
(S_NOW, S_NEXT_ID, S_ACTIVE, S_RELEASED, S_LAST_ADMIT, S_LAST_XFER, S_LAST_RESP,
 S_ARB_HEAD, S_ARB_N, S_RING_HEAD, S_RING_N, S_RD_HEAD, S_RD_N, S_WR_HEAD, S_WR_N, S_FREE_N, S_END,
 S_N_ACT, S_N_PRE, S_N_RD, S_N_WR, S_N_REF, S_N_REFPB, S_N_AUTOPRE, S_N_PD, S_N_HITS,
 S_RLAT_SUM, S_N_RLAT, S_LAT_SUM, S_EVENTS, N_SCALARS) = range(31)   # S_EVENTS: event times visited

# slot fields (one slot per active request)
(Q_ID, Q_ADMIT, Q_WRITE, Q_CH, Q_RANK, Q_BANK, Q_BGI, Q_ROW, Q_DONE, Q_ACTED, N_QF) = range(11)
# bank fields after the 4 next-legal-time columns
# B_CAND caches the scheduler's pick (-1: empty buffer), with its command, mux key and bank-group row
B_OPEN_ROW, B_CLOSE_T, B_NQ, B_CAND, B_CMD, B_KEY, B_GBG, N_BF = range(4, 12)
# rank fields after the 5 next-legal-time columns
# (R_FAW0..R_FAW0+3: the last four ACT cycles, a ring; R_ALLCLOSED, R_PPD, R_APD: background cycles)
R_FAW0 = 5
(R_FAW_I, R_REF_TICK, R_REF_DEBT, R_REF_BANK, R_IN_PD, R_PD_ENTER, R_PD_KIND, R_PD_READY,
 R_NQ, R_N_OPEN, R_ALLCLOSED, R_PPD, R_APD, N_RF) = range(9, 23)
# channel fields
(C_CMDBUS, C_LAST_DIR, C_NR, C_NW,
 C_MIN, C_BEST, C_BEST_GB, C_BEST_C, C_BEST_KEY, C_DIRTY, C_STALE, N_CF) = range(12)

DONE, NEED_MORE = 0, 1


@njit(cache=True)
def init_state(P):
    """Fresh state arrays for parameter vector P."""
    nch, nrank, nbg, nbpg = P[P_NCH], P[P_NRANK], P[P_NBG], P[P_NBPG]
    nr = nch * nrank
    nb = nr * nbg * nbpg
    S = np.zeros(N_SCALARS, np.int64)
    S[S_LAST_ADMIT] = -1
    S[S_LAST_XFER] = -1
    S[S_FREE_N] = P[P_MAXACT]
    slots = np.zeros((MAX_SLOTS, N_QF), np.int64)
    free = np.arange(MAX_SLOTS - 1, -1, -1).astype(np.int64)   # a stack: slot 0 is popped first
    rings = np.zeros((4, MAX_SLOTS), np.int64)                  # arbiter, admission, read-done, write-done
    bank = np.zeros((nb, N_BF), np.int64)
    bank[:, B_OPEN_ROW] = -1
    bank[:, B_CAND] = -1
    bankq = np.zeros((nb, 2 * P[P_BUFSZ]), np.int64)
    bgn = np.zeros((nr * nbg, 5), np.int64)
    rank = np.zeros((nr, N_RF), np.int64)
    for gr in range(nr):
        for k in range(4):
            rank[gr, R_FAW0 + k] = -INF
        interval = P[P_REFI] if P[P_REFPOL] == ALL_BANK else P[P_REFIPB]
        rank[gr, R_REF_TICK] = ((gr % nrank) + 1) * interval // nrank if P[P_REFPOL] != NO_REFRESH else INF
    chan = np.zeros((nch, N_CF), np.int64)
    chan[:, C_STALE] = 1
    hist = np.zeros(HIST_BINS, np.int64)
    return S, slots, free, rings, bank, bankq, bgn, rank, chan, hist
