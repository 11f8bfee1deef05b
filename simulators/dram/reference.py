"""The golden model: the same memory controller as kernel.py, written as a readable simpy model
that steps the controller clock one cycle at a time (it only jumps over cycles in which the
controller holds no request and has no refresh or power-down work).

Each cycle runs six phases in order (see kernel.py): responses, refresh timers, admission,
arbiter, one command per channel, power-down entry. Background energy is classified cycle by
cycle here (the kernel accounts it by intervals), so the differential test checks both.
It is slow (tens of thousands of requests per second); use it for tests and for reading.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import simpy

from simulators.base import SimResult
from simulators.dram import PARAMETERS, _metrics, _source, capacity_bytes, _check_capacity, params, \
    standard_of, to_controller_cycles
from simulators.dram import kernel as K, layout as L

INF = 1 << 62
ACT, PRE, RD, WR, REF = range(5)


@dataclass
class Request:
    id: int
    admit: int
    write: bool
    ch: int
    rank: "Rank"
    bank: "Bank"
    row: int
    done: int | None = None      # cycle the data transfer ends
    acted: bool = False          # an ACT was issued on its behalf (a row miss)


@dataclass
class Bank:
    index: int                   # within its rank
    bankgroup: int
    open_row: int = -1
    close_time: int = 0          # cycle the bank became (or becomes) precharged and idle
    next: list = field(default_factory=lambda: [0] * 5)   # earliest cycle per command
    queue: list = field(default_factory=list)             # scheduler buffer, oldest first


@dataclass
class Rank:
    index: int                   # within its channel
    banks: list
    bg_next: list                # per bank group: earliest cycle per command
    next: list = field(default_factory=lambda: [0] * 5)
    faw: deque = field(default_factory=lambda: deque([-INF] * 4, maxlen=4))
    ref_tick: int = INF
    ref_debt: int = 0
    ref_bank: int = 0
    in_pd: bool = False
    pd_enter: int = 0
    pd_end: int = 0              # power-down lasts until here (tCKE minimum residency)
    pd_active: bool = False      # entered with a bank open (IDD3P) rather than precharged (IDD2P)
    pd_ready: int = 0
    busy_until: int = 0          # latest close time of any bank (refresh counts as busy)
    cycles: list = field(default_factory=lambda: [0, 0, 0, 0])  # act stby, pre stby, ppd, apd

    def n_open(self) -> int:
        return sum(b.open_row >= 0 for b in self.banks)

    def queued(self) -> int:
        return sum(len(b.queue) for b in self.banks)


class Controller:
    """One design on one trace (arrivals in controller cycles). `run()` simulates; `scalars()` gives
    the kernel's result layout: (scalars S, read-latency histogram, background cycles per rank)."""

    def __init__(self, design: dict, trace: np.ndarray):
        self.d = PARAMETERS.complete(design)
        self.P = params(self.d)
        self.t_ = {name: int(self.P[getattr(K, "P_" + name)]) for name in
                   ("CL", "CWL", "RCD", "RP", "RPAB", "RAS", "RC", "WR", "RTP", "RRDS", "RRDL", "FAW", "CCDS",
                    "CCDL", "WTRS", "WTRL", "RFC", "REFI", "RFCPB", "REFIPB", "XP", "CKE", "RTRS", "BURST")}
        d = self.d
        std = standard_of(d)
        self.trace = trace
        self.n_banks = std.banks
        self.bpg = std.banks_per_group
        self.policy = {k: d[k] for k in PARAMETERS.names}
        self.channels = []
        interval = self.t_["REFI"] if d["refresh_policy"] == "all_bank" else self.t_["REFIPB"]
        for _ in range(d["channels"]):
            ranks = []
            for r in range(d["ranks"]):
                rank = Rank(r, [Bank(i, i // self.bpg) for i in range(self.n_banks)],
                            [[0] * 5 for _ in range(std.bankgroups)])
                if d["refresh_policy"] != "no_refresh":
                    rank.ref_tick = (r + 1) * interval // d["ranks"]
                ranks.append(rank)
            self.channels.append({"cmdbus": 0, "last_write": False, "n_read": 0, "n_write": 0, "ranks": ranks})
        self.interval = interval
        # address field -> (shift, mask), as the front computed them for the kernel
        self.fields = {k: (int(self.P[getattr(K, f"P_SH_{k.upper()}")]), int(self.P[getattr(K, f"P_MK_{k.upper()}")]))
                       for k in ("ch", "ra", "bg", "ba", "ro")}
        self.next_id = self.released = 0
        self.active: list[Request] = []      # admitted, not yet answered (admission order)
        self.arbiter: list[Request] = []     # admitted, not yet in a scheduler buffer
        self.last_admit = self.last_xfer = -1
        self.last_resp = 0
        self.end = 0
        self.stats = dict(act=0, pre=0, rd=0, wr=0, ref=0, refpb=0, autopre=0, pd=0, hits=0)
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
            if self.released == len(self.trace):
                return
            self.account(t)
            step = self.idle_until(t + 1) - t
            if step > 1:
                for rank in self.ranks():
                    self.account_rank(rank, t + 1, step - 1)
            yield self.env.timeout(step)

    def run(self):
        self.env.run()
        return self

    def cycle(self, t: int) -> None:
        self.respond(t)
        self.refresh_timers(t)
        self.admit(t)
        self.transfer(t)
        for ch in self.channels:
            self.command(ch, t)
        self.power_down(t)

    def ranks(self):
        return [r for ch in self.channels for r in ch["ranks"]]

    def idle_until(self, t: int) -> int:
        """The next cycle worth simulating: t, unless the controller is empty and idle."""
        if self.active or any(self.wants_refresh(r) for r in self.ranks()):
            return t
        nxt = min([r.ref_tick for r in self.ranks()] + [INF])
        if self.next_id < len(self.trace):
            nxt = min(nxt, int(self.trace[self.next_id, 2]))
        if self.policy["power_down_policy"] == "staggered":
            nxt = min([nxt] + [r.pd_ready for r in self.ranks() if not r.in_pd])
        return max(t, nxt)

    # --- 1. responses --------------------------------------------------------------------------
    def respond(self, t: int) -> None:
        if self.policy["resp_queue"] == "fifo":
            while self.active and self.active[0].done is not None and max(self.active[0].done, self.last_resp) <= t:
                self.release(self.active[0], max(self.active[0].done, self.last_resp))
        else:
            for req in [r for r in self.active if r.done is not None and r.done <= t]:
                self.release(req, req.done)

    def release(self, req: Request, t: int) -> None:
        self.active.remove(req)
        self.released += 1
        latency = t - req.admit
        if not req.write:
            self.read_latencies.append(latency)
        self.latency_sum += latency
        self.responses[req.id] = req.admit, t
        self.last_resp = t
        self.end = max(self.end, t)

    # --- 2. refresh timers ------------------------------------------------------------------------
    def refresh_timers(self, t: int) -> None:
        for rank in self.ranks():
            while rank.ref_tick <= t:
                rank.ref_tick += self.interval
                rank.ref_debt += 1
            if rank.in_pd and self.forced(rank):
                self.pd_exit(rank, t)

    def forced(self, rank: Rank) -> bool:
        return self.policy["refresh_policy"] != "no_refresh" and rank.ref_debt > self.policy["refresh_max_postponed"]

    def wants_refresh(self, rank: Rank) -> bool:
        if self.policy["refresh_policy"] == "no_refresh":
            return False
        if self.forced(rank):
            return True
        if rank.ref_debt <= -self.policy["refresh_max_pulledin"] or rank.in_pd:
            return False
        if self.policy["refresh_policy"] == "all_bank":
            return rank.queued() == 0
        return not rank.banks[rank.ref_bank].queue

    # --- 3. admission and 4. arbiter ------------------------------------------------------------
    def admit(self, t: int) -> None:
        if (self.next_id < len(self.trace) and len(self.active) < self.policy["max_active_transactions"]
                and self.trace[self.next_id, 2] <= t and self.last_admit < t):
            addr, write, _ = (int(x) for x in self.trace[self.next_id])
            f = self.fields
            ch = (addr >> f["ch"][0]) & f["ch"][1]
            rank = self.channels[ch]["ranks"][(addr >> f["ra"][0]) & f["ra"][1]]
            bank = rank.banks[((addr >> f["bg"][0]) & f["bg"][1]) * self.bpg + ((addr >> f["ba"][0]) & f["ba"][1])]
            req = Request(self.next_id, t, bool(write), ch, rank, bank, (addr >> f["ro"][0]) & f["ro"][1])
            self.active.append(req)
            self.arbiter.append(req)
            self.next_id += 1
            self.last_admit = t

    def room(self, req: Request) -> bool:
        size, ch = self.policy["request_buffer_size"], self.channels[req.ch]
        if self.policy["scheduler_buffer"] == "bankwise":
            return len(req.bank.queue) < size
        if self.policy["scheduler_buffer"] == "read_write":
            return (ch["n_write"] if req.write else ch["n_read"]) < size
        return ch["n_read"] + ch["n_write"] < size

    def transfer(self, t: int) -> None:
        if not self.arbiter or self.last_xfer >= t:
            return
        pick = None
        for req in self.arbiter:
            if self.room(req):
                pick = req
                break
            if self.policy["arbiter"] != "reorder":
                break
        delay = 1 if self.policy["arbiter"] == "fifo" else 0
        if pick is None or pick.admit + delay > t:
            return
        self.arbiter.remove(pick)
        pick.bank.queue.append(pick)
        self.channels[pick.ch]["n_write" if pick.write else "n_read"] += 1
        if pick.rank.in_pd:
            self.pd_exit(pick.rank, t)
        self.last_xfer = t

    # --- 5. commands --------------------------------------------------------------------------------
    def command(self, ch: dict, t: int) -> None:
        if ch["cmdbus"] > t:
            return
        for rank in ch["ranks"]:
            if self.wants_refresh(rank):
                cmd, when = self.refresh_command(rank, ch)
                if when <= t:
                    self.issue_refresh(rank, ch, cmd, t)
                    return
        best = None
        for rank in ch["ranks"]:
            for bank in rank.banks:
                if not bank.queue or self.blocked(rank, bank):
                    continue
                req = self.pick(bank, ch)
                cmd = self.next_command(req)
                if self.legal(req, cmd, ch) <= t:
                    key = req.id
                    if (self.policy["scheduler"] == "fr_fcfs_grp" and cmd in (RD, WR)
                            and (cmd == WR) != ch["last_write"]):
                        key += INF
                    if best is None or key < best[0]:
                        best = (key, req, cmd)
        if best is not None:
            self.issue(best[1], best[2], ch, t)

    def blocked(self, rank: Rank, bank: Bank) -> bool:
        """A forced refresh holds back requests to its rank (all-bank) or its bank (per-bank)."""
        if not self.forced(rank):
            return False
        return self.policy["refresh_policy"] == "all_bank" or bank.index == rank.ref_bank

    def pick(self, bank: Bank, ch: dict) -> Request:
        """FIFO: the oldest request. FR-FCFS: the oldest row hit, else the oldest.
        FR-FCFS-grp: prefers hits in the direction of the channel's last column command."""
        if self.policy["scheduler"] == "fifo" or bank.open_row < 0:
            return bank.queue[0]
        hits = [r for r in bank.queue if r.row == bank.open_row]
        if self.policy["scheduler"] == "fr_fcfs_grp":
            same = [r for r in hits if r.write == ch["last_write"]]
            if same:
                return same[0]
        return hits[0] if hits else bank.queue[0]

    @staticmethod
    def next_command(req: Request) -> int:
        if req.bank.open_row == req.row:
            return WR if req.write else RD
        return PRE if req.bank.open_row >= 0 else ACT

    def legal(self, req: Request, cmd: int, ch: dict) -> int:
        return max(req.bank.next[cmd], req.rank.bg_next[req.bank.bankgroup][cmd], req.rank.next[cmd], ch["cmdbus"])

    def refresh_command(self, rank: Rank, ch: dict) -> tuple[int, int]:
        if self.policy["refresh_policy"] == "per_bank":
            bank = rank.banks[rank.ref_bank]
            if bank.open_row >= 0:
                return PRE, max(bank.next[PRE], rank.next[PRE], ch["cmdbus"])
            return REF, max(bank.next[ACT], rank.next[REF], ch["cmdbus"])
        open_banks = [b for b in rank.banks if b.open_row >= 0]
        if open_banks:
            return PRE, max([rank.next[PRE], ch["cmdbus"]] + [b.next[PRE] for b in open_banks])
        return REF, max([rank.next[REF], ch["cmdbus"]] + [b.next[ACT] for b in rank.banks])

    def close(self, rank: Rank, bank: Bank, t: int) -> None:
        bank.open_row = -1
        bank.close_time = t
        rank.busy_until = max(rank.busy_until, t)
        rank.pd_ready = max(rank.pd_ready, t + 1)

    def issue_refresh(self, rank: Rank, ch: dict, cmd: int, t: int) -> None:
        ch["cmdbus"] = t + 1
        all_bank = self.policy["refresh_policy"] == "all_bank"
        targets = rank.banks if all_bank else [rank.banks[rank.ref_bank]]
        if cmd == PRE:
            self.stats["pre"] += 1
            for bank in targets:
                if bank.open_row >= 0:
                    self.close(rank, bank, t)
                    bank.next[ACT] = max(bank.next[ACT], t + (self.t_["RPAB"] if all_bank else self.t_["RP"]))
            return
        rank.ref_debt -= 1
        rfc = self.t_["RFC"] if all_bank else self.t_["RFCPB"]
        self.stats["ref" if all_bank else "refpb"] += 1
        for bank in targets:
            bank.next[ACT] = max(bank.next[ACT], t + rfc)
            bank.close_time = t + rfc
        rank.busy_until = max(rank.busy_until, t + rfc)
        rank.pd_ready = max(rank.pd_ready, t + rfc)
        if all_bank:
            rank.next[REF] = max(rank.next[REF], t + rfc)
        else:
            rank.ref_bank = (rank.ref_bank + 1) % self.n_banks

    def issue(self, req: Request, cmd: int, ch: dict, t: int) -> None:
        T = self.t_
        rank, bank = req.rank, req.bank
        bg = rank.bg_next[bank.bankgroup]
        ch["cmdbus"] = t + 1
        if cmd == ACT:
            self.stats["act"] += 1
            req.acted = True
            bank.open_row = req.row
            bank.close_time = INF
            bank.next[RD] = max(bank.next[RD], t + T["RCD"])
            bank.next[WR] = max(bank.next[WR], t + T["RCD"])
            bank.next[PRE] = max(bank.next[PRE], t + T["RAS"])
            bank.next[ACT] = max(bank.next[ACT], t + T["RC"])
            bg[ACT] = max(bg[ACT], t + T["RRDL"])
            rank.faw.append(t)   # the last four ACTs; a fifth waits tFAW after the oldest
            rank.next[ACT] = max(rank.next[ACT], t + T["RRDS"], rank.faw[0] + T["FAW"])
            rank.pd_ready = max(rank.pd_ready, t + 1)
            return
        if cmd == PRE:
            self.stats["pre"] += 1
            self.close(rank, bank, t)
            bank.next[ACT] = max(bank.next[ACT], t + T["RP"])
            return
        others = [r for r in bank.queue if r is not req]
        other_hit = any(r.row == req.row for r in others)
        other_miss = any(r.row != req.row for r in others)
        bank.queue.remove(req)
        page = self.policy["page_policy"]
        auto = (page == "closed" or (page == "closed_adaptive" and not other_hit)
                or (page == "open_adaptive" and other_miss and not other_hit))
        burst = T["BURST"]
        if req.write:
            self.stats["wr"] += 1
            ch["n_write"] -= 1
            req.done = t + T["CWL"] + burst
            bg[WR] = max(bg[WR], t + T["CCDL"])
            bg[RD] = max(bg[RD], t + T["CWL"] + burst + T["WTRL"])
            rank.next[WR] = max(rank.next[WR], t + T["CCDS"])
            rank.next[RD] = max(rank.next[RD], t + T["CWL"] + burst + T["WTRS"])
            bank.next[PRE] = max(bank.next[PRE], t + T["CWL"] + burst + T["WR"])
            rank.pd_ready = max(rank.pd_ready, t + T["CWL"] + burst + T["WR"])
        else:
            self.stats["rd"] += 1
            ch["n_read"] -= 1
            req.done = t + T["CL"] + burst
            bg[RD] = max(bg[RD], t + T["CCDL"])
            rank.next[RD] = max(rank.next[RD], t + T["CCDS"])
            rank.next[WR] = max(rank.next[WR], t + T["CL"] + burst + 2 - T["CWL"])
            bank.next[PRE] = max(bank.next[PRE], t + T["RTP"])
            rank.pd_ready = max(rank.pd_ready, t + T["CL"] + burst + 1)
        for other in ch["ranks"]:   # rank-to-rank switches on the shared data bus
            if other is not rank:
                if req.write:
                    other.next[RD] = max(other.next[RD], t + T["CWL"] + burst + T["RTRS"] - T["CL"])
                    other.next[WR] = max(other.next[WR], t + burst)
                else:
                    other.next[RD] = max(other.next[RD], t + burst + T["RTRS"])
                    other.next[WR] = max(other.next[WR], t + T["CL"] + burst + T["RTRS"] - T["CWL"])
        if not req.acted:
            self.stats["hits"] += 1
        ch["last_write"] = req.write
        if auto:
            self.stats["autopre"] += 1
            p = bank.next[PRE]
            self.close(rank, bank, p)
            bank.next[ACT] = max(bank.next[ACT], p + T["RP"])

    # --- 6. power-down ------------------------------------------------------------------------------
    def power_down(self, t: int) -> None:
        if self.policy["power_down_policy"] != "staggered":
            return
        for rank in self.ranks():
            if not rank.in_pd and rank.queued() == 0 and rank.pd_ready <= t and not self.wants_refresh(rank):
                rank.in_pd = True
                rank.pd_enter = t
                rank.pd_end = INF
                rank.pd_active = rank.n_open() > 0
                self.stats["pd"] += 1

    def pd_exit(self, rank: Rank, t: int) -> None:
        x = max(t, rank.pd_enter + self.t_["CKE"])
        rank.in_pd = False
        rank.pd_end = x
        rank.next = [max(v, x + self.t_["XP"]) for v in rank.next]

    # --- background energy, cycle by cycle ---------------------------------------------------------
    def account(self, t: int) -> None:
        for rank in self.ranks():
            self.account_rank(rank, t, 1)

    def account_rank(self, rank: Rank, t: int, n: int) -> None:
        """Classify cycles t..t+n-1: power-down (IDD2P/IDD3P), else active standby while a bank
        is open or busy (precharging, refreshing), else precharged standby."""
        end = t + n
        pd = max(0, min(end, rank.pd_end) - max(t, rank.pd_enter))
        rank.cycles[3 if rank.pd_active else 2] += pd
        for a, b in ((t, min(end, rank.pd_enter)), (max(t, rank.pd_end), end)):
            if a >= b:
                continue
            busy = b - a if rank.n_open() > 0 else max(0, min(b, rank.busy_until) - a)
            rank.cycles[0] += busy
            rank.cycles[1] += b - a - busy

    # --- results ----------------------------------------------------------------------------------
    def scalars(self):
        S = np.zeros(L.N_SCALARS, np.int64)
        s = self.stats
        S[L.S_END] = self.end
        S[L.S_N_ACT], S[L.S_N_PRE], S[L.S_N_RD], S[L.S_N_WR] = s["act"], s["pre"], s["rd"], s["wr"]
        S[L.S_N_REF], S[L.S_N_REFPB], S[L.S_N_AUTOPRE], S[L.S_N_PD] = s["ref"], s["refpb"], s["autopre"], s["pd"]
        S[L.S_N_HITS] = s["hits"]
        S[L.S_RLAT_SUM] = sum(self.read_latencies)
        S[L.S_N_RLAT] = len(self.read_latencies)
        S[L.S_LAT_SUM] = self.latency_sum
        hist = np.bincount(np.minimum(self.read_latencies, L.HIST_BINS - 1), minlength=L.HIST_BINS) \
            if self.read_latencies else np.zeros(L.HIST_BINS, np.int64)
        bg = np.array([r.cycles for r in self.ranks()], np.int64)
        return S, hist, bg


def simulate(design: dict, trace="stream", *, trace_clock_mhz: float | None = None) -> SimResult:
    """Run the golden model; same inputs and metrics as simulators.dram.simulate, with per-request
    admission and response cycles always included."""
    d = PARAMETERS.complete(design)
    std = standard_of(d)
    chunks, mhz = _source(trace, trace_clock_mhz)
    arr = np.concatenate(list(chunks))
    _check_capacity(arr, 0, capacity_bytes(d), d)
    conv = to_controller_cycles(arr, mhz, std)
    ctl = Controller(d, conv).run()
    S, hist, bg = ctl.scalars()
    detail = {"address": arr[:, 0], "is_write": arr[:, 1], "arrival_cycle": conv[:, 2],
              "admit_cycle": ctl.responses[:, 0], "response_cycle": ctl.responses[:, 1],
              "latency_ns": (ctl.responses[:, 1] - ctl.responses[:, 0]) * std.tck_ns}
    return SimResult(_metrics(std, S, hist, bg), requests=detail)
