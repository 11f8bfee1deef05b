"""Agents x envs x seeds: regret against the true optimum, hypervolume against the true front, and
agent overhead; writes docs/agents.md.

    python benchmarks/agents.py                      # every agent, every env group that exists, 5 seeds
    python benchmarks/agents.py --agents ga,tpe --envs systolic --seeds 2 --budget 300 --jobs 2

Env groups: systolic (the enumerable ResNet-18 space), dram, fpga; a group whose env is not
registered is skipped and said so. Where a space has at most 10^6 designs the truth comes from
`archgym.analysis.exhaustive`; otherwise the best design and the union front of every run of the
benchmark stand in for it ("best known"). Gap = 10**(optimum - best found) - 1, the relative excess of
the scalarised metric (EDAP for systolic). Hypervolume uses the env's fixed reference point.
Agent overhead = ask + tell (or RL policy and training) time, excluding simulation.
"""
from __future__ import annotations

import argparse
import pickle
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from _report import machine, write_section  # noqa: E402  (benchmarks/_report.py, beside this file)

# This script shares its name with the `agents` package: run as a script, its folder must not shadow it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

DOC = Path(__file__).resolve().parent.parent / "docs" / "agents.md"
ENV_GROUPS = {"systolic": "archgym/Systolic-ResNet18-Small-v0", "dram": "archgym/DRAMController-v0",
              "fpga": "archgym/FPGADataflow-v0"}
CHECKPOINTS = (100, 300, 1000)
_ENVS: dict = {}


def _env(env_id):
    import gymnasium as gym

    import archgym  # noqa: F401
    if env_id not in _ENVS:
        _ENVS[env_id] = gym.make(env_id)
    return _ENVS[env_id]


def run_one(task):
    """One search; returns its best-so-far curve, final front (objective vectors) and timings."""
    env_id, name, seed, budget = task
    from agents import make_agent
    from agents.base import UnsupportedSpaceError
    env = _env(env_id)
    try:
        result = make_agent(name, seed=seed).search(env, budget)
    except UnsupportedSpaceError as e:
        return {"env": env_id, "agent": name, "seed": seed, "unsupported": str(e).split(";")[0]}
    h = result.history
    return {"env": env_id, "agent": name, "seed": seed, "best_curve": result.best_curve,
            "front": result.pareto_front, "ref": result.ref_point,
            "agent_ms": 1e3 * result.agent_time_s / len(h), "wall_ms": 1e3 * result.wall_time_s / len(h),
            "sim_ms": 1e3 * result.eval_time_s / len(h), "wall_s": result.wall_time_s}


def truth(env_id, runs):
    """(optimum, true-front hypervolume, label): exhaustive when enumerable, else best known."""
    from archgym import analysis
    env = _env(env_id)
    if env.unwrapped.space.size <= analysis.EXHAUSTIVE_LIMIT:
        gt = analysis.exhaustive(env)
        return gt.best_score, gt.hypervolume, f"exhaustive ({gt.size:,} designs)"
    ok = [r for r in runs if "best_curve" in r]
    best = max(float(r["best_curve"][-1]) for r in ok)
    union = np.vstack([r["front"] for r in ok if len(r["front"])] or [np.zeros((0, len(ok[0]["ref"])))])
    hv = analysis.hypervolume(union[analysis.pareto_mask(union)], ok[0]["ref"])
    return best, hv, f"best known over all {len(ok)} runs (space of {env.unwrapped.space.size:,} designs is not enumerable)"


def _median_iqr(x) -> str:
    x = np.asarray(x, dtype=float)
    q1, med, q3 = np.percentile(x, [25, 50, 75])
    return f"{_pct(med)} [{_pct(q1)}, {_pct(q3)}]"


def _pct(v: float) -> str:
    return "0" if v == 0 else f"{100 * v:.3g}%"


def table(env_id, runs, agents, budget) -> str:
    from archgym import analysis
    env = _env(env_id)
    optimum, true_hv, label = truth(env_id, runs)
    cps = sorted({c for c in CHECKPOINTS if c < budget} | {budget})
    lines = [f"### {env_id}", "", f"Truth: {label}; optimum reward {optimum:.5g}; objective "
             f"`{env.unwrapped.objective.mode}` over {', '.join(env.unwrapped.objective.metrics)}.", "",
             "| agent | " + " | ".join(f"gap @ {c}" for c in cps) + f" | seeds within 5% @ {cps[-1]} | HV / true HV | "
             "agent ms/eval | wall ms/eval |",
             "|---|" + "---|" * (len(cps) + 4)]
    for name in agents:
        rs = [r for r in runs if r["agent"] == name]
        if not rs:
            continue
        if "unsupported" in rs[0]:
            lines.append(f"| {name} | not applicable: {rs[0]['unsupported']} |" + " |" * (len(cps) + 3))
            continue
        gaps = {c: [analysis.gap(r["best_curve"][c - 1], optimum, env.unwrapped.objective) for r in rs] for c in cps}
        hv = [analysis.hypervolume(r["front"], r["ref"]) / true_hv for r in rs] if true_hv > 0 else [np.nan]
        reached = sum(g <= 0.05 for g in gaps[cps[-1]])
        lines.append(f"| {name} | " + " | ".join(_median_iqr(gaps[c]) for c in cps) +
                     f" | {reached}/{len(rs)} | {np.median(hv):.3f} [{np.percentile(hv, 25):.3f}, {np.percentile(hv, 75):.3f}] | "
                     f"{np.median([r['agent_ms'] for r in rs]):.3g} | {np.median([r['wall_ms'] for r in rs]):.3g} |")
    return "\n".join(lines)


def _cpu_ask_tell(agent, env, budget: int, window_from: int = 0) -> float:
    """CPU ms per evaluation in ask + tell (the search loop, timed with process_time so that other
    jobs on the machine do not count), over evaluations window_from..budget."""
    base = env.unwrapped
    agent.reset(base.space, base.objective, budget, agent.seed)
    n, spent = 0, 0.0
    while n < budget:
        k = min(agent.designs_per_ask, budget - n)
        t = time.process_time()
        idx = agent.ask_indices(k)
        dt = time.process_time() - t
        out = base.evaluate(idx)
        t = time.process_time()
        agent.tell_indices(idx, out)
        dt += time.process_time() - t
        if n >= window_from:
            spent += dt
        n += k
    return 1e3 * spent / (budget - window_from)


def _cpu_rl(agent, env, budget: int) -> float:
    """CPU ms per step of an RL agent: the whole search minus the CPU time inside env.step."""
    import gymnasium as gym

    class SimClock(gym.Wrapper):
        sim = 0.0

        def step(self, action):
            t = time.process_time()
            out = self.env.step(action)
            SimClock.sim += time.process_time() - t
            return out

    t = time.process_time()
    agent.search(SimClock(env), budget)
    return 1e3 * (time.process_time() - t - SimClock.sim) / budget


def overhead_figures(agents, budget: int = 1000) -> dict:
    """Agent overhead per evaluation (CPU ms, excluding simulation) on the systolic env, seed 0,
    after a warm-up run; GP-BO over evaluations 500..600; Optuna's GPSampler at 500 observations."""
    from agents import AGENTS, make_agent
    from agents.bo import _OptunaAgent
    env = _env(ENV_GROUPS["systolic"])
    out = {}
    for name in agents:
        make_agent(name, seed=1).search(env, 50)  # imports and first calls
        agent = make_agent(name, seed=0)
        if name == "gp":
            out["gp"] = _cpu_ask_tell(agent, env, 600, window_from=500)
        else:
            out[name] = (_cpu_rl if AGENTS[name].steps_env else _cpu_ask_tell)(agent, env, budget)
        print(f"overhead {name}: {out[name]:.3g} CPU ms/eval", file=sys.stderr, flush=True)
    if "gp" in agents:
        class OptunaGP(_OptunaAgent):  # for the comparison only
            name = "optuna_gp"

            def _sampler(self):
                import optuna
                return optuna.samplers.GPSampler(seed=0, deterministic_objective=True)

        base = env.unwrapped
        agent = OptunaGP(seed=0).reset(base.space, base.objective)
        warm = base.space.sample_indices(np.random.default_rng(0), 500)
        agent.tell_indices(warm, base.evaluate(warm))
        times = []
        for _ in range(3):
            t = time.process_time()
            idx = agent.ask_indices(1)
            agent.tell_indices(idx, base.evaluate(idx))
            times.append(time.process_time() - t)
        out["optuna_gp_at_500"] = 1e3 * float(np.median(times))
    return out


def main(argv=None) -> int:
    from agents import AGENTS
    from archgym.envs.registration import env_ids
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--agents", default=",".join(AGENTS))
    p.add_argument("--envs", default=",".join(ENV_GROUPS))
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--budget", type=int, default=1000)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--no-doc", action="store_true", help="print the tables instead of writing docs/agents.md")
    p.add_argument("--save", help="pickle the raw runs here as they finish (a rerun resumes from it) and the figures at the end")
    p.add_argument("--load", help="render from a file written by --save instead of running")
    args = p.parse_args(argv)
    agents = args.agents.split(",")
    registered = set(env_ids())
    groups = {g: ENV_GROUPS[g] for g in args.envs.split(",")}
    missing = [f"{g} ({e})" for g, e in groups.items() if e not in registered]
    groups = {g: e for g, e in groups.items() if e in registered}
    if args.load:
        with open(args.load, "rb") as f:
            runs, figures, total = pickle.load(f)
    else:
        tasks = [(e, a, s, args.budget) for e in groups.values() for a in agents for s in range(args.seeds)]
        runs = _resume(args.save, tasks)
        todo = [t for t in tasks if t not in {_key(r, args.budget) for r in runs}]
        with ProcessPoolExecutor(args.jobs) if args.jobs > 1 else _Serial() as pool:
            for i, r in enumerate(pool.map(run_one, todo), 1):
                runs.append(r)
                _checkpoint(args.save, runs)
                print(f"[{i}/{len(todo)}] {r['env']} {r['agent']} seed {r['seed']}" +
                      (f" best {r['best_curve'][-1]:.5g} agent {r['agent_ms']:.3g} ms/eval" if "best_curve" in r
                       else " unsupported"), file=sys.stderr, flush=True)
        total = sum(r.get("wall_s", 0.0) for r in runs)
        figures = overhead_figures(agents) if "systolic" in groups else {}
        if args.save:
            with open(args.save, "wb") as f:
                pickle.dump((runs, figures, total), f)
    sections = [table(e, [r for r in runs if r["env"] == e], agents, args.budget) for e in groups.values()]
    doc = render(sections, runs, agents, args, missing, figures, total)
    if args.no_doc:
        print(doc)
    else:
        write_section("agents benchmark", doc, DOC)
        print(f"wrote the benchmark section of {DOC}", file=sys.stderr)
    return 0


def _key(run: dict, budget: int) -> tuple:
    return run["env"], run["agent"], run["seed"], budget


def _resume(path: str | None, tasks: list) -> list:
    """Runs already in a checkpoint written by this benchmark (so an interrupted run continues)."""
    if not path or not Path(path).exists():
        return []
    with open(path, "rb") as f:
        saved = pickle.load(f)
    runs = saved[0] if isinstance(saved, tuple) else saved
    return [r for r in runs if _key(r, tasks[0][3]) in set(tasks)] if tasks else []


def _checkpoint(path: str | None, runs: list) -> None:
    if path:
        tmp = Path(path).with_suffix(".tmp")
        with open(tmp, "wb") as f:
            pickle.dump(runs, f)
        tmp.replace(path)


class _Serial:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def map(self, fn, items):
        return map(fn, items)


def render(sections, runs, agents, args, missing, figures, total_s) -> str:
    fig = ["| agent | agent overhead, CPU ms per evaluation | figure to reach | met |", "|---|---|---|---|"]
    for a in agents:
        if a in figures:
            limit = 50.0 if a == "gp" else 1.0
            where = " (evaluations 500-600)" if a == "gp" else ""
            fig.append(f"| {a} | {figures[a]:.3g}{where} | ≤ {limit:g} | {'yes' if figures[a] <= limit else '**no**'} |")
    if "optuna_gp_at_500" in figures:
        fig += ["", f"For comparison, Optuna's GPSampler asked once 500 observations exist: "
                f"{figures['optuna_gp_at_500']:.4g} CPU ms per evaluation (see agents/bo.py)."]
    head = f"""## Benchmark

Every agent searches each env with the same budget ({args.budget} evaluations) and seeds 0..{args.seeds - 1},
through the same ask/tell loop (RL: the same env steps). Written by
`python benchmarks/agents.py --seeds {args.seeds} --budget {args.budget} --jobs {args.jobs}` on {machine()};
{len(runs)} runs, {total_s / 60:.0f} min of search in all. The machine was shared with other jobs, so wall times are
indicative; the overhead figures are CPU time.

- **gap @ n**: median [IQR] over seeds of 10**(optimum − best reward after n evaluations) − 1, the
  relative excess of the scalarised metric over the true optimum (0 = optimum found).
- **HV / true HV**: hypervolume of the front found in the whole run over that of the true front
  (same reference point: the default design plus one decade per objective).
- **agent ms/eval**: ask + tell (or policy + training) time per evaluation, excluding simulation;
  **wall ms/eval** includes simulation.
"""
    if missing:
        head += f"\nNot run (env not registered yet): {', '.join(missing)}.\n"
    return head + "\n" + "\n\n".join(sections) + "\n\n### Overhead figures\n\n" + "\n".join(fig) + "\n"


if __name__ == "__main__":
    sys.exit(main())
