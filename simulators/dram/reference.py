"""The golden model: the same memory controller as kernel.py, written as a readable simpy model
that steps the controller clock one cycle at a time (it only jumps over cycles in which nothing is
in flight and no refresh or power-down work is due). It is the specification of the semantics;
the kernel must agree with it request by request (tests/test_dram_reference.py).

One initiator (the trace player) drives one arbiter in front of one controller per channel, as in
DRAMSys 4.0 (the version ArchGym ran). Each cycle runs, for every channel, the steps of DRAMSys's
`Controller::controllerMethod`: (1) responses, (2) accept a request, (3) refresh managers,
(4-5) issue at most one command (a column command frees its buffer entry and the controller tries
to accept again), then our power-down entry. The trace player and the arbiter act between (1) and (2).
Background energy is classified cycle by cycle here (the kernel accounts it by intervals).
It is slow (tens of thousands of requests per second); use it for tests and for reading.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import simpy

from simulators.base import SimResult
from simulators.dram import _metrics, decoded_source, dramsys, memory_system, player_ratio
from simulators.dram import layout as L
from simulators.dram.reference_dram import INF, REGULAR, DramSide


@dataclass(eq=False)
class Request:
    id: int
    addr: int
    write: bool
    ch: "Channel"
    rank: "Rank"
    bank: "Bank"
    row: int
    pushed: int = 0              # cycle it entered the arbiter's channel queue
    accept: int = -1             # the arbiter stamps it (DRAMSys GenerationExtension): the latency clock starts
    done: int | None = None      # cycle its data transfer ends (after its RD/WR)
    responded: bool = False


@dataclass(eq=False)
class Bank:
    index: int                   # within its channel (DRAMSys bank ID)
    group: list                  # its bank group's next-legal times [ACT, RD, WR]
    open_row: int = -1
    close_time: int = 0          # the cycle its row closed (or closes: auto-precharge, refresh end)
    next: list = field(default_factory=lambda: [0] * 4)   # ACT, PRE, RD, WR
    rda_ready: int = 0           # RDA must wait so that its precharge meets tWR (CheckerDDR4: WR -> RDA)
    cas_since_act: int = 0
    queue: list = field(default_factory=list)             # scheduler buffer, arrival order


@dataclass(eq=False)
class Rank:
    banks: list
    next: list = field(default_factory=lambda: [0] * 6)   # ACT, PRE, RD, WR, REFA, PREA
    faw: deque = field(default_factory=lambda: deque([-INF] * 4, maxlen=4))
    trigger: int = INF           # refresh manager: next trigger time
    state: int = REGULAR
    counter: int = 0             # postponed (> 0) or pulled-in (< 0) refreshes
    blocked: int = -2            # -2 none, -1 every bank (forced all-bank refresh), else that bank
    remaining: list = field(default_factory=list)         # per-bank refresh: banks not yet refreshed
    current: int = 0
    skip: bool = False
    in_pd: bool = False
    pd_enter: int = 0
    pd_end: int = 0
    pd_active: bool = False
    pd_ready: int = 0
    cmd: int | None = None       # the refresh manager's command this cycle
    cycles: list = field(default_factory=lambda: [0, 0, 0, 0, 0])  # act stby, pre stby, ppd, apd, bank-active

    def queued(self) -> int:
        return sum(len(b.queue) for b in self.banks)

    def n_open(self) -> int:
        return sum(b.open_row >= 0 for b in self.banks)


@dataclass(eq=False)
class Channel:
    index: int
    ranks: list
    banks: list
    cmdbus: int = 0
    fifo: list = field(default_factory=list)        # arbiter -> controller, one request at a time
    last_end_req: int = -1
    n_read: int = 0
    n_write: int = 0
    last_bank: int = 0                              # BufferCounterBankwise::lastBankID
    last_write: bool = False                        # SchedulerFrFcfsGrp::lastCommand
    respq: list = field(default_factory=list)       # CAS order (fifo) or acceptance order (reorder)
    resp_ok: int = 0
    resp_busy: bool = False
    writes: list = field(default_factory=list)      # transaction queue: its write buffer (fifo: its reads)
    drain: int = 0                                  # writes left to drain (DRAMSim3 write_draining_)
    rr: int = 0                                     # DRAMSim3: the bank served last (round robin)


class Controller(DramSide):
    """One design on one decoded trace. `run()` simulates; `scalars()` gives the kernel's result
    layout: (scalars S, read-latency histogram, background cycles per rank)."""

    def __init__(self, design: dict, system, trace: np.ndarray, ratio: tuple[int, int]):
        self.d = d = dict(design)
        self.system = system
        s = system.standard
        self.T = dict(CL=s.cl, CWL=s.cwl, RCD=s.trcd, RP=s.trp, RPAB=s.trp_ab, RAS=s.tras, RC=s.trc, WR=s.twr,
                      RTP=s.trtp, RRDS=s.trrd_s, RRDL=s.trrd_l, FAW=s.tfaw, CCDS=s.tccd_s, CCDL=s.tccd_l,
                      WTRS=s.twtr_s, WTRL=s.twtr_l, RFC=s.trfc, REFI=s.trefi, RFCPB=s.trfc_pb, REFIPB=s.trefi_pb,
                      XP=s.txp, CKE=s.tcke, RTRS=s.trtrs, BURST=s.burst_cycles)
        self.trace, self.ratio = trace, ratio
        self.per_bank = d["refresh_policy"] == "per_bank"
        self.interval = self.T["REFIPB"] if self.per_bank else self.T["REFI"]
        self.channels = []
        for c in range(system.channels):
            ranks, banks = [], []
            for r in range(system.ranks):
                groups = [[0, 0, 0] for _ in range(s.bankgroups)]
                rb = [Bank(len(banks) + i, groups[i // s.banks_per_group]) for i in range(s.banks)]
                banks += rb
                rank = Rank(rb, remaining=list(range(s.banks)))
                if d["refresh_policy"] != "no_refresh":   # RefreshManagerIF::getTimeForFirstTrigger
                    rank.trigger = self.interval - _bitrev(r, system.ranks) * self.interval // system.ranks
                ranks.append(rank)
            self.channels.append(Channel(c, ranks, banks))
        self.next_id, self.delivered = 0, 0
        self.waiting = False            # the player waits for END_REQ
        self.send_ok = 0
        self.active, self.parked = 0, None
        self.pending: deque = deque()   # responses at the arbiter, waiting for the initiator
        self.undelivered: deque = deque()   # accepted by the arbiter, not yet delivered (id order)
        self.last_delivery = -1
        self.end = 0
        self.stats = dict(act=0, pre=0, rd=0, wr=0, ref=0, refpb=0, autopre=0, pd=0, hits=0, close=0)
        self.read_latencies: list[int] = []
        self.latency_sum = 0
        self.responses = np.zeros((len(trace), 2), np.int64)
        self.env = simpy.Environment()
        self.env.process(self.clock())

    # --- the clock ---------------------------------------------------------------------------
    def clock(self):
        while True:
            t = int(self.env.now)
            self.cycle(t)
            if self.delivered == len(self.trace):
                return
            self.account(t, 1)
            step = self.idle_until(t + 1) - t
            if step > 1:
                self.account(t + 1, step - 1)
            yield self.env.timeout(step)

    def run(self):
        self.env.run()
        return self

    def cycle(self, t: int) -> None:
        for ch in self.channels:
            self.respond(ch, t)
        self.deliver(t)
        self.send(t)
        for ch in self.channels:
            self.accept(ch, t)
            for rank in ch.ranks:
                self.refresh_start(rank, t)
            self.command(ch, t)
        self.power_down(t)

    def ranks(self):
        return [r for ch in self.channels for r in ch.ranks]

    def idle_until(self, t: int) -> int:
        """The next cycle worth simulating: t, unless nothing is in flight and no refresh is due."""
        if self.next_id > self.delivered or any(r.trigger <= t for r in self.ranks()):
            return t
        nxt = min([r.trigger for r in self.ranks()] + [INF])
        if self.next_id < len(self.trace):
            nxt = min(nxt, max(int(self.trace[self.next_id, 2]), self.send_ok))
        if self.d["power_down_policy"] == "staggered":
            nxt = min([nxt] + [r.pd_ready for r in self.ranks() if not r.in_pd])
        return max(t, nxt)

    # --- (1) responses (Controller::manageResponses, RespQueueFifo/RespQueueReorder) ------------
    def respond(self, ch: Channel, t: int) -> None:
        if ch.resp_busy or t < ch.resp_ok or not ch.respq:
            return
        head = ch.respq[0]   # fifo: CAS order; reorder: the oldest accepted request of the channel
        if head.done is None or head.done > t:
            return
        ch.respq.pop(0)
        head.responded = True
        self.pending.append(head)
        if self.d["arbiter"] == "simple":
            ch.resp_busy = True      # ArbiterSimple passes END_RESP back only when the initiator sends it
        else:
            ch.resp_ok = t + 1       # ArbiterFifo/Reorder end the response at once

    def deliver(self, t: int) -> None:
        """The initiator takes at most one response per cycle (TracePlayer answers END_RESP at once);
        the Reorder arbiter returns them in request order (ArbiterReorder::peqCallback)."""
        if self.last_delivery >= t or not self.pending:
            return
        if self.d["arbiter"] == "reorder":
            req = self.undelivered[0]
            if not req.responded:
                return
            self.pending.remove(req)
        else:
            req = self.pending.popleft()
        if self.undelivered and self.undelivered[0] is req:
            self.undelivered.popleft()
        else:
            self.undelivered.remove(req)
        self.last_delivery = t
        self.delivered += 1
        lat = t - req.accept
        if not req.write:
            self.read_latencies.append(lat)
        self.latency_sum += lat
        self.responses[req.id] = req.accept, t
        self.end = max(self.end, t)
        if self.d["arbiter"] == "simple":
            req.ch.resp_busy = False
            req.ch.resp_ok = t + 1
        elif self.d["arbiter"] == "dramsim3":
            pass
        elif self.parked is not None:         # ArbiterFifo::peqCallback END_RESP: admit the parked one
            self.arbiter_accept(self.parked, t)
            self.parked = None
            self.waiting = False
        else:
            self.active -= 1

    # --- the trace player and the arbiter ------------------------------------------------------
    def next_edge(self, t: int) -> int:
        """The first controller cycle on a player-clock edge strictly after cycle t
        (StlPlayer::nextPayload sends one player period after END_REQ, rounded up to tCK)."""
        num, den = self.ratio
        k = t * den // num + 1
        return -(-k * num // den)

    def send(self, t: int) -> None:
        if self.waiting or self.next_id >= len(self.trace):
            return
        addr, write, arrival, bank, row = (int(x) for x in self.trace[self.next_id])
        if max(arrival, self.send_ok) > t:
            return
        s = self.system.standard
        nb = s.banks * self.system.ranks
        ch = self.channels[bank // nb]
        b = ch.banks[bank % nb]
        req = Request(self.next_id, addr, bool(write), ch, ch.ranks[(bank % nb) // s.banks], b, row)
        self.next_id += 1
        if self.d["arbiter"] == "simple":   # ArbiterSimple stamps the request on arrival
            req.accept = t
            self.undelivered.append(req)
            self.waiting = True
            self.push(req, t)
        elif self.d["arbiter"] == "dramsim3":
            if self.tq_room(req):
                self.arbiter_accept(req, t)
            else:
                self.parked, self.waiting = req, True
        elif self.active < self.d["max_active_transactions"]:
            self.active += 1
            self.arbiter_accept(req, t)
        else:
            self.parked, self.waiting = req, True

    def arbiter_accept(self, req: Request, t: int) -> None:
        """ArbiterFifo/Reorder (or DRAMSim3's AddTransaction): END_REQ to the initiator now, then
        queue for the channel."""
        req.accept = t
        self.send_ok = self.next_edge(t)
        self.undelivered.append(req)
        self.push(req, t)

    def push(self, req: Request, t: int) -> None:
        req.pushed = t
        tq = self.d["arbiter"] == "dramsim3"
        (req.ch.writes if tq and req.write else req.ch.fifo).append(req)

    def tq_room(self, req: Request) -> bool:
        """DRAMSim3 Controller::WillAcceptTransaction: read queue and write buffer of max_active_transactions."""
        return len(req.ch.writes if req.write else req.ch.fifo) < self.d["max_active_transactions"]

    def fits(self, req: Request) -> bool:
        """Room in this request's own bank (direction, channel) buffer: CommandQueue::WillAcceptCommand."""
        size, buf, ch = self.d["request_buffer_size"], self.d["scheduler_buffer"], req.ch
        if buf == "bankwise":
            return len(req.bank.queue) < size
        if buf == "read_write":
            return (ch.n_write if req.write else ch.n_read) < size
        return ch.n_read + ch.n_write < size

    def tq_pick(self, ch: Channel):
        """(request, drain) DRAMSim3 Controller::ScheduleTransaction moves: writes while draining
        (from a full write buffer, or one above 8 writes while every bank buffer is empty), else
        reads; the first in queue order that fits. Ours: with no read waiting a write moves too."""
        drain = ch.drain
        if drain == 0 and (len(ch.writes) >= self.d["max_active_transactions"]
                           or (len(ch.writes) > 8 and ch.n_read + ch.n_write == 0)):
            drain = len(ch.writes)
        for req in (ch.writes if drain or not ch.fifo else ch.fifo):
            if self.fits(req):
                return req, drain
        return None, drain

    # --- (2) acceptance into the scheduler buffer (Controller::manageRequests) -----------------
    def has_space(self, ch: Channel) -> bool:
        size, buf = self.d["request_buffer_size"], self.d["scheduler_buffer"]
        if buf == "bankwise":    # BufferCounterBankwise::hasBufferSpace tests the last stored request's bank
            return len(ch.banks[ch.last_bank].queue) < size
        if buf == "read_write":  # BufferCounterReadWrite::hasBufferSpace: both counts below the size
            return ch.n_read < size and ch.n_write < size
        return ch.n_read + ch.n_write < size  # BufferCounterShared

    def accept(self, ch: Channel, t: int) -> None:
        if ch.last_end_req >= t:
            return   # the arbiter forwards the next request one cycle after END_REQ (Arbiter.cpp)
        if self.d["arbiter"] == "dramsim3":
            req, drain = self.tq_pick(ch)
            if req is None:
                return
            (ch.writes if req.write else ch.fifo).remove(req)
            ch.drain = max(drain - req.write, 0)
        else:
            if not ch.fifo or ch.fifo[0].pushed > t or not self.has_space(ch):
                return
            req = ch.fifo.pop(0)
        ch.last_end_req = t
        req.bank.queue.append(req)
        ch.last_bank = req.bank.index
        if req.write:
            ch.n_write += 1
        else:
            ch.n_read += 1
        if self.d["resp_queue"] == "reorder":
            ch.respq.append(req)
        if req.rank.in_pd:
            self.pd_exit(req.rank, t)
        if self.d["arbiter"] == "simple":   # END_REQ reaches the player through ArbiterSimple
            self.waiting = False
            self.send_ok = self.next_edge(t)
        elif self.d["arbiter"] == "dramsim3" and self.parked is not None:
            if self.parked.ch is ch and self.tq_room(self.parked):   # the stalled request now fits
                self.arbiter_accept(self.parked, t)
                self.parked, self.waiting = None, False

    # --- results ---------------------------------------------------------------------------------
    def scalars(self):
        S = np.zeros(L.N_SCALARS, np.int64)
        s = self.stats
        S[L.S_END] = self.end
        S[L.S_N_ACT], S[L.S_N_PRE], S[L.S_N_RD], S[L.S_N_WR] = s["act"], s["pre"], s["rd"], s["wr"]
        S[L.S_N_REF], S[L.S_N_REFPB], S[L.S_N_AUTOPRE], S[L.S_N_PD] = s["ref"], s["refpb"], s["autopre"], s["pd"]
        S[L.S_N_HITS], S[L.S_N_CLOSE] = s["hits"], s["close"]
        S[L.S_RLAT_SUM] = sum(self.read_latencies)
        S[L.S_N_RLAT] = len(self.read_latencies)
        S[L.S_LAT_SUM] = self.latency_sum
        hist = np.bincount(np.minimum(self.read_latencies, L.HIST_BINS - 1), minlength=L.HIST_BINS) \
            if self.read_latencies else np.zeros(L.HIST_BINS, np.int64)
        bg = np.array([r.cycles for r in self.ranks()], np.int64)
        return S, hist, bg


def _bitrev(r: int, n: int) -> int:
    bits = (n - 1).bit_length()
    return int(f"{r:0{bits}b}"[::-1], 2) if bits else 0


def simulate(design: dict, trace=None, *, trace_clock_mhz: float | None = None, config=None) -> SimResult:
    """Run the golden model; same inputs and metrics as simulators.dram.simulate, with per-request
    acceptance and response cycles always included."""
    d, system = memory_system(design, config)
    if trace is None:
        trace = "stream" if config is None else dramsys.load(config).traces[0][0]
    decoded, raw, mhz = decoded_source(trace, trace_clock_mhz, system, whole=True)
    ctl = Controller(d, system, decoded, player_ratio(mhz, system.standard)).run()
    S, hist, bg = ctl.scalars()
    std = system.standard
    detail = {"address": raw[:, 0], "is_write": raw[:, 1], "arrival_cycle": decoded[:, 2],
              "accept_cycle": ctl.responses[:, 0], "response_cycle": ctl.responses[:, 1],
              "latency_ns": (ctl.responses[:, 1] - ctl.responses[:, 0]) * std.tck_ns}
    return SimResult(_metrics(std, S, hist, bg), requests=detail)
