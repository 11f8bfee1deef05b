"""Model frontends: from_torch and from_onnx give the same whole layer table (every column: element-wise
rows, fusion, feature-map context) on models exported from torch, match the built-in tables and the
published MACs, lower Conv1d/3d, transposed convs and RNNs to
GEMMs, and never drop work silently (an error names the module and its share of the MACs)."""
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import archgym.workloads as W
import torch_models
from archgym.core.errors import WorkloadError
from archgym.core.workloads import table as T
from archgym.frontends.graph import ELEMENTWISE_OPS

# Published MACs (batch 1, 224 px): ResNet-18 1.82 G (He et al. 2016, Table 1: 1.8 GFLOPs as multiply-adds),
# MobileNetV2 300 M (Sandler et al. 2018, Table 4), ViT-B/16 17.6 G (Dosovitskiy et al. 2021, Table 6: 55.5 GFLOPs
# at 384 px; 17.6 GMACs at 224 px as tabulated by fvcore/timm).
PUBLISHED = {"resnet18": 1.82e9, "mobilenet_v2": 0.30e9, "vit_b16": 17.6e9}
ROUNDING = 0.005  # the published figures carry three significant digits


def same_table(a, b) -> None:
    """The whole tables, row for row and column for column."""
    assert a.kinds() == b.kinds()
    np.testing.assert_array_equal(a.table, b.table)


def export(model, x, path, opset=None, **options):
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(model.eval(), (x,), str(path), dynamo=False, opset_version=opset, **options)
    return path


def check_published(name, tmp_path):
    model, x = getattr(torch_models, name)(), torch.zeros(1, 3, 224, 224)
    a = W.from_torch(model, x)
    b = W.load(export(model, x, tmp_path / f"{name}.onnx"))
    same_table(a, b)
    assert a.macs == W.load(name).macs  # and the built-in table's
    assert a.macs == pytest.approx(PUBLISHED[name], rel=ROUNDING)


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2"])
def test_torch_and_onnx_tables_match_builtin_and_published_macs(name, tmp_path):
    check_published(name, tmp_path)


@pytest.mark.slow
def test_vit_b16_torch_and_onnx_match_published_macs(tmp_path):
    check_published("vit_b16", tmp_path)


class Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(16, 32, num_layers=2, batch_first=True, bidirectional=True)
        self.gru = nn.GRU(64, 8)
        self.conv3d = nn.Conv3d(2, 4, 3)
        self.convt = nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2)

    def forward(self, x):
        y, _ = self.lstm(x)
        z, _ = self.gru(y)
        return z, self.conv3d(torch.zeros(1, 2, 5, 6, 7)), self.convt(torch.zeros(1, 4, 5, 5))


def test_rnns_3d_and_transposed_convolutions_are_gemms(tmp_path):
    wl = W.from_torch(Recurrent(), torch.zeros(1, 10, 16))
    same_table(wl, W.from_onnx(export(Recurrent(), torch.zeros(1, 10, 16), tmp_path / "r.onnx")))
    # the second LSTM layer reads the first's output (not the network input, NEVER on chip): at its busiest,
    # the first layer's last GEMM output and the second's (10 steps x 128 gates each) are alive
    assert list(wl.table[4:8, T.IN_OCC]) == [2 * 10 * 128] * 4
    lstm = 2 * 10 * (128 * 16 + 128 * 32) + 2 * 10 * (128 * 64 + 128 * 32)  # 2 directions x (input + recurrent) GEMMs
    gru = 10 * (24 * 64 + 24 * 8)  # (seq 1, batch 10): 10 steps of 3 gates
    conv3d = (3 * 4 * 5) * 4 * (2 * 27)  # output voxels x filters x taps
    convt = 25 * 4 * 3 * 9  # input pixels x C_in x C_out/groups x taps
    assert wl.macs == lstm + gru + conv3d + convt
    assert wl.kinds() == ["linear"] * 10 + ["conv"] * 2


def test_conv1d_keeps_its_shape_and_transposed_conv1d_its_macs(tmp_path):
    model = nn.Sequential(nn.Conv1d(4, 8, 3, padding=1, stride=2), nn.ConvTranspose1d(8, 4, 2), nn.Flatten(), nn.Linear(4 * 16, 10))
    x = torch.zeros(1, 4, 30)
    wl = W.from_torch(model, x)
    assert wl.macs == 15 * 8 * 4 * 3 + 15 * 8 * 4 * 2 + 64 * 10
    assert tuple(wl.table[0, [1, 2, 3, 5, 8, 10, 12]]) == (1, 30, 4, 3, 2, 1, 15)  # h=1, w=L, c, fw, stride, pad, out
    same_table(W.from_onnx(export(model, x, tmp_path / "m.onnx")), wl)


class Einsum(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.w = nn.Parameter(torch.zeros(8, 8))

    def forward(self, x):
        return torch.einsum("bchw,cd->bdhw", self.conv(x), self.w)


def test_unsupported_work_is_named_with_its_share_of_macs(tmp_path):
    x = torch.zeros(1, 3, 16, 16)
    einsum = 14 * 14 * 8 * 8
    share = einsum / (einsum + 14 * 14 * 8 * 27)
    with pytest.raises(WorkloadError, match=rf"Einsum \(Einsum, running bmm\) {100 * share:.1f}%"):
        W.from_torch(Einsum(), x)
    with pytest.raises(WorkloadError, match=rf"\(Einsum\) {100 * share:.1f}% of the MACs"):
        W.from_onnx(export(Einsum(), x, tmp_path / "e.onnx"))


def test_embedding_lookups_are_an_explicit_error(tmp_path):
    model = nn.Sequential(nn.Embedding(100, 16), nn.Linear(16, 4))
    x = torch.zeros(1, 5, dtype=torch.long)
    with pytest.raises(WorkloadError, match=r"Sequential.0 \(Embedding\): an embedding lookup"):
        W.from_torch(model, x)
    with pytest.raises(WorkloadError, match="an embedding lookup"):
        W.from_onnx(export(model, x, tmp_path / "emb.onnx"))


def test_attention_and_rnn_models_agree_across_frontends(tmp_path):
    for model, x in [(torch_models.EncoderBlock(64, 4, 128), torch.zeros(1, 12, 64)),
                     (nn.LSTM(16, 32, num_layers=2, bidirectional=True), torch.zeros(7, 1, 16))]:
        a = W.from_torch(model, x)
        b = W.from_onnx(export(model, x, tmp_path / "m.onnx"))
        same_table(a, b)
    assert a.macs == 2 * 7 * (128 * 16 + 128 * 32) + 2 * 7 * (128 * 64 + 128 * 32)


def test_onnx_inputs_and_bad_files(tmp_path):
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(1), nn.LazyLinear(10))
    x = torch.zeros(1, 3, 16, 16)
    model(x)
    path = tmp_path / "m.onnx"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (x,), str(path), dynamo=False, input_names=["x"],
                          dynamic_axes={"x": {0: "batch", 2: "height"}})
    with pytest.raises(WorkloadError, match="symbolic dimension 2"):
        W.from_onnx(path)
    wl = W.from_onnx(path, input_shapes={"x": [1, 3, 16, 16]})
    assert wl.macs == 14 * 14 * 8 * 27 + 8 * 14 * 14 * 10
    for data, message in [(b"", "does not exist|no graph nodes|not an ONNX model"), (b"text, not a model\n", "not an ONNX model"),
                          (path.read_bytes()[:300], "not an ONNX model")]:
        bad = tmp_path / "bad.onnx"
        bad.write_bytes(data)
        with pytest.raises(WorkloadError, match=message):
            W.load(str(bad))
    with pytest.raises(WorkloadError, match="from_onnx"):  # the numpy-only loader points to the frontend
        from archgym.core.workloads import load
        load(str(path))


@pytest.mark.parametrize("conv, shape, macs", [
    (nn.Conv2d(4, 8, 4, padding="same"), (1, 4, 12, 12), 12 * 12 * 8 * 4 * 16),  # even kernel: asymmetric padding
    (nn.Conv2d(4, 8, 3, dilation=2, groups=2), (1, 4, 12, 12), 8 * 8 * 8 * 2 * 9),
    (nn.Conv1d(4, 8, 4, padding="same"), (1, 4, 30), 30 * 8 * 4 * 4),
    (nn.Conv3d(4, 8, 3, groups=4), (1, 4, 6, 6, 6), 4 ** 3 * 8 * 1 * 27),
])
def test_convolutions_without_a_row_of_their_shape_are_exact_gemms(conv, shape, macs, tmp_path):
    x = torch.zeros(shape)
    wl = W.from_torch(conv, x)
    assert wl.macs == macs
    same_table(W.from_onnx(export(conv, x, tmp_path / "c.onnx")), wl)


def test_envs_and_the_cli_take_an_onnx_model(tmp_path, capsys):
    import gymnasium as gym
    from torch import nn
    from archgym.cli import main
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, stride=2), nn.Flatten(),
                          nn.Linear(32 * 7 * 7, 10))
    x = torch.randn(1, 3, 16, 16)
    path = export(model, x, tmp_path / "small.onnx")
    env = gym.make("archgym/Systolic-v0", workload=str(path))
    ref = gym.make("archgym/Systolic-v0", workload=W.from_torch(model, x))
    designs = env.unwrapped.space.sample(np.random.default_rng(0), 8)
    np.testing.assert_array_equal(env.unwrapped.evaluate(designs)["macs"], ref.unwrapped.evaluate(designs)["macs"])
    assert env.unwrapped.evaluate(designs)["macs"][0] == 3 * 9 * 16 * 256 + 16 * 9 * 32 * 49 + 32 * 49 * 10
    assert main(["simulate", "systolic", "--workload", str(path), "--json"]) == 0
    import json
    assert json.loads(capsys.readouterr().out)["metrics"]["macs"] == 3 * 9 * 16 * 256 + 16 * 9 * 32 * 49 + 32 * 49 * 10


class Residual(nn.Module):
    """A residual block: BN after a conv (folded), a residual add, then BN after the add (not after a
    conv: an act row, fused onto the next conv's input), scalar arithmetic and a global mean."""

    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.conv2, self.bn2, self.conv3 = nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.Conv2d(8, 4, 1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        y = self.conv2(torch.relu(self.bn1(self.conv1(x)))) + x
        y = self.conv3(self.bn2(y)) * 2.0 * 1.0 + y[:, :4] * 0.0  # a x 2 is costed; x 1 and + 0 x t are not
        return self.fc(torch.sigmoid(y).mean((2, 3)))


class Tokens(nn.Module):
    """Token-wise activations and normalisations between linear layers."""

    def __init__(self, act):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(16, 32), act, nn.Linear(32, 8)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class ScalarSides(nn.Module):
    """Scalars on either side: x / 1, 1 * x and 0 + x are x; 1 - x, 0 - x and 2 / x cost one op per element."""

    def __init__(self, reflected_div=False):
        super().__init__()
        self.conv, self.reflected_div = nn.Conv2d(3, 8, 3), reflected_div

    def forward(self, x):
        y = 0 - (1 - (0 + 1.0 * (self.conv(x) / 1.0)))
        return 2 / (y + 3) if self.reflected_div else y


def conv_with(*acts):
    return nn.Sequential(nn.Conv2d(3, 8, 3), *acts, nn.Conv2d(8, 4, 1))


@pytest.mark.parametrize("model, shape", [
    (conv_with(nn.ReLU6()), (1, 3, 10, 10)),  # ONNX Clip(0, 6)
    (conv_with(nn.Hardswish(), nn.Hardsigmoid()), (1, 3, 10, 10)),
    (conv_with(nn.SiLU(), nn.LeakyReLU(0.1), nn.Tanh()), (1, 3, 10, 10)),  # SiLU: ONNX x * Sigmoid(x)
    (conv_with(nn.GroupNorm(2, 8), nn.InstanceNorm2d(8, affine=True)), (1, 3, 10, 10)),
    (nn.Sequential(nn.BatchNorm2d(3), nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU()), (1, 3, 10, 10)),
    (Residual(), (1, 8, 6, 6)),
    (Tokens(nn.GELU()), (1, 5, 16)),
    (Tokens(nn.GELU("tanh")), (1, 5, 16)),
    (Tokens(nn.Softmax(-1)), (1, 5, 16)),
    (Tokens(nn.LogSoftmax(-1)), (1, 5, 16)),
    (Tokens(nn.LayerNorm(32)), (1, 5, 16)),
    (Tokens(nn.Sequential(nn.LayerNorm(32), nn.ReLU(), nn.Dropout(0.1))), (1, 5, 16)),
    (ScalarSides(), (1, 3, 10, 10)),
    (ScalarSides(reflected_div=True), (1, 3, 10, 10)),  # ONNX: Reciprocal then Mul by 2
], ids=["relu6", "hardswish", "silu-leaky-tanh", "group-instance-norm", "batch-norms", "residual-scalar-mean",
        "gelu", "gelu-tanh", "softmax", "log-softmax", "layer-norm", "layer-norm-relu-dropout", "scalar-sides",
        "scalar-over-x"])
def test_element_wise_rows_agree_across_frontends(model, shape, tmp_path):
    x = torch.randn(shape)
    a = W.from_torch(model, x)
    same_table(a, W.from_onnx(export(model, x, tmp_path / "m.onnx")))
    assert (a.table[:, T.POST] + a.table[:, T.PRE]).any()  # element ops were recorded


def test_hardswish_below_opset_14_is_hardswish(tmp_path):
    model, x = conv_with(nn.Hardswish(), nn.Hardsigmoid()), torch.randn(1, 3, 10, 10)  # x * HardSigmoid(x), HardSigmoid
    same_table(W.from_onnx(export(model, x, tmp_path / "m.onnx", 13)), W.from_torch(model, x))


def test_element_wise_rows_hand_counted(tmp_path):
    wl = W.from_onnx(export(Residual(), torch.zeros(1, 8, 6, 6), tmp_path / "r.onnx"))
    assert wl.kinds() == ["conv", "conv", "add", "conv", "pool", "linear"]
    # relu after conv1 (bn1 folded into it); bn2 (2 ops) fused into conv3's input, x 2 (1) and sigmoid (4) into
    # its output; x 1, x 0 and + 0 cost nothing; the mean over (2, 3) is a global pooling row
    assert wl.table[:, T.PRE].tolist() == [0, 0, 0, 2, 0, 0]
    assert wl.table[:, T.POST].tolist() == [1, 0, 0, 5, 0, 0]
    assert wl.table[2, T.IN2_OCC] == T.NEVER  # the residual add's second operand is the network input


def test_scalars_on_the_left_are_costed_where_they_are_no_identity():
    # 1 - x and 0 - x: one op each (0 - x was taken for x); 2 / x (torch's __rdiv__, refused before): one more
    x = torch.zeros(1, 3, 10, 10)
    assert W.from_torch(ScalarSides(), x).table[:, T.POST].tolist() == [2]
    assert W.from_torch(ScalarSides(reflected_div=True), x).table[:, T.POST].tolist() == [4]  # + 3 and 2 / y


def gelu_block(approximate):
    block = torch_models.EncoderBlock(24, 3, 48)
    block.mlp[1] = nn.GELU(approximate)
    return block


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_decompositions_below_opset_20_are_gelu(approximate, tmp_path):
    # below opset 20 (Gelu) the exporter writes Erf or Tanh arithmetic; SDPA exports from opset 14, LayerNorm from 17
    for model, x, opsets in [(Tokens(nn.GELU(approximate)), torch.randn(1, 5, 16), (11, 13, 17)),
                             (Tokens(nn.GELU(approximate)).half(), torch.randn(1, 5, 16).half(), (17,)),  # 1e-3 constants
                             (gelu_block(approximate), torch.randn(1, 6, 24), (17, 20))]:
        a = W.from_torch(model, x)
        for opset in opsets:
            same_table(W.from_onnx(export(model, x, tmp_path / f"{opset}.onnx", opset)), a)
    # torch's own layer (odd heads: its fused fast path has no export); from_torch differs, splitting the packed Q, K, V GEMM
    layer = nn.Sequential(nn.TransformerEncoderLayer(24, 3, 48, 0.0, nn.GELU(approximate), batch_first=True))
    b = W.from_onnx(export(layer, torch.randn(1, 6, 24), tmp_path / "17.onnx", 17))
    same_table(b, W.from_onnx(export(layer, torch.randn(1, 6, 24), tmp_path / "20.onnx", 20)))
    assert b.kinds()[6] == "linear" and b.table[6, T.POST] == ELEMENTWISE_OPS["gelu"]  # fused onto linear1


# GELU as other exporters write it (HF BERT's x * 0.5 * (1 + erf(x * (1 / sqrt 2))), GPT-2's gelu_new with pow(x, 3)),
# between two MatMuls: x (1, 5, 16) -> h -> y -> (1, 5, 8)
GELU_ERF = [("Mul", "h half", "a"), ("Mul", "h rsqrt2", "b"), ("Erf", "b", "e"), ("Add", "e one", "f"), ("Mul", "a f", "y")]
GELU_TANH = [("Pow", "h three", "p"), ("Mul", "p kappa", "q"), ("Add", "h q", "r"), ("Mul", "beta r", "s"), ("Tanh", "s", "t"),
             ("Add", "t one", "u"), ("Mul", "h half", "a"), ("Mul", "a u", "y")]
SCALARS = {"half": 0.5, "one": 1.0, "rsqrt2": 0.5 ** 0.5, "three": 3.0, "kappa": 0.044715, "beta": (2 / np.pi) ** 0.5}


def onnx_mlp(path, nodes, scalars, opset=17):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(0)
    weights = [numpy_helper.from_array(rng.standard_normal(s).astype(np.float32), n) for n, s in (("w1", (16, 32)), ("w2", (32, 8)))]
    weights += [numpy_helper.from_array(np.array(v, np.float32 if isinstance(v, float) else None), n) for n, v in scalars.items()]
    nodes = [("MatMul", "x w1", "h"), *nodes, ("MatMul", "y w2", "out")]
    graph = helper.make_graph([helper.make_node(op, ins.split(), [out], name=out, **(attrs[0] if attrs else {}))
                               for op, ins, out, *attrs in nodes], "mlp",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 5, 16])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 5, 8])], weights)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), str(path))
    return path


def test_gelu_is_matched_by_value_and_other_erfs_are_refused(tmp_path):
    ref = W.from_torch(nn.Sequential(nn.Linear(16, 32, bias=False), nn.GELU(), nn.Linear(32, 8, bias=False)), torch.zeros(1, 5, 16))
    for nodes in (GELU_ERF, GELU_TANH):
        same_table(W.from_onnx(onnx_mlp(tmp_path / "g.onnx", nodes, SCALARS)), ref)
    erf_share = 100 * 160 / (160 + 160 + 40)  # of the elements the MatMuls and the Erf compute (5 x 32, 5 x 32, 5 x 8)
    for nodes, scalars, node in [([("Erf", "h", "y")], SCALARS, rf"y \(Erf\) {erf_share:.1f}%"),
                                 (GELU_ERF, SCALARS | {"half": 0.6}, r"e \(Erf\)"),
                                 (GELU_TANH, SCALARS | {"kappa": 0.04}, r"p \(Pow\)")]:
        with pytest.raises(WorkloadError, match=rf"no layer-table row for the ONNX ops of {node}"):
            W.from_onnx(onnx_mlp(tmp_path / "g.onnx", nodes, scalars))


def test_layer_norm_below_opset_17_is_layer_norm(tmp_path):
    # below opset 17 (LayerNormalization) the exporter writes ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div[, Mul, Add]
    tokens4 = nn.Sequential(nn.Linear(8, 8), nn.LayerNorm((4, 8), elementwise_affine=False), nn.Linear(8, 4))
    for model, x, opsets in [(Tokens(nn.LayerNorm(32)), torch.randn(1, 5, 16), (13, 16, 17)),
                             (Tokens(nn.LayerNorm(32, elementwise_affine=False)), torch.randn(1, 5, 16), (13, 16, 17)),
                             (nn.Sequential(nn.Linear(8, 8), nn.LayerNorm((4, 8)), nn.Linear(8, 4)), torch.randn(1, 5, 4, 8), (13, 16, 17)),
                             (tokens4, torch.randn(1, 5, 4, 8), (13, 16, 17)),
                             (Tokens(nn.LayerNorm(32)).half(), torch.randn(1, 5, 16).half(), (16,)),  # Casts to float and back
                             (torch_models.EncoderBlock(24, 3, 48), torch.randn(1, 6, 24), (14, 16))]:  # SDPA from opset 14
        a = W.from_torch(model, x)
        assert ELEMENTWISE_OPS["layer_norm"] in a.table[:, T.PRE] + a.table[:, T.POST]
        for opset in opsets:
            same_table(W.from_onnx(export(model, x, tmp_path / f"{opset}.onnx", opset)), a)


# LayerNorm written by hand with opset 18's ReduceMean (axes an input), between two MatMuls: h (1, 5, 32) -> y
LAYER_NORM = [("ReduceMean", "h last", "m"), ("Sub", "h m", "d"), ("Pow", "d two", "p"), ("ReduceMean", "p last", "v"),
              ("Add", "eps v", "e"), ("Sqrt", "e", "s"), ("Div", "d s", "n"), ("Mul", "gamma n", "g"), ("Add", "g beta", "y")]
NORM_CONSTANTS = {"last": [-1], "tokens": [1], "two": 2.0, "three": 3.0, "eps": 1e-12, "gamma": np.ones(32, np.float32),
                  "beta": np.zeros((1, 1, 32), np.float32), "token_bias": np.zeros((5, 1), np.float32)}


def test_layer_norm_is_matched_by_structure_and_look_alikes_are_refused(tmp_path):
    ref = W.from_torch(nn.Sequential(nn.Linear(16, 32, bias=False), nn.LayerNorm(32), nn.Linear(32, 8, bias=False)), torch.zeros(1, 5, 16))
    same_table(W.from_onnx(onnx_mlp(tmp_path / "n.onnx", LAYER_NORM, NORM_CONSTANTS, 18)), ref)
    relu_mean = [LAYER_NORM[0], ("Relu", "h", "r"), ("Sub", "r m", "d"), *LAYER_NORM[2:]]  # ReLU(h) minus the mean of h
    for nodes in [[*LAYER_NORM[:3], ("ReduceMean", "p tokens", "v"), *LAYER_NORM[4:]],  # the variance over another axis
                  [("ReduceMean", "h tokens", "m"), *LAYER_NORM[1:]],  # the mean over another axis
                  relu_mean,
                  [*LAYER_NORM[:5], ("Identity", "e", "s"), *LAYER_NORM[6:]],  # no Sqrt
                  [*LAYER_NORM[:2], ("Pow", "d three", "p"), *LAYER_NORM[3:]]]:  # not squared
        with pytest.raises(WorkloadError, match=r"no layer-table row for the ONNX ops of p \(Pow\)"):
            W.from_onnx(onnx_mlp(tmp_path / "n.onnx", nodes, NORM_CONSTANTS, 18))
    # a bias that is not of the normalised shape is an addition of its own (1 op per element, fused like the norm)
    wl = W.from_onnx(onnx_mlp(tmp_path / "n.onnx", [*LAYER_NORM[:-1], ("Add", "g token_bias", "y")], NORM_CONSTANTS, 18))
    assert ref.table[0, T.POST] == ELEMENTWISE_OPS["layer_norm"] and wl.table[0, T.POST] == ELEMENTWISE_OPS["layer_norm"] + 1
    # a Sqrt of constants (a Constant node's vector plus eps): folded, and the division by it costed
    import onnx
    vector = {"value": onnx.numpy_helper.from_array(np.full(32, 4.0, np.float32))}
    nodes = [("Constant", "", "c", vector), ("Add", "c eps", "e"), ("Sqrt", "e", "s"), ("Div", "h s", "y")]
    assert W.from_onnx(onnx_mlp(tmp_path / "n.onnx", nodes, NORM_CONSTANTS, 18)).table[:, T.POST].tolist() == [1, 0]


class Heads(nn.Module):
    """A linear layer's output split into heads with view(size()[:-1] + (heads, d)), as HF BERT's attention does."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(16, 32), nn.Linear(8, 8)

    def forward(self, x):
        y = self.fc1(x)
        return self.fc2(y.view(y.size()[:-1] + (4, 8)))


def test_reshapes_to_computed_shapes_below_opset_14(tmp_path):
    # Reshape-5/13's shape inference reads stored target shapes only: GroupNorm's Reshape to Shape(x), and with dynamic
    # axes Shape, Gather, Unsqueeze, Concat, were unknown shapes below opset 14
    groups, x = conv_with(nn.GroupNorm(2, 8), nn.InstanceNorm2d(8, affine=True)), torch.randn(1, 3, 10, 10)
    heads, tokens = Heads(), torch.randn(1, 5, 16)
    a, b = W.from_torch(groups, x), W.from_torch(heads, tokens)
    assert b.kinds() == ["linear", "linear"] and b.table[1, T.M] == 5 * 4  # fc2 over 5 tokens x 4 heads
    dynamic = {"input_names": ["x"], "dynamic_axes": {"x": {0: "batch", 1: "tokens"}}}
    for opset in (11, 13):
        same_table(W.from_onnx(export(groups, x, tmp_path / f"g{opset}.onnx", opset)), a)
        same_table(W.from_onnx(export(heads, tokens, tmp_path / f"h{opset}.onnx", opset, **dynamic),
                               input_shapes={"x": [1, 5, 16]}), b)


class Unmapped(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.fc = nn.Conv2d(3, 8, 3), nn.Linear(8 * 6 * 6, 10)

    def forward(self, x):
        return self.fc(self.conv(x).abs().flatten(1))


def test_unmapped_ops_are_named_with_their_share(tmp_path):
    x = torch.zeros(1, 3, 8, 8)
    with pytest.raises(WorkloadError, match="cannot cost the torch op 'abs'"):
        W.from_torch(Unmapped(), x)
    share = 288 / (288 + 288 + 10)  # Abs's 8 x 6 x 6 of the elements Conv, Abs and Gemm compute (Flatten re-views)
    with pytest.raises(WorkloadError, match=rf"ONNX ops of /Abs \(Abs\) {100 * share:.1f}% of the elements"):
        W.from_onnx(export(Unmapped(), x, tmp_path / "u.onnx"))


def test_onnx_ops_map_onto_graph_names():
    from archgym.frontends import graph, onnx_import
    assert set(onnx_import.ONNX_ACTIVATIONS.values()) <= set(graph.ELEMENTWISE_OPS)
    assert set(onnx_import.ONNX_REDUCTIONS.values()) <= graph.REDUCTIONS
    # ONNX has no NotEqual (torch's ne exports as Not(Equal), which is refused)
    assert set(onnx_import.ONNX_BINARY.values()) == set(graph.IDENTITY_SCALAR) | graph.COMPARISONS - {"ne"}
    assert set(onnx_import.ONNX_BINARY.values()) <= {graph._base(n) for n in graph.BINARY}


class CausalSelfAttention(nn.Module):
    """nanoGPT's attention (its non-flash path), its causal mask written as `mask`."""

    def __init__(self, mask, dim=16, heads=2, block=8):
        super().__init__()
        self.mask, self.heads = mask, heads
        self.c_attn, self.c_proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.register_buffer("bias", torch.tril(torch.ones(block, block)).view(1, 1, block, block))

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = (y.view(b, t, self.heads, c // self.heads).transpose(1, 2) for y in self.c_attn(x).split(c, dim=2))
        if self.mask == "sdpa":
            y = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / k.size(-1) ** 0.5)
            keep = self.bias[:, :, :t, :t]
            att = {"none": lambda: att,
                   "masked_fill": lambda: att.masked_fill(keep == 0, float("-inf")),
                   "where": lambda: torch.where(keep.bool(), att, float("-inf")),
                   "tensor.where": lambda: att.where(keep.bool(), torch.tensor(float("-inf"))),
                   "triu": lambda: att.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf")),
                   "scores": lambda: att.masked_fill(att < 0, 0.0),  # a condition computed from the input
                   "ne": lambda: att.masked_fill(att != 0, 0.0)}[self.mask]()
            y = att.softmax(-1) @ v
        return self.c_proj(y.transpose(1, 2).reshape(b, t, c))


@pytest.mark.parametrize("mask", ["masked_fill", "where", "tensor.where", "triu", "sdpa"])
def test_causal_masks_agree_across_frontends_and_cost_a_select_per_score(mask, tmp_path):
    x, scores = torch.randn(1, 6, 16), 1 * 2 * 6 * 6  # B x H x T x T
    a, plain = W.from_torch(CausalSelfAttention(mask), x), W.from_torch(CausalSelfAttention("none"), x)
    for opset in (14, 17, 20):
        same_table(W.from_onnx(export(CausalSelfAttention(mask), x, tmp_path / f"{opset}.onnx", opset)), a)
    # the mask (constant: its comparison costs nothing) is one select per score, fused with the scale and softmax onto Q·Kᵀ
    assert a.kinds() == plain.kinds() == ["linear", "matmul", "matmul", "linear"]
    assert a.table[:, T.POST].tolist() == [0, 1 + 1 + ELEMENTWISE_OPS["softmax"], 0, 0]
    outputs = a.table[:, T.G] * a.table[:, T.M] * a.table[:, T.N]
    assert outputs[1] == scores and ((a.table - plain.table)[:, T.POST] * outputs).sum() == scores


def test_masks_computed_from_the_input_are_costed(tmp_path):
    x = torch.randn(1, 6, 16)
    a = W.from_torch(CausalSelfAttention("scores"), x)
    for opset in (14, 17, 20):
        same_table(W.from_onnx(export(CausalSelfAttention("scores"), x, tmp_path / f"{opset}.onnx", opset)), a)
    # Q·Kᵀ (its scale fused), the comparison (1 op per score), the select of the scores and the mask (an add row), softmax
    assert a.kinds() == ["linear", "matmul", "act", "add", "act", "matmul", "linear"]
    assert a.table[:, T.POST].tolist() == [0, 1, 1, 0, ELEMENTWISE_OPS["softmax"], 0, 0]
    assert (a.table[2:5, T.H] * a.table[2:5, T.W] * a.table[2:5, T.C]).tolist() == [2 * 6 * 6] * 3
    # != exports as Not(Equal): refused, its share counting the Equal and Where among the elements the nodes compute
    share = 72 / (2 * 288 + 6 * 72 + 3 * 96)  # c_attn's MatMul and Add; Q·Kᵀ, scale, Equal, Not, Where, softmax; A·V, c_proj's 2
    assert W.from_torch(CausalSelfAttention("ne"), x).kinds() == a.kinds()
    with pytest.raises(WorkloadError, match=rf"ONNX ops of /Not \(Not\) {100 * share:.1f}% of the elements"):
        W.from_onnx(export(CausalSelfAttention("ne"), x, tmp_path / "ne.onnx", 17))
