"""Statistics of a run's evaluation log: per-cell results, the hyper-parameter lottery, hypervolume
and success curves, and the exact optimum and front of each env (when its space is enumerable).

`archgym.report` draws these; nothing here draws.
"""
from __future__ import annotations

import json
from functools import lru_cache

import numpy as np

from archgym.analysis.exact import EXHAUSTIVE_LIMIT, exhaustive
from archgym.analysis.stats import median_ci
from archgym.core import pareto
from archgym.core.errors import ArchGymError, unknown
from archgym.core.objectives import MAXIMISED, Objective


def direction(info, metric: str) -> str:
    return info.objective.get("directions", {}).get(metric, "max" if metric in MAXIMISED else "min")


def objective_space(info, metrics=None) -> Objective:
    """A vector Objective over `metrics` (default: the env's objective metrics), for objective space."""
    metrics = list(metrics or info.objective["metrics"])
    return Objective("vector", metrics, directions={m: direction(info, m) for m in metrics})


def env_rows(df, infos: dict, env: str | None):
    """(label, EnvInfo, rows of that env); the first env when `env` is None."""
    if not infos:
        raise ArchGymError("the run has no envs yet")
    label = env if env is not None else next(iter(infos))
    if label not in infos:
        raise unknown("env of this run", label, list(infos))
    return label, infos[label], df[df["env"] == label]


def cell_summary(rows, info):
    """Per cell: agent, family, setting, hparams, seed, best reward, final hypervolume."""
    obj = objective_space(info)
    ref = np.asarray(info.ref_point)
    out = []
    for cell, g in rows.groupby("cell", sort=False):
        F = pareto.objective_matrix(obj, {m: g[m].to_numpy() for m in obj.metrics})
        ok = g["feasible"].to_numpy()
        hv = pareto.hypervolume(F[pareto.pareto_mask(F, ok)], ref)
        first = g.iloc[0]
        out.append({"cell": cell, "agent": first["agent"], "family": first["family"], "setting": int(first["setting"]),
                    "hparams": first["hparams"], "seed": int(first["seed"]), "best_reward": float(g["reward"].max()),
                    "final_hv": hv, "evaluations": len(g)})
    import pandas as pd
    return pd.DataFrame(out)


def _defaults(agent: str) -> dict | None:
    from archgym.experiments.spec import agent_class
    try:
        return {h.name: h.default for h in agent_class(agent).hyperparams}
    except (ArchGymError, ImportError):
        return None


def _is_default(agent: str, hparams: str) -> bool:
    from archgym.experiments.spec import canonical
    defaults = _defaults(agent)
    return defaults is not None and canonical(defaults) == canonical(json.loads(hparams))


def setting_words(agent: str, hparams: str) -> str:
    """The hyper-parameters of a setting that differ from the agent's defaults: 'population=16'."""
    defaults = _defaults(agent) or {}
    changed = {k: v for k, v in json.loads(hparams).items() if defaults.get(k, object()) != v}
    return ", ".join(f"{k}={v}" for k, v in changed.items()) or "default setting"


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
    obj = objective_space(info)
    ref = np.asarray(info.ref_point)
    out = {}
    for agent, g in cells.groupby("agent"):
        setting = g.groupby("setting")["final_hv"].median().idxmax()
        curves = []
        for cell in g.loc[g["setting"] == setting, "cell"]:
            r = rows[rows["cell"] == cell].sort_values("step")
            F = pareto.objective_matrix(obj, {m: r[m].to_numpy() for m in obj.metrics})
            curves.append(pareto.hypervolume_curve(F, ref, r["feasible"].to_numpy()))
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
    obj = Objective("target", list(targets), targets=targets, directions={m: direction(info, m) for m in targets})
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
    if info.size > EXHAUSTIVE_LIMIT:
        return "space too large to enumerate"
    why = stale(info)
    return f"not shown, the env changed since the run: {why}" if why else ""


@lru_cache(maxsize=4)
def _enumerated(env_id: str, kwargs_json: str, objective_json: str, keep: tuple) -> dict:
    """One enumeration of a space under the run's objective: its optimum, feasibility and the
    raw values of the metrics in `keep` for every design."""
    import gymnasium as gym

    import archgym  # noqa: F401
    env = gym.make(env_id, **json.loads(kwargs_json), objective=json.loads(objective_json))
    gt = exhaustive(env, keep=keep)
    return {"optimum": (gt.best_score, gt.best_design, gt.best_metrics), "feasible": gt.feasible, "metrics": gt.metrics}


def _enumeration(info, metrics=()) -> dict | None:
    """The cached enumeration of the run's env, keeping its objective and Pareto metrics (and
    `metrics`); None if the space is too large to enumerate or the env changed since the run."""
    if ground_truth_note(info):
        return None
    keep = tuple(sorted(set(info.objective["metrics"]) | set(info.pareto) | set(metrics)))
    return _enumerated(info.env_id, json.dumps(info.kwargs, sort_keys=True), json.dumps(info.objective, sort_keys=True),
                       keep)


def true_pareto(info, metrics: tuple) -> np.ndarray | None:
    """Raw metric values of the true front over `metrics` (distinct points), or None if the space
    is too large to enumerate or the env changed since the run (see `ground_truth_note`)."""
    data = _enumeration(info, metrics)
    if data is None:
        return None
    P = np.stack([data["metrics"][m] for m in metrics], axis=1)
    sign = np.array([1.0 if direction(info, m) == "min" else -1.0 for m in metrics])
    return np.unique(P[pareto.pareto_mask(P * sign, data["feasible"])], axis=0)


def true_optimum(info) -> float | None:
    """The best scalar reward over the whole space under the run's objective (None if the space is
    too large to enumerate or the env changed since the run)."""
    best = optimum_design(info)
    return None if best is None else best[0]


def optimum_design(info) -> tuple[float, dict, dict] | None:
    """(best scalar reward, its design, its metrics) over the whole space under the run's
    objective; None if the space is too large to enumerate or the env changed since the run."""
    data = _enumeration(info)
    return None if data is None else data["optimum"]


def objective_of(info) -> Objective:
    """The run's Objective for an env, rebuilt from its log record."""
    cfg = dict(info.objective)
    return Objective(cfg.pop("mode"), **cfg)


# --- the comparison of agents: best so far, regret and final results over seeds -----------------------------------
def comparison_cells(cells) -> tuple:
    """The cells that stand for each agent in a comparison, and how they were chosen: its default
    setting's cells when the run has them, else all its cells (every setting pooled). No setting is
    picked by its results on the reported seeds. Returns (cells, {agent: words})."""
    _, per_setting = lottery_table(cells)
    keep, how = [], {}
    for agent, g in cells.groupby("agent"):
        settings = per_setting[per_setting["agent"] == agent]
        default = settings.loc[settings["default"], "setting"]
        n = len(settings)
        if len(default):
            keep.append(g[g["setting"] == int(default.iloc[0])])
            how[agent] = "default setting"
        else:
            keep.append(g)
            how[agent] = f"all {n} settings pooled" if n > 1 else setting_words(agent, settings["hparams"].iloc[0])
    import pandas as pd
    return pd.concat(keep, ignore_index=True), how


def best_so_far_curves(rows, cells) -> dict:
    """agent -> (cells, evaluations) array of the best scalar reward after each evaluation, for
    the given cells (e.g. from `comparison_cells`); curves are cut to the shortest cell."""
    keep = rows[rows["cell"].isin(set(cells["cell"]))].sort_values(["cell", "step"])
    best = keep.groupby("cell", sort=False)["reward"].cummax().to_numpy()
    out = {}
    owner = dict(zip(cells["cell"], cells["agent"]))
    for agent in sorted(set(owner.values())):
        curves = [best[(keep["cell"] == c).to_numpy()] for c in cells.loc[cells["agent"] == agent, "cell"]]
        n = min(len(c) for c in curves)
        out[agent] = np.stack([c[:n] for c in curves])
    return out


def regret_pct(reward, optimum: float, info) -> np.ndarray:
    """Regret in % of the optimum (archgym.core.pareto.gap): 0 at the optimum; 100 = a factor 2 worse."""
    return 100 * np.maximum(pareto.gap(np.asarray(reward, dtype=np.float64), optimum, objective_of(info)), 0.0)


def comparison_table(cells, how: dict, optimum: float | None, info):
    """Per agent (over the comparison cells): cells, seeds, final best reward (median, IQR), and
    with a known optimum the final regret in % (median and 95% bootstrap interval) and how many
    cells reached the optimum."""
    import pandas as pd
    out = []
    for agent, g in cells.groupby("agent"):
        r = g["best_reward"].to_numpy()
        q1, q3 = np.percentile(r, [25, 75])
        row = {"agent": agent, "runs of": how[agent], "runs": len(g), "seeds": int(g["seed"].nunique()),
               "final reward, median": float(np.median(r)), "final reward, IQR": float(q3 - q1)}
        if optimum is not None:
            reg = regret_pct(r, optimum, info)
            med, lo, hi = median_ci(reg)
            row.update({"final regret %, median": med, "regret 95% CI, low": lo, "regret 95% CI, high": hi,
                        "runs at the optimum": int((reg <= 1e-9).sum())})
        out.append(row)
    key = "final regret %, median" if optimum is not None else "final reward, median"
    return pd.DataFrame(out).sort_values(key, ascending=optimum is not None).reset_index(drop=True)
