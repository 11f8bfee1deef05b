"""Board budgets, FINN's utilisation caps and the power model's coefficients, each with its source.

Resources are the vendor's device totals (not FINN's slightly smaller platform tables):
LUT, FF, BRAM18 (two per BRAM36 tile), URAM (288 Kb blocks) and DSP slices.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RESOURCES = ("lut", "ff", "bram18", "uram", "dsp")

# FINN's recommended utilisation limits for timing closure, in percent, in RESOURCES order
# (finn src/finn/util/platforms.py: DEFAULT_RES_LIMITS = [0.7, 0.5, 0.80, 0.80, 0.80]).
CAPS_PCT = np.array([70, 50, 80, 80, 80], dtype=np.int64)

# XPE's default toggle rate, the activity at which the dynamic coefficients below apply
# (Xilinx UG440, "Using the Logic Sheet": "The default value of 12.5% means one transition every
# eight cycles").
XPE_TOGGLE = 0.125

# Dynamic power per used element at XPE_TOGGLE, in uW per MHz, in RESOURCES order.
# ASSUMPTION: no per-element XPE table could be read from this workplace, so these are
# order-of-magnitude figures for Vivado's vectorless estimate (28 nm 7-series, logic power
# including its routing): a 30k-LUT, 280-BRAM18 BNN-PYNQ CNV at 100 MHz comes to ~0.55 W dynamic.
# 16 nm UltraScale+ runs at 0.85 V instead of 1.0 V: the same capacitance costs 0.85^2 = 0.72x.
# Replace both rows with XPE numbers for quantitative power work; see docs/fpga.md, "Power".
DYN_UW_PER_MHZ_7SERIES = np.array([0.08, 0.02, 8.0, 0.0, 6.0])
DYN_UW_PER_MHZ_USPLUS = np.array([0.08, 0.02, 8.0, 20.0, 6.0]) * 0.85 ** 2


@dataclass(frozen=True)
class Board:
    """An FPGA board: its device, resource totals and static power (W, 25 C, typical process)."""
    name: str
    device: str
    lut: int
    ff: int
    bram18: int
    uram: int
    dsp: int
    static_w: float
    dyn_uw_per_mhz: np.ndarray
    source: str

    @property
    def resources(self) -> np.ndarray:
        return np.array([self.lut, self.ff, self.bram18, self.uram, self.dsp], dtype=np.int64)


# Static power: ASSUMPTION, order of magnitude of Vivado's "Device Static" for the programmable
# logic at 25 C (grows with die size); not from a cited table. See docs/fpga.md, "Power".
_Z7020 = dict(device="xc7z020", lut=53_200, ff=106_400, bram18=280, uram=0, dsp=220, static_w=0.12,
              dyn_uw_per_mhz=DYN_UW_PER_MHZ_7SERIES,
              source="Xilinx DS190 Zynq-7000 SoC Product Overview, Table 1 (Z-7020: 140 BRAM36)")

BOARDS: dict[str, Board] = {b.name: b for b in (
    Board("pynq_z1", **_Z7020),
    Board("pynq_z2", **_Z7020),
    Board("ultra96", "xczu3eg", 70_560, 141_120, 432, 0, 360, 0.30, DYN_UW_PER_MHZ_USPLUS,
          "Xilinx DS891 Zynq UltraScale+ MPSoC Product Overview (ZU3EG: 216 BRAM36)"),
    Board("zcu104", "xczu7ev", 230_400, 460_800, 624, 96, 1_728, 0.60, DYN_UW_PER_MHZ_USPLUS,
          "Xilinx DS891 Zynq UltraScale+ MPSoC Product Overview (ZU7EV: 312 BRAM36, 96 URAM)"),
    Board("zcu102", "xczu9eg", 274_080, 548_160, 1_824, 0, 2_520, 0.70, DYN_UW_PER_MHZ_USPLUS,
          "Xilinx DS891 Zynq UltraScale+ MPSoC Product Overview (ZU9EG: 912 BRAM36)"),
    Board("u250", "xcu250", 1_728_000, 3_456_000, 5_376, 1_280, 12_288, 4.0, DYN_UW_PER_MHZ_USPLUS,
          "Xilinx DS962 Alveo U200 and U250 Data Sheet (U250: 2,688 BRAM36, 1,280 URAM)"),
)}
BOARD_NAMES = tuple(BOARDS)

# Kernel arrays, a row per board in BOARD_NAMES order: resources, and static W then dynamic uW/MHz.
AVAILABLE = np.stack([BOARDS[b].resources for b in BOARD_NAMES])
POWER = np.stack([np.concatenate([[BOARDS[b].static_w], BOARDS[b].dyn_uw_per_mhz]) for b in BOARD_NAMES])

# FF per LUT of a FINN dataflow design (FINN has no FF estimate): the BNN-PYNQ CNV on a Pynq-Z1,
# Vivado 2016.1 post-implementation, 34,645 FF for 30,605 LUT (Xilinx/BNN-PYNQ
# bnn/src/network/cnv-pynq/README.md, "Utilization reports").
FF_PER_LUT = 34_645 / 30_605
