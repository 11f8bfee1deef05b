"""Work per request of the DRAM kernel, counted by valgrind's cachegrind beside the wall-clock benchmark:

    python benchmarks/dram_counts.py [--requests 200000] [--no-write]

Instructions, data reads and writes, conditional branches and the share of them that cachegrind's
branch-predictor model misses, and the misses of its model of the first-level caches, per request,
for DESIGN and SHARED32 of benchmarks/dram_speed.py on the same random trace. Counts do not swing with
a shared host's load as wall times do (1.5-2x on these VMs), so they are the measure for an A/B of two
versions of the kernel (run this script in each checkout), beyond their own spread, which the block reports.
They are not the speed: a change that removes instructions but not loads, stores or data-dependent
branches can leave wall time where it was; the `dram-speed` block (dram_speed.py) has the speed.

Each design runs in two processes under cachegrind that make the same trace and run its first 200
requests; the second then runs all --requests. Their difference divided by --requests is the kernel's
work per request (start-up, imports, the trace, the numba cache load and warm-up cancel). Both use
code compiled for haswell (AVX2), because valgrind 3.19 does not decode AVX-512 (numba keys its cache on the CPU, so the native
build stays). Without valgrind the benchmark says so and writes nothing.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine, publish  # noqa: E402
from dram_speed import DESIGN, SHARED32  # noqa: E402

DESIGNS = {"DESIGN": DESIGN, "SHARED32": SHARED32}
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


def child(name: str, n: int, run: bool) -> None:
    """Make the n-request trace, run design `name` on its first WARM_REQUESTS requests, then (run) on all n;
    print events per request."""
    from archgym.core.workloads import traces as tr
    from simulators import dram
    from simulators.dram import batch
    d, system = dram.memory_system(DESIGNS[name])
    P = dram.params(d, system)
    decoded = dram.decode(tr.reference_trace("random", 0.33, n=n), system, (1, 1))
    none = np.zeros((0, 2), np.int64)
    batch.simulate_one(P, decoded[:WARM_REQUESTS], none, None)
    if run:
        S, _, _ = batch.simulate_one(P, decoded, none, None)
        print(S[dram.L.S_EVENTS] / n)


def cachegrind(name: str, n: int, run: bool, out: Path) -> tuple[dict[str, int], str, str]:
    """({event: count} of the whole process, its stdout, the simulated caches) of `child(name, n, run)`
    under cachegrind."""
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=yes", "--branch-sim=yes", f"--cachegrind-out-file={out}",
           sys.executable, __file__, "--child", name, str(n), str(int(run))]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, env={**os.environ, **HASWELL})
    lines = out.read_text().splitlines()
    events = next(x for x in lines if x.startswith("events:")).split()[1:]
    summary = next(x for x in lines if x.startswith("summary:")).split()[1:]
    caches = "; ".join(" ".join(x.split()[1:]) for x in lines if x.startswith(("desc: I1", "desc: D1")))
    return dict(zip(events, map(int, summary))), done.stdout, caches


def per_request(name: str, n: int, tmp: Path) -> tuple[dict[str, float], str]:
    """(cachegrind's counts per request of design `name` (the difference of two runs), events per request
    and the instructions by which two identical runs differ (per request), the simulated caches)."""
    subprocess.run([sys.executable, __file__, "--child", name, str(WARM_REQUESTS), "0"], check=True,
                   env={**os.environ, **HASWELL})       # compiles the haswell build once, outside valgrind
    base, _, _ = cachegrind(name, n, False, tmp / f"{name}.0")
    full, stdout, caches = cachegrind(name, n, True, tmp / f"{name}.1")
    base2, _, _ = cachegrind(name, n, False, tmp / f"{name}.2")   # both runs again: the count's spread
    full2, _, _ = cachegrind(name, n, True, tmp / f"{name}.3")
    out = {k: (full[k] - base[k]) / n for k in (*COUNTS, "Bcm", *(e for es in MISSES.values() for e in es))}
    out["events"] = float(stdout.split()[-1])
    out["spread"] = abs((full2["Ir"] - base2["Ir"]) - (full["Ir"] - base["Ir"])) / n
    return out, caches


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=200_000)
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    ap.add_argument("--child", nargs=3, metavar=("DESIGN", "N", "RUN"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]), args.child[2] == "1")
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is absent: no counts (apt install valgrind)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        done = {name: per_request(name, args.requests, Path(tmp)) for name in DESIGNS}
    rows = {name: r for name, (r, _) in done.items()}
    caches = next(iter(done.values()))[1]
    version = subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()
    table = ["| design | kernel events | " + " | ".join(COUNTS.values()) + " | mispredicted (cachegrind's model) | "
             + " | ".join(MISSES) + " | instructions: two identical runs differ by |",
             "|---" * (len(COUNTS) + 4 + len(MISSES)) + "|"]
    for name, r in rows.items():
        table.append(f"| {name} | {r['events']:.2f} | " + " | ".join(f"{r[k]:,.0f}" for k in COUNTS)
                     + f" | {r['Bcm']:.1f} ({r['Bcm'] / r['Bc']:.1%}) | "
                     + " | ".join(f"{sum(r[e] for e in es):.2f}" for es in MISSES.values()) + f" | {r['spread']:,.0f} |")
    md = f"""## DRAM kernel work per request (cachegrind)

Machine: {machine()}; {version}, the kernel compiled for haswell.
Per request of {args.requests:,} random requests (`reference_trace("random", 0.33)`, as in the `dram-speed`
block): the difference of two runs that share everything but those requests. Cachegrind's branch
predictor is a simple model, not this CPU's: its misses show which branches depend on the data, not
how many a modern core misses. Its cache model has this host's first-level caches ({caches});
it counts misses, not their cost. The last column is the count's own noise (both runs made twice, the
two counts' difference): a change between two kernels smaller than that is not a change.

{chr(10).join(table)}
"""
    publish("dram-counts", __file__, argv, md, not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
