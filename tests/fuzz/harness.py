"""Run the malformed-input corpus (cases.py) and classify every outcome.

Each case runs in a worker process (one per batch of cases, restarted after a case it had to
abandon), timed in CPU seconds and measured in peak resident memory above the worker's baseline
(Linux: VmHWM, reset before each case through /proc/self/clear_refs). Outcomes:

- error:     a clean error: an ArchGymError with a one-line message (what the CLI prints, exit 2);
- ok:        a result the case's own oracle checked;
- wrong:     a silent wrong result (the oracle failed, bad input was accepted, or good input refused);
- traceback: any other exception (what a user would see as a traceback);
- over:      over 10 CPU-seconds or 1 GiB, or killed by the watchdog (hang, runaway memory).

    python tests/fuzz/harness.py            # prints the figures and every case that is not clean
    python tests/fuzz/harness.py -k trace   # only cases whose id contains "trace"
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
CPU_LIMIT_S = 10.0
MEM_LIMIT_B = 1 << 30
KILL_CPU_S = 3 * CPU_LIMIT_S          # the watchdog abandons a case past this (a hang)
KILL_MEM_B = MEM_LIMIT_B + (512 << 20)  # ... or past this much memory (runaway growth)
KILL_WALL_S = 240.0                   # the parent's last resort (a worker stuck outside Python)
OUTCOMES = ("error", "ok", "wrong", "traceback", "over")


# --- worker side ----------------------------------------------------------------------------------------------------
def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class _Watchdog(threading.Thread):
    """Abandons the running case (exit 3) once it passes KILL_CPU_S or KILL_MEM_B."""

    def __init__(self):
        super().__init__(daemon=True, name="fuzz-watchdog")
        self.case_start = None
        self.base_rss = 0

    def run(self):
        while True:
            time.sleep(0.02)
            if self.case_start is None:
                continue
            cpu = time.process_time() - self.case_start
            grown = _status_kb("VmRSS") * 1024 - self.base_rss
            if cpu > KILL_CPU_S or grown > KILL_MEM_B:
                reason = f"abandoned after {cpu:.1f} CPU-s, {grown / 2**20:.0f} MiB above baseline"
                sys.__stdout__.write(json.dumps({"abandoned": reason}) + "\n")
                sys.__stdout__.flush()
                os._exit(3)


def worker(ids: list[str]) -> None:
    """Run cases `ids` in order, one JSON line each on stdout."""
    import shutil
    import cases
    from archgym.core.errors import ArchGymError
    ctx = cases.Context()
    cases.warm_up(ctx)
    dog = _Watchdog()
    dog.start()
    try:
        _run_cases(ids, ctx, dog, cases, ArchGymError)
    finally:
        shutil.rmtree(ctx.root, ignore_errors=True)


def _run_cases(ids, ctx, dog, cases, ArchGymError) -> None:
    import contextlib
    import io
    for cid in ids:
        c = cases.CASES[cid]
        sys.__stdout__.write(json.dumps({"start": cid}) + "\n")
        sys.__stdout__.flush()
        can_peak = _reset_peak()
        dog.base_rss = base = _status_kb("VmRSS") * 1024
        dog.case_start = t0 = time.process_time()
        sink = io.StringIO()
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                c.fn(ctx)
            raised = None
        except BaseException as e:  # noqa: BLE001  (classifying every outcome is the point)
            raised = e
        cpu = time.process_time() - t0
        dog.case_start = None
        peak = (_status_kb("VmHWM") * 1024 - base) if can_peak else 0
        outcome, detail = _classify(c, raised, ArchGymError, cases.Wrong)
        if outcome in ("error", "ok") and (cpu > CPU_LIMIT_S or peak > MEM_LIMIT_B):
            outcome, detail = "over", f"{cpu:.1f} CPU-s, {peak / 2**20:.0f} MiB; " + detail
        sys.__stdout__.write(json.dumps({"id": cid, "outcome": outcome, "detail": detail[:400], "cpu_s": round(cpu, 3),
                                         "peak_mib": round(peak / 2**20, 1)}) + "\n")
        sys.__stdout__.flush()


def _classify(c, raised, ArchGymError, Wrong) -> tuple[str, str]:
    if raised is None:
        if c.expect == "error":
            return "wrong", "bad input accepted without an error"
        return "ok", ""
    text = f"{type(raised).__name__}: {raised}"
    if isinstance(raised, Wrong):
        return "wrong", str(raised)
    if isinstance(raised, ArchGymError):
        if "\n" in str(raised).strip():
            return "traceback", "a multi-line error message: " + text
        if c.expect == "ok":
            return "wrong", "good input refused: " + text
        if c.match and c.match.lower() not in str(raised).lower():
            return "wrong", f"error does not say {c.match!r}: {text}"
        return "error", text
    return "traceback", text


# --- parent side ----------------------------------------------------------------------------------------------------
def run(ids: list[str] | None = None, pythonpath: str | None = None) -> list[dict]:
    """Run cases (default: all) in worker processes; returns one record per case."""
    sys.path.insert(0, str(HERE))
    import cases
    todo = list(ids or cases.CASES)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([pythonpath or str(root), str(HERE)]),
           "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    records: list[dict] = []
    while todo:
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker", *todo], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env, cwd=str(root))
        current, killer = None, threading.Timer(KILL_WALL_S, proc.kill)
        abandoned = "worker died"
        for line in proc.stdout:
            msg = json.loads(line)
            if "start" in msg:
                current = msg["start"]
                killer.cancel()
                killer = threading.Timer(KILL_WALL_S, proc.kill)  # per case: a worker stuck outside Python
                killer.start()
            elif "abandoned" in msg:
                abandoned = msg["abandoned"]
            else:
                records.append(msg)
                todo.remove(msg["id"])
                current = None
        proc.wait()
        killer.cancel()
        err = proc.stderr.read()
        if current is None:
            if todo:  # the worker failed before its first case
                raise RuntimeError(f"fuzz worker failed to start:\n{err[-3000:]}")
            break
        records.append({"id": current, "outcome": "over", "detail": f"{abandoned}: {err.strip()[-300:]}", "cpu_s": None,
                        "peak_mib": None})
        todo.remove(current)
    return records


def figures(records: list[dict]) -> dict[str, int]:
    counts = Counter(r["outcome"] for r in records)
    return {o: counts.get(o, 0) for o in OUTCOMES} | {"cases": len(records)}


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        sys.path.insert(0, str(HERE))
        worker(argv[1:])
        return 0
    sys.path.insert(0, str(HERE))
    import cases
    ids = list(cases.CASES)
    if argv[:1] == ["-k"]:
        ids = [i for i in ids if argv[1] in i]
        argv = argv[2:]
    pythonpath = argv[argv.index("--pythonpath") + 1] if "--pythonpath" in argv else None
    records = run(ids, pythonpath)
    for r in sorted(records, key=lambda r: (r["outcome"], r["id"])):
        if r["outcome"] not in ("error", "ok") or "-v" in argv:
            print(f"{r['outcome']:9s} {r['id']:40s} {r['cpu_s']} s {r['peak_mib']} MiB  {r['detail'][:200]}")
    worst = max(records, key=lambda r: r["cpu_s"] or 0)
    heavy = max(records, key=lambda r: r["peak_mib"] or 0)
    print(f"slowest: {worst['id']} {worst['cpu_s']} CPU-s; largest: {heavy['id']} {heavy['peak_mib']} MiB")
    print(json.dumps(figures(records)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
