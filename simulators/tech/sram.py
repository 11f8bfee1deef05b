"""SRAM energy, leakage and area from the shipped CACTI table (data/sram_cacti.csv).

The table (built by scripts/build_sram_table.py, provenance in its header) holds one CACTI 7 run per
(node, size, access width). `lookup` interpolates log-linearly in size and width between table
points; an access wider than the table (256 bits) costs per bit what a 256-bit access does, one
narrower than 32 bits what a 32-bit access does (CACTI's narrowest RAM row here). Where CACTI found
no organisation (small arrays with wide rows) the narrower tabulated width is used. A size outside
the table is never extrapolated: the lookup returns NaN and the caller raises an error.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
from numba import njit

TABLE = Path(__file__).parent / "data" / "sram_cacti.csv"
READ, WRITE, LEAK, AREA = range(4)  # value planes: pJ/bit read, pJ/bit write, leakage mW, area mm^2


class SramTable:
    """The CACTI table as arrays: values (node, width, size, plane), NaN where CACTI had no result."""

    def __init__(self, path: str | Path = TABLE):
        self.path = Path(path)
        with open(self.path) as f:
            self.header = [ln.rstrip("\n") for ln in f if ln.startswith("#")]
        with open(self.path) as f:
            rows = list(csv.DictReader(ln for ln in f if not ln.startswith("#")))
        self.nodes_nm = np.array(sorted({int(r["tech_nm"]) for r in rows}), dtype=np.float64)
        sizes = sorted({int(r["size_bytes"]) for r in rows})
        widths = sorted({int(r["width_bits"]) for r in rows})
        self.log2_sizes = np.log2(np.array(sizes, dtype=np.float64))
        self.log2_widths = np.log2(np.array(widths, dtype=np.float64))
        self.values = np.full((len(self.nodes_nm), len(widths), len(sizes), 4), np.nan)
        for r in rows:
            i = int(np.searchsorted(self.nodes_nm, int(r["tech_nm"])))
            j, k = widths.index(int(r["width_bits"])), sizes.index(int(r["size_bytes"]))
            w = float(r["width_bits"])
            self.values[i, j, k] = (float(r["read_pj"]) / w, float(r["write_pj"]) / w, float(r["leakage_mw"]),
                                    float(r["area_mm2"]))
        for a in (self.nodes_nm, self.log2_sizes, self.log2_widths, self.values):
            a.setflags(write=False)

    @property
    def size_range_bytes(self) -> tuple[int, int]:
        return int(2 ** self.log2_sizes[0]), int(2 ** self.log2_sizes[-1])

    def arrays(self):
        """(values, log2_sizes, log2_widths) for the numba kernels."""
        return self.values, self.log2_sizes, self.log2_widths


@njit(cache=True, inline="always")
def _bracket(grid, x):
    """(i, f): x lies f of the way from grid[i] to grid[i + 1] (grid ascending, x inside)."""
    n = grid.shape[0]
    if n == 1:
        return 0, 0.0
    i = 0
    while i < n - 2 and x > grid[i + 1]:
        i += 1
    return i, (x - grid[i]) / (grid[i + 1] - grid[i])


@njit(cache=True, inline="always")
def _blend(a, b, c, e, fs, fw):
    """Log-linear in size (fs) and width (fw) between four table values."""
    if fs == 0.0 and fw == 0.0:
        return a
    lo = (1.0 - fs) * math.log(a) + fs * math.log(b)
    hi = (1.0 - fs) * math.log(c) + fs * math.log(e)
    return math.exp((1.0 - fw) * lo + fw * hi)


@njit(cache=True)
def lookup(values, log2_sizes, log2_widths, node, size_bytes, width_bits):
    """(read pJ per bit, write pJ per bit, leakage mW, area mm^2) of a `size_bytes` SRAM accessed
    `width_bits` at a time, at node index `node`; NaNs outside the table's sizes."""
    ls = math.log2(size_bytes)
    if ls < log2_sizes[0] - 1e-9 or ls > log2_sizes[-1] + 1e-9:
        return np.nan, np.nan, np.nan, np.nan
    ls = min(max(ls, log2_sizes[0]), log2_sizes[-1])
    lw = min(max(math.log2(width_bits), log2_widths[0]), log2_widths[-1])
    k, fs = _bracket(log2_sizes, ls)
    k1 = min(k + 1, log2_sizes.shape[0] - 1)
    while True:
        j, fw = _bracket(log2_widths, lw)
        j1 = j if fw == 0.0 else min(j + 1, log2_widths.shape[0] - 1)
        a, b = values[node, j, k], values[node, j, k1]
        c, e = values[node, j1, k], values[node, j1, k1]
        if not (math.isnan(a[0]) or math.isnan(b[0]) or math.isnan(c[0]) or math.isnan(e[0])):
            return (_blend(a[READ], b[READ], c[READ], e[READ], fs, fw), _blend(a[WRITE], b[WRITE], c[WRITE], e[WRITE], fs, fw),
                    _blend(a[LEAK], b[LEAK], c[LEAK], e[LEAK], fs, fw), _blend(a[AREA], b[AREA], c[AREA], e[AREA], fs, fw))
        if lw <= log2_widths[0]:
            return np.nan, np.nan, np.nan, np.nan
        lw = log2_widths[j] if fw > 0.0 else log2_widths[j - 1]  # CACTI had no organisation: narrower rows
