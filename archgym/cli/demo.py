"""`archgym demo`: co-design a NAS-Bench-201 network and its systolic accelerator for CIFAR-10.

Joint searches and the sequential baselines run on archgym/NB201-Systolic-v0 with the same budget
and seeds, against the exact answer (all 40.5 million designs enumerated once, then cached): the
constrained optimum and the exact Pareto front. Prints each search's best design with its CIFAR-10
accuracy and its regret, and writes the accuracy-versus-latency Pareto plot.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np


ENV_ID = "archgym/NB201-Systolic-v0"
AGENTS = ("ga", "regularized_evolution", "random")
BASELINES = ("sequential", "hardware_first", "latency_aware_nas")
COLORS = ("tab:blue", "tab:green", "tab:purple", "tab:orange", "tab:red", "tab:brown", "tab:pink", "tab:olive")


def plot_front(path: Path, runs: dict, exact, objective, best: dict | None = None) -> None:
    """CIFAR-10 accuracy against latency (µs) of the designs within every limit but latency: the
    exact front, each search's front (seed 0; joint solid, sequential dashed), the exact constrained
    optimum (star) and each search's best design (dot), and the latency budget."""
    from matplotlib.figure import Figure  # no pyplot: never touches the user's backend

    from archgym.analysis.exact import pareto_2d
    acc = objective.optimize
    other = {k: v for k, v in objective.limits.items() if k != "latency_s"}
    fig = Figure(figsize=(7.6, 5.0))
    ax = fig.subplots()
    lat, a = exact.latency_front
    ax.step(lat * 1e6, a * 100, where="post", color="black", lw=2.2, alpha=0.6,
            label=f"exact front (all {exact.size / 1e6:.1f} M designs)", zorder=2)
    dashes = iter(["--", "-.", (0, (1, 1.2)), (0, (4, 1, 1, 1, 1, 1))])
    for (name, res), color in zip(runs.items(), COLORS):
        m = res.history.metrics
        ok = res.history.feasible & (objective.violation(m, other) == 0)
        fl, fa = pareto_2d(m["latency_s"][ok], m[acc][ok])
        style = "-" if name.startswith("joint") else next(dashes, "--")
        label = name if len(fl) else f"{name}: no design within the limits"
        ax.step(fl * 1e6, fa * 100, where="post", color=color, lw=1.2, ls=style, label=label, zorder=3)
        b = res.best_metrics
        if objective.success({k: np.array([v]) for k, v in b.items()})[0]:
            ax.plot(b["latency_s"] * 1e6, b[acc] * 100, "o", color=color, ms=5, mec="white", mew=0.6, zorder=4)
    if best is not None:
        ax.plot(best["latency_s"] * 1e6, best[acc] * 100, "*", color="black", ms=13, mec="white", zorder=5,
                label="exact constrained optimum")
    if "latency_s" in objective.limits:
        budget = objective.limits["latency_s"] * 1e6
        ax.axvline(budget, color="red", lw=1, ls=":", label=f"latency budget {budget:g} µs")
        ax.axvspan(budget, lat.max() * 1e6 * 3 if len(lat) else budget * 10, color="red", alpha=0.04)
    if len(lat):
        ax.set_xlim(lat.min() * 1e6 / 1.5, lat.max() * 1e6 * 3)
    ax.set_xscale("log")
    ax.set_ylim(82, 95)
    ax.set_xlabel("latency (µs): systolic array, 1 GHz, 8-bit operands")
    ax.set_ylabel("CIFAR-10 top-1 accuracy (%), W8A8 post-training quantised")
    limits = ", ".join(f"{k} ≤ {v:g}" for k, v in other.items())
    ax.set_title("NAS-Bench-201 × systolic array (NB201-Systolic-v0): accuracy vs latency"
                 + (f" of the designs with {limits}" if limits else ""), fontsize=9)
    ax.legend(fontsize=7, loc="lower right", ncol=2)
    ax.grid(alpha=0.25, which="both")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)


def run_demo(budget: int = 20_000, seeds: int = 5, agents: tuple[str, ...] = AGENTS,
             baselines: tuple[str, ...] = BASELINES, out: str = "runs/demo", echo=print, env_kwargs=None) -> dict:
    """Joint searches (`agents`) and sequential `baselines` (with agents[0] inside), each over seeds
    0..seeds-1 with the same budget; regret against the exact answer; the Pareto plot of seed 0.
    `env_kwargs` go to gym.make (e.g. a smaller `hardware` space)."""
    import gymnasium as gym

    from agents import make_agent
    from archgym.analysis.exact import exact_front, regret  # here, not at import: `archgym --help` needs no numba

    env = gym.make(ENV_ID, **(env_kwargs or {}))
    base = env.unwrapped
    obj = base.objective
    echo(f"{ENV_ID}: {base.space.size:,} designs (an NB201 cell: 6 edges x 5 ops; a systolic array: "
         f"{len(base.evaluator.hardware.params)} parameters); maximise CIFAR-10 accuracy with "
         + ", ".join(f"{k} <= {v:g}" for k, v in obj.limits.items()))
    t0 = time.perf_counter()
    ex = exact_front(env)
    took = time.perf_counter() - t0
    how = f"in {ex.seconds:.0f} s" if took >= ex.seconds else f"in {ex.seconds:.0f} s, read from the cache"
    echo(f"\nexact answer: {ex.size:,} designs enumerated {how}; {ex.n_meeting_spec:,} meet the spec; "
         f"Pareto front of {len(ex.front):,} designs over {', '.join(ex.metrics)}")
    optimum = base.evaluate(base.space.from_indices(ex.best_index))
    _show(base.space.from_indices(ex.best_index), optimum, obj, echo)
    runs = {}
    searches = [(f"joint ({a})", a, {}) for a in agents] + [(f"{b} ({agents[0]})", b, {"inner": agents[0]})
                                                            for b in baselines]
    for name, agent, kwargs in searches:
        t = time.perf_counter()
        results = [make_agent(agent, seed=s, **kwargs).search(env, budget, seed=s) for s in range(seeds)]
        runs[name] = results[0]
        best = [r.best_metrics for r in results]
        met = obj.success({k: np.array([m[k] for m in best]) for k in best[0]})
        acc = np.array([m[obj.optimize] for m in best])
        reg = [regret(r, ex) for r in results]
        gap = 100 * np.array([r["score_gap"] for r in reg])[met]
        score = (f"accuracy {100 * acc[met].mean():.2f} % (regret {gap.mean():.2f} points to the exact optimum)"
                 if met.any() else "no design meeting the spec")
        echo(f"\n{name}: {seeds} seed(s) x {budget:,} evaluations in {time.perf_counter() - t:.1f} s; best design meets "
             f"the spec on {met.mean():.0%} of seeds; {score}; hypervolume of its front "
             f"{np.mean([r['hv_ratio'] for r in reg]):.1%} of the exact front's")
        top = results[int(np.argmax(np.where(met, acc, -np.inf)))]
        _show(top.best_design, {k: np.array([v]) for k, v in top.best_metrics.items()}, obj, echo)
    path = Path(out) / "pareto.png"
    plot_front(path, runs, ex, obj, {k: float(v[0]) for k, v in optimum.items()})
    echo(f"\nPareto plot: {path}  (total {time.perf_counter() - t0:.0f} s)")
    return {"runs": runs, "exact": ex, "plot": path}


def _show(design: dict, metrics: dict, objective, echo) -> None:
    ok = bool(objective.success(metrics, metrics.get("feasible"))[0])
    from archgym.nas import get_space
    net = get_space("nb201")
    cell = net.arch_string({k: design[k] for k in net.space.names})
    hw = ", ".join(f"{k}={v}" for k, v in design.items() if k not in net.space.names)
    m = {k: float(np.asarray(v).reshape(-1)[0]) for k, v in metrics.items()}
    echo(f"  cell {cell} (NB201 index {net.index(cell)})")
    echo(f"  array {hw}")
    echo(f"  CIFAR-10 {100 * m[objective.optimize]:.2f} %  latency {m['latency_s'] * 1e6:.1f} µs  "
         f"energy {m['energy_j'] * 1e6:.1f} µJ  area {m['area_mm2']:.3f} mm²  meets spec: {'yes' if ok else 'no'}")


def register(subparsers) -> None:
    from archgym.cli import add_command
    s = add_command(subparsers, "demo", "NAS-Bench-201 x systolic co-design: joint vs sequential vs the exact front, "
                    "and the accuracy-vs-latency Pareto plot", "archgym demo --budget 2000 --seeds 2 --out runs/demo-quick")
    s.add_argument("--budget", type=int, default=20_000, help="evaluations per search (joint and sequential)")
    s.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 per search")
    s.add_argument("--agents", default=",".join(AGENTS),
                   help="comma-separated agents of the joint searches; the first also runs inside the baselines")
    s.add_argument("--baselines", default=",".join(BASELINES), help="comma-separated sequential baselines")
    s.add_argument("--out", default="runs/demo", help="directory of the Pareto plot (pareto.png)")
    s.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    from agents import AGENTS as REGISTRY
    from archgym.core.errors import ArchGymError, unknown
    if args.budget < 2:
        raise ArchGymError(f"--budget must be at least 2 evaluations, got {args.budget}")
    if args.seeds < 1:
        raise ArchGymError(f"--seeds must be at least 1, got {args.seeds}")
    agents = tuple(a.strip() for a in args.agents.split(",") if a.strip())
    baselines = tuple(a.strip() for a in args.baselines.split(",") if a.strip())
    joint = [a for a in REGISTRY if REGISTRY[a].family != "baseline"]
    for names, allowed, flag in ((agents, joint, "agent"), (baselines, list(BASELINES), "baseline")):
        bad = [a for a in names if a not in allowed]
        if bad or (flag == "agent" and not names):
            raise unknown(flag, bad[0] if bad else "", allowed)
    run_demo(budget=args.budget, seeds=args.seeds, agents=agents, baselines=baselines, out=args.out)
    return 0
