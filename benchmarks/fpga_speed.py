"""FPGA dataflow model speed: design evaluations per second on CNV and MobileNetV1-0.25, env step
rate, cold and warm start. Writes the "fpga" section of docs/benchmarks.md.

    python benchmarks/fpga_speed.py [--n 1000000] [--repeats 3] [--no-write]

Batch figures are the best of `repeats` runs of one kernel call over n random designs of the env
spaces (SetFolding: archgym/FPGADataflow-v0's knobs; per-layer: archgym/FPGAFolding-v0's PE/SIMD
indices), on all cores and on one: per wall-clock second, and per CPU-second of this process (which
other jobs on a shared machine do not deflate). FINN itself is no peer here: its estimates run per
ONNX node in Python and need its toolchain, so the ratio given is against this model's own
one-design Python call.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine, write_section  # noqa: E402

WORKLOADS = ("cnv", "mobilenet_v1_0.25")
START = ("import time; t = time.perf_counter(); from simulators import fpga; fpga.simulate({}, 'cnv'); "
         "print(time.perf_counter() - t)")


def best_rate(fn, n: int, repeats: int, cpu: bool = False) -> float:
    """n / the fastest of `repeats` calls, in wall-clock seconds or CPU-seconds of this process."""
    clock = time.process_time if cpu else time.perf_counter
    best = float("inf")
    for _ in range(repeats):
        t = clock()
        fn()
        best = min(best, clock() - t)
    return n / best


def batch_rates(workload: str, n: int, repeats: int) -> dict:
    from archgym.envs.fpga import FPGAEvaluator, FPGAFoldingEvaluator
    rng = np.random.default_rng(0)
    compact, folding = FPGAEvaluator(workload), FPGAFoldingEvaluator(workload)
    setfold = compact.designs(compact.space.sample_indices(rng, n))
    explicit = folding.designs(folding.space.sample_indices(rng, n))
    out = {}
    for label, ev, args in (("setfolding", compact, setfold), ("per-layer", folding, explicit)):
        ev.model.evaluate(*(a[:100] if a is not None else None for a in args))  # compile / warm up
        for threads in (numba.config.NUMBA_NUM_THREADS, 1):
            numba.set_num_threads(threads)
            out[label, threads] = best_rate(lambda: ev.model.evaluate(*args), n, repeats)
        out[label, "cpu"] = best_rate(lambda: ev.model.evaluate(*args), n, repeats, cpu=True)  # 1 thread
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    return out


def env_rates(workload: str) -> dict:
    import gymnasium as gym
    import archgym  # noqa: F401
    from simulators import fpga
    env = gym.make("archgym/FPGADataflow-v0", workload=workload).unwrapped
    idx = env.space.sample_indices(np.random.default_rng(1), 100_000)
    env.evaluate(idx[:10])
    rates = {"env.evaluate (with reward)": best_rate(lambda: env.evaluate(idx), len(idx), 3)}
    env.reset(seed=0)
    actions = [env.action_space.sample() for _ in range(2000)]
    rates["env.step"] = best_rate(lambda: [env.step(a) for a in actions], len(actions), 3)
    designs = [env.space.from_indices(i) for i in idx[:300]]
    model = fpga.Model(workload)
    rates["fpga.simulate, one design per call"] = best_rate(lambda: [model.simulate(d) for d in designs],
                                                            len(designs), 3)
    return rates


def start_times() -> tuple[float, float]:
    """Seconds to import and run the first CNV simulation: cold (empty numba cache), then warm."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        run = [sys.executable, "-c", START]
        cold = float(subprocess.run(run, env=env, capture_output=True, text=True, check=True).stdout)
        warm = float(subprocess.run(run, env=env, capture_output=True, text=True, check=True).stdout)
    return cold, warm


def main(argv=None) -> str:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1_000_000, help="designs per batch call")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = p.parse_args(argv)
    load = os.getloadavg()[0]
    cores = numba.config.NUMBA_NUM_THREADS
    lines = ["## FPGA dataflow model (simulators/fpga)", "",
             f"Machine: {machine()}; 1-minute load average at start {load:.1f} (the machine is shared: "
             f"figures under load are lower bounds). Command: `python benchmarks/fpga_speed.py --n {args.n}`.", "",
             f"| workload | folding | designs/s, {cores} threads | designs/s, 1 thread | designs per CPU-second |",
             "|---|---|---|---|---|"]
    rates = {wl: batch_rates(wl, args.n, args.repeats) for wl in WORKLOADS}
    for wl, r in rates.items():
        for label in ("setfolding", "per-layer"):
            lines.append(f"| {wl} | {label} | {r[label, cores]:,.0f} | {r[label, 1]:,.0f} | {r[label, 'cpu']:,.0f} |")
    lines += ["", "| CNV, archgym/FPGADataflow-v0 | per second |", "|---|---|"]
    env = env_rates("cnv")
    lines += [f"| {k} | {v:,.0f} |" for k, v in env.items()]
    ratio = rates["cnv"]["setfolding", cores] / env["fpga.simulate, one design per call"]
    lines.append(f"| batch kernel / one-design Python calls | {ratio:,.0f}x |")
    cold, warm = start_times()
    lines += ["", f"Start (import + first CNV simulation): cold {cold:.1f} s (numba compiles and caches), "
                  f"warm {warm:.2f} s."]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("fpga", text)
    return text


if __name__ == "__main__":
    main()
