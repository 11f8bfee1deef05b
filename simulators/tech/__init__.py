"""Technology model: per-access energies, leakage and area for accelerator models, from maintained models.

    from simulators.tech import TechModel
    tech = TechModel(dram_standard="lpddr4_3200")
    tech.sram(64 * 1024, 256, 45)     # {read_pj_per_bit, write_pj_per_bit, leakage_mw, area_mm2}
    tech.mac_pj(8, 28), tech.dram_pj_per_bit()

- SRAM energy per bit, leakage and area by size, access width and node: CACTI 7 (sram.py; the shipped
  table data/sram_cacti.csv and the script that made it, scripts/build_sram_table.py).
- MAC (multiply + accumulate) energy and area by operand width: Horowitz, ISSCC 2014, 45 nm; register
  energy, area and logic leakage: the Aladdin 40 nm tables Accelergy uses (logic.py).
- Across nodes: Stillmaker & Baas 2017 energy and area scaling, as Accelergy applies it (scaling.py).
- DRAM energy per bit: our own DRAM controller model's IDD-based energy (simulators.dram) on a
  sequential 64 B stream at full bandwidth, per standard, reads and writes separately.
A node or width outside these tables is an error naming the supported range, never an extrapolation.
`kernel_arrays()` packs the tables for the numba kernels (see simulators.systolic.costs).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from archgym.core.errors import DesignError
from simulators.tech import logic, scaling
from simulators.tech.sram import SramTable, lookup

# by_bits columns (index = operand bits): 45 nm multiplier pJ and um^2, 40 nm multiplier leakage mW
B_MULT_PJ, B_MULT_UM2, B_MULT_LEAK_MW = range(3)
# by_node columns: energy scale from 45 nm and from 40 nm, area scale from 45 nm and from 40 nm
N_E45, N_E40, N_A45, N_A40 = range(4)
DRAM_STREAM_REQUESTS = 8192  # requests of the sequential stream that prices DRAM energy per bit


@lru_cache(maxsize=None)
def _default_sram() -> SramTable:
    return SramTable()


@lru_cache(maxsize=None)
def dram_stream_pj_per_bit(standard: str) -> tuple[float, float]:
    """(read, write) pJ per bit of `standard` from simulators.dram: a sequential stream of
    DRAM_STREAM_REQUESTS 64 B requests, all queued at once, on one channel and rank with the
    controller's default knobs; energy includes activation, refresh and background over the stream."""
    from simulators import dram
    addr = np.arange(DRAM_STREAM_REQUESTS, dtype=np.int64) * 64
    out = []
    for is_write in (0, 1):
        trace = np.stack([addr, np.full_like(addr, is_write), np.zeros_like(addr)], axis=1)
        m = dram.simulate({"standard": standard}, trace).metrics
        out.append(m["energy_j"] * 1e12 / (DRAM_STREAM_REQUESTS * 64 * 8))
    return out[0], out[1]


@dataclass(frozen=True)
class TechModel:
    """Everything the systolic model needs to turn access counts into joules and mm^2.

    `dram_standard` is a simulators.dram standard; `vdd_v` the supply of the node-scaling
    polynomials (Accelergy's 0.8 V default); `sram` the CACTI table (default: the shipped one)."""
    dram_standard: str = "ddr4_2400"
    vdd_v: float = scaling.VDD_V
    sram_table: SramTable = field(default_factory=_default_sram, repr=False, compare=False)

    def __post_init__(self):
        from simulators import dram
        dram.PARAMETERS.complete({"standard": self.dram_standard})  # unknown: the DRAM simulator's own error

    @property
    def nodes_nm(self) -> tuple[int, ...]:
        """Supported nodes: those of the SRAM table (CACTI 7: 22..90 nm)."""
        return tuple(int(n) for n in self.sram_table.nodes_nm)

    def node_index(self, nm: float) -> int:
        if nm not in self.nodes_nm:
            raise DesignError(f"'tech_nm': {nm:g} nm is outside the technology tables; supported nodes: "
                              f"{', '.join(map(str, self.nodes_nm))} nm (CACTI 7 covers 22..90 nm)")
        return self.nodes_nm.index(int(nm))

    # --- scalar queries (the same numbers the kernels use) ---------------------------------------
    def sram(self, size_bytes: float, width_bits: float, nm: float) -> dict[str, float]:
        """One SRAM bank of `size_bytes` accessed `width_bits` at a time at node `nm`."""
        i = self.node_index(nm)
        vals = dict(zip(("read_pj_per_bit", "write_pj_per_bit", "leakage_mw", "area_mm2"),
                        lookup(*self.sram_table.arrays(), i, float(size_bytes), float(width_bits))))
        if any(np.isnan(v) for v in vals.values()):
            lo, hi = self.sram_table.size_range_bytes
            raise DesignError(f"SRAM bank of {size_bytes:g} B is outside the CACTI table ({lo}..{hi} B)")
        return vals

    def mac_pj(self, bits: int, acc_bits: int, nm: float) -> float:
        """One multiply-accumulate of `bits`-bit operands into an `acc_bits` accumulator at node `nm` (pJ)."""
        self.node_index(nm)
        return logic.mac_pj(bits, acc_bits) * scaling.energy_scale(logic.HOROWITZ_NM, nm, self.vdd_v)

    def register_pj_per_bit(self, nm: float) -> float:
        self.node_index(nm)
        return logic.REG_PJ_PER_BIT * scaling.energy_scale(logic.ALADDIN_NM, nm, self.vdd_v)

    def dram_pj_per_bit(self) -> tuple[float, float]:
        """(read, write) DRAM energy per bit of this model's standard."""
        return dram_stream_pj_per_bit(self.dram_standard)

    # --- packed for the kernels ---------------------------------------------------------------------
    def kernel_arrays(self) -> tuple:
        """(sram values, log2 sizes, log2 widths, nodes nm, by_node (n, 4), by_bits (33, 3), dram (2,))."""
        return _pack(self)


@lru_cache(maxsize=16)
def _pack(tech: TechModel) -> tuple:
    nodes = np.array(tech.nodes_nm, dtype=np.float64)
    by_node = np.array([[scaling.energy_scale(logic.HOROWITZ_NM, n, tech.vdd_v),
                         scaling.energy_scale(logic.ALADDIN_NM, n, tech.vdd_v),
                         scaling.area_scale(logic.HOROWITZ_NM, n), scaling.area_scale(logic.ALADDIN_NM, n)]
                        for n in nodes])
    by_bits = np.full((logic.BITS_RANGE[1] + 1, 3), np.nan)
    for b in range(logic.BITS_RANGE[0], logic.BITS_RANGE[1] + 1):
        by_bits[b] = (logic.mult_pj(b), logic.mult_um2(b), logic.mult_leak_mw(b))
    dram = np.array(tech.dram_pj_per_bit(), dtype=np.float64)
    out = (*tech.sram_table.arrays(), nodes, by_node, by_bits, dram)
    for a in out[3:]:
        a.setflags(write=False)
    return out


DEFAULT = TechModel()

__all__ = ["TechModel", "DEFAULT", "SramTable", "dram_stream_pj_per_bit", "logic", "scaling"]
