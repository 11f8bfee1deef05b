"""Network search spaces, layer-table caching and the accuracy oracles (tiny training budgets)."""
import json

import numpy as np
import pytest
import torch

from archgym.core.errors import DesignError, UnknownNameError
from archgym.nas import (Budget, DatasetError, TrainedOracle, ZeroCostOracle, get_space,
                         make_oracle)
from archgym.nas.spaces import MobileNetV2Space, _divisible
from archgym.nas.tables import read_layers, write_layers
from archgym.core.workloads.table import CONV, G, K, KIND, LINEAR, M, N, POOL

torch.set_num_threads(1)


def test_space_sizes_and_parameters():
    assert get_space("mbv2").space.size == 3 ** 13
    assert get_space("mbv2-tab").space.size == 1152
    assert get_space("resnet").space.size == 3 * (3 * 2 * 3) ** 3
    names = get_space("mbv2").space.names
    assert names[0] == "resolution" and {"s2_depth", "s2_kernel", "s2_expand", "s2_width"} <= set(names)
    assert get_space("mbv2").space["s1_kernel"].values == (3, 5, 7)


def test_channel_rounding():
    assert [_divisible(16 * w) for w in (0.5, 0.75, 1.0)] == [8, 12, 16]
    assert [_divisible(64 * w) for w in (0.5, 0.75, 1.0)] == [32, 48, 64]


def test_build_runs_and_layer_table_matches_the_network():
    space = get_space("mbv2")
    arch = {**space.space.default(), "resolution": 16, "s1_depth": 1, "s1_expand": 3, "s1_kernel": 7, "s1_width": 1.0}
    model = space.build(arch, seed=0)
    assert model(torch.zeros(2, 1, 16, 16)).shape == (2, 10)
    t = space.layer_table(arch).table
    blocks = sum(arch[f"s{i}_depth"] for i in (1, 2, 3))
    assert (t[:, KIND] == CONV).sum() == 1 + 3 * blocks + 1  # stem, 3 convs per MBConv, head
    assert (t[:, KIND] == LINEAR).sum() == 1 and (t[:, KIND] == POOL).sum() == 1
    # the first block: 1x1 expand 16 -> 48 at 16x16, then a 7x7 depthwise with stride 2 (48 groups)
    expand, depthwise = t[1], t[2]
    assert (expand[M], expand[N], expand[K], expand[G]) == (256, 48, 16, 1)
    assert (depthwise[M], depthwise[N], depthwise[K], depthwise[G]) == (64, 1, 49, 48)
    macs = sum(m.weight.numel() // m.weight.shape[0] * m.weight.shape[0] * o
               for m, o in _conv_output_pixels(model, 16))
    assert space.macs(arch) == macs + 128 * 10


def _conv_output_pixels(model, r):
    out = []
    hooks = [m.register_forward_hook(lambda mod, i, o: out.append((mod, o.shape[-1] * o.shape[-2])))
             for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, r, r))
    for h in hooks:
        h.remove()
    return out


def test_hash_is_canonical_and_shared_with_the_sub_space():
    full, tab = get_space("mbv2"), get_space("mbv2-tab")
    arch = tab.space.default()
    assert full.hash(arch) == tab.hash(arch)
    assert full.hash({**arch, "s2_width": 1}) == full.hash({**arch, "s2_width": 1.0})
    assert full.hash(arch) != full.hash({**arch, "s3_kernel": 7 if arch["s3_kernel"] != 7 else 3})
    other = MobileNetV2Space(num_classes=100)
    assert other.hash(arch) != full.hash(arch)


def test_layer_table_is_extracted_once_per_architecture(monkeypatch):
    space = MobileNetV2Space()
    arch = space.space.default()
    first = space.layer_table(arch)
    import archgym.frontends
    monkeypatch.setattr(archgym.frontends, "from_torch", lambda *a, **k: pytest.fail("torch touched twice"))
    assert space.layer_table(dict(arch)) is first


def test_architecture_outside_the_space():
    with pytest.raises(DesignError, match=r"'mbv2'.*s1_kernel.*allowed values: \{3, 5, 7\}"):
        get_space("mbv2").validate({**get_space("mbv2").space.default(), "s1_kernel": 9})
    with pytest.raises(DesignError, match="missing parameter 's3_width'"):
        get_space("mbv2").hash({k: v for k, v in get_space("mbv2").space.default().items() if k != "s3_width"})


def test_unknown_names():
    with pytest.raises(UnknownNameError, match="unknown accuracy oracle 'oracle9'; valid: trained, tabular, predictor, zero-cost"):
        make_oracle("oracle9")
    with pytest.raises(UnknownNameError, match="network space"):
        get_space("nasbench101")
    with pytest.raises(UnknownNameError, match="zero-cost method 'grasp'"):
        ZeroCostOracle("mbv2", method="grasp")


class Halves(torch.utils.data.Dataset):
    """An easy seeded task: class 1 when the left half of a 12x12 image is brighter."""

    def __init__(self, n, seed, channels=1, shape=None, label=None):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.rand(n, channels, 12, 12, generator=g) * 0.5
        self.y = torch.randint(0, 2, (n,), generator=g)
        self.x[self.y == 1, :, :, :6] += 0.5
        self.x[self.y == 0, :, :, 6:] += 0.5
        self.shape, self.label = shape, label

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        x = self.x[i] if self.shape is None else self.x[i].reshape(self.shape)
        return x, (self.y[i] if self.label is None else self.label)


TINY = Budget(epochs=4, batch_size=32, lr=0.01)
SMALL_ARCH = {"resolution": 8, "s1_depth": 1, "s1_kernel": 3, "s1_expand": 3, "s1_width": 0.5, "s2_depth": 1,
              "s2_kernel": 3, "s2_expand": 3, "s2_width": 0.5, "s3_depth": 1, "s3_kernel": 3, "s3_expand": 3,
              "s3_width": 0.5}


def test_trained_oracle_learns_a_user_dataset_and_is_deterministic(tmp_path):
    cache = tmp_path / "runs.jsonl"
    oracle = TrainedOracle("mbv2", Halves(256, 0), Halves(128, 1), budget=TINY, seed=3, cache_path=cache)
    acc = oracle.query(SMALL_ARCH)
    assert 0.85 <= acc <= 1.0
    row = json.loads(cache.read_text())
    assert row["hash"] == get_space("mbv2").hash(SMALL_ARCH) and row["accuracy"] == acc
    assert row["macs"] == get_space("mbv2").macs(SMALL_ARCH) and row["params"] > 0
    again = TrainedOracle("mbv2", Halves(256, 0), Halves(128, 1), budget=TINY, seed=3)
    assert again.query(SMALL_ARCH) == acc  # same seed, fresh oracle: the same number


def test_trained_oracle_reads_its_cache_without_training(tmp_path, monkeypatch):
    cache = tmp_path / "runs.jsonl"
    first = TrainedOracle("mbv2", Halves(64, 0), budget=TINY, cache_path=cache).query(SMALL_ARCH)
    import archgym.nas.train
    def retrain(*args, **kwargs):
        raise RuntimeError("retrained")
    monkeypatch.setattr(archgym.nas.train, "train_and_evaluate", retrain)
    assert TrainedOracle("mbv2", Halves(64, 0), budget=TINY, cache_path=cache).query(SMALL_ARCH) == first
    with pytest.raises(RuntimeError, match="retrained"):  # another budget is another experiment
        TrainedOracle("mbv2", Halves(64, 0), budget=Budget(epochs=1), cache_path=cache).query(SMALL_ARCH)


@pytest.mark.parametrize("bad, message", [
    (Halves(8, 0, shape=(144,)), r"float tensor of shape \(C, H, W\), got torch.float32 of shape \(144,\)"),
    (Halves(8, 0, channels=3), "images have 3 channels but space 'mbv2' expects 1"),
    (Halves(8, 0, label=0.5), "label must be one non-negative integer class index"),
    (Halves(8, 0, label=12), "label 12 does not fit space 'mbv2' with 10 classes"),
    ([1, 2, 3], "item 0 must be an \\(image, label\\) pair"),
    (iter([]), "expected a map-style torch Dataset"),
])
def test_dataset_of_the_wrong_shape(bad, message):
    with pytest.raises(DatasetError, match=message):
        TrainedOracle("mbv2", bad, budget=TINY)


def test_zero_cost_scores():
    naswot = ZeroCostOracle("mbv2", "naswot")
    a = naswot.query(SMALL_ARCH)
    assert np.isfinite(a) and a == ZeroCostOracle("mbv2", "naswot").query(SMALL_ARCH)
    synflow = ZeroCostOracle("mbv2", "synflow")
    wide = {**SMALL_ARCH, **{f"s{i}_width": 1.0 for i in (1, 2, 3)}}
    assert synflow.query(wide) > synflow.query(SMALL_ARCH) + 1.0  # log-saliency grows with the weights
    assert naswot.metric == synflow.metric == "score"


def test_predictor_fits_a_log_and_reports_held_out_error():
    import pandas as pd
    space = get_space("mbv2")
    rng = np.random.default_rng(0)
    archs = space.space.sample(rng, 300)
    df = pd.DataFrame(archs)
    df["accuracy"] = 0.5 + 0.02 * df["resolution"] + 0.1 * df["s3_width"] + rng.normal(0, 0.005, len(df))
    oracle = make_oracle("predictor", "mbv2", data=df, steps=600, seed=0)
    assert oracle.report["n_test"] == 60 and oracle.rmse < 0.03 and oracle.kendall_tau > 0.8
    hi = {**space.space.default(), "resolution": 16, "s3_width": 1.0}
    lo = {**space.space.default(), "resolution": 8, "s3_width": 0.5}
    assert oracle.query(hi) - oracle.query(lo) == pytest.approx(0.21, abs=0.05)
    logged = make_oracle("predictor", "mbv2", data=pd.concat([df, df.assign(rows=8)]), steps=10)
    assert logged.report["n_train"] + logged.report["n_test"] == 300  # one row per architecture
    with pytest.raises(Exception, match="lacks column 'accuracy'"):
        make_oracle("predictor", "mbv2", data=df.drop(columns="accuracy"))


def test_layer_table_files_round_trip(tmp_path):
    space = get_space("mbv2-tab")
    archs = space.space.sample(np.random.default_rng(1), 4)
    tables = {space.hash(a): space.layer_table(a) for a in archs}
    write_layers(tmp_path / "l.npz", tables)
    back = read_layers(tmp_path / "l.npz")
    assert set(back) == set(tables)
    for k, wl in tables.items():
        np.testing.assert_array_equal(back[k].table, wl.table)
        assert back[k].layer_names == wl.layer_names


def test_build_script_is_resumable(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location("build_nas_table", "scripts/build_nas_table.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "t.csv"
    args = ["--space", "mbv2-tab", "--out", str(out), "--epochs", "1", "--seed", "0"]
    assert script.main(args + ["--limit", "2"]) == 0
    first = out.read_text().splitlines()
    assert len(first) == 3 and first[0].startswith("hash,resolution,")
    assert script.main(args + ["--limit", "3"]) == 0  # resumes: keeps the two rows, adds one
    second = out.read_text().splitlines()
    assert second[:3] == first and len(second) == 4
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["architectures"] == 3 and [s["architectures"] for s in meta["sessions"]] == [2, 1]
    assert meta["budget"]["epochs"] == 1 and meta["space"] == "mbv2-tab"


def test_post_training_quantisation_is_faithful_at_8_bits():
    from archgym.nas.train import activation_ranges, quantized_accuracy
    oracle = TrainedOracle("mbv2", Halves(256, 0), Halves(128, 1), budget=TINY, seed=3, quant_bits=[(8, 8), (2, 2)])
    row = oracle.train(SMALL_ARCH)
    assert abs(row["accuracy_w8a8"] - row["accuracy"]) <= 0.02
    assert row["accuracy_w2a2"] < row["accuracy_w8a8"]
    model = get_space("mbv2").build(SMALL_ARCH, seed=0).eval()
    x = torch.rand(64, 1, 8, 8)
    ranges = activation_ranges(model, x)
    outs = []
    hooks = [m.register_forward_hook(lambda mod, i, o: outs.append(o.flatten()))
             for m in model.modules() if isinstance(m, (torch.nn.ReLU, torch.nn.ReLU6))]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    # every value counts (a strided subsample once missed whole channels)
    assert ranges == pytest.approx([float(torch.quantile(o, 0.9999)) for o in outs])
    with torch.no_grad():
        labels = model(x).argmax(1)  # the float model's own predictions: 8-bit keeps nearly all of them
    assert quantized_accuracy(model, ranges, x, labels, 8, 8) >= 0.9
