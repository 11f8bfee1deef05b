"""DRAM traffic of the systolic model: the closed-form tiling/reuse model against SCALE-Sim 3.0.0.

Three layers of evidence:
1. `tests/systolic_dram_reference.py` replays SCALE-Sim's address streams through its epoch-flush
   buffer and must reproduce SCALE-Sim's ifmap and filter DRAM reads exactly, on every fixture layer.
2. The closed form (`simulators/systolic/dram_model.py`) must be within 10% of SCALE-Sim's total DRAM
   reads (ifmap + filter) for every (topology, array, dataflow, SRAM) fixture case, and per layer
   within the bounds stated in `test_model_per_layer_on_fixture`; filter reads are exact, except
   os blocks in SCALE-Sim's sawtooth regime, where the (monotone) model takes the tooth's mean.
3. On random small layers the closed form is compared with the reference (exact where the model
   claims exactness; statistically elsewhere), and checked for monotonicity and bounds.
The fixture (tests/fixtures/scalesim/reference.csv) was generated with
`tests/fixtures/scalesim/generate.py` (scalesim 3.0.0, CALC mode), in its own venv:
  generate.py --topologies tests/fixtures/scalesim/topologies --out reference.csv --cases \
    test.csv:128x128:os,ws,is:64 test_mnk_input.csv:128x128:os,ws,is:64 \
    test_mnk_input.csv:32x32:os,ws,is:64 edge_conv.csv:8x8:os,ws,is:64,1,8,32 \
    edge_gemm.csv:16x16:os,ws,is:64,1,8 edge_conv.csv:4x16:os,ws,is:64 \
    alexnet.csv:128x128:os,ws,is:64 alexnet.csv:32x32:os,ws,is:64,8,256 \
    mobilenet.csv:128x128:os,ws,is:64 mobilenet.csv:32x32:os,ws,is:64 \
    alexnet.csv:64x16:os,ws,is:32 Resnet18.csv:128x128:os,ws,is:64,16 Googlenet.csv:128x128:os,ws,is:64 \
    nb201.csv:64x64:os,ws,is:64
"""
import csv
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import systolic_dram_reference as ref
from archgym.core.workloads import load
from archgym.core.workloads.table import C, EH, EW, FH, FW, G, H, K, KIND, M, N, SH, SW, W
from simulators.systolic.dram_model import dram_traffic

FIXTURES = Path(__file__).parent / "fixtures" / "scalesim"
DF = {"os": 0, "ws": 1, "is": 2}


def _model(row, rows, cols, df, words):
    """(ifmap, filter, ofmap) DRAM words of one layer-table row, all groups."""
    g = int(row[G])
    out = dram_traffic(rows, cols, df, int(row[M]), int(row[N]), int(row[K]), int(row[KIND]),
                       int(row[H]), int(row[W]), int(row[C]) // g, int(row[FH]), int(row[FW]),
                       int(row[SH]), int(row[SW]), int(row[EH]), int(row[EW]), words, words, words)
    return tuple(g * int(x) for x in out)


def _fixture_layers():
    """One entry per (case, our layer): SCALE-Sim's DP channels summed back into one layer."""
    groups = defaultdict(lambda: [0, 0, 0])
    with open(FIXTURES / "reference.csv") as f:
        for r in csv.DictReader(f):
            key = (r["topology"], int(r["rows"]), int(r["cols"]), r["dataflow"], int(r["sram_kb"]),
                   r["layer"].split("Channel_")[0])
            acc = groups[key]
            acc[0] += int(r["ifmap_dram_reads"])
            acc[1] += int(r["filter_dram_reads"])
            acc[2] += int(r["ofmap_dram_writes"])
    tables = {}
    out = []
    for (topo, rows, cols, df, kb, name), (ri, rf, wo) in groups.items():
        if topo not in tables:
            wl = load(FIXTURES / "topologies" / topo)
            tables[topo] = dict(zip(wl.layer_names, wl.table))
        out.append(dict(case=(topo, rows, cols, df, kb), name=name, row=tables[topo][name],
                        ifmap=ri, filter=rf, ofmap=wo))
    return out


LAYERS = _fixture_layers()


@pytest.fixture(scope="module")
def model_on_fixture():
    res = []
    for lay in LAYERS:
        topo, rows, cols, df, kb = lay["case"]
        res.append(_model(lay["row"], rows, cols, DF[df], kb * 1024))
    return res


def test_reference_reproduces_scalesim_exactly():
    """The stream replay gives SCALE-Sim's ifmap and filter DRAM reads on every fixture layer."""
    bad = []
    for lay in LAYERS:
        topo, rows, cols, df, kb = lay["case"]
        ri, rf = ref.layer_reads(lay["row"], rows, cols, DF[df], kb * 1024, kb * 1024)
        if (ri, rf) != (lay["ifmap"], lay["filter"]):
            bad.append((lay["case"], lay["name"], (ri, rf), (lay["ifmap"], lay["filter"])))
    assert not bad, bad[:5]


def test_model_topology_totals_within_10pct(model_on_fixture):
    """Per (topology, array, dataflow, SRAM): total DRAM reads within 10% of SCALE-Sim."""
    tot = defaultdict(lambda: np.zeros(2))
    for lay, (mi, mf, _) in zip(LAYERS, model_on_fixture):
        tot[lay["case"]] += [mi + mf, lay["ifmap"] + lay["filter"]]
    errs = {case: v[0] / v[1] - 1 for case, v in tot.items()}
    worst = max(errs, key=lambda c: abs(errs[c]))
    assert abs(errs[worst]) <= 0.10, (worst, errs[worst])


def test_model_per_layer_on_fixture(model_on_fixture):
    """Per layer: filter reads exact or within SCALE-Sim's sawtooth; total reads within 10% for
    >= 93% of the layers and within 30% for all (measured: 95.0%, worst 24%, median 0). The misses
    are os filter sawtooth teeth and layers where SCALE-Sim's epoch flush phase-locks onto folds."""
    errs = []
    for lay, (mi, mf, _) in zip(LAYERS, model_on_fixture):
        topo, rows, cols, df, kb = lay["case"]
        row = lay["row"]
        tol = int(row[G]) * _filter_tolerance(rows, cols, DF[df], int(row[M]), int(row[N]), int(row[K]), kb * 1024)
        assert abs(mf - lay["filter"]) <= tol, (lay["case"], lay["name"])
        errs.append(abs((mi + mf) / (lay["ifmap"] + lay["filter"]) - 1))
    errs = np.array(errs)
    assert np.mean(errs <= 0.10) >= 0.93
    assert errs.max() <= 0.30
    assert np.median(errs) <= 0.01


def test_model_ofmap_writes_on_fixture(model_on_fixture):
    """Ofmap writes: every output (os) or partial sum (ws/is) once; SCALE-Sim's write buffer pads at
    most a few lines of `cols` words."""
    for lay, (_, _, wo) in zip(LAYERS, model_on_fixture):
        cols = lay["case"][2]
        g = int(lay["row"][G])
        assert 0 <= lay["ofmap"] - wo <= 4 * g * cols, (lay["case"], lay["name"], wo, lay["ofmap"])


# ---- closed form vs the exact reference on random small layers -----------------------------------

def _conv(h, w, c, fh, fw, s):
    eh, ew = -(-(h - fh + s) // s), -(-(w - fw + s) // s)
    return eh, ew, eh * ew, fh * fw * c


def _both(rows, cols, df, h, w, c, fh, fw, s, n, words):
    eh, ew, m, k = _conv(h, w, c, fh, fw, s)
    model = dram_traffic(rows, cols, df, m, n, k, 0, h, w, c, fh, fw, s, s, eh, ew, words, words, words)
    exact = (ref.ifmap_reads(rows, cols, df, h, w, c, fh, fw, s, s, eh, ew, n, words),
             ref.filter_reads(rows, cols, df, m, n, k, words))
    return model, exact


def _geometry(h, w, c, fh, fw, s):
    """(compulsory words, valid accesses per pass, windows overlap?) of a conv, by brute force."""
    eh, ew, m, k = _conv(h, w, c, fh, fw, s)
    ys = [oy * s + a for oy in range(eh) for a in range(fh) if oy * s + a < h]
    xs = [ox * s + b for ox in range(ew) for b in range(fw) if ox * s + b < w]
    return len(set(ys)) * len(set(xs)) * c, len(ys) * len(xs) * c, len(set(ys)) < len(ys) or len(set(xs)) < len(xs)


layer = st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 3)).flatmap(
    lambda f: st.tuples(st.integers(f[0], 24), st.integers(f[1], 24), st.sampled_from([1, 2, 3, 8, 16]),
                        st.just(f[0]), st.just(f[1]), st.just(f[2])))
array = st.tuples(st.sampled_from([1, 2, 4, 8, 16, 32]), st.sampled_from([1, 2, 4, 8, 16, 32]))
words = st.sampled_from([0, 99, 100, 250, 1000, 3000, 10000, 65536])


def _filter_tolerance(rows, cols, df, m, n, k, wd):
    """Allowed |model - SCALE-Sim| of filter reads: 0, except for os blocks that fit in the epoch but
    are re-read, where SCALE-Sim's count is a sawtooth in E and the model takes its mean."""
    e = 50 * (wd // 100)
    if wd < 100 or df != 0 or -(-m // rows) == 1:
        return 0
    b, nb, br = k * cols, n // cols, k * (n % cols)
    amp = (nb - 1) // (-(-e // b) - 1) * b // 2 + 1 if (nb > 0 and b < e) else 0
    return amp + (br if br < e else 0)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300), st.integers(1, 300), st.integers(1, 300), array, st.integers(0, 2), words)
def test_filter_reads_exact_or_within_the_sawtooth(m, n, k, arr, df, wd):
    """Filter traffic is a closed form of SCALE-Sim's buffer: exact for ws, is and os whenever the
    blocks are not re-read or never fit; else within half a tooth of SCALE-Sim's sawtooth. Below
    100 words SCALE-Sim's buffer never flushes and the model deliberately charges more."""
    _, rf, _ = dram_traffic(arr[0], arr[1], df, m, n, k, 1, m, 1, k, 1, 1, 1, 1, m, 1, wd, wd, wd)
    exact = ref.filter_reads(arr[0], arr[1], df, m, n, k, wd)
    if wd < 100:
        assert rf >= exact
    else:
        assert abs(rf - exact) <= _filter_tolerance(arr[0], arr[1], df, m, n, k, wd)


@settings(max_examples=150, deadline=None)
@given(layer, array, st.integers(0, 2), st.integers(1, 40), words)
def test_ifmap_exact_where_claimed_and_bounded(lay, arr, df, n, wd):
    """Exact when everything fits or when no windows overlap (GEMM-like), for >= 100 words;
    otherwise between compulsory and all-miss, like SCALE-Sim itself."""
    h, w, c, fh, fw, s = lay
    (mi, mf, mo), (ri, rf) = _both(arr[0], arr[1], df, h, w, c, fh, fw, s, n, wd)
    u, n1, overlap = _geometry(h, w, c, fh, fw, s)
    passes = 1 if df == 2 else -(-n // arr[1])
    if wd >= 100 and (u < 50 * (wd // 100) or not overlap):
        assert mi == ri
    assert u <= mi <= passes * n1 and u <= ri <= passes * n1
    eh, ew, m, k = _conv(h, w, c, fh, fw, s)
    assert abs(mf - rf) <= _filter_tolerance(arr[0], arr[1], df, m, n, k, wd) or (wd < 100 and mf >= rf)


@settings(max_examples=150, deadline=None)
@given(layer, array, st.integers(0, 2), st.integers(1, 200), words, words)
def test_monotone_in_sram(lay, arr, df, n, w1, w2):
    """More SRAM never increases DRAM traffic (SCALE-Sim's own counts are not monotone)."""
    assume(w1 != w2)
    lo, hi = min(w1, w2), max(w1, w2)
    h, w, c, fh, fw, s = lay
    eh, ew, m, k = _conv(h, w, c, fh, fw, s)
    a = dram_traffic(arr[0], arr[1], df, m, n, k, 0, h, w, c, fh, fw, s, s, eh, ew, lo, lo, lo)
    b = dram_traffic(arr[0], arr[1], df, m, n, k, 0, h, w, c, fh, fw, s, s, eh, ew, hi, hi, hi)
    assert b[0] <= a[0] and b[1] <= a[1] and b[2] == a[2]


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 4096), st.integers(1, 4096), st.integers(1, 4096), array, st.integers(0, 2),
       st.integers(0, 1 << 24))
def test_gemm_bounds(m, n, k, arr, df, wd):
    """Finite, non-negative, between compulsory and all-miss; ofmap writes as stated."""
    ri, rf, wo = dram_traffic(arr[0], arr[1], df, m, n, k, 1, m, 1, k, 1, 1, 1, 1, m, 1, wd, wd, wd)
    rows, cols = arr
    if_passes = 1 if df == 2 else -(-n // cols)
    f_passes = {0: -(-m // rows), 1: 1, 2: -(-m // cols)}[df]
    assert m * k <= ri <= if_passes * m * k
    assert k * n <= rf <= f_passes * k * n
    assert wo == (m * n if df == 0 else -(-k // rows) * m * n)


def test_random_layers_close_to_reference():
    """400 random small conv layers: the closed form tracks the exact replay of total reads
    (measured: median 0, 90th percentile 4.6%, 3.3% of the layers beyond 10%, worst 30%)."""
    rng = np.random.default_rng(1)
    errs = []
    for _ in range(400):
        fh, fw, s = (int(x) for x in rng.integers(1, [6, 6, 4]))
        h, w = int(rng.integers(fh, 40)), int(rng.integers(fw, 40))
        c = int(rng.choice([1, 2, 3, 4, 8, 16, 32, 64]))
        rows, cols = (int(x) for x in rng.choice([2, 4, 8, 16, 32], 2))
        df, n = int(rng.integers(0, 3)), int(rng.integers(1, 70))
        wd = int(rng.choice([100, 300, 1000, 3000, 10000, 30000]))
        (mi, mf, _), (ri, rf) = _both(rows, cols, df, h, w, c, fh, fw, s, n, wd)
        errs.append(abs((mi + mf) / (ri + rf) - 1))
    errs = np.array(errs)
    assert np.median(errs) <= 0.01
    assert np.percentile(errs, 90) <= 0.08
    assert np.mean(errs > 0.10) <= 0.06
    assert errs.max() <= 0.6


def test_depthwise_and_gemm_rows_of_the_layer_table():
    """A DP layer is g identical single-channel GEMMs; a linear layer is a 1x1 conv of M x 1 x K."""
    wl = load(FIXTURES / "topologies" / "edge_conv.csv")
    row = wl.table[wl.layer_names.index("DP_dw3x3")]
    g = int(row[G])
    assert g == 4
    one = dram_traffic(8, 8, 1, int(row[M]), int(row[N]), int(row[K]), 0, int(row[H]), int(row[W]), 1,
                       3, 3, 1, 1, int(row[EH]), int(row[EW]), 1024, 1024, 1024)
    assert _model(row, 8, 8, 1, 1024) == tuple(g * x for x in one)
    gemm = load(FIXTURES / "topologies" / "test_mnk_input.csv").table[0]
    assert _model(gemm, 32, 32, 0, 1024)[0] == math.ceil(128 / 32) * 256 * 256  # M*K > E: all miss
