"""Plots of a run's evaluation log (matplotlib, Agg backend; no display needed).

- `pareto`: every feasible evaluation, each agent's found front, and the true front when the
  space is small enough to enumerate (`archgym.analysis.exhaustive`); 2 or 3 metrics.
- `hypervolume`: hypervolume vs samples per agent, median and IQR over seeds, for each agent's
  best hyper-parameter setting (highest median final hypervolume).
- `lottery`: the hyper-parameter lottery, the final result (best reward, median over seeds) of
  every hyper-parameter setting of each agent; the default setting is starred.
- `success`: share of an agent's cells (all settings and seeds) that have met the env's target
  spec after each sample.

The statistics behind them (`lottery_table`, `hypervolume_curves`, `success_curves`) are shared
with `archgym.report`.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from archgym import analysis
from archgym.errors import ArchGymError, unknown
from archgym.objectives import LINEAR, MAXIMISED, Objective

KINDS = ("pareto", "hypervolume", "lottery", "success")


def pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _colors(agents) -> dict:
    cmap = pyplot().get_cmap("tab10" if len(agents) <= 10 else "tab20")
    return {a: cmap(i % cmap.N) for i, a in enumerate(sorted(agents))}


def _direction(info, metric: str) -> str:
    return info.objective.get("directions", {}).get(metric, "max" if metric in MAXIMISED else "min")


def _objective(info, metrics=None) -> Objective:
    """A vector Objective over `metrics` (default: the env's objective metrics), for objective space."""
    metrics = list(metrics or info.objective["metrics"])
    return Objective("vector", metrics, directions={m: _direction(info, m) for m in metrics})


def env_rows(df, infos: dict, env: str | None):
    """(label, EnvInfo, rows of that env); the first env when `env` is None."""
    if not infos:
        raise ArchGymError("the run has no envs yet")
    label = env if env is not None else next(iter(infos))
    if label not in infos:
        raise unknown("env of this run", label, list(infos))
    return label, infos[label], df[df["env"] == label]


# --- statistics -----------------------------------------------------------------------------------------------
def cell_summary(rows, info):
    """Per cell: agent, family, setting, hparams, seed, best reward, final hypervolume."""
    obj = _objective(info)
    ref = np.asarray(info.ref_point)
    out = []
    for cell, g in rows.groupby("cell", sort=False):
        F = analysis.objective_matrix(obj, {m: g[m].to_numpy() for m in obj.metrics})
        ok = g["feasible"].to_numpy()
        hv = analysis.hypervolume(F[analysis.pareto_mask(F, ok)], ref)
        first = g.iloc[0]
        out.append({"cell": cell, "agent": first["agent"], "family": first["family"], "setting": int(first["setting"]),
                    "hparams": first["hparams"], "seed": int(first["seed"]), "best_reward": float(g["reward"].max()),
                    "final_hv": hv, "evaluations": len(g)})
    import pandas as pd
    return pd.DataFrame(out)


def _is_default(agent: str, hparams: str) -> bool:
    from archgym.experiments.spec import agent_class, canonical
    try:
        cls = agent_class(agent)
    except (ArchGymError, ImportError):
        return False
    return canonical({h.name: h.default for h in cls.hyperparams}) == canonical(json.loads(hparams))


def lottery_table(cells):
    """Per agent: settings, the default setting's and best/worst setting's median best reward over
    seeds, the lottery's spread (best - worst setting) and IQR over settings."""
    import pandas as pd
    per_setting = cells.groupby(["agent", "setting"]).agg(family=("family", "first"), hparams=("hparams", "first"),
                                                        median_best=("best_reward", "median"),
                                                        seeds=("seed", "nunique")).reset_index()
    per_setting["default"] = [_is_default(a, h) for a, h in zip(per_setting["agent"], per_setting["hparams"])]
    rows = []
    for agent, g in per_setting.groupby("agent"):
        v = g["median_best"].to_numpy()
        d = g.loc[g["default"], "median_best"]
        rows.append({"agent": agent, "family": g["family"].iloc[0], "settings": len(g), "seeds": int(g["seeds"].max()),
                     "default": float(d.iloc[0]) if len(d) else np.nan, "best": float(v.max()),
                     "median": float(np.median(v)), "worst": float(v.min()), "spread": float(v.max() - v.min()),
                     "iqr": float(np.subtract(*np.percentile(v, [75, 25])))})
    table = pd.DataFrame(rows).sort_values("best", ascending=False).reset_index(drop=True)
    return table, per_setting


def hypervolume_curves(rows, info, cells=None) -> dict:
    """agent -> (setting, (seeds, budget) hypervolume after each sample) for its best setting."""
    cells = cell_summary(rows, info) if cells is None else cells
    obj = _objective(info)
    ref = np.asarray(info.ref_point)
    out = {}
    for agent, g in cells.groupby("agent"):
        setting = g.groupby("setting")["final_hv"].median().idxmax()
        curves = []
        for cell in g.loc[g["setting"] == setting, "cell"]:
            r = rows[rows["cell"] == cell].sort_values("step")
            F = analysis.objective_matrix(obj, {m: r[m].to_numpy() for m in obj.metrics})
            curves.append(analysis.hypervolume_curve(F, ref, r["feasible"].to_numpy()))
        n = min(len(c) for c in curves)
        out[agent] = (int(setting), np.stack([c[:n] for c in curves]))
    return out


def success_curves(rows, info) -> dict:
    """agent -> share of its cells that met the target spec within each number of samples (None if
    the env has no target spec)."""
    if not info.target:
        return {}
    spec = info.target
    targets = spec["targets"]
    obj = Objective("target", list(targets), targets=targets, directions={m: _direction(info, m) for m in targets})
    hit = obj.success({m: rows[m].to_numpy() for m in targets}, rows["feasible"].to_numpy())
    frame = rows[["agent", "cell", "step"]].assign(hit=hit)
    out = {}
    for agent, g in frame.groupby("agent"):
        budget = int(g["step"].max()) + 1
        first = g[g["hit"]].groupby("cell")["step"].min()
        n_cells = g["cell"].nunique()
        counts = np.bincount(first.to_numpy(dtype=np.int64), minlength=budget)[:budget]
        out[agent] = np.cumsum(counts) / n_cells
    return out


# --- figures ------------------------------------------------------------------------------------------------------
def pareto(rows, info, metrics=None, true_front: bool = True, ax=None):
    """Feasible evaluations, each agent's found front, and the true front when enumerable."""
    plt = pyplot()
    metrics = list(metrics or info.pareto)
    for m in metrics:
        if m not in info.metrics:
            raise unknown("metric", m, info.metrics)
    if len(metrics) not in (2, 3):
        raise ArchGymError(f"a Pareto plot takes 2 or 3 metrics, got {metrics}")
    three = len(metrics) == 3
    if ax is None:
        fig = plt.figure(figsize=(7, 5.5))
        ax = fig.add_subplot(projection="3d" if three else None)
    fig = ax.figure
    sign = np.array([1.0 if _direction(info, m) == "min" else -1.0 for m in metrics])
    ok = rows[rows["feasible"]]
    V = ok[metrics].to_numpy(dtype=np.float64)
    ax.scatter(*V.T, s=4, c="0.8", alpha=0.5, label=f"evaluated ({len(rows):,})", rasterized=True)
    colors = _colors(rows["agent"].unique())
    for agent, g in ok.groupby("agent"):
        P = g[metrics].to_numpy(dtype=np.float64)
        P = np.unique(P[analysis.pareto_mask(P * sign)], axis=0)
        P = P[np.argsort(P[:, 0])]
        ax.scatter(*P.T, s=18, color=colors[agent], label=f"{agent} front ({len(P)})", zorder=3)
        if not three:
            ax.plot(*P.T, color=colors[agent], lw=0.8, drawstyle="steps-post" if sign[1] > 0 else "default")
    truth = true_pareto(info, tuple(metrics)) if true_front else None
    if truth is not None:
        ax.scatter(*truth.T, s=36, facecolors="none", edgecolors="k", lw=1.0, label=f"true front ({len(truth)})", zorder=4)
    for axis, m in zip("xyz", metrics):
        getattr(ax, f"set_{axis}label")(m)
        if m not in LINEAR:
            getattr(ax, f"set_{axis}scale")("log")
    note = ground_truth_note(info).split(":")[0] if true_front else ""
    ax.set_title(f"Pareto front: {info.env_id}" + (f"\n(true front {note})" if note else ""), fontsize=10)
    ax.legend(fontsize=7, loc="best")
    return fig


@lru_cache(maxsize=8)
def _stale_cached(env_id: str, kwargs_json: str, info_json: str) -> str | None:
    import gymnasium as gym
    import archgym  # noqa: F401
    from archgym.experiments.log import EnvInfo, fingerprint
    return EnvInfo(**json.loads(info_json)).changes(*fingerprint(gym.make(env_id, **json.loads(kwargs_json))))


def stale(info) -> str | None:
    """Why today's env no longer matches the logged one (None if it does): ground truth computed
    now would not be comparable with the log."""
    return _stale_cached(info.env_id, json.dumps(info.kwargs, sort_keys=True), json.dumps(info.__dict__, sort_keys=True))


def ground_truth_note(info) -> str:
    """Why no true front/optimum is shown for this env ("" if one is)."""
    if info.size > analysis.EXHAUSTIVE_LIMIT:
        return "space too large to enumerate"
    why = stale(info)
    return f"not shown, the env changed since the run: {why}" if why else ""


@lru_cache(maxsize=8)
def _true_pareto_cached(env_id: str, kwargs_json: str, metrics: tuple, directions: tuple) -> np.ndarray:
    import gymnasium as gym
    import archgym  # noqa: F401
    objective = {"mode": "vector", "metrics": list(metrics), "directions": dict(zip(metrics, directions))}
    env = gym.make(env_id, **json.loads(kwargs_json), objective=objective)
    gt = analysis.exhaustive(env)
    out = env.unwrapped.evaluate(gt.indices[gt.pareto_rows])
    return np.unique(np.stack([out[m] for m in metrics], axis=1), axis=0)


def true_pareto(info, metrics: tuple) -> np.ndarray | None:
    """Raw metric values of the true front over `metrics`, or None if the space is too large to
    enumerate or the env changed since the run (see `ground_truth_note`)."""
    if ground_truth_note(info):
        return None
    return _true_pareto_cached(info.env_id, json.dumps(info.kwargs, sort_keys=True), tuple(metrics),
                               tuple(_direction(info, m) for m in metrics))


@lru_cache(maxsize=8)
def _optimum_cached(env_id: str, kwargs_json: str, objective_json: str) -> float:
    import gymnasium as gym
    import archgym  # noqa: F401
    env = gym.make(env_id, **json.loads(kwargs_json), objective=json.loads(objective_json))
    return analysis.exhaustive(env).best_score


def true_optimum(info) -> float | None:
    """The best scalar reward over the whole space under the run's objective (None if the space is
    too large to enumerate or the env changed since the run)."""
    if ground_truth_note(info):
        return None
    return _optimum_cached(info.env_id, json.dumps(info.kwargs, sort_keys=True), json.dumps(info.objective, sort_keys=True))


def objective_of(info) -> Objective:
    """The run's Objective for an env, rebuilt from its log record."""
    cfg = dict(info.objective)
    return Objective(cfg.pop("mode"), **cfg)


def hypervolume(rows, info, curves=None, ax=None):
    """Hypervolume vs samples per agent (best setting): median line, IQR band over seeds."""
    plt = pyplot()
    curves = hypervolume_curves(rows, info) if curves is None else curves
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    colors = _colors(curves)
    for agent, (setting, C) in sorted(curves.items()):
        x = np.arange(1, C.shape[1] + 1)
        q1, med, q3 = np.percentile(C, [25, 50, 75], axis=0)
        ax.plot(x, med, color=colors[agent], lw=1.5, label=f"{agent} (setting {setting}, {len(C)} seeds)")
        ax.fill_between(x, q1, q3, color=colors[agent], alpha=0.2, lw=0)
    ax.set_xscale("log")
    ax.set_xlabel("samples (simulator evaluations)")
    ax.set_ylabel("hypervolume (objective space)")
    ax.set_title(f"Hypervolume vs samples: {info.env_id}\nmedian and IQR over seeds, each agent's best setting",
                 fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return ax.figure


def lottery(rows, info, cells=None, ax=None):
    """Box plot per agent of its settings' final results (median best reward over seeds)."""
    plt = pyplot()
    cells = cell_summary(rows, info) if cells is None else cells
    table, per_setting = lottery_table(cells)
    agents = list(table["agent"])
    if ax is None:
        _, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(agents) + 2), 4.5))
    colors = _colors(agents)
    data = [per_setting.loc[per_setting["agent"] == a, "median_best"].to_numpy() for a in agents]
    ax.boxplot(data, whis=(0, 100), widths=0.5, medianprops={"color": "k"})
    rng = np.random.default_rng(0)  # jitter only
    for i, (a, v) in enumerate(zip(agents, data), start=1):
        ax.scatter(i + rng.uniform(-0.15, 0.15, len(v)), v, s=14, color=colors[a], alpha=0.8, zorder=3)
        d = per_setting[(per_setting["agent"] == a) & per_setting["default"]]["median_best"]
        if len(d):
            ax.scatter([i], d, marker="*", s=140, color="gold", edgecolors="k", zorder=4,
                       label="default setting" if i == 1 else None)
    ax.set_xticks(range(1, len(agents) + 1), [f"{a}\n({n})" for a, n in zip(agents, table["settings"])], fontsize=8)
    ax.set_ylabel(f"best reward ({info.objective['mode']}), median over seeds")
    ax.set_title(f"Hyper-parameter lottery: {info.env_id}\none point per setting (n settings)", fontsize=10)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    return ax.figure


def success(rows, info, curves=None, ax=None):
    """Share of cells that met the target spec vs samples, per agent."""
    plt = pyplot()
    curves = success_curves(rows, info) if curves is None else curves
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    if not curves:
        ax.text(0.5, 0.5, "this env has no target spec", ha="center", va="center", transform=ax.transAxes)
        return ax.figure
    colors = _colors(curves)
    for agent, c in sorted(curves.items()):
        ax.plot(np.arange(1, len(c) + 1), 100 * c, color=colors[agent], label=agent)
    ax.set_xscale("log")
    ax.set_ylim(-2, 102)
    ax.set_xlabel("samples (simulator evaluations)")
    ax.set_ylabel("cells that met the target (%)")
    targets = ", ".join(f"{m} {'≤' if _direction(info, m) == 'min' else '≥'} {v:.3g}" for m, v in info.target["targets"].items())
    ax.set_title(f"Success rate at the target spec: {info.env_id}\n{targets}; all settings and seeds", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return ax.figure


def plot_run(run_dir, kind: str = "pareto", out=None, env: str | None = None, metrics=None) -> Path:
    """Draw one plot of a run to `out` (default RUN_DIR/<kind>.png); returns the path."""
    import archgym
    from archgym.experiments.log import env_infos
    if kind not in KINDS:
        raise unknown("plot", kind, KINDS)
    infos = env_infos(run_dir)
    label, info, rows = env_rows(archgym.load(run_dir), infos, env)
    if rows.empty:
        raise ArchGymError(f"env {label!r} has no evaluations in {run_dir} yet")
    if metrics is not None and kind != "pareto":
        raise ArchGymError("metrics apply to --pareto plots only")
    fig = pareto(rows, info, metrics) if kind == "pareto" else globals()[kind](rows, info)
    out = Path(out) if out is not None else Path(run_dir) / f"{kind}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120, bbox_inches="tight")
    pyplot().close(fig)
    return out
