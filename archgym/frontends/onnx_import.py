"""Read the layer table of an ONNX model, with shapes from the `onnx` package's shape inference.

    wl = archgym.workloads.from_onnx("resnet18.onnx")

Graph inputs with a symbolic batch dimension are taken at batch 1 (`input_shapes` fixes any input's
shape instead); below opset 14, where shape inference reads a Reshape's target shape only if it is
stored, targets computed from shapes (GroupNorm's export, dynamic-axes exports) are evaluated first.
The table is `from_torch`'s for the same model: the nodes feed the same graph builder
(archgym.frontends.graph), so element-wise rows, batch-norm folding, activation fusion and the
feature-map context follow the same rules. MAC and pooling rows: Conv (2-D as a convolution row, 1-D
as a 1 x L one, other ranks and dilated ones as their im2col GEMM), ConvTranspose as its col2im GEMM,
Gemm and MatMul (a linear row when one operand is a weight, derived from initializers only, its bias
Add folded in as torch's linear holds it; else an activation matmul with its batch dimensions as
heads), LSTM/GRU/RNN as input and recurrent GEMMs over every step, Max/AveragePool and square
GlobalAveragePool/GlobalMaxPool (and ReduceMean over H, W) as pooling rows. Element-wise nodes map
onto graph.py's torch names (ONNX_ACTIVATIONS, ONNX_BINARY with its comparisons, ONNX_REDUCTIONS, Where
as torch's where and masked_fill: a select per element; ONNX_FREE re-views pass through as graph.FREE's
do); exporter decompositions are read back as the torch op they came from:
x * Sigmoid(x) is `silu`, x * HardSigmoid(x) below opset 14 `hardswish`, GELU below opset 20 (its Erf
form and its Tanh approximation, in any order of the arithmetic, checked by value) `gelu`, LayerNorm
below opset 17 (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, then its weight's Mul and its bias's
Add; matched by structure) `layer_norm`, Reciprocal(x) times a scalar s one division (s / x), and the
Mul and Add by weights after a GroupNorm's InstanceNormalization are its affine part. Nodes whose inputs
are all constants (shape arithmetic, a causal mask's Trilu and Equal) are constants.

Nothing is dropped silently: an embedding lookup (a Gather from a weight table), an Einsum, quantised
or contributed ops that do MACs, control flow, and any node that makes a tensor and has no mapping
are errors naming the node, its op and its share of the model (of the MACs, or of the elements the
nodes compute, re-views aside).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from archgym.core import validate
from archgym.core.errors import WorkloadError
from archgym.core.workloads.table import (CONV, KIND, KINDS, LINEAR, MATMUL, Workload, conv_row, linear_row,
                                          matmul_row, pool_row)
from archgym.frontends.graph import ELEMENTWISE_OPS, Builder, Ref, is_global_pool
from archgym.frontends.onnx_shapes import inferred

# Ops whose value depends only on their inputs' values: a weight passed through them is still a weight.
_PASS_THROUGH = {"Identity", "Transpose", "Reshape", "Cast", "Squeeze", "Unsqueeze", "DequantizeLinear", "Flatten",
                 "Expand", "Unsqueeze", "Constant"}
_CONTROL_FLOW = {"If", "Loop", "Scan"}
_RNN_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
# ONNX element-wise ops -> the torch op (graph.ELEMENTWISE_OPS, graph.REDUCTIONS) of the same semantics
ONNX_ACTIVATIONS = {"Relu": "relu", "LeakyRelu": "leaky_relu", "HardSigmoid": "hardsigmoid", "HardSwish": "hardswish",
                    "Sigmoid": "sigmoid", "Tanh": "tanh", "Gelu": "gelu", "Softmax": "softmax",
                    "LogSoftmax": "log_softmax", "BatchNormalization": "batch_norm",
                    "LayerNormalization": "layer_norm", "GroupNormalization": "group_norm",
                    "InstanceNormalization": "instance_norm", "Reciprocal": "reciprocal"}
ONNX_BINARY = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div", "Equal": "eq", "Less": "lt", "LessOrEqual": "le",
               "Greater": "gt", "GreaterOrEqual": "ge"}
ONNX_REDUCTIONS = {"ReduceMean": "mean", "ReduceSum": "sum", "ReduceMax": "amax", "ReduceMin": "amin",
                   "ReduceProd": "prod", "ReduceLogSumExp": "logsumexp"}
# Re-views and copies, as graph.FREE's torch calls (view/reshape, flatten, squeeze, permute, cat, split,
# narrow/select/__getitem__, expand, to/type, pad, dropout, identity); their data operands (the rest
# are shapes, axes and indices): every input of a Concat, else the first.
ONNX_FREE = {"Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Concat", "Split", "Slice",
             "Gather", "Expand", "Cast", "Pad", "Dropout"}
_CONSTANT = {"Constant", "ConstantOfShape", "Shape", "Size"}  # values known before the model runs
_NORMS = {"InstanceNormalization", "GroupNormalization", "LayerNormalization", "BatchNormalization"}
# Element-wise ops a decomposition of a torch activation is made of, as numpy functions (to check one by value)
_EVALUATE = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Pow": np.power,
             "Erf": np.vectorize(math.erf), "Tanh": np.tanh, "Sigmoid": lambda v: 1 / (1 + np.exp(-v)),
             "HardSigmoid": lambda v, alpha=0.2, beta=0.5: np.clip(alpha * v + beta, 0, 1)}  # ONNX's defaults
_PROBE = np.array([-2.0, -0.75, -0.1, 0.3, 1.0, 2.0])  # where a decomposition must equal the activation
# Activations written as arithmetic around one op (torch/onnx symbolic_opset9.py): op -> (torch op, values at _PROBE)
_DECOMPOSED = {
    # silu: Mul(x, Sigmoid(x))
    "Sigmoid": ("silu", _PROBE / (1 + np.exp(-_PROBE))),
    # hardswish below opset 14 (HardSwish): Mul(x, HardSigmoid(x, alpha=1/6))
    "HardSigmoid": ("hardswish", _PROBE * np.clip(_PROBE / 6 + 0.5, 0, 1)),
    # gelu below opset 20 (ONNX Gelu's 0.5 x (1 + erf(x / sqrt 2))): Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5)
    "Erf": ("gelu", _PROBE * (1 + np.vectorize(math.erf)(_PROBE / math.sqrt(2))) / 2),
    # gelu(approximate="tanh") below opset 20: Mul(0.5, Mul(x, Add(1, Tanh(sqrt(2 / pi) (x + 0.044715 x (x x))))))
    "Tanh": ("gelu", _PROBE * (1 + np.tanh(math.sqrt(2 / math.pi) * (_PROBE + 0.044715 * _PROBE ** 3))) / 2),
}


def from_onnx(path: str | Path, name: str | None = None,
              input_shapes: Mapping[str, Sequence[int]] | None = None) -> Workload:
    """The layer table of the ONNX model at `path` (batch 1); WorkloadError names a node it cannot read."""
    import onnx
    from google.protobuf.message import DecodeError
    path = validate.file(path, "ONNX model", validate.MAX_MODEL_BYTES, WorkloadError)
    try:
        model = onnx.load(str(path), load_external_data=False)
    except (DecodeError, ValueError, OSError, RuntimeError) as e:
        raise WorkloadError(f"{path}: not an ONNX model ({type(e).__name__}: {str(e)[:120]})") from None
    if not model.graph.node:
        raise WorkloadError(f"{path}: not an ONNX model (no graph nodes)")
    model = inferred(model, path, dict(input_shapes or {}))
    graph = _Graph(model, path)
    builder = Builder()
    for node in model.graph.node:
        graph.visit(node, builder)
    graph.check_lost(builder.rows)
    if not any(row[KIND] in (CONV, LINEAR, MATMUL) for _, row in builder.rows):
        raise WorkloadError(f"{path}: no Conv, Gemm, MatMul or RNN nodes found")
    outs = [Ref(o.name, ()) for o in model.graph.output]
    return builder.raw(name or path.stem, outs).finish()


class _Graph:
    """Shapes, weights and attributes of an inferred model, and the rows of each node."""

    def __init__(self, model, path: Path):
        import onnx
        from onnx import numpy_helper
        self.path, self.helper = path, onnx.helper
        self.shapes: dict[str, tuple] = {}
        for vi in [*model.graph.input, *model.graph.value_info, *model.graph.output]:
            t = vi.type.tensor_type
            if vi.type.HasField("tensor_type") and t.HasField("shape"):
                self.shapes[vi.name] = tuple(d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim)
        self.weights = set()
        for init in model.graph.initializer:
            self.shapes[init.name] = tuple(init.dims)
            self.weights.add(init.name)
        for node in model.graph.node:  # weights stay weights through reshapes, transposes, casts
            if node.op_type == "Constant" or (node.op_type in _PASS_THROUGH and node.input and node.input[0] in self.weights):
                self.weights.update(node.output)
        self.lost: list[tuple[str, int | None]] = []  # (node description, MACs it does, if countable)
        self.unmapped: list[tuple[str, int | None]] = []  # (node description, elements it makes, if known)
        self.elements = 0  # elements the model's nodes compute, re-views aside (for the unmapped nodes' share)
        self.constant = set(self.weights) | {i.name for i in model.graph.initializer}  # known before the model runs
        self.to_array = numpy_helper.to_array
        self.known = {i.name: i for i in model.graph.initializer}  # constant tensors whose value is stored
        self.known.update({n.output[0]: n.attribute[0] for n in model.graph.node if n.op_type == "Constant" and n.attribute})
        self.consumers: dict[str, list] = {o.name: [None] for o in model.graph.output}  # None: the model's output
        for node in model.graph.node:
            for i in node.input:
                self.consumers.setdefault(i, []).append(node)
        self.producer = {o: node for node in model.graph.node for o in node.output}
        self.scaled: set[str] = set()  # outputs of MatMuls whose operands the exporter scaled (SDPA's scale)
        self.linear: set[str] = set()  # outputs of MatMul and Gemm nodes recorded as linear rows
        self.group_norm: dict[str, int] = {}  # GroupNorm's export (Reshape, InstanceNormalization, Reshape,
        # Mul and Add by weights) -> how far along it each tensor is (0: reshaped in, 1: normalised, ...)
        self.reshaped: dict[str, str] = {}  # GroupNorm's reshape into groups: its output -> its input
        self.position = {o: i for i, node in enumerate(model.graph.node) for o in node.output}  # topological order
        # decompositions (_DECOMPOSED's, LayerNorm's): their last node's output -> (torch op, its input x); the others' -> None
        self.decomposed: dict[str, tuple[str, str] | None] = {}
        for node in model.graph.node:
            if node.op_type in _DECOMPOSED and node.output[0] not in self.decomposed:
                self._decomposition(node)
            elif node.op_type == "Sqrt" and node.input:
                self._layer_norm(node)

    # --- helpers ---
    def shape(self, node, name: str) -> tuple:
        s = self.shapes.get(name)
        if s is None or any(d is None or d <= 0 for d in s):
            raise WorkloadError(f"{self.path}: node {self.where(node)}: shape of {name!r} is unknown after shape inference "
                                f"({s}); give the inputs' shapes with input_shapes=")
        return s

    def attr(self, node, key: str, default=None):
        for a in node.attribute:
            if a.name == key:
                return self.helper.get_attribute_value(a)
        return default

    @staticmethod
    def where(node) -> str:
        return f"{node.name or '(unnamed)'} ({node.op_type})"

    def value(self, name: str):
        """The stored value of a constant tensor (a numpy array), or None."""
        v = self.known.get(name)
        if v is not None and not hasattr(v, "dims"):  # a Constant node's attribute
            v = self.helper.get_attribute_value(v)
        return None if v is None else np.asarray(self.to_array(v) if hasattr(v, "dims") else v)

    def operand(self, node, name: str, out: tuple):
        """A binary op's operand: a constant of one element is a scalar (its value, None if computed), else a
        tensor. Shape inference leaves dimensions that depend on computed shapes unknown (a ViT's class token
        expanded to the batch, then concatenated); such a dimension of an operand is taken from the op's
        output `out` (a broadcast operand has its 1s where shapes are stored, in its weights)."""
        shape = self.shapes.get(name)
        if name in self.constant and shape is not None and _elements(shape) == 1:
            v = self.value(name)
            return None if v is None else v.reshape(-1)[0].item()
        if shape and _elements(shape) is None and _elements(out) and len(shape) == len(out) \
                and all(d in (None, 0, o) for d, o in zip(shape, out)):
            return Ref(name, out)
        return Ref(name, self.shape(node, name))

    # --- the graph ---
    def visit(self, node, b: Builder) -> None:
        """Feed `node` to the graph builder `b`: its rows, element-wise rows or pass-through."""
        op, ins = node.op_type, [i for i in node.input if i]
        outs = [Ref(o, self.shapes.get(o, (None,))) for o in node.output if o]  # (None,): unknown
        made = sum(_elements(o.shape) or 0 for o in outs)
        rows = self.rows(node)
        if rows is not None:  # a MAC or pooling node (or one the MAC check names: it passes through)
            self.elements += made
            first = len(b.rows)
            for row in rows:
                b.add(KINDS[row[KIND]], row)
            reads = [Ref(i, ()) for i in ins if i not in self.constant]
            if rows and op in ("Gemm", "MatMul") and rows[-1][KIND] == LINEAR:
                self.linear.update(o.key for o in outs)
            b.recorded(first, reads, outs) if rows else b.passthrough(reads, outs)
            if outs and outs[0].key in self.scaled:  # SDPA's scale, on the scores as from_torch records it
                b.act("mul", 1, self.ref(node, outs[0].key), outs)
            return
        if op in _CONSTANT or all(i in self.constant for i in ins):
            self.constant.update(o.key for o in outs)  # shape arithmetic, weights re-viewed: folded
            return
        x = ins[0] if ins else ""
        self.elements += 0 if op in ONNX_FREE else made
        if node.output[0] in self.decomposed:  # a decomposed activation or norm: its last node records it
            if self.decomposed[node.output[0]]:
                name, src = self.decomposed[node.output[0]]
                b.act(name, ELEMENTWISE_OPS[name], self.ref(node, src), outs)
        elif op in ONNX_FREE:
            b.passthrough([Ref(i, ()) for i in (ins if op == "Concat" else ins[:1])], outs)  # constants: no producer
            self._group_norm_step(op, x, outs[0].key)
        elif op in ONNX_BINARY:
            self._binary(node, b, ONNX_BINARY[op], ins, outs[0])
        elif op == "Where":  # torch's where and masked_fill
            b.select(*(self.operand(node, i, outs[0].shape) for i in ins), outs[0])
        elif op == "Clip":  # relu6 and hardtanh: two bounds; one bound: a relu
            bounds = len(ins[1:]) + sum(1 for a in node.attribute if a.name in ("min", "max"))
            name = "hardtanh" if bounds == 2 else "relu"
            b.act(name, ELEMENTWISE_OPS[name], self.ref(node, x), outs) if bounds else b.passthrough([Ref(x, ())], outs)
        elif op in ONNX_ACTIVATIONS:
            name, src = ONNX_ACTIVATIONS[op], x
            if op == "InstanceNormalization" and self.group_norm.get(x) == 0:
                name, src = "group_norm", self.reshaped[x]  # on the tensor before the group reshape
                self.group_norm[outs[0].key] = 1
            b.act(name, ELEMENTWISE_OPS[name], self.ref(node, src), outs)
        elif op in ONNX_REDUCTIONS:
            if op == "ReduceMean" and is_global_pool(self.shape(node, x), self._axes(node)):
                b.global_pool(self.ref(node, x), outs)
            else:
                b.act(ONNX_REDUCTIONS[op], 1, self.ref(node, x), outs)
        elif "Pool" in op and self.shape(node, x)[2:] == outs[0].shape[2:]:
            b.passthrough([Ref(x, ())], outs)  # pooling a 1 x 1 map, or to its own size
        else:
            sizes = [_elements(o.shape) for o in outs]
            self.unmapped.append((self.where(node), None if None in sizes else sum(sizes)))
            b.passthrough([Ref(i, ()) for i in ins], outs)  # to name every such node before the error

    def ref(self, node, name: str) -> Ref:
        return Ref(name, self.shape(node, name))

    def _binary(self, node, b: Builder, op: str, ins: list, out: Ref) -> None:
        for t, c in (ins, ins[::-1]):
            folds = c in self.constant and len(self.consumers.get(t, [])) == 1
            if op == "add" and t in self.linear and folds and math.prod(self.shapes.get(c) or (0,)) == self.shapes[t][-1]:
                b.passthrough([Ref(t, ())], [out])  # a linear layer's bias: torch's linear holds it
                return
            step = self.group_norm.get(t)
            if folds and (op, step) in (("mul", 2), ("add", 3)):
                b.passthrough([Ref(t, ())], [out])  # GroupNorm's affine part: group_norm's element ops hold it
                self.group_norm[out.key] = 3
                return
            reciprocal = self.producer.get(t)
            if op == "mul" and folds and self._scalar(c) is not None and reciprocal is not None \
                    and reciprocal.op_type == "Reciprocal":
                b.passthrough([Ref(t, ())], [out])  # s / x exported as Reciprocal(x) * s: one division, as torch's
                return
            if op == "mul" and self._sdpa_scale(c):
                b.passthrough([Ref(t, ())], [out])
                self.scaled.add(self.consumers[out.key][0].output[0])
                return
        b.binary(op, *(self.operand(node, i, out.shape) for i in ins), out)

    def _sdpa_scale(self, scalar: str) -> bool:
        """Whether a Mul by `scalar` is the TorchScript exporter's split of scaled_dot_product_attention's scale:
        sqrt(scale) times Q and times Kᵀ, each feeding only the Q·Kᵀ MatMul. from_torch records it as one
        multiply of the scores (what an attention kernel runs), so it moves onto the MatMul's output."""
        if math.prod(self.shapes.get(scalar) or (0,)) != 1:
            return False
        matmul = {id(n): n for m in self.consumers.get(scalar, []) if m is not None
                  for n in self.consumers.get(m.output[0], []) if n is not None and n.op_type == "MatMul"}
        if len(matmul) != 1:
            return False
        muls = [self.producer.get(i) for i in next(iter(matmul.values())).input]
        return all(m is not None and m.op_type == "Mul" and len(self.consumers.get(m.output[0], [])) == 1
                   and any(math.prod(self.shapes.get(i) or (0,)) == 1 for i in m.input) for m in muls)

    def _decomposition(self, anchor) -> None:
        """Record the decomposition around `anchor` (an op of _DECOMPOSED) if there is one: element-wise nodes from one
        tensor x, through the anchor, to a node after it, reading x and stored scalars only, their results used only by
        each other, equal to the activation at _PROBE within 8 ulps of their constants' type (9.5e-7 for float32)."""
        name, expected = _DECOMPOSED[anchor.op_type]
        ends = [anchor]
        while len(ends) < 5:  # the last node: the anchor or one of the element-wise nodes after it
            users = self.consumers.get(ends[-1].output[0], [])
            if len(users) != 1 or users[0] is None or users[0].op_type not in _EVALUATE:
                break
            ends.append(users[0])
        candidates = [t for t in self._upstream(anchor, None)[1] if t not in self.constant]  # what x can be
        for end, x in ((end, x) for end in ends for x in candidates):
            nodes, reads, cut = self._upstream(end, x)
            outs = {n.output[0] for n in nodes}
            used_outside = any(u is None or u.output[0] not in outs for o in outs - {end.output[0]}
                               for u in self.consumers.get(o, []))
            if cut or used_outside or set(reads) - outs != {x}:
                continue
            values, eps = {x: _PROBE}, np.finfo(np.float32).eps
            with np.errstate(all="ignore"):
                for n in sorted(nodes, key=lambda n: self.position[n.output[0]]):
                    scalars = {i: self._scalar(i) for i in n.input if i not in values}
                    eps = max([eps] + [np.finfo(v.dtype).eps for v in scalars.values() if v.dtype.kind == "f"])
                    args = [values[i] if i in values else scalars[i].reshape(-1)[0].astype(float) for i in n.input]
                    attributes = {a.name: self.attr(n, a.name) for a in n.attribute}  # HardSigmoid's alpha, beta
                    values[n.output[0]] = _EVALUATE[n.op_type](*args, **attributes)
            if np.allclose(values[end.output[0]], expected, rtol=8 * eps, atol=0):
                self.decomposed.update({o: None for o in outs} | {end.output[0]: (name, x)})
                return

    def _layer_norm(self, sqrt) -> None:
        """Record LayerNorm's export below opset 17 (symbolic_opset9.py native_layer_norm) around `sqrt` if it is one:
        d = Sub(x, ReduceMean(x)), Div(d, Sqrt(Add(ReduceMean(Pow(d, 2)), eps))), then Mul by a weight and Add of a bias
        of the normalised shape if affine; both means over the same last axes of x, kept; 2 and eps stored scalars; each
        result used only by the next node (d by the Pow and the Div); float16's Casts after d and the Div allowed."""
        add = self.producer.get(sqrt.input[0])
        variance, eps = self._tensor_and_scalar(add, "Add", commutative=True)
        mean2 = self.producer.get(variance)
        power = self.producer.get(mean2.input[0]) if mean2 is not None and mean2.op_type == "ReduceMean" and mean2.input else None
        square, two = self._tensor_and_scalar(power, "Pow", commutative=False)
        if eps is None or not 0 <= eps < math.inf or two != 2:
            return
        cast = self.producer.get(square)
        cast = cast if cast is not None and cast.op_type == "Cast" and cast.input else None
        sub = self.producer.get(cast.input[0] if cast else square)
        if sub is None or sub.op_type != "Sub" or len(sub.input) != 2:
            return
        x, mean = sub.input
        mean1, rank = self.producer.get(mean), len(self.shapes.get(x) or ())
        k = self._last_axes(mean1, rank)
        div = self.consumers.get(sqrt.output[0], [None])[0]
        if k == 0 or mean1.input[0] != x or self._last_axes(mean2, rank) != k or div is None or div.op_type != "Div" \
                or list(div.input) != [square, sqrt.output[0]]:
            return
        chain = [mean1, sub, *([cast] if cast else []), power, mean2, add, sqrt, div]
        for op in ("Cast", "Mul", "Add"):  # float16's Cast back; the weight's Mul and the bias's Add
            after = self.consumers.get(chain[-1].output[0], [])
            if len(after) != 1 or after[0] is None or after[0].op_type != op:
                continue
            others = [i for i in after[0].input if i != chain[-1].output[0]]
            if (cast if op == "Cast" else len(others) == 1 and others[0] in self.constant and
                    _leading_ones_off(self.shapes.get(others[0])) == _leading_ones_off(self.shapes[x][rank - k:])):
                chain.append(after[0])
        outs = {n.output[0] for n in chain}
        if all(u is not None and u.output[0] in outs
               for o in outs - {chain[-1].output[0]} for u in self.consumers.get(o, [None])):
            self.decomposed.update({o: None for o in outs} | {chain[-1].output[0]: ("layer_norm", x)})

    def _last_axes(self, node, rank: int) -> int:
        """k if `node` is a ReduceMean keeping its dimensions over the last k axes of a tensor of `rank`, else 0."""
        if node is None or node.op_type != "ReduceMean" or not node.input or self.attr(node, "keepdims", 1) != 1:
            return 0
        axes = self._axes(node) or ()
        k = len(axes)
        in_range = all(-rank <= a < rank for a in axes)
        return k if in_range and sorted(a % rank for a in axes) == list(range(rank - k, rank)) else 0

    def _tensor_and_scalar(self, node, op: str, commutative: bool) -> tuple[str | None, float | None]:
        """(its tensor operand, its stored scalar's value) of a binary `op` node reading one of each (the scalar second
        unless `commutative`), else (None, None)."""
        if node is None or node.op_type != op or len(node.input) != 2:
            return None, None
        for t, s in ((0, 1), (1, 0))[:2 if commutative else 1]:
            v = self._scalar(node.input[s])
            if v is not None and self._scalar(node.input[t]) is None:
                return node.input[t], float(v.reshape(-1)[0])
        return None, None

    def _axes(self, node) -> tuple[int, ...] | None:
        """The axes a reduction node reduces (an attribute below opset 18, an input from it; None: all)."""
        axes = self.attr(node, "axes") if len(node.input) < 2 else self.value(node.input[1])
        return None if axes is None else tuple(int(a) for a in np.asarray(axes).reshape(-1))

    def _upstream(self, end, x: str | None, most: int = 16) -> tuple[list, list[str], bool]:
        """The element-wise nodes (_EVALUATE's ops) `end` is computed with, walking back no further than tensor `x`
        (None: as far as they go) and stored scalars; the other tensors they read, nearest first; whether `most`
        nodes cut the walk short."""
        nodes, reads, todo = {}, [], [end]  # nodes by output
        while todo and len(nodes) < most:
            node = todo.pop(0)
            nodes[node.output[0]] = node
            for i in node.input:
                if self._scalar(i) is None and i not in reads:
                    reads.append(i)
                    producer = self.producer.get(i)
                    if i != x and producer is not None and producer.op_type in _EVALUATE:
                        todo.append(producer)
        return list(nodes.values()), reads, bool(todo)

    def _scalar(self, name: str):
        """The stored value of a one-element constant tensor (a numpy array), else None."""
        return self.value(name) if name in self.constant and _elements(self.shapes.get(name, (None,))) == 1 else None

    def _group_norm_step(self, op: str, x: str, out: str) -> None:
        """Follow GroupNorm's export through its Reshapes: into groups (step 0), back after the norm (2)."""
        if op != "Reshape":
            return
        if x not in self.group_norm and [n and n.op_type for n in self.consumers.get(out, [])] == ["InstanceNormalization"]:
            self.group_norm[out], self.reshaped[out] = 0, x
        elif self.group_norm.get(x) == 1 and len(self.consumers.get(x, [])) == 1:
            self.group_norm[out] = 2

    # --- rows ---
    def rows(self, node) -> list | None:
        """The MAC and pooling rows of `node` ([] for a node the MAC check names), None for any other node."""
        op = node.op_type
        if op in ("Conv", "ConvInteger", "QLinearConv"):
            x, w = (node.input[0], node.input[3]) if op == "QLinearConv" else (node.input[0], node.input[1])
            return [self._conv(node, self.shape(node, x), self.shape(node, w), self.shape(node, node.output[0]))]
        if op == "ConvTranspose":
            x, w = self.shape(node, node.input[0]), self.shape(node, node.input[1])
            g = int(self.attr(node, "group", 1))
            return [conv_row(math.prod(x[2:]), 1, w[0], w[1] * g * math.prod(w[2:]), 1, groups=g)]
        if op == "Gemm":
            a, b = self.shape(node, node.input[0]), self.shape(node, node.input[1])
            m, k = (a[1], a[0]) if self.attr(node, "transA", 0) else a
            n = b[0] if self.attr(node, "transB", 0) else b[1]
            return [self._gemm(node, node.input[0], node.input[1], m, n, k, ())]
        if op in ("MatMul", "MatMulInteger", "QLinearMatMul"):
            ia, ib = (node.input[0], node.input[3]) if op == "QLinearMatMul" else (node.input[0], node.input[1])
            a, b = self.shape(node, ia), self.shape(node, ib)
            a, b = (a if len(a) > 1 else (1, *a)), (b if len(b) > 1 else (*b, 1))
            return [self._gemm(node, ia, ib, a[-2], b[-1], a[-1], self.shape(node, node.output[0])[:-2])]
        if op in _RNN_GATES:
            return self._rnn(node)
        if op in ("MaxPool", "AveragePool"):
            x = self.shape(node, node.input[0])
            k = self.attr(node, "kernel_shape")
            if len(k) != 2:
                return None  # 1-D and 3-D pooling: a pool row is 2-D
            s = self.attr(node, "strides", k)
            p = self.attr(node, "pads", [0] * 4)
            return [pool_row(x[2], x[3], x[1], k[0], s[0], p[0], ceil_mode=bool(self.attr(node, "ceil_mode", 0)))]
        if op in ("GlobalAveragePool", "GlobalMaxPool"):
            x = self.shape(node, node.input[0])
            return [pool_row(x[2], x[3], x[1], x[3])] if len(x) == 4 and x[2] == x[3] > 1 else None
        if op == "Gather" and node.input[0] in self.weights and len(self.shapes.get(node.input[0], ())) == 2 \
                and node.input[1] not in self.weights:
            raise WorkloadError(f"{self.path}: node {self.where(node)}: an embedding lookup "
                                f"({self.shapes[node.input[0]]} table) moves memory but does no MACs, and layer tables "
                                f"have no memory-traffic rows; export the model from the embedded tensor on")
        if op == "Einsum":
            self.lost.append((self.where(node), self._einsum_macs(node)))
        elif op in _CONTROL_FLOW or node.domain not in ("", "ai.onnx") and any(
                x in op for x in ("Attention", "Conv", "MatMul", "Gemm")):
            self.lost.append((self.where(node), None))
        else:
            return None
        return []

    def _conv(self, node, x, w, y):
        g = int(self.attr(node, "group", 1))
        rank = len(w) - 2
        dil = self.attr(node, "dilations", [1] * rank)
        strides = self.attr(node, "strides", [1] * rank)
        pads = self._pads(node, x[2:], w[2:], strides, dil)
        row = None
        if rank == 2 and all(d == 1 for d in dil):
            row = conv_row(x[2], x[3], x[1], w[0], w[2], w[3], stride=strides[0], pad=pads[0], groups=g,
                           stride_w=strides[1], pad_w=pads[1])
        elif rank == 1 and dil[0] == 1 and pads[0] == pads[1]:
            row = conv_row(1, x[2], x[1], w[0], 1, w[2], stride=1, pad=0, groups=g, stride_w=strides[0], pad_w=pads[0])
        if row is not None and tuple(int(v) for v in row[11:13]) == ((y[2], y[3]) if rank == 2 else (1, y[2])):
            return row  # symmetric padding: the convolution row's own output size is the model's
        return conv_row(math.prod(y[2:]), 1, x[1] * math.prod(w[2:]), w[0], 1, groups=g)  # im2col GEMM

    def _pads(self, node, size, kernel, strides, dil) -> list:
        """Begin and end padding per spatial axis ([b0, b1, ..., e0, e1, ...]), `auto_pad` included."""
        auto = self.attr(node, "auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            total = [max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0) for n, k, s, d in zip(size, kernel, strides, dil)]
            begin = [t // 2 if auto == "SAME_UPPER" else t - t // 2 for t in total]
            return begin + [t - b for t, b in zip(total, begin)]
        if auto == "VALID":
            return [0] * 2 * len(size)
        return list(self.attr(node, "pads", [0] * 2 * len(size)))

    def _gemm(self, node, ia: str, ib: str, m: int, n: int, k: int, batch: tuple):
        if ib in self.weights:  # activations x weights: a linear layer over every token
            return linear_row(k, n, m * math.prod(batch))
        if ia in self.weights:  # weights x activations (W @ x): the same GEMM, operands swapped
            return linear_row(k, m, n * math.prod(batch))
        return matmul_row(m, n, k, heads=math.prod(batch))

    def _rnn(self, node) -> list:
        x = self.shape(node, node.input[0])
        w, r = self.shape(node, node.input[1]), self.shape(node, node.input[2])  # (dirs, gates*H, in), (dirs, gates*H, H)
        steps = x[0] * x[1]  # seq x batch (either layout)
        return [row for _ in range(w[0]) for row in (linear_row(w[2], w[1], steps), linear_row(r[2], r[1], steps))]

    def _einsum_macs(self, node) -> int | None:
        """MACs of an Einsum: the product of every index's size (None if the equation is not simple)."""
        eq = str(self.attr(node, "equation", b"").decode() if isinstance(self.attr(node, "equation", b""), bytes)
                 else self.attr(node, "equation", ""))
        lhs = eq.replace(" ", "").split("->")[0].split(",")
        sizes: dict[str, int] = {}
        try:
            for term, name in zip(lhs, node.input):
                for letter, d in zip(term, self.shape(node, name)):
                    sizes[letter] = d
        except WorkloadError:
            return None
        return math.prod(sizes.values()) if "." not in eq else None

    def check_lost(self, rows) -> None:
        """WorkloadError naming each node the table cannot hold, with its share of the MACs (or, for a node
        without MACs, of the elements the model's nodes compute, re-views aside)."""
        if self.lost:
            recorded = sum(int(r[13]) * int(r[14]) * int(r[15]) * int(r[16]) for _, r in rows)
            countable = sum(m for _, m in self.lost if m)
            total = recorded + countable
            parts = [f"{w} {m / total:.1%} of the MACs" if m else f"{w} (MACs not countable)" for w, m in self.lost]
            raise WorkloadError(f"{self.path}: the layer table would lose nodes it cannot record: {_first(parts)}; "
                                f"export the model with these expressed as Conv, Gemm, MatMul or RNN nodes")
        if self.unmapped:
            parts = [f"{w} {n / max(self.elements, 1):.1%} of the elements the model's nodes compute" if n is not None
                     else f"{w} (size unknown)" for w, n in self.unmapped]
            raise WorkloadError(f"{self.path}: no layer-table row for the ONNX ops of {_first(parts)}; only "
                                f"convolutions, GEMMs, RNNs, pooling, element-wise arithmetic, activations, "
                                f"normalisations, reductions and data re-views are modelled")


def _elements(shape: tuple) -> int | None:
    """Elements of a tensor of `shape`, None if shape inference left it unknown."""
    return math.prod(shape) if shape is not None and all(d is not None and d > 0 for d in shape) else None


def _leading_ones_off(shape: tuple | None) -> tuple | None:
    """`shape` without its leading 1s (what it broadcasts as)."""
    while shape and shape[0] == 1:
        shape = shape[1:]
    return shape


def _first(parts: list[str], n: int = 5) -> str:
    return "; ".join(parts[:n]) + (f" and {len(parts) - n} more" if len(parts) > n else "")
