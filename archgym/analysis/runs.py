"""Statistics of a run's evaluation log: per-cell results, the hyper-parameter lottery, hypervolume
and success curves, and the exact optimum and front of each env (when its space is enumerable).

`archgym.report` draws these; nothing here draws.
"""
from __future__ import annotations

import json
from functools import lru_cache

import numpy as np

from archgym.analysis.exact import EXHAUSTIVE_LIMIT, exhaustive
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


@lru_cache(maxsize=8)
def _true_pareto_cached(env_id: str, kwargs_json: str, metrics: tuple, directions: tuple) -> np.ndarray:
    import gymnasium as gym
    import archgym  # noqa: F401
    objective = {"mode": "vector", "metrics": list(metrics), "directions": dict(zip(metrics, directions))}
    env = gym.make(env_id, **json.loads(kwargs_json), objective=objective)
    gt = exhaustive(env)
    out = env.unwrapped.evaluate(gt.indices[gt.pareto_rows])
    return np.unique(np.stack([out[m] for m in metrics], axis=1), axis=0)


def true_pareto(info, metrics: tuple) -> np.ndarray | None:
    """Raw metric values of the true front over `metrics`, or None if the space is too large to
    enumerate or the env changed since the run (see `ground_truth_note`)."""
    if ground_truth_note(info):
        return None
    return _true_pareto_cached(info.env_id, json.dumps(info.kwargs, sort_keys=True), tuple(metrics),
                               tuple(direction(info, m) for m in metrics))


@lru_cache(maxsize=8)
def _optimum_cached(env_id: str, kwargs_json: str, objective_json: str) -> float:
    import gymnasium as gym
    import archgym  # noqa: F401
    env = gym.make(env_id, **json.loads(kwargs_json), objective=json.loads(objective_json))
    return exhaustive(env).best_score


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
