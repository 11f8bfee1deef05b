"""The DRAM controller as a cycle-skipping numba kernel over plain int64 arrays.

Every cycle t of the controller clock runs the same steps as the simpy golden model
(reference.py), following DRAMSys 4.0's `Controller::controllerMethod` for each channel:
  1. responses: each channel's response queue hands its head to the arbiter (one per cycle per
     channel; the initiator takes one per cycle, in request order behind the Reorder arbiter);
  2. the trace player sends its next request when the previous one got END_REQ (one player-clock
     edge later) and it has arrived; the Fifo/Reorder arbiter answers END_REQ itself while fewer
     than max_active_transactions are in flight;
  3. acceptance: each channel's controller stores the arbiter's request in its scheduler buffer
     when `hasBufferSpace` (END_REQ; the Simple arbiter passes it to the player);
  4. refresh managers (postpone, pull in, force);
  5. commands: each channel issues at most one command, refresh first, else the ready command of
     the oldest request among the banks' scheduler picks; after a column command it tries step 3
     again;
  6. power-down entry.
Nothing can change between two events, so the kernel jumps from one event time to the next
(cycle skipping); the differential test checks it against the per-cycle simpy model.
Helpers are compiled with `_nrt=False` (they never allocate) and `forceinline=True` (LLVM's
alwaysinline), so LLVM inlines them into `run`: half the time per request; `run` itself is not inlined,
which was slower. Numba's `inline="always"` ran as fast, but it inlines numba IR, deep-copied per call
site: a cold start compiled for minutes in gigabytes (now: the `dram-speed` block's cold-start row).
A pick reads each bank's cached earliest cycle B_X (commands.bank_time); see docs/dram.md, Speed.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from simulators.dram.commands import bank_time, issue, issue_refresh, refresh_legal, refresh_start
from simulators.dram.frontend import accept, acceptable, deliver, respond, send
from simulators.dram.layout import (ARB_DS3, ARB_REORDER, B_CAND, B_CAND_ID, B_GR, B_X, C_BEST, C_BEST_GB, C_CMDBUS,
                                    C_LAST_END_REQ, C_MIN, C_REF_QUIET, C_RESCAN, C_RESP_BUSY, C_RESP_OK, C_RQ_HEAD,
                                    C_RR, C_STALE, DONE, INF, NEED_MORE, NEED_SLOTS, NO_CMD, PER_BANK, P_ARB, P_NBG,
                                    P_NBPG, P_NCH, P_NRANK, P_PDPOL, P_REFPOL, Q_DONE, Q_PUSHED, Q_RESPONDED, R_CMD,
                                    R_IN_PD, R_NQ, R_N_OPEN, R_PD_ENTER, R_PD_KIND, R_PD_READY, R_TRIGGER, R_WAKE,
                                    STAGGERED, STALLED, STALL_CYCLES, S_DELIVERED, S_EVENTS, S_FREE_N, S_LAST_DELIV,
                                    S_NEXT_ID, S_NOW, S_N_ACT, S_N_PD, S_N_PRE, S_N_RD, S_N_REF, S_N_REFPB, S_N_WR,
                                    S_PEND_HEAD, S_PROGRESS, S_SEND_OK, S_UND_HEAD, S_WAITING, bnk, chn, rnk, slt)


# phases of one event for the profile (`run`'s prof argument; benchmarks/dram_speed.py prints it)
PHASES = ("next event time", "scheduling scan", "responses", "player", "acceptance", "refresh", "command issue",
          "power-down")
PH_NEXT, PH_SCAN, PH_RESP, PH_PLAYER, PH_ACCEPT, PH_REFRESH, PH_ISSUE, PH_PD = range(len(PHASES))
# what an event did, as bits (`tally`); the profile counts the events of each combination after the phases
EVENT_KINDS = ("command", "acceptance", "player send", "delivery")
PROF_LEN = 2 * len(PHASES) + (1 << len(EVENT_KINDS))


@intrinsic
def cycle_counter(typingctx):
    """The CPU's cycle counter (LLVM's llvm.readcyclecounter: rdtsc on x86), for the profile."""
    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(64), []),
                                            "llvm.readcyclecounter")
        return builder.call(fn, [])
    return types.int64(), codegen


@njit(cache=True, _nrt=False)
def lap(prof, phase, t0):
    """Add the cycles since t0 to prof[phase], count the lap in prof[len(PHASES) + phase], and return
    the counter now; prof None (not profiling): t0 (the branch is pruned at compile time, so the
    production kernel carries no profiling code)."""
    if prof is None:
        return t0
    t1 = cycle_counter()
    prof[phase] += t1 - t0
    prof[len(PHASES) + phase] += 1
    return t1


@njit(cache=True, _nrt=False, forceinline=True)
def commands_issued(S):
    """Commands issued so far (PREA counts as a PRE)."""
    return S[S_N_ACT] + S[S_N_PRE] + S[S_N_RD] + S[S_N_WR] + S[S_N_REF] + S[S_N_REFPB]


@njit(cache=True, _nrt=False, forceinline=True)
def counts_before(prof, S):
    """`tally`'s counts before an event (commands, sends, deliveries); prof None: zeros, so the production
    kernel reads nothing for it."""
    if prof is None:
        return 0, 0, 0
    return commands_issued(S), S[S_NEXT_ID], S[S_DELIVERED]


@njit(cache=True, _nrt=False, forceinline=True)
def tally(prof, S, chan, nch, t, commands0, sent0, delivered0):
    """Count the event at cycle t in prof[2 * len(PHASES) + bits] by what it did (EVENT_KINDS bits; the
    counts before it given); prof None: nothing (pruned at compile time)."""
    if prof is None:
        return
    accepted = 0
    for ch in range(nch):
        accepted |= 1 if chan[chn(ch, C_LAST_END_REQ)] == t else 0
    bits = ((1 if commands_issued(S) != commands0 else 0) | accepted << 1 | (1 if S[S_NEXT_ID] != sent0 else 0) << 2
            | (1 if S[S_DELIVERED] != delivered0 else 0) << 3)
    prof[2 * len(PHASES) + bits] += 1


@njit(cache=True)
def lap_cost(n):
    """The counter's cycles per lap with nothing between laps (its own cost, which every lap adds to
    its phase), the mean over n laps."""
    prof = np.zeros(2 * len(PHASES), np.int64)
    t0 = cycle_counter()
    for _ in range(n):
        t0 = lap(prof, 0, t0)
    return prof[0] / n


@njit(cache=True, _nrt=False, forceinline=True)
def scan_channel(bank, bgn, rank, chan, ch, now, nbc, oldest):
    """Store in chan[ch] the earliest cycle >= now at which a bank command can issue (C_MIN) and
    the one the mux picks then: the oldest request (CmdMuxOldest::selectCommand; not `oldest`:
    DRAMSim3's round robin, which picks at issue). C_STALE: every bank's B_X is recomputed first
    (else the commands keep them current)."""
    b0 = ch * nbc
    if chan[chn(ch, C_STALE)]:
        for gb in range(b0, b0 + nbc):
            bank_time(bank, bgn, rank, gb)
    m = INF                             # field-major rows: min-reductions the compiler vectorises
    for gb in range(b0, b0 + nbc):
        m = min(m, bank[bnk(B_X, gb)])
    best_t = max(m, chan[chn(ch, C_CMDBUS)], now)
    chan[chn(ch, C_MIN)] = best_t
    chan[chn(ch, C_STALE)] = 0
    chan[chn(ch, C_RESCAN)] = 0
    if not oldest:                      # DRAMSim3's round robin picks at issue time (round_robin)
        chan[chn(ch, C_BEST_GB)] = -1
        chan[chn(ch, C_BEST)] = -1
        return
    key = INF                           # a bank is ready at best_t exactly when its B_X <= best_t;
    for i in range(nbc):                # the oldest request's id and its bank in one key (< 256 banks)
        key = min(key, (bank[bnk(B_CAND_ID, b0 + i)] << 8) | i if bank[bnk(B_X, b0 + i)] <= best_t else INF)
    best_gb = b0 + (key & 255) if best_t < INF else -1
    chan[chn(ch, C_BEST_GB)] = best_gb
    chan[chn(ch, C_BEST)] = bank[bnk(B_CAND, best_gb)] if best_gb >= 0 else -1


@intrinsic
def lowest_set_bit(typingctx, x):
    """The index of the lowest set bit of x != 0 (LLVM's llvm.cttz: one tzcnt on x86)."""
    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(64), [ir.IntType(64), ir.IntType(1)]),
                                            "llvm.cttz.i64")
        return builder.call(fn, [args[0], ir.Constant(ir.IntType(1), 1)])
    return types.int64(x), codegen


@intrinsic
def le_mask8(typingctx, arr, start, t):
    """Bit i (i < 8) set where arr[start + i] <= t: one vector load, compare and mask move (AVX-512: vpcmpq
    and kmovb; AVX2: vpcmpgtq and vmovmskpd), which LLVM's vectoriser does not make of a loop of selects.
    Reads arr[start:start + 8] without a bounds check: the caller keeps them within the array."""
    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        vec = ir.VectorType(ir.IntType(64), 8)
        v = builder.load(builder.bitcast(builder.gep(data, [args[1]]), vec.as_pointer()), align=8)
        lanes = builder.insert_element(ir.Constant(vec, ir.Undefined), args[2], ir.Constant(ir.IntType(32), 0))
        lanes = builder.shuffle_vector(lanes, ir.Constant(vec, ir.Undefined),
                                       ir.Constant(ir.VectorType(ir.IntType(32), 8), [0] * 8))
        return builder.zext(builder.bitcast(builder.icmp_signed("<=", v, lanes), ir.IntType(8)), ir.IntType(64))
    return types.int64(arr, start, t), codegen


@njit(cache=True, _nrt=False, forceinline=True)
def round_robin(bank, chan, ch, t, nbc):
    """DRAMSim3 CommandQueue::GetCommandToIssue: the first bank after the last one served whose
    command is ready (instead of the oldest request). The caller checked the command bus is free at t,
    so a bank is ready when B_X <= t: the ready banks as a bitmask (layout.MAX_BANKS_PER_CHANNEL fit one word),
    rotated to start after the last one served, and its lowest set bit."""
    b0 = ch * nbc
    start = chan[chn(ch, C_RR)] + 1
    if start == nbc:
        start = 0
    ready = 0                           # 8 banks a step; lanes past the channel (the next one's, or the row's
    # padding of NB_MAX - 512 = 8 banks) are masked off
    for i in range(0, nbc, 8):
        ready |= le_mask8(bank, bnk(B_X, b0 + i), t) << i
    ready &= (1 << nbc) - 1 if nbc < 64 else -1
    # bit k: bank start + k (mod nbc); with bank 63 ready, the sign bits >> brings in lie above its bit: never lowest
    turn = (ready >> start) | ((ready << (nbc - start)) if start > 0 else 0)
    if turn == 0:
        return
    d = lowest_set_bit(turn)
    j = start + d                       # < 2 * nbc: a compare, not a division
    gb = b0 + (j - nbc if j >= nbc else j)
    chan[chn(ch, C_RR)] = gb - b0
    chan[chn(ch, C_BEST_GB)] = gb
    chan[chn(ch, C_BEST)] = bank[bnk(B_CAND, gb)]


@njit(cache=True, _nrt=False, nogil=True)   # nogil: the next trace chunk is read meanwhile (dram.prefetched)
def run(P, trace, base, last, n_total, S, slots, free, bank, bgn, rank, chan, hist, resp_out, prof):
    """Simulate until every request is answered (DONE), until the player needs a request beyond
    this chunk (NEED_MORE: call again with the next chunk) or more request slots (NEED_SLOTS: call
    again after `layout.grow`). prof: None, or an int64 array of PROF_LEN to add each phase's CPU
    cycles and laps to (see `lap`), then the events by what they did (see `tally`). trace: (k, 5)
    int64 rows (address, is_write, arrival in controller cycles, global bank, row) for request ids
    base..base+k-1."""
    nrank = P[P_NRANK]
    nbanks = P[P_NBG] * P[P_NBPG]
    nch = P[P_NCH]
    nr = nch * nrank
    nbc = nrank * nbanks
    k_avail = base + trace.shape[0]
    t0 = 0 if prof is None else cycle_counter()
    while True:
        now = S[S_NOW]
        if S[S_DELIVERED] == n_total:
            return DONE
        player = S[S_WAITING] == 0 and S[S_NEXT_ID] < n_total
        if player and S[S_NEXT_ID] == k_avail and not last:
            return NEED_MORE
        # ---- the next event time ------------------------------------------------------------
        T = INF
        for ch in range(nch):
            s = chan[chn(ch, C_RQ_HEAD)]
            if chan[chn(ch, C_RESP_BUSY)] == 0 and s >= 0 and slots[slt(s, Q_DONE)] >= 0:
                T = min(T, max(slots[slt(s, Q_DONE)], chan[chn(ch, C_RESP_OK)]))
            s = acceptable(P, slots, bank, chan, ch)
            if s >= 0:
                T = min(T, max(slots[slt(s, Q_PUSHED)], chan[chn(ch, C_LAST_END_REQ)] + 1))
        if P[P_ARB] == ARB_REORDER:
            s = S[S_UND_HEAD]
            if s >= 0 and slots[slt(s, Q_RESPONDED)]:
                T = min(T, S[S_LAST_DELIV] + 1)
        elif S[S_PEND_HEAD] >= 0:
            T = min(T, S[S_LAST_DELIV] + 1)
        t_send = INF
        if player:
            t_send = max(trace[S[S_NEXT_ID] - base, 2], S[S_SEND_OK])
            T = min(T, t_send)
        for ch in range(nch):
            if now >= chan[chn(ch, C_REF_QUIET)]:
                quiet = INF
                for gr in range(ch * nrank, (ch + 1) * nrank):
                    T = min(T, rank[rnk(gr, R_WAKE)])
                    if now <= rank[rnk(gr, R_TRIGGER)]:      # not yet evaluated at its trigger
                        T = min(T, rank[rnk(gr, R_TRIGGER)])
                    elif rank[rnk(gr, R_CMD)] != NO_CMD:
                        T = min(T, refresh_legal(P, bank, rank, chan, gr, ch, nbanks))
                    idle = rank[rnk(gr, R_CMD)] == NO_CMD
                    quiet = min(quiet, rank[rnk(gr, R_WAKE)], rank[rnk(gr, R_TRIGGER)]) if idle else -1
                chan[chn(ch, C_REF_QUIET)] = quiet
            else:                               # quiet until then: the loop's answer is that bound
                T = min(T, chan[chn(ch, C_REF_QUIET)])
        for ch in range(nch):
            if chan[chn(ch, C_STALE)] or chan[chn(ch, C_RESCAN)]:
                t0 = lap(prof, PH_NEXT, t0)
                scan_channel(bank, bgn, rank, chan, ch, now, nbc, P[P_ARB] != ARB_DS3)
                t0 = lap(prof, PH_SCAN, t0)
            T = min(T, chan[chn(ch, C_MIN)])
        if P[P_PDPOL] == STAGGERED:
            for gr in range(nr):
                if (rank[rnk(gr, R_IN_PD)] == 0 and rank[rnk(gr, R_NQ)] == 0
                        and rank[rnk(gr, R_PD_READY)] < rank[rnk(gr, R_TRIGGER)]):
                    T = min(T, rank[rnk(gr, R_PD_READY)])
        if T >= INF:
            return DONE   # unreachable for valid input: something is always pending
        t = max(T, now)
        if t_send <= t and S[S_FREE_N] == 0:
            return NEED_SLOTS
        if S[S_NEXT_ID] > S[S_DELIVERED] and t - S[S_PROGRESS] > STALL_CYCLES:
            return STALLED
        S[S_EVENTS] += 1
        commands0, sent0, delivered0 = counts_before(prof, S)
        t0 = lap(prof, PH_NEXT, t0)
        # ---- 1. responses, then the initiator ----------------------------------------------------
        for ch in range(nch):
            respond(P, slots, chan, S, ch, t)
        deliver(P, S, slots, free, bank, chan, hist, resp_out, t)
        t0 = lap(prof, PH_RESP, t0)
        # ---- 2. the player -----------------------------------------------------------------------
        if S[S_WAITING] == 0 and S[S_NEXT_ID] < k_avail and max(trace[S[S_NEXT_ID] - base, 2], S[S_SEND_OK]) <= t:
            send(P, S, slots, free, bank, chan, trace, base, t)
        t0 = lap(prof, PH_PLAYER, t0)
        for ch in range(nch):
            # ---- 3. acceptance ---------------------------------------------------------------
            accept(P, S, slots, bank, bgn, rank, chan, ch, t, nbanks)
            t0 = lap(prof, PH_ACCEPT, t0)
            # ---- 4. refresh managers (none acts before C_REF_QUIET) ---------------------------
            refreshing = t >= chan[chn(ch, C_REF_QUIET)]
            if refreshing:
                chan[chn(ch, C_REF_QUIET)] = -1
                for gr in range(ch * nrank, (ch + 1) * nrank):
                    if rank[rnk(gr, R_WAKE)] <= t:
                        rank[rnk(gr, R_WAKE)] = INF
                    refresh_start(P, bank, rank, chan, gr, t, nbanks)
            t0 = lap(prof, PH_REFRESH, t0)
            # ---- 5. one command --------------------------------------------------------------
            if chan[chn(ch, C_CMDBUS)] > t:
                continue
            issued = False
            if refreshing:
                for gr in range(ch * nrank, (ch + 1) * nrank):
                    if rank[rnk(gr, R_CMD)] != NO_CMD and refresh_legal(P, bank, rank, chan, gr, ch, nbanks) <= t:
                        issue_refresh(P, S, slots, bank, bgn, rank, chan, gr, ch, t, nbanks)
                        issued = True
                        break
            if issued:
                t0 = lap(prof, PH_ISSUE, t0)
                continue
            if chan[chn(ch, C_STALE)] or chan[chn(ch, C_RESCAN)]:
                t0 = lap(prof, PH_ISSUE, t0)
                scan_channel(bank, bgn, rank, chan, ch, t, nbc, P[P_ARB] != ARB_DS3)
                t0 = lap(prof, PH_SCAN, t0)
            if chan[chn(ch, C_MIN)] <= t:
                if P[P_ARB] == ARB_DS3:
                    round_robin(bank, chan, ch, t, nbc)
                gb = chan[chn(ch, C_BEST_GB)]
                if issue(P, S, slots, bank, bgn, rank, chan, chan[chn(ch, C_BEST)], gb, bank[bnk(B_GR, gb)], ch, t,
                         nbanks, nrank):
                    accept(P, S, slots, bank, bgn, rank, chan, ch, t, nbanks)
                    if P[P_REFPOL] == PER_BANK and refreshing:   # which banks are idle changed: re-pick
                        for gr in range(ch * nrank, (ch + 1) * nrank):   # next cycle (a rank past its trigger
                            if rank[rnk(gr, R_TRIGGER)] <= t:                  # means step 4 ran: C_REF_QUIET is -1)
                                rank[rnk(gr, R_WAKE)] = t + 1
            t0 = lap(prof, PH_ISSUE, t0)
        # ---- 6. power-down entry -------------------------------------------------------------
        if P[P_PDPOL] == STAGGERED:
            for gr in range(nr):
                if (rank[rnk(gr, R_IN_PD)] == 0 and rank[rnk(gr, R_NQ)] == 0
                        and rank[rnk(gr, R_PD_READY)] <= t < rank[rnk(gr, R_TRIGGER)]):
                    rank[rnk(gr, R_IN_PD)] = 1
                    rank[rnk(gr, R_PD_ENTER)] = t
                    rank[rnk(gr, R_PD_KIND)] = 1 if rank[rnk(gr, R_N_OPEN)] > 0 else 0
                    S[S_N_PD] += 1
                    chan[chn(gr // nrank, C_STALE)] = 1
        t0 = lap(prof, PH_PD, t0)
        tally(prof, S, chan, nch, t, commands0, sent0, delivered0)
        S[S_NOW] = t + 1
