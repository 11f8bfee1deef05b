"""Peak memory of the DRAM CLI and env against trace length (issue 16 and 18: memory flat in trace
length, 10 M requests within 1.5x the peak of 1 M). For each length it writes a sequential DRAMSys
.stl trace to a temporary directory and measures each path in a fresh process:

    python benchmarks/dram_memory.py [--requests 1000000 10000000] [--no-write]

- cli: `archgym simulate dram --trace FILE` (streams the file through the kernel in chunks);
- env: `gymnasium.make("archgym/DRAMController-v0", trace=FILE)`, reset and one step (a file longer
  than simulators.dram.IN_MEMORY_REQUESTS streams through the batch kernel at every evaluation).
Peak resident memory is the process's own (VmHWM: interpreter, numpy, numba and gymnasium included).
Results go to the `dram-memory` block of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import OWN_PEAK_MIB, machine, publish  # noqa: E402

CLI = ("import sys; from archgym.cli import main; main(['simulate', 'dram', '--trace', sys.argv[1]]); "
       f"print({OWN_PEAK_MIB})")
ENV = ("import sys, gymnasium as gym, archgym; env = gym.make('archgym/DRAMController-v0', trace=sys.argv[1]); "
       f"env.reset(seed=0); env.step(env.action_space.sample()); print({OWN_PEAK_MIB})")


def write_trace(path: Path, n: int) -> None:
    """Request i reads 64-byte line i (within 1 GiB) at cycle 2i of the .stl clock."""
    with open(path, "w") as f:
        for lo in range(0, n, 1_000_000):
            i = np.arange(lo, min(n, lo + 1_000_000))
            f.write("".join(f"{c}:\tread\t{a:#x}\n" for c, a in zip((2 * i).tolist(), (64 * i % (1 << 30)).tolist())))


def peak_mib(code: str, trace: Path) -> tuple[float, float]:
    """(peak resident MiB, wall s) of a fresh process running `code` on the trace."""
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, str(trace)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1]), time.perf_counter() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = ap.parse_args(argv)
    peaks = {}
    with tempfile.TemporaryDirectory() as d:
        warm = Path(d) / "warm.stl"               # compile or load numba's cache first: no compiler in the peaks
        write_trace(warm, 100)
        peak_mib(CLI, warm)
        peak_mib("import simulators.dram as d; d.IN_MEMORY_REQUESTS = 10; " + ENV, warm)
        for n in args.requests:
            trace = Path(d) / f"trace{n}.stl"
            write_trace(trace, n)
            peaks[n] = {"cli": peak_mib(CLI, trace), "env": peak_mib(ENV, trace)}
            trace.unlink()
            print(n, peaks[n], flush=True)
    lo, hi = min(peaks), max(peaks)
    rows = ["| requests | CLI peak MiB | CLI wall s | env peak MiB | env wall s | env / CLI |", "|---" * 6 + "|"]
    for n, p in sorted(peaks.items()):
        rows.append(f"| {n:,} | {p['cli'][0]:.0f} | {p['cli'][1]:.0f} | {p['env'][0]:.0f} | {p['env'][1]:.0f} | "
                    f"{p['env'][0] / p['cli'][0]:.2f}x |")
    md = f"""## DRAM memory against trace length

Machine: {machine()}; load average {os.getloadavg()[0]:.2f}. Sequential .stl read traces; peak
resident memory of a fresh process (VmHWM, interpreter and libraries included).

{chr(10).join(rows)}

{hi:,} requests against {lo:,}: CLI {peaks[hi]['cli'][0] / peaks[lo]['cli'][0]:.2f}x, env
{peaks[hi]['env'][0] / peaks[lo]['env'][0]:.2f}x (target: at most 1.5x).
"""
    publish("dram-memory", __file__, argv, md, not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
