"""FPGA dataflow model speed: design evaluations per second on CNV and MobileNetV1-0.25 in one batch
kernel call, env step rate, cold and warm start. Writes the "fpga" section of docs/benchmarks.md.

    python benchmarks/fpga_speed.py [--n 1000000] [--repeats 3] [--no-write]

Batch figures are the best of `repeats` calls of `simulators.fpga.evaluate` over n random designs:
SetFolding designs (the simulator's parameters: board, target, bits, clock, styles, memory mode)
and per-layer foldings (every `<layer>.pe/.simd` drawn too), on all cores and on one, per
wall-clock second and per CPU-second of this process (which other jobs on a shared machine do not
deflate). The baseline, measured in the same run, is the same model called one design at a time
from Python (`Model.simulate`); FINN itself is no peer here (its estimates run per ONNX node in
Python inside its toolchain). The 1-minute load average is recorded before and after.
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
from _report import DOC, command_line, machine, write_generated  # noqa: E402

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


def design_vectors(model, n: int, per_layer: bool, rng) -> np.ndarray:
    """n random kernel vectors over the simulator's parameters: every board, SetFolding target
    2^8..2^22, 1..8-bit weights and activations, 100..300 MHz, every style and memory mode; with
    `per_layer`, every layer's PE and SIMD drawn from its divisors too (else 0: SetFolding)."""
    from simulators import fpga
    space = fpga.parameters(model)
    values = {"target_cycles": [2.0 ** k for k in range(8, 23)], "weight_bits": range(1, 9),
              "act_bits": range(1, 9), "clock_mhz": [100.0, 150.0, 200.0, 250.0, 300.0]}
    vectors = np.zeros((n, len(space)))
    for j, p in enumerate(space.params):
        if j >= len(fpga.PARAMETERS) and not per_layer:
            break
        choices = values.get(p.name, p.values)
        codes = np.array([p.code(v) for v in choices if v != 0 or j < len(fpga.PARAMETERS)], dtype=np.float64)
        vectors[:, j] = codes[rng.integers(len(codes), size=n)]
    return vectors


def batch_rates(workload: str, n: int, repeats: int) -> dict:
    from simulators import fpga
    model = fpga.prepare(workload)
    rng = np.random.default_rng(0)
    out = {}
    for label, per_layer in (("setfolding", False), ("per-layer", True)):
        vec = design_vectors(model, n, per_layer, rng)
        fpga.evaluate(vec[:1000], model)  # compile / warm up
        for threads in (numba.config.NUMBA_NUM_THREADS, 1):
            numba.set_num_threads(threads)
            out[label, threads] = best_rate(lambda: fpga.evaluate(vec, model), n, repeats)
        out[label, "cpu"] = best_rate(lambda: fpga.evaluate(vec, model), n, repeats, cpu=True)  # 1 thread
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    designs = [fpga.parameters(model).from_indices(i) for i in fpga.parameters(model).sample_indices(rng, 300)]
    designs = [{k: v for k, v in d.items() if k in fpga.PARAMETERS} for d in designs]
    out["python"] = best_rate(lambda: [model.simulate(d) for d in designs], len(designs), repeats)
    return out


def env_rates() -> dict:
    import gymnasium as gym
    import archgym  # noqa: F401
    env = gym.make("archgym/FPGADataflow-v0").unwrapped
    idx = env.space.sample_indices(np.random.default_rng(1), 100_000)
    env.evaluate(idx[:10])
    rates = {"env.evaluate (with reward), FPGADataflow-v0": best_rate(lambda: env.evaluate(idx), len(idx), 3)}
    env.reset(seed=0)
    actions = [env.action_space.sample() for _ in range(2000)]
    rates["env.step, FPGADataflow-v0"] = best_rate(lambda: [env.step(a) for a in actions], len(actions), 3)
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
    load_before = os.getloadavg()[0]
    cores = numba.config.NUMBA_NUM_THREADS
    rates = {wl: batch_rates(wl, args.n, args.repeats) for wl in WORKLOADS}
    env = env_rates()
    cold, warm = start_times()
    load_after = os.getloadavg()[0]
    lines = ["## FPGA dataflow model (simulators/fpga)", "",
             f"Machine: {machine()}; 1-minute load average {load_before:.1f} before, {load_after:.1f} after (the "
             f"machine is shared: figures under load are lower bounds; per CPU-second is what one core delivers). "
             f"Command: `python benchmarks/fpga_speed.py --n {args.n}`.", "",
             f"| workload | folding | designs/s, {cores} threads | designs/s, 1 thread | designs per CPU-second | "
             "one design per Python call (baseline) | batch / baseline |",
             "|---|---|---|---|---|---|---|"]
    for wl, r in rates.items():
        for label in ("setfolding", "per-layer"):
            lines.append(f"| {wl} | {label} | {r[label, cores]:,.0f} | {r[label, 1]:,.0f} | {r[label, 'cpu']:,.0f} | "
                         f"{r['python']:,.0f} | {r[label, cores] / r['python']:,.0f}x |")
    lines += ["", "| CNV env | per second |", "|---|---|"]
    lines += [f"| {k} | {v:,.0f} |" for k, v in env.items()]
    lines += ["", f"Start (import + first CNV simulation): cold {cold:.1f} s (numba compiles and caches), "
                  f"warm {warm:.2f} s."]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_generated(DOC, "fpga", command_line(__file__, argv), text)
    return text


if __name__ == "__main__":
    main()
