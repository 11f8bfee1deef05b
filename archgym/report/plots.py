"""Plots of a run's evaluation log (matplotlib, Agg backend; no display needed).

- `pareto`: every feasible evaluation, each agent's found front, and the true front when the
  space is small enough to enumerate (`archgym.analysis.exhaustive`); 2 or 3 metrics.
- `hypervolume`: hypervolume vs samples per agent, median and IQR over seeds, for each agent's
  best hyper-parameter setting (highest median final hypervolume).
- `lottery`: the hyper-parameter lottery, the final result (best reward, median over seeds) of
  every hyper-parameter setting of each agent; the default setting is starred.
- `success`: share of an agent's cells (all settings and seeds) that have met the env's target
  spec after each sample.

The statistics behind them (`lottery_table`, `hypervolume_curves`, `success_curves`) are computed
in `archgym.analysis.runs`; this module only draws.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from archgym.analysis.runs import (cell_summary, direction, env_rows, ground_truth_note, hypervolume_curves,
                                   lottery_table, success_curves, true_pareto)
from archgym.core import pareto as pareto_math
from archgym.core.errors import ArchGymError, unknown
from archgym.core.objectives import LINEAR

KINDS = ("pareto", "hypervolume", "lottery", "success")


def pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _colors(agents) -> dict:
    cmap = pyplot().get_cmap("tab10" if len(agents) <= 10 else "tab20")
    return {a: cmap(i % cmap.N) for i, a in enumerate(sorted(agents))}


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
    sign = np.array([1.0 if direction(info, m) == "min" else -1.0 for m in metrics])
    ok = rows[rows["feasible"]]
    V = ok[metrics].to_numpy(dtype=np.float64)
    ax.scatter(*V.T, s=4, c="0.8", alpha=0.5, label=f"evaluated ({len(rows):,})", rasterized=True)
    colors = _colors(rows["agent"].unique())
    for agent, g in ok.groupby("agent"):
        P = g[metrics].to_numpy(dtype=np.float64)
        P = np.unique(P[pareto_math.pareto_mask(P * sign)], axis=0)
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
    targets = ", ".join(f"{m} {'≤' if direction(info, m) == 'min' else '≥'} {v:.3g}" for m, v in info.target["targets"].items())
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
