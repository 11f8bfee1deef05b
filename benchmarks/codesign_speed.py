"""Co-design env speed: env.step and batch evaluate rates per env and oracle, and cold start.

    python benchmarks/codesign_speed.py [--steps 20000]

Writes the `codesign` section of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

CASES = [  # (env id, gym.make kwargs, label)
    ("archgym/CoDesign-Systolic-v0", {}, "tabular oracle"),
    ("archgym/CoDesign-Systolic-v0", {"oracle": "predictor"}, "predictor oracle (MLP fit and tabulated over mbv2-tab in gym.make)"),
    ("archgym/CoDesign-NASAIC-v0", {}, "two networks, two sub-accelerators"),
    ("archgym/CoDesign-FPGA-v0", {}, "tabular oracle, FINN-style FPGA"),
]


def measure(env_id: str, kwargs: dict, steps: int, seed: int = 0) -> dict:
    import gymnasium as gym
    t = time.perf_counter()
    env = gym.make(env_id, **kwargs)
    make_s = time.perf_counter() - t
    env.reset(seed=seed)
    actions = env.unwrapped.space.sample_indices(np.random.default_rng(seed), steps)
    for a in actions[:1000]:  # warm-up: every architecture's layer table, numba dispatch
        env.step(a)
    t = time.perf_counter()
    for a in actions:
        env.step(a)
    step_rate = steps / (time.perf_counter() - t)
    env.unwrapped.evaluate(actions[:1000])
    t = time.perf_counter()
    env.unwrapped.evaluate(actions)
    batch_rate = steps / (time.perf_counter() - t)
    return {"make_s": make_s, "steps_per_s": step_rate, "batch_evals_per_s": batch_rate}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=20_000)
    args = p.parse_args(argv)
    import os

    import archgym  # noqa: F401  (registers the envs)
    from _report import DOC, command_line, machine, write_generated  # benchmarks/ is on sys.path when run as a script

    load = os.getloadavg()[0]
    rows = []
    for env_id, kwargs, label in CASES:
        r = measure(env_id, kwargs, args.steps)
        rows.append((env_id, label, r))
        print(f"{env_id} ({label}): {r['steps_per_s']:,.0f} steps/s, {r['batch_evals_per_s']:,.0f} batch evals/s, "
              f"make {r['make_s']:.2f} s", flush=True)
    lines = ["## Co-design envs (`benchmarks/codesign_speed.py`)", "",
             f"Machine: {machine()}; 1-minute load average at start {load:.1f} (the machine is shared: "
             f"figures under load are lower bounds). `python benchmarks/codesign_speed.py --steps {args.steps}`: "
             f"{args.steps:,} random actions per env after 1,000 warm-up steps; single-env `env.step` (the "
             "whole Gymnasium step: decode, oracle, simulator kernel, reward, observation) and one batch "
             "`env.unwrapped.evaluate` call over the same actions. `gym.make` time includes loading the "
             "shipped table (and fitting the MLP for the predictor oracle). Target: >= 5,000 steps/s with the "
             "tabular or predictor oracle.", "",
             "| env | oracle / variant | env.step per s | batch evals per s | gym.make (s) |",
             "|---|---|---:|---:|---:|"]
    for env_id, label, r in rows:
        lines.append(f"| `{env_id}` | {label} | {r['steps_per_s']:,.0f} | {r['batch_evals_per_s']:,.0f} | {r['make_s']:.2f} |")
    write_generated(DOC, "codesign", command_line(__file__, argv), "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
