"""A prepared trace file too long to hold streams through the batch kernel in chunks: every
design's kernel state carries across chunk boundaries exactly, so the metrics equal the
whole-trace run, at awkward split points, with request slots growing mid-chunk."""
import re

import numpy as np
import pytest

from archgym.core.workloads import traces as tr
from simulators import dram

DESIGNS = [
    {},
    {"arbiter": "dramsim3", "max_active_transactions": 32, "request_buffer_size": 8, "ranks": 2},  # > 256 in flight
    {"scheduler": "fr_fcfs_grp", "scheduler_buffer": "read_write", "request_buffer_size": 3, "channels": 2},
    {"page_policy": "closed_adaptive", "refresh_policy": "per_bank", "refresh_max_postponed": 3, "ranks": 4},
    {"arbiter": "reorder", "max_active_transactions": 5, "resp_queue": "reorder", "power_down_policy": "staggered"},
    {"arbiter": "fifo", "scheduler": "fifo", "page_policy": "open_adaptive", "refresh_max_pulledin": 2},
]


def write(path, t):
    with open(path, "w") as f:
        f.writelines(f"{a:#x} {'WRITE' if w else 'READ'} {c}\n" for a, w, c in t)


@pytest.mark.parametrize("n, chunk", [(257, 1), (3001, 777), (3001, 2999)])
def test_streamed_equals_whole(tmp_path, monkeypatch, n, chunk):
    t = tr.mixed(n, sequential_fraction=0.5, write_fraction=0.33, span=1 << 30, gap=3, seed=n)
    t[n // 2:, 2] += 40_000                       # an idle gap over refreshes and power-down
    write(tmp_path / "t.trace", t)
    whole = dram.prepare(t)
    streamed = dram.Trace(None, None, path=tmp_path / "t.trace", n_requests=n, chunk_requests=chunk)
    vectors = np.stack([dram.PARAMETERS.kernel_vector(dram.PARAMETERS.complete(d)) for d in DESIGNS])
    a, b = dram.evaluate(vectors, whole), dram.evaluate(vectors, streamed)
    for m in dram.METRICS:
        np.testing.assert_array_equal(a[m], b[m], err_msg=m)
    assert a["n_requests"].tolist() == [n] * len(DESIGNS)
    monkeypatch.setattr(tr, "CHUNK", chunk)     # the file read in chunks of this many requests, the next
    for i, d in enumerate(DESIGNS):             # on a second thread: both equal the single-design path
        one = dram.simulate(d, t).metrics
        assert one == dram.simulate(d, tmp_path / "t.trace").metrics
        assert one["energy_j"] == a["energy_j"][i]


def test_long_file_streams(tmp_path, monkeypatch):
    monkeypatch.setattr(dram, "IN_MEMORY_REQUESTS", 1000)
    t = tr.random(2500, span=1 << 30, write_fraction=0.33, seed=3)
    write(tmp_path / "t.trace", t)
    prepared = dram.prepare(tmp_path / "t.trace")
    assert prepared.requests is None and prepared.n_requests == 2500
    vectors = dram.PARAMETERS.kernel_vector(dram.PARAMETERS.default())[None, :]
    assert dram.evaluate(vectors, prepared)["cycles"][0] == dram.simulate({}, t).metrics["cycles"]


# --- the fast text reader (simulators/dram/textio.py) against the reference reader ----------------
GOOD = ["0x1F40 READ 0\n", "0x0 write 3\n", "64 r 3\n", "0XABCDEF\tW\t007\n", "0x40  ld  9   \n", "0x80 ST 10"]
ODD = ["# a comment\n", "\n", "  0x40 READ 11\n", "0x40 READ 12\r\n"]   # the reference reader takes these
BAD = ["0x40 READ\n", "0x40 FETCH 1\n", "0x40 READ -1\n", "0x40 READ 0\n", "0o17 READ 20\n",
       "0x8000000000000000 READ 20\n", "017 READ 20\n", "0x40 READ 99999999999999999999\n", "\x00\x01\x02\n"]


def lines_file(path, lines):
    path.write_bytes("".join(lines).encode("latin-1"))
    return path


def reference(path):
    return np.concatenate(list(tr.open_trace(path).chunks()))


def test_fast_reader_equals_reference(tmp_path, monkeypatch):
    from simulators.dram import textio
    monkeypatch.setattr(tr, "CHUNK", 1)              # reads of 32 bytes split lines everywhere
    rng = np.random.default_rng(0)
    lines = [GOOD[i] for i in rng.integers(0, len(GOOD) - 1, 300)] + [GOOD[-1]]
    cycle = 0
    for i, s in enumerate(lines):                  # non-decreasing cycles
        a, w, _ = s.split()
        cycle += int(rng.integers(0, 3))
        lines[i] = f"{a}{' ' * int(rng.integers(1, 3))}{w} {cycle}" + ("\n" if i < len(lines) - 1 else "")
    for name, body in (("plain.trace", lines), ("odd.trace", lines[:150] + ODD[:1] + lines[150:-1] + [lines[-1] + "\n"]),
                       ("crlf.trace", lines[:100] + [lines[100].rstrip() + "\r\n"] + lines[101:])):
        p = lines_file(tmp_path / name, body)
        fast = np.concatenate(list(textio.chunks(tr.open_trace(p))))
        np.testing.assert_array_equal(fast, reference(p), err_msg=name)
    stl = lines_file(tmp_path / "t.stl", [f"{i * 2}:\tread\t{64 * i:#x}\n" for i in range(50)] + ["100:\twrite\t0x40\n"])
    np.testing.assert_array_equal(np.concatenate(list(textio.chunks(tr.open_trace(stl)))), reference(stl))


@pytest.mark.parametrize("bad", BAD)
def test_fast_reader_raises_the_reference_error(tmp_path, bad):
    from archgym.core.errors import ArchGymError
    from simulators.dram import textio
    p = lines_file(tmp_path / "t.trace", [f"{64 * i:#x} READ {i + 10}\n" for i in range(20)] + [bad, "0x40 READ 40\n"])
    with pytest.raises(ArchGymError) as want:
        reference(p)
    with pytest.raises(type(want.value), match=re.escape(str(want.value))):
        list(textio.chunks(tr.open_trace(p)))


def test_fast_reader_reads_clean_files_alone(tmp_path, monkeypatch):
    from simulators.dram import textio
    p = lines_file(tmp_path / "t.trace", [f"{64 * i:#x} {'WRITE' if i % 3 else 'READ'} {i}\n" for i in range(1000)])
    want = reference(p)
    monkeypatch.setattr(tr.TraceFile, "chunks", lambda *a: pytest.fail("fell back to the reference reader"))
    np.testing.assert_array_equal(np.concatenate(list(textio.chunks(tr.open_trace(p)))), want)
