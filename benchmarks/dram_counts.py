"""Work per request of the DRAM kernel, counted by valgrind's cachegrind beside the wall-clock benchmark:

    python benchmarks/dram_counts.py [--requests 200000] [--no-write]

Instructions, data reads and writes, conditional branches and the share of them that cachegrind's
branch-predictor model misses, and the misses of its model of the first-level caches, per request,
for DESIGN and SHARED32 of benchmarks/dram_speed.py on the same random trace. Counts do not swing with
a shared host's load as wall times do (1.5-2x on these VMs), so they are the measure for an A/B of two
versions of the kernel (run this script in each checkout), beyond their own spread, which the block reports.
They are not the speed: a change that removes instructions but not loads, stores or data-dependent
branches can leave wall time where it was; the `dram-speed` block (dram_speed.py) has the speed.

A third row, FOLDED, is DESIGN run by a copy of the kernel's source in which every parameter that picks a
code path or bounds a loop (STRUCTURAL) is DESIGN's literal value instead of a read of P, so that LLVM
drops the other configurations' code and knows every trip count: it measures what the kernel's generality
costs (its events must equal DESIGN's). Beside the counts, each row's speed in requests/s (`rate`, outside
valgrind, compiled for this host): the counts say what an instruction-level change did, the rate whether it
paid. Each design runs in two processes under cachegrind that make the same trace and run its first 200
requests; the second then runs all --requests. Their difference divided by --requests is the kernel's
work per request (start-up, imports, the trace, the numba cache load and warm-up cancel). Both use
code compiled for haswell (AVX2), because valgrind 3.19 does not decode AVX-512 (numba keys its cache on the CPU, so the native
build stays). Without valgrind the benchmark says so and writes nothing.
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import interleaved, machine, publish  # noqa: E402
from dram_speed import DESIGN, SHARED32  # noqa: E402

DESIGNS = {"DESIGN": DESIGN, "SHARED32": SHARED32}
FOLDED = "DESIGN, configuration folded"     # DESIGN on folded_source's copy of the package
# layout.P_* fields that choose a code path or a loop's bounds (the rest are timings); KERNEL_SOURCES read them
STRUCTURAL = ("P_NCH", "P_NRANK", "P_NBG", "P_NBPG", "P_RATIO_NUM", "P_RATIO_DEN", "P_PAGE", "P_SCHED", "P_SBUF",
              "P_BUFSZ", "P_RESPQ", "P_REFPOL", "P_MAXPOST", "P_MAXPULL", "P_PDPOL", "P_ARB", "P_MAXACT")
KERNEL_SOURCES = ("kernel.py", "commands.py", "frontend.py")
RATE_REQUESTS = 1_000_000        # the wall-clock column: the `dram-speed` block's trace length
RATE_ROUNDS, RATE_REPS = 5, 3
WARM_REQUESTS = 200
# one thread per pool: an idle pool's workers spin (OpenMP's and OpenBLAS's wait policies), and cachegrind counts that
THREADS = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}
# LLVM's haswell feature set, given whole: numba would otherwise ask the host, which has AVX-512; a fixed
# hash seed, else Python's own work differs between the two runs by up to 90 M instructions (0.2 M with it)
HASWELL = {"PYTHONHASHSEED": "0", "NUMBA_CPU_NAME": "haswell", **THREADS,
           "NUMBA_CPU_FEATURES": "+64bit,+avx,+avx2,+bmi,+bmi2,+cmov,+cx16,+f16c,+fma,+fsgsbase,+lzcnt,+mmx,+movbe,"
                                 "+pclmul,+popcnt,+rdrnd,+sahf,+sse,+sse2,+sse3,+sse4.1,+sse4.2,+ssse3,+xsave,+xsaveopt"}
COUNTS = {"Ir": "instructions", "Dr": "data reads", "Dw": "data writes", "Bc": "conditional branches"}
# cachegrind's first-level cache misses (its last level takes this VM's reported L3, 512 MiB, so its misses say nothing)
MISSES = {"L1 data misses": ("D1mr", "D1mw"), "L1 instruction misses": ("I1mr",)}


def warmed(name: str, n: int):
    """Design `name`'s kernel on the n-request trace as a call of batch.simulate_one that returns the state S,
    warmed by one on the first WARM_REQUESTS requests (compiled or loaded)."""
    from archgym.core.workloads import traces as tr
    from simulators import dram
    from simulators.dram import batch
    d, system = dram.memory_system(DESIGNS[name])
    P = dram.params(d, system)
    decoded = dram.decode(tr.reference_trace("random", 0.33, n=n), system, (1, 1))
    none = np.zeros((0, 2), np.int64)
    batch.simulate_one(P, decoded[:WARM_REQUESTS], none, None)
    return lambda: batch.simulate_one(P, decoded, none, None)[0]


def child(name: str, n: int, run: bool) -> None:
    """Make the n-request trace, run design `name` on its first WARM_REQUESTS requests, then (run) on all n;
    print events per request."""
    from simulators.dram import layout
    simulate = warmed(name, n)
    if run:
        print(simulate()[layout.S_EVENTS] / n)


def rate(name: str, n: int) -> None:
    """Print design `name`'s kernel speed on the n-request trace in requests/s, the fastest of RATE_REPS
    back-to-back runs (native build, outside valgrind; after `warmed`'s warm-up)."""
    simulate = warmed(name, n)
    best = math.inf
    for _ in range(RATE_REPS):
        t0 = time.perf_counter()
        simulate()
        best = min(best, time.perf_counter() - t0)
    print(n / best)


def rates(rows: dict[str, tuple[str, dict[str, str]]], n: int) -> dict[str, float]:
    """{row: the fastest of RATE_ROUNDS `rate` children, in requests/s} for rows {row: (design, environment
    added)}, taking turns round by round (_report.interleaved)."""
    def child_rate(name, env):
        out = subprocess.run([sys.executable, __file__, "--rate", name, str(n)], check=True, capture_output=True,
                             text=True, env={**os.environ, **env}).stdout
        r = float(out.split()[-1])
        return r, n / r
    fastest = interleaved(RATE_ROUNDS, {row: (lambda v=v: child_rate(*v)) for row, v in rows.items()})
    return {row: r for row, (r, _) in fastest.items()}


def folded_source(dst: Path) -> dict[str, str]:
    """Copy the `simulators` package into dst with DESIGN's STRUCTURAL parameters written as literals into
    KERNEL_SOURCES (each `P[P_X]` becomes its value); the environment that imports the copy first."""
    from simulators import dram
    from simulators.dram import layout
    P = dram.params(*dram.memory_system(DESIGN))
    package = Path(dram.__file__).resolve().parent.parent
    shutil.copytree(package, dst / "simulators", ignore=shutil.ignore_patterns("__pycache__"))
    found = set()
    for name in KERNEL_SOURCES:
        path = dst / "simulators" / "dram" / name
        text = path.read_text()
        for field in (f for f in STRUCTURAL if f"P[{f}]" in text):
            found.add(field)
            text = text.replace(f"P[{field}]", str(int(P[getattr(layout, field)])))
        path.write_text(text)
    if found != set(STRUCTURAL):     # a field the kernel no longer reads this way: the list is stale
        raise SystemExit(f"STRUCTURAL fields not read as P[...] in {KERNEL_SOURCES}: {sorted(set(STRUCTURAL) - found)}")
    env = {"PYTHONPATH": os.pathsep.join([str(dst), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
           "NUMBA_CACHE_DIR": str(dst / "numba-cache")}
    where = subprocess.run([sys.executable, "-P", "-c", "import simulators; print(simulators.__file__)"], check=True,
                           capture_output=True, text=True, env={**os.environ, **env}).stdout.strip()
    if not Path(where).resolve().is_relative_to(dst.resolve()):   # an install that shadows PYTHONPATH
        raise SystemExit(f"the copy in {dst} does not import first (simulators from {where})")
    return env


def cachegrind(name: str, n: int, run: bool, out: Path, env: dict[str, str]) -> tuple[dict[str, int], str, str]:
    """({event: count} of the whole process, its stdout, the simulated caches) of `child(name, n, run)`
    under cachegrind, with env added to the environment."""
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=yes", "--branch-sim=yes", f"--cachegrind-out-file={out}",
           sys.executable, __file__, "--child", name, str(n), str(int(run))]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, env={**os.environ, **HASWELL, **env})
    lines = out.read_text().splitlines()
    events = next(x for x in lines if x.startswith("events:")).split()[1:]
    summary = next(x for x in lines if x.startswith("summary:")).split()[1:]
    caches = "; ".join(" ".join(x.split()[1:]) for x in lines if x.startswith(("desc: I1", "desc: D1")))
    return dict(zip(events, map(int, summary))), done.stdout, caches


def per_request(name: str, n: int, tmp: Path, env: dict[str, str]) -> tuple[dict[str, float], str]:
    """(cachegrind's counts per request of design `name` (the difference of two runs), events per request
    and the instructions by which two identical runs differ (per request), the simulated caches); env: added
    to the children's environment."""
    subprocess.run([sys.executable, __file__, "--child", name, str(WARM_REQUESTS), "0"], check=True,
                   env={**os.environ, **HASWELL, **env})       # compiles the haswell build once, outside valgrind
    runs = [cachegrind(name, n, run, tmp / f"{name}.{i}", env) for i, run in enumerate((False, True) * 2)]
    (base, _, _), (full, stdout, caches), (base2, _, _), (full2, _, _) = runs   # twice: the count's spread
    out = {k: (full[k] - base[k]) / n for k in (*COUNTS, "Bcm", *(e for es in MISSES.values() for e in es))}
    out["events"] = float(stdout.split()[-1])
    out["spread"] = abs((full2["Ir"] - base2["Ir"]) - (full["Ir"] - base["Ir"])) / n
    return out, caches


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=200_000)
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    ap.add_argument("--child", nargs=3, metavar=("DESIGN", "N", "RUN"), help=argparse.SUPPRESS)
    ap.add_argument("--rate", nargs=2, metavar=("DESIGN", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.requests < 1:
        ap.error(f"--requests {args.requests}: must be at least 1")
    if args.child:
        child(args.child[0], int(args.child[1]), args.child[2] == "1")
        return 0
    if args.rate:
        rate(args.rate[0], int(args.rate[1]))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is absent: no counts (apt install valgrind)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        variants = {**{name: (name, {}) for name in DESIGNS}, FOLDED: ("DESIGN", folded_source(Path(tmp) / "folded"))}
        done = {row: per_request(name, args.requests, Path(tmp), env) for row, (name, env) in variants.items()}
        speed = rates(variants, RATE_REQUESTS)
    rows = {name: r for name, (r, _) in done.items()}
    if rows[FOLDED]["events"] != rows["DESIGN"]["events"]:
        raise SystemExit(f"the folded kernel ran {rows[FOLDED]['events']} events per request, DESIGN's "
                         f"{rows['DESIGN']['events']}: the copy is not the same kernel")
    caches = next(iter(done.values()))[1]
    version = subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()
    table = ["| design | kernel events | " + " | ".join(COUNTS.values()) + " | mispredicted (cachegrind's model) | "
             + " | ".join(MISSES) + " | instructions: two identical runs differ by | requests/s (wall, native build) |",
             "|---" * (len(COUNTS) + 5 + len(MISSES)) + "|"]
    for name, r in rows.items():
        table.append(f"| {name} | {r['events']:.2f} | " + " | ".join(f"{r[k]:,.0f}" for k in COUNTS)
                     + f" | {r['Bcm']:.1f} ({r['Bcm'] / r['Bc']:.1%}) | "
                     + " | ".join(f"{sum(r[e] for e in es):.2f}" for es in MISSES.values())
                     + f" | {r['spread']:,.0f} | {speed[name]:,.0f} |")
    md = f"""## DRAM kernel work per request (cachegrind)

Machine: {machine()}; {version}, the kernel compiled for haswell.
Per request of {args.requests:,} random requests (`reference_trace("random", 0.33)`, as in the `dram-speed`
block): the difference of two runs that share everything but those requests. Cachegrind's branch
predictor is a simple model, not this CPU's: its misses show which branches depend on the data, not
how many a modern core misses. Its cache model has this host's first-level caches ({caches});
it counts misses, not their cost. The column "two identical runs differ by" is the count's own noise (both
runs made twice, the two counts' difference): a change between two kernels smaller than that is not a change.
{FOLDED}: DESIGN run by a copy of the kernel whose parameters that choose a code path or bound a loop
are DESIGN's values as literals ({", ".join(f"`{f}`" for f in STRUCTURAL)}), so LLVM compiles this one
configuration: what the kernel's generality costs.
The last column is not a count: the kernel's speed on {RATE_REQUESTS:,} requests of the same trace, compiled for
this host's CPU and run outside valgrind, the fastest of {RATE_ROUNDS} rounds (the rows take turns) of the fastest
of {RATE_REPS} runs each; load average at the end {os.getloadavg()[0]:.2f} (2 shared cores: the rate swings with it).

{chr(10).join(table)}
"""
    publish("dram-counts", __file__, argv, md, not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
