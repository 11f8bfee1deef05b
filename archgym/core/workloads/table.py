"""The layer table: one int64 array, one row per layer, shared by every simulator.

Each row is a convolution, a linear (fully connected) layer, an activation-by-activation matmul
(attention) or a pooling layer, described both by its conv shape and by the GEMM it lowers to:
`G` independent GEMMs of `M x K` by `K x N` (G is the group count for grouped or depthwise
convolutions, and the head count for attention matmuls). `M` counts output pixels (or tokens),
`N` output channels per group, `K` the reduction length per group. Batch is 1.

Output sizes `EH, EW` are stored, not recomputed: built-in networks use PyTorch's floor rule with
padding, while SCALE-Sim topology files use SCALE-Sim's own ceil rule without padding.
"""
from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np

from archgym.core import validate
from archgym.core.errors import WorkloadError

COLUMNS = ("kind", "h", "w", "c", "fh", "fw", "nf", "sh", "sw", "ph", "pw", "eh", "ew", "g", "m", "n", "k")
(KIND, H, W, C, FH, FW, NF, SH, SW, PH, PW, EH, EW, G, M, N, K) = range(len(COLUMNS))
N_COLUMNS = len(COLUMNS)

KINDS = ("conv", "linear", "matmul", "pool")
CONV, LINEAR, MATMUL, POOL = range(len(KINDS))


def conv_row(h, w, c, nf, fh, fw=None, stride=1, pad=0, groups=1, *, ceil_mode=False, stride_w=None, pad_w=None):
    """One convolution row. `ceil_mode=True` uses SCALE-Sim's ceil((H-F+S)/S) output size."""
    fw = fh if fw is None else fw
    sw = stride if stride_w is None else stride_w
    pw = pad if pad_w is None else pad_w
    _sizes(h=h, w=w, c=c, nf=nf, fh=fh, fw=fw, sh=stride, sw=sw, g=groups, ph=(pad, 0), pw=(pw, 0))
    eh = _out_size(h, fh, stride, pad, ceil_mode)
    ew = _out_size(w, fw, sw, pw, ceil_mode)
    if c % groups or nf % groups:
        raise WorkloadError(f"groups={groups} must divide channels={c} and filters={nf}")
    return _row(CONV, h, w, c, fh, fw, nf, stride, sw, pad, pw, eh, ew, groups,
                eh * ew, nf // groups, fh * fw * (c // groups))


def linear_row(in_features, out_features, tokens=1):
    """A fully connected layer applied to `tokens` vectors: M=tokens, N=out, K=in."""
    return _row(LINEAR, tokens, 1, in_features, 1, 1, out_features, 1, 1, 0, 0, tokens, 1, 1,
                tokens, out_features, in_features)


def matmul_row(m, n, k, heads=1):
    """An activation-by-activation matmul (no weights), repeated over `heads`."""
    _sizes(m=m, n=n, k=k, g=heads)
    return _row(MATMUL, m, 1, k * heads, 1, 1, n * heads, 1, 1, 0, 0, m, 1, heads, m, n, k)


def pool_row(h, w, c, kernel, stride=None, pad=0, *, ceil_mode=False):
    """A max/average pooling layer: no MACs, but a pipeline stage on a dataflow FPGA."""
    stride = kernel if stride is None else stride
    _sizes(h=h, w=w, c=c, fh=kernel, sh=stride, ph=(pad, 0))
    eh = _out_size(h, kernel, stride, pad, ceil_mode)
    ew = _out_size(w, kernel, stride, pad, ceil_mode)
    return _row(POOL, h, w, c, kernel, kernel, c, stride, stride, pad, pad, eh, ew, c, eh * ew, 1, 0)


def _sizes(**fields) -> None:
    """Every field an integer >= 1 (or >= the low bound given as (value, low)), before any arithmetic."""
    for name, v in fields.items():
        v, low = v if isinstance(v, tuple) else (v, 1)
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (Integral, np.integer)) or v < low:
            raise WorkloadError(f"layer field {name} must be an integer >= {low}, got {v!r}")


def _out_size(size, f, s, p, ceil_mode):
    if f > size + 2 * p:
        raise WorkloadError(f"filter size {f} is larger than the padded input size {size + 2 * p}")
    if ceil_mode:
        return -(-(size + 2 * p - f + s) // s)
    return (size + 2 * p - f) // s + 1


def _row(*vals):
    for name, v in zip(COLUMNS, vals):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (Integral, np.integer)):
            raise WorkloadError(f"layer field {name} must be an integer, got {v!r}")
    bad = [COLUMNS[i] for i in (H, W, C, FH, FW, NF, SH, SW, EH, EW, G) if vals[i] <= 0]
    bad += [COLUMNS[i] for i in (PH, PW) if vals[i] < 0]
    if bad:
        raise WorkloadError(f"layer fields must be positive (padding >= 0): {', '.join(bad)}")
    for name, v in zip(COLUMNS, vals):
        if v > validate.MAX_LAYER_DIM:
            raise validate.LimitError(f"layer field {name} = {v:,} is over the limit of {validate.MAX_LAYER_DIM:,} "
                                      f"(archgym.core.validate.MAX_LAYER_DIM)")
    return check_table(np.array(vals, dtype=np.int64))[0]


def check_table(table, name: str = "layer") -> np.ndarray:
    """An (n, len(COLUMNS)) int64 layer table with every field in [0, MAX_LAYER_DIM] and at most
    MAX_LAYER_MACS per layer (archgym.core.validate), so that no kernel product overflows int64."""
    arr = np.asarray(table)
    if arr.dtype.kind not in "iuf" or (arr.dtype.kind == "f" and not (np.isfinite(arr).all() and (arr == np.round(arr)).all())):
        raise WorkloadError(f"{name}: a layer table holds integers, got dtype {arr.dtype}")
    arr = arr.reshape(-1, N_COLUMNS) if arr.size % N_COLUMNS == 0 else arr
    if arr.ndim != 2 or arr.shape[1] != N_COLUMNS:
        raise WorkloadError(f"{name}: a layer table has shape (n, {N_COLUMNS}) (columns {', '.join(COLUMNS)}), got {arr.shape}")
    if len(arr) > validate.MAX_LAYERS:
        raise validate.LimitError(f"{name}: {len(arr):,} layers is over the limit of {validate.MAX_LAYERS:,} (archgym.core.validate)")
    big = (np.abs(arr.astype(np.float64)) > validate.MAX_LAYER_DIM) | (arr < 0)
    if big.any():
        i, j = np.argwhere(big)[0]
        raise validate.LimitError(f"{name} {i}: field {COLUMNS[j]} = {arr[i, j]} is outside [0, {validate.MAX_LAYER_DIM:,}] "
                                  f"(archgym.core.validate.MAX_LAYER_DIM)")
    arr = arr.astype(np.int64)
    if not np.isin(arr[:, KIND], range(len(KINDS))).all():
        raise WorkloadError(f"{name}: layer kind codes must be in 0..{len(KINDS) - 1} ({', '.join(KINDS)})")
    macs = arr[:, G].astype(np.float64) * arr[:, M] * arr[:, N] * arr[:, K]
    if (macs > validate.MAX_LAYER_MACS).any():
        i = int(np.argmax(macs > validate.MAX_LAYER_MACS))
        raise validate.LimitError(f"{name} {i}: {macs[i]:.3g} MACs is over the limit of {validate.MAX_LAYER_MACS:.3g} per "
                                  f"layer (archgym.core.validate.MAX_LAYER_MACS)")
    return arr


@dataclass(frozen=True, eq=False)
class Workload:
    """A named network: `table` is an (n_layers, len(COLUMNS)) C-contiguous int64 array."""
    name: str
    table: np.ndarray
    layer_names: tuple[str, ...]

    def __post_init__(self):
        if not isinstance(self.name, str):
            raise WorkloadError(f"a workload name must be a string, got {self.name!r}")
        table = np.ascontiguousarray(check_table(self.table, f"workload {self.name!r}: layer"))
        if len(table) == 0:
            raise WorkloadError(f"workload {self.name!r} has no layers")
        if len(self.layer_names) != len(table):
            raise WorkloadError(f"workload {self.name!r}: {len(self.layer_names)} names for {len(table)} layers")
        table.setflags(write=False)
        object.__setattr__(self, "table", table)
        object.__setattr__(self, "layer_names", tuple(self.layer_names))

    @classmethod
    def from_rows(cls, name: str, rows: list[tuple[str, np.ndarray]]) -> "Workload":
        """Build from (layer name, row) pairs, as returned by `conv_row` and friends."""
        return cls(name, np.stack([r for _, r in rows]) if rows else np.zeros((0, N_COLUMNS)),
                   tuple(n for n, _ in rows))

    def __len__(self) -> int:
        return len(self.table)

    def column(self, name: str) -> np.ndarray:
        return self.table[:, COLUMNS.index(name)]

    @property
    def macs(self) -> int:
        """Total multiply-accumulates for one inference (batch 1)."""
        t = self.table
        return int((t[:, G] * t[:, M] * t[:, N] * t[:, K]).sum())

    @property
    def weights(self) -> int:
        """Weight parameters (conv and linear layers only; matmuls and pools have none)."""
        t = self.table
        has_w = (t[:, KIND] == CONV) | (t[:, KIND] == LINEAR)
        return int((t[:, G] * t[:, N] * t[:, K])[has_w].sum())

    def kinds(self) -> list[str]:
        return [KINDS[k] for k in self.table[:, KIND]]

    def __repr__(self) -> str:
        return f"Workload({self.name!r}, layers={len(self)}, macs={self.macs:,})"
