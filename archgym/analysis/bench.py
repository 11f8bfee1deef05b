"""Results of a benchmark run: regret against the exact optimum, front quality against the exact
front, evaluations-to-target, distinct designs, the statistics that rank agents, and overhead.

Regret of a search after b evaluations is `archgym.core.pareto.gap` of the best design among its
first b evaluations against the task's exact optimum (0.05 = the scalarised metric is 5% worse; a
relative accuracy shortfall for accuracy objectives). On a multi-objective task it is the relative
hypervolume gap 1 - HV/HV*, against the exact front's HV*, with IGD+ beside it. "Within 1%" means
regret <= 0.01. Everything is computed from the run's evaluation log; nothing is re-simulated.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from archgym.analysis import stats
from archgym.analysis.runs import _is_default, objective_space, stale
from archgym.analysis.truth import Truth, task_truth
from archgym.core import pareto
from archgym.core.errors import ArchGymError

SEPARATION_P = 0.01  # Holm-corrected p below which two agents count as separated
ECDF_POINTS = 200    # budgets (log-spaced) at which runtime ECDFs are evaluated


@dataclass
class TaskResult:
    """One task of a run: per-cell outcomes (`cells`), per-label regret curves, and the truth."""
    task: object                       # archgym.experiments.bench.Task
    truth: Truth
    budget: int
    checkpoints: list
    cells: object                      # DataFrame, one row per cell
    curves: dict = field(default_factory=dict)    # label -> (runs, budget) regret after each evaluation
    distinct: dict = field(default_factory=dict)  # label -> (runs, budget) distinct designs evaluated

    @property
    def labels(self) -> list[str]:
        return list(self.curves)

    def regret_at(self, label: str, b: int) -> np.ndarray:
        return self.curves[label][:, b - 1]

    def summary(self, seed: int = 0):
        """One row per label: family, runs, median regret and bootstrap 95% interval at every
        checkpoint, runs within each target at the budget, distinct designs, mean rank."""
        import pandas as pd
        final = {lab: self.regret_at(lab, self.budget) for lab in self.labels}
        ranks = stats.mean_ranks(final)
        rows = []
        for lab in self.labels:
            c = self.cells[self.cells["label"] == lab]
            row = {"agent": lab, "family": c["family"].iloc[0], "runs": len(c)}
            for b in self.checkpoints:
                med, lo, hi = stats.median_ci(self.regret_at(lab, b), seed)
                row[f"regret@{b}"], row[f"lo@{b}"], row[f"hi@{b}"] = med, lo, hi
            for t in TARGETS:
                row[f"within {t:.0%}"] = int(np.sum(final[lab] <= t))
            row["distinct@budget"] = float(np.median(self.distinct[lab][:, -1]))
            row["mean rank"] = ranks[lab]
            if self.task.multi_objective:
                row["IGD+@budget"] = float(np.median(c[f"igd@{self.budget}"]))
            rows.append(row)
        return pd.DataFrame(rows).sort_values(["mean rank", "agent"]).reset_index(drop=True)

    def tests(self, b: int):
        """Pairwise Mann-Whitney tests on regret at budget b, Holm-corrected over all pairs."""
        df = stats.pairwise_tests({lab: self.regret_at(lab, b) for lab in self.labels})
        fam = dict(zip(self.cells["label"], self.cells["family"]))
        df["families"] = [f"{fam[a]}/{fam[b_]}" for a, b_ in zip(df["a"], df["b"])]
        df["cross_family"] = [fam[a] != fam[b_] for a, b_ in zip(df["a"], df["b"])]
        return df

    def separation(self) -> dict:
        """The most significant cross-family pair over the checkpoints, and how many cross-family
        pairs are separated (Holm p < SEPARATION_P) at each checkpoint."""
        best, counts = None, {}
        for b in self.checkpoints:
            df = self.tests(b)
            cross = df[df["cross_family"]]
            counts[b] = int(np.sum(cross["p_holm"] < SEPARATION_P))
            if len(cross):
                r = cross.loc[cross["p_holm"].idxmin()]
                if best is None or r["p_holm"] < best["p_holm"]:
                    best = {"budget": b, "a": r["a"], "b": r["b"], "p_holm": float(r["p_holm"]),
                            "a_better": float(r["a_better"])}
        return {"best": best, "separated_pairs": counts}

    def top_group(self, b: int) -> list[str]:
        """Labels not separated from the label with the lowest median regret at budget b (Holm p >=
        SEPARATION_P over all pairs at b), best first."""
        med = {lab: float(np.median(self.regret_at(lab, b))) for lab in self.labels}
        best = min(med, key=lambda lab: (med[lab], lab))
        df = self.tests(b)
        vs = df[(df["a"] == best) | (df["b"] == best)]
        tied = {a if b_ == best else b_ for a, b_, p in zip(vs["a"], vs["b"], vs["p_holm"]) if p >= SEPARATION_P}
        return [best] + sorted(tied, key=lambda lab: (med[lab], lab))

    def compare(self, a: str, b: str, budget: int | None = None) -> dict | None:
        """The Holm-corrected test of labels a vs b at `budget` (default: the full budget), or None."""
        if a not in self.curves or b not in self.curves:
            return None
        df = self.tests(budget or self.budget)
        row = df[((df["a"] == a) & (df["b"] == b)) | ((df["a"] == b) & (df["b"] == a))].iloc[0]
        a_better = float(row["a_better"]) if row["a"] == a else 1 - float(row["a_better"])
        return {"p_holm": float(row["p_holm"]), "a_better": a_better,
                "a": float(np.median(self.regret_at(a, budget or self.budget))),
                "b": float(np.median(self.regret_at(b, budget or self.budget)))}

    def ecdf(self, target: float, grid: np.ndarray) -> dict:
        """label -> share of runs within `target` regret after each budget in `grid` (COCO-style)."""
        return {lab: stats.runtime_ecdf(stats.first_hits(self.curves[lab], target), self.budget, grid)
                for lab in self.labels}

    def overhead(self):
        """Per label: median agent time and wall time per evaluation as ratios to random search's
        medians in the same run (NaN without random); times themselves are machine-dependent."""
        import pandas as pd
        per = self.cells.groupby("label").agg(agent_ms=("agent_ms", "median"), wall_ms=("wall_ms", "median"))
        if "random" not in per.index:
            per["agent_ratio"] = per["wall_ratio"] = np.nan
        else:
            per["agent_ratio"] = per["agent_ms"] / per.loc["random", "agent_ms"]
            per["wall_ratio"] = per["wall_ms"] / per.loc["random", "wall_ms"]
        return pd.DataFrame(per).reset_index()


TARGETS = (0.01, 0.05)
# Comparisons the docs discuss: the MARL paper's claim (MARL beats PPO on DRAM controllers), and
# whether model-based and population-based searchers beat the honest baselines.
PAIRS = (("marl", "ppo"), ("hill_climbing", "random"), ("one_plus_one_ea", "random"), ("tpe", "hill_climbing"),
         ("ga", "hill_climbing"), ("aco", "hill_climbing"), ("sa", "hill_climbing"))


def budget_grid(budget: int) -> np.ndarray:
    return np.unique(np.geomspace(1, budget, ECDF_POINTS).round().astype(int))


def load_results(run_dirs, suite, report=None) -> dict[str, TaskResult]:
    """task name -> TaskResult for every task of the run(s) at `run_dirs` (one directory or a list,
    merged task by task; tasks named as in `suite`). A list entry may be (directory, keep), where
    `keep(rows) -> mask` selects that run's rows (e.g. some agents of another run)."""
    import archgym
    import pandas as pd
    from archgym.experiments.log import cells as cell_table, env_infos
    entries = [e if isinstance(e, tuple) else (e, None) for e in (run_dirs if isinstance(run_dirs, list) else [run_dirs])]
    dirs = [d for d, _ in entries]
    rows_of, infos, walls = {}, {}, []
    for d, keep in entries:
        df = archgym.load(d)
        if keep is not None:
            df = df[keep(df)]
        walls.append(cell_table(d).set_index("cell")["wall_time_s"])
        for label, info in env_infos(d).items():
            rows = df[df["env"] == label]
            if rows.empty:
                continue
            why = stale(info)
            if why:
                raise ArchGymError(f"task {label!r} changed since the run in {d} ({why}); its exact optimum "
                                   f"would not match the log: rerun the benchmark into a new --out directory")
            if label in infos and (infos[label].params, infos[label].objective) != (info.params, info.objective):
                raise ArchGymError(f"task {label!r} differs between {dirs[0]} and {d}; they cannot be merged")
            infos.setdefault(label, info)
            rows_of.setdefault(label, []).append(rows[~rows["cell"].isin(set().union(*[set(r["cell"]) for r in rows_of.get(label, [])]))])
    wall = pd.concat(walls)
    wall = wall[~wall.index.duplicated()]
    out = {}
    for label, parts in rows_of.items():
        task = suite.task(label)
        out[label] = _task_result(task, task_truth(task, report=report), infos[label], pd.concat(parts), wall)
    return out


def _task_result(task, truth: Truth, info, rows, walls) -> TaskResult:
    import pandas as pd
    objective = task.make().unwrapped.objective
    budget = int(rows.groupby("cell")["step"].max().max()) + 1
    checkpoints = task.checkpoints_for(budget)
    design_cols = [p["name"] for p in info.params]
    space = objective_space(info)
    ref = np.asarray(truth.ref_point)
    true_front = truth.front_array
    records, curves, distinct = [], {}, {}
    # cells in seed order, not the log's order: a resumed run appends cells, and bootstrap resamples by position
    for cell, g in rows.sort_values(["seed", "cell", "step"]).groupby("cell", sort=False):
        n = len(g)
        if n != budget:
            raise ArchGymError(f"task {task.name!r}: cell {cell} has {n} evaluations, not {budget}; "
                               f"compare runs of one budget")
        label = g["agent"].iloc[0] + ("" if _is_default(g["agent"].iloc[0], g["hparams"].iloc[0]) else " (tuned)")
        rec = {"cell": cell, "label": label, "agent": g["agent"].iloc[0], "family": g["family"].iloc[0],
               "hparams": g["hparams"].iloc[0], "seed": int(g["seed"].iloc[0]),
               "agent_ms": 1e3 * g["agent_time_s"].sum() / n, "wall_ms": 1e3 * float(walls.get(cell, np.nan)) / n}
        if task.multi_objective:
            F = pareto.objective_matrix(space, {m: g[m].to_numpy() for m in space.metrics})
            ok = g["feasible"].to_numpy()
            curve = 1.0 - pareto.hypervolume_curve(F, ref, ok) / truth.hypervolume
            for b in checkpoints:
                front = F[:b][pareto.pareto_mask(F[:b], ok[:b])]
                rec[f"igd@{b}"] = stats.igd_plus(front, true_front)
        else:
            curve = pareto.gap(pareto.best_so_far(g["reward"].to_numpy()), truth.optimum, objective)
        rec["regret"] = float(max(curve[-1], 0.0))
        seen = np.cumsum(~g[design_cols].astype(str).duplicated().to_numpy())
        curves.setdefault(label, []).append(np.maximum(curve, 0.0))
        distinct.setdefault(label, []).append(seen)
        records.append(rec)
    cells = pd.DataFrame(records)
    order = sorted(curves, key=lambda lab: (cells.loc[cells["label"] == lab, "family"].iloc[0], lab))
    return TaskResult(task, truth, budget, checkpoints, cells, {lab: np.stack(curves[lab]) for lab in order},
                      {lab: np.stack(distinct[lab]) for lab in order})


def leaderboard(results: dict[str, TaskResult]) -> dict:
    """Everything the leaderboard shows, as plain data (deterministic: no timings): per task the
    summary table, the landscape, the truth and the separation; over tasks the rank table."""
    per_task, out = {}, {"tasks": {}}
    for name, r in results.items():
        per_task[name] = {lab: r.regret_at(lab, r.budget) for lab in r.labels}
        out["tasks"][name] = {"summary": r.summary().to_dict(orient="records"), "landscape": r.truth.landscape,
                              "optimum": r.truth.optimum, "best_design": r.truth.best_design,
                              "size": r.truth.size, "budget": r.budget, "checkpoints": r.checkpoints,
                              "multi_objective": r.task.multi_objective, "separation": r.separation(),
                              "id": r.task.id, "kwargs": r.task.kwargs, "objective": r.task.objective,
                              "about": r.task.about, "top_group": r.top_group(r.budget),
                              "pairs": {f"{a} vs {b}": r.compare(a, b) for a, b in PAIRS}}
    if len(per_task) >= 1:
        table, p, cd = stats.rank_table(per_task)
        out["ranking"] = {"table": table.reset_index(names="agent").to_dict(orient="records"), "friedman_p": p,
                          "critical_difference": cd, "tasks": len(per_task)}
    return out


def to_json(data) -> str:
    return json.dumps(data, indent=1, sort_keys=True, default=json_plain)


def json_plain(v):
    """json.dumps `default=`: numpy scalars and arrays as Python numbers and lists."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(f"{type(v).__name__} is not JSON-serialisable")
