"""Energy and area constants for accelerator models, each with its source.

Base figures are for 45 nm at 0.9 V (Horowitz, "Computing's energy problem (and what we can do
about it)", ISSCC 2014, Fig. 1.1.9 energy table and area table). Other nodes use first-order
constant-voltage scaling, since supply voltage has stopped scaling (Horowitz 2014): dynamic energy
scales with capacitance, ~L, and area with L^2 (the systolic kernel applies both factors from
tech_nm / BASE_NODE_NM). DRAM energy does not depend on the logic node.
"""
BASE_NODE_NM = 45.0

# Horowitz 2014, 45 nm: 8-bit int multiply 0.2 pJ (32-bit: 3.1 pJ, i.e. ~bits^2); 32-bit int add 0.1 pJ (~bits).
MULT8_PJ = 0.2
ADD32_PJ = 0.1
# Horowitz 2014, 45 nm area: 8-bit int multiply 282 um^2, 32-bit int add 137 um^2.
MULT8_UM2 = 282.0
ADD32_UM2 = 137.0
# NanGate FreePDK45 Open Cell Library, DFF_X1: 4.522 um^2 per flip-flop (pipeline registers in each PE).
DFF_UM2 = 4.522
# Accumulator width as a multiple of the operand width (8-bit operands accumulate in 32 bits).
ACC_WIDTH_FACTOR = 4

# Horowitz 2014: 64-bit SRAM read 10 pJ (8 KB), 20 pJ (32 KB), 100 pJ (1 MB): ~10 pJ * sqrt(KB / 8).
SRAM64_8KB_PJ = 10.0
# Intel 45 nm 6T SRAM cell 0.346 um^2 (Mistry et al., IEDM 2007) at 50% array efficiency (periphery).
SRAM_BIT_UM2 = 0.346 / 0.5

# Horowitz 2014: a 64-bit DRAM access costs 1.3-2.6 nJ; the low end is ~20 pJ/bit.
DRAM_PJ_PER_BIT = 1300.0 / 64.0

# Google TPU v1 (Jouppi et al., ISCA 2017, Table 2): 28 W idle on a <= 331 mm^2 die, 28 nm:
# ~0.085 W/mm^2 static-plus-clock power density, applied at every node (a first-order assumption).
STATIC_W_PER_MM2 = 28.0 / 331.0
