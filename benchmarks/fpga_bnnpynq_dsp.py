"""Where BNN-PYNQ's published DSPs could sit: the run-time multiplies of its HLS top level, counted from source.

BNN-PYNQ (Xilinx/BNN-PYNQ@d84f6e8, the build behind its 2018 utilisation reports) keeps every MAC in
LUTs (`ap_resource_lut()` -> `Mul_LUT`), yet reports 24/26/32 DSPs (CNV W1A1/W1A2/W2A2) and 4/4 (LFC).
The only other multiplies are the batch size `numReps` (a 32-bit AXI-lite register) times a
compile-time constant, in `bnn/src/library/hls/`:
- dma.h Mem2Stream_Batch / Stream2Mem_Batch: `rep * indsPerRep` (words per image);
- streamtools.h StreamingDataWidthConverter_Batch: `NumInWords * outPerIn * numReps` (down-conversion)
  or `NumInWords * numReps`, one per converter: the explicit ones in top.cpp, and
  WidthAdjustedInput/OutputStream in convlayer.h, fclayer.h and maxpool.h (StreamingMaxPool_Precision_Batch)
  wherever the two stream widths differ;
- convlayer.h ConvLayer_Batch: `reps * OFMDim * OFMDim`; mvau.hpp Matrix_Vector_Activate_Batch:
  `reps * TOTAL_FOLD` (NF * SF).
A power-of-two constant is a shift. This script lists the products per design (folding, stream widths
and activation widths from each network's hw/config.h and hw/top.cpp) and checks whether any rule
"DSPs per product = f(constant)" (0..3 DSPs, non-decreasing in the constant's bit width, or in its
number of set bits, or in its odd factor's bit width) reproduces all five published counts. None does: the
published DSPs are not explained by these products alone (docs/fpga.md, "DSP"). Writes the
"fpga_bnnpynq_dsp" block of docs/fpga.md.

    python benchmarks/fpga_bnnpynq_dsp.py [--no-write]
"""
from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_generated  # noqa: E402

DOC = Path(__file__).resolve().parent.parent / "docs" / "fpga.md"
COMMAND = "python benchmarks/fpga_bnnpynq_dsp.py"

PUBLISHED = {"cnvW1A1": 24, "cnvW1A2": 26, "cnvW2A2": 32, "lfcW1A1": 4, "lfcW1A2": 4}  # READMEs, d84f6e8
# (pe, simd) per layer, config.h
CNV_W1 = [(16, 3), (32, 32), (16, 32), (16, 32), (4, 32), (1, 32), (1, 4), (1, 8), (4, 1)]
CNV_W2 = [(8, 3), (16, 16), (8, 16), (8, 16), (4, 8), (1, 8), (1, 2), (2, 2), (4, 1)]
LFC = [(32, 64), (64, 32), (32, 64), (16, 8)]
# CNV top.cpp stream widths: inter0_2 .. inter10 (the same in the three CNVs)
CNV_STREAM = {"in": 24, 1: 64, 2: 64, 3: 64, 4: 128, 5: 128, 6: 128, 7: 256, 8: 256, 9: 64, 10: 64}
CONVS = [(3, 32, 64, 30), (64, 30, 64, 28), (64, 14, 128, 12), (128, 12, 128, 10), (128, 5, 256, 3), (256, 3, 256, 1)]
FCS = [(256, 512), (512, 512), (512, 64)]


def _dwc(out, where, w_in, w_out, words):
    """A StreamingDataWidthConverter_Batch's trip-count constant (none when the widths match)."""
    if w_in != w_out:
        out.append((where, words * (w_in // w_out) if w_in > w_out else words))


def cnv_products(abits: int, fold) -> list[tuple[str, int]]:
    out = [("Mem2Stream words/image", 3072 // 8)]
    _dwc(out, "DWC 64->192", 64, 192, 384)
    _dwc(out, "DWC 192->24", 192, 24, 128)
    ends = [("in", 1), (1, 2), (3, 4), (4, 5), (6, 7), (7, 8)]
    for i, ((ic, idim, oc, odim), (pe, simd), (a, b)) in enumerate(zip(CONVS, fold, ends)):
        src = 8 if i == 0 else abits
        _dwc(out, f"conv{i} input DWC", CNV_STREAM[a], simd * src, idim * idim * ic // CNV_STREAM[a] * src)
        _dwc(out, f"conv{i} output DWC", pe * abits, CNV_STREAM[b], odim * odim * (oc // pe))
        out.append((f"conv{i} reps*OFM^2", odim * odim))
        out.append((f"conv{i} MVAU NF*SF", (oc // pe) * (9 * ic // simd)))
        if i in (1, 3) and abits > 1:  # StreamingMaxPool_Precision_Batch's two converters
            _dwc(out, f"pool{i} input DWC", CNV_STREAM[b], oc * abits, odim * odim * oc * abits // CNV_STREAM[b])
            _dwc(out, f"pool{i} output DWC", oc * abits, CNV_STREAM[b + 1], odim * odim // 4)
    for j, ((mw, mh), (pe, simd), (a, b)) in enumerate(zip(FCS, fold[6:], [(8, 9), (9, 10), (10, None)])):
        dst = 16 if b is None else abits
        _dwc(out, f"fc{j} input DWC", CNV_STREAM[a], simd * abits, mw // CNV_STREAM[a] * abits)
        _dwc(out, f"fc{j} output DWC", pe * dst, pe * dst if b is None else CNV_STREAM[b], mh // pe)
        out.append((f"fc{j} MVAU NF*SF", (mh // pe) * (mw // simd)))
    out.append(("Stream2Mem words/image", 64 * 16 // 64))
    return out


def lfc_products(abits: int) -> list[tuple[str, int]]:
    out, w_in = [("Mem2Stream words/image", 832 // 64)], 64
    for j, ((mw, mh), (pe, simd)) in enumerate(zip([(832, 1024), (1024, 1024), (1024, 1024), (1024, 64)], LFC)):
        src, dst = (1 if j == 0 else abits), (abits if j < 3 else 1)
        w_out = pe * dst if j < 3 else 64
        _dwc(out, f"fc{j} input DWC", w_in, simd * src, mw // w_in * src)
        _dwc(out, f"fc{j} output DWC", pe * dst, w_out, mh // pe)
        out.append((f"fc{j} MVAU NF*SF", (mh // pe) * (mw // simd)))
        w_in = w_out
    out.append(("Stream2Mem words/image", 1))
    return out


def multiplies(products):
    """The constants that are not powers of two (a power of two is a shift)."""
    return [c for _, c in products if c & (c - 1)]


def rules(consts: dict[str, list[int]]):
    """Every DSPs-per-product rule of the three families that gives all five published counts."""
    keys = {"bit width": int.bit_length, "set bits": int.bit_count,
            "odd-factor bit width": lambda c: (c // (c & -c)).bit_length()}
    found = {}
    for name, key in keys.items():
        levels = sorted({key(c) for cs in consts.values() for c in cs})
        # non-decreasing: a wider constant, or one with more set bits, never takes fewer DSPs
        tables = (dict(zip(levels, v)) for v in itertools.combinations_with_replacement(range(4), len(levels)))
        found[name] = [f for f in tables if all(sum(f[key(c)] for c in cs) == PUBLISHED[d] for d, cs in consts.items())]
    return found


def counted() -> dict[str, list[int]]:
    """The five designs' multiplies: constants that are not powers of two, in source order."""
    designs = {"cnvW1A1": cnv_products(1, CNV_W1), "cnvW1A2": cnv_products(2, CNV_W1),
               "cnvW2A2": cnv_products(2, CNV_W2), "lfcW1A1": lfc_products(1), "lfcW1A2": lfc_products(2)}
    return {d: multiplies(p) for d, p in designs.items()}


def block(consts: dict[str, list[int]]) -> str:
    """The products per design against the published DSPs, one and two DSPs per product, and the rules found."""
    lines = ["BNN-PYNQ's run-time multiplies (the batch size `numReps` times a compile-time constant that is not a "
             "power of two), counted from its HLS source, against its published DSPs:", "",
             "| design | published DSP | numReps x constant multiplies | published - multiplies (1 DSP each) | "
             "2 DSPs each | constants |", "|---|---|---|---|---|---|"]
    for d, cs in consts.items():
        lines.append(f"| {d} | {PUBLISHED[d]} | {len(cs)} | {PUBLISHED[d] - len(cs):+d} | {2 * len(cs)} | "
                     f"{' '.join(map(str, cs))} |")
    found = rules(consts)
    lines += ["", "Rules \"DSPs per multiply = f(constant)\" (0-3 DSPs, non-decreasing in the constant's "
              + " / ".join(found) + ") that give all five published counts: "
              + " / ".join(str(len(s)) for s in found.values()) + "."]
    return "\n".join(lines)


def main(argv=None) -> dict[str, list[int]]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--no-write", action="store_true", help="print only; leave docs/fpga.md alone")
    args = p.parse_args(argv)
    consts = counted()
    text = block(consts)
    print(text)
    if not args.no_write:
        write_generated(DOC, "fpga_bnnpynq_dsp", COMMAND, text)
    return consts


if __name__ == "__main__":
    main()
