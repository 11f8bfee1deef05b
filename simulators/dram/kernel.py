"""The DRAM controller as a cycle-skipping numba kernel over plain int64 arrays.

Every cycle t of the controller clock runs the same phases as the simpy golden model
(reference.py), in this order:
  1. responses: completed requests leave (in completion order, or admission order for a fifo
     response queue) and free their place in the active window;
  2. refresh timers: each rank (or bank, per-bank refresh) earns one refresh credit every tREFI;
  3. admission: the next trace request is admitted if it has arrived and fewer than
     max_active_transactions are active (one per cycle);
  4. arbiter: one admitted request moves into its bank's scheduler buffer if the buffer has room
     (simple/fifo: the oldest only, fifo one cycle after admission; reorder: the oldest that fits);
  5. commands: each channel issues at most one command, refresh first, else the ready command of
     the oldest request among the banks' scheduler picks;
  6. power-down: idle ranks enter power-down.
Nothing can change between two events, so the kernel jumps from one event time to the next
(cycle skipping); the differential test checks it against the per-cycle simpy model.

Each bank caches its scheduler pick (recomputed whenever its buffer or open row changes), and each
channel caches the command it would issue next, so an event costs one pass over the banks.
Helpers are compiled with `_nrt=False`: they never allocate, and skipping numba's reference
counting on their array arguments halves the time per event.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from simulators.dram.layout import (ACT, ALL_BANK, ARB_FIFO, ARB_REORDER, BANKWISE, B_CAND, B_CLOSE_T, B_CMD, B_GBG,
                                    B_KEY, B_NQ, B_OPEN_ROW, CLOSED, CLOSED_ADAPTIVE, C_BEST, C_BEST_C, C_BEST_GB,
                                    C_BEST_KEY, C_CMDBUS, C_DIRTY, C_LAST_DIR, C_MIN, C_NR, C_NW, C_STALE, DONE,
                                    FIFO_SCHED, FR_FCFS_GRP, HIST_BINS, INF, MAX_SLOTS, NEED_MORE, NO_REFRESH,
                                    OPEN_ADAPTIVE, PER_BANK, PRE, P_ARB, P_BUFSZ, P_BURST, P_CCDL, P_CCDS, P_CKE,
                                    P_CL, P_CWL, P_FAW, P_MAXACT, P_MAXPOST, P_MAXPULL, P_MK_BA, P_MK_BG, P_MK_CH,
                                    P_MK_RA, P_MK_RO, P_NBG, P_NBPG, P_NCH, P_NRANK, P_PAGE, P_PDPOL, P_RAS, P_RC,
                                    P_RCD, P_REFI, P_REFIPB, P_REFPOL, P_RESPQ, P_RFC, P_RFCPB, P_RP, P_RPAB, P_RRDL,
                                    P_RRDS, P_RTP, P_RTRS, P_SBUF, P_SCHED, P_SH_BA, P_SH_BG, P_SH_CH, P_SH_RA,
                                    P_SH_RO, P_WR, P_WTRL, P_WTRS, P_XP, Q_ACTED, Q_ADMIT, Q_BANK, Q_BGI, Q_CH,
                                    Q_DONE, Q_ID, Q_RANK, Q_ROW, Q_WRITE, RD, READ_WRITE, REF, RESP_FIFO,
                                    RESP_REORDER, R_ALLCLOSED, R_FAW0, R_FAW_I, R_IN_PD, R_NQ, R_N_OPEN, R_PD_ENTER,
                                    R_PD_KIND, R_PD_READY, R_PPD, R_REF_BANK, R_REF_DEBT, R_REF_TICK, STAGGERED,
                                    S_ACTIVE, S_ARB_HEAD, S_ARB_N, S_END, S_EVENTS, S_FREE_N, S_LAST_ADMIT,
                                    S_LAST_RESP, S_LAST_XFER, S_LAT_SUM, S_NEXT_ID, S_NOW, S_N_ACT, S_N_AUTOPRE,
                                    S_N_HITS, S_N_PD, S_N_PRE, S_N_RD, S_N_REF, S_N_REFPB, S_N_RLAT, S_N_WR,
                                    S_RD_HEAD, S_RD_N, S_RELEASED, S_RING_HEAD, S_RING_N, S_RLAT_SUM, S_WR_HEAD,
                                    S_WR_N, WR)


@njit(cache=True, _nrt=False, inline="always")
def _pick(P, slots, bank, bankq, chan, gb):
    """The scheduler's request for bank gb (a slot), or -1 if its buffer is empty."""
    n = bank[gb, B_NQ]
    if n == 0:
        return -1
    open_row = bank[gb, B_OPEN_ROW]
    if P[P_SCHED] == FIFO_SCHED or open_row < 0:
        return bankq[gb, 0]
    hit = -1
    if P[P_SCHED] == FR_FCFS_GRP:
        want = chan[slots[bankq[gb, 0], Q_CH], C_LAST_DIR]
        for k in range(n):
            s = bankq[gb, k]
            if slots[s, Q_ROW] == open_row and slots[s, Q_WRITE] == want:
                return s
    for k in range(n):
        s = bankq[gb, k]
        if slots[s, Q_ROW] == open_row:
            hit = s
            break
    return hit if hit >= 0 else bankq[gb, 0]


@njit(cache=True, _nrt=False, inline="always")
def _command(slots, bank, s, gb):
    """The next command request s needs at bank gb."""
    open_row = bank[gb, B_OPEN_ROW]
    if open_row == slots[s, Q_ROW]:
        return WR if slots[s, Q_WRITE] else RD
    return PRE if open_row >= 0 else ACT


@njit(cache=True, _nrt=False, inline="always")
def _room(P, bank, chan, gb, ch, write):
    """Whether bank gb's scheduler buffer accepts one more request."""
    if P[P_SBUF] == BANKWISE:
        return bank[gb, B_NQ] < P[P_BUFSZ]
    if P[P_SBUF] == READ_WRITE:
        return (chan[ch, C_NW] if write else chan[ch, C_NR]) < P[P_BUFSZ]
    return chan[ch, C_NR] + chan[ch, C_NW] < P[P_BUFSZ]


@njit(cache=True, _nrt=False, inline="always")
def _wants_refresh(P, bank, rank, gr, nbanks):
    """Refresh wanted: forced when more than refresh_max_postponed credits are owed, else when the
    rank (per-bank: the target bank) is idle and fewer than refresh_max_pulledin were pulled in."""
    debt = rank[gr, R_REF_DEBT]
    if debt > P[P_MAXPOST]:
        return True
    if debt <= -P[P_MAXPULL] or rank[gr, R_IN_PD]:
        return False
    if P[P_REFPOL] == ALL_BANK:
        return rank[gr, R_NQ] == 0
    return bank[gr * nbanks + rank[gr, R_REF_BANK], B_NQ] == 0


@njit(cache=True, _nrt=False, inline="always")
def _forced(P, rank, gr):
    """More than refresh_max_postponed credits owed: rank gr must refresh before anything else."""
    return rank[gr, R_REF_DEBT] > P[P_MAXPOST]


@njit(cache=True, _nrt=False, inline="always")
def _refresh_command(P, bank, rank, chan, gr, ch, nbanks):
    """(command, legal cycle) of the refresh work of rank gr: PRE/PREA first, then REF."""
    b0 = gr * nbanks
    if P[P_REFPOL] == PER_BANK:
        gb = b0 + rank[gr, R_REF_BANK]
        if bank[gb, B_OPEN_ROW] >= 0:
            return PRE, max(bank[gb, PRE], rank[gr, PRE], chan[ch, C_CMDBUS])
        return REF, max(bank[gb, ACT], rank[gr, REF], chan[ch, C_CMDBUS])
    if rank[gr, R_N_OPEN] > 0:
        t = max(rank[gr, PRE], chan[ch, C_CMDBUS])
        for gb in range(b0, b0 + nbanks):
            if bank[gb, B_OPEN_ROW] >= 0:
                t = max(t, bank[gb, PRE])
        return PRE, t
    t = max(rank[gr, REF], chan[ch, C_CMDBUS])
    for gb in range(b0, b0 + nbanks):
        t = max(t, bank[gb, ACT])
    return REF, t


@njit(cache=True, _nrt=False, inline="always")
def _close(P, bank, rank, gb, gr, t):
    """Bank gb's row closes at cycle t (PRE, PREA or auto-precharge)."""
    bank[gb, B_OPEN_ROW] = -1
    bank[gb, B_CLOSE_T] = t
    rank[gr, R_N_OPEN] -= 1
    rank[gr, R_PD_READY] = max(rank[gr, R_PD_READY], t + 1)


@njit(cache=True, _nrt=False, inline="always")
def _activity(bank, rank, gr, t, nbanks):
    """Account the all-banks-precharged time of rank gr that ends with an ACT or REF at cycle t."""
    if rank[gr, R_N_OPEN] == 0:
        m = np.int64(0)
        for gb in range(gr * nbanks, (gr + 1) * nbanks):
            m = max(m, bank[gb, B_CLOSE_T])
        if m < t:
            rank[gr, R_ALLCLOSED] += t - m


@njit(cache=True, _nrt=False)
def _update_channel(P, slots, bank, bankq, chan, ch, nrank, nbanks):
    """Recompute every bank's pick in channel ch (fr_fcfs_grp: the bus direction changed)."""
    for gb in range(ch * nrank * nbanks, (ch + 1) * nrank * nbanks):
        _update_choice(P, slots, bank, bankq, chan, gb)


@njit(cache=True, _nrt=False)
def _issue_refresh(P, S, slots, bank, bankq, rank, chan, gr, ch, c, t, nbanks):
    """Issue refresh work c (PRE: PREA or the target bank's PRE; REF) for rank gr at cycle t."""
    b0 = gr * nbanks
    chan[ch, C_CMDBUS] = t + 1
    chan[ch, C_STALE] = 1
    if c == PRE:
        S[S_N_PRE] += 1
        for gb in range(b0, b0 + nbanks):
            target = P[P_REFPOL] == ALL_BANK or gb - b0 == rank[gr, R_REF_BANK]
            if target and bank[gb, B_OPEN_ROW] >= 0:
                _close(P, bank, rank, gb, gr, t)
                bank[gb, ACT] = max(bank[gb, ACT], t + (P[P_RPAB] if P[P_REFPOL] == ALL_BANK else P[P_RP]))
                _update_choice(P, slots, bank, bankq, chan, gb)
        return
    _activity(bank, rank, gr, t, nbanks)
    rank[gr, R_REF_DEBT] -= 1
    if P[P_REFPOL] == ALL_BANK:
        S[S_N_REF] += 1
        for gb in range(b0, b0 + nbanks):
            bank[gb, ACT] = max(bank[gb, ACT], t + P[P_RFC])
            bank[gb, B_CLOSE_T] = t + P[P_RFC]
        rank[gr, REF] = max(rank[gr, REF], t + P[P_RFC])
        rank[gr, R_PD_READY] = max(rank[gr, R_PD_READY], t + P[P_RFC])
    else:
        S[S_N_REFPB] += 1
        gb = b0 + rank[gr, R_REF_BANK]
        bank[gb, ACT] = max(bank[gb, ACT], t + P[P_RFCPB])
        bank[gb, B_CLOSE_T] = t + P[P_RFCPB]
        rank[gr, R_PD_READY] = max(rank[gr, R_PD_READY], t + P[P_RFCPB])
        rank[gr, R_REF_BANK] = (rank[gr, R_REF_BANK] + 1) % nbanks


@njit(cache=True, _nrt=False, inline="always")
def _issue_request(P, S, slots, rings, bank, bankq, bgn, rank, chan, s, gb, c, t, nbanks, nrank):
    """Issue command c for slot s at cycle t and update every timing table."""
    ch, gr, bgi = slots[s, Q_CH], slots[s, Q_RANK], slots[s, Q_BGI]
    gbg = gr * P[P_NBG] + bgi
    burst = P[P_BURST]
    chan[ch, C_CMDBUS] = t + 1
    chan[ch, C_STALE] = 1
    if c == ACT:
        _activity(bank, rank, gr, t, nbanks)
        S[S_N_ACT] += 1
        slots[s, Q_ACTED] = 1
        bank[gb, B_OPEN_ROW] = slots[s, Q_ROW]
        bank[gb, B_CLOSE_T] = INF
        rank[gr, R_N_OPEN] += 1
        bank[gb, RD] = max(bank[gb, RD], t + P[P_RCD])
        bank[gb, WR] = max(bank[gb, WR], t + P[P_RCD])
        bank[gb, PRE] = max(bank[gb, PRE], t + P[P_RAS])
        bank[gb, ACT] = max(bank[gb, ACT], t + P[P_RC])
        bgn[gbg, ACT] = max(bgn[gbg, ACT], t + P[P_RRDL])
        i = rank[gr, R_FAW_I]
        rank[gr, R_FAW0 + i] = t
        i = (i + 1) % 4
        rank[gr, R_FAW_I] = i
        rank[gr, ACT] = max(rank[gr, ACT], t + P[P_RRDS], rank[gr, R_FAW0 + i] + P[P_FAW])
        rank[gr, R_PD_READY] = max(rank[gr, R_PD_READY], t + 1)
        _update_choice(P, slots, bank, bankq, chan, gb)
        return
    if c == PRE:
        S[S_N_PRE] += 1
        _close(P, bank, rank, gb, gr, t)
        bank[gb, ACT] = max(bank[gb, ACT], t + P[P_RP])
        _update_choice(P, slots, bank, bankq, chan, gb)
        return
    # a column command: RD or WR, with auto-precharge by page policy
    write = c == WR
    row = slots[s, Q_ROW]
    n = bank[gb, B_NQ]
    page = P[P_PAGE]
    other_hit = False
    other_miss = False
    if page == OPEN_ADAPTIVE or page == CLOSED_ADAPTIVE:   # look at the rest of the bank's buffer
        for k in range(n):
            o = bankq[gb, k]
            if o != s:
                if slots[o, Q_ROW] == row:
                    other_hit = True
                else:
                    other_miss = True
    k_s = 0
    while bankq[gb, k_s] != s:
        k_s += 1
    for k in range(k_s, n - 1):
        bankq[gb, k] = bankq[gb, k + 1]
    bank[gb, B_NQ] = n - 1
    rank[gr, R_NQ] -= 1
    auto = (page == CLOSED or (page == CLOSED_ADAPTIVE and not other_hit)
            or (page == OPEN_ADAPTIVE and other_miss and not other_hit))
    if write:
        S[S_N_WR] += 1
        chan[ch, C_NW] -= 1
        slots[s, Q_DONE] = t + P[P_CWL] + burst
        bgn[gbg, WR] = max(bgn[gbg, WR], t + P[P_CCDL])
        bgn[gbg, RD] = max(bgn[gbg, RD], t + P[P_CWL] + burst + P[P_WTRL])
        rank[gr, WR] = max(rank[gr, WR], t + P[P_CCDS])
        rank[gr, RD] = max(rank[gr, RD], t + P[P_CWL] + burst + P[P_WTRS])
        bank[gb, PRE] = max(bank[gb, PRE], t + P[P_CWL] + burst + P[P_WR])
        rank[gr, R_PD_READY] = max(rank[gr, R_PD_READY], t + P[P_CWL] + burst + P[P_WR])
    else:
        S[S_N_RD] += 1
        chan[ch, C_NR] -= 1
        slots[s, Q_DONE] = t + P[P_CL] + burst
        bgn[gbg, RD] = max(bgn[gbg, RD], t + P[P_CCDL])
        rank[gr, RD] = max(rank[gr, RD], t + P[P_CCDS])
        rank[gr, WR] = max(rank[gr, WR], t + P[P_CL] + burst + 2 - P[P_CWL])
        bank[gb, PRE] = max(bank[gb, PRE], t + P[P_RTP])
        rank[gr, R_PD_READY] = max(rank[gr, R_PD_READY], t + P[P_CL] + burst + 1)
    r0 = ch * nrank
    for g2 in range(r0, r0 + nrank):       # rank-to-rank switches on the shared data bus
        if g2 != gr:
            if write:
                rank[g2, RD] = max(rank[g2, RD], t + P[P_CWL] + burst + P[P_RTRS] - P[P_CL])
                rank[g2, WR] = max(rank[g2, WR], t + burst)
            else:
                rank[g2, RD] = max(rank[g2, RD], t + burst + P[P_RTRS])
                rank[g2, WR] = max(rank[g2, WR], t + P[P_CL] + burst + P[P_RTRS] - P[P_CWL])
    if slots[s, Q_ACTED] == 0:
        S[S_N_HITS] += 1
    turned = chan[ch, C_LAST_DIR] != write
    chan[ch, C_LAST_DIR] = write
    if auto:
        S[S_N_AUTOPRE] += 1
        p = bank[gb, PRE]
        _close(P, bank, rank, gb, gr, p)
        bank[gb, ACT] = max(bank[gb, ACT], p + P[P_RP])
    if P[P_SCHED] == FR_FCFS_GRP and turned:
        _update_channel(P, slots, bank, bankq, chan, ch, nrank, nbanks)
    else:
        _update_choice(P, slots, bank, bankq, chan, gb)
    if P[P_RESPQ] == RESP_REORDER:      # completion-ordered queues, one per direction
        r = 3 if write else 2
        h, m = (S_WR_HEAD, S_WR_N) if write else (S_RD_HEAD, S_RD_N)
        rings[r, (S[h] + S[m]) % MAX_SLOTS] = s
        S[m] += 1


@njit(cache=True, _nrt=False, inline="always")
def _release(P, S, slots, free, hist, resp_out, s, t):
    """Request in slot s responds at cycle t."""
    lat = t - slots[s, Q_ADMIT]
    if slots[s, Q_WRITE] == 0:
        S[S_RLAT_SUM] += lat
        S[S_N_RLAT] += 1
        hist[min(lat, HIST_BINS - 1)] += 1
    S[S_LAT_SUM] += lat
    if resp_out.shape[0]:
        resp_out[slots[s, Q_ID], 0] = slots[s, Q_ADMIT]
        resp_out[slots[s, Q_ID], 1] = t
    S[S_LAST_RESP] = t
    S[S_END] = max(S[S_END], t)
    S[S_ACTIVE] -= 1
    S[S_RELEASED] += 1
    free[S[S_FREE_N]] = s
    S[S_FREE_N] += 1


@njit(cache=True, _nrt=False, inline="always")
def _arbiter_pick(P, slots, rings, bank, chan, S):
    """The arbiter's next request to move into a scheduler buffer (a slot), or -1."""
    for k in range(S[S_ARB_N]):
        s = rings[0, (S[S_ARB_HEAD] + k) % MAX_SLOTS]
        if _room(P, bank, chan, slots[s, Q_BANK], slots[s, Q_CH], slots[s, Q_WRITE]):
            return k
        if P[P_ARB] != ARB_REORDER:
            return -1
    return -1


@njit(cache=True, _nrt=False, inline="always")
def _blocked(P, rank, gr):
    """Bank of rank gr a forced refresh blocks: -2 none, -1 every bank, else that bank."""
    if P[P_REFPOL] == NO_REFRESH or not _forced(P, rank, gr):
        return -2
    return -1 if P[P_REFPOL] == ALL_BANK else rank[gr, R_REF_BANK]


@njit(cache=True, _nrt=False, inline="always")
def _update_choice(P, slots, bank, bankq, chan, gb):
    """Recompute bank gb's cached pick, its command, mux key and bank-group row. Called whenever
    the bank's buffer or open row changes, so the per-event scan only reads the cache."""
    if bank[gb, B_NQ] == 0:
        bank[gb, B_CAND] = -1
        return
    s = _pick(P, slots, bank, bankq, chan, gb)
    c = _command(slots, bank, s, gb)
    bank[gb, B_CAND] = s
    bank[gb, B_CMD] = c
    bank[gb, B_KEY] = _key(P, slots, chan, s, c, slots[s, Q_CH])
    bank[gb, B_GBG] = slots[s, Q_RANK] * P[P_NBG] + slots[s, Q_BGI]


@njit(cache=True, _nrt=False, inline="always")
def _bank_time(bank, bgn, rank, gb, gr, floor):
    """Earliest cycle >= floor for the command of bank gb's pick (bank, bank-group, rank limits)."""
    c = bank[gb, B_CMD]
    return max(bank[gb, c], bgn[bank[gb, B_GBG], c], rank[gr, c], floor)


@njit(cache=True, _nrt=False, inline="always")
def _key(P, slots, chan, s, c, ch):
    """Command-mux priority (lower first): the oldest request; fr_fcfs_grp puts column commands
    against the current bus direction last."""
    key = slots[s, Q_ID]
    if P[P_SCHED] == FR_FCFS_GRP and c >= RD and (c == WR) != chan[ch, C_LAST_DIR]:
        key += INF
    return key


@njit(cache=True, _nrt=False, inline="always")
def _scan_channel(P, slots, bank, bankq, bgn, rank, chan, ch, now, nrank, nbanks):
    """Store in chan[ch] the earliest cycle >= now at which a request command can issue
    (C_MIN) and the command the mux would pick then (C_BEST, C_BEST_GB, C_BEST_C)."""
    floor = max(now, chan[ch, C_CMDBUS])
    best_t, best_key, best_gb = INF, INF, -1
    for gr in range(ch * nrank, (ch + 1) * nrank):
        blocked = _blocked(P, rank, gr)
        if rank[gr, R_NQ] == 0 or blocked == -1:
            continue
        for gb in range(gr * nbanks, (gr + 1) * nbanks):
            if bank[gb, B_NQ] == 0 or blocked == gb - gr * nbanks:
                continue
            tl = _bank_time(bank, bgn, rank, gb, gr, floor)
            key = bank[gb, B_KEY]
            if (tl < best_t) | ((tl == best_t) & (key < best_key)):
                best_t, best_key, best_gb = tl, key, gb
    chan[ch, C_MIN] = best_t
    chan[ch, C_DIRTY] = 0
    chan[ch, C_STALE] = 0
    chan[ch, C_BEST] = -1
    if best_gb >= 0:
        chan[ch, C_BEST] = bank[best_gb, B_CAND]
        chan[ch, C_BEST_GB] = best_gb
        chan[ch, C_BEST_C] = bank[best_gb, B_CMD]
        chan[ch, C_BEST_KEY] = best_key


@njit(cache=True, _nrt=False, inline="always")
def _merge_bank(P, bank, bgn, rank, chan, ch, gb, t, nbanks):
    """Bank gb got a new request at cycle t: update channel ch's pick without a full rescan."""
    if chan[ch, C_BEST_GB] == gb and chan[ch, C_BEST] >= 0:
        chan[ch, C_DIRTY] = 1
        return
    gr = gb // nbanks
    blocked = _blocked(P, rank, gr)
    if blocked == -1 or blocked == gb - gr * nbanks or _bank_time(bank, bgn, rank, gb, gr, t) > t:
        return
    key = bank[gb, B_KEY]
    if chan[ch, C_MIN] > t or key < chan[ch, C_BEST_KEY]:
        chan[ch, C_MIN] = t
        chan[ch, C_BEST] = bank[gb, B_CAND]
        chan[ch, C_BEST_GB] = gb
        chan[ch, C_BEST_C] = bank[gb, B_CMD]
        chan[ch, C_BEST_KEY] = key


@njit(cache=True, _nrt=False)
def run(P, trace, base, last, n_total, S, slots, free, rings, bank, bankq, bgn, rank, chan, hist, resp_out):
    """Simulate until every request is answered (returns DONE), or until the next request lies
    beyond this chunk of the trace (returns NEED_MORE; call again with the next chunk).
    trace: (k, 3) int64 (address, is_write, arrival in controller cycles) for ids base..base+k-1."""
    nrank = P[P_NRANK]
    nbg = P[P_NBG]
    nbanks = nbg * P[P_NBPG]
    nch = P[P_NCH]
    nr = nch * nrank
    k_avail = base + trace.shape[0]
    delay = 1 if P[P_ARB] == ARB_FIFO else 0
    while True:
        now = S[S_NOW]
        nxt = S[S_NEXT_ID]
        if S[S_RELEASED] == n_total:
            return DONE
        if nxt == k_avail and not last:
            return NEED_MORE
        # ---- the next event time ------------------------------------------------------------
        T = INF
        if P[P_RESPQ] == RESP_FIFO:
            if S[S_RING_N] > 0:
                s = rings[1, S[S_RING_HEAD]]
                if slots[s, Q_DONE] >= 0:
                    T = min(T, max(slots[s, Q_DONE], S[S_LAST_RESP]))
        else:
            if S[S_RD_N] > 0:
                T = min(T, slots[rings[2, S[S_RD_HEAD]], Q_DONE])
            if S[S_WR_N] > 0:
                T = min(T, slots[rings[3, S[S_WR_HEAD]], Q_DONE])
        for gr in range(nr):
            T = min(T, rank[gr, R_REF_TICK])
        if nxt < k_avail and S[S_ACTIVE] < P[P_MAXACT]:
            T = min(T, max(trace[nxt - base, 2], S[S_LAST_ADMIT] + 1))
        if S[S_ARB_N] > 0:
            k = _arbiter_pick(P, slots, rings, bank, chan, S)
            if k >= 0:
                s = rings[0, (S[S_ARB_HEAD] + k) % MAX_SLOTS]
                T = min(T, max(slots[s, Q_ADMIT] + delay, S[S_LAST_XFER] + 1))
        for ch in range(nch):
            if P[P_REFPOL] != NO_REFRESH:
                for gr in range(ch * nrank, (ch + 1) * nrank):
                    if _wants_refresh(P, bank, rank, gr, nbanks):
                        c, tl = _refresh_command(P, bank, rank, chan, gr, ch, nbanks)
                        T = min(T, tl)
            if chan[ch, C_STALE] or chan[ch, C_DIRTY]:   # else nothing changed since the last scan
                _scan_channel(P, slots, bank, bankq, bgn, rank, chan, ch, now, nrank, nbanks)
            T = min(T, chan[ch, C_MIN])
        if P[P_PDPOL] == STAGGERED:
            for gr in range(nr):
                if rank[gr, R_IN_PD] == 0 and rank[gr, R_NQ] == 0 and not (
                        P[P_REFPOL] != NO_REFRESH and _wants_refresh(P, bank, rank, gr, nbanks)):
                    T = min(T, rank[gr, R_PD_READY])
        if T >= INF:
            return DONE   # unreachable for valid input: something is always pending
        t = max(T, now)
        S[S_EVENTS] += 1
        # ---- 1. responses ----------------------------------------------------------------------
        if P[P_RESPQ] == RESP_FIFO:
            while S[S_RING_N] > 0:
                s = rings[1, S[S_RING_HEAD]]
                if slots[s, Q_DONE] < 0 or max(slots[s, Q_DONE], S[S_LAST_RESP]) > t:
                    break
                S[S_RING_HEAD] = (S[S_RING_HEAD] + 1) % MAX_SLOTS
                S[S_RING_N] -= 1
                _release(P, S, slots, free, hist, resp_out, s, max(slots[s, Q_DONE], S[S_LAST_RESP]))
        else:
            for r, h, m in ((2, S_RD_HEAD, S_RD_N), (3, S_WR_HEAD, S_WR_N)):
                while S[m] > 0 and slots[rings[r, S[h]], Q_DONE] <= t:
                    s = rings[r, S[h]]
                    S[h] = (S[h] + 1) % MAX_SLOTS
                    S[m] -= 1
                    _release(P, S, slots, free, hist, resp_out, s, slots[s, Q_DONE])
        # ---- 2. refresh timers -----------------------------------------------------------------
        if P[P_REFPOL] != NO_REFRESH:
            interval = P[P_REFI] if P[P_REFPOL] == ALL_BANK else P[P_REFIPB]
            for gr in range(nr):
                while rank[gr, R_REF_TICK] <= t:
                    rank[gr, R_REF_TICK] += interval
                    rank[gr, R_REF_DEBT] += 1
                    chan[gr // nrank, C_DIRTY] = 1
                if rank[gr, R_IN_PD] and _forced(P, rank, gr):
                    _pd_exit(P, rank, gr, t)
        # ---- 3. admission ----------------------------------------------------------------------
        if (nxt < k_avail and S[S_ACTIVE] < P[P_MAXACT] and trace[nxt - base, 2] <= t
                and S[S_LAST_ADMIT] < t):
            S[S_FREE_N] -= 1
            s = free[S[S_FREE_N]]
            row = trace[nxt - base]
            a = row[0]
            ch = (a >> P[P_SH_CH]) & P[P_MK_CH]
            gr = ch * nrank + ((a >> P[P_SH_RA]) & P[P_MK_RA])
            bgi = (a >> P[P_SH_BG]) & P[P_MK_BG]
            slots[s, Q_ID] = nxt
            slots[s, Q_ADMIT] = t
            slots[s, Q_WRITE] = row[1]
            slots[s, Q_CH] = ch
            slots[s, Q_RANK] = gr
            slots[s, Q_BGI] = bgi
            slots[s, Q_BANK] = gr * nbanks + bgi * P[P_NBPG] + ((a >> P[P_SH_BA]) & P[P_MK_BA])
            slots[s, Q_ROW] = (a >> P[P_SH_RO]) & P[P_MK_RO]
            slots[s, Q_DONE] = -1
            slots[s, Q_ACTED] = 0
            rings[0, (S[S_ARB_HEAD] + S[S_ARB_N]) % MAX_SLOTS] = s
            S[S_ARB_N] += 1
            rings[1, (S[S_RING_HEAD] + S[S_RING_N]) % MAX_SLOTS] = s
            S[S_RING_N] += 1
            S[S_ACTIVE] += 1
            S[S_NEXT_ID] = nxt + 1
            S[S_LAST_ADMIT] = t
        # ---- 4. arbiter -> scheduler buffer ----------------------------------------------------
        if S[S_ARB_N] > 0 and S[S_LAST_XFER] < t:
            k = _arbiter_pick(P, slots, rings, bank, chan, S)
            if k >= 0:
                s = rings[0, (S[S_ARB_HEAD] + k) % MAX_SLOTS]
                if slots[s, Q_ADMIT] + delay <= t:
                    for j in range(k, 0, -1):       # close the gap, keeping admission order
                        rings[0, (S[S_ARB_HEAD] + j) % MAX_SLOTS] = rings[0, (S[S_ARB_HEAD] + j - 1) % MAX_SLOTS]
                    S[S_ARB_HEAD] = (S[S_ARB_HEAD] + 1) % MAX_SLOTS
                    S[S_ARB_N] -= 1
                    gb, gr, ch = slots[s, Q_BANK], slots[s, Q_RANK], slots[s, Q_CH]
                    bankq[gb, bank[gb, B_NQ]] = s
                    bank[gb, B_NQ] += 1
                    _update_choice(P, slots, bank, bankq, chan, gb)
                    rank[gr, R_NQ] += 1
                    if slots[s, Q_WRITE]:
                        chan[ch, C_NW] += 1
                    else:
                        chan[ch, C_NR] += 1
                    if rank[gr, R_IN_PD]:
                        _pd_exit(P, rank, gr, t)
                    S[S_LAST_XFER] = t
                    _merge_bank(P, bank, bgn, rank, chan, ch, gb, t, nbanks)
                    chan[ch, C_STALE] = 1
        # ---- 5. commands: one per channel --------------------------------------------------------
        for ch in range(nch):
            if chan[ch, C_CMDBUS] > t:
                continue
            issued = False
            if P[P_REFPOL] != NO_REFRESH:
                for gr in range(ch * nrank, (ch + 1) * nrank):
                    if _wants_refresh(P, bank, rank, gr, nbanks):
                        c, tl = _refresh_command(P, bank, rank, chan, gr, ch, nbanks)
                        if tl <= t:
                            _issue_refresh(P, S, slots, bank, bankq, rank, chan, gr, ch, c, t, nbanks)
                            issued = True
                            break
            if issued:
                continue
            if chan[ch, C_DIRTY]:
                _scan_channel(P, slots, bank, bankq, bgn, rank, chan, ch, t, nrank, nbanks)
            if chan[ch, C_MIN] <= t:
                _issue_request(P, S, slots, rings, bank, bankq, bgn, rank, chan, chan[ch, C_BEST],
                               chan[ch, C_BEST_GB], chan[ch, C_BEST_C], t, nbanks, nrank)
        # ---- 6. power-down entry ---------------------------------------------------------------
        if P[P_PDPOL] == STAGGERED:
            for gr in range(nr):
                if (rank[gr, R_IN_PD] == 0 and rank[gr, R_NQ] == 0 and rank[gr, R_PD_READY] <= t
                        and not (P[P_REFPOL] != NO_REFRESH and _wants_refresh(P, bank, rank, gr, nbanks))):
                    rank[gr, R_IN_PD] = 1
                    rank[gr, R_PD_ENTER] = t
                    rank[gr, R_PD_KIND] = 1 if rank[gr, R_N_OPEN] > 0 else 0
                    S[S_N_PD] += 1
        S[S_NOW] = t + 1


@njit(cache=True, _nrt=False, inline="always")
def _pd_exit(P, rank, gr, t):
    """Rank gr leaves power-down, starting at cycle t (not before tCKE in power-down); commands wait tXP."""
    x = max(t, rank[gr, R_PD_ENTER] + P[P_CKE])
    rank[gr, R_PPD + rank[gr, R_PD_KIND]] += x - rank[gr, R_PD_ENTER]
    rank[gr, R_IN_PD] = 0
    for c in range(5):
        rank[gr, c] = max(rank[gr, c], x + P[P_XP])
