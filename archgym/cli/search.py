"""`archgym search ENV_ID --agent NAME --budget N --seed S [--set hp=value] [--out DIR]`.

Shows a progress bar, prints the best design and its metrics, and writes to DIR the history
(`history.csv` or `history.parquet`), a convergence plot (`convergence.png`) and `summary.json`.
Heavy libraries load only when the command runs, so `archgym list` stays fast.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers) -> None:
    s = subparsers.add_parser("search", help="search an env's design space with one agent",
                              description="Search ENV_ID with an agent under an exact evaluation budget.")
    s.add_argument("env_id", metavar="ENV_ID", help="registered env id (see `archgym list`)")
    s.add_argument("--agent", required=True, help="agent name (see `archgym list`)")
    s.add_argument("--budget", type=int, required=True, help="number of design evaluations")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--set", action="append", default=[], metavar="HP=VALUE", help="agent hyper-parameter")
    s.add_argument("--objective", help="objective mode of the env (target, weighted, product, constraint, vector)")
    s.add_argument("--out", help="output directory (default runs/<env>_<agent>_s<seed>)")
    s.add_argument("--format", choices=("csv", "parquet"), default="csv", help="history file format")
    s.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    s.set_defaults(func=cmd_search)


def cmd_search(args: argparse.Namespace) -> int:
    import gymnasium as gym
    from tqdm import tqdm

    from agents import make_agent
    from agents.base import check_budget
    from archgym.cli import parse_sets
    from archgym.envs.registration import env_ids
    from archgym.core.errors import unknown

    if args.env_id not in env_ids():
        raise unknown("env", args.env_id, env_ids())
    agent = make_agent(args.agent, seed=args.seed, **parse_sets(args.set))  # checks names, ranges, seed
    check_budget(args.budget)
    env = gym.make(args.env_id, **({"objective": args.objective} if args.objective else {}))
    agent.check_space(env.unwrapped.space)
    out = Path(args.out or Path("runs") / f"{args.env_id.split('/')[-1]}_{args.agent}_s{args.seed}")
    out.mkdir(parents=True, exist_ok=True)

    with tqdm(total=args.budget, desc=f"{args.agent} on {args.env_id}", unit="eval", disable=args.no_progress) as bar:
        result = agent.search(env, args.budget, callback=lambda batch: bar.update(len(batch)))

    frame = result.history.to_frame()
    history = out / f"history.{args.format}"
    frame.to_csv(history, index=False) if args.format == "csv" else frame.to_parquet(history, index=False)
    plot_convergence(result, out / "convergence.png")
    summary = result.summary()
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float))

    print(f"best score {summary['best_score']:.6g} after {len(result.history)} evaluations "
          f"({summary['wall_time_s']:.2f} s, agent {summary['agent_ms_per_eval']:.3f} ms/eval)")
    print("best design: " + ", ".join(f"{k}={v}" for k, v in summary["best_design"].items()))
    for k, v in summary["best_metrics"].items():
        print(f"  {k:28s} {v:.6g}")
    print(f"Pareto front: {summary['pareto_size']} designs, hypervolume {summary['hypervolume']:.4g}")
    print(f"wrote {history}, {out / 'convergence.png'}, {out / 'summary.json'}")
    return 0


def plot_convergence(result, path: Path) -> None:
    """Best scalar reward and hypervolume against evaluations, side by side."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    n = np.arange(1, len(result.history) + 1)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
    a.plot(n, result.history.score, ".", ms=2, alpha=0.3, color="0.5", label="each design")
    a.plot(n, result.best_curve, lw=2, label="best so far")
    a.set(xlabel="evaluations", ylabel="reward (higher is better)", title=f"{result.agent}: best reward")
    a.legend(loc="lower right")
    b.plot(n, result.hypervolume_curve, lw=2)
    b.set(xlabel="evaluations", ylabel="hypervolume", title="hypervolume of the found front")
    for ax in (a, b):
        ax.grid(alpha=0.3)
    fig.suptitle(f"{result.env_id or 'env'}, seed {result.seed}")
    fig.savefig(path, dpi=120)
    plt.close(fig)
