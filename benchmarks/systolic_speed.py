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

from benchmarks._report import machine, write_section  # noqa: E402


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
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        run = lambda: float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,  # noqa: E731
                                           text=True, check=True).stdout.strip().splitlines()[-1])
        cold = run()
        warm = min(run() for _ in range(3))
    return cold, warm


def scalesim_layer(python: str):
    """(SCALE-Sim wall s, its cycles, our wall s, our cycles) on test.csv Inc5b_3x3, 128x128 os."""
    from simulators import systolic
    from archgym.core.workloads import load
    with tempfile.TemporaryDirectory() as tmp:
        topo = Path(tmp) / "test.csv"
        topo.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
                        "Inc5b_3x3, 7, 7, 3, 3, 192, 384, 1,\n")
        out = Path(tmp) / "ref.csv"
        t = time.perf_counter()
        subprocess.run([python, str(ROOT / "tests/fixtures/scalesim/generate.py"), "--topologies", tmp, "--out", str(out),
                        "--cases", "test.csv:128x128:os:64"], check=True, capture_output=True)
        wall_total = time.perf_counter() - t
        ref = next(csv.DictReader(out.open()))
        wl = load(topo)
    d = systolic.design_vector({"rows": 128, "cols": 128, "dataflow": "os"})
    p = systolic.prepare(wl, accounting="scalesim")
    ours = best_of(lambda: systolic.simulate_layers(d, p.table, p.tech_arrays, p.mode), repeat=5, number=20000)
    cycles = systolic.simulate_layers(d, p.table, p.tech_arrays, p.mode)[0][0]
    return float(ref["wall_s"]), wall_total, int(ref["total_cycles"]), ours, int(cycles)


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
        ("Cold import + first evaluation (empty numba cache: compiles)", f"{cold:.2f} s", ""),
        ("Warm import + first evaluation (numba `cache=True`)", f"{warm:.2f} s", "≤ 3 s"),
    ]
    if Path(args.scalesim_python).exists():
        ref_layer_s, ref_total_s, ref_cycles, ours_s, our_cycles = scalesim_layer(args.scalesim_python)
        assert ref_cycles == our_cycles, (ref_cycles, our_cycles)
        rows.append(("SCALE-Sim 3.0.0, one layer (test.csv Inc5b_3x3, 128×128 os; its own timer)",
                     f"{ref_layer_s:.2f} s ({ref_total_s:.1f} s with process start)", ""))
        rows.append(("archgym, the same layer (`simulate_layers`)", f"{ours_s * 1e6:.2f} µs", ""))
        rows.append(("Speed-up per layer, identical cycles " f"({our_cycles})", f"{ref_layer_s / ours_s:,.0f}×", "≥ 10^6×"))
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    write_section("systolic", f"""## Systolic array (`benchmarks/systolic_speed.py`)

{machine()}; load average at start {load_avg:.1f}. Best of several rounds; wall time.

| measurement | result | target |
|---|---|---|
{table}
""")
    print(table)


if __name__ == "__main__":
    main()
