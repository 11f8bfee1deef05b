"""DRAM standards as data: organisation, timing (in clock cycles) and currents (mA).

One rank is `devices` chips side by side; a request moves one burst of 64 B on the rank's bus.
Sources, per standard:
- ddr3_1600: DRAMSys memspec MICRON_1Gb_DDR3-1600_8bit_G (archgym/data/dramsys), the part ArchGym's
  DRAMSys runs used; Micron 1Gb DDR3 x8 datasheet (speed grade -125).
- ddr4_2400, ddr4_3200: JEDEC JESD79-4 speed bins for an 8Gb x8 part, as in DRAMSim3's
  DDR4_8Gb_x8_2400.ini / DDR4_8Gb_x8_3200.ini and shared/reference/dram.md; currents from the
  same files (Micron 8Gb DDR4 datasheet values).
- ddr4_2400_4gb: DRAMSys memspec JEDEC_4Gb_DDR4-2400_8bit_A (archgym/data/dramsys), the DDR4 part of
  DRAMSys's and ArchGym's DDR4 examples, with its VPP current (idd02 at vdd2).
- lpddr4_3200: JEDEC JESD209-4 via DRAMSys memspec JEDEC_8Gb_LPDDR4-3200_16bit; two x16 dies
  make a 32-bit rank so that one BL16 burst is 64 B. Currents are the VDD2 rail (1.1 V), which
  carries nearly all of the core power (VDD1 draws 2-3 mA, left out).

`cl` and `cwl` are the read and write latencies DRAMSys calls RL and WL (additive latency 0).
DDR3 and LPDDR4 have no bank groups: their `_s` and `_l` timings are equal. Per-bank refresh is
native to LPDDR4 (tRFCpb, tREFIpb); for DDR3/DDR4 it is our extension with LPDDR4's ratio
tRFCpb = tRFC / 2 and tREFIpb = tREFI / banks. `memspec.py` builds a Standard from any DDR3/DDR4
DRAMSys memspec file.
"""
from __future__ import annotations

from dataclasses import dataclass

from archgym.core.errors import unknown

REQUEST_BYTES = 64  # one burst on a 64-bit DDR bus (BL8) or a 32-bit LPDDR4 bus (BL16)


@dataclass(frozen=True)
class Standard:
    """Timing parameters are in clock cycles of `clock_mhz`; currents in mA per device; vdd in V.
    `vpp`/`ipp0`: the DDR4 VPP rail and its activate current (DRAMPower's second voltage domain).
    `rho`/`ibeta`: DRAMPower's bank-wise factors (factRho, iBeta; 1 and IDD0 give the classic model)."""
    name: str
    clock_mhz: float
    # organisation (per device and per rank)
    bankgroups: int
    banks_per_group: int
    rows: int
    columns: int
    burst_length: int
    devices: int          # chips per rank
    # timing (cycles)
    cl: int
    cwl: int
    trcd: int
    trp: int
    trp_ab: int           # precharge-all (LPDDR4 tRPab; equal to tRP for DDR3/DDR4)
    tras: int
    trc: int
    twr: int
    trtp: int
    trrd_s: int
    trrd_l: int
    tfaw: int
    tccd_s: int
    tccd_l: int
    twtr_s: int
    twtr_l: int
    trfc: int
    trefi: int
    trfc_pb: int
    trefi_pb: int
    txp: int
    tcke: int
    trtrs: int
    # currents (mA per device) and supply (V)
    vdd: float
    idd0: float
    idd2n: float
    idd2p: float
    idd3n: float
    idd3p: float
    idd4r: float
    idd4w: float
    idd5: float
    width: int = 8        # data bits per device
    idd6: float = 0.0     # self refresh (DRAMPower's command replay only; the controller never self-refreshes)
    vpp: float = 0.0
    ipp0: float = 0.0
    rho: float = 1.0
    ibeta: float | None = None

    @property
    def banks(self) -> int:
        return self.bankgroups * self.banks_per_group

    @property
    def tck_ns(self) -> float:
        return 1000.0 / self.clock_mhz

    @property
    def burst_cycles(self) -> int:
        """Data-bus cycles per burst: BL/2 (double data rate)."""
        return self.burst_length // 2

    @property
    def column_bits(self) -> int:
        """Address bits that pick a 64 B burst within a row."""
        return (self.columns // self.burst_length - 1).bit_length()

    @property
    def rank_bytes(self) -> int:
        return self.banks * self.rows * (self.columns // self.burst_length) * REQUEST_BYTES


STANDARDS: dict[str, Standard] = {
    # MICRON_1Gb_DDR3-1600_8bit_G (DRAMSys memspec): 8 banks, 16384 rows, 1024 columns, x8.
    "ddr3_1600": Standard(
        "ddr3_1600", 800.0, 1, 8, 16384, 1024, 8, 8,
        cl=10, cwl=8, trcd=10, trp=10, trp_ab=10, tras=28, trc=38, twr=12, trtp=6,
        trrd_s=5, trrd_l=5, tfaw=24, tccd_s=4, tccd_l=4, twtr_s=6, twtr_l=6,
        trfc=88, trefi=6240, trfc_pb=44, trefi_pb=780, txp=6, tcke=3, trtrs=1,
        # IDD from the same memspec; IDD2P is idd2p1 (fast-exit precharge power-down, tXP exit).
        vdd=1.5, idd0=70.0, idd2n=45.0, idd2p=30.0, idd3n=45.0, idd3p=35.0,
        idd4r=140.0, idd4w=145.0, idd5=170.0, idd6=8.0),
    # DDR4_8Gb_x8_2400 (DRAMSim3 config / dram.md table): 4 bank groups x 4 banks, 65536 rows.
    "ddr4_2400": Standard(
        "ddr4_2400", 1200.0, 4, 4, 65536, 1024, 8, 8,
        cl=17, cwl=12, trcd=17, trp=17, trp_ab=17, tras=39, trc=56, twr=18, trtp=9,
        trrd_s=4, trrd_l=6, tfaw=26, tccd_s=4, tccd_l=6, twtr_s=3, twtr_l=9,
        trfc=420, trefi=9360, trfc_pb=210, trefi_pb=585, txp=8, tcke=6, trtrs=1,
        # IDD (mA) from dram.md / DRAMSim3 DDR4_8Gb_x8_2400.ini [power]; IDD5 is IDD5AB.
        vdd=1.2, idd0=48.0, idd2n=34.0, idd2p=25.0, idd3n=43.0, idd3p=37.0,
        idd4r=135.0, idd4w=123.0, idd5=250.0),
    # JEDEC_4Gb_DDR4-2400_8bit_A (DRAMSys memspec): 4 x 4 banks, 32768 rows, RL 16, WL 16, RFC 312.
    "ddr4_2400_4gb": Standard(
        "ddr4_2400_4gb", 1200.0, 4, 4, 32768, 1024, 8, 8,
        cl=16, cwl=16, trcd=16, trp=16, trp_ab=16, tras=39, trc=55, twr=18, trtp=12,
        trrd_s=4, trrd_l=6, tfaw=26, tccd_s=4, tccd_l=6, twtr_s=3, twtr_l=9,
        trfc=312, trefi=9360, trfc_pb=156, trefi_pb=585, txp=8, tcke=6, trtrs=1,
        # IDD (mA) of the same memspec; IDD2P/IDD3P are idd2p1/idd3p1, VPP = vdd2 with idd02.
        vdd=1.2, idd0=60.75, idd2n=38.25, idd2p=17.0, idd3n=44.0, idd3p=22.5,
        idd4r=184.5, idd4w=168.75, idd5=118.0, idd6=20.25, vpp=2.5, ipp0=4.05),
    # DDR4_8Gb_x8_3200 (DRAMSim3 config / dram.md table).
    "ddr4_3200": Standard(
        "ddr4_3200", 1600.0, 4, 4, 65536, 1024, 8, 8,
        cl=22, cwl=16, trcd=22, trp=22, trp_ab=22, tras=52, trc=74, twr=24, trtp=12,
        trrd_s=4, trrd_l=8, tfaw=34, tccd_s=4, tccd_l=8, twtr_s=4, twtr_l=12,
        trfc=560, trefi=12480, trfc_pb=280, trefi_pb=780, txp=10, tcke=8, trtrs=1,
        # IDD (mA) from dram.md / DRAMSim3 DDR4_8Gb_x8_3200.ini [power].
        vdd=1.2, idd0=57.0, idd2n=37.0, idd2p=25.0, idd3n=52.0, idd3p=43.0,
        idd4r=168.0, idd4w=150.0, idd5=250.0),
    # JEDEC_8Gb_LPDDR4-3200_16bit (DRAMSys memspec, JESD209-4): 8 banks, 65536 rows, BL16.
    "lpddr4_3200": Standard(
        "lpddr4_3200", 1600.0, 1, 8, 65536, 1024, 16, 2,
        cl=28, cwl=14, trcd=29, trp=29, trp_ab=34, tras=68, trc=97, twr=29, trtp=12,
        trrd_s=16, trrd_l=16, tfaw=64, tccd_s=8, tccd_l=8, twtr_s=16, twtr_l=16,
        trfc=448, trefi=6246, trfc_pb=224, trefi_pb=780, txp=12, tcke=12, trtrs=1,
        # VDD2-rail currents of the same memspec (idd02, idd2n2, idd2p2, idd3n2, idd3p2,
        # idd4r2, idd4w2, idd52), in mA.
        vdd=1.1, idd0=45.0, idd2n=27.0, idd2p=3.0, idd3n=30.0, idd3p=9.0,
        idd4r=275.0, idd4w=210.0, idd5=90.0, width=16),
}


def get(name: str) -> Standard:
    """The Standard called `name`; UnknownNameError lists the valid names."""
    try:
        return STANDARDS[name]
    except (KeyError, TypeError):
        raise unknown("DRAM standard", name, STANDARDS) from None
