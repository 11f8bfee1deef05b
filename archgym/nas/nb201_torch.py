"""The NAS-Bench-201 network in torch, module for module as NB201's `TinyNetwork(C=16, N=5)`.

Written from the description of D-X-Y/AutoDL-Projects (MIT) `xautodl/models/cell_infers/
tiny_network.py`, `cells.py` (InferCell) and `cell_operations.py`; no code copied:
- stem: Conv 3x3 (3 -> 16, no bias) + BN, no ReLU;
- 3 stages of 5 cells at 16, 32, 64 channels, joined by `ResNetBasicblock(stride 2)`: ReLU-Conv3x3
  (stride 2)-BN, ReLU-Conv3x3-BN, plus a shortcut AvgPool2d(2) + Conv1x1 (no BN), summed (no ReLU);
- cell ops: `none` (x * 0), `skip_connect` (identity), `nor_conv_1x1` / `nor_conv_3x3` (ReLU, Conv
  without bias, BN), `avg_pool_3x3` (AvgPool2d(3, 1, 1, count_include_pad=False), no parameters);
  node j = sum of its incoming edges' outputs, every edge executed;
- head: BN + ReLU, global average pool, Linear(64, 10).
NB201's InferCell sums with Python's `sum()`, i.e. 0 + y1 + y2 ...; here a node starts from its
first edge's output (the same value, without the addition of a zero tensor).

`extract_parts` records each part of `archgym.nas.nb201_compose.RawParts` with `trace_torch`.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from archgym.core.workloads.table import ADD, KIND, N_COLUMNS
from archgym.frontends import trace_torch
from archgym.nas import nb201, nb201_compose


class ReLUConvBN(nn.Sequential):
    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1):
        super().__init__(nn.ReLU(inplace=False), nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False),
                         nn.BatchNorm2d(cout))


class Zero(nn.Module):
    def forward(self, x):
        return x.mul(0.0)


def make_op(op: str, channels: int) -> nn.Module:
    if op == "none":
        return Zero()
    if op == "skip_connect":
        return nn.Identity()
    if op == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1)
    if op == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3)
    if op == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown NB201 op {op!r}")


class Cell(nn.Module):
    """NB201's InferCell with C_in = C_out and stride 1 (always so inside NB201)."""

    def __init__(self, ops, channels: int):
        super().__init__()
        self.edges = nn.ModuleList(make_op(op, channels) for op in ops)

    def forward(self, x):
        nodes = [x]
        for j in (1, 2, 3):
            total = None
            for e, (i, target) in enumerate(nb201.EDGES):
                if target == j:
                    y = self.edges[e](nodes[i])
                    total = y if total is None else total + y
            nodes.append(total)
        return nodes[3]


class ResNetBasicblock(nn.Module):
    """NB201's reduction block between stages (stride 2, channels doubled)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv_a = ReLUConvBN(cin, cout, 3, stride=2)
        self.conv_b = ReLUConvBN(cout, cout, 3)
        self.downsample = nn.Sequential(nn.AvgPool2d(2, 2, 0), nn.Conv2d(cin, cout, 1, bias=False))

    def forward(self, x):
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class Head(nn.Module):
    def __init__(self, channels: int, num_classes: int):
        super().__init__()
        self.lastact = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x):
        return self.classifier(self.global_pooling(self.lastact(x)).flatten(1))


class NB201Network(nn.Module):
    """The CIFAR-10 NB201 network of one cell (six op names in edge order); returns logits."""

    def __init__(self, ops, num_classes: int = nb201.NUM_CLASSES):
        super().__init__()
        ops = nb201.check_ops(ops)
        c = nb201.STAGE_CHANNELS
        self.stem = nn.Sequential(nn.Conv2d(nb201.IN_CHANNELS, c[0], 3, padding=1, bias=False), nn.BatchNorm2d(c[0]))
        layers = []
        for s, ch in enumerate(c):
            if s:
                layers.append(ResNetBasicblock(c[s - 1], ch))
            layers += [Cell(ops, ch) for _ in range(nb201.CELLS_PER_STAGE)]
        self.cells = nn.Sequential(*layers)
        self.head = Head(c[-1], num_classes)

    def forward(self, x):
        return self.head(self.cells(self.stem(x)))


# --- parts ----------------------------------------------------------------------------------------------
def _part(module: nn.Module, shape: tuple[int, ...], output: int | None = None) -> tuple:
    """(rows, reads, batch_norm, output) of `module` run on a (1, *shape) input, before fusion."""
    raw = trace_torch(module, torch.zeros(1, *shape, device="meta"))
    reads = np.full((len(raw.table), 2), nb201_compose.UNUSED, dtype=np.int64)
    for r, src in enumerate(raw.inputs):
        if raw.table[r, KIND] == ADD:
            reads[r] = src
        else:  # a tensor argument's producer, or -1: the part's input (parameters have no producer)
            produced = sorted({s for s in src if s >= 0})
            assert len(produced) <= 1, "an NB201 part's row reads one tensor"
            reads[r, 0] = produced[0] if produced else -1
    bn = np.array([raw.act_names.get(r) == "batch_norm" for r in range(len(raw.table))], dtype=bool)
    if output is None:
        (output,) = raw.outputs
    return raw.table.reshape(-1, N_COLUMNS), reads, bn, output


def extract_parts() -> nb201_compose.RawParts:
    """Every part of nb201_compose.RawParts, recorded by `trace_torch` on the NB201 modules (torch needed)."""
    c, r = nb201.STAGE_CHANNELS, nb201.STAGE_SIZES
    with torch.device("meta"):
        parts = [_part(NB201Network(["none"] * 6).stem, (nb201.IN_CHANNELS, r[0], r[0])),
                 _part(ResNetBasicblock(c[0], c[1]), (c[0], r[0], r[0])),
                 _part(ResNetBasicblock(c[1], c[2]), (c[1], r[1], r[1])),
                 _part(Head(c[2], nb201.NUM_CLASSES), (c[2], r[2], r[2]))]
        for s, (ch, size) in enumerate(zip(c, r)):
            for code, op in enumerate(nb201.OPS):
                assert len(parts) == nb201_compose.op_part(s, code)
                special = {"none": nb201_compose.ZERO, "skip_connect": nb201_compose.INPUT}.get(op)
                parts.append(_part(make_op(op, ch), (ch, size, size), special))
    ends = np.cumsum([len(p[0]) for p in parts])
    return nb201_compose.RawParts(np.concatenate([p[0] for p in parts]).astype(np.int64),
                                  np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts]),
                                  ends - np.array([len(p[0]) for p in parts]), ends, np.array([p[3] for p in parts]))
