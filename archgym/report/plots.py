"""Plots of a run's evaluation log. Each function draws on the `ax` it is given (any matplotlib
Axes; a 3-D one for a 3-metric Pareto plot) or on a new `matplotlib.figure.Figure`, and returns
the figure. Nothing here selects a backend or touches pyplot's global state.

The comparison of agents, over seeds:
- `convergence`: best reward so far (regret, when the exact optimum is known) against
  evaluations per agent, median line and interquartile band over seeds;
- `final`: the final regret (or best reward) per agent, one point per seed over a box plot;
- `pareto`: each agent's fronts in a panel of its own (small multiples), every panel with the
  exact front and optimum when the space can be enumerated; 2 or 3 metrics.
And of a sweep: `hypervolume` (vs evaluations), `lottery` (the hyper-parameter lottery) and
`success` (share of runs that met the target spec).

Which runs stand for an agent is `archgym.analysis.runs.comparison_cells`: its default setting's,
else all its runs pooled. The statistics are computed in `archgym.analysis.runs`; this module draws.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from archgym.analysis.runs import (best_so_far_curves, cell_summary, comparison_cells, direction, env_rows,
                                   ground_truth_note, hypervolume_curves, lottery_table, optimum_design,
                                   regret_pct, success_curves, true_pareto)
from archgym.core import pareto as pareto_math
from archgym.core.errors import ArchGymError, unknown
from archgym.core.objectives import LINEAR
from archgym.report.labels import env_title, metric_label, quantity, regret_words, reward_words, seeds_words, with_unit

KINDS = ("convergence", "final", "pareto", "hypervolume", "lottery", "success")
EXACT = dict(color="k", lw=1.0, ls="--")
OPTIMUM = dict(marker="*", s=160, color="gold", edgecolors="k", lw=0.8, zorder=6)


# --- shared drawing helpers -------------------------------------------------------------------------------------
def new_figure(width: float, height: float, **kwargs):
    """A Figure with constrained layout, outside pyplot (no backend, no global figure list)."""
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), layout="constrained", **kwargs)


def _axes(ax, size=(6.4, 4.4), projection=None):
    """(ax, whether this call made its figure)."""
    if ax is not None:
        return ax, False
    return new_figure(*size).add_subplot(projection=projection), True


def _colors(agents) -> dict:
    from matplotlib import colormaps
    cmap = colormaps["tab10" if len(agents) <= 10 else "tab20"]
    return {a: cmap(i % cmap.N) for i, a in enumerate(sorted(agents))}


def note(ax, text: str) -> None:
    """Say on the panel why it is empty or degenerate."""
    ax.text(0.5, 0.5, "\n".join(textwrap.wrap(text, 48)), transform=ax.transAxes, ha="center", va="center",
            fontsize=9, color="0.25", zorder=10, bbox=dict(boxstyle="round", fc="#fff8e0", ec="0.75"))


def _headline(fig, label: str, info, extra: str = "") -> None:
    """The figure's title: env (with kwargs) and the reward in words (only on figures made here)."""
    words = reward_words(info.objective) + (f" {extra}" if extra else "")
    fig.suptitle(env_title(label, info) + "\n" + "\n".join(textwrap.wrap(words, 120)), fontsize=8.5)


def plain_log_ticks(ax) -> None:
    """Log axes labelled 40, 100, 200 rather than 4×10¹, 10², 2×10²; minor ticks are labelled
    too when an axis spans less than about two decades."""
    from matplotlib.ticker import FuncFormatter, LogFormatter, NullFormatter
    for axis in (ax.xaxis, ax.yaxis):
        if axis.get_scale() != "log":
            continue
        lo, hi = sorted(axis.get_view_interval())
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        few = lo > 0 and hi / lo < 10 ** 1.7
        axis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)) if few else NullFormatter())


def _percent_axis(ax) -> None:
    from matplotlib.ticker import FuncFormatter
    ax.set_yscale("symlog", linthresh=1.0)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}%"))
    ax.set_ylim(bottom=-0.05)


def _runs(n: int) -> str:
    return f"{n} run" + ("s" if n != 1 else "")


def _comparison(rows, info, cells):
    cells = cell_summary(rows, info) if cells is None else cells
    chosen, how = comparison_cells(cells)
    best = optimum_design(info)
    return chosen, how, None if best is None else best[0]


# --- the comparison of agents ------------------------------------------------------------------------------------
def convergence(rows, info, cells=None, ax=None, label: str | None = None):
    """Best reward so far (regret in %, when the optimum is known) against evaluations: per agent,
    the median over its runs and the interquartile band."""
    chosen, how, optimum = _comparison(rows, info, cells)
    curves = best_so_far_curves(rows, chosen)
    ax, own = _axes(ax)
    colors = _colors(curves)
    top = 0.0
    for agent, C in curves.items():
        Y = regret_pct(C, optimum, info) if optimum is not None else C
        x = np.arange(1, Y.shape[1] + 1)
        q1, med, q3 = np.percentile(Y, [25, 50, 75], axis=0)
        ax.plot(x, med, color=colors[agent], lw=1.8, label=f"{agent} ({how[agent]}, {_runs(len(Y))})")
        ax.fill_between(x, q1, q3, color=colors[agent], alpha=0.2, lw=0)
        top = max(top, float(np.max(q3)))
    ax.set_xscale("log")
    ax.set_xlabel("evaluations (simulator calls)")
    seeds = seeds_words(chosen["seed"])
    spread = f"median and IQR over {seeds}" if len(chosen) > 1 else f"one run, {seeds}"
    if optimum is not None:
        _percent_axis(ax)
        ax.set_ylim(top=max(10.0, 3 * top))  # room above the first, worst values on the symlog axis
        ax.set_ylabel("regret: % worse than the exact optimum")
        ax.set_title(f"Regret of the best design so far: {spread}", fontsize=9)
        if all(np.median(regret_pct(C[:, -1], optimum, info)) == 0 for C in curves.values()):
            ax.text(0.98, 0.95, "every agent's median run reached the optimum", transform=ax.transAxes,
                    ha="right", va="top", fontsize=8, color="0.3")
    else:
        ax.set_ylabel("best reward so far (higher is better)")
        ax.set_title(f"Best reward so far: {spread}\n(no exact optimum: "
                     f"{ground_truth_note(info) or 'not computed'})", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    plain_log_ticks(ax)
    ax.legend(fontsize=7, loc="upper right" if optimum is not None else "lower right")
    if own:
        _headline(ax.figure, label or info.env_id, info, regret_words(info.objective) + "." if optimum is not None else "")
    return ax.figure


def final(rows, info, cells=None, ax=None, label: str | None = None):
    """Final regret in % (or best reward, without a known optimum) per agent: a box over its runs
    and one point per run."""
    chosen, how, optimum = _comparison(rows, info, cells)
    values = {a: (regret_pct(g["best_reward"], optimum, info) if optimum is not None else g["best_reward"].to_numpy())
              for a, g in chosen.groupby("agent")}
    agents = sorted(values, key=lambda a: np.median(values[a]) * (1 if optimum is not None else -1))
    ax, own = _axes(ax, (max(4.5, 1.2 * len(agents) + 2.5), 4.6))
    colors = _colors(agents)
    data = [values[a] for a in agents]
    ax.boxplot(data, whis=(0, 100), widths=0.55, medianprops={"color": "k"}, showfliers=False)
    rng = np.random.default_rng(0)  # jitter only
    for i, (a, v) in enumerate(zip(agents, data), start=1):
        ax.scatter(i + rng.uniform(-0.16, 0.16, len(v)), v, s=18, color=colors[a], alpha=0.85, zorder=3,
                   edgecolors="white", lw=0.4)
    ax.set_xticks(range(1, len(agents) + 1), [f"{a}\n({how[a]},\n{_runs(len(values[a]))})" for a in agents], fontsize=7.5)
    budget = int(chosen["evaluations"].max())
    seeds = seeds_words(chosen["seed"])
    if optimum is not None:
        _percent_axis(ax)
        ax.set_ylabel("final regret: % worse than the exact optimum")
        ax.set_title(f"Regret after {budget:,} evaluations, one point per run, {seeds}", fontsize=9)
        if all((v == 0).all() for v in data):
            note(ax, "every run of every agent reached the exact optimum: regret 0 for all")
    else:
        ax.set_ylabel("final best reward (higher is better)")
        ax.set_title(f"Best reward after {budget:,} evaluations, one point per run, {seeds}", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    if own:
        _headline(ax.figure, label or info.env_id, info, regret_words(info.objective) + "." if optimum is not None else "")
    return ax.figure


def _front(P: np.ndarray, sign: np.ndarray) -> np.ndarray:
    """Non-dominated rows of raw metric values P (sign +1 minimised, -1 maximised), by the first metric."""
    if not len(P):
        return P
    F = np.unique(P[pareto_math.pareto_mask(P * sign)], axis=0)
    return F[np.argsort(F[:, 0])]


def _zoom(ax, fronts: list, everything: np.ndarray, logs: list) -> int:
    """Limit the axes to the fronts plus a margin (never beyond every point), so the fronts fill the
    panel instead of a corner of the cloud of dominated designs; a metric shown over more than a
    factor 10 gets a log axis. Returns the number of points of `everything` left outside."""
    F = np.concatenate([f for f in fronts if len(f)]) if any(len(f) for f in fronts) else everything
    if not len(F):
        return 0
    inside = np.ones(len(everything), dtype=bool)
    for j, axis in enumerate("xy"):
        log = logs[j] and F[:, j].min() > 0
        t = (lambda v: np.log10(np.maximum(v, 1e-300))) if log else (lambda v: np.asarray(v, dtype=np.float64))
        lo, hi = float(t(F[:, j].min())), float(t(F[:, j].max()))
        every = t(everything[:, j]) if len(everything) else np.array([lo, hi])
        span = hi - lo if hi > lo else (0.1 if log else 0.1 * max(abs(hi), 1e-12))
        a = min(max(lo - 0.15 * span, every.min() - 0.05 * span), lo - 0.05 * span)
        b = max(min(hi + 0.5 * span, every.max() + 0.05 * span), hi + 0.05 * span)
        inside &= (every >= a) & (every <= b)
        if log:
            a, b = 10 ** a, 10 ** b
        getattr(ax, f"set_{axis}scale")("log" if log and b / a > 10 else "linear")
        getattr(ax, f"set_{axis}lim")(a, b)
    return int((~inside).sum())


def pareto(rows, info, metrics=None, ax=None, cells=None, label: str | None = None):
    """Each agent's Pareto fronts, the exact front and the exact optimum (when the space can be
    enumerated). `metrics`: 2 or 3 names (default: the first two of the env's Pareto metrics).
    With 2 metrics and no `ax`: one panel per agent (its runs' fronts, one line per run) after a
    panel of every agent's front pooled over its runs. With an `ax` (or 3 metrics): the pooled
    fronts only, in that one Axes (a 3-D one for 3 metrics)."""
    metrics = list(metrics or info.pareto[:2])
    for m in metrics:
        if m not in info.metrics:
            raise unknown("metric", m, info.metrics)
    if len(metrics) not in (2, 3):
        raise ArchGymError(f"a Pareto plot takes 2 or 3 metrics, got {metrics}")
    three = len(metrics) == 3
    if three and ax is not None and getattr(ax, "name", "") != "3d":
        raise ArchGymError("a 3-metric Pareto plot needs a 3-D Axes: fig.add_subplot(projection='3d')")
    cells = cell_summary(rows, info) if cells is None else cells
    chosen, how = comparison_cells(cells)
    rows = rows[rows["cell"].isin(set(chosen["cell"]))]
    sign = np.array([1.0 if direction(info, m) == "min" else -1.0 for m in metrics])
    labels = [metric_label(m, rows[m].to_numpy()) for m in metrics]
    scale = np.array([f for _, f in labels])
    ok = rows[rows["feasible"]]
    truth = true_pareto(info, tuple(metrics))
    truth = None if truth is None else _front(truth, sign) * scale
    best = optimum_design(info)
    star = None if best is None else np.array([best[2][m] for m in metrics]) * scale
    agents = sorted(chosen["agent"].unique())
    colors = _colors(agents)
    seeds = seeds_words(chosen["seed"])
    pooled = {a: _front(g[metrics].to_numpy(dtype=np.float64), sign) * scale for a, g in ok.groupby("agent")}
    panels = not three and ax is None and len(agents) > 1
    if ax is None:
        n = len(agents) + 1 if panels else 1
        cols = 1 if n == 1 else (2 if n <= 4 else 3)
        fig = new_figure(4.4 * cols if n > 1 else 7.0, 3.7 * -(-n // cols) if n > 1 else 5.4)
        axes = [fig.add_subplot(-(-n // cols), cols, i + 1, projection="3d" if three else None) for i in range(n)]
        if panels:
            for a in axes[1:]:
                a.sharex(axes[0])
                a.sharey(axes[0])
    else:
        axes, fig = [ax], ax.figure
    V = ok[metrics].to_numpy(dtype=np.float64) * scale
    # the first (or only) panel: every agent's front pooled over its runs
    main = axes[0]
    main.scatter(*V.T, s=4, c="0.82", alpha=0.5, label=f"evaluated, feasible ({len(V):,})", rasterized=True)
    for agent in agents:
        P = pooled.get(agent, np.zeros((0, len(metrics))))
        main.scatter(*P.T, s=16, color=colors[agent], label=f"{agent} ({len(P)})", zorder=4)
        if not three and len(P):
            main.plot(*P.T, color=colors[agent], lw=0.9, drawstyle=_steps(info, metrics[0]), zorder=4)
    _truth(main, truth, star, three, info, metrics)
    main.set_title(f"all agents: front pooled over each agent's runs ({seeds})", fontsize=8.5)
    # one panel per agent: each run's own front
    run_fronts = []
    for a_ax, agent in zip(axes[1:], agents):
        g = ok[ok["agent"] == agent]
        mine = g[metrics].to_numpy(dtype=np.float64) * scale
        a_ax.scatter(*mine.T, s=4, color=colors[agent], alpha=0.15, rasterized=True, label=f"evaluated ({len(mine):,})")
        runs = list(g.groupby("cell"))
        for i, (_, r) in enumerate(runs):
            P = _front(r[metrics].to_numpy(dtype=np.float64), sign) * scale
            run_fronts.append(P)
            a_ax.plot(*P.T, color=colors[agent], lw=1.0, alpha=0.85, marker=".", ms=4, drawstyle=_steps(info, metrics[0]),
                      label=f"front of each run ({len(runs)})" if i == 0 else None, zorder=4)
        _truth(a_ax, truth, star, three, info, metrics)
        a_ax.set_title(f"{agent} ({how[agent]}): one front per run", fontsize=8.5)
        if not len(g):
            note(a_ax, f"{agent} found no feasible design")
    fronts = list(pooled.values()) + run_fronts + ([truth] if truth is not None else []) + \
        ([star[None, :]] if star is not None else [])
    for a_ax in axes:
        for axis, (text, _), m in zip("xyz", labels, metrics):
            getattr(a_ax, f"set_{axis}label")(text, fontsize=8)
            if three and m not in LINEAR and np.ptp(np.log10(np.maximum(V[:, metrics.index(m)], 1e-300))) > 1:
                getattr(a_ax, f"set_{axis}scale")("log")
        a_ax.legend(fontsize=6.5, loc="best").set_zorder(20)
        a_ax.grid(alpha=0.25, which="both")
        a_ax.tick_params(labelsize=7)
    if not three:
        outside = _zoom(main, fronts, V, [m not in LINEAR for m in metrics])
        if outside:
            main.text(0.99, 0.01, f"zoomed to the fronts: {outside:,} dominated designs lie beyond",
                      transform=main.transAxes, ha="right", va="bottom", fontsize=6.5, color="0.35")
        for a_ax in axes:
            plain_log_ticks(a_ax)
    if not len(V):
        note(main, f"no feasible design among {len(rows):,} evaluations")
    if ax is None:
        why = ground_truth_note(info)
        _headline(fig, label or info.env_id, info, f"Exact front and optimum: {why}." if why else
                  "Black: the exact front (every design enumerated); gold star: the exact optimum of the reward.")
    return fig


def _steps(info, x_metric: str) -> str:
    """The attainment staircase between front points sorted by the x metric."""
    return "steps-post" if direction(info, x_metric) == "min" else "steps-pre"


def _truth(ax, truth, star, three: bool, info, metrics) -> None:
    if truth is not None:
        if three:
            ax.scatter(*truth.T, s=30, facecolors="none", edgecolors="k", lw=0.8, label=f"exact front ({len(truth)})")
        else:
            ax.plot(*truth.T, drawstyle=_steps(info, metrics[0]), label=f"exact front ({len(truth)})", zorder=5, **EXACT)
    if star is not None:
        ax.scatter(*star, label="exact optimum of the reward", **OPTIMUM)


# --- sweeps: hypervolume, the hyper-parameter lottery, success rate ---------------------------------------------
def hypervolume(rows, info, curves=None, ax=None, label: str | None = None):
    """Hypervolume vs evaluations per agent (best setting): median line, IQR band over seeds."""
    curves = hypervolume_curves(rows, info) if curves is None else curves
    ax, own = _axes(ax)
    colors = _colors(curves)
    for agent, (setting, C) in sorted(curves.items()):
        x = np.arange(1, C.shape[1] + 1)
        q1, med, q3 = np.percentile(C, [25, 50, 75], axis=0)
        ax.plot(x, med, color=colors[agent], lw=1.5, label=f"{agent} (setting {setting}, {_runs(len(C))})")
        ax.fill_between(x, q1, q3, color=colors[agent], alpha=0.2, lw=0)
    ax.set_xscale("log")
    plain_log_ticks(ax)
    ax.set_xlabel("evaluations (simulator calls)")
    ax.set_ylabel("hypervolume (objective space of log10 scores)")
    ax.set_title("Hypervolume of the found front: median and IQR over seeds,\neach agent's setting with the highest "
                 "median", fontsize=9)
    if all(np.all(C == 0) for _, C in curves.values()):
        note(ax, "hypervolume is 0 for every agent: no design found dominates the reference point "
                 "(the default design's objectives plus a margin)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    if own:
        _headline(ax.figure, label or info.env_id, info,
                  f"Hypervolume over {', '.join(quantity(m) for m in info.objective['metrics'])} (log10 scores), up to "
                  f"a reference point: the default design's objectives plus a margin.")
    return ax.figure


def lottery(rows, info, cells=None, ax=None, label: str | None = None):
    """Box plot per agent of its settings' final results (median best reward over seeds)."""
    cells = cell_summary(rows, info) if cells is None else cells
    table, per_setting = lottery_table(cells)
    agents = list(table["agent"])
    ax, own = _axes(ax, (max(5.0, 1.1 * len(agents) + 2), 4.6))
    colors = _colors(agents)
    data = [per_setting.loc[per_setting["agent"] == a, "median_best"].to_numpy() for a in agents]
    ax.boxplot(data, whis=(0, 100), widths=0.5, medianprops={"color": "k"})
    rng = np.random.default_rng(0)  # jitter only
    for i, (a, v) in enumerate(zip(agents, data), start=1):
        ax.scatter(i + rng.uniform(-0.15, 0.15, len(v)), v, s=14, color=colors[a], alpha=0.8, zorder=3)
        d = per_setting[(per_setting["agent"] == a) & per_setting["default"]]["median_best"]
        if len(d):
            ax.scatter([i], d, marker="*", s=140, color="gold", edgecolors="k", zorder=4,
                       label="default setting" if not ax.get_legend_handles_labels()[0] else None)
    ax.set_xticks(range(1, len(agents) + 1), [f"{a}\n({n} settings)" for a, n in zip(agents, table["settings"])],
                  fontsize=8)
    ax.set_ylabel("best reward, median over seeds")
    ax.set_title("Hyper-parameter lottery: one point per setting", fontsize=9)
    if (table["settings"] <= 1).all():
        note(ax, "one hyper-parameter setting per agent: there is no lottery to show")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    if own:
        _headline(ax.figure, label or info.env_id, info)
    return ax.figure


def success(rows, info, curves=None, ax=None, label: str | None = None):
    """Share of runs (all settings and seeds) that met the target spec vs evaluations, per agent."""
    curves = success_curves(rows, info) if curves is None else curves
    ax, own = _axes(ax)
    if own:
        _headline(ax.figure, label or info.env_id, info)
    if not curves:
        note(ax, "this env's objective has no target spec, so there is no success rate")
        return ax.figure
    colors = _colors(curves)
    for agent, c in sorted(curves.items()):
        ax.plot(np.arange(1, len(c) + 1), 100 * c, color=colors[agent], label=agent)
    ax.set_xscale("log")
    plain_log_ticks(ax)
    ax.set_ylim(-2, 102)
    ax.set_xlabel("evaluations (simulator calls)")
    ax.set_ylabel("runs that met the target (%)")
    targets = ", ".join(f"{quantity(m)} {'≤' if direction(info, m) == 'min' else '≥'} {with_unit(m, v)}"
                        for m, v in info.target["targets"].items())
    ax.set_title(f"Success rate at the target spec ({targets}),\nall settings and seeds", fontsize=9)
    if all(c[-1] == 0 for c in curves.values()):
        note(ax, f"no run met the target spec within {max(len(c) for c in curves.values()):,} evaluations")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return ax.figure


# --- files ----------------------------------------------------------------------------------------------------------
def draw(kind: str, rows, info, label: str, metrics=None):
    """The figure of one kind for one env's rows."""
    if kind not in KINDS:
        raise unknown("plot", kind, KINDS)
    if metrics is not None and kind != "pareto":
        raise ArchGymError("metrics apply to --pareto plots only")
    if kind == "pareto":
        return pareto(rows, info, metrics, label=label)
    return globals()[kind](rows, info, label=label)


def save(fig, out) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=130, bbox_inches="tight")
    return out


def plot_run(run_dir, kind: str = "convergence", out=None, env: str | None = None, metrics=None) -> Path:
    """Draw one plot of a run to `out` (default RUN_DIR/<kind>.png); returns the path."""
    import archgym
    from archgym.experiments.log import env_infos
    if kind not in KINDS:
        raise unknown("plot", kind, KINDS)
    label, info, rows = env_rows(archgym.load(run_dir), env_infos(run_dir), env)
    if rows.empty:
        raise ArchGymError(f"env {label!r} has no evaluations in {run_dir} yet")
    return save(draw(kind, rows, info, label, metrics), out if out is not None else Path(run_dir) / f"{kind}.png")


def comparison_kinds(rows, info) -> list[str]:
    """The plots that say something for these rows: no lottery with one setting per agent, no
    success rate without a target spec."""
    kinds = ["convergence", "final", "pareto", "hypervolume"]
    if rows.groupby("agent")["setting"].nunique().max() > 1:
        kinds.append("lottery")
    if info.target:
        kinds.append("success")
    return kinds


def plot_all(run_dir, env: str | None = None, show_progress: bool | None = None) -> list[Path]:
    """Every plot that applies (`comparison_kinds`) of one env (default: each env of the run), as
    RUN_DIR/<kind>.png, or RUN_DIR/<env label>_<kind>.png when the run has several envs."""
    import archgym
    from archgym.experiments.log import env_infos
    from archgym.progress import progress
    df, infos = archgym.load(run_dir), env_infos(run_dir)
    labels = [env_rows(df, infos, env)[0]] if env is not None else [k for k in infos if (df["env"] == k).any()]
    if not labels:
        raise ArchGymError(f"{run_dir} has no evaluations yet")
    written = []
    with progress(len(labels) * len(KINDS), f"figures of {run_dir}", "figure", show_progress) as bar:
        for label in labels:
            rows = df[df["env"] == label]
            prefix = "" if len(infos) == 1 else "".join(c if c.isalnum() or c in "-_." else "_" for c in label) + "_"
            kinds = comparison_kinds(rows, infos[label])
            for kind in kinds:
                written.append(save(draw(kind, rows, infos[label], label), Path(run_dir) / f"{prefix}{kind}.png"))
                bar.update(1)
            bar.update(len(KINDS) - len(kinds))
    return written
