"""`archgym demo`: a joint NN + systolic co-design search, the sequential baseline on the same
budget, the exact optimum by enumeration, and the accuracy-versus-latency Pareto plot."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from archgym.analysis.exact import pareto_2d, streaming_exact

ENV_ID = "archgym/CoDesign-Systolic-v0"
AGENTS = ("ga", "regularized_evolution", "random")


def plot_front(path: Path, runs: dict, exact: dict | None, objective) -> None:
    """Accuracy versus latency: every evaluated design within the other limits, each run's front,
    the exact front, and the latency budget."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    acc = objective.optimize
    other = {k: v for k, v in objective.limits.items() if k != "latency_s"}
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    colors = ("tab:blue", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:orange")
    for (name, res), color in zip(runs.items(), colors[:len(runs) - 1] + ("tab:orange",)):
        m = res.history.metrics
        ok = res.history.feasible & (objective.violation(m, other) == 0)
        ax.scatter(m["latency_s"][ok] * 1e6, m[acc][ok], s=4, alpha=0.15, color=color)
        lat, a = pareto_2d(m["latency_s"][ok], m[acc][ok])
        ax.step(lat * 1e6, a, where="post", color=color, label=f"{name} front")
    if exact is not None:
        lat, a = exact["front"]
        ax.step(lat * 1e6, a, where="post", color="black", ls="--", lw=1, label="exact front (enumerated)")
    if "latency_s" in objective.limits:
        ax.axvline(objective.limits["latency_s"] * 1e6, color="red", lw=1, label="latency budget")
    ax.set_xscale("log")
    ax.set_xlabel("latency (µs)")
    ax.set_ylabel(f"{acc} ({'tabular oracle, digits-canvas' if acc == 'accuracy' else 'oracle score'})")
    limits = ", ".join(f"{k} <= {v:g}" for k, v in other.items())
    ax.set_title(f"designs with {limits}" if limits else "all designs", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def run_demo(budget: int = 50_000, seeds: int = 5, agents: tuple[str, ...] = AGENTS, out: str = "runs/demo",
             exact: bool = True, echo=print) -> dict:
    """Joint searches with each of `agents` and the sequential baseline (with the first agent
    inside), each over seeds 0..seeds-1 with the same budget, then (optionally) the exact optimum.
    Prints each search's best design over the seeds; plots the seed-0 runs."""
    import gymnasium as gym

    from agents import make_agent
    from agents.codesign import Sequential

    env = gym.make(ENV_ID)
    base = env.unwrapped
    obj = base.objective
    echo(f"{ENV_ID}: {base.space.size:,} designs ({len(base.evaluator.network.space)} network + "
         f"{len(base.evaluator.hardware.params)} hardware parameters); objective: maximise {obj.optimize} with "
         + ", ".join(f"{k} <= {v:g}" for k, v in obj.limits.items()))
    runs, t0 = {}, time.perf_counter()
    searches = [(f"joint ({a})", lambda s, a=a: make_agent(a, seed=s)) for a in agents]
    searches.append((f"sequential ({agents[0]})", lambda s: Sequential(seed=s, inner=agents[0])))
    for name, make in searches:
        t = time.perf_counter()
        results = [make(s).search(env, budget, seed=s) for s in range(seeds)]
        runs[name] = results[0]
        best = [r.best_metrics for r in results]
        acc = np.array([m[obj.optimize] for m in best])
        met = obj.success({k: np.array([m[k] for m in best]) for k in best[0]})
        echo(f"\n{name}: {seeds} seed(s) x {budget:,} evaluations in {time.perf_counter() - t:.1f} s; best "
             f"{obj.optimize} {acc.mean():.4f} ± {acc.std():.4f} over the seeds, spec met by {met.mean():.0%}")
        top = results[int(np.argmax(np.where(met, acc, -np.inf)))] if met.any() else results[0]
        _show(top.best_design, top.best_metrics, obj, echo)
    ex = None
    if exact:
        t = time.perf_counter()
        ex = streaming_exact(env)
        out_ex = base.evaluate(ex["design"])
        echo(f"\nexact optimum: all {ex['size']:,} designs enumerated in {time.perf_counter() - t:.1f} s; "
             f"{ex['n_meeting_spec']:,} meet the spec")
        _show(ex["design"], {k: float(v[0]) for k, v in out_ex.items() if k not in ("feasible",)}, obj, echo)
    path = Path(out) / "pareto.png"
    plot_front(path, runs, ex, obj)  # the seed-0 run of each search
    echo(f"\nPareto plot: {path}  (total {time.perf_counter() - t0:.0f} s)")
    return {"runs": runs, "exact": ex, "plot": path}


def _show(design: dict, metrics: dict, objective, echo) -> None:
    ok = bool(objective.success({k: np.array([v]) for k, v in metrics.items()})[0])
    echo("  design:  " + ", ".join(f"{k}={v}" for k, v in design.items()))
    echo(f"  {objective.optimize}={metrics[objective.optimize]:.4f}  latency={metrics['latency_s'] * 1e6:.2f} us  "
         f"energy={metrics['energy_j'] * 1e6:.2f} uJ  area={metrics['area_mm2']:.3f} mm2  "
         f"meets spec: {'yes' if ok else 'no'}")


def register(subparsers) -> None:
    from archgym.cli import add_command
    s = add_command(subparsers, "demo", "co-design search on CoDesign-Systolic-v0 + accuracy-vs-latency Pareto plot",
                    "archgym demo --budget 5000 --seeds 2 --no-exact --out runs/demo-quick")
    s.add_argument("--budget", type=int, default=50_000, help="evaluations per search (joint and sequential)")
    s.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 per search")
    s.add_argument("--agents", default="ga,regularized_evolution,random",
                   help="comma-separated agents of the joint searches; the first also runs inside the sequential baseline")
    s.add_argument("--out", default="runs/demo", help="directory of the Pareto plot (pareto.png)")
    s.add_argument("--no-exact", action="store_true", help="skip enumerating the whole space for the exact optimum")
    s.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    from agents import AGENTS
    from archgym.core.errors import ArchGymError, unknown
    if args.budget < 2:
        raise ArchGymError(f"--budget must be at least 2 evaluations, got {args.budget}")
    if args.seeds < 1:
        raise ArchGymError(f"--seeds must be at least 1, got {args.seeds}")
    agents = tuple(a.strip() for a in args.agents.split(",") if a.strip())
    bad = [a for a in agents if a not in AGENTS]
    if bad or not agents:
        raise unknown("agent", bad[0] if bad else "", list(AGENTS))
    run_demo(budget=args.budget, seeds=args.seeds, agents=agents, out=args.out, exact=not args.no_exact)
    return 0
