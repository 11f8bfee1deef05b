"""The hyper-parameter lottery under a held-out protocol.

1. Tuning (`archgym sweep experiments/lottery.yaml`): each agent runs its default and sampled
   settings on the suite's tuning tasks, on the tuning seeds (0-9) only.
2. Choice (`choose_settings`): per agent, the setting whose median final regret ranks best among
   the agent's settings, averaged over the tuning tasks (ranks, so no task's scale dominates).
   Ties keep the default.
3. Report (`archgym bench --held-out`): default and chosen settings on fresh seeds (10-29) of the
   tuning tasks and of the suite's tasks, which no setting was chosen on (`heldout_table`).
"""
from __future__ import annotations

import json

import numpy as np

from archgym.analysis import stats
from archgym.analysis.bench import TaskResult, load_results
from archgym.core.errors import ArchGymError


def choose_settings(run_dir, suite, report=None):
    """(agent -> chosen hyper-parameters, DataFrame of every setting's median final regret per
    tuning task and its mean rank). Refuses a run on non-tuning tasks or seeds."""
    import pandas as pd
    from archgym.experiments.log import cells as cell_table
    ct = cell_table(run_dir)
    ct = ct[ct["status"] == "done"]
    bad_seeds = sorted(set(ct["seed"]) - set(suite.tuning_seeds))
    if bad_seeds:
        raise ArchGymError(f"lottery run {run_dir}: seeds {bad_seeds} are not tuning seeds "
                           f"{list(suite.tuning_seeds)}; tune on tuning seeds only")
    bad_tasks = sorted(set(ct["env"]) - set(suite.tuning_tasks))
    if bad_tasks:
        raise ArchGymError(f"lottery run {run_dir}: {bad_tasks} are not tuning tasks of the suite "
                           f"({', '.join(suite.tuning_tasks)}); tune on tuning tasks only")
    results = load_results(run_dir, suite, report=report)
    rows = []
    for task, r in results.items():
        for (agent, hp), g in r.cells.groupby(["agent", "hparams"], sort=False):
            rows.append({"task": task, "agent": agent, "hparams": hp, "default": " (tuned)" not in g["label"].iloc[0],
                         "median_regret": float(np.median(g["regret"])), "seeds": len(g)})
    df = pd.DataFrame(rows)
    df["rank"] = df.groupby(["task", "agent"])["median_regret"].rank(method="average")
    table = df.pivot_table(index=["agent", "hparams", "default"], columns="task", values="median_regret").reset_index()
    table["mean rank"] = df.groupby(["agent", "hparams"])["rank"].mean().reindex(
        list(zip(table["agent"], table["hparams"]))).to_numpy()
    chosen = {}
    for agent, g in table.groupby("agent", sort=False):
        g = g.sort_values(["mean rank", "default"], ascending=[True, False], kind="stable")
        chosen[agent] = json.loads(g["hparams"].iloc[0])
    table["chosen"] = [chosen[a] == json.loads(h) for a, h in zip(table["agent"], table["hparams"])]
    return chosen, table


def heldout_table(results: dict[str, TaskResult], seed: int = 0):
    """Per task and agent: default vs tuned median final regret [bootstrap 95% CI] on the held-out
    seeds, the Mann-Whitney p of the difference (Holm over every task x agent), and the sign."""
    import pandas as pd
    rows = []
    for task, r in results.items():
        for lab in r.labels:
            if lab.endswith(" (tuned)") or f"{lab} (tuned)" not in r.curves:
                continue
            d, t = r.regret_at(lab, r.budget), r.regret_at(f"{lab} (tuned)", r.budget)
            p = stats.pairwise_tests({"default": d, "tuned": t})
            rows.append({"task": task, "agent": lab, "default": stats.median_ci(d, seed), "tuned": stats.median_ci(t, seed),
                         "p": float(p["p"].iloc[0]), "tuned_better": float(1 - p["a_better"].iloc[0])})
    df = pd.DataFrame(rows, columns=["task", "agent", "default", "tuned", "p", "tuned_better"])
    df["p_holm"] = stats.holm(df["p"].to_numpy()) if len(df) else []
    return df
