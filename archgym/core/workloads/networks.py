"""Built-in networks with their real layer shapes (batch 1, padding included, PyTorch output sizes).

Shapes follow the torchvision reference implementations and the original papers, cited per
network. Pooling layers are kept: they cost nothing on a systolic array but are pipeline stages on
a dataflow FPGA. Residual additions, activations and normalisation are not layers here.
"""
from __future__ import annotations

from archgym.core.workloads.table import Workload, conv_row, linear_row, matmul_row, pool_row


class NetBuilder:
    """Tracks the running feature-map shape (h, w, c) while layers are appended."""

    def __init__(self, name: str, h: int, w: int, c: int):
        self.name, self.h, self.w, self.c = name, h, w, c
        self.rows: list = []

    def conv(self, label, nf, k, stride=1, pad=None, groups=1, src=None, update=True):
        h, w, c = src or (self.h, self.w, self.c)
        row = conv_row(h, w, c, nf, k, stride=stride, pad=k // 2 if pad is None else pad, groups=groups)
        self.rows.append((label, row))
        if update:
            self.h, self.w, self.c = int(row[11]), int(row[12]), nf
        return self

    def pool(self, label, k, stride=None, pad=0):
        row = pool_row(self.h, self.w, self.c, k, stride, pad)
        self.rows.append((label, row))
        self.h, self.w = int(row[11]), int(row[12])
        return self

    def global_pool(self, label="avgpool"):
        return self.pool(label, self.h) if self.h > 1 or self.w > 1 else self

    def fc(self, label, out, tokens=1):
        self.rows.append((label, linear_row(self.h * self.w * self.c if tokens == 1 else self.c, out, tokens)))
        self.h, self.w, self.c = 1, 1, out
        return self

    @property
    def shape(self):
        return self.h, self.w, self.c

    def build(self) -> Workload:
        return Workload.from_rows(self.name, self.rows)


def alexnet() -> Workload:
    """AlexNet as in torchvision (Krizhevsky, 'One weird trick', arXiv:1404.5997): 0.71 GMACs."""
    n = NetBuilder("alexnet", 224, 224, 3)
    n.conv("conv1", 64, 11, 4, 2).pool("pool1", 3, 2)
    n.conv("conv2", 192, 5, 1, 2).pool("pool2", 3, 2)
    n.conv("conv3", 384, 3).conv("conv4", 256, 3).conv("conv5", 256, 3).pool("pool5", 3, 2)
    return n.fc("fc6", 4096).fc("fc7", 4096).fc("fc8", 1000).build()


def vgg16() -> Workload:
    """VGG-16, configuration D (Simonyan & Zisserman, ICLR 2015): 15.5 GMACs."""
    n = NetBuilder("vgg16", 224, 224, 3)
    for stage, (width, depth) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], 1):
        for i in range(1, depth + 1):
            n.conv(f"conv{stage}_{i}", width, 3)
        n.pool(f"pool{stage}", 2)
    return n.fc("fc6", 4096).fc("fc7", 4096).fc("fc8", 1000).build()


def _resnet(name, block_counts, bottleneck) -> Workload:
    """ResNet (He et al., CVPR 2016) as in torchvision v1.5: the stride sits on the 3x3 conv."""
    n = NetBuilder(name, 224, 224, 3)
    n.conv("conv1", 64, 7, 2, 3).pool("maxpool", 3, 2, 1)
    expansion = 4 if bottleneck else 1
    for stage, blocks in enumerate(block_counts):
        width = 64 << stage
        for b in range(blocks):
            stride = 2 if (b == 0 and stage > 0) else 1
            src = n.shape
            tag = f"layer{stage + 1}.{b}"
            if bottleneck:
                n.conv(f"{tag}.conv1", width, 1).conv(f"{tag}.conv2", width, 3, stride).conv(f"{tag}.conv3", width * 4, 1)
            else:
                n.conv(f"{tag}.conv1", width, 3, stride).conv(f"{tag}.conv2", width, 3)
            if stride != 1 or src[2] != width * expansion:
                n.conv(f"{tag}.downsample", width * expansion, 1, stride, 0, src=src, update=False)
    return n.global_pool().fc("fc", 1000).build()


def resnet18() -> Workload:
    """ResNet-18: 1.82 GMACs."""
    return _resnet("resnet18", [2, 2, 2, 2], bottleneck=False)


def resnet50() -> Workload:
    """ResNet-50: 4.09 GMACs."""
    return _resnet("resnet50", [3, 4, 6, 3], bottleneck=True)


def mobilenet_v1(width: float = 1.0, resolution: int = 224, name: str | None = None) -> Workload:
    """MobileNetV1 (Howard et al., arXiv:1704.04861, Table 1): 569 MMACs at width 1.0, 224 px."""
    def ch(c):
        return max(8, int(c * width))
    n = NetBuilder(name or ("mobilenet_v1" if width == 1.0 else f"mobilenet_v1_{width:g}"), resolution, resolution, 3)
    n.conv("conv1", ch(32), 3, 2, 1)
    plan = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    for i, (out, stride) in enumerate(plan, 1):
        n.conv(f"dw{i}", n.c, 3, stride, 1, groups=n.c).conv(f"pw{i}", ch(out), 1)
    return n.global_pool().fc("fc", 1000).build()


def mobilenet_v2() -> Workload:
    """MobileNetV2 (Sandler et al., CVPR 2018, Table 2): 300 MMACs at width 1.0, 224 px."""
    n = NetBuilder("mobilenet_v2", 224, 224, 3)
    n.conv("conv1", 32, 3, 2, 1)
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    block = 0
    for t, c, reps, s in settings:
        for r in range(reps):
            stride = s if r == 0 else 1
            hidden = n.c * t
            tag = f"block{block}"
            if t != 1:
                n.conv(f"{tag}.expand", hidden, 1)
            n.conv(f"{tag}.dw", hidden, 3, stride, 1, groups=hidden).conv(f"{tag}.project", c, 1)
            block += 1
    n.conv("conv_last", 1280, 1)
    return n.global_pool().fc("classifier", 1000).build()


def _encoder(n: NetBuilder, layers, seq, d_model, heads, d_ff, prefix="encoder"):
    d_head = d_model // heads
    for i in range(layers):
        tag = f"{prefix}.{i}"
        n.rows.append((f"{tag}.q", linear_row(d_model, d_model, seq)))
        n.rows.append((f"{tag}.k", linear_row(d_model, d_model, seq)))
        n.rows.append((f"{tag}.v", linear_row(d_model, d_model, seq)))
        n.rows.append((f"{tag}.qk", matmul_row(seq, seq, d_head, heads)))
        n.rows.append((f"{tag}.av", matmul_row(seq, d_head, seq, heads)))
        n.rows.append((f"{tag}.out", linear_row(d_model, d_model, seq)))
        n.rows.append((f"{tag}.ffn1", linear_row(d_model, d_ff, seq)))
        n.rows.append((f"{tag}.ffn2", linear_row(d_ff, d_model, seq)))


def bert_base(seq: int = 128) -> Workload:
    """BERT-base encoder GEMMs (Devlin et al., NAACL 2019): 12 layers, d=768, 12 heads, FFN 3072.
    11.2 GMACs at sequence length 128. Embedding lookups and the pooler are not GEMMs here."""
    n = NetBuilder(f"bert_base_{seq}", seq, 1, 768)
    _encoder(n, 12, seq, 768, 12, 3072)
    return n.build()


def vit_b16() -> Workload:
    """ViT-B/16 at 224 px (Dosovitskiy et al., ICLR 2021): patch embedding, 12 encoder layers on
    197 tokens, classifier head. 17.6 GMACs."""
    n = NetBuilder("vit_b16", 224, 224, 3)
    n.conv("patch_embed", 768, 16, 16, 0)
    _encoder(n, 12, 197, 768, 12, 3072)
    n.rows.append(("head", linear_row(768, 1000, 1)))
    return n.build()


NETWORKS = {
    "alexnet": alexnet,
    "vgg16": vgg16,
    "resnet18": resnet18,
    "resnet50": resnet50,
    "mobilenet_v1": mobilenet_v1,
    "mobilenet_v2": mobilenet_v2,
    "bert_base_128": lambda: bert_base(128),
    "bert_base_512": lambda: bert_base(512),
    "vit_b16": vit_b16,
}
