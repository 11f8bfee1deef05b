"""Per-design unit costs (pJ per access, W of leakage, mm^2) from a TechModel's packed tables.

`design_costs(d, tech)` prices one design vector: the node and operand width pick the rows of the
TechModel's tables (simulators/tech). Physical organisation assumed here:
- every SRAM is double-buffered: two banks of half its size, one filling while the other serves
  the array (SCALE-Sim's organisation), each accessed one array edge at a time: the ifmap SRAM
  `rows` words wide, the filter SRAM `cols` words, the ofmap SRAM `cols` partial sums;
- a PE holds a multiplier, an `acc_bits` accumulator (32-bit adder slices), and an ifmap, a weight
  and a partial-sum register (2 * bits + acc_bits flip-flops);
- a vector lane is a multiplier and an accumulator-wide adder with two accumulator-wide registers;
  one element op costs one accumulator-wide add;
- register energy is charged once per word written into a register.
"""
import math

import numpy as np
from numba import njit


from simulators.tech import B_MULT_LEAK_MW, B_MULT_PJ, B_MULT_UM2, N_A40, N_A45, N_E40, N_E45
from simulators.tech.logic import (ADD32_LEAK_MW, ADD_PJ, ADD_UM2, REG_LEAK_MW_PER_BIT, REG_PJ_PER_BIT, REG_UM2_PER_BIT,
                                   SLICE_BITS)
from simulators.tech.sram import lookup

COST_FIELDS = ("mac_pj", "reg_pj_per_bit", "vector_op_pj",
               "ifmap_read_pj_per_bit", "ifmap_write_pj_per_bit", "filter_read_pj_per_bit",
               "filter_write_pj_per_bit", "ofmap_read_pj_per_bit", "ofmap_write_pj_per_bit",
               "dram_read_pj_per_bit", "dram_write_pj_per_bit", "leakage_w", "area_pe_mm2", "area_sram_mm2",
               "area_vector_mm2")
(C_MAC, C_REG, C_VEC, C_IF_R, C_IF_W, C_F_R, C_F_W, C_OF_R, C_OF_W, C_DRAM_R, C_DRAM_W, C_LEAK, C_A_PE, C_A_SRAM,
 C_A_VEC) = range(len(COST_FIELDS))


@njit(cache=True)
def _node_index(nodes, nm):
    for i in range(nodes.shape[0]):
        if nodes[i] == nm:
            return i
    return -1


@njit(cache=True)
def _sram(tech, node, kb, port_bits, out, c_read, c_write):
    """Per-bit read/write energy of a double-buffered SRAM into out; returns (leakage mW, area mm^2)."""
    read, write, leak, area = lookup(tech[0], tech[1], tech[2], node, kb * 512.0, port_bits)  # a bank: half
    out[c_read] = read
    out[c_write] = write
    return 2.0 * leak, 2.0 * area


ADD32_PJ, ADD32_UM2 = ADD_PJ[SLICE_BITS], ADD_UM2[SLICE_BITS]


@njit(cache=True)
def design_costs(rows, cols, if_kb, f_kb, of_kb, bits, acc, nm, lanes, tech):
    """(len(COST_FIELDS),) unit costs of one design (`acc`: accumulator bits); NaN where the tables do not reach."""
    out = np.full(len(COST_FIELDS), np.nan)
    nodes, by_node, by_bits, dram = tech[3], tech[4], tech[5], tech[6]
    node = _node_index(nodes, nm)
    b = int(bits)
    if node < 0 or b < 0 or b >= by_bits.shape[0] or np.isnan(by_bits[b, B_MULT_PJ]):
        return out
    e45, e40, a45, a40 = by_node[node, N_E45], by_node[node, N_E40], by_node[node, N_A45], by_node[node, N_A40]
    slices = math.ceil(acc / SLICE_BITS)
    out[C_MAC] = (by_bits[b, B_MULT_PJ] + slices * ADD32_PJ) * e45
    out[C_REG] = REG_PJ_PER_BIT * e40
    out[C_VEC] = slices * ADD32_PJ * e45
    leak_if, a_if = _sram(tech, node, if_kb, rows * bits, out, C_IF_R, C_IF_W)
    leak_f, a_f = _sram(tech, node, f_kb, cols * bits, out, C_F_R, C_F_W)
    leak_of, a_of = _sram(tech, node, of_kb, cols * acc, out, C_OF_R, C_OF_W)
    out[C_DRAM_R] = dram[0]
    out[C_DRAM_W] = dram[1]
    arith_leak_mw = (by_bits[b, B_MULT_LEAK_MW] + slices * ADD32_LEAK_MW) * e40
    arith_um2 = by_bits[b, B_MULT_UM2] * a45 + slices * ADD32_UM2 * a45
    pe_regs, lane_regs = 2.0 * bits + acc, 2.0 * acc
    out[C_LEAK] = 1e-3 * (leak_if + leak_f + leak_of + rows * cols * (arith_leak_mw + REG_LEAK_MW_PER_BIT * pe_regs * e40)
                          + lanes * (arith_leak_mw + REG_LEAK_MW_PER_BIT * lane_regs * e40))
    out[C_A_PE] = rows * cols * (arith_um2 + REG_UM2_PER_BIT * pe_regs * a40) * 1e-6
    out[C_A_SRAM] = a_if + a_f + a_of
    out[C_A_VEC] = lanes * (arith_um2 + REG_UM2_PER_BIT * lane_regs * a40) * 1e-6
    return out
