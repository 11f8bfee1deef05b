"""The DRAM side of the kernel: scheduler picks, page policies, command timing, command issue,
refresh managers and power-down, as numba helpers over the arrays of layout.py. Each rule names
the DRAMSys 4.0 file it follows (paths under DRAMSys/library/src/); reference.py is the same
logic in readable Python. Helpers are compiled with `_nrt=False`: they never allocate.
"""
from __future__ import annotations

from numba import njit

from simulators.dram.layout import (ACT, BANKWISE, BG_NONE, B_ACT_T, B_AUTO, B_BGCOL, B_CAND, B_CAND_ID, B_CAS,
                                    B_CLOSE_T, B_CMD, B_GBG, B_GR, B_HEAD, B_LOCAL, B_NQ, B_OPEN_ROW, B_RDA, B_RDACOL,
                                    B_TAIL, B_X, B_ZERO, CLOSED, CLOSED_ADAPTIVE, C_BEST, C_BEST_GB, C_CMDBUS,
                                    C_LAST_WRITE, C_MIN, C_NR, C_NW, C_RESCAN, C_RQ_HEAD, C_RQ_TAIL, C_STALE,
                                    C_TQ_DIRTY, FIFO_SCHED, FR_FCFS_GRP, INF, NO_CMD, OPEN_ADAPTIVE, PER_BANK, PRE,
                                    PREA, PULLEDIN, P_BUFSZ, P_BURST, P_CCDL, P_CCDS, P_CKE, P_CL, P_CWL, P_FAW,
                                    P_MAXPOST, P_MAXPULL, P_NBPG, P_NRANK, P_PAGE, P_RAS, P_RC, P_RCD, P_REFI, P_REFIPB,
                                    P_REFPOL, P_RESPQ, P_RFC, P_RFCPB, P_RP, P_RPAB, P_RRDL, P_RRDS, P_RTP, P_RTRS,
                                    P_SBUF, P_SCHED, P_WR, P_WTRL, P_WTRS, P_XP, Q_ADDR, Q_DONE, Q_ID, Q_NEXT, Q_PREV,
                                    Q_RNEXT, Q_ROW, Q_WRITE, RD, REFA, REGULAR, RESP_FIFO, R_ALLCLOSED, R_APD,
                                    R_BANK_ACT, R_BLOCKED, R_CLOSE_MAX, R_CMD, R_COUNTER, R_CURRENT, R_FAW0, R_FAW_I,
                                    R_IN_PD, R_NQ, R_N_OPEN, R_PD_ENTER, R_PD_KIND, R_PD_READY, R_PPD, R_REMAIN, R_SKIP,
                                    R_STATE, R_TRIGGER, R_WAKE, S_N_ACT, S_N_AUTOPRE, S_N_CLOSE, S_N_HITS, S_N_PRE,
                                    S_N_RD, S_N_REF, S_N_REFPB, S_N_WR, WR, bnk, chn, grp, rnk, slt)


# --- scheduler and page policy ------------------------------------------------------------------
@njit(cache=True, _nrt=False, forceinline=True)
def pick(P, slots, bank, chan, gb, ch):
    """The bank's request: Scheduler{Fifo,FrFcfs,FrFcfsGrp}.cpp getNextRequest (-1: empty buffer)."""
    s = bank[bnk(B_HEAD, gb)]
    row = bank[bnk(B_OPEN_ROW, gb)]
    if s < 0 or P[P_SCHED] == FIFO_SCHED or row < 0:
        return s
    first = -1
    if P[P_SCHED] == FR_FCFS_GRP:   # a hit in the last CAS direction, unless an older hit has its address
        want = chan[chn(ch, C_LAST_WRITE)]
        h = s
        while h >= 0:
            if slots[slt(h, Q_ROW)] == row:
                if first < 0:
                    first = h
                if slots[slt(h, Q_WRITE)] == want:
                    o = first
                    hazard = False
                    while o != h:
                        if slots[slt(o, Q_ROW)] == row and slots[slt(o, Q_ADDR)] == slots[slt(h, Q_ADDR)]:
                            hazard = True
                            break
                        o = slots[slt(o, Q_NEXT)]
                    if not hazard:
                        return h
            h = slots[slt(h, Q_NEXT)]
        return first if first >= 0 else s
    h = s
    while h >= 0:
        if slots[slt(h, Q_ROW)] == row:
            return h
        h = slots[slt(h, Q_NEXT)]
    return s


@njit(cache=True, _nrt=False, forceinline=True)
def further_row_hit(P, slots, bank, gb):
    """Scheduler*::hasFurtherRowHit: two requests to the open row (fifo: the next one is)."""
    h = bank[bnk(B_HEAD, gb)]
    row = bank[bnk(B_OPEN_ROW, gb)]
    if P[P_SCHED] == FIFO_SCHED:
        nxt = slots[slt(h, Q_NEXT)]
        return nxt >= 0 and slots[slt(nxt, Q_ROW)] == row
    n = 0
    while h >= 0:
        if slots[slt(h, Q_ROW)] == row:
            n += 1
            if n == 2:
                return True
        h = slots[slt(h, Q_NEXT)]
    return False


@njit(cache=True, _nrt=False, forceinline=True)
def update_choice(P, slots, bank, bgn, rank, chan, gb, ch):
    """Cache bank gb's request, command and auto-precharge flag (BankMachine*::start)."""
    s = pick(P, slots, bank, chan, gb, ch)
    bank[bnk(B_CAND, gb)] = s
    chan[chn(ch, C_RESCAN)] = 1
    if s < 0:
        bank[bnk(B_X, gb)] = INF
        return
    row = bank[bnk(B_OPEN_ROW, gb)]
    auto = 0
    if row < 0:
        c = ACT
    else:
        page = P[P_PAGE]
        c = WR if slots[slt(s, Q_WRITE)] else RD
        if page == CLOSED:
            auto = 1
        elif row != slots[slt(s, Q_ROW)]:
            c = PRE
        elif page == OPEN_ADAPTIVE:
            auto = 1 if bank[bnk(B_NQ, gb)] >= 2 and not further_row_hit(P, slots, bank, gb) else 0
        elif page == CLOSED_ADAPTIVE:
            auto = 0 if further_row_hit(P, slots, bank, gb) else 1
    bank[bnk(B_CMD, gb)] = c
    bank[bnk(B_AUTO, gb)] = auto
    bank[bnk(B_BGCOL, gb)] = BG_NONE if c == PRE else (0 if c == ACT else c - 1)
    bank[bnk(B_RDACOL, gb)] = B_RDA if c == RD and auto else B_ZERO
    bank[bnk(B_CAND_ID, gb)] = slots[slt(s, Q_ID)]
    bank_time(bank, bgn, rank, gb)


@njit(cache=True, _nrt=False, forceinline=True)
def fold_bank(slots, bank, chan, gb, ch, t):
    """Bank gb alone took a new request at cycle t: fold it into the channel's cached pick instead
    of a kernel.scan_channel. Callers check that the pick is fresh, t <= C_MIN and gb was not the
    pick; then every other bank's time max(B_X, command bus, t) equals the cached max(B_X, command
    bus, scan time), so the pick is the better of the cached one and bank gb's (the scan's rule)."""
    chan[chn(ch, C_RESCAN)] = 0
    tl = max(bank[bnk(B_X, gb)], chan[chn(ch, C_CMDBUS)], t)
    if tl >= INF:
        return
    best = chan[chn(ch, C_BEST)]
    m = chan[chn(ch, C_MIN)]
    if tl < m or (tl == m and best >= 0 and bank[bnk(B_CAND_ID, gb)] < slots[slt(best, Q_ID)]):
        chan[chn(ch, C_MIN)] = tl
        chan[chn(ch, C_BEST_GB)] = gb
        chan[chn(ch, C_BEST)] = bank[bnk(B_CAND, gb)]


@njit(cache=True, _nrt=False, forceinline=True)
def update_channel(P, slots, bank, bgn, rank, chan, ch, nbc):
    """Every bank of channel ch (fr_fcfs_grp: the last CAS direction changed)."""
    for gb in range(ch * nbc, (ch + 1) * nbc):
        update_choice(P, slots, bank, bgn, rank, chan, gb, ch)


@njit(cache=True, _nrt=False, forceinline=True)
def bank_time(bank, bgn, rank, gb):
    """Store in B_X the earliest cycle of bank gb's cached command by the bank's, rank's and bank
    group's next-legal tables (CheckerDDR3/DDR4::timeToSatisfyConstraints without the command bus;
    tRTP-after-write for a RD with auto-precharge), or INF if it has no request, its rank is in
    power-down or refresh blocks it. No branches in the timing part (update_choice caches the columns)."""
    gr = bank[bnk(B_GR, gb)]
    blocked = rank[rnk(gr, R_BLOCKED)]
    if bank[bnk(B_CAND, gb)] < 0 or blocked == -1 or blocked == bank[bnk(B_LOCAL, gb)] or rank[rnk(gr, R_IN_PD)]:
        bank[bnk(B_X, gb)] = INF
        return
    c = bank[bnk(B_CMD, gb)]
    bank[bnk(B_X, gb)] = max(bank[bnk(c, gb)], rank[rnk(gr, c)], bgn[grp(bank[bnk(B_GBG, gb)], bank[bnk(B_BGCOL, gb)])],
                             bank[bnk(bank[bnk(B_RDACOL, gb)], gb)])


@njit(cache=True, _nrt=False, forceinline=True)
def retime_rank(bank, rank, gr, nbanks, c0, c1):
    """B_X of rank gr's banks after its columns c0 and c1 rose: a bank whose command is c0 or c1
    takes the max with that entry (tables only rise, so this equals a fresh bank_time); the others'
    entries did not change. Selects over the rank's contiguous banks, which the compiler vectorises."""
    v0, v1 = rank[rnk(gr, c0)], rank[rnk(gr, c1)]
    for gb in range(gr * nbanks, (gr + 1) * nbanks):
        c, x = bank[bnk(B_CMD, gb)], bank[bnk(B_X, gb)]
        bank[bnk(B_X, gb)] = max(x, v0 if c == c0 else (v1 if c == c1 else x))


@njit(cache=True, _nrt=False, forceinline=True)
def retime_group(bank, bgn, gbg, nbpg):
    """B_X of bank group gbg's banks after its table rose."""
    for gb in range(gbg * nbpg, (gbg + 1) * nbpg):
        bank[bnk(B_X, gb)] = max(bank[bnk(B_X, gb)], bgn[grp(gbg, bank[bnk(B_BGCOL, gb)])])


# --- queues ----------------------------------------------------------------------------------------
@njit(cache=True, _nrt=False, forceinline=True)
def bank_append(slots, bank, gb, s):
    t = bank[bnk(B_TAIL, gb)]
    slots[slt(s, Q_NEXT)] = -1
    slots[slt(s, Q_PREV)] = t if bank[bnk(B_HEAD, gb)] >= 0 else -1
    if bank[bnk(B_HEAD, gb)] < 0:
        bank[bnk(B_HEAD, gb)] = s
    else:
        slots[slt(t, Q_NEXT)] = s
    bank[bnk(B_TAIL, gb)] = s
    bank[bnk(B_NQ, gb)] += 1


@njit(cache=True, _nrt=False, forceinline=True)
def bank_remove(slots, bank, gb, s):
    p, n = slots[slt(s, Q_PREV)], slots[slt(s, Q_NEXT)]
    if p >= 0:
        slots[slt(p, Q_NEXT)] = n
    else:
        bank[bnk(B_HEAD, gb)] = n
    if n >= 0:
        slots[slt(n, Q_PREV)] = p
    else:
        bank[bnk(B_TAIL, gb)] = p
    bank[bnk(B_NQ, gb)] -= 1


@njit(cache=True, _nrt=False, forceinline=True)
def list_append(slots, link, ends, head, tail, s):
    """Append slot s to a singly linked list through field `link` of the slots whose first and last
    slots are ends[head] and ends[tail] (ends: S, or chan with indices from layout.chn)."""
    slots[slt(s, link)] = -1
    if ends[head] < 0:
        ends[head] = s
    else:
        slots[slt(ends[tail], link)] = s
    ends[tail] = s


@njit(cache=True, _nrt=False, forceinline=True)
def respq_append(slots, chan, ch, s):
    list_append(slots, Q_RNEXT, chan, chn(ch, C_RQ_HEAD), chn(ch, C_RQ_TAIL), s)


# --- command issue -------------------------------------------------------------------------------
@njit(cache=True, _nrt=False, forceinline=True)
def close(P, S, bank, rank, gb, gr, t):
    """Bank gb's row closes at cycle t (PRE, PREA or auto-precharge)."""
    bank[bnk(B_OPEN_ROW, gb)] = -1
    bank[bnk(B_CLOSE_T, gb)] = t
    rank[rnk(gr, R_CLOSE_MAX)] = max(rank[rnk(gr, R_CLOSE_MAX)], t)
    rank[rnk(gr, R_N_OPEN)] -= 1
    rank[rnk(gr, R_BANK_ACT)] += t - bank[bnk(B_ACT_T, gb)]
    rank[rnk(gr, REFA)] = max(rank[rnk(gr, REFA)], t + P[P_RP])
    rank[rnk(gr, R_PD_READY)] = max(rank[rnk(gr, R_PD_READY)], t + 1)
    S[S_N_CLOSE] += 1


@njit(cache=True, _nrt=False, forceinline=True)
def precharged_until(rank, gr, t):
    """Account the all-banks-closed time of rank gr that ends with an ACT or REF at cycle t. With
    every bank closed, the latest of their close times is R_CLOSE_MAX: a bank's close time only rises
    (an ACT waits tRP after its PRE and a refresh's end; a refresh waits tRP after every close)."""
    if rank[rnk(gr, R_N_OPEN)] == 0 and rank[rnk(gr, R_CLOSE_MAX)] < t:
        rank[rnk(gr, R_ALLCLOSED)] += t - rank[rnk(gr, R_CLOSE_MAX)]


@njit(cache=True, _nrt=False, forceinline=True)
def issue(P, S, slots, bank, bgn, rank, chan, s, gb, gr, ch, t, nbanks, nrank):
    """Issue bank gb's cached command for slot s at cycle t and update every timing table.
    Returns True for a column command (its buffer entry is free)."""
    c = bank[bnk(B_CMD, gb)]
    gbg = bank[bnk(B_GBG, gb)]
    burst = P[P_BURST]
    chan[chn(ch, C_CMDBUS)] = t + 1
    if c == ACT:
        precharged_until(rank, gr, t)
        S[S_N_ACT] += 1
        bank[bnk(B_OPEN_ROW, gb)] = slots[slt(s, Q_ROW)]
        bank[bnk(B_CLOSE_T, gb)] = INF
        bank[bnk(B_ACT_T, gb)] = t
        bank[bnk(B_CAS, gb)] = 0
        rank[rnk(gr, R_N_OPEN)] += 1
        bank[bnk(RD, gb)] = max(bank[bnk(RD, gb)], t + P[P_RCD])
        bank[bnk(WR, gb)] = max(bank[bnk(WR, gb)], t + P[P_RCD])
        bank[bnk(PRE, gb)] = max(bank[bnk(PRE, gb)], t + P[P_RAS])
        bank[bnk(ACT, gb)] = max(bank[bnk(ACT, gb)], t + P[P_RC])
        bgn[grp(gbg, 0)] = max(bgn[grp(gbg, 0)], t + P[P_RRDL])
        i = rank[rnk(gr, R_FAW_I)]
        rank[rnk(gr, R_FAW0 + i)] = t
        i = (i + 1) % 4
        rank[rnk(gr, R_FAW_I)] = i
        rank[rnk(gr, ACT)] = max(rank[rnk(gr, ACT)], t + P[P_RRDS], rank[rnk(gr, R_FAW0 + i)] + P[P_FAW])
        rank[rnk(gr, PREA)] = max(rank[rnk(gr, PREA)], t + P[P_RAS])
        rank[rnk(gr, REFA)] = max(rank[rnk(gr, REFA)], t + P[P_RC])
        rank[rnk(gr, R_PD_READY)] = max(rank[rnk(gr, R_PD_READY)], t + 1)
        retime_rank(bank, rank, gr, nbanks, ACT, ACT)       # the rank's and bank group's ACT limits
        retime_group(bank, bgn, gbg, P[P_NBPG])
        update_choice(P, slots, bank, bgn, rank, chan, gb, ch)
        return False
    if c == PRE:
        S[S_N_PRE] += 1
        close(P, S, bank, rank, gb, gr, t)
        bank[bnk(ACT, gb)] = max(bank[bnk(ACT, gb)], t + P[P_RP])
        update_choice(P, slots, bank, bgn, rank, chan, gb, ch)   # only this bank's tables changed
        return False
    write = c == WR
    bank_remove(slots, bank, gb, s)
    rank[rnk(gr, R_NQ)] -= 1
    if P[P_RESPQ] == RESP_FIFO:
        respq_append(slots, chan, ch, s)
    if write:
        S[S_N_WR] += 1
        chan[chn(ch, C_NW)] -= 1
        slots[slt(s, Q_DONE)] = t + P[P_CWL] + burst
        wrpre = P[P_CWL] + burst + P[P_WR]
        bgn[grp(gbg, 2)] = max(bgn[grp(gbg, 2)], t + P[P_CCDL])
        bgn[grp(gbg, 1)] = max(bgn[grp(gbg, 1)], t + P[P_CWL] + burst + P[P_WTRL])
        rank[rnk(gr, WR)] = max(rank[rnk(gr, WR)], t + P[P_CCDS])
        rank[rnk(gr, RD)] = max(rank[rnk(gr, RD)], t + P[P_CWL] + burst + P[P_WTRS])
        bank[bnk(PRE, gb)] = max(bank[bnk(PRE, gb)], t + wrpre)
        bank[bnk(B_RDA, gb)] = max(bank[bnk(B_RDA, gb)], t + wrpre - P[P_RTP])
        rank[rnk(gr, PREA)] = max(rank[rnk(gr, PREA)], t + wrpre)
        rank[rnk(gr, R_PD_READY)] = max(rank[rnk(gr, R_PD_READY)], t + wrpre)
    else:
        S[S_N_RD] += 1
        chan[chn(ch, C_NR)] -= 1
        slots[slt(s, Q_DONE)] = t + P[P_CL] + burst
        bgn[grp(gbg, 1)] = max(bgn[grp(gbg, 1)], t + P[P_CCDL])
        rank[rnk(gr, RD)] = max(rank[rnk(gr, RD)], t + P[P_CCDS])
        rank[rnk(gr, WR)] = max(rank[rnk(gr, WR)], t + P[P_CL] + burst + 2 - P[P_CWL])
        bank[bnk(PRE, gb)] = max(bank[bnk(PRE, gb)], t + P[P_RTP])
        rank[rnk(gr, PREA)] = max(rank[rnk(gr, PREA)], t + P[P_RTP])
        rank[rnk(gr, R_PD_READY)] = max(rank[rnk(gr, R_PD_READY)], t + P[P_CL] + burst + 1)
    if P[P_SBUF] != BANKWISE or bank[bnk(B_NQ, gb)] == P[P_BUFSZ] - 1 or chan[chn(ch, C_NR)] + chan[chn(ch, C_NW)] == 0:
        chan[chn(ch, C_TQ_DIRTY)] = 1         # else frontend.tq_pick's answer stands: bank gb had room, no drain starts
    r0 = ch * nrank
    for g2 in range(r0, r0 + nrank):       # rank-to-rank switches on the shared data bus
        if g2 != gr:
            if write:
                rank[rnk(g2, RD)] = max(rank[rnk(g2, RD)], t + P[P_CWL] + burst + P[P_RTRS] - P[P_CL])
                rank[rnk(g2, WR)] = max(rank[rnk(g2, WR)], t + burst + P[P_RTRS])
            else:
                rank[rnk(g2, RD)] = max(rank[rnk(g2, RD)], t + burst + P[P_RTRS])
                rank[rnk(g2, WR)] = max(rank[rnk(g2, WR)], t + P[P_CL] + burst + P[P_RTRS] - P[P_CWL])
    if bank[bnk(B_CAS, gb)] > 0:              # a row hit: not the first column command since the ACT
        S[S_N_HITS] += 1
    bank[bnk(B_CAS, gb)] += 1
    turned = chan[chn(ch, C_LAST_WRITE)] != write
    chan[chn(ch, C_LAST_WRITE)] = write
    if bank[bnk(B_AUTO, gb)]:
        S[S_N_AUTOPRE] += 1
        p = bank[bnk(PRE, gb)]
        close(P, S, bank, rank, gb, gr, p)
        bank[bnk(ACT, gb)] = max(bank[bnk(ACT, gb)], p + P[P_RP])
    for g2 in range(r0, r0 + nrank):     # column limits of the channel's ranks and the bank group
        retime_rank(bank, rank, g2, nbanks, RD, WR)
    retime_group(bank, bgn, gbg, P[P_NBPG])
    if P[P_SCHED] == FR_FCFS_GRP and turned:
        update_channel(P, slots, bank, bgn, rank, chan, ch, nrank * nbanks)
    else:
        update_choice(P, slots, bank, bgn, rank, chan, gb, ch)
    return True


# --- refresh (RefreshManagerAllBank.cpp / RefreshManagerPerBank.cpp) ------------------------------
@njit(cache=True, _nrt=False, forceinline=True)
def refresh_start(P, bank, rank, chan, gr, t, nbanks):
    """The refresh manager of rank gr at cycle t: sets R_CMD (PREA/REFA, per bank PRE/REFA) or
    NO_CMD, postpones, pulls in, blocks bank machines (start())."""
    rank[rnk(gr, R_CMD)] = NO_CMD
    if t < rank[rnk(gr, R_TRIGGER)]:
        return
    if rank[rnk(gr, R_IN_PD)]:             # PowerDownManager::triggerInterruption; the rest next cycle
        pd_exit(P, rank, gr, t)
        rank[rnk(gr, R_WAKE)] = t + 1
        chan[chn(gr // P[P_NRANK], C_STALE)] = 1
        return
    per_bank = P[P_REFPOL] == PER_BANK
    interval = P[P_REFIPB] if per_bank else P[P_REFI]
    if t >= rank[rnk(gr, R_TRIGGER)] + interval:
        rank[rnk(gr, R_TRIGGER)] += interval
        rank[rnk(gr, R_STATE)] = REGULAR
    scale = nbanks if per_bank else 1
    b0 = gr * nbanks
    if per_bank:
        idle = -1
        rem = rank[rnk(gr, R_REMAIN)]
        for i in range(nbanks):
            if (rem >> i) & 1 and bank[bnk(B_NQ, b0 + i)] == 0:
                idle = i
                break
        forced = False
        if rank[rnk(gr, R_STATE)] == REGULAR:
            forced = rank[rnk(gr, R_COUNTER)] == P[P_MAXPOST] * scale
            if not rank[rnk(gr, R_SKIP)]:
                first = 0
                while not (rem >> first) & 1:
                    first += 1
                rank[rnk(gr, R_CURRENT)] = idle if idle >= 0 else first
            if idle < 0 and not forced:
                rank[rnk(gr, R_COUNTER)] += 1
                rank[rnk(gr, R_TRIGGER)] += interval
                return
        elif idle < 0:
            rank[rnk(gr, R_STATE)] = REGULAR
            rank[rnk(gr, R_TRIGGER)] += interval
            return
        else:
            rank[rnk(gr, R_CURRENT)] = idle
        if bank[bnk(B_OPEN_ROW, b0 + rank[rnk(gr, R_CURRENT)])] >= 0:
            rank[rnk(gr, R_CMD)] = PRE
        else:
            rank[rnk(gr, R_CMD)] = REFA
            if forced:
                if rank[rnk(gr, R_BLOCKED)] != rank[rnk(gr, R_CURRENT)]:
                    chan[chn(gr // P[P_NRANK], C_STALE)] = 1
                rank[rnk(gr, R_BLOCKED)] = rank[rnk(gr, R_CURRENT)]
                rank[rnk(gr, R_SKIP)] = 1
        return
    busy = rank[rnk(gr, R_NQ)] > 0
    if rank[rnk(gr, R_STATE)] == REGULAR:
        if rank[rnk(gr, R_COUNTER)] == P[P_MAXPOST]:
            if rank[rnk(gr, R_BLOCKED)] != -1:    # forced: every bank machine of the rank is blocked
                chan[chn(gr // P[P_NRANK], C_STALE)] = 1
            rank[rnk(gr, R_BLOCKED)] = -1
        elif busy:
            rank[rnk(gr, R_COUNTER)] += 1
            rank[rnk(gr, R_TRIGGER)] += interval
            return
        rank[rnk(gr, R_CMD)] = PREA if rank[rnk(gr, R_N_OPEN)] > 0 else REFA
    elif busy:
        rank[rnk(gr, R_STATE)] = REGULAR
        rank[rnk(gr, R_TRIGGER)] += interval
    else:
        rank[rnk(gr, R_CMD)] = REFA


@njit(cache=True, _nrt=False, forceinline=True)
def refresh_legal(P, bank, rank, chan, gr, ch, nbanks):
    """Earliest cycle of rank gr's refresh command (PREA/REFA: the rank's accumulated constraints;
    per bank: the bank's, plus tXP after a power-down exit, which alone raises rank gr's PRE column)."""
    c = rank[rnk(gr, R_CMD)]
    if P[P_REFPOL] == PER_BANK:
        gb = gr * nbanks + rank[rnk(gr, R_CURRENT)]
        return max(chan[chn(ch, C_CMDBUS)], rank[rnk(gr, PRE)], bank[bnk(PRE, gb)] if c == PRE else bank[bnk(ACT, gb)])
    return max(chan[chn(ch, C_CMDBUS)], rank[rnk(gr, c)])


@njit(cache=True, _nrt=False, forceinline=True)
def issue_refresh(P, S, slots, bank, bgn, rank, chan, gr, ch, t, nbanks):
    """Issue rank gr's refresh command at cycle t; REFA/REFB also update the manager's state."""
    c = rank[rnk(gr, R_CMD)]
    per_bank = P[P_REFPOL] == PER_BANK
    b0 = gr * nbanks
    chan[chn(ch, C_CMDBUS)] = t + 1
    chan[chn(ch, C_STALE)] = 1
    rank[rnk(gr, R_WAKE)] = t + 1           # the manager picks its next command next cycle
    if c == PRE or c == PREA:
        S[S_N_PRE] += 1
        for i in range(nbanks):
            gb = b0 + i
            if (not per_bank or i == rank[rnk(gr, R_CURRENT)]) and bank[bnk(B_OPEN_ROW, gb)] >= 0:
                close(P, S, bank, rank, gb, gr, t)
                bank[bnk(ACT, gb)] = max(bank[bnk(ACT, gb)], t + (P[P_RP] if per_bank else P[P_RPAB]))
                update_choice(P, slots, bank, bgn, rank, chan, gb, ch)
        if not per_bank:
            rank[rnk(gr, REFA)] = max(rank[rnk(gr, REFA)], t + P[P_RPAB])
            rank[rnk(gr, ACT)] = max(rank[rnk(gr, ACT)], t + P[P_RPAB])
        return
    precharged_until(rank, gr, t)
    rfc = P[P_RFCPB] if per_bank else P[P_RFC]
    for i in range(nbanks):
        if not per_bank or i == rank[rnk(gr, R_CURRENT)]:
            gb = b0 + i
            bank[bnk(ACT, gb)] = max(bank[bnk(ACT, gb)], t + rfc)
            bank[bnk(B_CLOSE_T, gb)] = t + rfc
            rank[rnk(gr, R_CLOSE_MAX)] = max(rank[rnk(gr, R_CLOSE_MAX)], t + rfc)
            rank[rnk(gr, R_BANK_ACT)] += rfc
    rank[rnk(gr, R_PD_READY)] = max(rank[rnk(gr, R_PD_READY)], t + rfc)
    rank[rnk(gr, R_BLOCKED)] = -2
    if per_bank:
        S[S_N_REFPB] += 1
        rank[rnk(gr, R_SKIP)] = 0
        rank[rnk(gr, R_REMAIN)] &= ~(1 << rank[rnk(gr, R_CURRENT)])
        if rank[rnk(gr, R_REMAIN)] == 0:
            rank[rnk(gr, R_REMAIN)] = (1 << nbanks) - 1
    else:
        S[S_N_REF] += 1
        rank[rnk(gr, REFA)] = max(rank[rnk(gr, REFA)], t + rfc)
    if rank[rnk(gr, R_STATE)] == PULLEDIN:
        rank[rnk(gr, R_COUNTER)] -= 1
    else:
        rank[rnk(gr, R_STATE)] = PULLEDIN
    if rank[rnk(gr, R_COUNTER)] == -P[P_MAXPULL] * (nbanks if per_bank else 1):
        rank[rnk(gr, R_STATE)] = REGULAR
        rank[rnk(gr, R_TRIGGER)] += P[P_REFIPB] if per_bank else P[P_REFI]


# --- power-down (ours; differences to DRAMSys's PowerDownManagerStaggered in docs/dram.md) ---------
@njit(cache=True, _nrt=False, forceinline=True)
def pd_exit(P, rank, gr, t):
    """Rank gr leaves power-down at cycle t (not before tCKE in power-down); commands wait tXP."""
    x = max(t, rank[rnk(gr, R_PD_ENTER)] + P[P_CKE])
    d = x - rank[rnk(gr, R_PD_ENTER)]
    if rank[rnk(gr, R_PD_KIND)]:
        rank[rnk(gr, R_APD)] += d
        rank[rnk(gr, R_BANK_ACT)] -= d * rank[rnk(gr, R_N_OPEN)]   # DRAMPower: bank intervals pause in power-down
    else:
        rank[rnk(gr, R_PPD)] += d
    rank[rnk(gr, R_IN_PD)] = 0
    for c in range(6):
        rank[rnk(gr, c)] = max(rank[rnk(gr, c)], x + P[P_XP])
