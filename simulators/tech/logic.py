"""Arithmetic and register energy, leakage and area at their source nodes, with sources.

Arithmetic (dynamic energy and area): M. Horowitz, "Computing's energy problem (and what we can do
about it)", ISSCC 2014, doi:10.1109/ISSCC.2014.6757323, Fig. 1.1.9, 45 nm, 0.9 V: integer add
8 bit 0.03 pJ / 36 um^2, 32 bit 0.1 pJ / 137 um^2; integer multiply 8 bit 0.2 pJ / 282 um^2,
32 bit 3.1 pJ / 3495 um^2. Between 8 and 32 bits we interpolate with the power law through the two
measured widths (a multiplier comes out ~bits^2, an adder ~bits, the usual rules); outside 8..32 bits
there is no data, and asking is an error.

Registers and leakage: the Aladdin 40 nm tables (Y. S. Shao et al., "Aladdin", ISCA 2014), as shipped
in Accelergy-Project/accelergy-aladdin-plug-in @5e2e1263 data/*.csv (MIT), rows at 1 ns: register
0.009 pJ per bit per access, 5.98 um^2 per bit, 7e-5 mW leakage per bit; 32-bit adder 0.0023 mW and
32-bit multiplier 0.08 mW leakage. Leakage scales with width as that plug-in scales energy (adder
linear, multiplier quadratic).
"""
from __future__ import annotations

import math

from archgym.core.errors import DesignError

HOROWITZ_NM = 45.0
ALADDIN_NM = 40.0
BITS_RANGE = (8, 32)  # Horowitz's measured integer widths

ADD_PJ = {8: 0.03, 32: 0.1}
MULT_PJ = {8: 0.2, 32: 3.1}
ADD_UM2 = {8: 36.0, 32: 137.0}
MULT_UM2 = {8: 282.0, 32: 3495.0}

REG_PJ_PER_BIT = 0.009
REG_UM2_PER_BIT = 5.98
REG_LEAK_MW_PER_BIT = 7e-5
ADD32_LEAK_MW = 0.0023
MULT32_LEAK_MW = 0.08

SLICE_BITS = 32  # accumulators are built from 32-bit adder slices (Horowitz's widest measured adder)


def check_bits(bits: float) -> None:
    lo, hi = BITS_RANGE
    if not (lo <= bits <= hi):
        raise DesignError(f"'bits': {bits:g} is outside the arithmetic energy table; supported {lo}..{hi} bits "
                          "(Horowitz 2014 measured 8- and 32-bit integer add and multiply)")


def _power_law(table: dict, bits: float) -> float:
    check_bits(bits)
    (b0, v0), (b1, v1) = sorted(table.items())
    return v0 * (bits / b0) ** (math.log(v1 / v0) / math.log(b1 / b0))


def add_pj(bits: float) -> float:
    """Integer add of `bits` bits at 45 nm (pJ)."""
    return _power_law(ADD_PJ, bits)


def mult_pj(bits: float) -> float:
    """Integer multiply of two `bits`-bit operands at 45 nm (pJ)."""
    return _power_law(MULT_PJ, bits)


def acc_slices(acc_bits: float) -> int:
    """32-bit adder slices of an accumulator `acc_bits` wide."""
    return math.ceil(acc_bits / SLICE_BITS)


def mac_pj(bits: float, acc_bits: float) -> float:
    """One multiply-accumulate at 45 nm: the multiply plus the accumulator's add (pJ)."""
    return mult_pj(bits) + acc_slices(acc_bits) * ADD_PJ[SLICE_BITS]


def mult_um2(bits: float) -> float:
    """A `bits` x `bits` integer multiplier at 45 nm (um^2)."""
    return _power_law(MULT_UM2, bits)


def mult_leak_mw(bits: float) -> float:
    """Leakage of a `bits` x `bits` multiplier at 40 nm (mW)."""
    check_bits(bits)
    return MULT32_LEAK_MW * (bits / 32.0) ** 2
