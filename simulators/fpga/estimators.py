"""FINN's per-unit estimators as numba functions over plain integers (no Python per unit at run time).

Each function cites the FINN file and method it restates (Xilinx/finn @ 39f0c9a, paths under
src/finn/custom_op/fpgadataflow/ unless said otherwise; the formulas are restated, not copied).
Where the hardware that shipped (BNN-PYNQ, finn-examples) differs from FINN's estimate, the
docstring says which one the number follows and why; docs/fpga.md has the table.
"""
from __future__ import annotations

from numba import njit

# FINN-R's MVAU LUT model (matrixvectoractivation_hls.py MVAU_hls.lut_estimation, "parameters from
# experiments" of Blott et al., TRETS 2018): c0 per unit and c1 per PE for accumulator, comparators
# and threshold LUTRAM.
MVAU_LUT_BASE = 300.0
MVAU_LUT_PER_PE = 1.1
# LUT per MAC-lane term P*(mult + adder tree), refit on the shipped BNN-PYNQ designs where FINN-R
# uses 1.1; and the HLS sliding-window unit's control LUTs, refit where FINN uses 300
# (convolutioninputgenerator_hls.py lut_estimation). Least squares on relative errors over the five
# BNN-PYNQ utilisation reports of tests/fixtures/fpga/published_designs.csv (published.calibration;
# `python benchmarks/fpga_published.py` prints the fit; the Model option `lut_coefficients` takes others).
MAC_LANE_LUT = 0.58
SWU_LUT_BASE = 1930.0
FINN_LUT_COEFFICIENTS = (1.1, 300.0)  # FINN's own values of the two
# FIFOs up to this depth are SRL shift registers (FINN InsertAndSetFIFODepths max_qsrl_depth=256),
# deeper ones Vivado FIFOs (set_fifo_depths.py).
MAX_SRL_DEPTH = 256
# An HLS stream FIFO holding more bits than this is RAM-based, fewer are shift registers: Vitis HLS
# config_storage fifo, auto_srl_max_bits default 1024 (UG1399, "config_storage").
HLS_SRL_MAX_BITS = 1024
# Threshold and weight memories up to this depth sit in LUTRAM (FINN's embedded-mode rule,
# matrixvectoractivation.py MVAU.bram_estimation: "internal_embedded and calc_wmem() <= 128").
LUTRAM_MAX_DEPTH = 128
# A RAMB18 holds 18 Kb (UG473 7 Series Memory Resources, "Block RAM Summary"; UG573 the same for
# UltraScale), and a LUT6 64 bits as single-port RAM or ROM (RAM64X1S / ROM64X1: UG474 7 Series CLB,
# "Distributed RAM"; UG574 the same per LUT), FINN's LUTRAM rate (W*ceil(depth/64), c2 above).
BRAM18_BITS = 18_432
LUTRAM_BITS_PER_LUT = 64
SPILL_LUT_PER_BRAM18 = BRAM18_BITS // LUTRAM_BITS_PER_LUT


@njit(cache=True, inline="always")
def cdiv(a, b):
    return -(-a // b)


@njit(cache=True)
def clog2(n):
    """ceil(log2(n)) for n >= 1: the bit length of n - 1, by halving (exact, no loop)."""
    x, b = max(n - 1, 0), 0
    if x >> 32:
        x, b = x >> 32, b + 32
    if x >> 16:
        x, b = x >> 16, b + 16
    if x >> 8:
        x, b = x >> 8, b + 8
    if x >> 4:
        x, b = x >> 4, b + 4
    if x >> 2:
        x, b = x >> 2, b + 2
    if x >> 1:
        x, b = x >> 1, b + 1
    return b + x


@njit(cache=True)
def gcd(a, b):
    while b:
        a, b = b, a % b
    return a


@njit(cache=True)
def ramb18(depth, width):
    """RAMB18s for a depth x width memory in simple-dual-port aspect ratios (UG573 Table 1-10):
    FINN-R's table, matrixvectoractivation.py MVAU.bram_estimation and streamingfifo.py
    StreamingFIFO.bram_estimation (a wide memory deeper than 512 is costed in the 1024x18 shape)."""
    if depth <= 0 or width <= 0:
        return 0
    if width == 1:
        return cdiv(depth, 16384)
    if width == 2:
        return cdiv(depth, 8192)
    if width <= 4:
        return cdiv(depth, 4096) * cdiv(width, 4)
    if width <= 9:
        return cdiv(depth, 2048) * cdiv(width, 9)
    if width <= 18 or depth > 512:
        return cdiv(depth, 1024) * cdiv(width, 18)
    return cdiv(depth, 512) * cdiv(width, 36)


def swu_cycles(ifm_w, kh, kw, stride_w, ofm_h, ofm_w, c_over_simd):
    """ConvolutionInputGenerator_hls.get_exp_cycles (2-D, dilation 1, finn-hlslib slidingwindow.h):
    IFM_W*K_H*C/SIMD + OFM_H*max(OFM_W*K_W*K_H*C/SIMD, stride_w*IFM_W*C/SIMD). Python: tabulated
    once per workload."""
    c = c_over_simd
    return ifm_w * kh * c + ofm_h * max(ofm_w * kw * kh * c, stride_w * ifm_w * c)


@njit(cache=True)
def swu_buffers(blocks, depth, width, ram_style):
    """(LUT, BRAM18, URAM) of the HLS sliding window's line buffers: `blocks` = K + stride memories
    of `depth` = IFM_W*C/SIMD words of `width` = SIMD*A bits (convolutioninputgenerator_hls.py
    bram_estimation, lut_estimation, uram_estimation). BRAM: the RAMB18 aspect ratio that holds
    the depth; LUTRAM (distributed): blocks*width*ceil(depth/64); URAM: blocks*ceil(width/64)*
    ceil(depth/4096). ram_style auto counts as block, as FINN's estimate does."""
    if ram_style == 2:
        return blocks * width * cdiv(depth, 64), 0, 0
    if ram_style == 3:
        return 0, 0, blocks * cdiv(width, 64) * cdiv(depth, 4096)
    if depth <= 512:
        ram_width, ram_depth = 36, 512
    elif depth <= 1024:
        ram_width, ram_depth = 18, 1024
    elif depth <= 2048:
        ram_width, ram_depth = 9, 2048
    elif depth <= 4096:
        ram_width, ram_depth = 4, 4096
    elif depth <= 8192:
        ram_width, ram_depth = 2, 8192
    else:
        ram_width, ram_depth = 1, 16384
    return 0, blocks * cdiv(width, ram_width) * cdiv(depth, ram_depth), 0


@njit(cache=True)
def weight_memory(pe, simd, wbits, wmem, ram_style, embedded):
    """(LUT, BRAM18, URAM) of an MVAU/VVAU's weights, WMEM = MW*MH/(PE*SIMD) words.

    internal_decoupled (FINN's default): one memstream WMEM deep and PE*SIMD*W bits wide, FINN's
    MVAU.bram_estimation / uram_estimation / MVAU_hls.lut_estimation (c2) as they are.
    internal_embedded: finn-hlslib weights `m_weights[PE][WMEM]` partitioned on PE
    (matrixvectoractivation_hls.py pragmas: ARRAY_PARTITION complete dim=1; BNN-PYNQ top.cpp), i.e.
    PE memories of SIMD*W bits, each costed by the same table. This follows the shipped hardware:
    BNN-PYNQ's LFC has exactly the 208 RAMB18 this gives (FINN's single-memory estimate: 175), and
    its CNVs keep even 36-deep weight memories in BRAM (FINN's estimator would put WMEM <= 128 in
    LUTRAM; the published LUTRAM counts are too small to hold them).
    ram_style: 0 auto and 1 block -> BRAM (FINN's estimate treats auto as block), 2 distributed ->
    LUTRAM c2 = PE*SIMD*W*ceil(WMEM/64), 3 ultra -> URAM ceil(width/72)*ceil(WMEM/4096) per memory."""
    if ram_style == 2:
        return pe * simd * wbits * cdiv(wmem, 64), 0, 0
    width = simd * wbits if embedded else pe * simd * wbits
    copies = pe if embedded else 1
    if ram_style == 3:
        return 0, 0, copies * cdiv(width, 72) * cdiv(wmem, 4096)
    return 0, copies * ramb18(wmem, width), 0


@njit(cache=True)
def threshold_memory(pe, tmem, levels, acc):
    """(LUT, BRAM18) of the thresholds `m_thresholds[PE][TMEM][levels]` (finn-hlslib activations.hpp,
    partitioned on PE and level: matrixvectoractivation_hls.py pragmas). Up to LUTRAM_MAX_DEPTH deep
    they are LUTRAM at FINN-R's cost 1.1*PE*levels*acc*ceil(TMEM/64) (MVAU_hls.lut_estimation,
    thr_luts); deeper ones take PE*levels memories of TMEM x acc bits in BRAM (the shipped CNVs'
    fc1/fc2/conv6 thresholds, 256-512 deep; FINN's estimate with ram_style_thresholds=auto counts
    neither)."""
    if tmem <= LUTRAM_MAX_DEPTH:
        return int(MVAU_LUT_PER_PE * pe * levels * acc * cdiv(tmem, 64)), 0
    return 0, pe * levels * ramb18(tmem, acc)


@njit(cache=True)
def mac_array(pe, simd, wbits, abits, acc, levels, impl, lane_lut):
    """(LUT, DSP) of the MAC array, accumulators and threshold comparators (not the memories).

    impl 0: HLS with LUT multipliers (resType lut/auto; FINN's estimate counts auto as LUT; BNN-PYNQ
    uses ap_resource_lut()). impl 1: HLS with DSP multipliers (resType dsp). impl 2: RTL MVU
    (matrixvectoractivation_rtl.py, DSP48: ceil(PE/4)*SIMD DSPs, LUT estimate 0; thresholds then
    run in a separate Thresholding unit, costed the same way here).
    LUT = c0 + lane_lut*PE*(mult + adder) + c1*PE*(acc + comparators) (MVAU_hls.lut_estimation):
    mult = SIMD*(2*ceil((W+A)/6) - 1)*(W+A) LUT multipliers, adder tree (W+A)*(2*SIMD - 1),
    comparators (2^B - 1)*acc. DSP (MVAU_hls.dsp_estimation) = PE*SIMD*ceil((W+A)/48) for impl 1."""
    wa = wbits + abits
    per_pe = MVAU_LUT_PER_PE * pe * (acc + levels * acc)
    if impl == 2:
        return int(MVAU_LUT_BASE + per_pe), cdiv(pe, 4) * simd
    mult = 0 if impl == 1 else simd * (2 * cdiv(wa, 6) - 1) * wa
    adder = wa * (2 * simd - 1)
    lut = int(MVAU_LUT_BASE + lane_lut * pe * (mult + adder) + per_pe)
    dsp = pe * simd * cdiv(wa, 48) if impl == 1 else 0
    return lut, dsp


@njit(cache=True)
def input_buffer_luts(sf, nf, width):
    """LUTs of the MVAU's input vector buffer: finn-hlslib mvau.hpp keeps the SF = MW/SIMD input words
    of the current vector in `inputBuf[SF]`, completely partitioned (registers), and reads them back
    for the other MH/PE - 1 neuron folds through an SF:1 multiplexer per bit. A slice builds a 16:1
    multiplexer from four LUTs and its F7/F8 muxes (UG474, "Multiplexers"): width*ceil(SF/4) LUTs.
    FINN's estimate omits it; with one neuron fold (NF = 1) the buffer is never read back."""
    if nf <= 1 or sf <= 1:
        return 0
    return width * cdiv(sf, 4)


@njit(cache=True)
def maxpool_luts(channels, abits, ofm_w):
    """LUTs of a 2-D StreamingMaxPool (finn-hlslib maxpool.h): one A-bit comparator per channel, all
    channels in parallel, and a buffer of one pooled row `buf[OFM_W][C]` partitioned on channels, in
    LUTRAM at FINN's LUTRAM rate (Thresholding_hls.lut_estimation: comparators A*P, memory
    P*A*ceil(depth/64)). FINN's StreamingMaxPool estimates none."""
    return channels * abits * (1 + cdiv(ofm_w, 64))


@njit(cache=True)
def dwc_luts(w_in, w_out):
    """LUTs of a StreamingDataWidthConverter from w_in to w_out bits (streamingdatawidthconverter.py
    lut_estimation: shift registers via the least common multiple L, plus counter bits); 0 when the
    widths match (InsertDWC inserts none)."""
    if w_in == w_out or w_in <= 0 or w_out <= 0:
        return 0
    if w_in % w_out == 0:
        lcm = w_in
    elif w_out % w_in == 0:
        lcm = w_out
    else:
        lcm = w_in // gcd(w_in, w_out) * w_out
    luts = 0
    if w_in != lcm:
        luts += clog2(cdiv(lcm, w_in)) + lcm
    if lcm != w_out:
        luts += clog2(cdiv(lcm, w_out)) + w_out
    return luts


@njit(cache=True)
def fifo_depth(words_per_frame, idle_cycles, ii):
    """Depth a FIFO needs so that its consumer, an MVAU that reads only during the first of its
    MH/PE neuron folds and is idle for `idle_cycles` = (MH/PE - 1)*(MW/SIMD) per input vector, never
    stalls its producer: the words the producer emits meanwhile at the frame rate, words/II. A
    closed form of what FINN's FIFO sizing (set_fifo_depths.py InsertAndSetFIFODepths, rtlsim)
    converges to; depth <= 2 means no FIFO (insert_fifo.py creates none)."""
    if idle_cycles <= 0:
        return 0
    d = cdiv(words_per_frame * idle_cycles, ii)
    return d if d > 2 else 0


@njit(cache=True)
def fifo_cost(depth, width):
    """(LUT, BRAM18) of a StreamingFIFO (streamingfifo.py lut_estimation / bram_estimation): up to
    MAX_SRL_DEPTH an SRL FIFO, 2*ceil(log2 d) + ceil(d/32)*ceil(W/2) LUTs; deeper a Vivado FIFO of the
    next power-of-two depth in BRAM (FINN's estimate counts BRAM only for ram_style=block; its
    default, auto, lets Vivado pick BRAM for FIFOs this deep)."""
    if depth <= 2:
        return 0, 0
    if depth <= MAX_SRL_DEPTH:
        return 2 * clog2(depth) + cdiv(depth, 32) * cdiv(width, 2), 0
    d = 1 << clog2(depth)
    return 2 * clog2(d), ramb18(d, width)


@njit(cache=True)
def hls_stream_fifo(depth, width):
    """(LUT, BRAM18) of an HLS `hls::stream` FIFO of `depth` words of `width` bits, as BNN-PYNQ's
    top.cpp sets them (`#pragma HLS STREAM depth=`): up to HLS_SRL_MAX_BITS an SRL FIFO at FINN's SRL
    cost (fifo_cost), larger a RAM FIFO of RAMB18s by FINN's table (StreamingFIFO.bram_estimation) plus
    its two address counters, 2*ceil(log2 depth) LUTs."""
    if depth * width <= HLS_SRL_MAX_BITS:
        return fifo_cost(depth, width)
    return 2 * clog2(depth), ramb18(depth, width)


@njit(cache=True)
def bram_spill(demand, available):
    """(BRAM18, LUT): block RAM a design gets and the LUTs of LUTRAM holding the rest. Vivado synthesis
    caps block RAM at the part's total (synth_design -max_bram, default -1 "the max number allowed for
    the part", UG835) and maps further inferred memories to LUTRAM ("[Synth 8-5835] BRAM resources
    overutilized, will try LUT-RAM instead", quoted in github.com/edaa-org/pyEDAA.OutputFilter/issues/54),
    so BNN-PYNQ's cnvW2A2 ships at 280 of 280 BRAM18 with twice cnvW1A2's LUTRAM.
    Which memories move is Vivado's choice, not documented; the cost is per block RAM over the total:
    SPILL_LUT_PER_BRAM18 = 18,432 / 64 = 288 LUTs each, a full RAMB18's bits as single-port LUTRAM (the
    memories that dominate the demand are weight memories, written once and read by one port). Counting
    the displaced RAMB18 as full makes it the cost of the block RAM the design cannot have rather than
    of a guessed memory; a half-full one would cost half. It goes to LUTRAM on boards with URAM too:
    synthesis puts memories in URAM only when asked (RAM_STYLE "ultra", UG901). Memories that are not
    inferred (instantiated RAMB primitives, out-of-context IP) do not move; Vivado's placer then fails
    them ("[Place 30-640] ... requires more RAMB18 and RAMB36/FIFO cells than are available",
    github.com/EttusResearch/uhd/issues/256 on the same xc7z020); the model assumes inferred memories,
    as HLS and FINN generate."""
    if demand <= available:
        return demand, 0
    return available, (demand - available) * SPILL_LUT_PER_BRAM18
