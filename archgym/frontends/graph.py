"""The tensor graph behind `from_torch`: which row produced each tensor, element-wise rows, fusion.

`Graph` follows every torch call from_torch sees. A call that recorded rows (conv, linear, matmul,
pooling) produces its output tensor; element-wise calls become `add` (binary element-wise: add,
sub, mul, div of two tensors) and `act` rows (ELEMENTWISE_OPS element ops per element; one per
input element for reductions such as sum, and for arithmetic with a scalar); calls that
only re-view or move data (FREE) pass their input through; any other call that makes a tensor is an
error naming the op, so no op is ever costed at zero silently. `RawGraph.finish` folds batch norms that
directly follow a conv or linear into it, fuses an activation onto the stream of the MAC row it
follows (POST) or precedes (PRE) when that row is its only producer or consumer, and computes the
feature-map context (table.feature_context) from the graph.

Zero-cost ops and why (also in docs/systolic.md): re-views and copies (FREE) move no data through
an arithmetic unit (an accelerator's address generators handle them); dropout is the identity at
inference; a batch norm right after a conv or linear folds into its weights; adding 0 or multiplying
by 1 is the identity; multiplying by 0 (NB201's `none` edge) makes a constant zero tensor, and adding
a zero tensor is the identity.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archgym.core.errors import WorkloadError
from archgym.core.workloads.table import (ACT, ADD, CONV, KIND, LINEAR, MATMUL, N_COLUMNS, POST, PRE, Workload, act_row,
                                          add_row, feature_context, pool_row)

BINARY = {"add", "__add__", "__radd__", "__iadd__", "add_", "sub", "__sub__", "__rsub__", "__isub__", "sub_",
          "mul", "__mul__", "__rmul__", "__imul__", "mul_", "div", "__truediv__", "__rtruediv__", "__itruediv__",
          "div_", "true_divide"}
IDENTITY_SCALAR = {"add": 0, "sub": 0, "mul": 1, "div": 1}  # x op s == x
# Element ops per element on the vector unit: comparisons for the ReLU family (one per bound), scale
# and shift for normalisations (plus mean and variance where they are computed at inference), and
# a table lookup with linear interpolation (4 ops: index, two reads' blend) for transcendental ones.
ELEMENTWISE_OPS = {"relu": 1, "relu_": 1, "threshold": 1, "relu6": 2, "hardtanh": 2, "hardtanh_": 2,
                   "leaky_relu": 2, "leaky_relu_": 2, "hardsigmoid": 3, "hardswish": 3, "sigmoid": 4, "tanh": 4,
                   "gelu": 4, "silu": 5, "softmax": 4, "log_softmax": 4, "batch_norm": 2, "layer_norm": 5,
                   "group_norm": 5, "instance_norm": 5}
FREE = {"view", "view_as", "reshape", "reshape_as", "flatten", "unflatten", "squeeze", "unsqueeze", "permute",
        "transpose", "t", "contiguous", "clone", "detach", "to", "type", "float", "half", "double", "expand",
        "expand_as", "chunk", "split", "narrow", "select", "__getitem__", "unbind", "cat", "concat", "stack",
        "dropout", "dropout_", "dropout2d", "identity", "pad", "__get__", "__set__"}
REDUCTIONS = {"sum", "mean", "amax", "amin", "max", "min", "prod", "logsumexp"}  # one op per input element
POOLS = {"adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool2d", "max_pool2d", "_max_pool2d",
         "max_pool2d_with_indices"}


def _base(name: str) -> str:
    return name.strip("_").rstrip("_") if name.startswith("__") else name.rstrip("_")


class Graph:
    """Producers of the tensors of one from_torch run (by tensor id; the tensors are kept alive)."""

    def __init__(self, is_tensor):
        self.is_tensor = is_tensor
        self.producers: dict[int, tuple[int, ...]] = {}  # tensor id -> rows whose outputs it holds
        self.zero: set[int] = set()  # constant zero tensors
        self.inputs: list[tuple[int, ...]] = []  # per row: the rows it reads
        self.act_names: dict[int, str] = {}  # act row -> the torch op it came from
        self.keep: list = []

    def _sources(self, args) -> list[tuple[int, ...]]:
        return [self.producers.get(id(a), (-1,)) for a in args if self.is_tensor(a)]

    def _produce(self, out, rows: tuple[int, ...]) -> None:
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if self.is_tensor(t):
                self.keep.append(t)
                self.producers[id(t)] = rows

    def after(self, func, args, kwargs, out, rows: list, first: int, add) -> None:
        """Called after every torch call: rows[first:] are the rows the call recorded; `add(kind, row)`
        appends a row."""
        tensors = [a for a in (*args, *kwargs.values()) if self.is_tensor(a)]
        srcs = self._sources(tensors)
        if len(rows) > first:  # a MAC or pooling call: its rows read its tensor arguments
            for _ in range(first, len(rows)):
                self.inputs.append(tuple(s for src in srcs for s in src))
            self._produce(out, (len(rows) - 1,))
            return
        if not any(self.is_tensor(t) for t in (out if isinstance(out, (tuple, list)) else (out,))):
            return  # sizes, shapes, flags
        name = getattr(func, "__name__", "")
        if name in POOLS and tensors and tensors[0].shape[-2:] == out.shape[-2:]:
            name = "identity"  # pooling a 1 x 1 map, or to its own size
        if name in BINARY:
            self._binary(_base(name), args, out, rows, add)
        elif name in ELEMENTWISE_OPS:
            self._act(name, ELEMENTWISE_OPS[name], tensors, out, rows, add)
        elif name in REDUCTIONS and not (name == "mean" and _global_pool(tensors[0], args, kwargs)):
            self._act(name, 1, tensors, out, rows, add)
        elif name in FREE or not tensors:
            merged = tuple(dict.fromkeys(s for src in srcs for s in src)) or (-1,)
            self._produce(out, merged)  # passes its inputs through (constants have no producer)
            if tensors and all(id(t) in self.zero for t in tensors):
                self.zero.add(id(out))
        elif name == "mean" and _global_pool(tensors[0], args, kwargs):
            h, w, c = _hwc(tensors[0])
            add("pool", pool_row(h, w, c, h))
            self.inputs.append(srcs[0])
            self._produce(out, (len(rows) - 1,))
        else:
            raise WorkloadError(f"from_torch: cannot cost the torch op {name!r} (after layer {len(rows) - 1}); "
                                "only convolutions, linear layers, matmuls, pooling, element-wise arithmetic, "
                                "activations, normalisations and data re-views are modelled")

    def _binary(self, op, args, out, rows, add) -> None:
        a, b = args[0], args[1] if len(args) > 1 else None
        tensors = [x for x in (a, b) if self.is_tensor(x)]
        if len(tensors) == 1:  # with a scalar
            x = tensors[0]
            s = b if x is a else a
            if op in ("mul",) and s == 0:
                self._produce(out, (-1,))
                self.zero.add(id(out))
            elif IDENTITY_SCALAR.get(op) == s or id(x) in self.zero:
                self._produce(out, self.producers.get(id(x), (-1,)))
                if id(x) in self.zero:
                    self.zero.add(id(out))
            else:
                self._act(op, 1, [x], out, rows, add)
            return
        za, zb = id(a) in self.zero, id(b) in self.zero
        if za or zb:  # a zero operand: add/sub pass the other through, mul gives zero
            if op == "mul" or (za and zb):
                self._produce(out, (-1,))
                self.zero.add(id(out))
            else:
                self._produce(out, self.producers.get(id(b if za else a), (-1,)))
            return
        if a.numel() != b.numel():  # a broadcast operand (a bias, a scale): one op per element of the larger
            self._act(op, 1, [a if a.numel() >= b.numel() else b], out, rows, add)
            return
        add("add", add_row(*_hwc(a)))
        self.inputs.append(tuple(s for src in self._sources([a, b]) for s in src[:1]))
        self._produce(out, (len(rows) - 1,))

    def _act(self, name, ops, tensors, out, rows, add) -> None:
        x = tensors[0]
        add("act", act_row(*_hwc(x), ops))
        self.inputs.append(self.producers.get(id(x), (-1,)))
        self.act_names[len(rows) - 1] = name
        self._produce(out, (len(rows) - 1,))

    def raw(self, name: str, rows: list, out) -> "RawGraph":
        """What was recorded, before fusion (`out`: the model's output)."""
        table = np.stack([r for _, r in rows]) if rows else np.zeros((0, N_COLUMNS), np.int64)
        outs = tuple(sorted({s for t in (out if isinstance(out, (tuple, list)) else (out,)) if self.is_tensor(t)
                             for s in self.producers.get(id(t), ()) if s >= 0}))
        return RawGraph(name, table, tuple(n for n, _ in rows), list(self.inputs), dict(self.act_names), outs)


@dataclass(frozen=True, eq=False)
class RawGraph:
    """The rows a model run recorded, before fusion, and their graph: `inputs[r]` lists the rows whose
    outputs row r reads (-1: the model input, a constant or a parameter), `act_names` the torch op of
    each act row, `outputs` the rows whose outputs are the model's. Torch-free: a network made of
    recorded parts (archgym.nas.nb201_compose) is wired here and finished like from_torch's own."""
    name: str
    table: np.ndarray
    names: tuple[str, ...]
    inputs: list[tuple[int, ...]]
    act_names: dict[int, str]
    outputs: tuple[int, ...]

    def finish(self) -> Workload:
        """The workload: batch norms after MAC rows folded, activations fused, feature context."""
        table = np.array(self.table, dtype=np.int64).reshape(-1, N_COLUMNS)
        names = self.names
        inputs = [src if table[r, KIND] == ADD else (tuple(s for s in src if s >= 0) or (-1,))
                  for r, src in enumerate(self.inputs)]
        acts = self.act_names
        consumers: dict[int, list[int]] = {}
        for r, src in enumerate(inputs):
            for s in set(src):
                if s >= 0:
                    consumers.setdefault(s, []).append(r)
        mac = (CONV, LINEAR, MATMUL)
        gone: dict[int, int] = {}  # fused row -> the row that absorbed it
        for r in range(len(table)):
            if table[r, KIND] != ACT or len(set(inputs[r])) != 1:
                continue
            p = inputs[r][0]
            p = gone.get(p, p)
            if p >= 0 and table[p, KIND] in mac and consumers.get(inputs[r][0], []) == [r]:
                if acts.get(r) != "batch_norm":  # a batch norm after a MAC row folds into its weights
                    table[p, POST] += table[r, POST]
                gone[r] = p
                continue
            users = consumers.get(r, [])
            if len(users) == 1 and table[users[0], KIND] in mac and len(set(inputs[users[0]])) == 1:
                table[users[0], PRE] += table[r, POST]
                inputs[users[0]] = inputs[r]
                gone[r] = -2  # absorbed by its consumer
        keep = [r for r in range(len(table)) if r not in gone]
        renum = {r: i for i, r in enumerate(keep)}

        def resolve(s):
            while s in gone and gone[s] >= 0:
                s = gone[s]
            return renum.get(s, -1)
        new_inputs = []
        for r in keep:
            src = tuple(resolve(s) if s >= 0 else -1 for s in inputs[r])
            new_inputs.append(src if table[r, KIND] == ADD else (tuple(dict.fromkeys(s for s in src if s >= 0)) or (-1,)))
        outs = {resolve(s) for s in self.outputs}
        return Workload(self.name, feature_context(table[keep], new_inputs, outs), tuple(names[r] for r in keep))


def _global_pool(x, args, kwargs) -> bool:
    """x.mean((2, 3)) of a square NCHW map: global average pooling."""
    d = kwargs.get("dim", args[1] if len(args) > 1 else None)
    d = tuple(d) if isinstance(d, (tuple, list)) else d
    return x.dim() == 4 and d in ((2, 3), (-2, -1)) and x.shape[-1] == x.shape[-2]


def _hwc(x) -> tuple[int, int, int]:
    """(h, w, c) of a tensor: NCHW feature maps, (..., features) token tensors as tokens x 1 x features."""
    if x.dim() == 4:
        return int(x.shape[2]), int(x.shape[3]), int(x.shape[1])
    if x.dim() >= 2:
        return int(x.numel() // x.shape[-1]), 1, int(x.shape[-1])
    return 1, 1, int(x.numel())

