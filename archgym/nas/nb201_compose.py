"""NAS-Bench-201 layer tables composed from parts that `trace_torch` recorded, without torch.

A network's layer table is not a concatenation of per-edge tables: from_torch fuses an activation
onto the MAC row before or after it only when that row is its sole producer or consumer, adds a row
for each node sum of two live tensors, and gives every row its feature-map context (the elements
alive over the life of its input and output tensors: IN_OCC, IN2_OCC, OUT_OCC), all of which depend
on the cell's other edges and on the neighbouring cells. So the parts are recorded *before* fusion
(`RawParts`: the stem, the two reductions, the head, and each op at each stage, with the rows each
row reads), wired here exactly as `nb201_torch.Cell.forward` and `NB201Network.forward` run them
(node sums and NB201's `none` edge follow archgym.frontends.graph's rules: adding a zero tensor is
the identity, an op on a zero tensor reads it like a model input), and finished by the frontend's
own `RawGraph.finish`: the same fusion and context code from_torch runs.

`compose_all` does this once for all 15,625 networks (`scripts/build_nb201_table.py --blocks`,
which checks it against from_torch) and keeps each network as a sequence of ids into its unique
rows-in-context (`Networks`); an env costs each unique row once per hardware design.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from archgym.core.errors import ArchGymError
from archgym.core.workloads.table import ACT, ADD, KIND, KINDS, N_COLUMNS, add_row
from archgym.frontends.graph import RawGraph
from archgym.nas.nb201 import CELLS_PER_STAGE, EDGES, N_ARCHS, OPS, STAGE_CHANNELS, STAGE_SIZES, check_ops, ops_of_number

FIXED_PARTS = ("stem", "reduction_1", "reduction_2", "head")
N_PARTS = len(FIXED_PARTS) + len(STAGE_CHANNELS) * len(OPS)
INPUT, ZERO = -1, -2  # a part's output that is its input (skip_connect), or a zero tensor (none)
UNUSED = -2  # the second operand slot of a row that reads one tensor


def op_part(stage: int, op: int) -> int:
    """Part id of op code `op` (index into OPS) at `stage`."""
    return len(FIXED_PARTS) + stage * len(OPS) + op


@dataclass(frozen=True)
class RawParts:
    """Parts as `trace_torch` records them, before fusion: part p's rows are rows[starts[p]:ends[p]];
    `reads[r]` the part-local rows row r reads (-1: the part's input; UNUSED: no second operand),
    `batch_norm[r]` whether an act row is a batch norm (it folds into a MAC row before it), and
    `outputs[p]` the part-local row holding its output (INPUT or ZERO for skip_connect and none)."""
    rows: np.ndarray        # (n, N_COLUMNS) int64
    reads: np.ndarray       # (n, 2) int64
    batch_norm: np.ndarray  # (n,) bool
    starts: np.ndarray      # (N_PARTS,) int64
    ends: np.ndarray
    outputs: np.ndarray


class _Tensor:
    """A tensor while wiring: the rows that produced it ((-1,): a model input or constant) and
    whether it is a constant zero."""
    __slots__ = ("producers", "zero")

    def __init__(self, producers: tuple[int, ...], zero: bool = False):
        self.producers, self.zero = producers, zero


class _Wiring:
    """Rows, reads and activation names of a network being assembled from parts."""

    def __init__(self, parts: RawParts):
        self.parts = parts
        self.rows: list[np.ndarray] = []
        self.inputs: list[tuple[int, ...]] = []
        self.acts: dict[int, str] = {}

    def place(self, part: int, x: _Tensor) -> _Tensor:
        """Run part `part` on tensor x (its rows read x where the part read its input)."""
        p = self.parts
        off, lo, hi = len(self.rows), int(p.starts[part]), int(p.ends[part])
        for r in range(lo, hi):
            row, reads = p.rows[r], p.reads[r]
            self.rows.append(row)
            if row[KIND] == ADD:
                self.inputs.append(tuple(off + s if s >= 0 else x.producers[0] for s in reads))
            else:
                self.inputs.append((off + reads[0],) if reads[0] >= 0 else x.producers)
            if row[KIND] == ACT:
                self.acts[off + r - lo] = "batch_norm" if p.batch_norm[r] else "act"
        out = int(p.outputs[part])
        if out == INPUT:
            return x
        if out == ZERO:
            return _Tensor((-1,), True)
        return _Tensor((off + out,))

    def add(self, a: _Tensor, b: _Tensor, hwc: tuple[int, int, int]) -> _Tensor:
        """a + b as graph.Graph records it: a zero operand passes the other through."""
        if a.zero and b.zero:
            return _Tensor((-1,), True)
        if a.zero or b.zero:
            return _Tensor((b if a.zero else a).producers)
        self.rows.append(add_row(*hwc))
        self.inputs.append((a.producers[0], b.producers[0]))
        return _Tensor((len(self.rows) - 1,))

    def cell(self, stage: int, codes: Sequence[int], x: _Tensor) -> _Tensor:
        """nb201_torch.Cell.forward: node j sums its incoming edges' outputs in edge order."""
        hwc = (STAGE_SIZES[stage], STAGE_SIZES[stage], STAGE_CHANNELS[stage])
        nodes = [x]
        for j in (1, 2, 3):
            total = None
            for e, (i, target) in enumerate(EDGES):
                if target == j:
                    y = self.place(op_part(stage, codes[e]), nodes[i])
                    total = y if total is None else self.add(total, y, hwc)
            nodes.append(total)
        return nodes[3]

    def graph(self, name: str, out: _Tensor) -> RawGraph:
        table = np.stack(self.rows) if self.rows else np.zeros((0, N_COLUMNS), np.int64)
        names = tuple(f"{KINDS[k]}{i}" for i, k in enumerate(table[:, KIND]))
        return RawGraph(name, table, names, self.inputs, self.acts, tuple(s for s in out.producers if s >= 0))


def compose(ops: Sequence[str], parts: RawParts, name: str = "nb201") -> RawGraph:
    """The raw graph of the NB201 network with cell `ops`, as NB201Network.forward records it."""
    codes = [OPS.index(o) for o in check_ops(ops)]
    w = _Wiring(parts)
    x = w.place(0, _Tensor((-1,)))
    for s in range(len(STAGE_CHANNELS)):
        for _ in range(CELLS_PER_STAGE):
            x = w.cell(s, codes, x)
        x = w.place(1 + s if s < len(STAGE_CHANNELS) - 1 else len(FIXED_PARTS) - 1, x)
    return w.graph(name, x)


def compose_cell(stage: int, ops: Sequence[str], parts: RawParts) -> RawGraph:
    """The raw graph of one cell at `stage` run on a model input, as Cell.forward records it."""
    w = _Wiring(parts)
    return w.graph("cell", w.cell(stage, [OPS.index(o) for o in check_ops(ops)], _Tensor((-1,))))


@dataclass(frozen=True)
class Networks:
    """Every NB201 network's layer table, as ids into the unique rows-in-context they share:
    network number a runs rows[seq[offsets[a]:offsets[a + 1]]] (from_torch's table exactly)."""
    rows: np.ndarray     # (n_unique, N_COLUMNS) int64
    seq: np.ndarray      # (total,) int64
    offsets: np.ndarray  # (N_ARCHS + 1,) int64
    parts: RawParts

    def table(self, number: int) -> np.ndarray:
        return self.rows[self.seq[self.offsets[number]:self.offsets[number + 1]]]

    def row_counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR multiplicities (indptr (N_ARCHS + 1,), row ids, counts): network a uses unique row
        ids[indptr[a]:indptr[a + 1]] counts[...] times each."""
        arch = np.repeat(np.arange(N_ARCHS), np.diff(self.offsets))
        key, counts = np.unique(arch * len(self.rows) + self.seq, return_counts=True)
        indptr = np.searchsorted(key // len(self.rows), np.arange(N_ARCHS + 1))
        return indptr.astype(np.int64), (key % len(self.rows)).astype(np.int64), counts.astype(np.float64)


def compose_all(parts: RawParts, progress=None) -> Networks:
    """Compose and finish all 15,625 networks (about a minute); `progress(n)` after each."""
    index: dict[bytes, int] = {}
    seqs = []
    for number in range(N_ARCHS):
        table = compose(ops_of_number(number), parts).finish().table
        seqs.append([index.setdefault(r.tobytes(), len(index)) for r in table])
        if progress is not None:
            progress(number)
    rows = np.frombuffer(b"".join(index), dtype=np.int64).reshape(-1, N_COLUMNS)
    offsets = np.r_[0, np.cumsum([len(s) for s in seqs])].astype(np.int64)
    return Networks(rows.copy(), np.concatenate(seqs).astype(np.int64), offsets, parts)


NETWORKS_FILE = Path(__file__).resolve().parent.parent / "data" / "nas" / "nb201.blocks.npz"
_PART_KEYS = ("rows", "reads", "batch_norm", "starts", "ends", "outputs")


def write_networks(nets: Networks, path: str | Path = NETWORKS_FILE) -> None:
    p = nets.parts
    np.savez_compressed(path, rows=nets.rows.astype(np.int32), seq=nets.seq.astype(np.int16), offsets=nets.offsets,
                        **{f"part_{k}": getattr(p, k) for k in _PART_KEYS})


def read_networks(path: str | Path = NETWORKS_FILE) -> Networks:
    """The shipped tables (written by `scripts/build_nb201_table.py --blocks`, checked against
    from_torch in tests/test_nb201_network.py). No pickle: plain integer arrays."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            rows, seq, offsets = (z[k].astype(np.int64) for k in ("rows", "seq", "offsets"))
            parts = RawParts(*(z[f"part_{k}"] for k in _PART_KEYS))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ArchGymError(f"NB201 layer tables {path}: unreadable ({e}); rebuild them with "
                           "`python scripts/build_nb201_table.py --blocks`") from None
    if rows.ndim != 2 or rows.shape[1] != N_COLUMNS or offsets.shape != (N_ARCHS + 1,) or offsets[0] != 0 \
            or (np.diff(offsets) <= 0).any() or offsets[-1] != len(seq) or seq.min(initial=0) < 0 \
            or seq.max(initial=0) >= len(rows) or (rows[:, KIND] >= len(KINDS)).any() or len(parts.starts) != N_PARTS:
        raise ArchGymError(f"NB201 layer tables {path}: malformed (expected {N_ARCHS:,} networks of {N_COLUMNS}-column "
                           "rows); rebuild them with `python scripts/build_nb201_table.py --blocks`")
    for a in (rows, seq, offsets):
        a.setflags(write=False)
    return Networks(rows, seq, offsets, parts)
