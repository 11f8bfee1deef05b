"""Statistics that rank searchers: bootstrap intervals, corrected pairwise tests, rankings, runtime
ECDFs and front quality. scipy.stats does the statistics; moocore the front indicators.

- `median_ci`: median and percentile-bootstrap interval (scipy.stats.bootstrap).
- `pairwise_tests`: two-sided Mann-Whitney U between every pair of agents (scipy.stats.mannwhitneyu),
  Holm-corrected, with the Vargha-Delaney effect size A = U / (n1 n2).
- `rank_table`: per task, each agent's mean rank among all runs of all agents; over tasks, the
  average rank, Friedman's test and Nemenyi's critical difference (Demsar, JMLR 2006), whose
  studentized-range quantile comes from scipy.stats.studentized_range.
- `runtime_ecdf`: COCO-style ECDF of evaluations-to-target, unsolved runs censored at the budget
  (scipy.stats.ecdf on CensoredData, i.e. Kaplan-Meier; with one common budget it is the share of
  runs solved by each budget).
- `igd_plus`: IGD+ of a found front to the true front (Ishibuchi et al., EMO 2015; moocore).
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np

CONFIDENCE = 0.95
N_RESAMPLES = 2000  # bootstrap resamples: percentile interval endpoints stable to ~1% of the spread


def median_ci(x, seed: int = 0, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(median, low, high): the median of `x` and its percentile-bootstrap interval."""
    from scipy.stats import bootstrap
    x = np.asarray(x, dtype=np.float64)
    med = float(np.median(x))
    if len(x) < 2 or np.ptp(x) == 0:
        return med, med, med
    ci = bootstrap((x,), np.median, confidence_level=confidence, method="percentile", n_resamples=N_RESAMPLES,
                   rng=np.random.default_rng(seed)).confidence_interval
    return med, float(ci.low), float(ci.high)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm, Scand. J. Stat. 1979). Written here: scipy has
    only false-discovery-rate corrections (false_discovery_control), not family-wise Holm."""
    p = np.asarray(p, dtype=np.float64)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def pairwise_tests(groups: Mapping[str, np.ndarray], lower_is_better: bool = True):
    """Every pair of groups: two-sided Mann-Whitney U p-value, Holm-adjusted p over all pairs, and
    A = P(a better than b) + P(tie)/2 (0.5: no difference). A DataFrame, one row per pair."""
    import pandas as pd
    from scipy.stats import mannwhitneyu
    rows = []
    for a, b in itertools.combinations(groups, 2):
        x, y = np.asarray(groups[a], dtype=np.float64), np.asarray(groups[b], dtype=np.float64)
        if np.ptp(np.r_[x, y]) == 0:  # every run equal: no evidence either way
            p, u = 1.0, 0.5 * len(x) * len(y)
        else:
            res = mannwhitneyu(x, y, alternative="two-sided")
            p, u = float(res.pvalue), float(res.statistic)
        a12 = u / (len(x) * len(y))  # P(x > y) + ties/2
        rows.append({"a": a, "b": b, "p": p, "a_better": 1 - a12 if lower_is_better else a12})
    df = pd.DataFrame(rows, columns=["a", "b", "p", "a_better"])
    df["p_holm"] = holm(df["p"].to_numpy()) if len(df) else []
    return df


def mean_ranks(groups: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Each group's mean rank among all values pooled (1 = lowest; ties share their mean rank)."""
    from scipy.stats import rankdata
    names = list(groups)
    values = np.concatenate([np.asarray(groups[n], dtype=np.float64) for n in names])
    ranks = rankdata(values)
    out, start = {}, 0
    for n in names:
        k = len(groups[n])
        out[n] = float(ranks[start:start + k].mean())
        start += k
    return out


def critical_difference(k: int, n_tasks: int, alpha: float = 0.05) -> float:
    """Nemenyi's critical difference of average ranks for k agents over n_tasks tasks (Demsar 2006)."""
    from scipy.stats import studentized_range
    q = studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    return float(q * np.sqrt(k * (k + 1) / (6 * n_tasks)))


def rank_table(per_task: Mapping[str, Mapping[str, np.ndarray]], alpha: float = 0.05):
    """Agents ranked over tasks: per task, the rank of each agent's median (1 = lowest regret);
    their average, Friedman's p over tasks and Nemenyi's critical difference. Returns
    (DataFrame with one column per task plus `average rank`, friedman_p, critical_difference)."""
    import pandas as pd
    from scipy.stats import friedmanchisquare, rankdata
    agents = sorted(set.intersection(*[set(g) for g in per_task.values()])) if per_task else []
    table = pd.DataFrame(index=agents)
    for task, groups in per_task.items():
        med = np.array([np.median(groups[a]) for a in agents])
        table[task] = rankdata(med)
    table["average rank"] = table.mean(axis=1)
    table = table.sort_values("average rank")
    n = len(per_task)
    p = float("nan")
    if n >= 2 and len(agents) >= 3:
        blocks = [[np.median(per_task[t][a]) for t in per_task] for a in agents]
        if np.ptp(np.asarray(blocks)) > 0:
            p = float(friedmanchisquare(*blocks).pvalue)
    cd = critical_difference(len(agents), n, alpha) if n and len(agents) >= 2 else float("nan")
    return table, p, cd


def first_hits(curves: np.ndarray, threshold: float) -> np.ndarray:
    """Evaluations until each run's curve (runs x evaluations, lower is better) first reaches
    `threshold`, as a float (inf where it never does)."""
    hit = np.asarray(curves) <= threshold
    first = np.argmax(hit, axis=1).astype(np.float64) + 1
    first[~hit.any(axis=1)] = np.inf
    return first


def runtime_ecdf(hits: np.ndarray, budget: int, grid: np.ndarray) -> np.ndarray:
    """Share of runs that reached the target within each number of evaluations in `grid`: the
    ECDF of `hits` (from first_hits) with unsolved runs right-censored at `budget`."""
    from scipy.stats import CensoredData, ecdf
    hits = np.asarray(hits, dtype=np.float64)
    solved = hits[np.isfinite(hits)]
    if not len(solved):
        return np.zeros(len(grid))
    res = ecdf(CensoredData(uncensored=solved, right=np.full(int(np.sum(~np.isfinite(hits))), float(budget))))
    return np.asarray(res.cdf.evaluate(np.asarray(grid, dtype=np.float64)))


def igd_plus(front: np.ndarray, true_front: np.ndarray) -> float:
    """IGD+ of `front` (minimisation, objective space) to `true_front`; inf for an empty front."""
    import moocore
    front = np.asarray(front, dtype=np.float64)
    if not len(front):
        return float("inf")
    return float(moocore.igd_plus(front, ref=np.asarray(true_front, dtype=np.float64)))
