"""The benchmark's leaderboard: markdown tables (docs/leaderboard.md), and one self-contained HTML
page with the regret-vs-budget, evaluations-to-target ECDF and hypervolume-vs-budget plots.

Only draws and formats what `archgym.analysis.bench` computes. The tables hold no timings, so the
same run gives the same tables bit for bit; overhead ratios go in a table of their own.
"""
from __future__ import annotations

import html
import re
import time
from pathlib import Path

import numpy as np

from archgym.analysis.bench import TARGETS, TaskResult, budget_grid
from archgym.report.html import _CSS, _png
from archgym.report.plots import _colors, new_figure


INFEASIBLE_REGRET = 1e6  # a regret this large means no feasible design was found (scores sit 100 decades down)


def pct(v: float) -> str:
    """A regret as a percentage with 3 significant digits ('0' when exact); above 100% as a factor
    over the optimum; 'infeasible' when no feasible design was found."""
    if not np.isfinite(v) or v >= INFEASIBLE_REGRET:
        return "infeasible"
    if v >= 1:
        return f"{1 + v:.3g}× opt"
    return "0" if v == 0 else f"{100 * v:.3g}%"


def _ci(row: dict, b: int) -> str:
    return f"{pct(row[f'regret@{b}'])} [{pct(row[f'lo@{b}'])}, {pct(row[f'hi@{b}'])}]"


# --- markdown ------------------------------------------------------------------------------------------------
def landscape_markdown(data: dict) -> str:
    """One row per task: size, the exact optimum, and the landscape diagnostics."""
    lines = ["| task | designs | feasible | local optima | global optima | within 1% | within 5% | "
             "random: median evals to 1% | to 5% | FDC | steepest-ascent basin of the optimum |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, t in data["tasks"].items():
        L = t["landscape"]
        lines.append(f"| {name} | {L['designs']:,} | {L['feasible_share']:.1%} | {L['local_optima']:,} | "
                     f"{L['global_optima']:,} | {L['within_1pct']:.2g} | {L['within_5pct']:.2g} | "
                     f"{L['random_median_evals_1pct']:,.0f} | {L['random_median_evals_5pct']:,.0f} | "
                     f"{L['fdc']:.2f} | {L['basin_share']:.1%} |")
    return "\n".join(lines)


def task_markdown(name: str, t: dict) -> str:
    """A task's leaderboard: median regret [bootstrap 95% CI] at each checkpoint, runs within each
    target at the budget, distinct designs, mean rank; then the separation line."""
    cps = t["checkpoints"]
    kind = "hypervolume gap 1 − HV/HV*" if t["multi_objective"] else "regret"
    head = ["agent", "family"] + [f"{kind} @ {b}" for b in cps] + [f"runs within {x:.0%} @ {cps[-1]}" for x in TARGETS]
    head += ["distinct designs @ %d" % cps[-1], "mean rank"] + (["IGD+ @ %d" % cps[-1]] if t["multi_objective"] else [])
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    for row in t["summary"]:
        cells = [row["agent"], row["family"]] + [_ci(row, b) for b in cps]
        cells += [f"{row[f'within {x:.0%}']}/{row['runs']}" for x in TARGETS]
        cells += [f"{row['distinct@budget']:.0f}", f"{row['mean rank']:.1f}"]
        if t["multi_objective"]:
            cells.append(f"{row['IGD+@budget']:.3g}")
        lines.append("| " + " | ".join(cells) + " |")
    sep = t["separation"]
    if sep["best"]:
        b = sep["best"]
        lines += ["", f"Most significant cross-family pair: {b['a']} vs {b['b']} at {b['budget']} evaluations, "
                      f"Holm-corrected Mann-Whitney p = {b['p_holm']:.2g} (P({b['a']} better) = {b['a_better']:.2f}). "
                      "Cross-family pairs separated at p < 0.01: "
                      + ", ".join(f"{n} at {bb}" for bb, n in sep["separated_pairs"].items()) + "."]
    return "\n".join(lines)


def ranking_markdown(data: dict) -> str:
    r = data.get("ranking")
    if not r:
        return ""
    tasks = list(data["tasks"])
    lines = ["| agent | " + " | ".join(tasks) + " | average rank |", "|---|" + "---:|" * (len(tasks) + 1)]
    for row in r["table"]:
        lines.append(f"| {row['agent']} | " + " | ".join(f"{row[t]:.1f}" for t in tasks) + f" | {row['average rank']:.2f} |")
    lines += ["", f"Rank of each agent's median regret at the full budget per task (1 = best). Friedman test over "
                  f"the {r['tasks']} tasks: p = {r['friedman_p']:.2g}; Nemenyi critical difference of average ranks "
                  f"(α = 0.05): {r['critical_difference']:.2f}."]
    return "\n".join(lines)


def overhead_markdown(results: dict[str, TaskResult]) -> str:
    """Agent overhead (ask + tell, or policy and training) and wall time per evaluation, as ratios to
    random search in the same run; median over tasks."""
    import pandas as pd
    frames = [r.overhead().assign(task=name) for name, r in results.items()]
    df = pd.concat(frames)
    agg = df.groupby("label").agg(agent=("agent_ratio", "median"), wall=("wall_ratio", "median"),
                                  low=("wall_ratio", "min"), high=("wall_ratio", "max")).sort_values("wall")
    lines = ["| agent | agent overhead per evaluation ÷ random's | wall time per evaluation ÷ random's (range over tasks) |",
             "|---|---:|---:|"]
    for lab, row in agg.iterrows():
        lines.append(f"| {lab} | {row['agent']:,.3g}× | {row['wall']:.3g}× ({row['low']:.3g}–{row['high']:.3g}) |")
    return "\n".join(lines)


def findings_markdown(data: dict) -> str:
    """Per task: the agents tied with the best at the full budget, and the comparisons of PAIRS."""
    lines = []
    for name, t in data["tasks"].items():
        rows = {r["agent"]: r for r in t["summary"]}
        b = t["budget"]
        top = ", ".join(f"{a} ({pct(rows[a][f'regret@{b}'])})" for a in t["top_group"])
        lines.append(f"- **{name}**, {b} evaluations, median regret: not separated from the best (Holm p ≥ 0.01): "
                     f"{top}. Random search: {pct(rows['random'][f'regret@{b}']) if 'random' in rows else 'not run'}.")
    pairs = sorted({k for t in data["tasks"].values() for k, v in t["pairs"].items() if v})
    if pairs:
        tasks = list(data["tasks"])
        lines += ["", "| comparison at the full budget | " + " | ".join(tasks) + " |", "|---|" + "---|" * len(tasks)]
        for k in pairs:
            cells = []
            for t in tasks:
                v = data["tasks"][t]["pairs"].get(k)
                if not v:
                    cells.append("–")
                    continue
                a, b_ = k.split(" vs ")
                verdict = "tie" if v["p_holm"] >= 0.01 else (f"{a} better" if v["a_better"] > 0.5 else f"{b_} better")
                cells.append(f"{verdict} ({pct(v['a'])} vs {pct(v['b'])}, p = {v['p_holm']:.2g})")
            lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def leaderboard_markdown(data: dict) -> str:
    parts = ["### Tasks and their landscapes", "", landscape_markdown(data), ""]
    for name, t in data["tasks"].items():
        kwargs = f" with `{t['kwargs']}`" if t["kwargs"] else ""
        parts += [f"### {name}", "", f"`{t['id']}`{kwargs}, objective `{t['objective'] or 'env default'}`. "
                  f"{t['about']} Exact optimum: reward {t['optimum']:.6g} at {_design(t['best_design'])}.", "",
                  task_markdown(name, t), ""]
    parts += ["### Ranking over the suite", "", ranking_markdown(data), "", "### Findings", "", findings_markdown(data)]
    return "\n".join(parts)


def _design(d: dict) -> str:
    return "`" + ", ".join(f"{k}={v}" for k, v in d.items()) + "`"


def write_block(doc: Path, name: str, command: str, markdown: str) -> None:
    """Replace (or append) the generated block `name` of `doc`."""
    text = doc.read_text() if doc.exists() else f"# {name}\n"
    begin = f"<!-- BEGIN GENERATED: {name} (by `{command}`) -->"
    end = f"<!-- END GENERATED: {name} -->"
    block = f"{begin}\n{markdown.strip()}\n{end}"
    pattern = re.compile(rf"<!-- BEGIN GENERATED: {re.escape(name)} .*?-->.*?{re.escape(end)}", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)


# --- figures -------------------------------------------------------------------------------------------------
_LINES = ("-", "--", "-.", ":")


def _styles(labels) -> dict:
    """A colour per label and, so that 14+ lines stay apart, a line style cycling with it."""
    colors = _colors(labels)
    return {lab: {"color": colors[lab], "ls": _LINES[i % len(_LINES)]} for i, lab in enumerate(sorted(labels))}


def _bands(r: TaskResult, transform):
    """A figure with, per label, the median over seeds of transform(curves) and its IQR band."""
    fig = new_figure(8, 5)
    ax = fig.add_subplot()
    styles = _styles(r.labels)
    x = np.arange(1, r.budget + 1)
    for lab in r.labels:
        q1, med, q3 = np.percentile(transform(r.curves[lab]), [25, 50, 75], axis=0)
        ax.plot(x, med, lw=1.4, label=lab, **styles[lab])
        ax.fill_between(x, q1, q3, color=styles[lab]["color"], alpha=0.10, lw=0)
    ax.set_xscale("log")
    return fig, ax


REGRET_FLOOR_PCT, REGRET_CEIL_PCT = 0.01, 1000.0  # plotted range: exact hits at the floor, infeasible-only runs at the ceiling


def regret_figure(r: TaskResult):
    """Median regret (or hypervolume gap) against evaluations, IQR band over seeds, per agent."""
    clip = lambda c: np.clip(100 * c, REGRET_FLOOR_PCT, REGRET_CEIL_PCT)  # noqa: E731
    fig, ax = _bands(r, clip)
    ax.set_yscale("log")
    lowest = min(np.percentile(clip(c), 25, axis=0).min() for c in r.curves.values())
    ax.set_ylim(max(REGRET_FLOOR_PCT * 0.8, lowest * 0.5), REGRET_CEIL_PCT * 1.25)
    for b in r.checkpoints:
        ax.axvline(b, color="0.7", lw=0.6, ls=":")
    what = "hypervolume gap to the exact front, 1 − HV/HV* (%)" if r.task.multi_objective else "regret to the exact optimum (%)"
    ax.set(xlabel="evaluations (repeats count)", ylabel=what)
    ax.set_title(f"{r.task.name}: {'hypervolume gap' if r.task.multi_objective else 'regret'} vs budget, median and IQR "
                 f"over {len(r.curves[r.labels[0]])} seeds\n(0 drawn at {REGRET_FLOOR_PCT:g}%, anything above "
                 f"{REGRET_CEIL_PCT:,.0f}% (incl. no feasible design yet) at {REGRET_CEIL_PCT:,.0f}%)", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    return fig


def ecdf_figure(r: TaskResult):
    """COCO-style ECDFs of evaluations to reach regret <= 1% and <= 5%, per agent."""
    fig = new_figure(11, 4.6)
    axes = fig.subplots(1, len(TARGETS), sharey=True)
    grid = budget_grid(r.budget)
    styles = _styles(r.labels)
    for ax, target in zip(np.atleast_1d(axes), TARGETS):
        for lab, y in r.ecdf(target, grid).items():
            ax.step(grid, 100 * y, where="post", lw=1.3, label=lab, **styles[lab])
        ax.set_xscale("log")
        ax.set_ylim(-2, 102)
        ax.set(xlabel="evaluations", title=f"target: within {target:.0%} of the optimum")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("runs that reached the target (%)")
    np.atleast_1d(axes)[-1].legend(fontsize=7, ncol=2, loc="upper left")
    fig.suptitle(f"{r.task.name}: evaluations-to-target ECDF ({len(r.curves[r.labels[0]])} seeds; unsolved runs "
                 f"censored at {r.budget})", fontsize=10)
    return fig


def hypervolume_figure(r: TaskResult):
    """Median HV/HV* against evaluations per agent (multi-objective tasks)."""
    fig, ax = _bands(r, lambda c: 1 - c)
    ax.axhline(1.0, color="k", lw=0.8, ls=":", label="exact front")
    ax.set(xlabel="evaluations", ylabel="hypervolume / exact front's hypervolume")
    ax.set_title(f"{r.task.name}: hypervolume vs budget, median and IQR over seeds", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="lower right")
    return fig


def figures(r: TaskResult) -> list:
    figs = [regret_figure(r), ecdf_figure(r)]
    if r.task.multi_objective:
        figs.append(hypervolume_figure(r))
    return figs


# --- html ----------------------------------------------------------------------------------------------------
def _md_table_html(md: str) -> str:
    """A markdown pipe table (as written above) as an HTML table."""
    out, lines = [], [ln for ln in md.splitlines() if ln.startswith("|")]
    for i, ln in enumerate(lines):
        if i == 1:
            continue
        cells = [c.strip() for c in ln.strip("|").split("|")]
        tag = "th" if i == 0 else "td"
        out.append("<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>")
    return "<table>" + "".join(out) + "</table>"


def _paragraphs(md: str) -> str:
    return "".join(f"<p class='note'>{html.escape(p)}</p>" for p in md.split("\n\n") if p and not p.startswith("|"))


def build_html(data: dict, results: dict[str, TaskResult], title: str, note: str = "") -> str:
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p class='note'>{html.escape(note)} Written {time.strftime('%Y-%m-%d %H:%M')}. Regret: the relative "
             "excess of the task's scalarised metric over the exact optimum (an accuracy shortfall for accuracy "
             "tasks; the hypervolume gap for multi-objective tasks), after each number of evaluations.</p>",
             "<h2>Tasks and their landscapes</h2>", _md_table_html(landscape_markdown(data))]
    for name, r in results.items():
        t = data["tasks"][name]
        md = task_markdown(name, t)
        parts += [f"<h2>{html.escape(name)}</h2>", f"<p class='note'>{html.escape(t['about'])}</p>",
                  _md_table_html(md), _paragraphs(md.split("\n\n", 1)[1] if "\n\n" in md else ""),
                  "<div class='figs'>" + "".join(f"<img src='{_png(f)}' alt='{html.escape(name)} plot'>"
                                                  for f in figures(r)) + "</div>"]
    rank = ranking_markdown(data)
    if rank:
        parts += ["<h2>Ranking over the suite</h2>", _md_table_html(rank), _paragraphs(rank.split("\n\n", 1)[1])]
    parts += ["<h2>Overhead, as ratios to random search in the same run</h2>", _md_table_html(overhead_markdown(results))]
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>" + "\n".join(parts) + "</body></html>")
