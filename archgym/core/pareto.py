"""Pareto fronts, hypervolume and regret in objective space (numpy and moocore only).

Pareto fronts and hypervolumes live in the *objective space*: one column per objective metric,
oriented for minimisation and on the objective's own scale (log10 for metrics with units, linear for
fractions; see `archgym.core.objectives`), so a decade of latency weighs the same in every env. Only
feasible designs enter a front. The hypervolume reference point of an env is its default design plus
REF_MARGIN in every objective (see `archgym.analysis.exact.reference_point`).

Non-dominated filtering and hypervolume come from moocore (the C library behind pymoo's HV
indicator): exact in any dimension and fast enough for a 10^6-point front check.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from archgym.core.objectives import LINEAR, Objective

REF_MARGIN = 1.0  # reference point = default design + one decade (or 1.0 of a fraction) per objective


def objective_matrix(objective: Objective, metrics: Mapping[str, np.ndarray]) -> np.ndarray:
    """(n, k) objective values to minimise: minus each metric's score (log10 or linear)."""
    return np.stack([-objective.score(m, metrics[m]) for m in objective.metrics], axis=1)


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


def best_so_far(score: np.ndarray) -> np.ndarray:
    """Running maximum of the scalar reward."""
    return np.maximum.accumulate(np.asarray(score, dtype=np.float64))


def gap(found: np.ndarray | float, optimum: float, objective: Objective) -> np.ndarray | float:
    """Relative shortfall of `found` against the true `optimum` (0 at the optimum; 0.05 = 5%).

    Rewards are log10-scored (see archgym.core.objectives), so a reward difference d is a factor
    10**d on the scalarised metric (EDP, EDAP, the product of target overshoots...): the gap is
    10**d - 1. A `constraint` objective on a fraction (e.g. accuracy) compares it relatively.
    """
    d = optimum - np.asarray(found, dtype=np.float64)
    if objective.mode == "constraint" and objective.optimize in LINEAR:
        return d / max(abs(optimum), 1e-12)
    return np.expm1(np.minimum(d, 300.0) * np.log(10.0))


def reference_point(space, objective: Objective, evaluate) -> np.ndarray:
    """Hypervolume reference of a search problem: the objective vector of the space's default
    design + REF_MARGIN. `evaluate(index_array) -> metrics` is the env's batch evaluator; this one
    bookkeeping evaluation is outside any search budget."""
    out = evaluate(space.to_indices(space.default())[None, :])
    return objective_matrix(objective, out)[0] + REF_MARGIN
