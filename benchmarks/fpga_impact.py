"""What a model change does to the FPGA envs: score the same seeded random designs of each FPGA env
(and each env's default design) with one checkout's model, save them, and compare two checkouts.

    PYTHONPATH=<old checkout> python benchmarks/fpga_impact.py --save old.npz
    PYTHONPATH=<new checkout> python benchmarks/fpga_impact.py --compare old.npz

Prints, per env, the fraction of designs whose feasibility changes (and in which direction), the
fraction of designs feasible both times whose objective (the env's reward under its default
objective) changes by more than 1e-9 relative, the same for the penalty of designs infeasible both
times (it grows with the overshoot), the default design, and the best reward in the sample.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

# benchmarks/agents.py would shadow the agents package: drop this directory from the path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

ENVS = ("archgym/FPGADataflow-v0", "archgym/FPGAFolding-v0", "archgym/CoDesign-FPGA-v0", "archgym/NB201-FPGA-v0")


def score(n: int, seed: int) -> dict[str, np.ndarray]:
    """Per env: reward and feasibility of `n` seeded random designs, then the default design (last)."""
    import gymnasium as gym
    import archgym  # noqa: F401 (registers the envs)
    out = {}
    for k, env_id in enumerate(ENVS):
        env = gym.make(env_id).unwrapped
        space = env.space
        idx = np.concatenate([space.sample_indices(np.random.default_rng([seed, k]), n),
                              space.to_indices(space.default())[None, :]])
        res = env.evaluate(idx)
        out[f"{env_id}/reward"] = np.asarray(res["reward"], dtype=np.float64)
        out[f"{env_id}/feasible"] = np.asarray(res["feasible"], dtype=bool)
    return out


def compare(old: dict, new: dict) -> str:
    lines = ["| env | designs | feasibility changes (infeasible -> feasible / feasible -> infeasible) | "
             "objective changes (feasible both times) | penalty changes (infeasible both times) | "
             "default design: feasible, reward before -> after | best reward in the sample before -> after |",
             "|---|---|---|---|---|---|---|"]
    for env_id in ENVS:
        r0, r1 = old[f"{env_id}/reward"], new[f"{env_id}/reward"]
        f0, f1 = old[f"{env_id}/feasible"], new[f"{env_id}/feasible"]
        n = len(r0) - 1
        up, down = (~f0[:n] & f1[:n]).mean(), (f0[:n] & ~f1[:n]).mean()
        moved = ~np.isclose(r0[:n], r1[:n], rtol=1e-9, atol=0)
        both, neither = f0[:n] & f1[:n], ~f0[:n] & ~f1[:n]
        lines.append(f"| {env_id.split('/')[1]} | {n:,} | {up + down:.3%} ({up:.3%} / {down:.3%}) | "
                     f"{(moved & both).sum() / max(both.sum(), 1):.3%} of {both.sum():,} | "
                     f"{(moved & neither).sum() / max(neither.sum(), 1):.3%} of {neither.sum():,} | "
                     f"{bool(f0[n])} -> {bool(f1[n])}, {r0[n]:.6g} -> {r1[n]:.6g} | "
                     f"{r0[:n].max():.6g} -> {r1[:n].max():.6g} |")
    return "\n".join(lines)


def main(argv=None) -> str:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100_000, help="random designs per env")
    p.add_argument("--seed", type=int, default=0)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--save", type=Path, help="write this checkout's scores to an .npz")
    g.add_argument("--compare", type=Path, help="compare this checkout's scores with a saved .npz")
    args = p.parse_args(argv)
    new = score(args.n, args.seed)
    if args.save:
        np.savez(args.save, **new)
        return f"saved {len(ENVS)} envs x {args.n:,} designs to {args.save}"
    with np.load(args.compare) as f:
        old = dict(f)
    return compare(old, new)


if __name__ == "__main__":
    print(main())
