"""Array layouts shared by the FPGA kernels: network table columns, folding tables, design vector,
options, metrics and per-layer detail. Plain integers, so numba kernels index with them."""
from __future__ import annotations

# Unit kinds (network.UNIT_NAMES).
MVAU, VVAU, MAXPOOL, GAP, POOL = range(5)

# Network table columns: unit kind; PE dimension MH (output channels), SIMD dimension MW (K*K*C_in),
# input vectors per frame; fixed cycles (max-pool); depthwise flag; thresholds present; sliding
# window present and its padded input, kernel, stride, output and input channels; number of PE,
# SIMD and window-SIMD choices; unpadded input rows and top padding; output rows and width; where
# the window's and the unit's rows start in the network's `need` array (network.needs).
(KIND, MH, MW, VEC, FIXED, DW, HAS_ACT, SWU, IFM_H, IFM_W, KH, KW, SH, SW, OFM_H, OFM_W, CH,
 N_PE, N_SIMD, N_SWU, IN_H, PAD_H, ROWS, OUT_W, NEED_SWU, NEED_UNIT) = range(26)
N_COLS = 26

# Folding tables, (n_layers, N_TABS, max divisors): the allowed PE (divisors of MH) and MH/PE; SIMD
# and MW/SIMD; window SIMD (divisors of C), C/SIMD and the window's cycles.
PE_DIV, PE_Q, SIMD_DIV, SIMD_Q, SWU_DIV, SWU_Q, SWU_CYC = range(7)
N_TABS = 7

# Design vector columns (PARAMETERS order; categoricals as codes).
DESIGN_FIELDS = ("board", "target_cycles", "weight_bits", "act_bits", "clock_mhz", "mult_style", "ram_style",
                 "mem_mode")
D_BOARD, D_TARGET, D_WBITS, D_ABITS, D_CLOCK, D_MULT, D_RAM, D_MEM = range(len(DESIGN_FIELDS))
MULT_STYLES = ("auto", "lut", "dsp")
RAM_STYLES = ("auto", "block", "distributed", "ultra")
MEM_MODES = ("internal_decoupled", "internal_embedded")

# Options: first-layer input bits, SetFolding's max weight-stream bits per PE, FF per LUT, toggle
# rate relative to the power coefficients' one, 1 if a LabelSelect follows the classifier, and the
# two calibrated LUT coefficients (MAC lane, sliding-window base; estimators.py).
O_INPUT_BITS, O_WWIDTH_MAX, O_FF_PER_LUT, O_TOGGLE, O_LABEL_SELECT, O_LANE_LUT, O_SWU_LUT = range(7)

# Per-board power: static W, then dynamic uW per MHz per LUT, FF, BRAM18, URAM, DSP (boards.py).
P_STATIC = 0

# Metrics per design, rows of the (N_METRICS, n) output.
METRICS = ("throughput_fps", "latency_s", "ii_cycles", "latency_cycles", "lut", "ff", "bram18", "uram", "dsp",
           "lut_util", "ff_util", "bram18_util", "uram_util", "dsp_util", "resource_util", "power_w", "energy_j",
           "violation", "feasible", "overflow", "n_spill_lut")
(M_FPS, M_LAT_S, M_II, M_LAT, M_LUT, M_FF, M_BRAM, M_URAM, M_DSP, M_UTIL, _, _, _, _, M_MAX_UTIL, M_POWER,
 M_ENERGY, M_VIOL, M_FEAS, M_OVER, M_SPILL) = range(len(METRICS))
R_BRAM = M_BRAM - M_LUT  # BRAM18's position in the board's resources (boards.RESOURCES)
N_METRICS = len(METRICS)

# Per-layer detail: folding, cycles, totals (unit + window + width converters + FIFO in front),
# their parts (threshold_lut: the thresholds' LUTRAM, within unit_lut), and when the layer's last
# output leaves it in the one-frame latency.
LAYER_FIELDS = ("pe", "simd", "swu_simd", "cycles", "swu_cycles", "fifo_depth", "lut", "ff", "bram18", "uram",
                "dsp", "unit_lut", "threshold_lut", "swu_lut", "dwc_lut", "fifo_lut", "weight_bram18",
                "threshold_bram18", "swu_bram18", "fifo_bram18", "done_cycles")
(L_PE, L_SIMD, L_SWU_SIMD, L_CYC, L_SWU_CYC, L_FIFO_DEPTH, L_LUT, L_FF, L_BRAM, L_URAM, L_DSP, L_UNIT_LUT, L_T_LUT,
 L_SWU_LUT, L_DWC_LUT, L_FIFO_LUT, L_W_BRAM, L_T_BRAM, L_SWU_BRAM, L_FIFO_BRAM, L_DONE) = range(len(LAYER_FIELDS))
N_LAYER = len(LAYER_FIELDS)
