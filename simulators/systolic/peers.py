"""Our access counts on a peer tool's memory hierarchy, priced with that tool's per-access energies.

The differential checks against ZigZag (tests/test_systolic_zigzag.py) run our model on the peer's
hardware (array size, buffer sizes, partial-sum width) and price our per-layer counts with the
peer's per-access energies, level by level, so that what differs is what each tool counts.
`HARDWARE[name]` holds our design for each of ZigZag's shipped descriptions and where each of our
count streams lands in its hierarchy. Conventions (documented, not tuned):
- SRAM and DRAM levels are priced per bit moved, at `r_cost`/`w_cost` over the port's widest
  bandwidth; ZigZag itself rounds every transfer up to its port granularity
  (zigzag/cost_model/cost_model.py, _calc_memory_access), so the tests compare these levels with the
  bits ZigZag moves (its data elements x precision), and the totals with the energy it charges;
- a word written into a per-PE register file is also read out once (ZigZag counts both);
- a per-PE partial-sum register file, as ZigZag counts it (zigzag/mapping/mapping.py, the output
  operand's data_access_counts): a read and a write per MAC for the accumulation; when the output
  changes every cycle (ws and is streaming more than one pixel or filter) one more read per MAC that
  sends the sum on, and one more write that brings it back if there are several reduction passes;
  otherwise one read per output and array row;
- tpu_like has no weight SRAM (weights go from DRAM into the PE register files), so our filter SRAM
  is priced at zero there and kept at 1 kB so that weights are re-fetched from DRAM as ZigZag does;
- eyeriss_like stages outputs in sram_8KB and then sram_1M, and our ofmap SRAM is sized as sram_1M:
  partial sums stay in sram_8KB when a column fold's tile fits there (our model's own fit rule,
  applied level by level) and otherwise pass through it both ways to sram_1M; final outputs pass
  through both on their way to DRAM.
"""
from __future__ import annotations

from collections.abc import Mapping

from archgym.core.workloads.table import G, K, M, N

# Our design on each ZigZag hardware (bits 8, partial sums 16 as in ZigZag's register files).
HARDWARE = {
    "tpu_like": {
        "design": {"rows": 32, "cols": 32, "ifmap_sram_kb": 2048, "filter_sram_kb": 1, "ofmap_sram_kb": 2048,
                   "bits": 8, "acc_bits": 16, "dram_bytes_per_cycle": 8},
        "mac": 0.04,
        # level: (r_cost pJ, w_cost pJ, widest port bits)
        "levels": {"rf_128B": (0.095, 0.095, 8), "rf_2B": (0.021, 0.021, 16),
                   "sram_2MB": (416.16, 378.4, 2048), "dram": (700.0, 750.0, 64)},
        "ifmap_reg": None, "weight_reg": "rf_128B", "psum_reg": "rf_2B",
        "ifmap_sram": ("sram_2MB",), "filter_sram": (), "ofmap_sram": ("sram_2MB",),
    },
    "eyeriss_like": {
        "design": {"rows": 12, "cols": 14, "ifmap_sram_kb": 1024, "filter_sram_kb": 64, "ofmap_sram_kb": 1024,
                   "bits": 8, "acc_bits": 16, "dram_bytes_per_cycle": 8},
        "mac": 0.5,
        "levels": {"rf_64B_A": (1.0, 1.5, 8), "rf_64B_W": (1.0, 1.5, 8), "rf_16B": (1.5, 2.0, 24),
                   "sram_8KB": (10.0, 15.0, 128), "sram_64KB": (20.0, 25.0, 128), "sram_1M": (100.0, 130.0, 384),
                   "dram": (1000.0, 1000.0, 64)},
        "ifmap_reg": "rf_64B_A", "weight_reg": "rf_64B_W", "psum_reg": "rf_16B",
        "ifmap_sram": ("sram_1M",), "filter_sram": ("sram_64KB",), "ofmap_sram": ("sram_8KB", "sram_1M"),
        "staging_bits": {"sram_8KB": 65536},
    },
}


def zigzag_levels(layer: Mapping[str, float], row, hw: str, dataflow: str) -> dict[str, float]:
    """Energy (pJ) per memory level of ZigZag's `hw` (plus "mac") for one layer of our detail
    (a SimResult.layers row of our model run on HARDWARE[hw]['design']) and its layer-table row."""
    h = HARDWARE[hw]
    bits, acc = h["design"]["bits"], h["design"]["acc_bits"]
    levels = h["levels"]
    out = {name: 0.0 for name in levels}
    out["mac"] = layer["macs"] * h["mac"]

    def register(level, words, width):
        if level is not None:
            r, w, port = levels[level]
            out[level] += words * -(-width // port) * (r + w)

    def sram(name, read_bits, write_bits):
        r, w, port = levels[name]
        out[name] += (read_bits * r + write_bits * w) / port

    register(h["ifmap_reg"], layer["ifmap_reg_writes"], bits)
    register(h["weight_reg"], layer["weight_reg_writes"], bits)
    m, n, k, g = (float(row[j]) for j in (M, N, K, G))
    rows, cols = h["design"]["rows"], h["design"]["cols"]
    register(h["psum_reg"], layer["psum_reg_writes"], acc)  # the accumulation's read and write
    r, w, port = levels[h["psum_reg"]]
    streamed = m if dataflow == "ws" else n
    if dataflow != "os" and streamed > 1:  # sent on every MAC, and brought back for the next pass
        out[h["psum_reg"]] += layer["macs"] * -(-acc // port) * (r + (w if k > rows else 0.0))
    else:
        out[h["psum_reg"]] += g * m * n * (1.0 if dataflow == "os" else min(rows, k)) * -(-acc // port) * r
    for name in h["ifmap_sram"]:
        sram(name, layer["ifmap_sram_reads"] * bits, layer["ifmap_sram_fills"] * bits)
    for name in h["filter_sram"]:
        sram(name, layer["filter_sram_reads"] * bits, layer["filter_sram_fills"] * bits)
    psum_demand = layer["psum_sram_reads"] - layer["psum_dram_writes"]  # partial sums the array writes (acc wide)
    of_write = (layer["ofmap_sram_writes"] - psum_demand) * bits + (psum_demand + layer["psum_sram_writes"]) * acc
    of_read = layer["ofmap_sram_reads"] * bits + layer["psum_sram_reads"] * acc
    *inner, outer = h["ofmap_sram"]
    psum_bits = psum_demand * acc  # partial sums written, and read back, between passes
    final_bits = of_write - psum_bits
    tile_bits = (m if dataflow == "ws" else n) * min(cols, n if dataflow == "ws" else m) * acc
    for name in inner:
        if tile_bits <= h["staging_bits"][name]:  # the partial sums live here; only outputs go on
            sram(name, psum_bits + final_bits, of_write)
            sram(outer, of_read - psum_bits, final_bits)
            break
        sram(name, of_write + psum_bits, of_write + psum_bits)  # staged both ways on to the next level
    else:
        sram(outer, of_read, of_write)
    r, w, port = levels["dram"]
    out["dram"] = (8.0 * layer["dram_read_bytes"] * r + 8.0 * layer["dram_write_bytes"] * w) / port
    return out
