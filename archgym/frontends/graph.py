"""The tensor graph behind `from_torch` and `from_onnx`: which row produced each tensor, element-wise
rows, fusion.

`Builder` follows the tensors of one model run, whichever frontend reads it (a tensor is a `Ref`: a
key unique in the run and its shape). An op that recorded rows (conv, linear, matmul, pooling)
produces its output tensor; element-wise ops become `add` (binary element-wise: add, sub, mul, div or
a comparison of two tensors, a select between two) and `act` rows (ELEMENTWISE_OPS element ops per
element; one per input element for reductions such as sum, for arithmetic or a comparison with a
scalar, and for a select, `where` or `masked_fill`, per element of its largest operand); ops that only
re-view or move data pass their input through. `Graph` maps torch calls onto it (FREE: the torch
calls passed through; a call reading no tensor computed from the model input makes a constant, known
before the model runs, as a mask compared from a buffer or torch.triu of ones; any other call that
makes a tensor is an error naming the op, so no op is ever costed at zero silently);
archgym.frontends.onnx_import maps ONNX nodes onto the same names. `RawGraph.finish` folds batch
norms that directly follow a conv or linear into it, fuses an activation onto the stream of the MAC
row it follows (POST) or precedes (PRE) when that row is its only producer or consumer, and computes
the feature-map context (table.feature_context) from the graph.

Zero-cost ops and why (also in docs/systolic.md): re-views and copies (FREE) move no data through
an arithmetic unit (an accelerator's address generators handle them); dropout is the identity at
inference; a batch norm right after a conv or linear folds into its weights; adding 0 or multiplying
by 1 is the identity; multiplying by 0 (NB201's `none` edge) makes a constant zero tensor, and adding
a zero tensor is the identity.
"""
from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from archgym.core.errors import WorkloadError
from archgym.core.workloads.table import (ACT, ADD, CONV, KIND, LINEAR, MATMUL, N_COLUMNS, POST, PRE, Workload, act_row,
                                          add_row, feature_context, pool_row)

BINARY = {"add", "__add__", "__radd__", "__iadd__", "add_", "sub", "__sub__", "__rsub__", "__isub__", "sub_",
          "mul", "__mul__", "__rmul__", "__imul__", "mul_", "div", "__truediv__", "__rtruediv__", "__itruediv__",
          "__rdiv__", "div_", "true_divide", "eq", "__eq__", "ne", "__ne__", "lt", "__lt__", "le", "__le__", "gt", "__gt__",
          "ge", "__ge__"}
COMPARISONS = {"eq", "ne", "lt", "le", "gt", "ge"}  # BINARY's comparisons, by base name
IDENTITY_SCALAR = {"add": 0, "sub": 0, "mul": 1, "div": 1}  # x op s == x
# BINARY's arithmetic by base name -> IDENTITY_SCALAR's op; the reflected ones (s - x, s / x) swap their operands
ARITHMETIC = {"radd": "add", "iadd": "add", "isub": "sub", "rmul": "mul", "imul": "mul", "truediv": "div",
              "itruediv": "div", "true_divide": "div"}
REFLECTED = {"rsub": "sub", "rtruediv": "div", "rdiv": "div"}
# Element ops per element on the vector unit: comparisons for the ReLU family (one per bound), scale
# and shift for normalisations (plus mean and variance where they are computed at inference), and
# a table lookup with linear interpolation (4 ops: index, two reads' blend) for transcendental ones.
ELEMENTWISE_OPS = {"relu": 1, "relu_": 1, "threshold": 1, "relu6": 2, "hardtanh": 2, "hardtanh_": 2,
                   "leaky_relu": 2, "leaky_relu_": 2, "hardsigmoid": 3, "hardswish": 3, "sigmoid": 4, "tanh": 4,
                   "gelu": 4, "silu": 5, "softmax": 4, "log_softmax": 4, "batch_norm": 2, "layer_norm": 5,
                   "group_norm": 5, "instance_norm": 5, "reciprocal": 1}
FREE = {"view", "view_as", "reshape", "reshape_as", "flatten", "unflatten", "squeeze", "unsqueeze", "permute",
        "transpose", "t", "contiguous", "clone", "detach", "to", "type", "float", "half", "double", "expand",
        "expand_as", "chunk", "split", "narrow", "select", "__getitem__", "unbind", "cat", "concat", "stack",
        "dropout", "dropout_", "dropout2d", "identity", "pad", "__get__", "__set__"}
REDUCTIONS = {"sum", "mean", "amax", "amin", "max", "min", "prod", "logsumexp"}  # one op per input element
ATTENTION = {"scaled_dot_product_attention", "multi_head_attention_forward"}  # rows wired by Graph._attention
# where(condition, x, y) and masked_fill(x, mask, value) -> their arguments' positions of (condition, x, y)
SELECT = {"where": (0, 1, 2), "Tensor.where": (1, 0, 2), "masked_fill": (1, 2, 0), "masked_fill_": (1, 2, 0)}
POOLS = {"adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool2d", "max_pool2d", "_max_pool2d",
         "max_pool2d_with_indices"}


@dataclass(frozen=True)
class Ref:
    """A tensor as the graph sees it: a key unique in one model run, and its shape."""
    key: Hashable
    shape: tuple[int, ...]

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


Operand = Ref | float | int | None  # a tensor, or a scalar (None: a scalar of unknown value)


class Builder:
    """The rows of one model run and their graph, frontend-neutral: `rows` holds (name, row) pairs,
    `inputs[r]` the rows row r reads, `producers` the rows whose outputs each tensor holds."""

    def __init__(self):
        self.rows: list[tuple[str, np.ndarray]] = []
        self.producers: dict[Hashable, tuple[int, ...]] = {}  # tensor key -> rows whose outputs it holds
        self.zero: set[Hashable] = set()  # constant zero tensors
        self.inputs: list[tuple[int, ...]] = []  # per row: the rows it reads
        self.act_names: dict[int, str] = {}  # act row -> the op it came from

    def add(self, kind: str, row) -> None:
        self.rows.append((f"{kind}{len(self.rows)}", row))

    def source(self, x: Ref) -> tuple[int, ...]:
        return self.producers.get(x.key, (-1,))

    def produce(self, outs: list[Ref], rows: tuple[int, ...], zero: bool = False) -> None:
        for t in outs:
            self.producers[t.key] = rows
            if zero:
                self.zero.add(t.key)

    def recorded(self, first: int, reads: list[Ref], outs: list[Ref], layers: int = 1) -> None:
        """rows[first:] were recorded by one op (a MAC or pooling op) reading `reads` and making `outs`;
        with `layers` > 1 they are that many stacked layers (an RNN's), each reading the one before, and
        the outputs after the first (the RNN's final states) hold every layer's."""
        srcs = tuple(s for x in reads for s in self.source(x))
        per = (len(self.rows) - first) // layers
        for i in range(len(self.rows) - first):
            self.inputs.append(srcs if i < per else (first + (i // per) * per - 1,))
        self.produce(outs[:1], (len(self.rows) - 1,))
        self.produce(outs[1:], tuple(first + (g + 1) * per - 1 for g in range(layers)))

    def passthrough(self, ins: list[Ref], outs: list[Ref]) -> None:
        """A re-view, copy or constant: its outputs hold what its inputs held (constants: no row)."""
        merged = tuple(dict.fromkeys(s for x in ins for s in self.source(x))) or (-1,)
        self.produce(outs, merged, zero=bool(ins) and all(x.key in self.zero for x in ins))

    def act(self, name: str, ops: int, x: Ref, outs: list[Ref]) -> None:
        """An element-wise op of `ops` element ops per element of x."""
        self.add("act", act_row(*hwc(x.shape), ops))
        self.inputs.append(self.source(x))
        self.act_names[len(self.rows) - 1] = name
        self.produce(outs, (len(self.rows) - 1,))

    def global_pool(self, x: Ref, outs: list[Ref]) -> None:
        """Global average pooling of a square NCHW map."""
        h, w, c = hwc(x.shape)
        self.add("pool", pool_row(h, w, c, h))
        self.inputs.append(self.source(x))
        self.produce(outs, (len(self.rows) - 1,))

    def binary(self, op: str, a: Operand, b: Operand, out: Ref) -> None:
        """a op b: arithmetic (add, sub, mul, div: IDENTITY_SCALAR's keys), a comparison (COMPARISONS) or a
        select (`select`'s)."""
        arithmetic = op not in COMPARISONS and op != "where"  # identities and zero operands hold for arithmetic only
        if not isinstance(b, Ref) or not isinstance(a, Ref):  # with a scalar
            x, s = (a, b) if isinstance(a, Ref) else (b, a)
            identity = IDENTITY_SCALAR.get(op) == s and (x is a or op in ("add", "mul"))  # 0 - x and 1 / x are not x
            if arithmetic and op == "mul" and s == 0:
                self.produce([out], (-1,), zero=True)
            elif arithmetic and (identity or x.key in self.zero):
                self.produce([out], self.source(x), zero=x.key in self.zero)
            else:
                self.act(op, 1, x, [out])
            return
        za, zb = arithmetic and a.key in self.zero, arithmetic and b.key in self.zero
        if za or zb:  # a zero operand: add/sub pass the other through, mul gives zero
            if op == "mul" or (za and zb):
                self.produce([out], (-1,), zero=True)
            else:
                self.produce([out], self.source(b if za else a))
            return
        if a.numel != b.numel:  # a broadcast operand (a bias, a scale): one op per element of the larger
            self.act(op, 1, a if a.numel >= b.numel else b, [out])
            return
        self.add("add", add_row(*hwc(a.shape)))
        self.inputs.append((self.source(a)[0], self.source(b)[0]))
        self.produce([out], (len(self.rows) - 1,))

    def select(self, cond: Operand, a: Operand, b: Operand, out: Ref) -> None:
        """where(cond, a, b) (masked_fill(b, cond, a): a causal mask), as a binary op of its two largest tensors (a
        third of their size, all three computed from the input, adds no op: only its edge in the graph is left out)."""
        # one op per element: a ReLU's compare-and-select, its comparison made apart (a constant mask's before the run)
        tensors = sorted((x for x in (a, b, cond) if isinstance(x, Ref)), key=lambda x: -x.numel)
        self.binary("where", *[*tensors, None][:2], out)

    def raw(self, name: str, outs: list[Ref]) -> "RawGraph":
        """What was recorded, before fusion (`outs`: the model's outputs)."""
        rows = self.rows
        table = np.stack([r for _, r in rows]) if rows else np.zeros((0, N_COLUMNS), np.int64)
        outputs = tuple(sorted({s for t in outs for s in self.producers.get(t.key, ()) if s >= 0}))
        return RawGraph(name, table, tuple(n for n, _ in rows), list(self.inputs), dict(self.act_names), outputs)


class Graph(Builder):
    """The builder fed by from_torch: every torch call it sees, by torch name (tensors by id, kept alive)."""

    def __init__(self, is_tensor):
        super().__init__()
        self.is_tensor = is_tensor
        self.keep: list = []
        self.variable: set[Hashable] = set()  # tensors computed from the model input (the others are constants)

    def input(self, values) -> None:
        """`values` (a tensor, or tensors in a tuple or list) are the model's input."""
        self.variable.update(t.key for t in self.refs(values))

    def ref(self, t) -> Ref:
        self.keep.append(t)
        return Ref(id(t), tuple(int(d) for d in t.shape))

    def operand(self, value) -> Operand:
        """A call's argument as a binary op's operand: a tensor's Ref, else the scalar itself."""
        return self.ref(value) if self.is_tensor(value) else value

    def refs(self, values) -> list[Ref]:
        """The tensors among `values` and in the lists among them (torch.cat's, an RNN's states)."""
        values = values if isinstance(values, (tuple, list)) else (values,)
        flat = [t for v in values for t in (v if isinstance(v, (tuple, list)) else (v,))]
        return [self.ref(t) for t in flat if self.is_tensor(t)]

    def after(self, func, args, kwargs, out, first: int, layers: int = 1) -> None:
        """Called after every torch call: rows[first:] are the rows the call recorded (`layers` stacked
        layers of an RNN)."""
        tensors = self.refs([*args, *kwargs.values()])
        outs = self.refs(out)
        name = getattr(func, "__name__", "")
        if name == "where" and getattr(func, "__qualname__", "").startswith("TensorBase."):
            name = "Tensor.where"  # x.where(condition, y)
        variable = any(t.key in self.variable for t in tensors)
        if variable or len(self.rows) > first:  # recorded rows run with the model; __setitem__ writes its first operand
            self.variable.update(t.key for t in outs + (tensors[:1] if name == "__setitem__" else []))
        if len(self.rows) > first and name in ATTENTION:
            self._attention(first, name == "multi_head_attention_forward", *tensors[:3], outs)
        elif len(self.rows) > first:  # a MAC or pooling call: its rows read its tensor arguments
            self.recorded(first, tensors, outs, layers)
        if len(self.rows) > first or not outs:
            return  # recorded, or sizes, shapes, flags
        if name in POOLS and tensors and tensors[0].shape[-2:] == outs[0].shape[-2:]:
            name = "identity"  # pooling a 1 x 1 map, or to its own size
        pool = name == "mean" and bool(tensors) and is_global_pool(tensors[0].shape, kwargs.get("dim", args[1] if len(args) > 1 else None))
        if name in FREE or not tensors:
            self.passthrough(tensors, outs)  # constants have no producer
        elif not variable:
            self.produce(outs, (-1,))  # computed from constants only: a constant, as ONNX's constant nodes are
        elif name in BINARY:
            a, b = args[0], args[1] if len(args) > 1 else None
            op = _base(name)
            if op in REFLECTED:
                self.binary(REFLECTED[op], self.operand(b), self.operand(a), outs[0])
            else:
                self.binary(ARITHMETIC.get(op, op), self.operand(a), self.operand(b), outs[0])
        elif name in SELECT and len(args) + len(kwargs) == 3:
            values = [*args, *kwargs.values()]
            self.select(*(self.operand(values[i]) for i in SELECT[name]), outs[0])
        elif name in ELEMENTWISE_OPS:
            self.act(name, ELEMENTWISE_OPS[name], tensors[0], outs)
        elif name in REDUCTIONS and not pool:
            self.act(name, 1, tensors[0], outs)
        elif pool:
            self.global_pool(tensors[0], outs)
        else:
            raise WorkloadError(f"from_torch: cannot cost the torch op {name!r} (after layer {len(self.rows) - 1}); "
                                "only convolutions, linear layers, matmuls, pooling, element-wise arithmetic, "
                                "activations, normalisations and data re-views are modelled")

    def _attention(self, first: int, proj: bool, q: Ref, k: Ref, v: Ref, outs: list[Ref]) -> None:
        """Wire the rows of an attention call: [Q, K, V projections (`proj`),] Q·Kᵀ, its scale, [its mask,] its
        softmax, A·V[, the output projection (`proj`)]."""
        qkv = [self.source(q), self.source(k), self.source(v)]
        reads, qkv = (qkv, [(first,), (first + 1,), (first + 2,)]) if proj else ([], qkv)
        s = first + len(reads)  # the Q·Kᵀ row
        av = len(self.rows) - 1 - proj  # the A·V row
        reads += [qkv[0] + qkv[1], *((r,) for r in range(s, av - 1)), (av - 1,) + qkv[2]] + ([(av,)] if proj else [])
        self.inputs += reads
        self.act_names.update({s + 1: "mul", av - 1: "softmax"} | {r: "where" for r in range(s + 2, av - 1)})
        self.produce(outs, (len(self.rows) - 1,))


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


def _base(name: str) -> str:
    return name.strip("_").rstrip("_") if name.startswith("__") else name.rstrip("_")


def is_global_pool(shape: tuple, dims) -> bool:
    """A mean over dims (2, 3) of a square NCHW map: global average pooling."""
    d = tuple(dims) if isinstance(dims, (tuple, list)) else dims
    return len(shape) == 4 and d in ((2, 3), (-2, -1)) and shape[-1] == shape[-2]


def hwc(shape: tuple) -> tuple[int, int, int]:
    """(h, w, c) of a tensor: NCHW feature maps, (..., features) token tensors as tokens x 1 x features."""
    if len(shape) == 4:
        return int(shape[2]), int(shape[3]), int(shape[1])
    if len(shape) >= 2:
        return int(math.prod(shape) // shape[-1]), 1, int(shape[-1])
    return 1, 1, int(math.prod(shape))
