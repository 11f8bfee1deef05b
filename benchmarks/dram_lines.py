"""Where the DRAM kernel's time goes, by the helper that `kernel.run` inlines, from sampled instruction addresses:

    python benchmarks/dram_lines.py [--requests 1000000] [--reps 6] [--no-write]

The `dram-speed` block's profile splits the time by phase with the cycle counter; this one splits it by
source. A child process compiles the kernel with debug information (NUMBA_DEBUGINFO=1 and an empty
NUMBA_CACHE_DIR, so the object code is at hand) and keeps the object code of `batch.simulate_one`, which
holds the copy of `kernel.run` it calls. A second child, loading that build from the cache, runs DESIGN of
benchmarks/dram_speed.py on the same random trace, pinned to one CPU, under `perf record -e cpu-clock` (a
timer: no hardware counters needed), and notes where its code lies. Each sample inside `run` is mapped by
`addr2line --inlines` to its chain of inlined helpers: the first table counts the helper that `run` calls
(its code and everything inlined into it), the second the innermost function, whose own code the
instruction is. A timer sample lands on the instruction after the one that stalled, so lines blur, but a
helper's share does not. The debug build runs slower at the same optimisation level (with debug
information numba extends every variable's lifetime: its `dbg_extend_lifetimes` flag); its speed and the
production build's, each in a process of its own, are in the text. Without perf, binutils (addr2line,
objdump) or taskset the benchmark says so and writes nothing.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine, publish  # noqa: E402
from dram_speed import DESIGN  # noqa: E402

TOOLS = ("perf", "addr2line", "objdump", "taskset")
OWN = "`kernel.run`'s own code (the event loop)"
# one thread per pool (idle pool workers would take samples) and the kernel pinned to one CPU
THREADS = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}


def child(n: int, reps: int, out: Path | None) -> None:
    """Run DESIGN on n random requests (batch.simulate_one, as the `dram-speed` block's kernel-only rows)
    reps times; print the fastest run's requests/s. out: also write the address of simulate_one's entry in
    this process (out/entry.json) and, if compiled here (not loaded from the cache), the object code of its
    library (out/lib.o), which holds the copy of `run` it calls."""
    import time

    from archgym.core.workloads import traces as tr
    from simulators import dram
    from simulators.dram import batch

    d, system = dram.memory_system(DESIGN)
    P = dram.params(d, system)
    decoded = dram.decode(tr.reference_trace("random", 0.33, n=n), system, (1, 1))
    none = np.zeros((0, 2), np.int64)
    batch.simulate_one(P, decoded[:1000], none, None)
    if out is not None:
        cres = next(iter(batch.simulate_one.overloads.values()))
        if not (out / "lib.o").exists():
            (out / "lib.o").write_bytes(cres.library.serialize_using_object_code()[2][0])
        entry = cres.fndesc.llvm_func_name
        address = cres.library.get_pointer_to_function(entry)
        (out / "entry.json").write_text(json.dumps({"entry": entry, "address": address}))
    best = 0.0
    for _ in range(reps):
        t0 = time.perf_counter()
        batch.simulate_one(P, decoded, none, None)
        best = max(best, n / (time.perf_counter() - t0))
    print(best)


def child_command(n: int, reps: int, out: Path | None) -> list[str]:
    return ["taskset", "-c", "1", sys.executable, __file__, "--child", str(n), str(reps), str(out or "")]


def helper_name(symbol: str) -> str:
    """A numba symbol's dotted name without the package: `commands.issue`, `numba.cpython.builtins.ol_max`."""
    parts, i = [], 3                                  # _ZN <len><name> ... (Itanium nested name)
    while i < len(symbol) and symbol[i].isdigit():
        m = re.match(r"\d+", symbol[i:])
        k = int(m.group())
        parts.append(symbol[i + len(m.group()):i + len(m.group()) + k])
        i += len(m.group()) + k
    name = ".".join(parts) or symbol
    if name.startswith("numba.cpython.builtins.ol_"):      # numba's own max/min, inlined: say which
        return f"{parts[3].removeprefix('ol_')}() (numba's builtin)"
    return name.removeprefix("simulators.dram.")


def inline_chains(obj: Path, section: str, offsets: list[int]) -> dict[int, list[tuple[str, str]]]:
    """{offset: [(function, file:line), ...] innermost first, `run` last} by addr2line."""
    out = subprocess.run(["addr2line", "-a", "-i", "-f", "-e", str(obj), "-j", section, *map(hex, offsets)],
                         check=True, capture_output=True, text=True).stdout.splitlines()
    chains, cur, i = {}, None, 0
    while i < len(out):
        if out[i].startswith("0x"):
            cur = int(out[i], 16)
            chains[cur] = []
            i += 1
            continue
        chains[cur].append((helper_name(out[i]), out[i + 1].rsplit("/", 1)[-1]))
        i += 2
    return chains


def profile(n: int, reps: int, tmp: Path) -> tuple[collections.Counter, collections.Counter, int, float, float]:
    """(samples by helper `run` calls, samples by innermost function, samples in run, debug build's and
    production build's requests/s)."""
    env = {**os.environ, **THREADS, "NUMBA_DEBUGINFO": "1", "NUMBA_CACHE_DIR": str(tmp / "cache")}
    subprocess.run(child_command(1000, 1, tmp), check=True, env=env, capture_output=True)   # compiles, writes lib.o
    data = tmp / "perf.data"
    rec = subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "4999", "-o", str(data), "--",
                          *child_command(n, reps, tmp)], env=env, capture_output=True, text=True)
    if rec.returncode:
        raise RuntimeError(f"perf record failed: {rec.stderr.strip()[-300:]}")
    debug_rate = float(rec.stdout.split()[-1])
    fast = subprocess.run(child_command(n, reps, None), check=True, capture_output=True, text=True,
                          env={**os.environ, **THREADS})
    info = json.loads((tmp / "entry.json").read_text())
    obj = tmp / "lib.o"
    symbols = [f for f in map(str.split, subprocess.run(["objdump", "-t", str(obj)], check=True, capture_output=True,
                                                          text=True).stdout.splitlines()) if f and "F" in f[1:-3]]
    entry = next(int(f[0], 16) for f in symbols if f[-1] == info["entry"])     # value, flags, section, size, name
    start, section, size = next((int(f[0], 16), f[-3], int(f[-2], 16)) for f in symbols
                                if helper_name(f[-1]) == "kernel.run")
    run_address = info["address"] + start - entry      # one section, loaded whole: offsets keep their distance
    ips = subprocess.run(["perf", "script", "-i", str(data), "-F", "ip"], check=True, capture_output=True,
                         text=True).stdout.split()
    offsets = collections.Counter(int(ip, 16) - run_address + start for ip in ips)
    offsets = collections.Counter({o: c for o, c in offsets.items() if start <= o < start + size})
    chains = inline_chains(obj, section, sorted(offsets))
    outer, inner = collections.Counter(), collections.Counter()
    for o, c in offsets.items():
        frames = chains[o]
        outer[frames[-2][0] if len(frames) > 1 else OWN] += c
        inner[frames[0][0]] += c
    return outer, inner, sum(offsets.values()), debug_rate, float(fast.stdout.split()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=6)
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    ap.add_argument("--child", nargs=3, metavar=("N", "REPS", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.requests < 1 or args.reps < 1:
        ap.error(f"--requests {args.requests}, --reps {args.reps}: each must be at least 1")
    if args.child:
        child(int(args.child[0]), int(args.child[1]), Path(args.child[2]) if args.child[2] else None)
        return 0
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        print(f"{', '.join(missing)} absent: no profile (apt install linux-perf binutils util-linux)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        outer, inner, total, debug_rate, fast_rate = profile(args.requests, args.reps, Path(tmp))
    def rows(counter, k):
        top = counter.most_common(k)
        rest = total - sum(c for _, c in top)
        return "\n".join([f"| {name if name == OWN else f'`{name}`'} | {c / total:.1%} |" for name, c in top]
                         + ([f"| the rest | {rest / total:.1%} |"] if rest else []))
    md = f"""## DRAM kernel time by source (perf samples)

Machine: {machine()}. DESIGN of the `dram-speed` block on {args.requests:,} random requests
(`reference_trace("random", 0.33)`), {args.reps} runs pinned to one CPU under `perf record -e cpu-clock`;
{total:,} samples inside `kernel.run`. The debug-information build ran at {debug_rate / 1e6:.2f} M requests/s
(fastest run), the production build at {fast_rate / 1e6:.2f} M in a process of its own just after: the
debug build's code differs, so its shares say where the time goes, not how much (the `dram-speed` block's
phases give that). A helper's row holds its own code and everything inlined into it.

| helper that `run` calls | share of samples |
|---|---|
{rows(outer, 14)}

| innermost function (the instruction's own source) | share of samples |
|---|---|
{rows(inner, 14)}
"""
    publish("dram-lines", __file__, argv, md, not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
