"""Sweep speed: a 10,000-evaluation sweep on the systolic env, and the sweep's own overhead per
evaluation (scheduling, pickling, decoding and logging; simulation and agent work excluded).

    python benchmarks/sweep_speed.py [--workers 2]

Overhead is measured with one worker, where nothing overlaps: (sweep wall time - the sum of the
cells' own search wall times) / evaluations. It is reported twice: all-in (it includes starting
the pool and building the env in the worker, once per sweep) and the driver's part alone
(decoding designs and committing rows to SQLite). Writes its section of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._report import DOC, command_line, machine, write_generated  # noqa: E402

ENV = "archgym/Systolic-v0"


def experiment(agents: list[str], seeds: int, budget: int) -> dict:
    return {"name": "sweep-speed", "budget": budget, "seeds": seeds, "envs": [ENV], "agents": agents}


def timed_sweep(exp: dict, workers: int) -> tuple[float, object, float]:
    """(sweep wall s, SweepSummary, sum of the cells' search wall times s) in a fresh run directory."""
    from archgym.experiments import load_experiment, run_sweep
    from archgym.experiments.log import cells
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        summary = run_sweep(load_experiment(exp), out=tmp, workers=workers, progress=False)
        wall = time.perf_counter() - t
        search = float(cells(tmp)["wall_time_s"].sum())
    assert not summary.failed and summary.evaluations == load_experiment(exp).n_evaluations
    return wall, summary, search


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    import os
    import archgym  # noqa: F401  (warm the numba cache before timing)
    import gymnasium as gym
    gym.make(ENV)
    load = os.getloadavg()[0]

    mixed = experiment(["random", "ga", "aco", "regularized_evolution", "sa"], seeds=4, budget=500)
    wall, s, search = timed_sweep(mixed, args.workers)
    n = s.evaluations
    rows = [f"| 10,000 evaluations, {ENV} (ResNet-18), 5 agents x 4 seeds x 500, {args.workers} workers | "
            f"{wall:.1f} s total ({n / wall:,.0f} evaluations/s) |"]

    for label, exp in (("20 cells x 500 evaluations (mixed agents)", mixed),
                       ("400 cells x 25 evaluations (random search)", experiment(["random"], seeds=400, budget=25))):
        wall1, s1, search1 = timed_sweep(exp, 1)
        all_in = (wall1 - search1) / s1.evaluations * 1e3
        driver = s1.write_time_s / s1.evaluations * 1e3
        rows.append(f"| overhead per evaluation, 1 worker, {label} | all-in {all_in:.3f} ms; "
                    f"driver decode + SQLite commit {driver:.4f} ms |")
        print(rows[-1])
    print(rows[0])
    write_generated(DOC, "sweep", command_line(__file__), "\n".join([
        "## Sweeps (`benchmarks/sweep_speed.py`)",
        "",
        f"Machine: {machine()}; load average at start {load:.1f} (the machine is shared). Local executor",
        "(process pool), agents random, ga, aco, regularized_evolution and sa. Overhead = (sweep wall time - sum of the",
        "cells' own search wall times) / evaluations with one worker, so nothing overlaps; all-in includes",
        "starting the pool and building the env in the worker, once per sweep.",
        "",
        "| measurement | result |",
        "|---|---|",
        *rows,
    ]))


if __name__ == "__main__":
    main()
