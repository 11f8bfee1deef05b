"""The kernel's incremental state equals a recomputation from scratch at every stop of a chunked
run (random designs of the whole knob space, random traces): each bank's cached earliest cycle
B_X (kept by retime_rank/retime_group after every command), the DRAMSim3 transaction queue's
links and per-bank lists, and its pick (the first queued request that fits, found by a walk),
each rank's latest close time, and each channel's refresh quiet bound."""
import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from archgym.core.workloads import traces as tr
from simulators import dram
from simulators.dram import batch, frontend
from simulators.dram import kernel as K
from simulators.dram import layout as L
from test_dram_reference import cases as reference_cases


def fresh_time(P, bank, bgn, rank, gb):
    """commands.bank_time, written out."""
    gr = bank[L.B_GR, gb]
    blocked = rank[gr, L.R_BLOCKED]
    if bank[L.B_CAND, gb] < 0 or blocked == -1 or blocked == bank[L.B_LOCAL, gb] or rank[gr, L.R_IN_PD]:
        return L.INF
    c = bank[L.B_CMD, gb]
    return max(bank[c, gb], rank[gr, c], bgn[bank[L.B_GBG, gb], bank[L.B_BGCOL, gb]], bank[bank[L.B_RDACOL, gb], gb])


def queue(slots, chan, ch, head, tail):
    """The slots of a channel queue in order, checking its back links and its tail."""
    out, prev, s = [], -1, chan[ch, head]
    while s >= 0:
        assert slots[s, L.Q_PREV] == prev
        out.append(s)
        prev, s = s, slots[s, L.Q_NEXT]
    assert chan[ch, tail] == (out[-1] if out else chan[ch, tail])
    return out


def check_state(P, S, flat_slots, flat_bank, flat_bgn, flat_rank, flat_chan):
    """flat_*: the kernel's tables (read here through their 2-D views; frontend's helpers take them flat)."""
    slots, bank, bgn, rank, chan = L.views(P, flat_slots, flat_bank, flat_bgn, flat_rank, flat_chan)
    nbc = bank.shape[1] // chan.shape[0]
    nbanks = bank.shape[1] // rank.shape[0]
    for gr in range(rank.shape[0]):          # precharged_until's rank-wide latest close time
        closes = bank[L.B_CLOSE_T, gr * nbanks:(gr + 1) * nbanks]
        if rank[gr, L.R_N_OPEN] == 0:
            assert rank[gr, L.R_CLOSE_MAX] == max(0, closes.max()), gr
    nrank = rank.shape[0] // chan.shape[0]
    for ch in range(chan.shape[0]):          # the refresh managers' quiet bound, while it is in force
        quiet = chan[ch, L.C_REF_QUIET]
        if S[L.S_NOW] < quiet:
            ranks = rank[ch * nrank:(ch + 1) * nrank]
            assert (ranks[:, L.R_CMD] == L.NO_CMD).all(), ch
            assert quiet == min(ranks[:, L.R_WAKE].min(), ranks[:, L.R_TRIGGER].min()), ch
    for gb in range(bank.shape[1]):
        if not chan[gb // nbc, L.C_STALE]:
            assert bank[L.B_X, gb] == fresh_time(P, bank, bgn, rank, gb), gb
    if P[L.P_ARB] != L.ARB_DS3:
        return
    for ch in range(chan.shape[0]):
        reads = queue(slots, chan, ch, L.C_FIFO_HEAD, L.C_FIFO_TAIL)
        writes = queue(slots, chan, ch, L.C_WQ_HEAD, L.C_WQ_TAIL)
        for w, q in ((0, reads), (1, writes)):
            assert all(slots[s, L.Q_WRITE] == w for s in q)
            assert all(slots[a, L.Q_ID] < slots[b, L.Q_ID] for a, b in zip(q, q[1:]))   # ids rise along a queue
            if P[L.P_SBUF] == L.BANKWISE:
                for gb in range(ch * nbc, (ch + 1) * nbc):
                    want = [s for s in q if slots[s, L.Q_BANK] == gb]
                    got, s = [], bank[L.B_TQH + w, gb]
                    while s >= 0:
                        got.append(s)
                        s = slots[s, L.Q_TNEXT]
                    assert got == want
                    assert bank[L.B_TQT + w, gb] == (want[-1] if want else -1)
                    assert bank[L.B_TQI + w, gb] == (slots[want[0], L.Q_ID] if want else L.INF)
        s, prev, drain = frontend.tq_pick(P, flat_slots, flat_bank, flat_chan, ch)
        assert (s, prev, drain) == frontend.tq_first(P, flat_slots, flat_bank, flat_chan, ch)   # the cached pick is current
        q = writes if drain > 0 or chan[ch, L.C_TQ_NR] == 0 else reads
        fitting = [(a, p) for p, a in zip([-1] + q, q) if frontend.fits(P, flat_slots, flat_bank, flat_chan, a, ch)]
        assert (s, prev) == (fitting[0] if fitting else (-1, -1))


@st.composite
def cases(draw):
    """The differential test's random design and trace, and a chunk length."""
    design, trace = draw(reference_cases())
    return design, trace, draw(st.integers(1, 8))


def run_checked(design, trace, chunk):
    """Run in chunks of `chunk` requests, checking the state at every stop."""
    d, system = dram.memory_system(design)
    P = dram.params(d, system)
    decoded = dram.decode(trace, system, (1, 1))
    n = len(decoded)
    state = list(L.init_state(P))
    none2 = np.zeros((0, 2), np.int64)
    base = 0
    while True:
        last = base + chunk >= n
        status = K.run(P, decoded[base:base + chunk], base, last, n if last else np.iinfo(np.int64).max,
                       *state, none2, None)
        check_state(P, *state[:2], *state[3:7])
        if status == L.NEED_SLOTS:
            state[1], state[2] = L.grow(state[0], state[1], state[2])
        elif status == L.NEED_MORE:
            base += chunk
        else:
            break
    assert status == L.DONE
    S, hist, _ = batch.simulate_one(P, decoded, none2, None)   # chunking changes nothing
    np.testing.assert_array_equal(state[0], S)
    np.testing.assert_array_equal(state[7], hist)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_incremental_state_equals_recomputation(case):
    run_checked(*case)


def test_incremental_state_on_saturated_dramsim3_queues():
    """Back-to-back random requests into DRAMSim3's queues (bankwise and shared), two channels of two ranks."""
    for buffer, size in (("bankwise", 8), ("shared", 32)):
        design = {"arbiter": "dramsim3", "max_active_transactions": 32, "scheduler_buffer": buffer,
                  "request_buffer_size": size, "ranks": 2, "channels": 2}
        run_checked(design, tr.random(600, span=1 << 32, gap=0, write_fraction=0.33, seed=3), 1)
