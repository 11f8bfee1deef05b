"""Joint versus sequential co-design on equal evaluation budgets, over >= 20 seeds, with statistics.

For each env and budget and seed: a joint search (the `inner` agent over network + hardware) and
the sequential baselines of agents/codesign.py with the same inner agent: NAS first under the
rule-of-thumb MACs budget (no hindsight), hardware first, and latency-aware NAS on the reference
accelerator. NAS first is also run at every MACs budget of a dense sweep over the networks' whole
range (at the largest evaluation budget), and the best budget in hindsight is reported: an upper
bound for any NAS-first designer, since it is picked on the reported seeds themselves. Every env runs
at its default budgets (archgym.analysis.coupling.budget_rule: the median network's fastest latency);
the NB201 envs also at the same rule's lower and upper quartile (--nb201-quantiles), a choice fixed
before any of these comparisons was run.

A run's outcome is the accuracy of its best design if that design meets the env's spec, else 0 (a
failed run). Each comparison gives the difference of the mean outcomes (joint - sequential) in
accuracy points with a 95% bootstrap interval (scipy.stats.bootstrap) and a two-sided Mann-Whitney
U test, Holm-corrected over every comparison of the run. A difference is a win only if it is
significant after correction and at least the accuracy table's noise (one training run's standard
deviation); otherwise it is a tie. No hyper-parameter is tuned: every agent runs its defaults.
Every evaluation counts against the budget; the baselines' configuration checks (a census of the
networks on the reference hardware) are outside it, like the hypervolume reference point.

    python experiments/joint_vs_sequential.py --seeds 20 --budgets 1000 5000 --inner ga

Writes OUT/*.csv, OUT/results.md, OUT/joint_vs_sequential.png and the generated blocks of
docs/codesign.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from archgym.analysis.stats import holm

ROOT = Path(__file__).resolve().parent.parent
ENVS = ("archgym/NB201-Systolic-v0", "archgym/NB201-FPGA-v0", "archgym/CoDesign-Systolic-v0", "archgym/CoDesign-FPGA-v0")
BASELINES = ("sequential", "hardware_first", "latency_aware_nas")
SWEEP_POINTS = 32  # MACs budgets of the sweep when the networks have more distinct MACs values than this
ALPHA = 0.05


def noise_points(base) -> tuple[float, str]:
    """One training run's accuracy standard deviation (points) for the env's accuracy table, and its source."""
    ev = base.evaluator
    if getattr(ev, "network", None) is not None and getattr(ev.network, "accuracy_source", None):
        from archgym.nas.nb201_table import noise_std
        n = noise_std(ev.network.accuracy_source)
        return n["std"], (f"pooled std of the {ev.network.accuracy_source.upper()} accuracy over {n['classes']} classes "
                          f"of functionally identical NB201 cells ({n['dof']:,} degrees of freedom)")
    from archgym.nas.oracles import TABLE
    from archgym.nas.tables import read_table
    meta = read_table(TABLE).meta
    return 100 * meta["seed_noise_std"], (f"std over 3 training seeds of {len(meta['repeats'])} mbv2-tab networks "
                                          "(float accuracy; the quantised columns have no repeats)")


def outcome(res, objective) -> tuple[float, bool]:
    """(accuracy of the best design if it meets the spec else 0, whether it meets it)."""
    best = res.best_metrics
    met = bool(objective.success({k: np.array([v]) for k, v in best.items()})[0])
    return (best[objective.optimize] if met else 0.0), met


def macs_grid(base) -> np.ndarray:
    """The sweep: every distinct MACs value of the space's networks, or SWEEP_POINTS quantiles of them."""
    from agents.codesign import _columns, network_census
    census = network_census(base, _columns(base.space)[0], base.space.to_indices(base.space.default()))
    values = np.unique(census["macs"])
    if len(values) > SWEEP_POINTS:
        values = np.unique(np.quantile(values, np.linspace(0, 1, SWEEP_POINTS), method="higher"))
    return values


def variants(env_ids, quantiles, echo=print) -> list[tuple[str, str, dict]]:
    """(label, env id, gym.make keywords): every env at its default budgets, and each NB201 env also at
    the latency budgets archgym.analysis.coupling.budget_rule gives at the other `quantiles`."""
    from archgym.analysis.coupling import budget_rule
    out = []
    for env_id in env_ids:
        out.append((env_id, env_id, {}))
        if "NB201" in env_id and quantiles:
            rules, _ = budget_rule(env_id, quantiles)
            for q, rule in zip(quantiles, rules):
                label = f"{env_id} @ {rule['latency_s'] * 1e6:g} µs"
                echo(f"{label}: latency budget at the {q:.0%} quantile of the networks' fastest latencies")
                out.append((label, env_id, {"latency_budget_s": rule["latency_s"]}))
    return out


def run(specs, budgets, seeds, inner, workers: int = 1) -> tuple[list[dict], dict]:
    """Every spec of `variants` (in `workers` processes; each search is seeded, so the rows do not depend
    on `workers`): the rows of every search, and per env label its exact answer, noise and refusals."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context
    jobs = [(spec, budgets, seeds, inner) for spec in specs]
    if workers > 1:  # spawn: numba's thread pool does not survive a fork
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            done = list(pool.map(run_spec, *zip(*jobs)))
    else:
        done = [run_spec(*job) for job in jobs]
    return [r for rows, _ in done for r in rows], {spec[0]: info for spec, (_, info) in zip(specs, done)}


def run_spec(spec, budgets, seeds, inner, echo=print) -> tuple[list[dict], dict]:
    """One env variant: joint search and each baseline per budget and seed, then the NAS-first MACs sweep."""
    import gymnasium as gym

    import archgym  # noqa: F401  (registers the envs)
    from agents import make_agent
    from agents.codesign import BaselineConfigError
    from archgym.analysis.exact import exact_front

    env_id, make_id, kwargs = spec
    rows = []
    env = gym.make(make_id, **kwargs)
    base = env.unwrapped
    obj = base.objective
    t = time.perf_counter()
    ex = exact_front(env)
    best = base.evaluate(base.space.from_indices(ex.best_index))
    noise, noise_src = noise_points(base)
    info = {"exact": 100 * float(best[obj.optimize][0]), "n_meeting_spec": ex.n_meeting_spec, "size": ex.size,
            "noise": noise, "noise_source": noise_src, "limits": dict(obj.limits),
            "design": base.space.from_indices(ex.best_index), "errors": {}, "latency_front": ex.latency_front}
    echo(f"{env_id}: exact optimum {info['exact']:.2f} % over {ex.size:,} designs "
         f"({time.perf_counter() - t:.0f} s); noise {noise:.2f} points", flush=True)

    def one(method, agent, budget, seed, label=None, **kw):
        try:
            res = agent.search(env, budget, seed=seed)
        except BaselineConfigError as e:
            info["errors"][label or method] = str(e)
            return
        acc, met = outcome(res, obj)
        rows.append({"env": env_id, "budget": budget, "seed": seed, "method": label or method,
                     "accuracy": 100 * acc, "meets_spec": met, **kw})

    for budget in budgets:
        for seed in range(seeds):
            one("joint", make_agent(inner, seed=seed), budget, seed)
            for b in BASELINES:
                one(b, make_agent(b, seed=seed, inner=inner), budget, seed)
        echo(f"{env_id}: budget {budget:,}: {seeds} seeds x {1 + len(BASELINES)} methods done "
             f"({time.perf_counter() - t:.0f} s)", flush=True)
    grid = macs_grid(base)
    for m in grid:
        for seed in range(seeds):
            one("sequential", make_agent("sequential", seed=seed, inner=inner, macs_budget=float(m)),
                max(budgets), seed, label=f"sequential@{m:.6g}", macs_budget=float(m))
    echo(f"{env_id}: MACs sweep done ({len(grid)} budgets from {grid[0]:.4g} to {grid[-1]:.4g}; "
         f"{time.perf_counter() - t:.0f} s)", flush=True)
    return rows, info


def compare(df, envs):
    """Joint against each sequential variant: difference of means, bootstrap CI, Mann-Whitney p, Holm, verdict."""
    import pandas as pd
    from scipy import stats
    out = []
    for env_id, d in df.groupby("env", sort=False):
        top = d["budget"].max()
        sweep = d[d["method"].str.startswith("sequential@")]
        hindsight = None
        if len(sweep):
            means = sweep.groupby("method")["accuracy"].mean()
            hindsight = means.idxmax()
            envs[env_id]["hindsight"] = (hindsight, float(sweep[sweep["method"] == hindsight]["macs_budget"].iloc[0]))
            envs[env_id]["sweep"] = sweep.groupby("macs_budget").agg(accuracy=("accuracy", "mean"),
                                                                     meets=("meets_spec", "mean")).reset_index()
        for budget, g in d.groupby("budget"):
            joint = g[g["method"] == "joint"]["accuracy"].to_numpy()
            others = list(BASELINES) + ([hindsight] if hindsight and budget == top else [])
            for m in others:
                seq = g[g["method"] == m]["accuracy"].to_numpy()
                if len(seq) == 0:
                    continue
                diff = joint.mean() - seq.mean()
                if np.ptp(np.r_[joint, seq]) == 0:
                    lo = hi = diff
                    p = 1.0
                else:
                    ci = stats.bootstrap((joint, seq), lambda x, y, axis=-1: x.mean(axis=axis) - y.mean(axis=axis),
                                         n_resamples=10_000, method="percentile", vectorized=True,
                                         rng=np.random.default_rng(0)).confidence_interval
                    lo, hi = ci.low, ci.high
                    p = stats.mannwhitneyu(joint, seq, alternative="two-sided").pvalue
                out.append({"env": env_id, "budget": budget, "baseline": "sequential, best MACs budget in hindsight"
                            if m == hindsight else m, "joint": joint.mean(), "sequential": seq.mean(),
                            "joint_meets": g[g["method"] == "joint"]["meets_spec"].mean(),
                            "sequential_meets": g[g["method"] == m]["meets_spec"].mean(),
                            "diff": diff, "ci_low": lo, "ci_high": hi, "p": p, "noise": envs[env_id]["noise"]})
    res = pd.DataFrame(out)
    res["p_holm"] = holm(res["p"].to_numpy())
    sig = (res["p_holm"] < ALPHA) & ((res["ci_low"] > 0) | (res["ci_high"] < 0))
    big = res["diff"].abs() >= res["noise"]
    res["verdict"] = np.where(sig & big, np.where(res["diff"] > 0, "joint better", "sequential better"),
                              np.where(sig, "tie (within noise)", "tie (not significant)"))
    return res


def markdown(res, envs, df, command: str, seeds: int, inner: str) -> dict[str, str]:
    """The generated blocks of docs/codesign.md: {block name: markdown}."""
    lines = [f"Measured by `{command}`: {seeds} seeds per method; inner agent `{inner}` (defaults, untuned) in the "
             "joint search and in every baseline stage; every evaluation counts. Outcome: CIFAR-10 (NB201) or "
             "digits-canvas (mbv2-tab) accuracy of the best design found, in %, or 0 when it misses the spec. "
             "*Δ*: joint minus sequential mean, with its 95% bootstrap interval; *p*: Mann-Whitney U, "
             "Holm-corrected over all rows. A win needs p < 0.05 and |Δ| at least the accuracy table's noise.", "",
             "| env | budget | sequential variant | joint (meets spec) | sequential (meets spec) | Δ (95% CI) | p (Holm) "
             "| noise | verdict |", "|---|---:|---|---:|---:|---|---:|---:|---|"]
    for _, r in res.iterrows():
        lines.append(f"| {r['env'].split('/')[1]} | {r['budget']:,} | {r['baseline']} | {r['joint']:.2f} "
                     f"({r['joint_meets']:.0%}) | {r['sequential']:.2f} ({r['sequential_meets']:.0%}) | "
                     f"{r['diff']:+.2f} ({r['ci_low']:+.2f}, {r['ci_high']:+.2f}) | {r['p_holm']:.3g} | "
                     f"{r['noise']:.2f} | {r['verdict']} |")
    lines += ["", "| env | exact optimum | designs meeting the spec | NAS-first budget in hindsight | accuracy noise "
              "(one training run) |", "|---|---:|---:|---|---|"]
    for env_id, e in envs.items():
        h = e.get("hindsight")
        lines.append(f"| {env_id.split('/')[1]} | {e['exact']:.2f} % | {e['n_meeting_spec']:,} of {e['size']:,} | "
                     f"{h[1] / 1e6:.4g} M MACs | {e['noise']:.2f} points: {e['noise_source']} |" if h else
                     f"| {env_id.split('/')[1]} | {e['exact']:.2f} % | {e['n_meeting_spec']:,} of {e['size']:,} | n/a | "
                     f"{e['noise']:.2f} points: {e['noise_source']} |")
    errors = [f"- {env_id.split('/')[1]}, `{m}`: {msg}" for env_id, e in envs.items() for m, msg in e["errors"].items()]
    if errors:
        lines += ["", "Baselines whose own configuration check refused to run (no result, by design):", "",
                  *sorted(set(errors))]
    sweep = ["| env | MACs budget | NAS-first accuracy (mean over seeds, 0 when the spec is missed) | "
             "seeds meeting the spec |", "|---|---:|---:|---:|"]
    for env_id, e in envs.items():
        if "sweep" not in e:
            continue
        for _, r in e["sweep"].iterrows():
            mark = " (best in hindsight)" if e.get("hindsight") and r["macs_budget"] == e["hindsight"][1] else ""
            sweep.append(f"| {env_id.split('/')[1]} | {r['macs_budget'] / 1e6:.4g} M{mark} | {r['accuracy']:.2f} | "
                         f"{r['meets']:.0%} |")
    budgets = ["| env | limits (default objective) | designs meeting the spec | best accuracy reachable with the "
               "latency budget x 1/4, 1/2, 1, 2, 4 (other limits as they are) |", "|---|---|---:|---|"]
    for env_id, e in envs.items():
        lat, acc = e["latency_front"]
        lim = e["limits"].get("latency_s")
        reach = [f"{100 * acc[lat <= f * lim].max():.2f}" if (lat <= f * lim).any() else "none"
                 for f in (0.25, 0.5, 1, 2, 4)] if lim else []
        budgets.append(f"| {env_id.split('/')[1]} | " + ", ".join(f"{k} <= {v:g}" for k, v in e["limits"].items())
                       + f" | {e['n_meeting_spec']:,} of {e['size']:,} ({e['n_meeting_spec'] / e['size']:.2%}) | "
                       + " / ".join(reach) + f" % (at any latency: {100 * acc.max():.2f} %) |")
    return {"joint-vs-sequential": "\n".join(lines), "nas-first-macs-sweep": "\n".join(sweep),
            "codesign-budgets": "\n".join(budgets), "nb201-accuracy": nb201_accuracy()}


def nb201_accuracy() -> str:
    """The shipped NB201 table in numbers: range, best cell and one training run's noise per source."""
    from archgym.nas import nb201
    from archgym.nas.nb201_table import CHANCE, noise_std, read_nb201_table
    t = read_nb201_table()
    lines = ["| accuracy | bits (weights, activations) | min / median / max (%) | best cell (NB201 index) | "
             "one run's noise (points) |", "|---|---|---|---|---|"]
    for source, values in t.percent.items():
        best = int(np.argmax(values))
        cell = nb201.official_order()[best].replace("|", "\\|")  # a literal pipe inside a markdown table
        n = noise_std(source)
        lines.append(f"| `{source}` | {t.bits(source) or 'float32'} | {values.min():.2f} / {np.median(values):.2f} / "
                     f"{values.max():.2f} | {best}: `{cell}` | {n['std']:.2f} over {n['classes']} "
                     f"classes ({n['dof']:,} degrees of freedom) |")
    dead = int((t.percent["baseline"] == CHANCE).sum())
    return "\n".join(lines) + (f"\n\n{dead} cells score exactly {CHANCE:g}% (chance): exactly the cells whose "
                                "output has no path from the input through edges other than `none`.")


def figure(df, envs, path: Path) -> None:
    """Per env: mean outcome per method against the budget (top); NAS-first against its MACs budget (bottom)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ids = list(envs)
    cols = min(4, len(ids))  # envs in rows of four, each a pair of panels
    rows = -(-len(ids) // cols)
    fig, axes = plt.subplots(2 * rows, cols, figsize=(4.4 * cols, 3.3 * 2 * rows), squeeze=False)
    for k in range(len(ids), rows * cols):
        axes[2 * (k // cols), k % cols].remove()
        axes[2 * (k // cols) + 1, k % cols].remove()
    for k, env_id in enumerate(ids):
        d = df[df["env"] == env_id]
        top, bottom = axes[2 * (k // cols), k % cols], axes[2 * (k // cols) + 1, k % cols]
        for method, color in zip(("joint",) + BASELINES, ("tab:blue", "tab:orange", "tab:green", "tab:purple")):
            g = d[d["method"] == method].groupby("budget")["accuracy"].mean()
            if len(g):
                top.plot(g.index, g.values, "o-", color=color, label=method)
        top.axhline(envs[env_id]["exact"], color="black", ls="--", lw=1, label="exact optimum")
        top.set(title=env_id.split("/")[1], xscale="log", xlabel="evaluations", ylabel="mean outcome (%)")
        top.legend(fontsize=7)
        if "sweep" in envs[env_id]:
            s = envs[env_id]["sweep"]
            bottom.plot(s["macs_budget"] / 1e6, s["accuracy"], "o-", color="tab:orange", label="NAS first")
            bottom.axhline(envs[env_id]["exact"], color="black", ls="--", lw=1)
            bottom.set(xscale="log", xlabel="NAS-first MACs budget (millions)", ylabel="mean outcome (%)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    import pandas as pd
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--envs", nargs="+", default=list(ENVS))
    p.add_argument("--budgets", nargs="+", type=int, default=[1000, 5000])
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--inner", default="ga", help="agent of the joint search and inside every baseline stage")
    p.add_argument("--nb201-quantiles", nargs="*", type=float, default=[0.25, 0.75],
                   help="NB201 envs also run at the budget rule's latency budget at these quantiles (the default "
                        "budget is the median's)")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                   help="processes, one env variant each (the results do not depend on it)")
    p.add_argument("--out", default="runs/joint_vs_sequential")
    p.add_argument("--no-docs", action="store_true", help="do not write docs/codesign.md")
    args = p.parse_args(argv)
    if args.seeds < 20 and not args.no_docs:
        p.error("the docs need >= 20 seeds; use --no-docs for a quick look")
    rows, envs = run(variants(args.envs, args.nb201_quantiles), args.budgets, args.seeds, args.inner, args.workers)
    df = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "runs.csv", index=False)  # written first: the runs outlive any failure below
    res = compare(df, envs)
    res.to_csv(out / "comparisons.csv", index=False)
    sys.path.insert(0, str(ROOT / "experiments"))
    from _docs import command_of, publish
    command = command_of("joint_vs_sequential.py", argv)
    blocks = markdown(res, envs, df, command, args.seeds, args.inner)
    (out / "results.md").write_text("\n\n".join(blocks.values()) + "\n")
    figure(df, envs, out / "joint_vs_sequential.png")
    return publish(blocks, command, not args.no_docs)


if __name__ == "__main__":
    raise SystemExit(main())
