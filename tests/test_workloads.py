"""Workloads: built-in networks match published sizes; SCALE-Sim CSVs; torch extraction."""

import numpy as np
import pytest

from archgym import workloads
from archgym.core.errors import UnknownNameError, WorkloadError
from archgym.core.workloads.table import EH, EW, G, K, KIND, LINEAR, M, MATMUL, N, POOL

# Published multiply-accumulates and weights (torchvision model docs and the original papers).
PUBLISHED = {
    "alexnet": (0.714e9, 61.1e6), "vgg16": (15.47e9, 138.3e6), "resnet18": (1.814e9, 11.68e6),
    "resnet50": (4.089e9, 25.5e6), "mobilenet_v1": (0.569e9, 4.21e6), "mobilenet_v2": (0.300e9, 3.47e6),
    "bert_base_128": (11.17e9, 84.9e6), "vit_b16": (17.56e9, 86.3e6),
}


@pytest.mark.parametrize("name", PUBLISHED)
def test_builtin_sizes(name):
    wl = workloads.load(name)
    macs, weights = PUBLISHED[name]
    assert wl.macs == pytest.approx(macs, rel=0.01)
    # Published weight counts include biases and batch-norm parameters, which the table omits.
    assert wl.weights == pytest.approx(weights, rel=0.02)


def test_resnet50_first_layers_have_real_padding():
    wl = workloads.load("resnet50")
    assert wl.layer_names[0] == "conv1"
    assert (wl.table[0, EH], wl.table[0, EW]) == (112, 112)  # floor((224 + 6 - 7) / 2) + 1
    assert wl.table[1, KIND] == POOL and (wl.table[1, EH], wl.table[1, EW]) == (56, 56)


def test_depthwise_is_grouped():
    wl = workloads.load("mobilenet_v1")
    dw = wl.table[wl.layer_names.index("dw1")]
    assert dw[G] == 32 and dw[N] == 1 and dw[K] == 9


def test_transformer_gemms():
    wl = workloads.load("bert_base_512")
    qk = wl.table[wl.layer_names.index("encoder.0.qk")]
    assert qk[0] == MATMUL and (qk[M], qk[N], qk[K], qk[G]) == (512, 512, 64, 12)
    ffn = wl.table[wl.layer_names.index("encoder.0.ffn1")]
    assert ffn[0] == LINEAR and (ffn[M], ffn[N], ffn[K]) == (512, 3072, 768)


def test_scalesim_conv_csv(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
                 "C1, 16, 15, 3, 3, 4, 8, 2,\n\n,,,,,,,,\nDP_a, 10, 10, 3, 3, 6, 1, 1,\n")
    wl = workloads.load(p)
    c1, dp = wl.table
    assert (c1[EH], c1[EW]) == (8, 7)  # SCALE-Sim's ceil((H - F + S) / S), no padding
    assert (c1[M], c1[N], c1[K], c1[G]) == (56, 8, 36, 1)
    assert (dp[M], dp[N], dp[K], dp[G]) == (64, 1, 9, 6)  # DP: one C=1 layer per channel


def test_scalesim_gemm_csv_and_extra_columns(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text("Layer Name, M, N, K,\nTest 1, 256, 128, 64,\n")
    row = workloads.load(p).table[0]
    assert row[0] == LINEAR and (row[M], row[N], row[K]) == (256, 128, 64)
    q = tmp_path / "r.csv"  # SCALE-Sim's own Resnet50.csv has a comma-only row and extra columns
    q.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,,,Eh,Ew\n"
                 ",,,,,,,,,,,,\nConv1,224,224,7,7,3,64,2,,,110,110,12100\n")
    assert workloads.load(q).table[0][EH] == 110  # ceil((224 - 7 + 2) / 2), as the file says


@pytest.mark.parametrize("text,match", [
    ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\nC1, 16, x, 3, 3, 4, 8, 1,\n",
     r"t.csv:2: field 'IFMAP Width': 'x' is not an integer"),
    ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\nC1, 16, 16, 3,\n",
     r"t.csv:2: expected 8 fields"),
    ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\nC1, 16, 16, 3, 3, 0, 8, 1,\n",
     r"t.csv:2: field 'Channels': 0 must be positive"),
    ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n\nC1, 2, 2, 3, 3, 4, 8, 1,\n",
     r"t.csv:3: layer 'C1': filter 3x3 is larger than the input 2x2"),
    ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n", "no layers"),
    ("name,a,b\nx,1,2\n", r"t.csv:1: unrecognised header"),
])
def test_malformed_csv(tmp_path, text, match):
    p = tmp_path / "t.csv"
    p.write_text(text)
    with pytest.raises(WorkloadError, match=match):
        workloads.load(p)


def test_unknown_workload():
    with pytest.raises(UnknownNameError, match="unknown workload 'resnet19'; valid: alexnet"):
        workloads.load("resnet19")
    with pytest.raises(WorkloadError, match="does not exist"):
        workloads.load("missing.csv")


torch = pytest.importorskip("torch")
nn = torch.nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16)
        self.pw = nn.Conv2d(16, 32, 1)
        self.pool = nn.MaxPool2d(2)
        self.attn = nn.MultiheadAttention(32, 4, batch_first=True)
        self.q = nn.Linear(32, 32)
        self.w = nn.Parameter(torch.randn(32, 10))

    def forward(self, x):
        x = self.pool(self.pw(self.dw(self.conv(x))))          # (1, 32, 8, 8)
        t = x.flatten(2).transpose(1, 2)                       # (1, 64, 32) tokens
        t = self.attn(t, t, t, need_weights=False)[0]
        q = self.q(t).reshape(1, 64, 4, 8).transpose(1, 2)     # (1, 4, 64, 8)
        a = torch.nn.functional.scaled_dot_product_attention(q, q, q)
        s = q @ q.transpose(-2, -1)                            # plain matmul inside attention
        return (t @ self.w).sum() + a.sum() + s.sum()


def test_from_torch_conv_grouped_linear_and_attention():
    wl = workloads.from_torch(Block(), torch.randn(1, 3, 32, 32))
    kinds = wl.kinds()
    rows = {i: r for i, r in enumerate(wl.table)}
    assert kinds[:4] == ["conv", "conv", "conv", "pool"]
    assert (rows[0][EH], rows[0][M], rows[0][N], rows[0][K]) == (16, 256, 16, 27)
    assert (rows[1][G], rows[1][N], rows[1][K]) == (16, 1, 9)
    assert (rows[3][EH], rows[3][EW]) == (8, 8)
    # nn.MultiheadAttention: q, k, v projections, Q.K^T and A.V per head, output projection.
    assert kinds[4:10] == ["linear", "linear", "linear", "matmul", "matmul", "linear"]
    qk, av = rows[7], rows[8]
    assert (qk[M], qk[N], qk[K], qk[G]) == (64, 64, 8, 4) and (av[M], av[N], av[K], av[G]) == (64, 8, 64, 4)
    assert kinds[10] == "linear" and rows[10][M] == 64
    assert kinds[11:13] == ["matmul", "matmul"]               # scaled_dot_product_attention
    assert (rows[13][M], rows[13][N], rows[13][K], rows[13][G]) == (64, 64, 8, 4)  # q @ k^T
    assert kinds[14] == "linear" and (rows[14][M], rows[14][N], rows[14][K]) == (64, 10, 32)  # t @ W
    assert wl.macs == int((wl.table[:, G] * wl.table[:, M] * wl.table[:, N] * wl.table[:, K]).sum())


def test_from_torch_matches_builtin_table():
    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.c2, self.fc = nn.Conv2d(3, 8, 5, stride=2), nn.Conv2d(8, 8, 3, padding=1, groups=4), nn.Linear(8 * 14 * 14, 10)

        def forward(self, x):
            return self.fc(self.c2(self.c1(x)).flatten(1))

    wl = workloads.from_torch(Tiny(), torch.randn(1, 3, 32, 32))
    expected = workloads.Workload.from_rows("tiny", [(str(i), r) for i, r in enumerate(
        [workloads.conv_row(32, 32, 3, 8, 5, stride=2), workloads.conv_row(14, 14, 8, 8, 3, pad=1, groups=4),
         workloads.linear_row(8 * 14 * 14, 10)])])
    np.testing.assert_array_equal(wl.table, expected.table)  # a chain: the graph's context equals the fallback's


def test_from_torch_rejects_batches_and_empty_models():
    with pytest.raises(WorkloadError, match="batch size 1"):
        workloads.from_torch(nn.Conv2d(3, 4, 3), torch.randn(2, 3, 8, 8))
    with pytest.raises(WorkloadError, match="no conv, linear or matmul"):
        workloads.from_torch(nn.ReLU(), torch.randn(1, 4))
