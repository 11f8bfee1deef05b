"""Board budgets, the utilisation a design may use, the clock shipped designs run at, and the power
model's coefficients, each with its source.

Resources are the vendor's device totals (not FINN's slightly smaller platform tables):
LUT, FF, BRAM18 (two per BRAM36 tile), URAM (288 Kb blocks) and DSP slices.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RESOURCES = ("lut", "ff", "bram18", "uram", "dsp")

# Share of each resource (RESOURCES order, percent) a design may use: all of it. FINN's
# DEFAULT_RES_LIMITS (util/platforms.py: 70/50/80/80/80%) only feed its floorplanning Platform
# classes, which its build flow never applies, and shipped designs exceed them: BNN-PYNQ's
# cnvW2A2 uses 100% of the Pynq-Z1's BRAM, cnvW1A2 75.8% of its LUTs and 52.9% of its FFs, lfcW1A2
# 92% of its LUTs (Xilinx/BNN-PYNQ bnn/src/network/<net>/README.md, "Utilization reports").
CAPS_PCT = np.array([100, 100, 100, 100, 100], dtype=np.int64)

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
    clock_mhz: float = 100.0
    clock_source: str = ""

    @property
    def resources(self) -> np.ndarray:
        return np.array([self.lut, self.ff, self.bram18, self.uram, self.dsp], dtype=np.int64)


# Static power: ASSUMPTION, order of magnitude of Vivado's "Device Static" for the programmable
# logic at 25 C (grows with die size); not from a cited table. See docs/fpga.md, "Power".
# clock_mhz: the clock FINN/BNN-PYNQ designs shipped at on that board (the envs' default clock;
# the simulator accepts any).
_PYNQ_CLOCK = ("BNN-PYNQ bnn/src/library/script/pynqZ1-Z2/make-vivado-proj.tcl (FCLK0 100 MHz); "
               "finn-examples notebooks (fclk 100 MHz)")
_Z7020 = dict(device="xc7z020", lut=53_200, ff=106_400, bram18=280, uram=0, dsp=220, static_w=0.12,
              dyn_uw_per_mhz=DYN_UW_PER_MHZ_7SERIES,
              source="Xilinx DS190 Zynq-7000 SoC Product Overview, Table 1 (Z-7020: 140 BRAM36)",
              clock_mhz=100.0, clock_source=_PYNQ_CLOCK)

BOARDS: dict[str, Board] = {b.name: b for b in (
    Board("pynq_z1", **_Z7020),
    Board("pynq_z2", **_Z7020),
    Board("ultra96", "xczu3eg", 70_560, 141_120, 432, 0, 360, 0.30, DYN_UW_PER_MHZ_USPLUS,
          "Xilinx DS891 Zynq UltraScale+ MPSoC Product Overview (ZU3EG: 216 BRAM36)", 300.0,
          "BNN-PYNQ bnn/src/library/script/ultra96 (pl_clk2 ~300 MHz); its notebooks' 9,150 fps = "
          "300 MHz / 32,787 cycles"),
    Board("zcu104", "xczu7ev", 230_400, 460_800, 624, 96, 1_728, 0.60, DYN_UW_PER_MHZ_USPLUS,
          "Xilinx DS891 Zynq UltraScale+ MPSoC Product Overview (ZU7EV: 312 BRAM36, 96 URAM)", 250.0,
          "finn-examples VGG10 RadioML on ZCU104, fclk 250 MHz (notebooks/5_radioml_with_cnns.ipynb)"),
    Board("zcu102", "xczu9eg", 274_080, 548_160, 1_824, 0, 2_520, 0.70, DYN_UW_PER_MHZ_USPLUS,
          "Xilinx DS891 Zynq UltraScale+ MPSoC Product Overview (ZU9EG: 912 BRAM36)", 250.0,
          "no shipped FINN design read; the ZCU104's (same UltraScale+ fabric and speed grade)"),
    Board("u250", "xcu250", 1_728_000, 3_456_000, 5_376, 1_280, 12_288, 4.0, DYN_UW_PER_MHZ_USPLUS,
          "Xilinx DS962 Alveo U200 and U250 Data Sheet (U250: 2,688 BRAM36, 1,280 URAM)", 178.0,
          "finn-examples MobileNet-v1 / ResNet-50 on U250, fclk 178 / 187 MHz (notebooks/2_imagenet_with_cnns.ipynb)"),
)}
BOARD_NAMES = tuple(BOARDS)

# Kernel arrays, a row per board in BOARD_NAMES order: resources, and static W then dynamic uW/MHz.
AVAILABLE = np.stack([BOARDS[b].resources for b in BOARD_NAMES])
POWER = np.stack([np.concatenate([[BOARDS[b].static_w], BOARDS[b].dyn_uw_per_mhz]) for b in BOARD_NAMES])

# FF per LUT of a FINN dataflow design (FINN has no FF estimate): the median over the designs with
# published FF and LUT counts in tests/fixtures/fpga/published_designs.csv (BNN-PYNQ cnvW1A1 1.58,
# cnvW1A2 1.40, cnvW2A2 1.38, lfcW1A1 1.18, lfcW1A2 0.93 with Vivado 2018.2; the FINN cybersecurity
# MLP 1.18 out of context). FF never binds on these boards: they have two FFs per LUT.
FF_PER_LUT = 1.28
