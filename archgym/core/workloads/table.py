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

import numpy as np

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
    return _row(MATMUL, m, 1, k * heads, 1, 1, n * heads, 1, 1, 0, 0, m, 1, heads, m, n, k)


def pool_row(h, w, c, kernel, stride=None, pad=0, *, ceil_mode=False):
    """A max/average pooling layer: no MACs, but a pipeline stage on a dataflow FPGA."""
    stride = kernel if stride is None else stride
    eh = _out_size(h, kernel, stride, pad, ceil_mode)
    ew = _out_size(w, kernel, stride, pad, ceil_mode)
    return _row(POOL, h, w, c, kernel, kernel, c, stride, stride, pad, pad, eh, ew, c, eh * ew, 1, 0)


def _out_size(size, f, s, p, ceil_mode):
    if f > size + 2 * p:
        raise WorkloadError(f"filter size {f} is larger than the padded input size {size + 2 * p}")
    if ceil_mode:
        return -(-(size + 2 * p - f + s) // s)
    return (size + 2 * p - f) // s + 1


def _row(*vals):
    row = np.array(vals, dtype=np.int64)
    if (row[[H, W, C, FH, FW, NF, SH, SW, EH, EW, G]] <= 0).any() or (row[[PH, PW]] < 0).any():
        bad = [COLUMNS[i] for i in (H, W, C, FH, FW, NF, SH, SW, EH, EW, G) if row[i] <= 0]
        bad += [COLUMNS[i] for i in (PH, PW) if row[i] < 0]
        raise WorkloadError(f"layer fields must be positive (padding >= 0): {', '.join(bad)}")
    return row


@dataclass(frozen=True, eq=False)
class Workload:
    """A named network: `table` is an (n_layers, len(COLUMNS)) C-contiguous int64 array."""
    name: str
    table: np.ndarray
    layer_names: tuple[str, ...]

    def __post_init__(self):
        table = np.ascontiguousarray(self.table, dtype=np.int64).reshape(-1, N_COLUMNS)
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
