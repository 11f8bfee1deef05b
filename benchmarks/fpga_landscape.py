"""How hard the FPGA envs are to search, under their default objective: local optima under
one-parameter moves, the fraction of designs within 5% of the optimum, where the optimum sits in
the box, and how many evaluations random and grid search (agents/sampling.py) need to get within 5%
of it, over >= 20 seeds. Writes the "fpga_landscape" block of docs/fpga.md.

Enumerable spaces are scored exhaustively. Larger ones (FPGAFolding-v0) use a reference optimum,
the best of a hill climb from the default design (FINN SetFolding's folding), `--starts`
steepest-ascent hill climbs from random designs and `--samples` random designs: local optima are
the distinct end points of the random climbs (a lower bound on their number) and the 5% fraction
is estimated from the random sample.

    python benchmarks/fpga_landscape.py [--seeds 20] [--budget 20000] [--starts 60] [--samples 1000000] [--no-write]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from _report import write_generated  # noqa: E402  (benchmarks/_report.py, beside this file)

# benchmarks/agents.py would shadow the agents package: drop this directory from the path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

ENVS = ("archgym/FPGADataflow-v0", "archgym/FPGAFolding-v0")
DOC = Path(__file__).resolve().parent.parent / "docs" / "fpga.md"
COMMAND = "python benchmarks/fpga_landscape.py"
WITHIN = 0.05


def good(out, best_fps):
    """Designs within 5% of the optimum: admissible (feasible, accuracy floor met) and fps >= 95%."""
    return (out["reward"] > -50) & (out["throughput_fps"] >= (1 - WITHIN) * best_fps)


def exhaustive(env):
    """Every design scored; local optima counted exactly (no one-parameter move strictly improves)."""
    space = env.space
    idx = space.enumerate_indices()
    out = env.evaluate(idx)
    r = out["reward"].reshape(tuple(space.nvec))
    better = np.zeros(r.shape, dtype=bool)
    for axis in range(r.ndim):  # some value along this axis beats the design
        better |= np.max(r, axis=axis, keepdims=True) > r
    best = int(np.argmax(out["reward"]))
    best_fps = out["throughput_fps"][best]
    ok = good(out, best_fps)
    local = ~better.reshape(-1)
    return dict(best=idx[best], best_fps=best_fps, fraction=ok.mean(), n_within=int(ok.sum()),
                local=int(local.sum()), local_good=int((local & ok).sum()), exact=True)


def climb(env, start, rng):
    """Steepest ascent over one-parameter moves from `start`; returns (end point, its reward)."""
    space = env.space
    cur = start.copy()
    r_cur = env.evaluate(cur[None, :])["reward"][0]
    while True:
        moves = [np.repeat(cur[None, :], n, axis=0) for n in space.nvec]
        for j, m in enumerate(moves):
            m[:, j] = np.arange(space.nvec[j])
        nb = np.concatenate(moves)
        r = env.evaluate(nb)["reward"]
        k = int(np.argmax(r))
        if r[k] <= r_cur:
            return cur, r_cur
        cur, r_cur = nb[k], r[k]


def sampled(env, starts, samples, rng):
    """Reference optimum and landscape estimates for a space too large to enumerate."""
    space = env.space
    ends = [climb(env, s, rng) for s in space.sample_indices(rng, starts)]
    home, _ = climb(env, space.to_indices(space.default()), rng)
    sample = space.sample_indices(rng, samples)
    out = env.evaluate(sample)
    cand = np.concatenate([np.stack([e for e, _ in ends]), sample[[int(np.argmax(out["reward"]))]], home[None, :]])
    res = env.evaluate(cand)
    k = int(np.argmax(res["reward"]))
    best_fps = res["throughput_fps"][k]
    end_out = env.evaluate(np.stack([e for e, _ in ends]))
    distinct = {tuple(e) for e, _ in ends}
    return dict(best=cand[k], best_fps=best_fps, fraction=good(out, best_fps).mean(), n_within=None,
                local=len(distinct), local_good=int(good(end_out, best_fps).sum()), exact=False, starts=starts)


def evaluations_needed(env_id, agent_cls, seeds, budget, best_fps):
    """Per seed, the evaluation count at which the agent first holds a design within 5% (None if never)."""
    import gymnasium as gym
    env = gym.make(env_id)
    need = []
    for seed in range(seeds):
        h = agent_cls(seed=seed).search(env, budget).history
        hit = np.flatnonzero(good({"reward": h.reward, "throughput_fps": h.metrics["throughput_fps"]}, best_fps))
        need.append(int(hit[0]) + 1 if len(hit) else None)
    return need


def summary(need, budget):
    reached = [n for n in need if n is not None]
    if not reached:
        return f"none of {len(need)} seeds within {budget:,}"
    q = np.percentile(reached, [50, 90]) if len(reached) == len(need) else None
    text = f"median {np.median(reached):,.0f}" + (f", 90th pct {q[1]:,.0f}" if q is not None else "")
    return text + ("" if len(reached) == len(need) else f" ({len(reached)} of {len(need)} seeds within {budget:,})")


def main(argv=None) -> str:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--budget", type=int, default=20_000,
                   help="evaluations per search run on spaces too large to enumerate")
    p.add_argument("--starts", type=int, default=60, help="hill climbs on spaces too large to enumerate")
    p.add_argument("--samples", type=int, default=1_000_000, help="random designs on spaces too large to enumerate")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    import gymnasium as gym
    import archgym  # noqa: F401 (registers the envs)
    from agents.sampling import GridSearch, RandomSearch
    lines = ["| env | designs | optimum (default objective) | box position | local optima (one-parameter moves) | "
             "within 5% of the optimum | random search: evaluations to within 5% | grid search |",
             "|---|---|---|---|---|---|---|---|"]
    rng = np.random.default_rng(0)
    for env_id in ENVS:
        env = gym.make(env_id).unwrapped
        space = env.space
        small = space.size <= 1_000_000
        land = exhaustive(env) if small else sampled(env, args.starts, args.samples, rng)
        budget = int(space.size) * 4 if small else args.budget
        rand = evaluations_needed(env_id, RandomSearch, args.seeds, budget, land["best_fps"])
        grid = evaluations_needed(env_id, GridSearch, args.seeds, min(budget, int(space.size)), land["best_fps"])
        design = space.from_indices(land["best"])
        shown = {k: v for k, v in design.items() if not k.endswith((".pe", ".simd"))}
        edge = [n for n, i, v in zip(space.names, land["best"], space.nvec) if v > 2 and i in (0, v - 1)]
        corner = ("all parameters at an end" if len(edge) == sum(v > 2 for v in space.nvec)
                  else f"{len(edge)} of {sum(v > 2 for v in space.nvec)} parameters with > 2 values at an end")
        local = (f"{land['local']:,} ({land['local_good']:,} within 5%)" if land["exact"] else
                 f">= {land['local']:,} distinct from {land['starts']} climbs ({land['local_good']} ended within 5%)")
        within = (f"{land['fraction']:.2%} ({land['n_within']:,} designs)" if land["exact"] else
                  f"{land['fraction']:.2e} (of {args.samples:,} random designs)")
        lines.append(f"| `{env_id}` | {space.size:,} | {land['best_fps']:,.0f} fps: {shown} | {corner} | {local} | "
                     f"{within} | {summary(rand, budget)} | {summary(grid, min(budget, int(space.size)))} |")
    text = "\n".join(lines) + (f"\n\n{args.seeds} seeds per search; random search draws with replacement; grid "
                               "search visits a budget-sized full-factorial grid in a seeded random order.")
    print(text)
    if not args.no_write:
        write_generated(DOC, "fpga_landscape", COMMAND, text)
    return text


if __name__ == "__main__":
    main()
