"""Extract the layer table of any `torch.nn.Module` by running it once on an example input.

A `TorchFunctionMode` sees every conv2d, linear, matmul (`@`, bmm, einsum-free matmuls), pooling
and attention call, whether it comes from an nn.Module or from functional code; graph.py follows
the tensors between them and records element-wise additions and activations. Attention kernels
(`scaled_dot_product_attention`, `nn.MultiheadAttention`) are recorded as their GEMMs: Q·Kᵀ and
A·V per head, plus the projections. A matmul with a parameter operand counts as a linear layer.
"""
from __future__ import annotations

import math

from archgym.core.errors import WorkloadError
from archgym.core.workloads.table import Workload, conv_row, linear_row, matmul_row, pool_row


def from_torch(model, example_input, name: str | None = None) -> Workload:
    """Run `model(example_input)` (batch 1) under no_grad and return its layer table."""
    import torch
    from torch.overrides import TorchFunctionMode

    from archgym.frontends.graph import Graph

    rows: list = []
    params = {id(p) for p in model.parameters()}
    graph = Graph(lambda t: isinstance(t, torch.Tensor))

    def add(kind, row):
        rows.append((f"{kind}{len(rows)}", row))

    def tokens(shape):
        return math.prod(shape[:-1])

    class Recorder(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            first = len(rows)
            record(func, args, kwargs)
            out = func(*args, **kwargs)
            graph.after(func, args, kwargs, out, rows, first, add)  # element-wise rows and the tensor graph
            return out

    def record(func, args, kwargs):
        fname = getattr(func, "__name__", "")
        if fname == "conv2d":
            x, w = args[0], args[1]
            stride = _pair(_arg(args, kwargs, 3, "stride", 1))
            pad = _arg(args, kwargs, 4, "padding", 0)
            groups = _arg(args, kwargs, 6, "groups", 1)
            if isinstance(pad, str):
                pad = (0, 0) if pad == "valid" else (w.shape[2] // 2, w.shape[3] // 2)
            pad = _pair(pad)
            dil = _pair(_arg(args, kwargs, 5, "dilation", 1))
            if dil != (1, 1):
                raise WorkloadError(f"conv{len(rows)}: dilated convolutions (dilation={dil}) are not supported")
            _batch1(x, "conv2d")
            h, wd = x.shape[-2:]
            add("conv", conv_row(h, wd, x.shape[-3], w.shape[0], w.shape[2], w.shape[3], stride=stride[0],
                                 pad=pad[0], groups=groups, stride_w=stride[1], pad_w=pad[1]))
        elif fname == "linear":
            x, w = args[0], args[1]
            add("linear", linear_row(w.shape[1], w.shape[0], tokens(x.shape)))
        elif fname in ("matmul", "__matmul__", "bmm", "mm"):
            a, b = args[0], args[1]
            if a.dim() < 2 or b.dim() < 2:
                return
            if id(b) in params:  # x @ W: a linear layer
                add("linear", linear_row(b.shape[-2], b.shape[-1], tokens(a.shape)))
            else:
                heads = math.prod(a.shape[:-2]) if a.dim() > 2 else 1
                add("matmul", matmul_row(a.shape[-2], b.shape[-1], a.shape[-1], heads))
        elif fname == "scaled_dot_product_attention":
            q, k, v = args[:3]
            heads = math.prod(q.shape[:-2])
            add("matmul", matmul_row(q.shape[-2], k.shape[-2], q.shape[-1], heads))
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
        add("matmul", matmul_row(lq, d, lk, heads))
        add("linear", linear_row(embed, embed, lq))

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), Recorder():
            result = model(example_input)
    finally:
        model.train(was_training)
    if not any(r[0] in (0, 1, 2) for _, r in rows):
        raise WorkloadError(f"no conv, linear or matmul layers found in {type(model).__name__}")
    return graph.finish(name or type(model).__name__.lower(), rows, result)


def _arg(args, kwargs, pos, key, default):
    if key in kwargs:
        return kwargs[key]
    return args[pos] if len(args) > pos else default


def _pair(v):
    if isinstance(v, (tuple, list)):
        return (int(v[0]), int(v[-1]))
    return (int(v), int(v))


def _batch1(x, what):
    if x.dim() == 4 and x.shape[0] != 1:
        raise WorkloadError(f"{what}: use an example input with batch size 1 (got {x.shape[0]})")
