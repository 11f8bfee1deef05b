"""The layer table: one int64 array, one row per layer, shared by every simulator.

Each row is a convolution, a linear (fully connected) layer, an activation-by-activation matmul
(attention) or a pooling layer, described both by its conv shape and by the GEMM it lowers to:
`G` independent GEMMs of `M x K` by `K x N` (G is the group count for grouped or depthwise
convolutions, and the head count for attention matmuls). `M` counts output pixels (or tokens),
`N` output channels per group, `K` the reduction length per group. Batch is 1.

Output sizes `EH, EW` are stored, not recomputed: built-in networks use PyTorch's floor rule with
padding, while SCALE-Sim topology files use SCALE-Sim's own ceil rule without padding.

Element-wise rows run on a vector (post-processing) unit, not on the MAC array: `add` (a binary
element-wise sum, e.g. a residual or an NB201 node sum) and `act` (an activation or an unfolded
batch norm, `POST` element ops per element). A MAC row's `PRE`/`POST` count the element ops fused
onto its input/output stream (e.g. a ReLU before or after a conv). MAC-less rows have K = 0.

Feature-map context (elements), from the network's graph (`feature_context`): `IN_OCC` is the peak
on-chip occupancy over the life of the row's input tensor (`IN2_OCC`: an add's second operand),
`OUT_OCC` over the life of its output. A tensor can stay on chip only if its peak fits; NEVER marks
a tensor that is always off chip (the network's input and output). Tables without a graph (built-in
networks, SCALE-Sim files, older 17-column tables) get a chain: each row reads the previous row's
output when the sizes match, else off chip.
"""
from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np

from archgym.core import validate
from archgym.core.errors import WorkloadError

COLUMNS = ("kind", "h", "w", "c", "fh", "fw", "nf", "sh", "sw", "ph", "pw", "eh", "ew", "g", "m", "n", "k",
           "pre", "post", "in_occ", "in2_occ", "out_occ")
(KIND, H, W, C, FH, FW, NF, SH, SW, PH, PW, EH, EW, G, M, N, K, PRE, POST, IN_OCC, IN2_OCC, OUT_OCC) = range(len(COLUMNS))
N_COLUMNS = len(COLUMNS)
N_SHAPE_COLUMNS = 17  # the shape columns (kind..k): what tables stored before the vector/feature columns
NEVER = 2 ** 31 - 1  # occupancy of a tensor that is never on chip (larger occupancies saturate here; fits int32)
UNSET = -1  # occupancy not given: filled in by the chain fallback

KINDS = ("conv", "linear", "matmul", "pool", "add", "act")
CONV, LINEAR, MATMUL, POOL, ADD, ACT = range(len(KINDS))


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


def add_row(h, w, c, post=0):
    """A binary element-wise sum of two h x w x c tensors (plus `post` fused element ops per element)."""
    return _row(ADD, h, w, c, 1, 1, c, 1, 1, 0, 0, h, w, 1, h * w, c, 0, post=post)


def act_row(h, w, c, ops):
    """An element-wise activation (or unfolded batch norm) of `ops` element ops per element."""
    if ops < 1:
        raise WorkloadError(f"an activation row needs ops >= 1 element op per element, got {ops}")
    return _row(ACT, h, w, c, 1, 1, c, 1, 1, 0, 0, h, w, 1, h * w, c, 0, post=ops)


def io_elements(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(input, output) tensor elements of each row of table `t` (a matmul's first operand)."""
    kind = t[:, KIND]
    out = np.where(kind == POOL, t[:, G] * t[:, M], t[:, G] * t[:, M] * t[:, N])
    inp = np.where((kind == LINEAR) | (kind == MATMUL), t[:, G] * t[:, M] * t[:, K], t[:, H] * t[:, W] * t[:, C])
    return inp, out


def feature_context(table: np.ndarray, inputs: list[tuple[int, ...]], outputs=None) -> np.ndarray:
    """A copy of `table` with IN_OCC, IN2_OCC and OUT_OCC from the graph: `inputs[r]` lists the rows
    whose outputs row r reads (-1: the network input), `outputs` the rows whose outputs are the
    network's (default: the last row). Every produced tensor lives from its producer to its last
    consumer; occupancy at a row is the sum of the tensors alive there (all assumed on chip, so a
    tensor's peak is the most it could ever need). Outputs always go off chip (NEVER); a tensor that
    is neither read nor an output is discarded where it is made (OUT_OCC 0: never written)."""
    t = np.array(table, dtype=np.int64)
    n = len(t)
    _, size = io_elements(t)
    last = np.full(n, -1)
    for r, srcs in enumerate(inputs):
        for s in srcs:
            if s >= r:
                raise WorkloadError(f"row {r} reads row {s}: a row can only read earlier rows")
            if s >= 0:
                last[s] = max(last[s], r)
    diff = np.zeros(n + 1, dtype=np.int64)
    for p in range(n):
        if last[p] >= 0:
            diff[p] += size[p]
            diff[last[p] + 1] -= size[p]
    occ = np.cumsum(diff)[:n]
    outputs = {n - 1} if outputs is None else set(outputs)
    peak = np.array([NEVER if p in outputs else (occ[p:last[p] + 1].max() if last[p] >= 0 else 0) for p in range(n)],
                    dtype=np.int64)
    for r, srcs in enumerate(inputs):
        occs = [peak[s] if s >= 0 else NEVER for s in srcs] or [NEVER]
        t[r, IN_OCC] = occs[0]
        t[r, IN2_OCC] = occs[1] if len(occs) > 1 else 0
    t[:, OUT_OCC] = peak
    t[:, [IN_OCC, IN2_OCC, OUT_OCC]] = np.minimum(t[:, [IN_OCC, IN2_OCC, OUT_OCC]], NEVER)
    return t


def chain_inputs(table: np.ndarray) -> list[tuple[int, ...]]:
    """The fallback graph: each row reads the previous row's output when its input has that many
    elements (an add reads it twice), else the network input."""
    inp, out = io_elements(np.asarray(table))
    srcs = [(r - 1 if r > 0 and inp[r] == out[r - 1] else -1) for r in range(len(inp))]
    return [(s, s) if k == ADD else (s,) for s, k in zip(srcs, np.asarray(table)[:, KIND])]


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


def _row(*vals, pre=0, post=0):
    named = {**dict(zip(COLUMNS, vals)), "pre": pre, "post": post}
    for name, v in named.items():
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (Integral, np.integer)):
            raise WorkloadError(f"layer field {name} must be an integer, got {v!r}")
    bad = [COLUMNS[i] for i in (H, W, C, FH, FW, NF, SH, SW, EH, EW, G) if vals[i] <= 0]
    bad += [n for n in ("ph", "pw", "pre", "post") if named[n] < 0]
    if bad:
        raise WorkloadError(f"layer fields must be positive (padding and element ops >= 0): {', '.join(bad)}")
    for name, v in named.items():
        if v > validate.MAX_LAYER_DIM:
            raise validate.LimitError(f"layer field {name} = {v:,} is over the limit of {validate.MAX_LAYER_DIM:,} "
                                      f"(archgym.core.validate.MAX_LAYER_DIM)")
    return check_table(np.array((*vals, pre, post, UNSET, UNSET, UNSET), dtype=np.int64))[0]


def check_table(table, name: str = "layer") -> np.ndarray:
    """An (n, len(COLUMNS)) int64 layer table (an older (n, N_SHAPE_COLUMNS) one gains its vector and
    feature columns, unset) whose shape fields and element ops lie in [0, MAX_LAYER_DIM], occupancies in
    [UNSET, NEVER], and whose every layer has at most MAX_LAYER_MACS MACs, tensor elements and element
    ops (archgym.core.validate), so that no kernel product overflows int64."""
    arr = np.asarray(table)
    if arr.dtype.kind not in "iuf" or (arr.dtype.kind == "f" and not (np.isfinite(arr).all() and (arr == np.round(arr)).all())):
        raise WorkloadError(f"{name}: a layer table holds integers, got dtype {arr.dtype}")
    if arr.ndim == 2 and arr.shape[1] == N_SHAPE_COLUMNS:  # an older table: no vector/feature columns
        arr = np.concatenate([arr, np.tile([0, 0, UNSET, UNSET, UNSET], (len(arr), 1))], axis=1)
    arr = arr.reshape(-1, N_COLUMNS) if arr.ndim == 1 and arr.size % N_COLUMNS == 0 else arr
    if arr.ndim != 2 or arr.shape[1] != N_COLUMNS:
        raise WorkloadError(f"{name}: a layer table has shape (n, {N_COLUMNS}) (columns {', '.join(COLUMNS)}), got {arr.shape}")
    if len(arr) > validate.MAX_LAYERS:
        raise validate.LimitError(f"{name}: {len(arr):,} layers is over the limit of {validate.MAX_LAYERS:,} (archgym.core.validate)")
    f = arr.astype(np.float64)
    low = np.where(np.arange(N_COLUMNS) >= IN_OCC, UNSET, 0)
    high = np.where(np.arange(N_COLUMNS) >= IN_OCC, NEVER, validate.MAX_LAYER_DIM)
    bad = (f < low) | (f > high)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise validate.LimitError(f"{name} {i}: field {COLUMNS[j]} = {arr[i, j]} is outside [{low[j]:,}, {high[j]:,}] "
                                  f"(archgym.core.validate.MAX_LAYER_DIM)")
    arr = arr.astype(np.int64)  # kind codes are the simulators' to judge: each names a row it cannot cost
    work = {"MACs": f[:, G] * f[:, M] * f[:, N] * f[:, K], "input elements": f[:, H] * f[:, W] * f[:, C],
            "output elements": f[:, G] * f[:, M] * f[:, N],
            "element ops": (f[:, PRE] + f[:, POST]) * np.maximum(f[:, H] * f[:, W] * f[:, C], f[:, G] * f[:, M] * f[:, N])}
    for what, amount in work.items():
        if (amount > validate.MAX_LAYER_MACS).any():
            i = int(np.argmax(amount > validate.MAX_LAYER_MACS))
            raise validate.LimitError(f"{name} {i}: {amount[i]:.3g} {what} is over the limit of {validate.MAX_LAYER_MACS:.3g} "
                                      f"per layer (archgym.core.validate.MAX_LAYER_MACS)")
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
        if (table[:, [IN_OCC, OUT_OCC]] == UNSET).any():
            table = feature_context(table, chain_inputs(table))
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

    def isolated(self) -> "Workload":
        """A copy where every layer reads its inputs from and writes its output to DRAM (no tensor
        stays on chip between layers), as SCALE-Sim and ZigZag evaluate layers one at a time."""
        t = self.table.copy()
        t[:, [IN_OCC, OUT_OCC]] = NEVER
        t[:, IN2_OCC] = np.where(t[:, KIND] == ADD, NEVER, 0)
        return Workload(self.name, t, self.layer_names)

    def kinds(self) -> list[str]:
        return [KINDS[k] for k in self.table[:, KIND]]

    def __repr__(self) -> str:
        return f"Workload({self.name!r}, layers={len(self)}, macs={self.macs:,})"
