"""Executors run sweep cells in parallel and hand each result back to the driver, which alone
writes the log. Workers never touch the log.

- `local` (the default): a `concurrent.futures.ProcessPoolExecutor` on this machine.
- `ray`: tasks on a Ray cluster (`ray.init(address=...)`); with no address, on the local cluster
  started with `ray start` (or named by RAY_ADDRESS) if one runs, else on a local Ray started here;
  an optional extra (`pip install 'archgym[ray]'`).

Faults. An exception raised inside a cell is reported and the cell marked failed (a rerun would
raise it again). A worker process that dies (killed, segfault, out of memory) is reported, and its
cell is retried once; if it dies again the cell is marked failed. The rest of the sweep goes on.
Ray does the retry itself (`max_retries=1`). A process pool cannot tell which of its running
tasks killed it, so after a crash every task that was running (each worker notes its task in a
file of its own) is re-run alone in a one-worker pool: a task that crashes alone is the culprit,
and the others complete. Tasks that had not started are resubmitted, with no retry counted.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import socket
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from archgym.core import validate
from archgym.core.errors import ArchGymError, unknown

EXECUTORS = ("local", "ray")
_CONNECT_TIMEOUT_S = 5.0
_PROBE_TIMEOUT_S = 60.0
_PRELOAD = ["archgym.experiments.sweep"]  # imported once by the fork server, inherited by workers


class ExecutorError(ArchGymError):
    """An executor that cannot start: Ray missing, or a cluster that cannot be reached."""


@dataclass
class Outcome:
    """What became of one task: its value, or an error (exception text, or a worker death)."""
    task: Any
    value: Any = None
    error: str | None = None
    crashed: bool = False  # the worker process died, on the first run and on the retry
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.error is None


class Executor(ABC):
    """Runs `fn(task)` for every task; yields an Outcome per task as each finishes."""
    name = ""
    workers = 1

    @abstractmethod
    def run(self, fn: Callable, tasks: Iterable, report: Callable[[str], Any] = print) -> Iterator[Outcome]:
        """`report` receives one-line notices (worker deaths, retries)."""

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()


def _error_text(e: BaseException) -> str:
    """One exception as text, with the worker's traceback when there is one."""
    cause = e.__cause__
    remote = str(cause).strip() if cause is not None and type(cause).__name__ == "_RemoteTraceback" else ""
    return f"{type(e).__name__}: {e}" + (f"\n{remote}" if remote else "")


# --- local: a process pool ------------------------------------------------------------------------------------
_TRACK_FD: int | None = None  # per worker: a file holding the id of the task it is running ("" when idle)


def _init_worker(driver_pid: int, track_dir: str) -> None:
    """Worker start: one thread per worker for numba and torch (the pool supplies the parallelism),
    Ctrl-C is left to the driver, the worker exits if the driver dies (even by SIGKILL), and it
    records the task it runs in its own file under `track_dir` (no shared lock a death could hold)."""
    import sys
    import threading
    global _TRACK_FD
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_driver, args=(driver_pid,), daemon=True, name="watch-driver").start()
    _TRACK_FD = os.open(os.path.join(track_dir, str(os.getpid())), os.O_WRONLY | os.O_CREAT, 0o600)
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"
    if "numba" in sys.modules:
        sys.modules["numba"].set_num_threads(1)
    else:
        os.environ["NUMBA_NUM_THREADS"] = "1"
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def _tracked(fn, i: int, task):
    """Run `fn(task)` in a worker with task id `i` recorded in the worker's file meanwhile."""
    os.pwrite(_TRACK_FD, b"%d" % i, 0)
    try:
        return fn(task)
    finally:
        os.ftruncate(_TRACK_FD, 0)


def _await_workers(track_dir: str, n: int, timeout_s: float = 120.0) -> None:
    """Hold this worker until all `n` workers of its pool have started (each has its tracking file)."""
    import time
    deadline = time.monotonic() + timeout_s
    while len(os.listdir(track_dir)) < n and time.monotonic() < deadline:
        time.sleep(0.005)


def _in_progress(track_dir: str) -> set[int]:
    """Ids of the tasks a pool's workers were running (read after the pool broke)."""
    out = set()
    for name in os.listdir(track_dir):
        with open(os.path.join(track_dir, name)) as f:
            text = f.read().strip()
        if text:
            out.add(int(text))
    return out


def _watch_driver(pid: int, period_s: float = 0.5) -> None:
    """Exit this worker once process `pid` (the sweep driver) is gone."""
    import time
    while True:
        time.sleep(period_s)
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):  # gone (or the pid now belongs to someone else)
            os._exit(1)


class LocalExecutor(Executor):
    """A process pool of `workers` processes (default: every core), started by a fork server."""
    name = "local"

    def __init__(self, workers: int | None = None, start_method: str = "forkserver"):
        if workers is not None:
            validate.integer(workers, "workers", 1, validate.MAX_WORKERS, ExecutorError,
                             f"a positive integer, at most {validate.MAX_WORKERS:,}")
        self.workers = workers or os.cpu_count() or 1
        self.context = mp.get_context(start_method)
        if start_method == "forkserver":
            self.context.set_forkserver_preload(_PRELOAD)

    def run(self, fn, tasks, report=print):
        import tempfile
        tasks = list(tasks)
        queue, solo = deque(range(len(tasks))), deque()  # task ids: to run, and to re-run alone
        inflight: dict = {}     # future -> (task id, pool)
        track: dict = {}        # pool -> its workers' tracking directory
        broken: dict = {}       # broken pool -> ids of the tasks it was running when it broke
        main = alone = None

        def pool(n: int) -> ProcessPoolExecutor:
            d = tempfile.mkdtemp(dir=root)
            p = ProcessPoolExecutor(n, mp_context=self.context, initializer=_init_worker, initargs=(os.getpid(), d))
            # Start every worker now. CPython 3.11 spawns workers on demand just after waking its manager
            # thread, which can then wait without the newest worker's sentinel and miss its death.
            wait([p.submit(_await_workers, d, n) for _ in range(n)])
            track[p] = d
            return p

        with tempfile.TemporaryDirectory(prefix="archgym-pool-") as root:
            try:
                while queue or solo or inflight:
                    if queue and main is None:
                        main = pool(self.workers)
                    while queue and sum(p is main for _, p in inflight.values()) < 2 * self.workers:
                        i = queue.popleft()
                        try:
                            inflight[main.submit(_tracked, fn, i, tasks[i])] = (i, main)
                        except BrokenProcessPool:  # a worker died since the last wait: its futures report it
                            queue.appendleft(i)
                            if not any(p is main for _, p in inflight.values()):  # none left to report it
                                main.shutdown(wait=True, cancel_futures=True)
                                main = None
                            break
                    if solo and not (alone is not None and any(p is alone for _, p in inflight.values())):
                        alone = alone or pool(1)
                        i = solo.popleft()
                        inflight[alone.submit(_tracked, fn, i, tasks[i])] = (i, alone)
                    done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
                    for fut in done:
                        i, p = inflight.pop(fut)
                        try:
                            yield Outcome(tasks[i], fut.result(), attempts=2 if p is alone else 1)
                        except BrokenProcessPool:
                            if p is alone:  # it died running this task by itself: the culprit
                                report(f"worker died again running {tasks[i]!r}; marked failed")
                                alone.shutdown(wait=True, cancel_futures=True)
                                alone = None
                                yield Outcome(tasks[i], error="worker process died (twice: first run and retry)",
                                              crashed=True, attempts=2)
                                continue
                            if p not in broken:
                                broken[p] = _in_progress(track[p])
                                names = ", ".join(repr(tasks[j]) for j in sorted(broken[p]))
                                report(f"a worker process died (killed or crashed) while running one of: {names}; "
                                       f"retrying each of them once, alone")
                                p.shutdown(wait=True, cancel_futures=True)
                                if p is main:
                                    main = None
                            if i in broken[p]:
                                solo.append(i)
                            else:  # it had not started: run it again as usual, no retry counted
                                queue.appendleft(i)
                        except Exception as e:  # the cell raised: report it, do not retry
                            yield Outcome(tasks[i], error=_error_text(e))
            finally:
                for p in (main, alone):
                    if p is not None:
                        if inflight:  # interrupted: stop the workers now rather than after their cells
                            _terminate(p)
                        p.shutdown(wait=True, cancel_futures=True)


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Kill a pool's workers (the public API can only wait for running tasks to finish)."""
    for proc in list(getattr(pool, "_processes", {}).values()):
        proc.terminate()


# --- ray ---------------------------------------------------------------------------------------------------
def _host_port(address: str) -> tuple[str, int]:
    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ExecutorError(f"Ray address must be host:port or ray://host:port, got {address!r}")
    return host, int(port)


_PROBE = "import sys, ray; ray.init(address=sys.argv[1], logging_level='ERROR'); ray.shutdown()"


def _probe(address: str) -> None:
    """Fail fast and clearly if no Ray cluster answers at `address`: a TCP connect, then a trial
    ray.init in a child process (in-process, Ray retries for ~20 s and floods stderr)."""
    import subprocess
    import sys
    hint = ("Check the address (`ray status` on the head node), or pass --fallback-local to run on this "
            "machine's process pool instead")
    host, port = _host_port(address)
    try:
        socket.create_connection((host, port), timeout=_CONNECT_TIMEOUT_S).close()
    except OSError as e:
        raise ExecutorError(f"cannot reach the Ray cluster at {address}: {e.strerror or e}. {hint}") from None
    try:
        proc = subprocess.run([sys.executable, "-c", _PROBE, address], capture_output=True, text=True,
                              timeout=_PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ExecutorError(f"no Ray cluster answered at {address} within {_PROBE_TIMEOUT_S:.0f} s. {hint}") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no answer"])[-1]
        raise ExecutorError(f"cannot connect to a Ray cluster at {address} ({last}). {hint}")


class RayExecutor(Executor):
    """Cells as Ray tasks (one CPU each) on the cluster at `address`; when `address` is None, on the
    running local cluster if there is one (`attached`; its CPUs, not `workers`, set the width), else
    on a local Ray started here with `workers` CPUs. Ray retries a task once if its worker dies."""
    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None, report: Callable[[str], Any] = print):
        if workers is not None:
            validate.integer(workers, "workers", 1, validate.MAX_WORKERS, ExecutorError,
                             f"a positive integer, at most {validate.MAX_WORKERS:,}")
        if address not in (None, "auto"):
            _host_port(address)  # a malformed address is an error whether or not Ray is installed
        try:
            import ray
        except ImportError:
            raise ExecutorError("the 'ray' executor needs Ray: pip install 'archgym[ray]'") from None
        self.ray = ray
        self.address = address
        if address not in (None, "auto"):
            _probe(address)
        runtime_env = {"env_vars": {"OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}}
        if address is None:  # a local Ray sees this interpreter's import path (tests, user modules)
            import sys
            runtime_env["env_vars"]["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        self._started = not ray.is_initialized()
        self.attached = False
        options = {"include_dashboard": False, "ignore_reinit_error": True, "logging_level": "ERROR", "runtime_env": runtime_env}
        try:
            try:
                ray.init(address=address, num_cpus=workers if address is None else None, **options)
            except ValueError as e:  # Ray found a running local cluster, whose resources are its own
                if address is not None or "existing cluster" not in str(e):
                    raise
                ray.init(address=None, **options)
                self.attached = True
        except (ConnectionError, RuntimeError, TimeoutError, ValueError) as e:
            raise ExecutorError(f"cannot start Ray at {address or 'a local instance'}: {e}; pass --fallback-local "
                                f"to run on this machine's process pool instead") from None
        self.workers = int(ray.cluster_resources().get("CPU", workers or 1))
        if self.attached:
            report(f"attached to the running local Ray cluster ({self.workers} CPUs)"
                   + (f"; --workers {workers} does not resize it" if workers and workers != self.workers else ""))

    def run(self, fn, tasks, report=print):
        ray = self.ray
        remote = ray.remote(num_cpus=1, max_retries=1)(fn)
        refs = {remote.remote(t): t for t in tasks}
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1)
            for ref in ready:
                task = refs.pop(ref)
                try:
                    yield Outcome(task, ray.get(ref))
                except ray.exceptions.RayTaskError as e:  # the cell raised
                    yield Outcome(task, error=f"{type(e.cause).__name__}: {e.cause}" if e.cause else str(e))
                except ray.exceptions.RayError as e:  # worker or node died, after Ray's one retry
                    report(f"Ray worker died running {task!r} (and on the retry); marked failed")
                    yield Outcome(task, error=f"{type(e).__name__}: {str(e).splitlines()[0]}", crashed=True, attempts=2)

    def close(self) -> None:
        if self._started:
            self.ray.shutdown()


def make_executor(name: str = "local", workers: int | None = None, address: str | None = None,
                  fallback_local: bool = False, report: Callable[[str], Any] = print) -> Executor:
    """An executor by name. With `fallback_local`, a Ray that is missing or unreachable is
    reported and the local process pool is used instead."""
    if name not in EXECUTORS:
        raise unknown("executor", name, EXECUTORS)
    if address is not None and name != "ray":
        raise ExecutorError("--address is for the 'ray' executor")
    if name == "local":
        return LocalExecutor(workers)
    try:
        return RayExecutor(address, workers, report)
    except ExecutorError as e:
        if not fallback_local:
            raise
        report(f"{e}\nfalling back to the local executor")
        return LocalExecutor(workers)
