"""Memory traces: generators, the three file formats, chunked streaming and bad lines."""
import gzip
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from archgym.core.errors import UnknownNameError, WorkloadError
from archgym.core.workloads import traces as tr
from simulators import dram


def test_generators_shapes_and_values():
    s = tr.stream(5, gap=3, start=128)
    assert s.tolist() == [[128 + 64 * i, 0, 3 * i] for i in range(5)]
    assert tr.strided(3, 4096)[:, 0].tolist() == [0, 4096, 8192]
    r = tr.random(10000, span=1 << 20, write_fraction=0.25, seed=1)
    assert r.dtype == np.int64 and r.shape == (10000, 3)
    assert (r[:, 0] % 64 == 0).all() and r[:, 0].max() < 1 << 20
    assert abs(r[:, 1].mean() - 0.25) < 0.02
    np.testing.assert_array_equal(r, tr.random(10000, span=1 << 20, write_fraction=0.25, seed=1))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.floats(0.0, 1.0), st.integers(0, 1000))
def test_mixed_sequential_fraction(p, seed):
    t = tr.mixed(4000, sequential_fraction=p, span=1 << 30, seed=seed)
    seq = np.mean(np.diff(t[:, 0]) == 64)
    assert abs(seq - p) < 0.05
    assert (t[:, 0] < 1 << 30).all() and (t[:, 0] % 64 == 0).all()


def test_reference_trace_follows_the_recipe():
    import random
    t = tr.reference_trace("random", 0.33, n=3)
    rng = random.Random(1)
    for i in range(3):
        assert t[i, 0] == rng.randrange(0, 2**34 // 64) * 64
        assert t[i, 1] == (rng.random() < 0.33)
    assert tr.reference_trace("stream", gap=200, n=3)[:, 2].tolist() == [0, 200, 400]


@pytest.mark.parametrize("text,fmt", [
    ("0:\tread\t0x0\n2:\twrite\t0x40\n# note\n2:\tread\t0x80\tdeadbeef\n", "stl"),
    ("0x0 READ 0\n0x40 WRITE 2\n0x80 READ 2\n", "dramsim3"),
])
def test_readers(tmp_path, text, fmt):
    path = tmp_path / "t.trace"
    path.write_text(text)
    f = tr.open_trace(path)
    assert f.format == fmt
    assert f.load().tolist() == [[0, 0, 0], [64, 1, 2], [128, 0, 2]]


def test_ramulator_reader_is_one_request_per_cycle(tmp_path):
    path = tmp_path / "ram.trace"
    path.write_text("0x40 R\n0x80 W\n")
    assert tr.open_trace(path).load().tolist() == [[64, 0, 0], [128, 1, 1]]
    path.write_text("LD 0x40\nST 0x80\n")
    assert tr.open_trace(path).load().tolist() == [[64, 0, 0], [128, 1, 1]]


def test_builtin_traces_ship_with_the_package():
    for name in tr.BUILTIN:
        f = tr.open_trace(name)
        assert f.format == "stl" and f.clock_mhz == 800.0
    cloud = tr.open_trace("cloud-1").load()
    assert cloud.shape == (10000, 3) and cloud[:3, 0].tolist() == [0, 64, 128]


@pytest.mark.parametrize("text,msg", [
    ("0:\tread\t0x0\n1:\tfetch\t0x40\n", "t.stl:2: malformed"),
    ("0:\tread\t0x0\n1\tread\t0x40\n", "t.stl:2: malformed"),
    ("0:\tread\t0x0\n5:\tread\t0x40\n4:\tread\t0x80\n", "t.stl:3: arrival cycle 4"),
    ("# only a comment\n", "empty trace"),
])
def test_bad_lines_name_file_and_line(tmp_path, text, msg):
    path = tmp_path / "t.stl"
    path.write_text(text)
    with pytest.raises(WorkloadError, match=msg):
        dram.simulate({}, path)


def test_unknown_trace_name():
    with pytest.raises(UnknownNameError, match="chstone-aes_32"):
        tr.open_trace("nope")


def test_chunked_file_equals_in_memory_and_memory_stays_flat(tmp_path, monkeypatch):
    monkeypatch.setattr(tr, "CHUNK", 1000)
    peaks = []
    for n in (5000, 50000):
        t = tr.mixed(n, sequential_fraction=0.5, write_fraction=0.3, span=1 << 30, gap=2, seed=n)
        path = tmp_path / f"t{n}.trace.gz"
        with gzip.open(path, "wt") as f:
            f.writelines(f"{a:#x} {'WRITE' if w else 'READ'} {c}\n" for a, w, c in t)
        tracemalloc.start()
        from_file = dram.simulate({}, path).metrics
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert from_file == dram.simulate({}, t).metrics     # chunk boundaries change nothing
    assert peaks[1] < 1.5 * peaks[0]                          # 10x the trace, about the same memory
