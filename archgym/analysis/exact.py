"""Exact ground truth: every design of an enumerable space scored, its optimum and true Pareto front.

Fronts, hypervolumes and regret are in objective space (archgym.core.pareto), measured against the
env's fixed reference point, so every agent and the true front share one box.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from archgym.core.errors import ArchGymError
from archgym.core.pareto import hypervolume, objective_matrix, pareto_mask
from archgym.core.pareto import reference_point as _reference_point
from archgym.progress import progress

EXHAUSTIVE_LIMIT = 1_000_000


def reference_point(env) -> np.ndarray:
    """Hypervolume reference of an env: its default design's objective vector + REF_MARGIN."""
    base = env.unwrapped
    return _reference_point(base.space, base.objective, base.evaluate)


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
    metrics: dict = field(default_factory=dict)  # raw values (N,) of the metrics asked for with `keep`

    @property
    def size(self) -> int:
        return len(self.score)

    @property
    def pareto_front(self) -> np.ndarray:
        """(p, k) objective vectors of the true front."""
        return self.objectives[self.pareto_rows]


def _name(env) -> str:
    spec = getattr(env, "spec", None)
    return spec.id if spec is not None else type(env.unwrapped).__name__


def exhaustive(env, limit: int = EXHAUSTIVE_LIMIT, chunk: int = 65_536, show: bool | None = None,
               keep: Sequence[str] = ()) -> GroundTruth:
    """Enumerate and score every design of `env`'s space (≤ `limit` points) with its batch
    evaluator, in chunks, with progress on stderr (see archgym.progress). Returns the true
    optimum and the true Pareto front, and every design's raw values of the metrics in `keep`."""
    base = env.unwrapped
    space, objective = base.space, base.objective
    if space.size > limit:
        raise ArchGymError(f"env space has {space.size:,} designs, more than the exhaustive limit {limit:,}; "
                           f"use an enumerable variant (e.g. archgym/Systolic-ResNet18-Small-v0) or raise limit")
    idx = space.enumerate_indices(limit)
    score = np.empty(len(idx))
    feasible = np.empty(len(idx), dtype=bool)
    F = np.empty((len(idx), len(objective.metrics)))
    kept = {m: np.empty(len(idx)) for m in keep}
    with progress(len(idx), f"{_name(env)}: enumerating every design", "design", show) as bar:
        for lo in range(0, len(idx), chunk):
            out = base.evaluate(idx[lo:lo + chunk])
            score[lo:lo + chunk] = objective.scalarize(out["reward"])
            feasible[lo:lo + chunk] = out["feasible"]
            F[lo:lo + chunk] = objective_matrix(objective, out)
            for m, values in kept.items():
                values[lo:lo + chunk] = out[m]
            bar.update(len(out["feasible"]))
    best = int(np.argmax(score))
    best_out = base.evaluate(idx[best:best + 1])
    metrics = {k: float(v[0]) for k, v in best_out.items() if k not in ("reward", "feasible")}
    ref = reference_point(env)
    rows = np.flatnonzero(pareto_mask(F, feasible))
    return GroundTruth(idx, score, feasible, F, best, space.from_indices(idx[best]), float(score[best]),
                       metrics, rows, ref, hypervolume(F[rows], ref), kept)


def streaming_exact(env, chunk: int = 1 << 17, show: bool | None = None) -> dict:
    """Evaluate every design of a (finite) env space in chunks, with progress on stderr (see
    archgym.progress). Returns the best design under the env's objective, the number of designs meeting the spec, and the accuracy-versus-latency front
    of the designs within every other limit (latency_s, accuracy arrays, latency ascending)."""
    base = env.unwrapped
    space, objective = base.space, base.objective
    acc = objective.optimize
    other = {k: v for k, v in objective.limits.items() if k != "latency_s"}
    best_reward, best_idx, n_ok = -np.inf, None, 0
    front_lat, front_acc = np.zeros(0), np.zeros(0)
    with progress(space.size, f"{_name(env)}: enumerating every design", "design", show) as bar:
        for lo in range(0, space.size, chunk):
            idx = np.stack(np.unravel_index(np.arange(lo, min(lo + chunk, space.size)), space.nvec), axis=1)
            out = base.evaluate(idx)
            i = int(np.argmax(out["reward"]))
            if out["reward"][i] > best_reward:
                best_reward, best_idx = float(out["reward"][i]), idx[i]
            n_ok += int(objective.success(out, out["feasible"]).sum())
            keep = out["feasible"] & (objective.violation(out, other) == 0)
            front_lat, front_acc = pareto_2d(np.r_[front_lat, out["latency_s"][keep]], np.r_[front_acc, out[acc][keep]])
            bar.update(len(idx))
    return {"design": space.from_indices(best_idx), "reward": best_reward, "n_meeting_spec": n_ok,
            "size": space.size, "front": (front_lat, front_acc)}


def pareto_2d(latency: np.ndarray, accuracy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-dominated (lower latency, higher accuracy) points, by ascending latency."""
    order = np.lexsort((-accuracy, latency))
    lat, acc = latency[order], accuracy[order]
    keep = acc > np.maximum.accumulate(np.r_[-np.inf, acc[:-1]])
    return lat[keep], acc[keep]
