"""Joint versus sequential co-design on the same evaluation budget, over several seeds.

For each env, budget and seed: a joint search (the `inner` agent over network + hardware
parameters) and the `sequential` baseline (the same agent: NAS under a MACs proxy, then hardware
for the winner; agents/codesign.py). Reports, per method, how often the best design meets
the env's spec (its constraint limits), and the accuracy, latency, energy and area of the best
designs, next to the exact optimum found by enumerating the whole space. Writes
OUT/results.csv, OUT/joint_vs_sequential.png and the results section of docs/codesign.md.

    python experiments/joint_vs_sequential.py --budgets 500 2000 10000 --seeds 5 --inner ga
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ENVS = ("archgym/CoDesign-Systolic-v0", "archgym/CoDesign-FPGA-v0")
SHOWN = ("accuracy", "latency_s", "energy_j", "area_mm2", "resource_util")


def run(env_ids, budgets, seeds, inner, echo=print):
    import gymnasium as gym

    import archgym  # noqa: F401  (registers the envs)
    from agents import make_agent
    from archgym.analysis.exact import streaming_exact as exact_search
    from agents.codesign import Sequential

    rows, exact, sens = [], {}, []
    for env_id in env_ids:
        env = gym.make(env_id)
        base = env.unwrapped
        obj = base.objective
        t = time.perf_counter()
        ex = exact_search(env)
        m = base.evaluate(ex["design"])
        exact[env_id] = {"design": ex["design"], "n_meeting_spec": ex["n_meeting_spec"], "size": ex["size"],
                         **{k: float(v[0]) for k, v in m.items() if k in SHOWN}}
        echo(f"{env_id}: exact optimum of {ex['size']:,} designs in {time.perf_counter() - t:.0f} s, "
             f"{obj.optimize}={exact[env_id][obj.optimize]:.4f}; {ex['n_meeting_spec']:,} designs meet the spec")
        for budget in budgets:
            for seed in range(seeds):
                for method in ("joint", "sequential"):
                    agent = make_agent(inner, seed=seed) if method == "joint" else Sequential(seed=seed, inner=inner)
                    t = time.perf_counter()
                    res = agent.search(env, budget, seed=seed)
                    h = res.history
                    best = res.best_metrics
                    met = bool(obj.success({k: np.array([v]) for k, v in best.items()})[0])
                    rows.append({"env": env_id, "budget": budget, "seed": seed, "method": method, "meets_spec": met,
                                 "share_meeting_spec": float(obj.success(h.metrics, h.feasible).mean()),
                                 "wall_time_s": time.perf_counter() - t,
                                 **{k: best[k] for k in SHOWN if k in best}})
                echo(f"  budget {budget:>6}, seed {seed}: " + "; ".join(
                    f"{r['method']} {obj.optimize}={r[obj.optimize]:.4f} meets={r['meets_spec']}" for r in rows[-2:]))
        # how much the sequential result hangs on its MACs budget: the derived one, then table quantiles
        derived = Sequential.derived_macs_budget(base)
        macs = base.evaluator.network.layers.macs(np.arange(base.evaluator.network.space.size))
        for label, m in [("derived", derived)] + [(f"{q}% quantile", float(np.quantile(macs, q / 100))) for q in (25, 50, 75, 100)]:
            for seed in range(seeds):
                res = Sequential(seed=seed, inner=inner, macs_budget=m).search(env, max(budgets), seed=seed)
                best = res.best_metrics
                sens.append({"env": env_id, "macs_budget": m, "label": label, "seed": seed,
                             "meets_spec": bool(obj.success({k: np.array([v]) for k, v in best.items()})[0]),
                             "accuracy": best[obj.optimize]})
        echo(f"  sequential MACs-budget sensitivity done ({len(sens)} runs so far)")
    return rows, exact, sens


def figure(df, sens, exact, path: Path) -> None:
    """Top: accuracy of the best design meeting the spec against the budget. Bottom: how often the
    sequential baseline meets the spec, against its MACs budget (at the largest budget)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    envs = list(dict.fromkeys(df["env"]))
    fig, axes = plt.subplots(2, len(envs), figsize=(5.2 * len(envs), 6.4), squeeze=False)
    for j, env_id in enumerate(envs):
        d = df[df["env"] == env_id]
        top, bottom = axes[0, j], axes[1, j]
        for method, color in (("joint", "tab:blue"), ("sequential", "tab:orange")):
            g = d[d["method"] == method].groupby("budget")
            acc = g.apply(lambda x: x["accuracy"].where(x["meets_spec"]).mean(), include_groups=False)
            top.plot(acc.index, acc.values, "o-", color=color, label=f"{method} (share meeting spec: "
                     f"{d[d['method'] == method]['meets_spec'].mean():.0%})")
        top.axhline(exact[env_id]["accuracy"], color="black", ls="--", lw=1, label="exact optimum")
        top.set(title=env_id.split("/")[1], xscale="log", xlabel="evaluation budget",
                ylabel="accuracy of best design\n(mean over seeds meeting spec)")
        top.legend(fontsize=7)
        s = sens[sens["env"] == env_id].groupby("macs_budget", sort=True)
        bottom.plot(s["meets_spec"].mean().index / 1e6, s["meets_spec"].mean().values, "o-", color="tab:orange",
                    label="sequential")
        joint_max = d[(d["method"] == "joint") & (d["budget"] == d["budget"].max())]["meets_spec"].mean()
        bottom.axhline(joint_max, color="tab:blue", lw=1, label="joint")
        bottom.set(ylim=(-0.05, 1.05), xlabel="sequential's MACs budget (millions)",
                   ylabel=f"share of seeds whose best\nmeets spec (budget {d['budget'].max():,})")
        bottom.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def markdown(df, exact, sens, command: str, seeds: int, inner: str) -> str:
    budget_max = int(df["budget"].max())
    lines = ["## Results", "",
             f"Measured by `{command}` ({seeds} seeds; inner agent `{inner}` for both methods; every design "
             "counts against the budget). *meets spec*: share of seeds whose best design satisfies every "
             "constraint limit; the metric columns are mean ± std over the seeds whose best design meets the "
             "spec (n/a when none does). *exact*: the optimum found by enumerating the whole space.", "",
             "The script also draws these results in `runs/joint_vs_sequential/joint_vs_sequential.png`.", ""]
    for env_id in dict.fromkeys(df["env"]):
        d = df[df["env"] == env_id]
        cols = [c for c in SHOWN if c in d and d[c].notna().any()]
        lines += [f"### `{env_id}`", "", "| budget | method | meets spec | " + " | ".join(_label(c) for c in cols) + " |",
                  "|---:|---|---:|" + "---:|" * len(cols)]
        for (budget, method), g in d.groupby(["budget", "method"], sort=True):
            ok = g[g["meets_spec"]]
            cells = [_fmt(ok[c], c) for c in cols]
            lines.append(f"| {budget:,} | {method} | {g['meets_spec'].mean():.0%} | " + " | ".join(cells) + " |")
        e = exact[env_id]
        lines.append("| all | exact | 100% | " + " | ".join(_fmt([e[c]], c) if c in e else "" for c in cols) + " |")
        lines += ["", "Exact optimum: " + ", ".join(f"{k}={v}" for k, v in e["design"].items())
                  + f" ({e['n_meeting_spec']:,} of {e['size']:,} designs meet the spec).", ""]
        s = sens[sens["env"] == env_id]
        if len(s):
            lines += [f"Sequential with other MACs budgets (budget {budget_max:,}, {seeds} seeds): the derived budget, "
                      "then quantiles of the MACs of the space's networks.", "",
                      "| MACs budget | meets spec | accuracy of best design (meeting spec) |", "|---|---:|---:|"]
            for (label, m), g in s.groupby(["label", "macs_budget"], sort=False):
                lines.append(f"| {label}: {m / 1e6:.3f} M | {g['meets_spec'].mean():.0%} | "
                             f"{_fmt(g['accuracy'][g['meets_spec']], 'accuracy')} |")
            lines.append("")
    return "\n".join(lines)


_SCALE = {"latency_s": (1e6, "latency (µs)"), "energy_j": (1e6, "energy (µJ)"), "area_mm2": (1, "area (mm²)"),
          "accuracy": (1, "accuracy"), "resource_util": (1, "resource util")}


def _label(c):
    return _SCALE[c][1]


def _fmt(values, c):
    v = np.asarray(values, dtype=float) * _SCALE[c][0]
    if len(v) == 0:
        return "n/a"
    return f"{v.mean():.4g}" if len(v) == 1 else f"{v.mean():.4g} ± {v.std():.2g}"


def main(argv=None) -> int:
    import sys

    import pandas as pd
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--envs", nargs="+", default=list(ENVS))
    p.add_argument("--budgets", nargs="+", type=int, default=[500, 2000, 10000])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--inner", default="ga", help="agent of the joint search and inside both sequential stages")
    p.add_argument("--out", default="runs/joint_vs_sequential")
    p.add_argument("--no-docs", action="store_true", help="do not write the figure and docs/codesign.md")
    args = p.parse_args(argv)
    rows, exact, sens = run(args.envs, args.budgets, args.seeds, args.inner)
    df, sens = pd.DataFrame(rows), pd.DataFrame(sens)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "results.csv", index=False)
    sens.to_csv(out / "sequential_macs_budget.csv", index=False)
    command = "python experiments/joint_vs_sequential.py " + " ".join(sys.argv[1:] if argv is None else argv)
    text = markdown(df, exact, sens, command.strip(), args.seeds, args.inner)
    (out / "results.md").write_text(text + "\n")
    figure(df, sens, exact, out / "joint_vs_sequential.png")
    if not args.no_docs:
        from _docs import write_section  # experiments/ is on sys.path when run as a script
        write_section("results", text, doc=ROOT / "docs" / "codesign.md")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
