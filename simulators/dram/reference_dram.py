"""The DRAM side of the golden model (reference.py): refresh managers, the command multiplexer,
scheduler picks and page policies, command timing and issue, power-down and background
accounting, written to read like the DRAMSys 4.0 files they follow (paths under
DRAMSys/library/src/). A mixin of reference.Controller; commands.py is the kernel's version.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulators.dram.reference import Bank, Channel, Rank, Request

INF = 1 << 62
ACT, PRE, RD, WR, REFA, PREA = range(6)        # rank "next legal" columns (PRE: power-down exit only)
REGULAR, PULLEDIN = 0, 1


class DramSide:
    """Methods over the Controller's channels, ranks and banks (see reference.Controller)."""

    # --- (3) refresh managers (RefreshManagerAllBank/PerBank::start) --------------------------
    def refresh_start(self, rank: Rank, t: int):
        """The rank's refresh command this cycle (PREA/REFA, per bank PRE/REFB) or None."""
        rank.cmd = None
        if t < rank.trigger:
            return
        if rank.in_pd:              # triggerInterruption wakes the rank; nothing else this cycle
            self.pd_exit(rank, t)
            return
        if t >= rank.trigger + self.interval:
            rank.trigger += self.interval
            rank.state = REGULAR
        post, pull = self.d["refresh_max_postponed"], self.d["refresh_max_pulledin"]
        if self.per_bank:
            self.refresh_start_per_bank(rank, post * len(rank.banks), pull * len(rank.banks))
            return
        busy = rank.queued() > 0
        if rank.state == REGULAR:
            if rank.counter == post:
                rank.blocked = -1            # forced: every bank machine of the rank is blocked
            elif busy:
                rank.counter += 1
                rank.trigger += self.interval
                return
            rank.cmd = PREA if rank.n_open() else REFA
        elif busy:
            rank.state = REGULAR
            rank.trigger += self.interval
        else:
            rank.cmd = REFA

    def refresh_start_per_bank(self, rank: Rank, post: int, pull: int) -> None:
        idle = [b for b in rank.remaining if not rank.banks[b].queue]
        if rank.state == REGULAR:
            forced = rank.counter == post
            if not rank.skip:
                rank.current = idle[0] if idle else rank.remaining[0]
            if not idle and not forced:
                rank.counter += 1
                rank.trigger += self.interval
                return
        elif not idle:
            rank.state = REGULAR
            rank.trigger += self.interval
            return
        else:
            forced = False
            rank.current = idle[0]
        if rank.banks[rank.current].open_row >= 0:
            rank.cmd = PRE
        else:
            rank.cmd = REFA
            if forced:
                rank.blocked, rank.skip = rank.current, True

    def refresh_done(self, rank: Rank) -> None:
        """RefreshManager*::updateState(REFA/REFB)."""
        pull = self.d["refresh_max_pulledin"] * (len(rank.banks) if self.per_bank else 1)
        rank.blocked = -2
        if self.per_bank:
            rank.skip = False
            rank.remaining.remove(rank.current)
            if not rank.remaining:
                rank.remaining = list(range(len(rank.banks)))
        if rank.state == PULLEDIN:
            rank.counter -= 1
        else:
            rank.state = PULLEDIN
        if rank.counter == -pull:
            rank.state = REGULAR
            rank.trigger += self.interval

    # --- (4-5) one command per channel (CmdMuxOldest::selectCommand) ---------------------------
    def command(self, ch: Channel, t: int) -> None:
        if ch.cmdbus > t:
            return
        for rank in ch.ranks:         # refresh commands carry payload ID 0: they win every tie
            if rank.cmd is not None and self.refresh_legal(rank, ch) <= t:
                self.issue_refresh(rank, ch, t)
                return
        ready = []                    # (bank index in the channel, request, command) ready now
        for rank in ch.ranks:
            if rank.in_pd:
                continue
            for i, bank in enumerate(rank.banks):
                if not bank.queue or rank.blocked in (-1, i):
                    continue
                req = self.pick(bank, ch)
                cmd = self.bank_command(req)
                if self.legal(req, cmd, ch) <= t:
                    ready.append((bank.index, req, cmd))
        if not ready:
            return
        if self.d["arbiter"] == "dramsim3":   # CommandQueue::GetCommandToIssue: round robin over banks
            n = len(ch.banks)
            b, req, cmd = min(ready, key=lambda x: (x[0] - ch.rr - 1) % n)
            ch.rr = b
        else:                                 # the oldest request
            b, req, cmd = min(ready, key=lambda x: x[1].id)
        self.issue(req, cmd, ch, t)

    def pick(self, bank: Bank, ch: Channel) -> Request:
        """SchedulerFifo/FrFcfs/FrFcfsGrp::getNextRequest."""
        sched = self.d["scheduler"]
        if sched == "fifo" or bank.open_row < 0:
            return bank.queue[0]
        hits = [r for r in bank.queue if r.row == bank.open_row]
        if not hits:
            return bank.queue[0]
        if sched == "fr_fcfs_grp":    # same direction as the last CAS, unless an older hit has its address
            for k, r in enumerate(hits):
                if r.write == ch.last_write and all(o.addr != r.addr for o in hits[:k]):
                    return r
        return hits[0]

    def further_row_hit(self, bank: Bank) -> bool:
        """Scheduler*::hasFurtherRowHit (fifo: only the next request counts)."""
        if self.d["scheduler"] == "fifo":
            return len(bank.queue) >= 2 and bank.queue[1].row == bank.open_row
        return sum(r.row == bank.open_row for r in bank.queue) >= 2

    def bank_command(self, req: Request) -> tuple[int, bool]:
        """(command, auto-precharge) of BankMachine{Open,Closed,OpenAdaptive,ClosedAdaptive}::start."""
        bank, page = req.bank, self.d["page_policy"]
        if bank.open_row < 0:
            return ACT, False
        cas = WR if req.write else RD
        if page == "closed":
            return cas, True
        if bank.open_row != req.row:
            return PRE, False
        if page == "open_adaptive":
            return cas, len(bank.queue) >= 2 and not self.further_row_hit(bank)
        if page == "closed_adaptive":
            return cas, not self.further_row_hit(bank)
        return cas, False

    def legal(self, req: Request, cmd, ch: Channel) -> int:
        c, auto = cmd
        b, r = req.bank, req.rank
        t = max(ch.cmdbus, b.next[c], r.next[c])
        if c != PRE:
            t = max(t, b.group[0 if c == ACT else c - 1])
        if c == RD and auto:
            t = max(t, b.rda_ready)
        return t

    def refresh_legal(self, rank: Rank, ch: Channel) -> int:
        """PREA/REFA: the rank's accumulated constraints; per-bank PRE/REFB: the bank's, plus tXP
        after a power-down exit (rank.next[PRE] is only raised by power-down exits)."""
        if self.per_bank:
            b = rank.banks[rank.current]
            return max(ch.cmdbus, rank.next[PRE], b.next[PRE] if rank.cmd == PRE else b.next[ACT])
        return max(ch.cmdbus, rank.next[rank.cmd])

    def close(self, rank: Rank, bank: Bank, t: int) -> None:
        bank.open_row = -1
        bank.close_time = t
        rank.next[REFA] = max(rank.next[REFA], t + self.T["RP"])
        rank.pd_ready = max(rank.pd_ready, t + 1)
        self.stats["close"] += 1

    def issue_refresh(self, rank: Rank, ch: Channel, t: int) -> None:
        T = self.T
        ch.cmdbus = t + 1
        if rank.cmd == PREA or rank.cmd == PRE:
            self.stats["pre"] += 1
            targets = [rank.banks[rank.current]] if self.per_bank else rank.banks
            for bank in targets:
                if bank.open_row >= 0:
                    self.close(rank, bank, t)
                    bank.next[ACT] = max(bank.next[ACT], t + (T["RP"] if self.per_bank else T["RPAB"]))
            if not self.per_bank:
                rank.next[REFA] = max(rank.next[REFA], t + T["RPAB"])
                rank.next[ACT] = max(rank.next[ACT], t + T["RPAB"])
            return
        rfc = T["RFCPB"] if self.per_bank else T["RFC"]
        targets = [rank.banks[rank.current]] if self.per_bank else rank.banks
        for bank in targets:
            bank.next[ACT] = max(bank.next[ACT], t + rfc)
            bank.close_time = t + rfc
        rank.pd_ready = max(rank.pd_ready, t + rfc)
        if self.per_bank:
            self.stats["refpb"] += 1
        else:
            self.stats["ref"] += 1
            rank.next[REFA] = max(rank.next[REFA], t + rfc)
        self.refresh_done(rank)

    def issue(self, req: Request, cmd, ch: Channel, t: int) -> None:
        T = self.T
        c, auto = cmd
        rank, bank = req.rank, req.bank
        ch.cmdbus = t + 1
        if c == ACT:
            self.stats["act"] += 1
            bank.open_row, bank.close_time, bank.cas_since_act = req.row, INF, 0
            bank.next[RD] = max(bank.next[RD], t + T["RCD"])
            bank.next[WR] = max(bank.next[WR], t + T["RCD"])
            bank.next[PRE] = max(bank.next[PRE], t + T["RAS"])
            bank.next[ACT] = max(bank.next[ACT], t + T["RC"])
            bank.group[0] = max(bank.group[0], t + T["RRDL"])
            rank.faw.append(t)   # the last four ACTs; a fifth waits tFAW after the oldest
            rank.next[ACT] = max(rank.next[ACT], t + T["RRDS"], rank.faw[0] + T["FAW"])
            rank.next[PREA] = max(rank.next[PREA], t + T["RAS"])
            rank.next[REFA] = max(rank.next[REFA], t + T["RC"])
            rank.pd_ready = max(rank.pd_ready, t + 1)
            return
        if c == PRE:
            self.stats["pre"] += 1
            self.close(rank, bank, t)
            bank.next[ACT] = max(bank.next[ACT], t + T["RP"])
            return
        write, burst = c == WR, T["BURST"]
        ch.n_write -= write
        ch.n_read -= not write
        bank.queue.remove(req)
        if self.d["resp_queue"] == "fifo":
            ch.respq.append(req)
        if write:
            self.stats["wr"] += 1
            req.done = t + T["CWL"] + burst
            wrpre = T["CWL"] + burst + T["WR"]
            bank.group[2] = max(bank.group[2], t + T["CCDL"])
            bank.group[1] = max(bank.group[1], t + T["CWL"] + burst + T["WTRL"])
            rank.next[WR] = max(rank.next[WR], t + T["CCDS"])
            rank.next[RD] = max(rank.next[RD], t + T["CWL"] + burst + T["WTRS"])
            bank.next[PRE] = max(bank.next[PRE], t + wrpre)
            bank.rda_ready = max(bank.rda_ready, t + wrpre - T["RTP"])
            rank.next[PREA] = max(rank.next[PREA], t + wrpre)
            rank.pd_ready = max(rank.pd_ready, t + wrpre)
        else:
            self.stats["rd"] += 1
            req.done = t + T["CL"] + burst
            bank.group[1] = max(bank.group[1], t + T["CCDL"])
            rank.next[RD] = max(rank.next[RD], t + T["CCDS"])
            rank.next[WR] = max(rank.next[WR], t + T["CL"] + burst + 2 - T["CWL"])
            bank.next[PRE] = max(bank.next[PRE], t + T["RTP"])
            rank.next[PREA] = max(rank.next[PREA], t + T["RTP"])
            rank.pd_ready = max(rank.pd_ready, t + T["CL"] + burst + 1)
        for other in ch.ranks:   # rank-to-rank switches on the shared data bus
            if other is not rank:
                if write:
                    other.next[RD] = max(other.next[RD], t + T["CWL"] + burst + T["RTRS"] - T["CL"])
                    other.next[WR] = max(other.next[WR], t + burst + T["RTRS"])
                else:
                    other.next[RD] = max(other.next[RD], t + burst + T["RTRS"])
                    other.next[WR] = max(other.next[WR], t + T["CL"] + burst + T["RTRS"] - T["CWL"])
        if bank.cas_since_act:   # a row hit: not the first column command since the bank's ACT
            self.stats["hits"] += 1
        bank.cas_since_act += 1
        ch.last_write = write
        if auto:
            self.stats["autopre"] += 1
            p = bank.next[PRE]
            self.close(rank, bank, p)
            bank.next[ACT] = max(bank.next[ACT], p + T["RP"])
        self.accept(ch, t)        # Controller::controllerMethod calls manageRequests after a CAS

    # --- power-down (ours; DRAMSys's differences in docs/dram.md) -------------------------------
    def power_down(self, t: int) -> None:
        if self.d["power_down_policy"] != "staggered":
            return
        for rank in self.ranks():
            if not rank.in_pd and rank.queued() == 0 and rank.pd_ready <= t < rank.trigger:
                rank.in_pd, rank.pd_enter, rank.pd_end = True, t, INF
                rank.pd_active = rank.n_open() > 0
                self.stats["pd"] += 1

    def pd_exit(self, rank: Rank, t: int) -> None:
        x = max(t, rank.pd_enter + self.T["CKE"])
        rank.in_pd = False
        rank.pd_end = x
        rank.next = [max(v, x + self.T["XP"]) for v in rank.next]

    # --- background energy, cycle by cycle -----------------------------------------------------
    def account(self, t: int, n: int) -> None:
        """Classify cycles t..t+n-1 of every rank: power-down (IDD2P/IDD3P); else active standby
        while a bank is open or closing later (auto-precharge, refresh), else precharged standby;
        plus bank-active cycles summed over banks (DRAMPower's bank-wise background)."""
        end = t + n
        for rank in self.ranks():   # nothing is issued in t..end-1: only close times pass
            pd = max(0, min(end, rank.pd_end) - max(t, rank.pd_enter))
            rank.cycles[3 if rank.pd_active else 2] += pd
            for a, b in ((t, min(end, rank.pd_enter)), (max(t, rank.pd_end), end)):
                if a < b:
                    busy = max(0, min(b, max(x.close_time for x in rank.banks)) - a)
                    rank.cycles[0] += busy
                    rank.cycles[1] += b - a - busy
                    rank.cycles[4] += sum(max(0, min(b, x.close_time) - a) for x in rank.banks)
