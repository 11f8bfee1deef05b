"""Exact ground truth: every design of an enumerable space scored, its optimum and true Pareto front.

`exhaustive` keeps every scored design (spaces up to a million); `exact_front` streams spaces of
tens of millions (NAS-Bench-201 x hardware) in chunks, keeps only the optimum, the exact front and
counts, and caches them by a fingerprint of the env and its model. Fronts, hypervolumes and
regret are in objective space (archgym.core.pareto), measured against the env's fixed reference
point, so every agent and the true front share one box.
"""
from __future__ import annotations

from collections.abc import Sequence
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numba import njit, prange

from archgym.core.errors import ArchGymError
from archgym.core.objectives import Objective
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


@dataclass
class ExactFront:
    """Every design of a (finite) env space scored, streamed: the optimum of the env's scalar
    reward, how many designs meet its spec, the exact Pareto front over the env's vector metrics
    (`objective_defaults["metrics"]`, feasible designs only, in objective space) and the
    accuracy-versus-latency front of the designs within every other limit (for plots)."""
    fingerprint: str
    size: int
    metrics: tuple[str, ...]         # the front's metrics (vector objective)
    best_index: np.ndarray           # (n_params,) the best design under the env's objective
    best_score: float
    n_meeting_spec: int
    front_indices: np.ndarray        # (p, n_params) designs on the exact front
    front: np.ndarray                # (p, k) their objective vectors (minimisation; see core.pareto)
    ref_point: np.ndarray
    hypervolume: float
    latency_front: tuple[np.ndarray, np.ndarray]  # (latency_s, optimised metric), latency ascending
    seconds: float

    def design(self, space) -> dict:
        return space.from_indices(self.best_index)


def exact_front(env, chunk: int = 1 << 18, cache: bool | str | Path = True, show: bool | None = None) -> ExactFront:
    """Enumerate and score every design of `env` in chunks with its batch evaluator (see
    ExactFront). Fronts are kept exact by merging each chunk's non-dominated designs, after a
    numba pre-filter that drops designs strictly dominated by a sample of the current front.
    `cache`: True (the default directory, $ARCHGYM_CACHE or ~/.cache/archgym), a directory, or
    False; results are keyed by `fingerprint(env)`, which changes with the space, the objective
    and any number the env's model produces, so a changed model never reuses a stale front.
    Progress goes to stderr (archgym.progress; `show=False` silences it)."""
    base = env.unwrapped
    space, objective = base.space, base.objective
    key = fingerprint(env)
    path = _cache_path(cache, key)
    if path is not None and path.is_file():
        return _load(path, key)
    t0 = time.perf_counter()
    vec = Objective("vector", base.evaluator.objective_defaults.get("metrics") or objective.metrics)
    opt = objective.optimize or vec.metrics[0]
    other = {k: v for k, v in objective.limits.items() if k != "latency_s"}
    best_score, best_idx, n_ok = -np.inf, None, 0
    front_idx, front = np.zeros((0, len(space)), np.int64), np.zeros((0, len(vec.metrics)))
    lat_front = (np.zeros(0), np.zeros(0))
    done = 0
    spec_first = objective.mode in ("constraint", "target")  # a design meeting the spec outranks all others
    bar = progress(space.size, f"{_name(env)}: enumerating every design", "design", show)
    for out, rows_to_indices in _chunks(base, chunk):
        ok = objective.success(out, out["feasible"])
        n_ok += int(ok.sum())
        rows = np.flatnonzero(ok) if spec_first and n_ok else np.arange(len(ok))
        if len(rows):
            score = objective.scalarize(_reward(objective, out, rows))
            i = int(np.argmax(score))
            if score[i] > best_score:
                best_score, best_idx = float(score[i]), rows_to_indices(rows[i:i + 1])[0]
        F = objective_matrix(vec, out)
        keep = np.flatnonzero(out["feasible"] & ~_strictly_dominated(F, front[:: max(1, len(front) // SENTINELS)]))
        cand_F, cand_idx = np.vstack([front, F[keep]]), np.vstack([front_idx, rows_to_indices(keep)])
        mask = pareto_mask(cand_F)
        front, front_idx = cand_F[mask], cand_idx[mask]
        if "latency_s" in out:
            ok = out["feasible"] & (objective.violation(out, other) == 0)
            lat_front = pareto_2d(np.r_[lat_front[0], out["latency_s"][ok]], np.r_[lat_front[1], out[opt][ok]])
        done += len(ok)
        bar.update(len(ok))
    bar.close()
    ref = reference_point(env) if len(vec.metrics) == len(objective.metrics) and vec.metrics == objective.metrics \
        else _reference_point(space, vec, base.evaluate)
    result = ExactFront(key, space.size, vec.metrics, best_idx, best_score, n_ok, front_idx, front, ref,
                        hypervolume(front, ref), lat_front, time.perf_counter() - t0)
    if path is not None:
        _save(path, result)
    return result


SENTINELS = 256  # front points in the pre-filter


def _chunks(base, chunk: int):
    """Yield (metrics with `feasible`, rows -> index vectors) covering the space once.
    Evaluators with `grid(hardware numbers)` (every network on each hardware design, e.g. the
    NB201 envs) are scanned hardware design by hardware design without building index arrays;
    any other env goes through `evaluate` on row-major chunks of index vectors."""
    space, ev = base.space, base.evaluator
    if hasattr(ev, "grid") and not space.constraints:
        n_net = ev.n_networks
        step = max(1, chunk // n_net)
        for lo in range(0, ev.n_hardware, step):
            hw = np.arange(lo, min(ev.n_hardware, lo + step))
            yield ({m: v.reshape(-1) for m, v in ev.grid(hw).items()},
                   lambda rows, hw=hw: ev.indices(rows % n_net, hw[rows // n_net]))
        return
    for lo in range(0, space.size, chunk):
        idx = np.stack(np.unravel_index(np.arange(lo, min(lo + chunk, space.size)), space.nvec), axis=1)
        yield base.evaluate(idx), lambda rows, idx=idx: idx[rows]


def _reward(objective, out: dict, rows: np.ndarray) -> np.ndarray:
    """The env's reward of designs `rows` (envs.base._Scorer._score; spaces without constraints)."""
    if "reward" in out:
        return out["reward"][rows]
    sub = {m: out[m][rows] for m in objective.metrics}
    return objective.reward_values(objective.stack(sub), out["feasible"][rows],
                                   out["violation"][rows] if "violation" in out else None)


@njit(cache=True, parallel=True)
def _strictly_dominated_kernel(F, S, out):
    for i in prange(F.shape[0]):
        for s in range(S.shape[0]):
            le, lt = True, False
            for m in range(F.shape[1]):
                if S[s, m] > F[i, m]:
                    le = False
                    break
                if S[s, m] < F[i, m]:
                    lt = True
            if le and lt:
                out[i] = True
                break


def _strictly_dominated(F: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Rows of F strictly dominated by some row of S (minimisation)."""
    out = np.zeros(len(F), dtype=bool)
    if len(S):
        _strictly_dominated_kernel(np.ascontiguousarray(F), np.ascontiguousarray(S), out)
    return out


def fingerprint(env) -> str:
    """A key for an env's exact results: its space, objective, fixed values and the metrics its
    model returns on a fixed pseudo-random probe of designs (any model change changes the key)."""
    base = env.unwrapped
    space = base.space
    probe = np.random.default_rng(20250601).random((PROBES, len(space)))
    idx = np.minimum((probe * space.nvec).astype(np.int64), space.nvec - 1)
    out = base.evaluator(idx)
    h = hashlib.sha256()
    h.update(json.dumps({"evaluator": type(base.evaluator).__qualname__, "describe": base.evaluator.describe(),
                         "space": space.to_config(), "objective": base.objective.to_config(),
                         "metrics": list(base.evaluator.objective_defaults.get("metrics", ()))},
                        sort_keys=True, default=str).encode())
    for m in sorted(out):
        h.update(m.encode())
        h.update(np.ascontiguousarray(np.asarray(out[m], dtype=np.float64)).tobytes())
    return h.hexdigest()[:24]


PROBES = 512


def _cache_path(cache, key: str) -> Path | None:
    if cache is False or cache is None:
        return None
    root = Path(os.environ.get("ARCHGYM_CACHE", Path.home() / ".cache" / "archgym")) if cache is True else Path(cache)
    return root / "exact" / f"{key}.npz"


def write_atomically(path: Path, write) -> None:
    """Call write(binary file) on a temporary file of this writer's own (parallel tests and sweeps may fill
    one cache key at once) beside `path`, then move it to `path`: a reader sees the whole file or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp" + path.suffix)
    with os.fdopen(fd, "wb") as f:
        write(f)
    os.replace(tmp, path)


def _save(path: Path, r: ExactFront) -> None:
    write_atomically(path, lambda f: np.savez(
        f, size=r.size, metrics=np.array(r.metrics), best_index=r.best_index, best_score=r.best_score,
        n_meeting_spec=r.n_meeting_spec, front_indices=r.front_indices, front=r.front, ref_point=r.ref_point,
        hypervolume=r.hypervolume, latency=r.latency_front[0], optimised=r.latency_front[1], seconds=r.seconds))


def _load(path: Path, key: str) -> ExactFront:
    with np.load(path, allow_pickle=False) as z:
        return ExactFront(key, int(z["size"]), tuple(str(m) for m in z["metrics"]), z["best_index"],
                          float(z["best_score"]), int(z["n_meeting_spec"]), z["front_indices"], z["front"],
                          z["ref_point"], float(z["hypervolume"]), (z["latency"], z["optimised"]), float(z["seconds"]))


def regret(result, exact: ExactFront) -> dict:
    """A search result against the exact answer: `score_gap` (exact best scalar reward minus the
    found one; accuracy points for a constraint objective on accuracy) and `hv_ratio` (hypervolume
    of the found front over the exact front's, same metrics and reference point; 1 is perfect)."""
    h = result.history
    vec = Objective("vector", exact.metrics)
    F = objective_matrix(vec, h.metrics)
    rows = pareto_mask(F, h.feasible)
    return {"score_gap": exact.best_score - result.best_score,
            "hv_ratio": hypervolume(F[rows], exact.ref_point) / exact.hypervolume if exact.hypervolume > 0 else np.nan}


def streaming_exact(env, chunk: int = 1 << 17) -> dict:
    """`exact_front` without the cache, as a dict: the best design under the env's objective, its
    reward, the number of designs meeting the spec, the space size, and the accuracy-versus-latency
    front of the designs within every other limit (latency_s, accuracy arrays, latency ascending)."""
    r = exact_front(env, chunk=chunk, cache=False)
    return {"design": env.unwrapped.space.from_indices(r.best_index), "reward": r.best_score,
            "n_meeting_spec": r.n_meeting_spec, "size": r.size, "front": r.latency_front}


def pareto_2d(latency: np.ndarray, accuracy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-dominated (lower latency, higher accuracy) points, by ascending latency."""
    order = np.lexsort((-accuracy, latency))
    lat, acc = latency[order], accuracy[order]
    keep = acc > np.maximum.accumulate(np.r_[-np.inf, acc[:-1]])
    return lat[keep], acc[keep]
