"""The initiator side of the kernel: the trace player, the arbiter (DRAMSys's Simple, Fifo and
Reorder, or DRAMSim3's transaction queue), acceptance into the scheduler buffers, and responses.
Rules follow DRAMSys 4.0 (paths under DRAMSys/library/src/ and DRAMSys/simulator/) and, for the
transaction queue, DRAMSim3's src/controller.cc; reference.py is the same logic in readable Python.
"""
from __future__ import annotations

from numba import njit

from simulators.dram.commands import bank_append, fold_bank, list_append, pd_exit, respq_append, update_choice
from simulators.dram.layout import (ARB_DS3, ARB_FIFO, ARB_REORDER, ARB_SIMPLE, BANKWISE, B_CH, B_GR, B_NQ, B_TQH,
                                    B_TQI, B_TQT, C_BEST_GB, C_DRAIN, C_FIFO_HEAD, C_FIFO_TAIL, C_LAST_BANK,
                                    C_LAST_END_REQ, C_MIN, C_NR, C_NW, C_RESCAN, C_RESP_BUSY, C_RESP_OK, C_RQ_HEAD,
                                    C_STALE, C_TQ_DIRTY, C_TQ_DRAIN, C_TQ_NR, C_TQ_NW, C_TQ_PICK, C_TQ_PREV, C_TQ_W,
                                    C_WQ_HEAD, C_WQ_TAIL, DRAIN_LOW, HIST_BINS, INF, P_ARB, P_BUFSZ, P_MAXACT, P_NBG,
                                    P_NBPG, P_NRANK, P_RATIO_DEN, P_RATIO_NUM, P_RESPQ, P_SBUF, Q_ACCEPT, Q_ADDR,
                                    Q_BANK, Q_DONE, Q_ID, Q_NEXT, Q_PREV, Q_PUSHED, Q_RESPONDED, Q_RNEXT, Q_ROW,
                                    Q_TNEXT, Q_UNEXT, Q_WRITE, READ_WRITE, RESP_REORDER, R_IN_PD, R_NQ, S_ACTIVE,
                                    S_DELIVERED, S_END, S_FREE_N, S_LAST_DELIV, S_LAT_SUM, S_NEXT_ID, S_N_RLAT,
                                    S_PARKED, S_PEND_HEAD, S_PEND_TAIL, S_PROGRESS, S_RLAT_SUM, S_SEND_OK, S_UND_HEAD,
                                    S_UND_TAIL, S_WAITING, bnk, chn, rnk, slt)


@njit(cache=True, _nrt=False, forceinline=True)
def next_edge(P, t):
    """The first controller cycle on a player-clock edge strictly after cycle t
    (DRAMSys/simulator/StlPlayer.cpp nextPayload: one player period after END_REQ, then tCK)."""
    num, den = P[P_RATIO_NUM], P[P_RATIO_DEN]
    if num == den:                    # one clock (a DRAMSim3-format trace): no division per request
        return t + 1
    k = t * den // num + 1
    return -(-k * num // den)


@njit(cache=True, _nrt=False, forceinline=True)
def has_space(P, bank, chan, ch):
    """scheduler/BufferCounter{Bankwise,ReadWrite,Shared}.cpp hasBufferSpace."""
    size = P[P_BUFSZ]
    if P[P_SBUF] == BANKWISE:     # the bank of the last stored request, not the incoming one's
        return bank[bnk(B_NQ, chan[chn(ch, C_LAST_BANK)])] < size
    if P[P_SBUF] == READ_WRITE:   # both counts below the size, whatever the incoming direction
        return chan[chn(ch, C_NR)] < size and chan[chn(ch, C_NW)] < size
    return chan[chn(ch, C_NR)] + chan[chn(ch, C_NW)] < size


@njit(cache=True, _nrt=False, forceinline=True)
def fits(P, slots, bank, chan, s, ch):
    """Transaction queue: room for this request's own bank or direction (DRAMSim3
    CommandQueue::WillAcceptCommand for per-bank queues)."""
    size = P[P_BUFSZ]
    if P[P_SBUF] == BANKWISE:
        return bank[bnk(B_NQ, slots[slt(s, Q_BANK)])] < size
    if P[P_SBUF] == READ_WRITE:
        return (chan[chn(ch, C_NW)] if slots[slt(s, Q_WRITE)] else chan[chn(ch, C_NR)]) < size
    return chan[chn(ch, C_NR)] + chan[chn(ch, C_NW)] < size


@njit(cache=True, _nrt=False, forceinline=True)
def push(slots, chan, s, ch, t, head, tail):
    """Append slot s to a channel queue (columns head, tail), linked both ways (Q_NEXT, Q_PREV)."""
    slots[slt(s, Q_PUSHED)] = t
    slots[slt(s, Q_PREV)] = chan[chn(ch, tail)] if chan[chn(ch, head)] >= 0 else -1
    list_append(slots, Q_NEXT, chan, chn(ch, head), chn(ch, tail), s)


@njit(cache=True, _nrt=False, forceinline=True)
def tq_bank_append(slots, bank, s):
    """Append slot s to its bank's transaction-queue list of its direction."""
    gb, w = slots[slt(s, Q_BANK)], slots[slt(s, Q_WRITE)]
    slots[slt(s, Q_TNEXT)] = -1
    if bank[bnk(B_TQH + w, gb)] < 0:
        bank[bnk(B_TQH + w, gb)] = s
        bank[bnk(B_TQI + w, gb)] = slots[slt(s, Q_ID)]
    else:
        slots[slt(bank[bnk(B_TQT + w, gb)], Q_TNEXT)] = s
    bank[bnk(B_TQT + w, gb)] = s


@njit(cache=True, _nrt=False, forceinline=True)
def tq_bank_pop(slots, bank, s):
    """Remove slot s, the first of its bank's transaction-queue list, from that list."""
    gb, w = slots[slt(s, Q_BANK)], slots[slt(s, Q_WRITE)]
    n = slots[slt(s, Q_TNEXT)]
    bank[bnk(B_TQH + w, gb)] = n
    if n < 0:
        bank[bnk(B_TQT + w, gb)] = -1
        bank[bnk(B_TQI + w, gb)] = INF
    else:
        bank[bnk(B_TQI + w, gb)] = slots[slt(n, Q_ID)]


@njit(cache=True, _nrt=False, forceinline=True)
def front_accept(P, S, slots, bank, chan, s, ch, t):
    """END_REQ from the front end: ArbiterFifo/ArbiterReorder::peqCallback BEGIN_REQ, or DRAMSim3
    Controller::AddTransaction (the latency clock starts here)."""
    slots[slt(s, Q_ACCEPT)] = t
    S[S_SEND_OK] = next_edge(P, t)
    if P[P_ARB] == ARB_REORDER:       # responses go back in this order
        list_append(slots, Q_UNEXT, S, S_UND_HEAD, S_UND_TAIL, s)
    if P[P_ARB] == ARB_DS3 and P[P_SBUF] == BANKWISE:
        tq_bank_append(slots, bank, s)
    if P[P_ARB] == ARB_DS3 and slots[slt(s, Q_WRITE)]:
        chan[chn(ch, C_TQ_NW)] += 1
        push(slots, chan, s, ch, t, C_WQ_HEAD, C_WQ_TAIL)
    else:
        chan[chn(ch, C_TQ_NR)] += P[P_ARB] == ARB_DS3
        push(slots, chan, s, ch, t, C_FIFO_HEAD, C_FIFO_TAIL)
    tq_entered(P, slots, bank, chan, s, ch)


@njit(cache=True, _nrt=False, forceinline=True)
def tq_entered(P, slots, bank, chan, s, ch):
    """Request s entered the transaction queue. With a bankwise buffer the cached pick stands while
    the drain state and direction stay (s is the youngest request, so it is the pick only if nothing
    fitted before and it fits); else the pick is recomputed (a shared or read/write buffer's is cheap)."""
    if P[P_ARB] != ARB_DS3 or P[P_SBUF] != BANKWISE or chan[chn(ch, C_TQ_DIRTY)]:
        chan[chn(ch, C_TQ_DIRTY)] = 1
        return
    drain = tq_drain(P, chan, ch)
    if drain != chan[chn(ch, C_TQ_DRAIN)] or (drain > 0 or chan[chn(ch, C_TQ_NR)] == 0) != chan[chn(ch, C_TQ_W)]:
        chan[chn(ch, C_TQ_DIRTY)] = 1
    elif (chan[chn(ch, C_TQ_PICK)] < 0 and slots[slt(s, Q_WRITE)] == chan[chn(ch, C_TQ_W)]
          and bank[bnk(B_NQ, slots[slt(s, Q_BANK)])] < P[P_BUFSZ]):
        chan[chn(ch, C_TQ_PICK)] = s
        chan[chn(ch, C_TQ_PREV)] = slots[slt(s, Q_PREV)]


@njit(cache=True, _nrt=False, forceinline=True)
def tq_room(P, slots, chan, s, ch):
    """DRAMSim3 Controller::WillAcceptTransaction: a read queue and a write buffer of max_active_transactions."""
    return (chan[chn(ch, C_TQ_NW)] if slots[slt(s, Q_WRITE)] else chan[chn(ch, C_TQ_NR)]) < P[P_MAXACT]


@njit(cache=True, _nrt=False, forceinline=True)
def tq_pick(P, slots, bank, chan, ch):
    """(slot, previous slot, drain) the transaction queue moves next (DRAMSim3
    Controller::ScheduleTransaction): writes while draining, else reads; the first that fits.
    Ours: with no read waiting a write moves too (DRAMSim3 posts writes, so it may leave them
    queued; here a write answers only once written). A queue holds one direction, so with a shared
    or read/write buffer its head fits or none does; with a bankwise buffer the first that fits is
    the oldest of the banks' first requests (ids rise along a queue) among the banks with room.
    Cached in chan until a request enters or leaves a queue or a buffer (C_TQ_DIRTY)."""
    if chan[chn(ch, C_TQ_DIRTY)]:
        s, prev, drain = tq_first(P, slots, bank, chan, ch)
        chan[chn(ch, C_TQ_PICK)], chan[chn(ch, C_TQ_PREV)], chan[chn(ch, C_TQ_DRAIN)] = s, prev, drain
        chan[chn(ch, C_TQ_W)] = drain > 0 or chan[chn(ch, C_TQ_NR)] == 0
        chan[chn(ch, C_TQ_DIRTY)] = 0
    return chan[chn(ch, C_TQ_PICK)], chan[chn(ch, C_TQ_PREV)], chan[chn(ch, C_TQ_DRAIN)]


@njit(cache=True, _nrt=False, forceinline=True)
def tq_drain(P, chan, ch):
    """Writes left to drain: DRAMSim3 starts draining when the write buffer is full, or holds more
    than DRAIN_LOW writes while no read waits in the scheduler buffer."""
    drain = chan[chn(ch, C_DRAIN)]
    if drain == 0 and (chan[chn(ch, C_TQ_NW)] >= P[P_MAXACT]
                       or (chan[chn(ch, C_TQ_NW)] > DRAIN_LOW and chan[chn(ch, C_NR)] + chan[chn(ch, C_NW)] == 0)):
        drain = chan[chn(ch, C_TQ_NW)]
    return drain


@njit(cache=True, _nrt=False, forceinline=True)
def tq_first(P, slots, bank, chan, ch):
    """tq_pick, computed."""
    drain = tq_drain(P, chan, ch)
    w = drain > 0 or chan[chn(ch, C_TQ_NR)] == 0
    if P[P_SBUF] != BANKWISE:
        s = chan[chn(ch, C_WQ_HEAD)] if w else chan[chn(ch, C_FIFO_HEAD)]
        return (s if s >= 0 and fits(P, slots, bank, chan, s, ch) else -1), -1, drain
    nbc = P[P_NRANK] * P[P_NBG] * P[P_NBPG]
    b0 = ch * nbc
    size = P[P_BUFSZ]
    key = INF                           # the oldest id and its bank in one key, as kernel.scan_channel
    for i in range(nbc):
        oldest = bank[bnk(B_TQI + w, b0 + i)]
        key = min(key, (oldest << 8) | i if bank[bnk(B_NQ, b0 + i)] < size and oldest < INF else INF)
    if key >= INF:
        return -1, -1, drain
    s = bank[bnk(B_TQH + w, b0 + (key & 255))]
    return s, slots[slt(s, Q_PREV)], drain


@njit(cache=True, _nrt=False, forceinline=True)
def acceptable(P, slots, bank, chan, ch):
    """The channel's next request to store now, or -1."""
    if P[P_ARB] == ARB_DS3:
        return tq_pick(P, slots, bank, chan, ch)[0]
    s = chan[chn(ch, C_FIFO_HEAD)]
    return s if s >= 0 and has_space(P, bank, chan, ch) else -1


@njit(cache=True, _nrt=False, forceinline=True)
def accept(P, S, slots, bank, bgn, rank, chan, ch, t, nbanks):
    """controller/Controller.cpp manageRequests: store the front end's request in the scheduler
    buffer (one per cycle: the arbiter forwards the next one a cycle after END_REQ)."""
    if chan[chn(ch, C_LAST_END_REQ)] >= t:
        return
    if P[P_ARB] == ARB_DS3:
        s, prev, drain = tq_pick(P, slots, bank, chan, ch)
        if s < 0:
            return
        head, tail = (C_WQ_HEAD, C_WQ_TAIL) if slots[slt(s, Q_WRITE)] else (C_FIFO_HEAD, C_FIFO_TAIL)
        nxt = slots[slt(s, Q_NEXT)]
        if prev < 0:
            chan[chn(ch, head)] = nxt
        else:
            slots[slt(prev, Q_NEXT)] = nxt
        if nxt >= 0:
            slots[slt(nxt, Q_PREV)] = prev
        if chan[chn(ch, tail)] == s:
            chan[chn(ch, tail)] = prev
        if P[P_SBUF] == BANKWISE:
            tq_bank_pop(slots, bank, s)
        if slots[slt(s, Q_WRITE)]:
            chan[chn(ch, C_TQ_NW)] -= 1
            chan[chn(ch, C_DRAIN)] = max(drain - 1, 0)
        else:
            chan[chn(ch, C_TQ_NR)] -= 1
            chan[chn(ch, C_DRAIN)] = drain
    else:
        s = chan[chn(ch, C_FIFO_HEAD)]
        if s < 0 or slots[slt(s, Q_PUSHED)] > t or not has_space(P, bank, chan, ch):
            return
        chan[chn(ch, C_FIFO_HEAD)] = slots[slt(s, Q_NEXT)]
    chan[chn(ch, C_LAST_END_REQ)] = t
    chan[chn(ch, C_TQ_DIRTY)] = 1
    S[S_PROGRESS] = t
    gb = slots[slt(s, Q_BANK)]
    gr = bank[bnk(B_GR, gb)]
    bank_append(slots, bank, gb, s)
    chan[chn(ch, C_LAST_BANK)] = gb
    if slots[slt(s, Q_WRITE)]:
        chan[chn(ch, C_NW)] += 1
    else:
        chan[chn(ch, C_NR)] += 1
    rank[rnk(gr, R_NQ)] += 1
    if P[P_RESPQ] == RESP_REORDER:
        respq_append(slots, chan, ch, s)
    fresh = (chan[chn(ch, C_STALE)] == 0 and chan[chn(ch, C_RESCAN)] == 0 and gb != chan[chn(ch, C_BEST_GB)]
             and t <= chan[chn(ch, C_MIN)])
    if rank[rnk(gr, R_IN_PD)]:
        pd_exit(P, rank, gr, t)
        chan[chn(ch, C_STALE)] = 1
        fresh = False
    update_choice(P, slots, bank, bgn, rank, chan, gb, ch)
    if fresh:
        fold_bank(slots, bank, chan, gb, ch, t)
    if P[P_ARB] == ARB_SIMPLE:        # ArbiterSimple passes END_REQ on to the player
        S[S_WAITING] = 0
        S[S_SEND_OK] = next_edge(P, t)
    elif P[P_ARB] == ARB_DS3 and S[S_PARKED] >= 0:   # the stalled trace request now fits
        p = S[S_PARKED]
        if slots[slt(p, Q_PUSHED)] == ch and tq_room(P, slots, chan, p, ch):
            S[S_PARKED] = -1
            S[S_WAITING] = 0
            front_accept(P, S, slots, bank, chan, p, ch, t)


@njit(cache=True, _nrt=False, forceinline=True)
def respond(P, slots, chan, S, ch, t):
    """Controller::manageResponses with respqueue/RespQueue{Fifo,Reorder}.cpp: the head only."""
    if chan[chn(ch, C_RESP_BUSY)] or t < chan[chn(ch, C_RESP_OK)]:
        return
    s = chan[chn(ch, C_RQ_HEAD)]
    if s < 0 or slots[slt(s, Q_DONE)] < 0 or slots[slt(s, Q_DONE)] > t:
        return
    chan[chn(ch, C_RQ_HEAD)] = slots[slt(s, Q_RNEXT)]
    slots[slt(s, Q_RESPONDED)] = 1
    if P[P_ARB] != ARB_REORDER:
        list_append(slots, Q_RNEXT, S, S_PEND_HEAD, S_PEND_TAIL, s)
    if P[P_ARB] == ARB_SIMPLE:        # ArbiterSimple returns END_RESP only when the player does
        chan[chn(ch, C_RESP_BUSY)] = 1
    else:
        chan[chn(ch, C_RESP_OK)] = t + 1


@njit(cache=True, _nrt=False, forceinline=True)
def deliver(P, S, slots, free, bank, chan, hist, resp_out, t):
    """The player takes one response per cycle (TracePlayer::peqCallback answers END_RESP at once)."""
    if S[S_LAST_DELIV] >= t:
        return
    if P[P_ARB] == ARB_REORDER:       # ArbiterReorder: in request order
        s = S[S_UND_HEAD]
        if s < 0 or not slots[slt(s, Q_RESPONDED)]:
            return
        S[S_UND_HEAD] = slots[slt(s, Q_UNEXT)]
    else:
        s = S[S_PEND_HEAD]
        if s < 0:
            return
        S[S_PEND_HEAD] = slots[slt(s, Q_RNEXT)]
    S[S_LAST_DELIV] = t
    S[S_PROGRESS] = t
    S[S_DELIVERED] += 1
    lat = t - slots[slt(s, Q_ACCEPT)]
    if slots[slt(s, Q_WRITE)] == 0:
        S[S_RLAT_SUM] += lat
        S[S_N_RLAT] += 1
        hist[min(lat, HIST_BINS - 1)] += 1
    S[S_LAT_SUM] += lat
    if resp_out.shape[0]:
        resp_out[slots[slt(s, Q_ID)], 0] = slots[slt(s, Q_ACCEPT)]
        resp_out[slots[slt(s, Q_ID)], 1] = t
    S[S_END] = max(S[S_END], t)
    ch = bank[bnk(B_CH, slots[slt(s, Q_BANK)])]
    free[S[S_FREE_N]] = s
    S[S_FREE_N] += 1
    if P[P_ARB] == ARB_SIMPLE:
        chan[chn(ch, C_RESP_BUSY)] = 0
        chan[chn(ch, C_RESP_OK)] = t + 1
    elif P[P_ARB] == ARB_FIFO or P[P_ARB] == ARB_REORDER:
        if S[S_PARKED] >= 0:          # END_RESP: the parked request gets END_REQ (count unchanged)
            p = S[S_PARKED]
            S[S_PARKED] = -1
            S[S_WAITING] = 0
            front_accept(P, S, slots, bank, chan, p, slots[slt(p, Q_PUSHED)], t)
        else:
            S[S_ACTIVE] -= 1


@njit(cache=True, _nrt=False, forceinline=True)
def send(P, S, slots, free, bank, chan, trace, base, t):
    """The trace player's next request reaches the arbiter at cycle t."""
    row = trace[S[S_NEXT_ID] - base]
    S[S_FREE_N] -= 1
    s = free[S[S_FREE_N]]
    slots[slt(s, Q_ID)] = S[S_NEXT_ID]
    slots[slt(s, Q_ADDR)] = row[0]
    slots[slt(s, Q_WRITE)] = row[1]
    slots[slt(s, Q_BANK)] = row[3]
    slots[slt(s, Q_ROW)] = row[4]
    slots[slt(s, Q_DONE)] = -1
    slots[slt(s, Q_RESPONDED)] = 0
    S[S_NEXT_ID] += 1
    ch = bank[bnk(B_CH, row[3])]
    if P[P_ARB] == ARB_SIMPLE:        # ArbiterSimple stamps the request on arrival (GenerationExtension)
        slots[slt(s, Q_ACCEPT)] = t
        S[S_WAITING] = 1
        push(slots, chan, s, ch, t, C_FIFO_HEAD, C_FIFO_TAIL)
    elif P[P_ARB] == ARB_DS3:
        if tq_room(P, slots, chan, s, ch):
            front_accept(P, S, slots, bank, chan, s, ch, t)
        else:
            slots[slt(s, Q_PUSHED)] = ch   # parked: remember the channel
            S[S_PARKED] = s
            S[S_WAITING] = 1
    elif S[S_ACTIVE] < P[P_MAXACT]:
        S[S_ACTIVE] += 1
        front_accept(P, S, slots, bank, chan, s, ch, t)
    else:
        slots[slt(s, Q_PUSHED)] = ch
        S[S_PARKED] = s
        S[S_WAITING] = 1
