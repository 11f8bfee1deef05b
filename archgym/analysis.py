"""Analysis: ground truth by exhaustive enumeration, Pareto fronts, hypervolume, regret.

Pareto fronts and hypervolumes live in the *objective space*: one column per objective metric,
oriented for minimisation and on the objective's own scale (log10 for metrics with units, linear for
fractions; see `archgym.objectives`), so a decade of latency weighs the same in every env. Only
feasible designs enter a front. The hypervolume reference point is the space's default design plus
one unit (one decade) in every objective, fixed per env so that every agent and the true front are
measured against the same box.

Non-dominated filtering and hypervolume come from moocore (the C library behind pymoo's HV
indicator): exact in any dimension and fast enough for a 10^6-point front check.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from archgym.errors import ArchGymError
from archgym.objectives import LINEAR, Objective

EXHAUSTIVE_LIMIT = 1_000_000
REF_MARGIN = 1.0  # reference point = default design + one decade (or 1.0 of a fraction) per objective


# --- objective space -------------------------------------------------------------------------------
def objective_matrix(objective: Objective, metrics: Mapping[str, np.ndarray]) -> np.ndarray:
    """(n, k) objective values to minimise: minus each metric's score (log10 or linear)."""
    return np.stack([-objective.score(m, metrics[m]) for m in objective.metrics], axis=1)


def reference_point(env) -> np.ndarray:
    """Hypervolume reference of an env: its default design's objective vector + REF_MARGIN.
    (One bookkeeping evaluation, outside any search budget.)"""
    base = env.unwrapped
    out = base.evaluate([base.space.default()])
    return objective_matrix(base.objective, out)[0] + REF_MARGIN


# --- Pareto fronts and hypervolume ------------------------------------------------------------------
def pareto_mask(F: np.ndarray, feasible: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of the non-dominated rows of F (minimisation), among the feasible rows.
    Duplicated optimal points are all kept."""
    import moocore
    F = np.asarray(F, dtype=np.float64)
    rows = np.arange(len(F)) if feasible is None else np.flatnonzero(feasible)
    mask = np.zeros(len(F), dtype=bool)
    if len(rows):
        mask[rows[moocore.is_nondominated(F[rows], keep_weakly=True)]] = True
    return mask


def hypervolume(F: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume dominated by the rows of F (minimisation) and bounded by `ref`."""
    import moocore
    F = np.asarray(F, dtype=np.float64).reshape(-1, len(ref))
    F = F[np.all(F < ref, axis=1)]
    if len(F) == 0:
        return 0.0
    return float(moocore.hypervolume(F, ref=np.asarray(ref, dtype=np.float64)))


def hypervolume_curve(F: np.ndarray, ref: np.ndarray, feasible: np.ndarray | None = None) -> np.ndarray:
    """Hypervolume of the first i+1 rows, for every i; recomputed only when the front grows."""
    F = np.asarray(F, dtype=np.float64)
    ok = np.ones(len(F), dtype=bool) if feasible is None else np.asarray(feasible, dtype=bool)
    inside = ok & np.all(F < ref, axis=1)
    out = np.zeros(len(F))
    front = np.empty((0, F.shape[1]))
    hv = 0.0
    for i in range(len(F)):
        if inside[i] and not np.any(np.all(front <= F[i], axis=1)):  # not weakly dominated
            front = np.vstack([front[~np.all(F[i] <= front, axis=1)], F[i]])
            hv = hypervolume(front, ref)
        out[i] = hv
    return out


# --- regret --------------------------------------------------------------------------------------------
def best_so_far(score: np.ndarray) -> np.ndarray:
    """Running maximum of the scalar reward."""
    return np.maximum.accumulate(np.asarray(score, dtype=np.float64))


def gap(found: np.ndarray | float, optimum: float, objective: Objective) -> np.ndarray | float:
    """Relative shortfall of `found` against the true `optimum` (0 at the optimum; 0.05 = 5%).

    Rewards are log10-scored (see archgym.objectives), so a reward difference d is a factor 10**d
    on the scalarised metric (EDP, EDAP, the product of target overshoots...): the gap is
    10**d - 1. A `constraint` objective on a fraction (e.g. utilisation) compares it relatively.
    """
    d = optimum - np.asarray(found, dtype=np.float64)
    if objective.mode == "constraint" and objective.optimize in LINEAR:
        return d / max(abs(optimum), 1e-12)
    return np.expm1(np.minimum(d, 300.0) * np.log(10.0))


# --- ground truth -----------------------------------------------------------------------------------
@dataclass
class GroundTruth:
    """Every design of a space, scored: the true optimum of the scalar reward and the true front."""
    indices: np.ndarray          # (N, n_params) every design, row-major
    score: np.ndarray            # (N,) scalarised reward
    feasible: np.ndarray         # (N,) bool
    objectives: np.ndarray       # (N, k) objective matrix (minimisation)
    best_row: int
    best_design: dict
    best_score: float
    best_metrics: dict
    pareto_rows: np.ndarray      # rows of the true Pareto front (feasible, non-dominated)
    ref_point: np.ndarray
    hypervolume: float           # of the true front

    @property
    def size(self) -> int:
        return len(self.score)

    @property
    def pareto_front(self) -> np.ndarray:
        """(p, k) objective vectors of the true front."""
        return self.objectives[self.pareto_rows]


def exhaustive(env, limit: int = EXHAUSTIVE_LIMIT, chunk: int = 65_536) -> GroundTruth:
    """Enumerate and score every design of `env`'s space (≤ `limit` points) with its batch
    evaluator, in chunks. Returns the true optimum and the true Pareto front."""
    base = env.unwrapped
    space, objective = base.space, base.objective
    if space.size > limit:
        raise ArchGymError(f"env space has {space.size:,} designs, more than the exhaustive limit {limit:,}; "
                           f"use an enumerable variant (e.g. archgym/Systolic-ResNet18-Small-v0) or raise limit")
    idx = space.enumerate_indices(limit)
    score = np.empty(len(idx))
    feasible = np.empty(len(idx), dtype=bool)
    F = np.empty((len(idx), len(objective.metrics)))
    for lo in range(0, len(idx), chunk):
        out = base.evaluate(idx[lo:lo + chunk])
        score[lo:lo + chunk] = objective.scalarize(out["reward"])
        feasible[lo:lo + chunk] = out["feasible"]
        F[lo:lo + chunk] = objective_matrix(objective, out)
    best = int(np.argmax(score))
    best_out = base.evaluate(idx[best:best + 1])
    metrics = {k: float(v[0]) for k, v in best_out.items() if k not in ("reward", "feasible")}
    ref = reference_point(env)
    rows = np.flatnonzero(pareto_mask(F, feasible))
    return GroundTruth(idx, score, feasible, F, best, space.from_indices(idx[best]), float(score[best]),
                       metrics, rows, ref, hypervolume(F[rows], ref))
