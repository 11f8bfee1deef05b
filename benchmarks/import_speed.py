"""Warm import time of the simulators without gymnasium or torch (issue 10: under 0.5 s warm).

    python benchmarks/import_speed.py [--rounds 7]

Each round is a fresh interpreter that imports the three simulators and checks that neither
gymnasium nor torch came with them; numba's on-disk cache is warm after the first round, which is
dropped. The floor, measured in the same run, is a fresh interpreter that imports numpy and numba
alone, so the ratio is what our modules add on this (shared) machine. Wall and CPU time (user +
system of the child) are both reported: under load wall time swings, CPU time much less. Writes the
`import-speed` block of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

SIMULATORS = ("import simulators.systolic, simulators.dram, simulators.fpga, sys; "
              "assert not {'gymnasium', 'torch'} & set(sys.modules), 'a simulator pulled in gymnasium or torch'")
FLOOR = "import numpy, numba"


def run(code: str) -> tuple[float, float]:
    """(wall s, child CPU s) of a fresh interpreter running `code`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent.parent)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _report import DOC, machine, write_generated

    load = os.getloadavg()
    run(SIMULATORS)  # the first round fills numba's cache; dropped
    sims, floor = [], []
    for _ in range(args.rounds):  # interleaved, so load swings hit both alike
        sims.append(run(SIMULATORS))
        floor.append(run(FLOOR))
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
           for k, v in (("simulators", sims), ("floor", floor))}
    end = os.getloadavg()
    lines = [f"Machine: {machine()}; load average (1 min) {load[0]:.1f} at the start, {end[0]:.1f} at the end. "
             f"Median of {args.rounds} fresh interpreters each, interleaved, after one warm-up round.", "",
             "| import | wall s | CPU s | target |", "|---|---:|---:|---|",
             f"| `simulators.systolic`, `.dram`, `.fpga` (no gymnasium, no torch) | {med['simulators'][0]:.2f} | "
             f"{med['simulators'][1]:.2f} | < 0.5 s warm |",
             f"| floor: `numpy`, `numba` alone | {med['floor'][0]:.2f} | {med['floor'][1]:.2f} | |",
             f"| ours over the floor | {med['simulators'][0] - med['floor'][0]:+.2f} | "
             f"{med['simulators'][1] - med['floor'][1]:+.2f} | |"]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_generated(DOC, "import-speed", "python benchmarks/import_speed.py", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
