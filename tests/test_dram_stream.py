"""A prepared trace file too long to hold streams through the batch kernel in chunks: every
design's kernel state carries across chunk boundaries exactly, so the metrics equal the
whole-trace run, at awkward split points, with request slots growing mid-chunk."""
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
def test_streamed_equals_whole(tmp_path, n, chunk):
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
    for i, d in enumerate(DESIGNS):             # and both equal the single-design path
        assert dram.simulate(d, t).metrics["energy_j"] == a["energy_j"][i]


def test_long_file_streams(tmp_path, monkeypatch):
    monkeypatch.setattr(dram, "IN_MEMORY_REQUESTS", 1000)
    t = tr.random(2500, span=1 << 30, write_fraction=0.33, seed=3)
    write(tmp_path / "t.trace", t)
    prepared = dram.prepare(tmp_path / "t.trace")
    assert prepared.requests is None and prepared.n_requests == 2500
    vectors = dram.PARAMETERS.kernel_vector(dram.PARAMETERS.default())[None, :]
    assert dram.evaluate(vectors, prepared)["cycles"][0] == dram.simulate({}, t).metrics["cycles"]
