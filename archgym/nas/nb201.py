"""NAS-Bench-201 (Dong & Yang, ICLR 2020): the cell encoding, the official index, and the network space.

A cell has 4 nodes and 6 edges; node j is the sum of op(node i) over its incoming edges i -> j, and
node 3 is the cell's output. Every edge carries one of 5 ops. The arch string lists the edges node
by node, `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|` (the group of node j lists its edges i -> j by source
i), so the edge order is 0->1, 0->2, 1->2, 0->3, 1->3, 2->3 (NB201 README, "query the index of an
architecture by string"; xautodl `cell_infers/cells.py`).

The official index (0..15,624) is the position of a cell in the list of all 5^6 cells enumerated
in NB201's generation order (ops in NB201's order, last edge fastest), shuffled once by Python's
`random` seeded with 88 (AutoDL-Projects `exps/NAS-Bench-201/main.py`, `generate_meta_info`).
There is no closed form; `official_order` rebuilds the list (checked against NB201's own asserts,
HELP's `str_arch2idx` and HW-NAS-Bench's per-index configs; see tests/test_nb201.py).

The network space built on this encoding is `NB201Space` (nb201_space.py); the torch network is in
nb201_torch.py; layer tables are composed from recorded parts by nb201_compose.py.
"""
from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from archgym.core.errors import DesignError

# NB201's op list, in its order (xautodl models/cell_operations.py, `NAS_BENCH_201`).
OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
# (source, target) node of each edge, in arch-string order.
EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
EDGE_NAMES = tuple(f"edge_{i}_{j}" for i, j in EDGES)
N_ARCHS = len(OPS) ** len(EDGES)  # 15,625
SHUFFLE_SEED = 88  # AutoDL-Projects exps/NAS-Bench-201/main.py: random.seed(88); random.shuffle(...)

# NASLib's encoding (automl/NASLib naslib/search_spaces/nasbench201/conversions.py), used by
# AnalogNAS-Bench's keys: op codes 0 skip, 1 none, 2 conv3x3, 3 conv1x1, 4 avg_pool, over the edges
# (1,2),(1,3),(1,4),(2,3),(2,4),(3,4) in 1-based nodes, i.e. NB201 edges 0->1, 0->2, 0->3, 1->2, 1->3, 2->3.
NASLIB_OPS = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
NASLIB_EDGES = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))

# The macro skeleton (xautodl models/cell_infers/tiny_network.py with C=16, N=5): 3 stages of 5
# cells at 16, 32, 64 channels and 32, 16, 8 pixels on a 3 x 32 x 32 CIFAR image, 10 classes.
STAGE_CHANNELS = (16, 32, 64)
STAGE_SIZES = (32, 16, 8)
CELLS_PER_STAGE = 5
IN_CHANNELS, NUM_CLASSES = 3, 10


# --- the encoding ---------------------------------------------------------------------------------------
def to_string(ops: Sequence[str]) -> str:
    """Six op names in edge order -> the NB201 arch string."""
    ops = check_ops(ops)
    parts = [f"{op}~{i}" for op, (i, _) in zip(ops, EDGES)]
    return "|{}|+|{}|{}|+|{}|{}|{}|".format(*parts)


def check_ops(ops: Sequence[str]) -> tuple[str, ...]:
    """Six op names, validated; ArchGymError naming the edge and the allowed ops."""
    if isinstance(ops, str) or not isinstance(ops, Sequence) or len(ops) != len(EDGES):
        raise DesignError(f"an NB201 cell needs {len(EDGES)} ops, one per edge {', '.join(EDGE_NAMES)}; got {ops!r}")
    for name, op in zip(EDGE_NAMES, ops):
        if op not in OPS:
            raise DesignError(f"{name}: unknown op {op!r}; allowed ops: {', '.join(OPS)}")
    return tuple(ops)


def parse(arch: str) -> tuple[str, ...]:
    """An NB201 arch string -> its six op names in edge order. Errors name the node or edge at fault."""
    if not isinstance(arch, str):
        raise DesignError(f"an NB201 arch string must be a str, got {type(arch).__name__}")
    nodes = arch.split("+")
    if len(nodes) != 3:
        raise DesignError(f"NB201 arch string {arch!r} has {len(nodes)} node groups separated by '+', expected 3 "
                          "(nodes 1, 2, 3), e.g. |nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|")
    ops = []
    for j, group in enumerate(nodes, start=1):
        if not (group.startswith("|") and group.endswith("|")):
            raise DesignError(f"NB201 arch string {arch!r}: node {j}'s group {group!r} must start and end with '|'")
        edges = group[1:-1].split("|")
        if len(edges) != j:
            raise DesignError(f"NB201 arch string {arch!r}: node {j} has {len(edges)} incoming edges, expected {j} "
                              f"(one from each of nodes 0..{j - 1})")
        for i, edge in enumerate(edges):
            op, sep, src = edge.partition("~")
            if not sep or src != str(i):
                raise DesignError(f"NB201 arch string {arch!r}: edge {edge!r} into node {j} must be 'op~{i}'")
            if op not in OPS:
                raise DesignError(f"NB201 arch string {arch!r}: edge_{i}_{j}: unknown op {op!r}; "
                                  f"allowed ops: {', '.join(OPS)}")
            ops.append(op)
    # groups list edges by target node; EDGES is the same order
    return tuple(ops)


@lru_cache(maxsize=1)
def official_order() -> tuple[str, ...]:
    """Arch strings by official NB201 index (NB201's generation order shuffled with seed 88)."""
    archs = [to_string(ops) for ops in itertools.product(OPS, repeat=len(EDGES))]
    random.Random(SHUFFLE_SEED).shuffle(archs)
    return tuple(archs)


@lru_cache(maxsize=1)
def _index_maps() -> tuple[np.ndarray, np.ndarray]:
    """(official index -> architecture number, architecture number -> official index)."""
    number = {to_string(ops): n for n, ops in enumerate(itertools.product(OPS, repeat=len(EDGES)))}
    by_index = np.array([number[s] for s in official_order()], dtype=np.int64)
    by_number = np.empty_like(by_index)
    by_number[by_index] = np.arange(N_ARCHS)
    by_index.setflags(write=False)
    by_number.setflags(write=False)
    return by_index, by_number


def check_index(index) -> int:
    """An official NB201 index as an int; ArchGymError unless it is an integer in 0..15,624."""
    if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)) or not 0 <= index < N_ARCHS:
        raise DesignError(f"NB201 index must be an integer in 0..{N_ARCHS - 1}, got {index!r}")
    return int(index)


def number_of_index(index) -> np.ndarray | int:
    """Official index (or array of them) -> architecture number (row-major position in NB201Space)."""
    if np.ndim(index) == 0:
        return int(_index_maps()[0][check_index(index)])
    index = np.asarray(index)
    if index.dtype.kind not in "iu" or ((index < 0) | (index >= N_ARCHS)).any():
        raise DesignError(f"NB201 indices must be integers in 0..{N_ARCHS - 1}")
    return _index_maps()[0][index]


def index_of_number(number) -> np.ndarray | int:
    """Architecture number (or array of them) -> official NB201 index."""
    out = _index_maps()[1][np.asarray(number, dtype=np.int64)]
    return int(out) if np.ndim(number) == 0 else out


def ops_of_number(number: int) -> tuple[str, ...]:
    digits = np.unravel_index(int(number), (len(OPS),) * len(EDGES))
    return tuple(OPS[int(d)] for d in digits)


def number_of_ops(ops: Sequence[str]) -> int:
    return int(np.ravel_multi_index([OPS.index(o) for o in check_ops(ops)], (len(OPS),) * len(EDGES)))


def from_naslib(op_indices: Sequence[int]) -> tuple[str, ...]:
    """A NASLib `op_indices` tuple (AnalogNAS-Bench's key) -> six NB201 op names in edge order."""
    if len(op_indices) != len(EDGES) or any(not 0 <= int(k) < len(NASLIB_OPS) for k in op_indices):
        raise DesignError(f"NASLib op_indices need 6 codes in 0..4, got {tuple(op_indices)!r}")
    by_edge = {e: NASLIB_OPS[int(k)] for e, k in zip(NASLIB_EDGES, op_indices)}
    return tuple(by_edge[e] for e in EDGES)


def to_naslib(ops: Sequence[str]) -> tuple[int, ...]:
    by_edge = dict(zip(EDGES, check_ops(ops)))
    return tuple(NASLIB_OPS.index(by_edge[e]) for e in NASLIB_EDGES)


ZERO_PRESERVING = ("none", "skip_connect", "avg_pool_3x3")  # map an all-zero input to zero (a conv's BN does not)


def canonical_ops(ops: Sequence[str]) -> tuple[str, ...]:
    """The cell with every edge that cannot change its output set to `none`: edges whose output is
    zero (from a node that is always zero, through an op that keeps zero), and edges that reach no
    node feeding the output. Cells with the same canonical ops compute the same function, so their
    accuracies differ only by training noise (used by nb201_table.noise_std)."""
    ops = check_ops(ops)
    zero = {0: False}
    for j in (1, 2, 3):
        zero[j] = all(op == "none" or (zero[i] and op in ZERO_PRESERVING) for (i, t), op in zip(EDGES, ops) if t == j)
    effective = [op != "none" and not (zero[i] and op in ZERO_PRESERVING) for (i, _), op in zip(EDGES, ops)]
    feeds = {3}
    for (i, j), eff in reversed(list(zip(EDGES, effective))):  # edges sorted by target: one backward pass
        if eff and j in feeds:
            feeds.add(i)
    return tuple(op if eff and j in feeds else "none" for (_, j), op, eff in zip(EDGES, ops, effective))
