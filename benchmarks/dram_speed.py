"""Speed of the DRAM controller model beside DRAMSim3, the simpy golden model and itself, all in one run:

    python benchmarks/dram_speed.py [--requests 1000000] [--simpy-requests 20000] [--no-write]

One text trace file in DRAMSim3's format: N random requests over 16 GiB, 33% writes, one per cycle,
made with `traces.reference_trace("random", 0.33, n=N)` (DRAMSim3's comparison recipe). DRAMSim3
runs its shipped DDR4_8Gb_x8_2400.ini (2 ranks of 8 Gb x8 = 16 GiB, open page, FR-FCFS, per-bank
command queues of 8, a 32-entry transaction queue); ours runs the design that config corresponds to
(DESIGN, as tests/test_dram_dramsim3.py). Reported, wall and process CPU time each, the fastest of ROUNDS runs
(interleaved: every round runs each tool once):
- end to end: DRAMSim3's `dramsim3main` on the file, for the fewest cycles in which it finishes (found by
  bisection first: it ticks every cycle it is given), and `simulators.dram.simulate(DESIGN, path)` on
  the same file in this process (warm: numba code loaded), plus `archgym simulate dram --trace FILE`
  as a fresh process (interpreter start and numba cache load included);
- kernel only: ours on the trace already decoded in memory, for DESIGN and for SHARED32 (the same
  design with one shared scheduler buffer of 32 instead of 8 per bank); with the phase profile (cycle counter);
- the simpy golden model on the first --simpy-requests requests (it must give the same metrics);
- env batch: designs/s on `cloud-1` for 64 designs: one design per call, one batch call on one thread,
  and one batch call on every thread (the scaling over cores);
- start: a fresh process importing archgym and simulating the first START_REQUESTS requests of the file,
  with an empty numba cache (NUMBA_CACHE_DIR: it compiles) and then with that cache filled.
DRAMSim3 is found through DRAMSIM3_BIN (and DRAMSIM3_CFG), or at the place ../shared/tools/build_dramsim3.sh
builds it (/work/ext/dramsim3-build); without it the benchmark says so and prints no ratio.
Results go to the `dram-speed` block of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _report import OWN_PEAK_MIB, fresh_starts, interleaved, publish, windowed   # benchmarks/_report.py, beside this file

DESIGN = {"arbiter": "dramsim3", "max_active_transactions": 32, "request_buffer_size": 8,
          "scheduler_buffer": "bankwise", "scheduler": "fr_fcfs", "page_policy": "open", "ranks": 2}
SHARED32 = {**DESIGN, "scheduler_buffer": "shared", "request_buffer_size": 32}
DEFAULT_BIN = "/work/ext/dramsim3-build/build/dramsim3main"   # where build_dramsim3.sh puts it here
BATCH = 64
ROUNDS = 5                       # each row is the fastest of this many runs, interleaved (the simpy model runs once)
WINDOW_S = 2.0                   # our timing window without DRAMSim3 (with it: one DRAMSim3 run's wall time)
DS3_CYCLE_RESOLUTION = 0.002    # DRAMSim3 runs at most this share of cycles past its last request
START_REQUESTS = 1000
START_CODE = ("import sys, time; t = time.perf_counter(); import archgym; from simulators import dram; "
              "dram.simulate({design!r}, sys.argv[1]); print(time.perf_counter() - t, {peak})")


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(fn):
    """(result, wall s, this process's CPU s)."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def timed_child(cmd: list[str]):
    """(completed process, wall s, the child's CPU s)."""
    w, c = time.perf_counter(), children_cpu()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out, time.perf_counter() - w, children_cpu() - c


def starts(trace: Path) -> dict[str, tuple[float, float]]:
    """{"cold (empty numba cache: compiles)": (s, peak MiB), "warm (numba cache filled)": (s, peak MiB)} of a
    fresh process that imports archgym and simulates `trace` (warm: the fastest of 3)."""
    cold, warm = fresh_starts(START_CODE.format(design=DESIGN, peak=OWN_PEAK_MIB), str(trace))
    return {"cold (empty numba cache: compiles)": tuple(cold), "warm (numba cache filled)": tuple(warm)}


def find_dramsim3() -> tuple[str, str] | None:
    binary = os.environ.get("DRAMSIM3_BIN", DEFAULT_BIN)
    if not (Path(binary).is_file() and os.access(binary, os.X_OK)):
        return None
    cfg = os.environ.get("DRAMSIM3_CFG", str(Path(binary).resolve().parents[1] / "configs" / "DDR4_8Gb_x8_2400.ini"))
    return (binary, cfg) if Path(cfg).is_file() else None


def run_dramsim3(binary: str, cfg: str, trace: Path, n: int, cycles: int, out: Path):
    """DRAMSim3 for `cycles` DRAM cycles: (stats, wall s, CPU s, all n requests done)."""
    out.mkdir(exist_ok=True)
    _, wall, cpu = timed_child([binary, cfg, "-c", str(cycles), "-t", str(trace), "-o", str(out)])
    stats = json.loads((out / "dramsim3.json").read_text())["0"]
    return stats, wall, cpu, stats["num_reads_done"] + stats["num_writes_done"] >= n   # n + 1: it reads its last line twice


def dramsim3_cycles(binary: str, cfg: str, trace: Path, n: int, guess: int, out: Path) -> int:
    """The fewest DRAM cycles, to DS3_CYCLE_RESOLUTION, in which DRAMSim3 finishes all n requests: it ticks
    every cycle it is given, so a run longer than that would time idle cycles and flatter the ratio."""
    lo, hi = 0, guess
    while not run_dramsim3(binary, cfg, trace, n, hi, out)[3]:
        lo, hi = hi, hi * 2
    while hi - lo > hi * DS3_CYCLE_RESOLUTION:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if run_dramsim3(binary, cfg, trace, n, mid, out)[3] else (mid, hi)
    return hi


def profile(P, decoded) -> tuple[list[tuple[str, float]], float, float, list[tuple[str, int]]]:
    """([(phase, share of the kernel's cycles)], counter cycles per lap, share of the profiled run's cycles
    that were laps, [(what events did, how many)] most first) from the kernel's profile, each phase less its
    laps' own cost."""
    from simulators.dram import batch
    from simulators.dram import kernel as K
    prof = np.zeros(K.PROF_LEN, np.int64)
    batch.simulate_one(P, decoded, np.zeros((0, 2), np.int64), prof)
    cost = min(K.lap_cost(100_000) for _ in range(5))
    cycles, laps, kinds = np.split(prof, [len(K.PHASES), 2 * len(K.PHASES)])
    net = np.maximum(cycles - laps * cost, 0)   # each lap's own counter read is not the phase's work
    did = [(" + ".join(k for i, k in enumerate(K.EVENT_KINDS) if bits >> i & 1) or "nothing", int(c))
           for bits, c in enumerate(kinds.tolist()) if c]
    return ([(name, v / net.sum()) for name, v in zip(K.PHASES, net.tolist())], cost, laps.sum() * cost / cycles.sum(),
            sorted(did, key=lambda x: -x[1]))


def env_batch(n: int = BATCH) -> tuple[int, dict[str, tuple[float, float]]]:
    """(requests of the trace, path -> (designs/s, CPU s)) on cloud-1 for random designs of the env's space:
    one design per `evaluate` call, one batch call on one thread, one batch call on every thread (prange
    over designs); each the fastest of ROUNDS interleaved rounds, each round over WINDOW_S s per path."""
    import numba

    from archgym.envs.dram import DRAMEvaluator
    from simulators import dram
    ev = DRAMEvaluator("cloud-1")
    idx = ev.space.sample_indices(np.random.default_rng(0), n)
    vectors = ev.encode(idx)
    dram.evaluate(vectors, ev.prepared)                               # warm: both kernels loaded
    dram.evaluate(vectors[:1], ev.prepared)
    threads = numba.get_num_threads()

    def on_one_thread():
        numba.set_num_threads(1)
        try:
            return dram.evaluate(vectors, ev.prepared)
        finally:
            numba.set_num_threads(threads)

    paths = {"one design per call": lambda: [dram.evaluate(vectors[i:i + 1], ev.prepared) for i in range(n)],
             "one batch call, 1 thread": on_one_thread,
             f"one batch call, {threads} threads": lambda: dram.evaluate(vectors, ev.prepared)}
    fastest = interleaved(ROUNDS, {k: windowed(lambda fn=fn: timed(fn), WINDOW_S) for k, fn in paths.items()})
    energy = np.concatenate([r["energy_j"] for r in fastest["one design per call"][0]])
    assert all(np.array_equal(out["energy_j"], energy) for k, (out, *_) in fastest.items() if k != "one design per call"), \
        "batch and single disagree"
    return ev.prepared.n_requests, {k: (n / wall, cpu) for k, (_, wall, cpu) in fastest.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--simpy-requests", type=int, default=20_000)
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = ap.parse_args(argv)
    n = args.requests
    load0 = os.getloadavg()

    from archgym.core.workloads import traces as tr
    from simulators import dram
    from simulators.dram import batch, reference
    from simulators.dram import kernel as K

    trace = tr.reference_trace("random", 0.33, n=n)
    d, system = dram.memory_system(DESIGN)
    P = dram.params(d, system)
    decoded = dram.decode(trace, system, (1, 1))
    P32 = dram.params(*dram.memory_system(SHARED32))
    z = np.zeros((0, 2), np.int64)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random_w33.trace"
        path.write_text("".join(f"{a:#x} {'WRITE' if w else 'READ'} {c}\n" for a, w, c in trace.tolist()))
        small = Path(tmp) / "small.trace"
        small.write_text("".join(path.read_text().splitlines(keepends=True)[:START_REQUESTS]))
        start = starts(small)                                           # first: nothing else runs meanwhile
        dram.simulate(DESIGN, small)                                    # warm: numba code in memory
        for p in (P, P32):
            batch.simulate_one(p, decoded[:1000], z, None)
        res = dram.simulate(DESIGN, path)
        cli = [sys.executable, "-m", "archgym.cli", "simulate", "dram", "--trace", str(path), "--json",
               *[a for k, v in DESIGN.items() for a in ("--set", f"{k}={v}")]]
        ds3 = find_dramsim3()
        window = WINDOW_S
        if ds3 is not None:
            ds3_cycles = dramsim3_cycles(*ds3, path, n, int(res.metrics["cycles"]), Path(tmp) / "out")
            window = run_dramsim3(*ds3, path, n, ds3_cycles, Path(tmp) / "out")[1]
        runs = {("end to end (text trace file)", "ours: `dram.simulate(design, path)`"):
                windowed(lambda: timed(lambda: dram.simulate(DESIGN, path)), window),
                ("end to end (text trace file)", "ours: `archgym simulate dram` (fresh process)"):
                windowed(lambda: timed_child(cli), window)}
        if ds3 is not None:
            ds3_key = "end to end (text trace file)", f"DRAMSim3 (`dramsim3main -c {ds3_cycles:,}`)"
            runs[ds3_key] = lambda: run_dramsim3(*ds3, path, n, ds3_cycles, Path(tmp) / "out")
        runs["kernel only (decoded trace in memory)", "ours: `batch.simulate_one`"] = \
            windowed(lambda: timed(lambda: batch.simulate_one(P, decoded, z, None)), window)
        runs["kernel only (decoded trace in memory)", "ours: `batch.simulate_one`, SHARED32"] = \
            windowed(lambda: timed(lambda: batch.simulate_one(P32, decoded, z, None)), window)
        fastest = interleaved(ROUNDS, runs)
    cli_out = fastest["end to end (text trace file)", "ours: `archgym simulate dram` (fresh process)"][0]
    assert json.loads(cli_out.stdout)["metrics"]["cycles"] == res.metrics["cycles"]
    stats = fastest[ds3_key][0] if ds3 is not None else None
    rows = [(what, tool, n, wall, cpu) for (what, tool), (_, wall, cpu, *_) in fastest.items()]   # (what, tool, requests, wall s, CPU s)
    (S, _, _), _, kernel_cpu = fastest["kernel only (decoded trace in memory)", "ours: `batch.simulate_one`"]
    commands = int(K.commands_issued(S))
    phases, lap_cycles, lap_share, did = profile(P, decoded)

    m = min(args.simpy_requests, n)
    slow, wall, cpu = timed(lambda: reference.simulate(DESIGN, trace[:m]))
    assert slow.metrics == dram.simulate(DESIGN, trace[:m]).metrics, "numba and simpy disagree"
    rows.append(("simpy golden model (same metrics)", "ours: `reference.simulate`", m, wall, cpu))

    batch_requests, eb = env_batch()
    load1 = os.getloadavg()

    table = ["| what | tool | requests | wall s | CPU s | requests/s (wall) | requests/s (CPU) |", "|---" * 7 + "|"]
    for what, tool, k, wall, cpu in rows:
        table.append(f"| {what} | {tool} | {k:,} | {wall:.2f} | {cpu:.2f} | {k / wall:,.0f} | {k / cpu:,.0f} |")
    if stats is None:
        ratio = ("DRAMSim3 is absent (set DRAMSIM3_BIN and DRAMSIM3_CFG, or build it with "
                 "`../shared/tools/build_dramsim3.sh`): no ratio against it.")
    else:
        ds = rows[2]
        ratio = "\n".join([
            "| ours vs DRAMSim3, same run | wall | CPU |", "|---|---|---|",
            *[f"| {r[1].split(':')[0]}: {r[0]} ({r[1].split(': ')[1]}) | {ds[3] / r[3]:.1f}x | {ds[4] / r[4]:.1f}x |"
              for r in (rows[0], rows[1], rows[3], rows[4])]])
    ns = kernel_cpu / n * 1e9
    prof = "\n".join(["| kernel phase | share | ns per request (CPU) |", "|---|---|---|",
                      *[f"| {name} | {share:.0%} | {share * ns:.0f} |" for name, share in phases]])
    events = "\n".join(["| what the event did | events per request |", "|---|---|",
                        *[f"| {what} | {c / n:.3f} |" for what, c in did]])
    md = f"""## DRAM controller

Machine: {_machine()}; load average (1, 5, 15 min) {load0[0]:.2f}, {load0[1]:.2f}, {load0[2]:.2f} at
the start and {load1[0]:.2f}, {load1[1]:.2f}, {load1[2]:.2f} at the end (2 shared cores: wall times
swing; every row is the fastest of {ROUNDS} runs, interleaved round by round so that a change of load
falls on every tool alike, and each run of ours is the mean of back-to-back runs over {window:.1f} s, as long
as one DRAMSim3 run, so that a short run cannot pick a quiet moment; the simpy model runs once; the
ratios below are from this one run).
Trace: {n:,} random requests over 16 GiB, 33% writes, one per cycle (`reference_trace("random", 0.33)`),
one DRAMSim3-format text file; DDR4-2400, design {DESIGN} (= DRAMSim3's DDR4_8Gb_x8_2400.ini);
SHARED32: the same with one shared scheduler buffer of 32 requests instead of 8 per bank.
Our run: {res.metrics['cycles']:,.0f} cycles, {res.metrics['avg_read_latency_ns']:.0f} ns average read latency.
{"" if stats is None else f"DRAMSim3: {stats['num_reads_done'] + stats['num_writes_done']:,} requests done (it reads the last line twice), {stats['average_read_latency']:.0f} cycles average read latency."}

{chr(10).join(table)}

{ratio}

Kernel profile ({n:,} requests, {S[dram.L.S_EVENTS] / n:.2f} events per request; shares of the
cycle counter, each phase less its laps' own cost ({lap_cycles:.0f} cycles a lap, {lap_share:.0%} of the
profiled run), scaled to the kernel-only CPU time):

{prof}

The same run's events by what each did (a command: any command issued; acceptance: a request stored in a
scheduler buffer; player send: the trace player's next request sent; delivery: a response taken by the
player; {commands / n:.2f} commands per request):

{events}

Env batch on `cloud-1` ({BATCH} random designs of DRAMController-v0's space, {batch_requests:,} requests
each, {os.cpu_count()} cores; the fastest of {ROUNDS} interleaved rounds, each the mean over {WINDOW_S:.0f} s of
back-to-back calls; ratios against one design per call):

{_batch_table(eb)}

Start: a fresh process that imports archgym and runs `dram.simulate(DESIGN, file)` on the first
{START_REQUESTS:,} requests of the trace file (peak memory: the process's own, VmHWM).

| start | wall s | peak MiB |
|---|---|---|
{chr(10).join(f"| {k} | {t:.1f} | {mib:,.0f} |" for k, (t, mib) in start.items())}
"""
    publish("dram-speed", __file__, argv, md, not args.no_write)
    return 0


def _batch_table(eb: dict[str, tuple[float, float]]) -> str:
    base = eb["one design per call"][0]
    return "\n".join(["| env path | designs/s (wall) | CPU s | vs one per call |", "|---|---|---|---|",
                      *[f"| {k} | {rate:,.1f} | {cpu:.2f} | {rate / base:.2f}x |" for k, (rate, cpu) in eb.items()]])


def _machine() -> str:
    from _report import machine
    return machine()


if __name__ == "__main__":
    sys.exit(main())
