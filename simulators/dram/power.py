"""DRAM core energy as DRAMPower computes it, from command counts and cycle counts.

The formulas are DRAMPower's bank-wise model (tukl-msd/DRAMPower 5/6,
`standards/ddr4/core_calculation_DDR4.cpp` `Calculation_DDR4::calcEnergy`, `data/energy.cpp`):
with I_rho = rho(IDD3N - IDD2N) + IDD2N, I_theta = (IDD0(tRP + tRAS) - I_beta tRP) / tRAS and
I_1 = (IDD3N + (B - 1) I_rho) / B for B banks per rank,
  E_act = VDD (I_theta - I_1) tRAS per ACT,        E_pre = VDD (I_beta - IDD2N) tRP per bank closing,
  E_rd/wr = VDD (IDD4R/W - IDD3N) BL/2 tCK,        E_ref = VDD (IDD5 - IDD3N) tRFC per all-bank REF,
  E_bg = VDD tCK [(I_1 - I_rho) bank-active cycles + I_rho rank-active cycles + IDD2N precharged
         cycles + IDD3P/IDD2P power-down cycles + IDD6 self-refresh cycles].
With rho = 1 and I_beta = IDD0 (memspecs without a bank-wise section) these are the classic
formulas of the DRAMPower inside DRAMSys 4.0 (`MemoryPowerModel::calcEnergy`, where the PRE term
uses tRC - tRAS = tRP), plus its second (VPP) domain: VPP IPP0 tRAS per ACT and VPP IPP0 tRP per
closing. Currents in mA, times in ns, energies in pJ, per device; callers multiply by devices.

`replay` turns a DDR4 command list of one rank into those counts with DRAMPower's cycle rules
(`standards/ddr4/DDR4Core.cpp`), so DRAMPower's own test patterns can be checked (tests/test_dram_power.py).
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

from simulators.dram.standards import Standard


def components(std: Standard, act, close, rd, wr, ref, bank_active, rank_active, rank_pre, apd=0, ppd=0, sref=0,
               rda=0, wra=0, ref_pb=0) -> dict:
    """Energies in pJ per device. Per-bank quantities (act, close, rd, wr, rda, wra, ref,
    bank_active) may be arrays over banks (giving per-bank energies) or totals."""
    v, t = std.vdd, std.tck_ns
    B = std.banks
    beta = std.idd0 if std.ibeta is None else std.ibeta
    tras, trp = std.tras * t, std.trp * t
    i_rho = std.rho * (std.idd3n - std.idd2n) + std.idd2n
    i_theta = (std.idd0 * (trp + tras) - beta * trp) / tras
    i_1 = (std.idd3n + (B - 1) * i_rho) / B
    burst = std.burst_cycles * t
    per_bank = np.ndim(act) > 0
    e = {
        "E_act": (v * (i_theta - i_1) + std.vpp * std.ipp0) * tras * np.asarray(act, float),
        "E_pre": (v * (beta - std.idd2n) + std.vpp * std.ipp0) * trp * np.asarray(close, float),
        "E_RD": v * (std.idd4r - std.idd3n) * burst * np.asarray(rd, float),
        "E_WR": v * (std.idd4w - std.idd3n) * burst * np.asarray(wr, float),
        "E_RDA": v * (std.idd4r - std.idd3n) * burst * np.asarray(rda, float),
        "E_WRA": v * (std.idd4w - std.idd3n) * burst * np.asarray(wra, float),
        # one REF refreshes every bank: each carries 1/B of it; a per-bank REF is 1/B of the rows
        "E_ref_AB": v * (std.idd5 - std.idd3n) * std.trfc * t * (np.asarray(ref, float) / (B if per_bank else 1)
                                                                 + np.asarray(ref_pb, float) / B),
        "E_bg_act": v * (i_1 - i_rho) * t * np.asarray(bank_active, float),
        "E_bg_pre": v * std.idd2n * t * rank_pre / (B if per_bank else 1) * np.ones(np.shape(act)),
    }
    return {**e, "E_bg_act_shared": v * i_rho * t * rank_active, "E_PDNA": v * std.idd3p * t * apd,
            "E_PDNP": v * std.idd2p * t * ppd, "E_sref": v * std.idd6 * t * sref}


def total(e: dict) -> float:
    """DRAMPower's `aggregated_bank_energy().total()`: every core term except power-down and self refresh."""
    keys = ("E_act", "E_pre", "E_RD", "E_WR", "E_RDA", "E_WRA", "E_ref_AB", "E_bg_act", "E_bg_pre")
    return float(sum(np.sum(e[k]) for k in keys) + e["E_bg_act_shared"])


@dataclass
class _Interval:
    """A cycle counter accumulating [start, end) intervals."""
    start: int | None = None
    count: int = 0

    def begin(self, t, restart=True):
        if restart or self.start is None:
            self.start = t

    def end(self, t):
        if self.start is not None:
            self.count += t - self.start
            self.start = None

    def at(self, t):
        return self.count + (max(0, t - self.start) if self.start is not None else 0)


@dataclass
class Replay:
    """DRAMPower's DDR4 command handling for one rank (DDR4Core.cpp): ACT opens a bank (and the
    rank), PRE/PREA close it (a PRE to a closed bank counts nothing), RDA/WRA close it later at
    max(ACT + tRAS, CAS + offset), REFA keeps every bank active for tRFC, PDEA/PDEP/SREFEN start
    power-down or self refresh no earlier than the banks allow, PDXA/PDXP/SREFEX end them."""
    std: Standard
    rd_offset: int          # prechargeOffsetRD = AL + tRTP, fixed from the memspec
    wr_offset: int          # prechargeOffsetWR = BL/2 + WL + tWR
    n: dict = field(default_factory=dict)
    queue: list = field(default_factory=list)

    def __post_init__(self):
        B = self.std.banks
        self.n = {k: np.zeros(B, np.int64) for k in ("act", "close", "rd", "wr", "rda", "wra", "ref")}
        self.open = [False] * B
        self.banks = [_Interval() for _ in range(B)]
        self.rank, self.pda, self.pdp, self.sr = _Interval(), _Interval(), _Interval(), _Interval()
        self.last_act = [None] * B
        self.last_pre = [None] * B
        self.ref_end = [0] * B
        self.refresh_end = 0
        self.seq = 0

    def _later(self, t, fn):
        self.seq += 1
        heapq.heappush(self.queue, (t, self.seq, fn))

    def _flush(self, t):
        while self.queue and self.queue[0][0] <= t:
            heapq.heappop(self.queue)[2]()

    def _rank_active(self, t):
        return any(self.open) or t < self.refresh_end

    def _close(self, b, t):
        if not self.open[b]:
            return
        self.n["close"][b] += 1
        self.open[b] = False
        self.banks[b].end(t)
        self.last_pre[b] = t
        if not self._rank_active(t):
            self.rank.end(t)

    def _refresh(self, t):
        end = t + self.std.trfc
        self.refresh_end = end
        self.rank.begin(t, restart=False)
        for b in range(len(self.open)):
            self.open[b] = True
            self.n["ref"][b] += 1
            self.banks[b].begin(t, restart=False)
            self.ref_end[b] = end

            def done(b=b, end=end):
                self.open[b] = False
                self.banks[b].end(end)
                if not self._rank_active(end):
                    self.rank.end(end)
            self._later(end, done)

    def _earliest_pd(self):
        s, e = self.std, 0
        for b in range(len(self.open)):
            e = max(e, self.last_act[b] + s.trcd if self.last_act[b] is not None else 0,
                    self.last_pre[b] + s.trp if self.last_pre[b] is not None else 0, self.ref_end[b])
        return e

    def command(self, t: int, cmd: str, b: int = 0) -> None:
        self._flush(t)
        if cmd == "ACT":
            self.n["act"][b] += 1
            self.open[b] = True
            self.last_act[b] = t
            self.banks[b].begin(t)
            self.rank.begin(t, restart=False)
        elif cmd == "PRE":
            self._close(b, t)
        elif cmd == "PREA":
            for bb in range(len(self.open)):
                self._close(bb, t)
        elif cmd == "REFA":
            self._refresh(t)
        elif cmd in ("RD", "WR", "RDA", "WRA"):
            self.n[cmd.lower()][b] += 1
            if cmd in ("RDA", "WRA"):
                tp = max(self.banks[b].start + self.std.tras, t + (self.rd_offset if cmd == "RDA" else self.wr_offset))
                self._later(tp, lambda b=b, tp=tp: self._close(b, tp))
        elif cmd == "SREFEN":
            self._refresh(t)
            self._later(t + self.std.trfc, lambda ts=t + self.std.trfc: self.sr.begin(ts))
        elif cmd == "SREFEX":
            self.sr.end(t)
        elif cmd in ("PDEA", "PDEP"):
            te = max(t, self._earliest_pd())

            def enter(te=te, kind=cmd):
                (self.pda if kind == "PDEA" else self.pdp).begin(te)
                self.rank.end(te)
                for iv in self.banks:
                    iv.end(te)
            self._later(te, enter)
        elif cmd in ("PDXA", "PDXP"):
            tx = max(t, self._earliest_pd())

            def leave(tx=tx, kind=cmd):
                (self.pda if kind == "PDXA" else self.pdp).end(tx)
                for bb, on in enumerate(self.open):
                    if on:
                        self.banks[bb].begin(tx)
                if kind == "PDXA" and self._rank_active(tx):
                    self.rank.begin(tx)
            self._later(tx, leave)
        else:
            raise ValueError(f"unknown DDR4 command {cmd!r}")

    def energy(self, t: int) -> dict:
        """`calcCoreEnergy(t)`: components() at cycle t, per bank."""
        self._flush(t)
        act = self.rank.at(t)
        pd = (self.pda.at(t), self.pdp.at(t), self.sr.at(t))
        n = self.n
        return components(self.std, n["act"], n["close"], n["rd"], n["wr"], n["ref"],
                          np.array([iv.at(t) for iv in self.banks]), act, t - act - sum(pd), apd=pd[0], ppd=pd[1],
                          sref=pd[2], rda=n["rda"], wra=n["wra"])
