"""Faults: a worker that dies is reported, retried once, then marked failed while the rest goes on;
an exception in a cell is not retried; Ray (an optional extra) behaves the same; an unreachable Ray
address is a clear error that falls back to the local pool only when asked."""
import os
import signal
import socket
import time
from pathlib import Path

import pytest

from agents.sampling import RandomSearch
from archgym.experiments import load_experiment, run_sweep
from archgym.experiments.executors import ExecutorError, LocalExecutor, make_executor
from archgym.experiments.log import cells

ENV = "archgym/Systolic-ResNet18-Small-v0"


def flaky(task):
    """A test task: (name, mode, marker file). mode 'once' kills its worker on the first attempt,
    'always' on every attempt, 'raise' raises; each kill appends a line to the marker file."""
    name, mode, marker = task
    if mode == "raise":
        raise ValueError(f"bad cell {name}")
    if mode == "always" or (mode == "once" and not os.path.exists(marker)):
        with open(marker, "a") as f:
            f.write(f"{os.getpid()}\n")
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)
    return name * 2


class CrashAgent(RandomSearch):
    """Random search whose worker process dies (SIGKILL) when it starts with seed 1."""
    name, family = "crash", "test"

    def _start(self):
        if self.seed == 1:
            os.kill(os.getpid(), signal.SIGKILL)


def tasks(tmp_path: Path):
    modes = {"a": "ok", "b": "always", "c": "ok", "d": "once", "e": "raise", "f": "ok", "g": "ok"}
    return [(n, m, str(tmp_path / f"{n}.marker")) for n, m in modes.items()]


def check_outcomes(outcomes, tmp_path: Path, counts_retries: bool = True):
    by = {o.task[0]: o for o in outcomes}
    assert sorted(by) == list("abcdefg")
    for n in "acfg":
        assert by[n].ok and by[n].value == n * 2
    assert by["d"].ok and by["d"].value == "dd" and by["d"].attempts == (2 if counts_retries else 1)
    assert len((tmp_path / "d.marker").read_text().splitlines()) == 1   # died once, then succeeded
    assert not by["b"].ok and by["b"].crashed and by["b"].attempts == 2
    assert len((tmp_path / "b.marker").read_text().splitlines()) == 2   # first run and exactly one retry
    assert not by["e"].ok and not by["e"].crashed and by["e"].attempts == 1
    assert "ValueError: bad cell e" in by["e"].error
    assert not (tmp_path / "e.marker").exists()


def test_local_pool_retries_a_dead_worker_once(tmp_path):
    notes = []
    outcomes = list(LocalExecutor(2).run(flaky, tasks(tmp_path), report=notes.append))
    check_outcomes(outcomes, tmp_path)
    assert any("worker process died" in n for n in notes)
    assert any("worker died again running ('b'" in n for n in notes)


def test_sweep_marks_the_crashing_cell_failed_and_finishes_the_rest(tmp_path):
    exp = load_experiment({"name": "crashy", "budget": 20, "seeds": 3, "envs": [ENV],
                           "agents": ["test_experiments_faults:CrashAgent", "random"]})
    summary = run_sweep(exp, out=tmp_path / "crashy", workers=2, progress=False)
    assert summary.completed == 5 and len(summary.failed) == 1
    table = cells(tmp_path / "crashy").set_index(["agent", "seed"])
    bad = table.loc[("test_experiments_faults:CrashAgent", 1)]
    assert bad["status"] == "failed" and bad["attempts"] == 2 and "worker process died" in bad["error"]
    assert (table.drop(index=("test_experiments_faults:CrashAgent", 1))["status"] == "done").all()
    assert "run the same command again to retry" in str(summary)
    again = run_sweep(exp, out=tmp_path / "crashy", workers=2, progress=False)
    assert again.skipped == 5 and len(again.failed) == 1  # failed cells are retried by a rerun


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_unreachable_ray_address_is_an_error_unless_fallback_is_asked():
    pytest.importorskip("ray", reason="the ray executor is an optional extra (pip install 'archgym[ray]')")
    address = f"127.0.0.1:{closed_port()}"
    t = time.perf_counter()
    with pytest.raises(ExecutorError) as e:
        make_executor("ray", address=address)
    assert time.perf_counter() - t < 10
    assert f"cannot reach the Ray cluster at {address}" in str(e.value) and "--fallback-local" in str(e.value)
    notes = []
    ex = make_executor("ray", workers=1, address=address, fallback_local=True, report=notes.append)
    assert isinstance(ex, LocalExecutor) and ex.workers == 1
    assert "falling back to the local executor" in notes[0]


def test_ray_retries_a_dead_worker_once(tmp_path):
    pytest.importorskip("ray", reason="the ray executor is an optional extra (pip install 'archgym[ray]')")
    with make_executor("ray", workers=2) as ex:
        assert ex.name == "ray" and ex.workers == 2
        # Ray retries a dead worker's task itself (and logs it), so a retry that succeeds is not counted
        check_outcomes(list(ex.run(flaky, tasks(tmp_path), report=lambda _: None)), tmp_path, counts_retries=False)
