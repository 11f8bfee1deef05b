"""The torch networks behind the search spaces (imported only when a network is built or trained).

`MobileNetV2Net`: inverted-residual (MBConv) stages as in MobileNetV2 (Sandler et al., CVPR 2018)
and ProxylessNAS (Cai et al., ICLR 2019): 1x1 expansion, k x k depthwise, linear 1x1 projection,
identity shortcut when the shape is kept. `ResNetNet`: basic residual blocks (He et al., CVPR 2016).
Both take the per-stage choices already resolved to channel counts; see `spaces.py`.
"""
from __future__ import annotations

from torch import nn


def conv_bn(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1, act: type | None = nn.ReLU6) -> nn.Sequential:
    """Conv (no bias, 'same' padding) + BatchNorm (+ activation)."""
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """MBConv: expand (1x1, ratio `expand`), depthwise k x k (stride), project (1x1, linear)."""

    def __init__(self, cin: int, cout: int, kernel: int, expand: int, stride: int):
        super().__init__()
        hidden = cin * expand
        layers = [] if expand == 1 else [conv_bn(cin, hidden, 1)]
        layers += [conv_bn(hidden, hidden, kernel, stride, groups=hidden), conv_bn(hidden, cout, 1, act=None)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


class BasicBlock(nn.Module):
    """Two k x k convs with a shortcut (1x1 projection when the shape changes)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(conv_bn(cin, cout, kernel, stride, act=nn.ReLU), conv_bn(cout, cout, kernel, act=None))
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else conv_bn(cin, cout, 1, stride, act=None)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.body(x) + self.shortcut(x))


class _Net(nn.Module):
    """stem -> stages -> head conv (optional) -> global average pool -> linear classifier."""

    def __init__(self, stem: nn.Module, blocks: list[nn.Module], head: nn.Module, features: int, num_classes: int):
        super().__init__()
        self.stem, self.blocks, self.head = stem, nn.Sequential(*blocks), head
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(features, num_classes)

    def forward(self, x):
        x = self.head(self.blocks(self.stem(x)))
        return self.classifier(self.pool(x).flatten(1))


def mobilenet_v2(in_channels: int, num_classes: int, stem: int, head: int,
                 stages: list[tuple[int, int, int, int, int]]) -> nn.Module:
    """`stages`: (channels, depth, kernel, expand, first-block stride) per stage."""
    blocks, cin = [], stem
    for cout, depth, kernel, expand, stride in stages:
        for b in range(depth):
            blocks.append(InvertedResidual(cin, cout, kernel, expand, stride if b == 0 else 1))
            cin = cout
    return _Net(conv_bn(in_channels, stem, 3), blocks, conv_bn(cin, head, 1), head, num_classes)


def resnet(in_channels: int, num_classes: int, stem: int, stages: list[tuple[int, int, int, int]]) -> nn.Module:
    """`stages`: (channels, depth, kernel, first-block stride) per stage."""
    blocks, cin = [], stem
    for cout, depth, kernel, stride in stages:
        for b in range(depth):
            blocks.append(BasicBlock(cin, cout, kernel, stride if b == 0 else 1))
            cin = cout
    return _Net(conv_bn(in_channels, stem, 3, act=nn.ReLU), blocks, nn.Identity(), cin, num_classes)
