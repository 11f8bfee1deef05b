"""How well each DRAM env tells search agents apart, after the DRAMSys-semantics change.

Every agent (default hyper-parameters, never tuned on these envs) searches every env for `budget`
evaluations with `seeds` seeds. Per env: each agent's best reward (median and 95% bootstrap
interval, scipy.stats.bootstrap), the Kruskal-Wallis test across agents, each agent against random
search (two-sided Mann-Whitney U, Holm-corrected over all comparisons of the run), and the spread
of the medians against the seed-to-seed noise. Writes runs/dram_agents.csv and the dram-agents block
of docs/dram.md.

    python experiments/dram_agents.py --seeds 20 --budget 100 --jobs 2
"""
from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "dram.md"
ENVS = ("archgym/DRAMController-v0", "archgym/DRAMController-Random-v0", "archgym/DRAMController-Cloud1-v0",
        "archgym/DRAMController-Cloud2-v0", "archgym/DRAMController-AES-v0", "archgym/DRAMController-JPEG-v0",
        "archgym/DRAMController-MixedLatency-v0")
AGENTS = ("random", "qmc", "ga", "regularized_evolution", "aco", "sa", "tpe", "ppo")
ALPHA = 0.05
_ENVS: dict = {}


def run_one(task):
    env_id, agent, seed, budget = task
    import gymnasium as gym

    import archgym  # noqa: F401  (registers the envs)
    from agents import make_agent
    if env_id not in _ENVS:
        _ENVS[env_id] = gym.make(env_id)
    res = make_agent(agent, seed=seed).search(_ENVS[env_id], budget)
    m = res.best_metrics
    return {"env": env_id, "agent": agent, "seed": seed, "best_reward": res.best_score,
            "latency_s": m["latency_s"], "power_w": m["power_w"], "energy_j": m["energy_j"],
            "avg_read_latency_ns": m["avg_read_latency_ns"], "wall_s": res.wall_time_s}


def analyse(df):
    """Per env: (rows of per-agent stats, Kruskal-Wallis p, spread/noise); p-values Holm-corrected."""
    from scipy import stats

    sys.path.insert(0, str(ROOT / "experiments"))
    from joint_vs_sequential import holm

    from archgym.analysis.stats import median_ci
    out, tests = {}, []
    for env, g in df.groupby("env", sort=False):
        by = {a: g[g.agent == a].best_reward.to_numpy() for a in g.agent.unique()}
        kw = stats.kruskal(*by.values()) if len({round(x, 12) for v in by.values() for x in v}) > 1 else None
        rows = []
        for a, v in by.items():
            med, lo, hi = median_ci(v)
            p = stats.mannwhitneyu(v, by["random"], alternative="two-sided").pvalue if a != "random" else np.nan
            rows.append({"agent": a, "median": med, "lo": lo, "hi": hi, "p": p})
            if a != "random":
                tests.append((env, len(rows) - 1))
        medians = np.array([r["median"] for r in rows])
        noise = np.median([np.subtract(*np.percentile(v, [75, 25])) for v in by.values()])
        out[env] = {"rows": rows, "kw_p": kw.pvalue if kw is not None else 1.0,
                    "spread": float(medians.max() - medians.min()), "noise": float(noise)}
    adj = holm(np.array([out[e]["rows"][i]["p"] for e, i in tests])) if tests else []
    for (e, i), p in zip(tests, adj):
        out[e]["rows"][i]["p_holm"] = float(p)
    return out


def markdown(res, seeds, budget) -> str:
    lines = [f"{seeds} seeds x {budget} evaluations per agent and env; reward = the env's default objective "
             "(higher is better). Median best reward [95% bootstrap interval]; p: Mann-Whitney U against random "
             "search, Holm-corrected over every comparison here; KW: Kruskal-Wallis across all agents; spread: "
             "best minus worst agent median; noise: median inter-quartile range over seeds.", ""]
    agents = [r["agent"] for r in next(iter(res.values()))["rows"]]
    lines.append("| env | " + " | ".join(agents) + " | KW p | spread / noise | agents ≠ random (p < 0.05) |")
    lines.append("|---" * (len(agents) + 4) + "|")
    for env, r in res.items():
        cells = []
        for row in r["rows"]:
            p = row.get("p_holm")
            mark = "" if p is None or np.isnan(p) else (f" (p {p:.2g})" if p < ALPHA else "")
            cells.append(f"{row['median']:.4g} [{row['lo']:.4g}, {row['hi']:.4g}]{mark}")
        sig = sum(1 for row in r["rows"] if row.get("p_holm", 1.0) < ALPHA)
        ratio = r["spread"] / r["noise"] if r["noise"] > 0 else float("inf") if r["spread"] > 0 else 0.0
        lines.append(f"| {env.split('/')[1]} | " + " | ".join(cells) +
                     f" | {r['kw_p']:.2g} | {ratio:.2f} | {sig} of {len(agents) - 1} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--envs", nargs="*", default=list(ENVS))
    ap.add_argument("--agents", nargs="*", default=list(AGENTS))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    if args.seeds < 20 and not args.no_write:
        raise SystemExit("the docs block needs at least 20 seeds (use --no-write for a quick look)")
    import pandas as pd
    tasks = [(e, a, s, args.budget) for e in args.envs for a in args.agents for s in range(args.seeds)]
    t = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(run_one, tasks, chunksize=4))
    df = pd.DataFrame(rows)
    (ROOT / "runs").mkdir(exist_ok=True)
    df.to_csv(ROOT / "runs" / "dram_agents.csv", index=False)
    res = analyse(df)
    md = markdown(res, args.seeds, args.budget)
    print(md)
    print(f"{len(tasks)} searches in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    if not args.no_write:
        sys.path.insert(0, str(ROOT / "experiments"))
        from _docs import write_generated
        command = (f"python experiments/dram_agents.py --seeds {args.seeds} --budget {args.budget} "
                   f"--jobs {args.jobs}")
        write_generated(DOC, "dram-agents", command, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
