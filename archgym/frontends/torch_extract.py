"""Extract the layer table of any `torch.nn.Module` by running it once on an example input.

A `TorchFunctionMode` sees every conv2d, linear, matmul (`@`, bmm, einsum-free matmuls), pooling
and attention call, whether it comes from an nn.Module or from functional code; graph.py follows
the tensors between them and records element-wise additions and activations. Attention kernels
(`scaled_dot_product_attention`, `nn.MultiheadAttention`) are recorded as their GEMMs: Q·Kᵀ and
A·V per head, plus the projections, and the scale, mask (SDPA's `is_causal` or `attn_mask`) and
softmax of the scores between them. A matmul with a parameter operand counts as a linear layer.
Masking written out (`masked_fill`, `torch.where`) is a select per element; a mask computed from
buffers or constants alone (`bias[:, :, :T, :T] == 0`, `torch.triu` of ones) is a constant, known
before the model runs, and costs nothing, while comparisons of tensors computed from the model input
are costed.

Convolutions of other ranks and transposed convolutions become the GEMM they lower to (a 1x1
convolution row over the im2col'd input; Conv1d keeps its shape as a 1 x L convolution); LSTM, GRU
and RNN layers become their input and recurrent GEMMs over every step. Embedding lookups move
memory but do no MACs, and layer tables have no memory-traffic rows, so they are an error.

Nothing is dropped silently: torch's own `FlopCounterMode` counts the MACs of the same run, and if
the table misses more than MAC_TOLERANCE of them, a WorkloadError names each module that ran the
missing work and its share of the model's MACs.
"""
from __future__ import annotations

import math

from archgym.core.errors import WorkloadError
from archgym.core.workloads.table import (CONV, KIND, LINEAR, MATMUL, G, K, M, N, Workload, act_row, conv_row,
                                          linear_row, matmul_row, pool_row)
from archgym.frontends.graph import ELEMENTWISE_OPS, Graph, RawGraph, hwc

MAC_TOLERANCE = 1e-3  # share of torch's MAC count the table may miss (rounding); more is an error


def from_torch(model, example_input, name: str | None = None) -> Workload:
    """Run `model(example_input)` (batch 1) under no_grad and return its layer table."""
    raw = trace_torch(model, example_input, name)
    if not any(k in (CONV, LINEAR, MATMUL) for k in raw.table[:, KIND]):
        raise WorkloadError(f"no conv, linear or matmul layers found in {type(model).__name__}")
    return raw.finish()


def trace_torch(model, example_input, name: str | None = None) -> RawGraph:
    """Run `model(example_input)` (batch 1) under no_grad and return what it recorded, before fusion."""
    import torch
    from torch.overrides import TorchFunctionMode
    from torch.utils.flop_counter import FlopCounterMode

    params = {id(p) for p in model.parameters()}
    graph = Graph(lambda t: isinstance(t, torch.Tensor))
    graph.input(example_input)
    rows = graph.rows
    deferred: list[WorkloadError] = []

    def add(kind, row):
        graph.add(kind, row)
        scope.charge(row)

    def tokens(shape):
        return math.prod(shape[:-1])

    class Recorder(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            first = len(rows)
            record(func, args, kwargs)
            out = func(*args, **kwargs)
            layers = _record_lowered(getattr(func, "__name__", ""), args, kwargs, out, add, scope)
            try:
                graph.after(func, args, kwargs, out, first, layers)  # element-wise rows and the tensor graph
            except WorkloadError as e:  # an op it cannot cost: run on, so the MAC check can say what it loses
                deferred.append(e)
            return out

    def record(func, args, kwargs):
        fname = getattr(func, "__name__", "")
        if fname == "conv2d":
            x, w = args[0], args[1]
            stride = _pair(_arg(args, kwargs, 3, "stride", 1))
            pad = _arg(args, kwargs, 4, "padding", 0)
            groups = _arg(args, kwargs, 6, "groups", 1)
            if _conv2d_as_gemm(args, kwargs):
                return  # _record_lowered records it from its output
            if isinstance(pad, str):
                pad = (0, 0) if pad == "valid" else (w.shape[2] // 2, w.shape[3] // 2)
            pad = _pair(pad)
            _batch1(x, "conv2d")
            h, wd = x.shape[-2:]
            add("conv", conv_row(h, wd, x.shape[-3], w.shape[0], w.shape[2], w.shape[3], stride=stride[0],
                                 pad=pad[0], groups=groups, stride_w=stride[1], pad_w=pad[1]))
        elif fname == "linear":
            x, w = args[0], args[1]
            add("linear", linear_row(w.shape[1], w.shape[0], tokens(x.shape)))
        elif fname in ("matmul", "__matmul__", "bmm", "mm"):
            a, b = args[0], args[1]
            if a.dim() < 2 or b.dim() < 2:  # a vector operand: the matrix-vector product
                a, b = (a if a.dim() >= 2 else a[None, :]), (b if b.dim() >= 2 else b[:, None])
            if id(b) in params:  # x @ W: a linear layer
                add("linear", linear_row(b.shape[-2], b.shape[-1], tokens(a.shape)))
            else:
                heads = math.prod(a.shape[:-2]) if a.dim() > 2 else 1
                add("matmul", matmul_row(a.shape[-2], b.shape[-1], a.shape[-1], heads))
        elif fname == "scaled_dot_product_attention":
            q, k, v = args[:3]
            heads = math.prod(q.shape[:-2])
            add("matmul", matmul_row(q.shape[-2], k.shape[-2], q.shape[-1], heads))
            masked = _arg(args, kwargs, 5, "is_causal", False) or _arg(args, kwargs, 3, "attn_mask", None) is not None
            _scale_and_softmax((*q.shape[:-1], k.shape[-2]), masked)
            add("matmul", matmul_row(q.shape[-2], v.shape[-1], k.shape[-2], heads))
        elif fname == "multi_head_attention_forward":
            _mha(args, kwargs)
        elif fname in ("max_pool2d", "avg_pool2d", "_max_pool2d", "max_pool2d_with_indices"):
            x = args[0]
            k = _pair(_arg(args, kwargs, 1, "kernel_size", None))
            s = _arg(args, kwargs, 2, "stride", None)
            s = k if s in (None, []) else _pair(s)
            p = _pair(_arg(args, kwargs, 3, "padding", 0))
            ceil = bool(kwargs.get("ceil_mode", False))
            add("pool", pool_row(x.shape[-2], x.shape[-1], x.shape[-3], k[0], s[0], p[0], ceil_mode=ceil))
        elif fname in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
            x = args[0]
            out = _pair(_arg(args, kwargs, 1, "output_size", 1))
            if out == (1, 1) and x.shape[-2] == x.shape[-1] and x.shape[-1] > 1:
                add("pool", pool_row(x.shape[-2], x.shape[-1], x.shape[-3], x.shape[-1]))

    def _mha(args, kwargs):
        q, k = args[0], args[1]
        embed, heads = int(args[3]), int(args[4])
        lq, lk = (q.shape[0], k.shape[0])  # (L, N, E) layout inside F.multi_head_attention_forward
        batch = q.shape[1] if q.dim() == 3 else 1
        if batch != 1:
            raise WorkloadError("multi-head attention: use an example input with batch size 1")
        for proj in ("q", "k", "v"):
            add("linear", linear_row(embed, embed, lq if proj == "q" else lk))
        d = embed // heads
        add("matmul", matmul_row(lq, lk, d, heads))
        _scale_and_softmax((heads, lq, lk))
        add("matmul", matmul_row(lq, d, lk, heads))
        add("linear", linear_row(embed, embed, lq))

    def _scale_and_softmax(scores, masked=False):
        """The element ops an attention kernel runs on its scores: the 1/sqrt(d) scale, the mask (one select per
        score, as graph.Builder.select costs one) if `masked`, and the softmax."""
        add("act", act_row(*hwc(scores), 1))
        if masked:
            add("act", act_row(*hwc(scores), 1))
        add("act", act_row(*hwc(scores), ELEMENTWISE_OPS["softmax"]))

    scope = _Scope(model)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), scope.tracking(), FlopCounterMode(display=False) as counter, Recorder():
            result = model(example_input)
    finally:
        model.train(was_training)
    scope.check(counter)
    if deferred:
        raise deferred[0]
    return graph.raw(name or type(model).__name__.lower(), graph.refs(result))


def _arg(args, kwargs, pos, key, default):
    if key in kwargs:
        return kwargs[key]
    return args[pos] if len(args) > pos else default


def _pair(v):
    if isinstance(v, (tuple, list)):
        return (int(v[0]), int(v[-1]))
    return (int(v), int(v))


def _batch1(x, what, batched_dim: int = 4):
    if x.dim() == batched_dim and x.shape[0] != 1:
        raise WorkloadError(f"{what}: use an example input with batch size 1 (got {x.shape[0]})")


# --- layers lowered to GEMMs, and the check that nothing was dropped ---------------------------------------------
_RNN_GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


def _record_lowered(fname, args, kwargs, out, add, scope) -> int:
    """Rows for the ops `record` leaves out, from their inputs and their output `out`; the number of
    stacked layers they make (an RNN's layers, each reading the one before; else 1)."""
    if fname in ("conv1d", "conv3d") or (fname == "conv2d" and _conv2d_as_gemm(args, kwargs)):
        x, w = args[0], args[1]
        groups = int(_arg(args, kwargs, 6, "groups", 1))
        _batch1(x, fname, w.dim())
        if fname == "conv1d":  # a 1 x L convolution when its padding is symmetric, else its im2col GEMM
            pad, dil = _arg(args, kwargs, 4, "padding", 0), _pair(_arg(args, kwargs, 5, "dilation", 1))[0]
            total = 0 if pad == "valid" else dil * (w.shape[2] - 1) if pad == "same" else 2 * _pair(pad)[0]
            if dil != 1 or total % 2:
                add("conv", _gemm_conv(out.shape[-1], x.shape[-2], w, groups))
            else:
                add("conv", conv_row(1, x.shape[-1], x.shape[-2], w.shape[0], 1, w.shape[2], stride=1, pad=0, groups=groups,
                                     stride_w=_pair(_arg(args, kwargs, 3, "stride", 1))[0], pad_w=total // 2))
        else:
            add("conv", _gemm_conv(math.prod(out.shape[2:]), x.shape[1 - w.dim()], w, groups))
    elif fname.startswith("conv_transpose"):
        x, w = args[0], args[1]  # weight (C_in, C_out / groups, *kernel)
        groups = int(_arg(args, kwargs, 6, "groups", 1))
        _batch1(x, fname, w.dim())
        spatial = math.prod(x.shape[2 - w.dim():])  # input pixels (batched or not)
        # col2im lowering: every input pixel times the whole kernel (Cin/g x Cout/g*k per group)
        add("convT", conv_row(spatial, 1, w.shape[0], w.shape[1] * groups * math.prod(w.shape[2:]), 1, groups=groups))
    elif fname in _RNN_GATES:
        x = args[0]
        packed = not isinstance(args[2], (list, tuple))  # (data, batch_sizes, hx, params, ...) for packed input
        weights = args[3] if packed else args[2]
        steps = x.shape[0] if packed else math.prod(x.shape[:-1])
        for w in weights:  # input, recurrent and projection matrices of every layer and direction
            if w.dim() == 2:
                add(fname.split("_")[0], linear_row(w.shape[1], w.shape[0], steps))
        return int(args[5] if packed else args[4])  # num_layers
    elif fname == "embedding":
        raise WorkloadError(f"{scope.where()}: an embedding lookup ({tuple(args[1].shape)} table) moves memory but does "
                            f"no MACs, and layer tables have no memory-traffic rows; extract the model from the "
                            f"embedded tensor on (pass the module after the embedding, with its input)")
    return 1


def _conv2d_as_gemm(args, kwargs) -> bool:
    """A dilated conv2d, or one padded 'same' with an even kernel (asymmetric padding), has no
    convolution row of its shape: it is recorded as its im2col GEMM."""
    w, pad = args[1], _arg(args, kwargs, 4, "padding", 0)
    return _pair(_arg(args, kwargs, 5, "dilation", 1)) != (1, 1) or (pad == "same" and (w.shape[2] % 2 == 0 or w.shape[3] % 2 == 0))


def _gemm_conv(out_pixels: int, channels: int, w, groups: int):
    """A convolution as its im2col GEMM: a 1x1 convolution over `out_pixels` pixels of C*k channels."""
    taps = math.prod(w.shape[2:])
    return conv_row(out_pixels, 1, channels * taps, w.shape[0], 1, groups=groups)


class _Scope:
    """Which module runs while each row is recorded, to name the modules whose MACs the table misses."""

    def __init__(self, model):
        self.model, self.stack = model, [type(model).__name__]
        self.names = {m: f"{type(model).__name__}.{n}" if n else type(model).__name__ for n, m in model.named_modules()}
        self.kinds = {name: type(m).__name__ for m, name in self.names.items()}
        self.recorded: dict[str, int] = {}

    def tracking(self):
        import contextlib
        from torch.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook

        def enter(module, *_):
            self.stack.append(self.names.get(module, type(module).__name__))

        def leave(module, *_):
            self.stack.pop()

        stack = contextlib.ExitStack()
        stack.callback(register_module_forward_pre_hook(enter).remove)
        stack.callback(register_module_forward_hook(leave, always_call=True).remove)
        return stack

    def where(self) -> str:
        name = self.stack[-1]
        return f"module {name} ({self.kinds.get(name, 'function')})"

    def charge(self, row) -> None:
        macs = int(row[G]) * int(row[M]) * int(row[N]) * int(row[K])
        for name in set(self.stack):
            self.recorded[name] = self.recorded.get(name, 0) + macs

    @staticmethod
    def _own_ops(counts, name: str) -> list[str]:
        """The aten ops module `name` runs itself (its count minus its direct children's)."""
        children = [c for c in counts if c.startswith(name + ".") and "." not in c[len(name) + 1:]]
        own = [op for op, n in counts[name].items() if n > sum(counts[c].get(op, 0) for c in children)]
        return [str(op).split(".")[-1] for op in own]

    def check(self, counter) -> None:
        """WorkloadError if the table misses more than MAC_TOLERANCE of the MACs torch counted."""
        counts = counter.get_flop_counts()
        counted = {name: sum(ops.values()) // 2 for name, ops in counts.items() if name != "Global"}
        root = type(self.model).__name__
        recorded = self.recorded.get(root, 0)
        total = max(counted.get(root, 0), recorded)
        if counted.get(root, 0) - recorded <= MAC_TOLERANCE * total:
            return
        lost = {n: c - self.recorded.get(n, 0) for n, c in counted.items()}
        culprits = []
        for name in sorted(lost, key=lambda n: -n.count(".")):  # deepest first: report where the work ran
            explained = sum(lost[c] for c in culprits if c.startswith(name + "."))
            if lost[name] - explained > MAC_TOLERANCE * total:
                culprits.append(name)
        parts = [f"{n} ({self.kinds.get(n, 'function')}, running {', '.join(self._own_ops(counts, n))}) {lost[n] / total:.1%}"
                 for n in culprits]
        missing = counted.get(root, 0) - recorded
        raise WorkloadError(f"the layer table would lose {missing / total:.1%} of the model's MACs ({missing:,} of "
                            f"{total:,}) in ops it cannot record: {'; '.join(parts)}; express them as conv, linear, "
                            f"matmul, attention or RNN layers, or extract the model without them")
