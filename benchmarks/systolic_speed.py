"""Systolic model speed: one ResNet-50 evaluation, batch throughput, env steps, import time, and
the per-layer ratio against SCALE-Sim 3.0.0 measured in the same run (identical cycles checked).

    python benchmarks/systolic_speed.py [--scalesim-python .venv-scalesim/bin/python]

Writes its section of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._report import DOC, command_line, fresh_starts, interleaved, machine, windowed, write_generated  # noqa: E402


def best_of(fn, repeat=5, number=1):
    """Best wall time per call over `repeat` rounds of `number` calls (s)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t) / number)
    return best


def import_times():
    """Cold (empty numba cache) and warm import-plus-first-ResNet-50-evaluation, in s."""
    code = ("import time; t = time.perf_counter(); import archgym; from simulators import systolic; "
            "systolic.simulate({'rows': 32}, 'resnet50'); print(time.perf_counter() - t)")
    (cold,), (warm,) = fresh_starts(code)
    return cold, warm


def scalesim_layer(python: str, rounds: int = 3, block: int = 20000):
    """(SCALE-Sim's layer wall s, its wall s with process start, its cycles, our wall s per call, our cycles)
    on test.csv Inc5b_3x3, 128x128 os: the fastest of `rounds` interleaved rounds (_report.interleaved), ours
    timed in blocks of `block` calls over as long as one SCALE-Sim run (_report.windowed)."""
    from simulators import systolic
    from archgym.core.workloads import load
    with tempfile.TemporaryDirectory() as tmp:
        topo = Path(tmp) / "test.csv"
        topo.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
                        "Inc5b_3x3, 7, 7, 3, 3, 192, 384, 1,\n")
        wl = load(topo)
        d = systolic.design_vector({"rows": 128, "cols": 128, "dataflow": "os"})
        p = systolic.prepare(wl, accounting="scalesim")
        one = lambda: systolic.simulate_layers(d, p.table, p.tech_arrays, p.mode)  # noqa: E731
        runs = iter(range(1 << 30))

        def scalesim():
            """(its result row, its own layer timer s, wall s with process start)."""
            out = Path(tmp) / f"ref{next(runs)}.csv"       # a new file: generate.py resumes an existing one
            t = time.perf_counter()
            subprocess.run([python, str(ROOT / "tests/fixtures/scalesim/generate.py"), "--topologies", tmp,
                            "--out", str(out), "--cases", "test.csv:128x128:os:64"], check=True, capture_output=True)
            total = time.perf_counter() - t
            ref = next(csv.DictReader(out.open()))
            return ref, float(ref["wall_s"]), total

        def ours():
            """(None, wall s of `block` calls, 0)."""
            return None, best_of(one, repeat=1, number=block) * block, 0.0

        fastest = interleaved(rounds, {"scalesim": scalesim, "ours": windowed(ours, scalesim()[1])})
    ref, ref_s, total_s = fastest["scalesim"]
    return ref_s, total_s, int(ref["total_cycles"]), fastest["ours"][1] / block, int(one()[0][0])


def nb201_pairs(n_arch=64, n_designs=1000, n_pairs=1_000_000):
    """(design, network) pairs per second on NAS-Bench-201-shaped networks (stem, 3 stages of 5 cells,
    2 stride-2 reductions, pooled classifier) costed once per (design, unique row): rows_batch, then
    totals_of_pairs. Wall seconds of both steps included."""
    import torch
    from torch import nn
    sys.path.insert(0, str(ROOT / "tests"))
    from test_systolic_vector import Cell
    from archgym.frontends import from_torch
    from simulators import systolic

    ops = list(Cell.OPS)
    rng = np.random.default_rng(0)

    def net(genotype):
        layers = [nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16)]
        for stage, c in enumerate((16, 32, 64)):
            if stage:
                layers += [nn.Conv2d(c // 2, c, 3, stride=2, padding=1), nn.ReLU()]
            layers += [Cell(genotype, c) for _ in range(5)]
        return nn.Sequential(*layers, nn.BatchNorm2d(64), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                             nn.Linear(64, 10))
    tables = [from_torch(net([ops[i] for i in rng.integers(len(ops), size=6)]), torch.zeros(1, 3, 32, 32)).table
              for _ in range(n_arch)]
    uniq, inverse = np.unique(np.concatenate(tables), axis=0, return_inverse=True)
    counts = np.zeros((n_arch, len(uniq)))
    bounds = np.cumsum([0] + [len(t) for t in tables])
    for a in range(n_arch):
        np.add.at(counts[a], inverse.reshape(-1)[bounds[a]:bounds[a + 1]], 1.0)
    prep = systolic.prepare("resnet18")  # for its TechModel and accounting only
    designs = np.tile(systolic.design_vector({}), (n_designs, 1))
    designs[:, 0] = 2 ** rng.integers(2, 8, n_designs)
    designs[:, 1] = 2 ** rng.integers(2, 8, n_designs)
    designs[:, 2] = rng.integers(0, 3, n_designs)
    designs[:, 5] = 2 ** rng.integers(3, 10, n_designs)
    d_of, a_of = rng.integers(n_designs, size=n_pairs), rng.integers(n_arch, size=n_pairs)

    def run():
        per_row = systolic.rows_batch(designs, uniq, prep.tech_arrays, prep.mode)
        return systolic.totals_of_pairs(designs, per_row, d_of, counts, a_of, prep.tech_arrays)
    run()
    return n_pairs / best_of(run, repeat=3), len(uniq)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--scalesim-python", default=str(ROOT / ".venv-scalesim/bin/python"))
    p.add_argument("--batch", type=int, default=200_000)
    args = p.parse_args()
    load_avg = os.getloadavg()[0]

    import gymnasium as gym
    import archgym  # noqa: F401
    from simulators import systolic

    prep = systolic.prepare("resnet50")
    d = systolic.design_vector({"rows": 32, "cols": 32, "dataflow": "ws"})
    systolic.simulate_total(d, prep.table, prep.tech_arrays, prep.mode)
    one = best_of(lambda: systolic.simulate_total(d, prep.table, prep.tech_arrays, prep.mode), repeat=7, number=2000)

    rng = np.random.default_rng(0)
    designs = np.tile(d, (args.batch, 1))
    designs[:, 0] = 2 ** rng.integers(2, 9, args.batch)
    designs[:, 1] = 2 ** rng.integers(2, 9, args.batch)
    designs[:, 2] = rng.integers(0, 3, args.batch)
    designs[:, 3:6] = 2 ** rng.integers(3, 13, (args.batch, 3))
    systolic.simulate_batch(designs[:64], prep)
    batch = best_of(lambda: systolic.simulate_batch(designs, prep), repeat=3)

    env = gym.make("archgym/Systolic-v0", workload="resnet50")
    env.reset(seed=0)
    actions = np.stack([env.action_space.sample() for _ in range(20000)])

    def steps():
        for a in actions:
            if env.step(a)[3]:
                env.reset()
    step = best_of(steps, repeat=3) / len(actions)

    venv = gym.make_vec("archgym/Systolic-v0", num_envs=256, workload="resnet50", vectorization_mode="vector_entry_point")
    venv.reset(seed=0)
    vactions = np.stack([venv.action_space.sample() for _ in range(50)])
    vstep = best_of(lambda: [venv.step(a) for a in vactions], repeat=3) / (50 * 256)

    pairs_per_s, n_unique = nb201_pairs()
    controller = systolic.prepare("resnet50", dram_model="controller")
    cvec = systolic.design_vector({"rows": 32, "cols": 32, "dataflow": "ws", "ofmap_sram_kb": 1024}, controller)
    systolic.evaluate(cvec[None, :], controller)
    ctrl = best_of(lambda: systolic.evaluate(cvec[None, :], controller), repeat=3)
    roof = best_of(lambda: systolic.simulate_total(cvec[:len(systolic.PARAMETERS)], prep.table, prep.tech_arrays, prep.mode),
                   repeat=7, number=2000)
    cold, warm = import_times()
    rows = [
        ("One ResNet-50 evaluation, all metrics (`simulate_total`, warm)", f"{one * 1e6:.2f} µs", "≤ 10 µs"),
        ("Batch ResNet-50 design evaluations (`simulate_batch`, 2 threads)", f"{args.batch / batch:,.0f} /s", "≥ 200,000 /s"),
        ("`env.step` through `gymnasium.make` wrappers (ResNet-50)", f"{1 / step:,.0f} steps/s", "≥ 20,000 /s"),
        ("Vector env (`make_vec`, 256 envs, one kernel call per step)", f"{1 / vstep:,.0f} steps/s", ""),
        ("One ResNet-50 evaluation with `dram_model=\"controller\"` (8,192 requests per layer simulated)",
         f"{ctrl * 1e3:.1f} ms ({ctrl / roof:,.0f}× the roofline's {roof * 1e6:.1f} µs)", ""),
        (f"NAS-Bench-201-shaped (design, network) pairs: 1,000 designs x 64 networks ({n_unique} unique rows), "
         "`rows_batch` + `totals_of_pairs`", f"{pairs_per_s:,.0f} /s", "≥ 1,000,000 /s"),
        ("Cold import + first evaluation (empty numba cache: compiles, the DRAM controller kernel too: "
         "`simulators.tech` prices DRAM energy per bit with it)", f"{cold:.2f} s", ""),
        ("Warm import + first evaluation (numba `cache=True`)", f"{warm:.2f} s", "≤ 3 s"),
    ]
    if Path(args.scalesim_python).exists():
        ref_layer_s, ref_total_s, ref_cycles, ours_s, our_cycles = scalesim_layer(args.scalesim_python)
        assert ref_cycles == our_cycles, (ref_cycles, our_cycles)
        rows.append(("SCALE-Sim 3.0.0, one layer (test.csv Inc5b_3x3, 128×128 os; its own timer; best of 3)",
                     f"{ref_layer_s:.2f} s ({ref_total_s:.1f} s with process start)", ""))
        rows.append(("archgym, the same layer (`simulate_layers`; mean over as long as SCALE-Sim's run, best of 3, interleaved)",
                     f"{ours_s * 1e6:.2f} µs", ""))
        rows.append(("Speed-up per layer, identical cycles " f"({our_cycles})", f"{ref_layer_s / ours_s:,.0f}×", "≥ 10^6×"))
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    write_generated(DOC, "systolic", command_line(__file__), f"""## Systolic array (`benchmarks/systolic_speed.py`)

{machine()}; load average at start {load_avg:.1f}. Best of several rounds; wall time.

| measurement | result | target |
|---|---|---|
{table}
""")
    print(table)


if __name__ == "__main__":
    main()
