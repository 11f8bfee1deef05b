"""Read the layer table of an ONNX model, with shapes from the `onnx` package's shape inference.

    wl = archgym.workloads.from_onnx("resnet18.onnx")

Graph inputs with a symbolic batch dimension are taken at batch 1 (`input_shapes` fixes any input's
shape instead). Rows follow `from_torch`: Conv (2-D as a convolution row, 1-D as a 1 x L one, other
ranks and dilated ones as their im2col GEMM), ConvTranspose as its col2im GEMM, Gemm and MatMul (a
linear row when one operand is a weight, derived from initializers only; else an activation matmul
with its batch dimensions as heads), LSTM/GRU/RNN as input and recurrent GEMMs over every step,
Max/AveragePool and square GlobalAveragePool/GlobalMaxPool as pooling rows. Nothing is dropped
silently: an embedding lookup (a Gather from a weight table), an Einsum, quantised or contributed
ops that do MACs, and control flow are errors naming the node and, where it can be counted, the
share of the model's MACs it would lose.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from archgym.core import validate
from archgym.core.errors import WorkloadError
from archgym.core.workloads.table import KIND, KINDS, Workload, conv_row, linear_row, matmul_row, pool_row

# Ops whose value depends only on their inputs' values: a weight passed through them is still a weight.
_PASS_THROUGH = {"Identity", "Transpose", "Reshape", "Cast", "Squeeze", "Unsqueeze", "DequantizeLinear", "Flatten",
                 "Expand", "Unsqueeze", "Constant"}
_CONTROL_FLOW = {"If", "Loop", "Scan"}
_RNN_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


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
    _fix_inputs(model, path, dict(input_shapes or {}))
    try:
        model = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except Exception as e:  # onnx raises its own InferenceError and plain RuntimeErrors
        raise WorkloadError(f"{path}: ONNX shape inference failed: {str(e).splitlines()[0][:200]}") from None
    graph = _Graph(model, path)
    rows = []
    for node in model.graph.node:
        rows += [(f"{KINDS[row[KIND]]}{len(rows) + i}", row) for i, row in enumerate(graph.rows(node))]
    graph.check_lost(rows)
    if not rows:
        raise WorkloadError(f"{path}: no Conv, Gemm, MatMul or RNN nodes found")
    return Workload.from_rows(name or path.stem, rows)


def _fix_inputs(model, path: Path, shapes: dict) -> None:
    """Set each graph input's symbolic dimensions: its `shapes` entry, else 1 for the batch dimension."""
    initializers = {i.name for i in model.graph.initializer}
    for inp in model.graph.input:
        if inp.name in initializers or not inp.type.HasField("tensor_type"):
            continue
        dims = inp.type.tensor_type.shape.dim
        given = shapes.pop(inp.name, None)
        if given is not None:
            if len(given) != len(dims) or not all(isinstance(d, int) and d > 0 for d in given):
                raise WorkloadError(f"{path}: input_shapes[{inp.name!r}] must be {len(dims)} positive integers, got {given!r}")
            for d, v in zip(dims, given):
                d.dim_value = v
        for i, d in enumerate(dims):
            if not d.HasField("dim_value"):
                if i > 0:
                    raise WorkloadError(f"{path}: input {inp.name!r} has a symbolic dimension {i} ({d.dim_param!r}); "
                                        f"give its shape with input_shapes={{{inp.name!r}: [...]}}")
                d.dim_value = 1
    if shapes:
        raise WorkloadError(f"{path}: input_shapes names no graph input: {sorted(shapes)}")


class _Graph:
    """Shapes, weights and attributes of an inferred model, and the rows of each node."""

    def __init__(self, model, path: Path):
        import onnx
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

    # --- rows ---
    def rows(self, node) -> list:
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
                return []  # 1-D and 3-D pooling: no MACs, and a pool row is 2-D
            s = self.attr(node, "strides", k)
            p = self.attr(node, "pads", [0] * 4)
            return [pool_row(x[2], x[3], x[1], k[0], s[0], p[0], ceil_mode=bool(self.attr(node, "ceil_mode", 0)))]
        if op in ("GlobalAveragePool", "GlobalMaxPool"):
            x = self.shape(node, node.input[0])
            return [pool_row(x[2], x[3], x[1], x[3])] if len(x) == 4 and x[2] == x[3] > 1 else []
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
        """WorkloadError naming each node the table cannot hold, with its share of the MACs."""
        if not self.lost:
            return
        recorded = sum(int(r[13]) * int(r[14]) * int(r[15]) * int(r[16]) for _, r in rows)
        countable = sum(m for _, m in self.lost if m)
        total = recorded + countable
        parts = [f"{w} {m / total:.1%} of the MACs" if m else f"{w} (MACs not countable)" for w, m in self.lost]
        raise WorkloadError(f"{self.path}: the layer table would lose nodes it cannot record: {'; '.join(parts[:5])}"
                            f"{f' and {len(parts) - 5} more' if len(parts) > 5 else ''}; export the model with these "
                            f"expressed as Conv, Gemm, MatMul or RNN nodes")
