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
    'always' on every attempt, 'raise' raises; each kill appends a line to the marker file.
    'victim' (with the marker of the task that will crash in `mode`'s place) waits on its first
    attempt until that task has crashed, so it is surely running when its pool breaks."""
    name, mode, marker = task
    if mode == "raise":
        raise ValueError(f"bad cell {name}")
    if mode.startswith("victim:"):
        crasher = mode.split(":", 1)[1]
        if not os.path.exists(marker):  # first attempt: mark it, then wait for the crash that ends it
            open(marker, "w").close()
            _wait_until(lambda: os.path.exists(crasher))
            _wait_until(lambda: False, timeout_s=60)  # the pool kills this worker meanwhile
        return name * 2
    if mode.startswith("after:"):  # crash only once the victim is surely running
        _wait_until(lambda: os.path.exists(mode.split(":", 1)[1]))
        mode = "always"
    if mode == "always" or (mode == "once" and not os.path.exists(marker)):
        with open(marker, "a") as f:
            f.write(f"{os.getpid()}\n")
        os.kill(os.getpid(), signal.SIGKILL)
    return name * 2


def _wait_until(condition, timeout_s: float = 300) -> None:
    """Block until `condition()` holds (a file another task writes); the deadline only bounds a hang."""
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)


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
    # one worker: a crash never catches another task mid-way, so every attempt count is determined
    outcomes = list(LocalExecutor(1).run(flaky, tasks(tmp_path), report=notes.append))
    check_outcomes(outcomes, tmp_path)
    assert any("worker process died" in n for n in notes)
    assert any("worker died again running ('b'" in n for n in notes)


def test_a_task_running_beside_a_crash_is_retried_alone_and_completes(tmp_path):
    victim, crasher = str(tmp_path / "v.marker"), str(tmp_path / "c.marker")
    notes = []
    outcomes = list(LocalExecutor(2).run(flaky, [("v", f"victim:{crasher}", victim), ("c", f"after:{victim}", crasher)],
                                         report=notes.append))
    by = {o.task[0]: o for o in outcomes}
    assert by["v"].ok and by["v"].value == "vv" and by["v"].attempts == 2  # killed with its pool, then run alone
    assert not by["c"].ok and by["c"].crashed and len(open(crasher).read().splitlines()) == 2
    assert any("while running one of: ('v'" in n and "('c'" in n for n in notes)  # both were running


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


@pytest.mark.xdist_group("ray")  # one local Ray cluster at a time (tests/conftest.py)
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


@pytest.mark.xdist_group("ray")  # one local Ray cluster at a time (tests/conftest.py)
def test_ray_retries_a_dead_worker_once(tmp_path):
    pytest.importorskip("ray", reason="the ray executor is an optional extra (pip install 'archgym[ray]')")
    with make_executor("ray", workers=2) as ex:
        assert ex.name == "ray" and ex.workers == 2
        # Ray retries a dead worker's task itself (and logs it), so a retry that succeeds is not counted
        check_outcomes(list(ex.run(flaky, tasks(tmp_path), report=lambda _: None)), tmp_path, counts_retries=False)


@pytest.mark.xdist_group("ray")  # one local Ray cluster at a time (tests/conftest.py)
@pytest.mark.slow
def test_ray_without_an_address_attaches_to_a_running_local_cluster(tmp_path, monkeypatch):
    pytest.importorskip("ray", reason="the ray executor is an optional extra (pip install 'archgym[ray]')")
    import shutil
    import subprocess
    import sys
    import tempfile
    root = tempfile.mkdtemp(prefix="rt", dir="/tmp")  # short: Ray's socket paths must fit in 107 bytes
    head = subprocess.Popen([str(Path(sys.executable).parent / "ray"), "start", "--head", "--block", "--num-cpus", "2",
                             "--port", str(closed_port()), "--include-dashboard", "false", "--disable-usage-stats"],
                            env={**os.environ, "RAY_TMPDIR": root}, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:  # `ray start` writes the cluster's address once the head node is up: wait for that event
        _wait_until(lambda: os.path.exists(os.path.join(root, "ray", "ray_current_cluster")) or head.poll() is not None)
        assert head.poll() is None, "ray start failed"
        monkeypatch.setenv("RAY_TMPDIR", root)  # this test's cluster, not any other on the machine
        notes = []
        with make_executor("ray", workers=1, report=notes.append) as ex:
            assert ex.attached and ex.workers == 2
            outcomes = list(ex.run(flaky, [("a", "ok", str(tmp_path / "a")), ("e", "raise", str(tmp_path / "e"))]))
        by = {o.task[0]: o for o in outcomes}
        assert by["a"].ok and by["a"].value == "aa" and "ValueError: bad cell e" in by["e"].error
        assert notes == ["attached to the running local Ray cluster (2 CPUs); --workers 1 does not resize it"]
    finally:
        os.killpg(head.pid, signal.SIGTERM)  # the head node and everything it started (its own session)
        head.wait(timeout=120)
        shutil.rmtree(root, ignore_errors=True)
