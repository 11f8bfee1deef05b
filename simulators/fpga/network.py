"""Map a workload's layer table onto FINN dataflow stages, once per workload.

Each layer becomes one compute unit, preceded by a sliding-window unit (SWU) when it convolves:
- conv (groups=1) and linear -> MVAU, a matrix of height MH = C_out and width MW = K*K*C_in;
- depthwise conv (groups = C_in = C_out) -> VVAU (MH = channels, MW = K*K), its SWU folded like it;
- pooling: 2-D StreamingMaxPool for non-overlapping, unpadded windows; GlobalAccPool for a global
  pool; otherwise Pool_Batch behind a depthwise SWU (FINN's three pooling units).
Attention matmuls (no weights) and grouped convs (1 < groups < channels) have no FINN unit: they
are rejected with the layer's name and the reason. Padding goes into the SWU's input size (FINN
puts an FMPadding stage in front, never slower than the SWU, so it is not a stage here).
An MVAU's SIMD must divide MW and be at least MW/1024 (FINN's HLS MVAU refuses smaller ones:
matrixvectoractivation_hls.py `defines`, "SIMD >= MW / 1024").
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from archgym.core.errors import WorkloadError
from archgym.core.workloads import Workload, load
from archgym.core.workloads import table as T
from simulators.fpga import layout as K
from simulators.fpga.estimators import swu_cycles

UNIT_NAMES = ("mvau", "vvau", "maxpool", "globalaccpool", "pool")
MAX_BITS = 32


def divisors(n: int) -> list[int]:
    """All divisors of n, ascending (FINN's SetFolding `divisors`)."""
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return small + [n // d for d in reversed(small) if d * d != n]


@dataclass(frozen=True, eq=False)
class Network:
    """A workload compiled for the kernels: `table` (n_layers, layout.N_COLS) and the folding
    tables `tab` (n_layers, layout.N_TABS, max divisors), both int64, the rows each stage needs
    from its producer (`need`, see `needs`), plus per layer the allowed PE and SIMD values (indices
    into these tuples are the folding choices)."""
    name: str
    layer_names: tuple[str, ...]
    table: np.ndarray
    tab: np.ndarray
    need: np.ndarray
    pe_choices: tuple[tuple[int, ...], ...]
    simd_choices: tuple[tuple[int, ...], ...]

    def __len__(self) -> int:
        return len(self.table)

    def units(self) -> list[str]:
        return [UNIT_NAMES[k] for k in self.table[:, K.KIND]]

    def acc_table(self, signed_inputs: bool) -> np.ndarray:
        """(n_layers, 2*MAX_BITS+1) accumulator bits by W+A, FINN's bound (arXiv:2301.13376):
        ceil(a + log2(1 + 2^-a) + 1) with a = log2(MW) + W + A - 1 - signed, at most 32."""
        wa = np.arange(2 * MAX_BITS + 1, dtype=np.float64)
        mw = np.maximum(self.table[:, K.MW], 1).astype(np.float64)
        a = np.log2(mw)[:, None] + wa[None, :] - 1.0 - float(signed_inputs)
        with np.errstate(over="ignore"):
            acc = np.ceil(a + np.log2(1.0 + np.exp2(-a)) + 1.0)
        return np.minimum(acc, 32.0).astype(np.int64)

    def describe_layer(self, i: int) -> str:
        return f"layer {self.layer_names[i]!r} (row {i}, {UNIT_NAMES[self.table[i, K.KIND]]})"


def _row(kind, mh, mw, vec, t, *, fixed=0, swu=None, dw=0):
    """A table row; `t` is the workload row (input rows and channels, padding, output rows)."""
    r = np.zeros(K.N_COLS, dtype=np.int64)
    r[[K.KIND, K.MH, K.MW, K.VEC, K.FIXED, K.DW]] = kind, mh, mw, vec, fixed, dw
    r[[K.CH, K.IN_H, K.PAD_H, K.ROWS, K.OUT_W]] = t[T.C], t[T.H], t[T.PH], t[T.EH], t[T.EW]
    if swu is not None:  # (padded ifm h, w, kernel h, w, stride h, w, ofm h, w)
        r[K.SWU] = 1
        r[[K.IFM_H, K.IFM_W, K.KH, K.KW, K.SH, K.SW, K.OFM_H, K.OFM_W]] = swu
    return r


def _map(name: str, i: int, t: np.ndarray) -> np.ndarray:
    kind = t[T.KIND]
    h, w, c, fh, fw, nf = (int(t[j]) for j in (T.H, T.W, T.C, T.FH, T.FW, T.NF))
    sh, sw, ph, pw, eh, ew, g = (int(t[j]) for j in (T.SH, T.SW, T.PH, T.PW, T.EH, T.EW, T.G))
    window = (h + 2 * ph, w + 2 * pw, fh, fw, sh, sw, eh, ew)
    needs_swu = (fh, fw, sh, sw, ph, pw) != (1, 1, 1, 1, 0, 0)
    if kind == T.CONV and g == 1:
        return _row(K.MVAU, nf, fh * fw * c, eh * ew, t, swu=window if needs_swu else None)
    if kind == T.CONV and g == c == nf:
        return _row(K.VVAU, c, fh * fw, eh * ew, t, swu=window if needs_swu else None, dw=1)
    if kind == T.CONV:
        raise WorkloadError(f"cannot map layer {name!r} (row {i}): a grouped convolution with {g} groups of "
                            f"{c // g} channels is neither dense (groups=1) nor depthwise (groups = in = out "
                            "channels), and FINN has no MVAU/VVAU for it")
    if kind == T.LINEAR:
        return _row(K.MVAU, int(t[T.N]), int(t[T.K]), int(t[T.M]), t)
    if kind == T.MATMUL:
        raise WorkloadError(f"cannot map layer {name!r} (row {i}): an activation-by-activation matmul (attention) "
                            "has no weights to hold in an MVAU; the dataflow model maps conv, linear and pooling "
                            "layers")
    if (eh, ew, fh, fw, ph, pw) == (1, 1, h, w, 0, 0):
        return _row(K.GAP, c, 1, h * w, t)
    if fh == fw == sh == sw and ph == pw == 0 and h % fh == 0 and w % fw == 0:
        # finn StreamingMaxPool.get_exp_cycles (2-D): int(IFM^2 * (1 + 1/k^2)), all channels at once
        return _row(K.MAXPOOL, c, 1, eh * ew, t, fixed=h * w + (h * w) // (fh * fw))
    return _row(K.POOL, c, fh * fw, eh * ew, t, swu=window, dw=1)


def _tables(t: np.ndarray) -> tuple[list[int], list[int], list[int], np.ndarray]:
    """PE, SIMD and SWU-SIMD choices of one layer and its (N_TABS, n) folding table."""
    kind = int(t[K.KIND])
    pe = divisors(int(t[K.MH])) if kind != K.MAXPOOL else [1]
    simd = divisors(int(t[K.MW])) if kind in (K.MVAU, K.VVAU) else [1]
    if kind == K.MVAU:  # FINN's HLS MVAU needs SIMD >= MW/1024
        simd = [s for s in simd if s * 1024 >= t[K.MW]]
    swu = divisors(int(t[K.CH])) if t[K.SWU] else [1]
    tab = np.ones((K.N_TABS, max(len(pe), len(simd), len(swu))), dtype=np.int64)
    tab[K.PE_DIV, :len(pe)] = pe
    tab[K.PE_Q, :len(pe)] = [t[K.MH] // p for p in pe]
    tab[K.SIMD_DIV, :len(simd)] = simd
    tab[K.SIMD_Q, :len(simd)] = [t[K.MW] // s for s in simd] if kind in (K.MVAU, K.VVAU) else [t[K.MW]]
    tab[K.SWU_DIV, :len(swu)] = swu
    tab[K.SWU_Q, :len(swu)] = [t[K.CH] // s for s in swu] if t[K.SWU] else [0]
    tab[K.SWU_CYC, :len(swu)] = [swu_cycles(t[K.IFM_W], t[K.KH], t[K.KW], t[K.SW], t[K.OFM_H], t[K.OFM_W], q)
                                 for q in tab[K.SWU_Q, :len(swu)]]
    return pe, simd, swu, tab


def needs(table: np.ndarray) -> np.ndarray:
    """For each output row of each stage, the last row of its producer it needs (the latency's
    dependencies; filled into `table`'s NEED_SWU / NEED_UNIT offsets). A sliding window's row r
    needs input row r*stride + K - 1 - pad (clipped to the map); another unit needs the producer's
    rows covering its own, all of them for a fully connected layer. Producer rows are scaled to the
    input rows when a table's shapes do not chain. The first stage has no producer (-1)."""
    out, producer_rows = [], 0
    for t in table:
        rows = int(t[K.ROWS])
        if t[K.SWU]:
            t[K.NEED_SWU] = sum(map(len, out))
            x = np.clip(np.arange(rows) * t[K.SH] + t[K.KH] - 1 - t[K.PAD_H], 0, t[K.IN_H] - 1)
            out.append(((x + 1) * producer_rows + t[K.IN_H] - 1) // t[K.IN_H] - 1)
            producer_rows = rows
        t[K.NEED_UNIT] = sum(map(len, out))
        out.append(((np.arange(rows) + 1) * producer_rows + rows - 1) // rows - 1)
        producer_rows = rows
    return np.concatenate(out).astype(np.int64)


_cache: dict[int, tuple[Workload, Network]] = {}


def compile_network(workload) -> Network:
    """A built-in name, a SCALE-Sim CSV path or a Workload -> Network (cached per Workload object)."""
    wl = load(workload)
    hit = _cache.get(id(wl))
    if hit is not None and hit[0] is wl:
        return hit[1]
    # element-wise rows (from_torch's adds and activations) are not FPGA units here: FINN folds activations
    # into the MVAU thresholds (HAS_ACT below); residual adds (FINN's AddStreams) are not modelled yet
    keep = [i for i, k in enumerate(wl.table[:, T.KIND]) if k not in (T.ADD, T.ACT)]
    names = tuple(wl.layer_names[i] for i in keep)
    table = np.stack([_map(names[j], i, wl.table[i]) for j, i in enumerate(keep)])
    kind = table[:, K.KIND]
    weighted = np.flatnonzero((kind == K.MVAU) | (kind == K.VVAU))
    table[weighted[:-1], K.HAS_ACT] = 1  # thresholds after every weight layer but the classifier
    per_layer = [_tables(t) for t in table]
    tabs = np.ones((len(table), K.N_TABS, max(tab.shape[1] for *_, tab in per_layer)), dtype=np.int64)
    for i, (pe, simd, swu, tab) in enumerate(per_layer):
        tabs[i, :, :tab.shape[1]] = tab
        table[i, [K.N_PE, K.N_SIMD, K.N_SWU]] = len(pe), len(simd), len(swu)
    need = needs(table)
    for a in (table, tabs, need):
        a.setflags(write=False)
    net = Network(wl.name, names, table, tabs, need, tuple(tuple(p) for p, *_ in per_layer),
                  tuple(tuple(s) for _, s, *_ in per_layer))
    _cache[id(wl)] = (wl, net)
    return net
