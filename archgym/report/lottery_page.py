"""The held-out lottery's tables for docs/lottery.md: which setting the tuning chose for each agent,
and how the default and the chosen setting compare on seeds and tasks the choice never saw."""
from __future__ import annotations

import json

import numpy as np

from archgym.analysis import stats
from archgym.analysis.lottery import heldout_table
from archgym.report.leaderboard import pct

SIGNIFICANT_P = 0.01


def _changed(agent_defaults: dict, hp: dict) -> str:
    diff = {k: v for k, v in hp.items() if agent_defaults.get(k) != v}
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in diff.items()) or "(the default)"


def choice_markdown(choice) -> str:
    """Per agent: settings tried, the chosen setting (what differs from the default), and the mean
    rank over tuning tasks of the chosen and the default setting, with their tuning-seed regrets."""
    from agents import AGENTS
    tasks = [c for c in choice.columns if c not in ("agent", "hparams", "default", "mean rank", "chosen")]
    head = ["agent", "settings", "chosen setting", "mean rank (chosen / default)"]
    head += [f"{t}: regret, seeds 0-9 (chosen / default)" for t in tasks]
    lines = ["| " + " | ".join(head) + " |", "|---|---:|---|---:|" + "---:|" * len(tasks)]
    for agent, g in choice.groupby("agent", sort=True):
        c, d = g[g["chosen"]].iloc[0], g[g["default"]]
        d = d.iloc[0] if len(d) else None
        defaults = AGENTS[agent].check_hparams({})
        cells = [agent, str(len(g)), _changed(defaults, json.loads(c["hparams"])),
                 f"{c['mean rank']:.1f} / {d['mean rank']:.1f}" if d is not None else f"{c['mean rank']:.1f} / –"]
        cells += [f"{pct(c[t])} / {pct(d[t])}" if d is not None else pct(c[t]) for t in tasks]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def heldout_markdown(results) -> str:
    df = heldout_table(results)
    lines = ["| task | agent | default: median regret [95% CI] | tuned | Holm p | verdict |", "|---|---|---:|---:|---:|---|"]
    for row in df.itertuples(index=False):
        verdict = "no significant difference"
        if row.p_holm < SIGNIFICANT_P:
            verdict = "tuned better" if row.tuned_better > 0.5 else "tuned worse"
        fmt = lambda m: f"{pct(m[0])} [{pct(m[1])}, {pct(m[2])}]"  # noqa: E731
        lines.append(f"| {row.task} | {row.agent} | {fmt(row.default)} | {fmt(row.tuned)} | {row.p_holm:.2g} | {verdict} |")
    better = int(np.sum((df["p_holm"] < SIGNIFICANT_P) & (df["tuned_better"] > 0.5)))
    worse = int(np.sum((df["p_holm"] < SIGNIFICANT_P) & (df["tuned_better"] < 0.5)))
    lines += ["", f"Over {len(df)} task × agent comparisons (two-sided Mann-Whitney on final regret, Holm-corrected "
                  f"over all of them): tuned better in {better}, tuned worse in {worse}, no significant difference "
                  f"(p ≥ {SIGNIFICANT_P}) in {len(df) - better - worse}."]
    return "\n".join(lines)


def tuned_separation_markdown(results) -> str:
    """Once tuned, does a family still dominate? Per task: cross-family pairs of tuned settings
    separated at Holm p < 0.01 at the full budget, and the best and worst tuned agent."""
    lines = ["| task | best tuned agents (median regret; ties listed) | worst tuned agent | cross-family pairs separated (p < 0.01) |",
             "|---|---|---|---:|"]
    for task, r in results.items():
        tuned = {lab: r.regret_at(lab, r.budget) for lab in r.labels
                 if lab.endswith(" (tuned)") or f"{lab} (tuned)" not in r.curves}
        fam = dict(zip(r.cells["label"], r.cells["family"]))
        df = stats.pairwise_tests(tuned)
        cross = df[[fam[a] != fam[b] for a, b in zip(df["a"], df["b"])]]
        med = {lab: float(np.median(v)) for lab, v in tuned.items()}
        low, worst = min(med.values()), max(med, key=med.get)
        best = ", ".join(sorted(lab for lab, m in med.items() if m == low))
        lines.append(f"| {task} | {best} ({pct(low)}) | {worst} ({pct(med[worst])}) | "
                     f"{int(np.sum(cross['p_holm'] < SIGNIFICANT_P))} of {len(cross)} |")
    return "\n".join(lines)


def markdown(results, choice, seeds) -> str:
    tuning = [n for n in results if n in set(choice.columns)]
    held = [n for n in results if n not in tuning]
    budgets = sorted({r.budget for r in results.values()})
    head = (f"Tuning tasks: {', '.join(tuning) or 'none'}; held-out tasks: {', '.join(held) or 'none'}. Tuned "
            f"settings ran on seeds {seeds[0]}-{seeds[-1]} ({len(seeds)} per setting), as did the defaults on the "
            f"tuning tasks; on the held-out tasks the defaults are the leaderboard's own runs (seeds 0-19; no default "
            f"was tuned). Budget: {', '.join(map(str, budgets))} evaluations per search. An agent whose lottery kept "
            f"its default has one row per task.")
    return "\n\n".join([head, "#### The choice (tuning seeds 0-9 on the tuning tasks)", choice_markdown(choice),
                        "#### Default vs tuned on held-out seeds and tasks", heldout_markdown(results),
                        "#### Once tuned, does one family dominate?", tuned_separation_markdown(results)])
