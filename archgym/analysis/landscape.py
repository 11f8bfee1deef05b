"""Landscape diagnostics of an enumerated space: how hard is it to search?

Every function works on the scores of every design in row-major order over the space's index grid
(`GroundTruth.score`), vectorised with numpy over the whole grid. The neighbourhood is the
one-parameter move: a design's neighbours differ from it in exactly one parameter, set to any other
of its values (the moves of `agents.hill_climbing`).

- local optima: plateaus (connected sets of equal-score neighbours) with no strictly better
  neighbour, as in local-optima-network studies (Ochoa et al., GECCO 2008); a flat parameter does
  not multiply the count;
- the share of designs within 1% and 5% of the optimum (`archgym.core.pareto.gap`), and the median
  number of uniform random draws to hit one (a geometric law);
- fitness-distance correlation (Jones & Forrest, ICGA 1995): Pearson's r between the score of a
  feasible design and its Hamming distance to the nearest global optimum (r near -1: the closer,
  the better; near 0: distance says nothing);
- the steepest-ascent basin of the global optimum: the share of starting designs from which
  best-improvement hill climbing ends on a global optimum.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from archgym.core.pareto import gap

MAX_OPTIMA_FOR_FDC = 64  # distances are taken to at most this many global optima (the first in row order)


@dataclass(frozen=True)
class Landscape:
    """Diagnostics of one task (see the module docstring); shares are fractions of all designs."""
    designs: int
    feasible_share: float
    local_optima: int            # plateaus with no strictly better neighbour
    global_optima: int           # designs scoring the optimum
    within_1pct: float
    within_5pct: float
    random_median_evals_1pct: float  # median draws of uniform random search to get within 1%
    random_median_evals_5pct: float
    fdc: float                   # fitness-distance correlation over feasible designs
    basin_share: float           # starts from which steepest ascent reaches a global optimum

    def to_dict(self) -> dict:
        return asdict(self)


def _lines(S: np.ndarray, axis: int) -> np.ndarray:
    """S with `axis` moved last and flattened to (lines, n): every one-parameter line along `axis`."""
    return np.moveaxis(S, axis, -1).reshape(-1, S.shape[axis])


def _unlines(L: np.ndarray, shape: tuple, axis: int) -> np.ndarray:
    moved = tuple(n for j, n in enumerate(shape) if j != axis) + (shape[axis],)
    return np.moveaxis(L.reshape(moved), -1, axis)


def weak_local_optima(score: np.ndarray, nvec) -> np.ndarray:
    """Mask of designs with no strictly better one-parameter neighbour (each is the maximum of
    every line through it)."""
    S = np.asarray(score, dtype=np.float64).reshape(tuple(int(n) for n in nvec))
    ok = np.ones(S.shape, dtype=bool)
    for j in range(S.ndim):
        ok &= S == S.max(axis=j, keepdims=True)
    return ok.reshape(-1)


def count_local_optima(score: np.ndarray, nvec) -> int:
    """Number of plateaus (equal-score sets connected by one-parameter moves) none of whose designs
    has a strictly better neighbour."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    shape = tuple(int(n) for n in nvec)
    S = np.asarray(score, dtype=np.float64).reshape(shape)
    N = S.size
    flat = np.arange(N).reshape(shape)
    weak = weak_local_optima(score, nvec)
    rows, cols = [], []
    for j in range(S.ndim):
        if shape[j] < 2:
            continue
        V, I = _lines(S, j), _lines(flat, j)
        first = np.argmax(V[:, :, None] == V[:, None, :], axis=2)  # first position with the same score
        link = first != np.arange(shape[j])
        rows.append(I[link])
        cols.append(np.take_along_axis(I, first, axis=1)[link])
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    graph = coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(N, N))
    _, label = connected_components(graph, directed=False)
    spoiled = np.bincount(label[~weak], minlength=label.max() + 1) > 0  # a member can climb out
    return int(np.count_nonzero(~spoiled[np.unique(label[weak])]))


def steepest_ascent_ends(score: np.ndarray, nvec) -> np.ndarray:
    """For every design, the design where best-improvement hill climbing from it stops (ties
    between neighbours go to the lowest axis, then the lowest value)."""
    shape = tuple(int(n) for n in nvec)
    S = np.asarray(score, dtype=np.float64).reshape(shape)
    flat = np.arange(S.size).reshape(shape)
    best_val = S.copy()
    step = flat.copy()
    for j in range(S.ndim):
        V, I = _lines(S, j), _lines(flat, j)
        arg = np.argmax(V, axis=1)
        line_max = _unlines(np.repeat(V[np.arange(len(V)), arg][:, None], shape[j], axis=1), shape, j)
        line_arg = _unlines(np.repeat(I[np.arange(len(I)), arg][:, None], shape[j], axis=1), shape, j)
        better = line_max > best_val
        best_val = np.where(better, line_max, best_val)
        step = np.where(better, line_arg, step)
    step = step.reshape(-1)
    while True:  # pointer jumping: log2(longest climb) rounds
        nxt = step[step]
        if np.array_equal(nxt, step):
            return step
        step = nxt


def fitness_distance_correlation(score: np.ndarray, nvec, feasible: np.ndarray) -> float:
    """Pearson's r (scipy.stats.pearsonr) between score and Hamming distance to the nearest global
    optimum, over feasible designs (NaN if fewer than 3 or a constant score)."""
    from scipy.stats import pearsonr
    score = np.asarray(score, dtype=np.float64)
    shape = tuple(int(n) for n in nvec)
    best = np.flatnonzero(score == score.max())[:MAX_OPTIMA_FOR_FDC]
    optima = np.stack(np.unravel_index(best, shape), axis=1)
    rows = np.flatnonzero(feasible)
    if len(rows) < 3 or np.ptp(score[rows]) == 0:
        return float("nan")
    idx = np.stack(np.unravel_index(rows, shape), axis=1)
    dist = np.full(len(rows), len(shape), dtype=np.int64)
    for o in optima:
        np.minimum(dist, (idx != o).sum(axis=1), out=dist)
    if np.ptp(dist) == 0:
        return float("nan")
    return float(pearsonr(score[rows], dist).statistic)


def random_median_evals(share: float) -> float:
    """Median number of uniform random draws (with replacement) until one lands in a set holding
    `share` of the space: the median of a geometric law (scipy.stats.geom)."""
    from scipy.stats import geom
    return float("inf") if share <= 0 else float(geom(min(share, 1.0)).median())


def landscape(score: np.ndarray, nvec, feasible: np.ndarray, objective) -> Landscape:
    """Every diagnostic of an enumerated task (score in row-major order over `nvec`)."""
    score = np.asarray(score, dtype=np.float64)
    best = float(score.max())
    g = gap(score, best, objective)
    within = {t: float(np.mean(g <= t)) for t in (0.01, 0.05)}
    ends = steepest_ascent_ends(score, nvec)
    return Landscape(
        designs=len(score), feasible_share=float(np.mean(feasible)),
        local_optima=count_local_optima(score, nvec), global_optima=int(np.count_nonzero(score == best)),
        within_1pct=within[0.01], within_5pct=within[0.05],
        random_median_evals_1pct=random_median_evals(within[0.01]),
        random_median_evals_5pct=random_median_evals(within[0.05]),
        fdc=fitness_distance_correlation(score, nvec, feasible),
        basin_share=float(np.mean(score[ends] == best)))
