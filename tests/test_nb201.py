"""NAS-Bench-201: the cell encoding, the official index, and the shipped CIFAR-10 accuracy table."""
import gzip
import hashlib
import importlib.util
import itertools
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from archgym.core.errors import ArchGymError, DesignError
from archgym.nas import NB201Oracle, get_space, make_oracle, nb201
from archgym.nas.nb201_table import TABLE, TableError, read_nb201_table, source_for_bits

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_PYTHON = ROOT / ".venv-analognas" / "bin" / "python"  # made by `make test` (Makefile)

# Published (index, arch string): NB201's own asserts in AutoDL-Projects exps/NAS-Bench-201/main.py
# (0, 9, 123); the NB201 README's query example and HW-NAS-Bench config_1.pkl (1); HW-NAS-Bench
# config_15624.pkl (15624).
PUBLISHED = {
    0: "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
    9: "|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
    123: "|avg_pool_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|",
    1: "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    15624: "|nor_conv_1x1~0|+|none~0|nor_conv_1x1~1|+|none~0|nor_conv_1x1~1|nor_conv_1x1~2|",
}
# Rows read from analog-nasbench 0.1.3 (/work/notes/nb201/REPORT.md, converter run with the package):
# index -> (NASLib key, baseline, PTQ, QAT) in percent.
SPOT_ROWS = {
    0: ("433000", 85.9708, 84.8656, 85.0164),
    1: ("220420", 93.2956, 93.1564, 92.5368),
    1651: ("111111", 10.0, 10.0, 10.0),
    1462: ("222222", 93.2424, 93.1516, 92.3096),
    9930: ("220222", 93.988, 93.7756, 93.1472),
    13714: (None, 94.0664, 93.8408, 93.3064),
    1835: ("000000", 60.7836, 59.2256, 37.5616),
    12115: (None, 91.80559, None, None),
}


def test_official_index_matches_published_strings():
    order = nb201.official_order()
    assert len(order) == len(set(order)) == 15625
    for i, s in PUBLISHED.items():
        assert order[i] == s
        assert get_space("nb201").index(s) == i
        assert get_space("nb201").arch_string(i) == s


def test_architecture_numbers_are_nb201_generation_order():
    space = get_space("nb201")
    generation = [nb201.to_string(ops) for ops in itertools.product(nb201.OPS, repeat=6)]
    idx = space.space.enumerate_indices()
    for n in (0, 1, 777, 15624):
        assert space.arch_string(space.space.from_indices(idx[n])) == generation[n]
    numbers = nb201.number_of_index(np.arange(15625))
    assert sorted(numbers.tolist()) == list(range(15625))
    assert np.array_equal(nb201.index_of_number(numbers), np.arange(15625))


def test_naslib_encoding_is_not_nb201s():
    for i, (key, *_) in SPOT_ROWS.items():
        if key is not None:
            assert nb201.to_string(nb201.from_naslib([int(c) for c in key])) == nb201.official_order()[i]
    # the trap: reading the NASLib digits as NB201 op codes in arch-string edge order gives another cell
    naive = nb201.to_string([nb201.OPS[int(c)] for c in "220420"])
    assert naive != nb201.official_order()[1]
    for ops in itertools.islice(itertools.product(nb201.OPS, repeat=6), 0, 15625, 97):
        assert nb201.from_naslib(nb201.to_naslib(ops)) == ops


def _output_unreachable(ops) -> bool:
    """Node 3 has no path from node 0 along edges that are not `none` (NB201 edge semantics)."""
    reach = {0}
    for (i, j), op in zip(nb201.EDGES, ops):  # edges come in order of their target node
        if op != "none" and i in reach:
            reach.add(j)
    return 3 not in reach


def test_dead_cells_are_exactly_the_ten_percent_rows():
    """The encoding, checked end to end against the data: the cells whose output cannot see the
    input are exactly the 341 rows at chance accuracy (10.0 %)."""
    t = read_nb201_table()
    dead = np.array([_output_unreachable(nb201.parse(s)) for s in nb201.official_order()])
    assert dead.sum() == 341
    np.testing.assert_array_equal(t.percent["baseline"] == 10.0, dead)


def test_shipped_table_spot_rows_and_provenance():
    t = read_nb201_table()
    for i, (_, *values) in SPOT_ROWS.items():
        for source, v in zip(("baseline", "ptq", "qat"), values):
            if v is not None:
                assert t.percent[source][i] == v
    meta = t.meta
    assert meta["rows"] == 15625 and meta["units"] == "percent"
    assert meta["meaning"]["bit_widths"] == {"baseline_acc": "float32", "ptq_acc": [8, 8], "qat_acc": [8, 8]}
    assert meta["command"].startswith("python scripts/build_nb201_table.py")
    assert "Apache-2.0" in meta["source"]["licence"] and "MIT" in meta["source"]["licence"]
    assert meta["package_version"] == "0.1.3"
    assert TABLE.stat().st_size < 400_000
    acc = t.fraction_by_number("ptq")
    assert acc.max() == pytest.approx(0.938408) and acc.min() == pytest.approx(0.10)


@pytest.mark.skipif(not PACKAGE_PYTHON.exists(), reason="analog-nasbench venv absent (make test builds .venv-analognas)")
def test_shipped_table_equals_the_package_on_every_row():
    spec = importlib.util.spec_from_file_location("build_nb201_table", ROOT / "scripts" / "build_nb201_table.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    out = subprocess.run([str(PACKAGE_PYTHON), "-c", build.READER, json.dumps(list(build.ATTRIBUTES))],
                         check=True, capture_output=True, text=True).stdout.splitlines()
    info, records = json.loads(out[0]), [json.loads(line) for line in out[1:]]
    assert info["version"] == "0.1.3" and info["records"] == 15625
    assert info["data_sha256"] == read_nb201_table().meta["package_data_sha256"]
    data, rows = build.table_bytes(records)
    t = read_nb201_table()
    for row in rows:
        i = row[0]
        assert [float(v) for v in row[2:]] == [t.percent[s][i] for s in ("baseline", "ptq", "qat")], f"index {i}"
    assert hashlib.sha256(data).hexdigest() == t.meta["sha256"]  # byte for byte


def _copy(tmp_path, mutate=None, fix_checksum=False) -> Path:
    path = tmp_path / TABLE.name
    shutil.copy(TABLE.with_name("nb201-cifar10.json"), tmp_path / "nb201-cifar10.json")
    data = TABLE.read_bytes()
    if mutate is not None:
        data = mutate(data)
    path.write_bytes(data)
    if fix_checksum:
        meta = json.loads((tmp_path / "nb201-cifar10.json").read_text())
        meta["sha256"] = hashlib.sha256(data).hexdigest()
        (tmp_path / "nb201-cifar10.json").write_text(json.dumps(meta))
    return path


def _edit_text(edit):
    return lambda data: gzip.compress(edit(gzip.decompress(data).decode()).encode(), mtime=0)


def test_corrupted_or_truncated_table_is_an_error_naming_the_file(tmp_path):
    flipped = _copy(tmp_path, lambda d: d[:5000] + bytes([d[5000] ^ 1]) + d[5001:])
    with pytest.raises(TableError, match=f"{flipped.name}: sha256 .* does not match"):
        read_nb201_table(flipped)
    truncated = _copy(tmp_path, lambda d: d[:len(d) // 2], fix_checksum=True)
    with pytest.raises(TableError, match=f"{truncated.name}: not a readable gzipped CSV"):
        read_nb201_table(truncated)
    short = _copy(tmp_path, _edit_text(lambda s: "\n".join(s.splitlines()[:-1]) + "\n"), fix_checksum=True)
    with pytest.raises(TableError, match="15,624 rows, expected 15,625"):
        read_nb201_table(short)
    swapped = _copy(tmp_path, _edit_text(lambda s: s.replace("\n0,", "\nX,", 1)), fix_checksum=True)
    with pytest.raises(TableError, match=r"nb201-cifar10.csv.gz:2: expected index 0"):
        read_nb201_table(swapped)
    bad_value = _copy(tmp_path, _edit_text(lambda s: s.replace(",85.9708,", ",185.9708,", 1)), fix_checksum=True)
    with pytest.raises(TableError, match=r":2: baseline_acc='185.9708' is not a percentage"):
        read_nb201_table(bad_value)
    (tmp_path / "nb201-cifar10.json").unlink()
    with pytest.raises(TableError, match="missing"):
        read_nb201_table(bad_value)


def test_bad_arch_strings_and_indices_name_the_field():
    space = get_space("nb201")
    ok = PUBLISHED[1]
    with pytest.raises(DesignError, match="edge_1_2: unknown op 'conv_5x5'; allowed ops: none, skip_connect"):
        space.arch(ok.replace("avg_pool_3x3~1", "conv_5x5~1"))
    with pytest.raises(DesignError, match="node 2 has 1 incoming edges, expected 2"):
        space.arch("|nor_conv_3x3~0|+|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
    with pytest.raises(DesignError, match="2 node groups"):
        space.arch("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|")
    with pytest.raises(DesignError, match="must be 'op~1'"):
        space.arch(ok.replace("avg_pool_3x3~1", "avg_pool_3x3~0"))
    with pytest.raises(DesignError, match="needs 6 ops, one per edge"):
        space.arch(["none"] * 5)
    for bad in (-1, 15625, True, 3.0):
        with pytest.raises(DesignError, match=r"NB201 index must be an integer in 0..15624"):
            space.arch(bad) if not isinstance(bad, float) else nb201.check_index(bad)
    with pytest.raises(DesignError, match="edge_0_1.*allowed values"):
        space.validate({**space.space.default(), "edge_0_1": "sep_conv_3x3"})


def test_oracle_and_bit_widths():
    oracle = make_oracle("nb201", "nb201", source="ptq")
    assert isinstance(oracle, NB201Oracle)
    assert oracle.query(get_space("nb201").arch(13714)) == pytest.approx(0.938408)
    assert NB201Oracle(source="baseline").query(get_space("nb201").arch(1)) == pytest.approx(0.932956)
    assert source_for_bits(8, 8, "qat") == "qat"
    with pytest.raises(DesignError, match="weight_bits=4: .*measured at 8-bit weights and activations only.*allowed value: 8"):
        source_for_bits(4, 8, "ptq")
    with pytest.raises(DesignError, match="act_bits=16"):
        source_for_bits(8, 16, "ptq")
    with pytest.raises(DesignError, match="accuracy must be 'ptq' or 'qat'"):
        source_for_bits(8, 8, "baseline")
    with pytest.raises(DesignError, match="accuracy source must be one of baseline, ptq, qat"):
        NB201Oracle(source="int4")
    with pytest.raises(ArchGymError, match="scores the NAS-Bench-201 space 'nb201' only"):
        NB201Oracle("mbv2-tab")


def test_functionally_identical_cells_and_the_tables_noise():
    from archgym.nas.nb201_table import noise_std
    none3 = ("none",) * 3
    # node 1 feeds nothing: its conv cannot change the output
    assert nb201.canonical_ops(("nor_conv_3x3", "none", "none", "skip_connect", "none", "none")) == \
        none3 + ("skip_connect", "none", "none")
    # pooling or skipping an always-zero node stays zero; a conv does not (its BatchNorm adds a learned offset)
    assert nb201.canonical_ops(("none", "none", "avg_pool_3x3", "skip_connect", "none", "skip_connect")) == \
        none3 + ("skip_connect", "none", "none")
    kept = ("none", "none", "nor_conv_3x3", "skip_connect", "none", "nor_conv_1x1")
    assert nb201.canonical_ops(kept) == kept
    # one training run's standard deviation, from the 548 classes of identical cells (not the chance class)
    for source, std in (("baseline", 0.2632), ("ptq", 1.0714), ("qat", 2.3465)):
        n = noise_std(source)
        assert (n["classes"], n["dof"]) == (548, 4912) and n["std"] == pytest.approx(std, abs=1e-4)


def test_hwnasbench_latencies_are_the_published_ones():
    """HW-NAS-Bench's README prints index 0's CIFAR-10 costs; its Eyeriss and FPGA latencies are sums of
    per-op costs over a cell's op counts (no topology; skip and none free; a pooling edge costs the Eyeriss
    exactly what a conv3x3 edge does), which docs/codesign.md's comparison relies on."""
    from archgym.nas.nb201_hwnas import read_hwnasbench
    t = read_hwnasbench()
    assert t["eyeriss_latency_ms"][0] == pytest.approx(3.64562, abs=1e-12)
    assert t["fpga_latency_ms"][0] == pytest.approx(2.57296, abs=1e-12)
    ops = [nb201.parse(a) for a in nb201.official_order()]
    counts = np.array([[o.count(k) for k in ("nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3", "skip_connect")]
                       for o in ops], dtype=float)
    X = np.c_[np.ones(len(counts)), counts]
    for column, per_op in (("eyeriss_latency_ms", (1.67954, 1.47456, 0.24576, 1.47456, 0.0)),
                           ("fpga_latency_ms", (1.13296, 1.2576, 0.5152, 0.4096, 0.0))):
        np.testing.assert_allclose(X @ np.array(per_op), t[column], rtol=0, atol=1e-9)


def test_a_corrupted_hwnasbench_table_is_an_error_naming_it(tmp_path, monkeypatch):
    from archgym.nas import nb201_hwnas
    for name in ("hwnasbench-nb201.csv.gz", "hwnasbench-nb201.json"):
        shutil.copy(nb201_hwnas.TABLE.with_name(name), tmp_path / name)
    data = bytearray((tmp_path / "hwnasbench-nb201.csv.gz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "hwnasbench-nb201.csv.gz").write_bytes(bytes(data))
    monkeypatch.setattr(nb201_hwnas, "TABLE", tmp_path / "hwnasbench-nb201.csv.gz")
    nb201_hwnas.read_hwnasbench.cache_clear()
    try:
        with pytest.raises(ArchGymError, match="hwnasbench-nb201.csv.gz.*sha256"):
            nb201_hwnas.read_hwnasbench()
    finally:
        nb201_hwnas.read_hwnasbench.cache_clear()
