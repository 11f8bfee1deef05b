"""`archgym report RUN_DIR`: one self-contained HTML page (plots inlined as base64 PNG, tables),
readable offline and safe to mail around. RUN_DIR is the output of `archgym sweep`, `compare` or
`search`.

Per env: what was searched and how the reward is defined, the best design found, the agents
compared over seeds (table, regret or best-so-far curves, final results, Pareto fronts), then
hypervolume, the hyper-parameter lottery and the success rate where they apply.
"""
from __future__ import annotations

import base64
import html
import io
import json
import time
from pathlib import Path

from archgym.analysis import runs
from archgym.progress import progress
from archgym.report import plots
from archgym.report.labels import env_title, quantity, regret_words, reward_words, seeds_words, with_unit

_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 2em auto; max-width: 1150px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
h3 { margin-top: 1.6em; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; } th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
.figs { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; align-items: start; }
.figs img, img.wide { width: 100%; border: 1px solid #eee; }
.note { color: #555; font-size: 13px; } .reward { background: #f6f8fa; border-left: 3px solid #4a7; padding: .4em .8em; }
code { background: #f5f5f5; padding: 0 3px; overflow-wrap: anywhere; } pre { overflow-x: auto; background: #f8f8f8; padding: .6em; }
@media (max-width: 760px) { .figs { grid-template-columns: 1fr; } body { font-size: 14px; } }
"""


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _img(fig, alt: str, cls: str = "") -> str:
    return f"<img src='{_png(fig)}' alt='{html.escape(alt)}'" + (f" class='{cls}'" if cls else "") + ">"


def _table(df, floats: str = "{:.4g}") -> str:
    fmt = lambda v: "0" if abs(v) < 1e-9 else floats.format(v)  # round-off shows as 0
    return "<div class='scroll'>" + df.to_html(index=False, border=0, float_format=fmt, na_rep="–") + "</div>"


def _metrics_text(metrics: dict, names) -> str:
    return ", ".join(f"{quantity(m)} {with_unit(m, metrics[m], 4)}" for m in names if m in metrics)


def _comparison_part(rows, info, cells, optimum) -> list[str]:
    chosen, how = runs.comparison_cells(cells)
    table = runs.comparison_table(chosen, how, optimum, info)
    if optimum is not None:
        table["final regret %, median [95% CI]"] = [
            f"{m:.3g} [{lo:.3g}, {hi:.3g}]" for m, lo, hi in
            zip(table.pop("final regret %, median"), table.pop("regret 95% CI, low"), table.pop("regret 95% CI, high"))]
        table = table[[c for c in table.columns if c != "runs at the optimum"] + ["runs at the optimum"]]
    pooled = any("pooled" in h for h in how.values())
    explain = ("Each agent is represented by the runs of its default hyper-parameter setting" +
               (", or, where the sweep did not run its defaults, by all its runs pooled over settings" if pooled else "") +
               " (no setting is chosen by its results on these seeds). Final reward: the best reward of a run, "
               "median and IQR over runs.")
    if optimum is not None:
        explain += (f" {regret_words(info.objective)}; the interval is a 95% percentile bootstrap of the median "
                    f"(scipy.stats.bootstrap, 2,000 resamples).")
    return ["<h3>Agents compared</h3>", f"<p class='note'>{html.escape(explain)}</p>", _table(table)]


def _lottery_part(info, cells, optimum) -> list[str]:
    table, _ = runs.lottery_table(cells)
    if optimum is not None:
        from archgym.analysis import gap
        objective = runs.objective_of(info)
        for col in ("default", "best", "worst"):
            table[f"gap to optimum, {col} (%)"] = 100 * gap(table[col].to_numpy(), optimum, objective)
    table = table.rename(columns={"default": "default setting", "best": "best setting", "median": "median setting",
                                  "worst": "worst setting", "spread": "lottery spread", "iqr": "lottery IQR"})
    missing = table["default setting"].isna()
    table["default setting"] = table["default setting"].astype(object).where(~missing, "not run")
    if "gap to optimum, default (%)" in table:
        table["gap to optimum, default (%)"] = table["gap to optimum, default (%)"].astype(object).where(~missing, "not run")
    text = ("Per agent, the best reward of each run, median over seeds, summarised over its hyper-parameter settings: "
            "the default setting, the best, median and worst setting, and the lottery's spread (best − worst) and "
            "IQR over settings. Sorted by the best setting; the best setting is picked on the same seeds it is "
            "reported on, so it flatters the agent.")
    if missing.any():
        text += (" 'not run': the sweep sampled settings without the agent's defaults; list the agent by name as "
                 "well (e.g. '- ga' in the agents list) to run them.")
    return ["<h3>The hyper-parameter lottery</h3>", f"<p class='note'>{html.escape(text)}</p>", _table(table)]


def _env_section(label: str, info, rows, bar) -> str:
    cells = runs.cell_summary(rows, info)
    best_known = runs.optimum_design(info)  # enumerates the space when it can
    optimum = None if best_known is None else best_known[0]
    n_settings = int(cells.groupby("agent")["setting"].nunique().max())
    kinds = plots.comparison_kinds(rows, info)
    figs = {}
    for kind in kinds:
        figs[kind] = plots.draw(kind, rows, info, label)
        bar.update(1)
    bar.update(len(plots.KINDS) - len(kinds))
    best = cells.loc[cells["best_reward"].idxmax()]
    row = rows[rows["cell"] == best["cell"]].sort_values("reward").iloc[-1]
    design = ", ".join(f"{p['name']}={row[p['name']]}" for p in info.params)
    shown = list(info.objective["metrics"])
    found = f"Best design found: <code>{html.escape(design)}</code>, reward {row['reward']:.4g}"
    if optimum is not None:
        found += f" ({runs.regret_pct(row['reward'], optimum, info):.3g}% regret)"
    found += (f"; {html.escape(_metrics_text(row.to_dict(), shown))} "
              f"(by {html.escape(best['agent'])}, setting {best['setting']}, seed {best['seed']}).")
    if best_known is not None:
        exact = (f"Exact optimum (all {info.size:,} designs enumerated): reward {optimum:.4g}, "
                 f"<code>{html.escape(', '.join(f'{k}={v}' for k, v in best_known[1].items()))}</code>; "
                 f"{html.escape(_metrics_text(best_known[2], shown))}.")
    else:
        exact = f"Exact optimum and front: {html.escape(runs.ground_truth_note(info))}."
    objective = {k: v for k, v in info.objective.items() if k != "directions"}
    parts = [f"<h2>{html.escape(env_title(label, info))}</h2>",
             f"<p class='reward'><b>Reward.</b> {html.escape(reward_words(info.objective))}</p>",
             f"<p class='note'>Objective <code>{html.escape(json.dumps(objective))}</code>; {info.size:,} designs; "
             f"{len(rows):,} evaluations in {cells['cell'].nunique()} runs ({cells['agent'].nunique()} agents, "
             f"{seeds_words(cells['seed'])}, {int(cells['evaluations'].max()):,} evaluations per run).</p>",
             f"<p>{found}</p>", f"<p>{exact}</p>"]
    parts += _comparison_part(rows, info, cells, optimum)
    parts += ["<div class='figs'>" + _img(figs["convergence"], "regret or best reward vs evaluations")
              + _img(figs["final"], "final results per agent") + "</div>",
              "<h3>Pareto fronts</h3>",
              f"<p class='note'>{html.escape(_pareto_words(info))}</p>",
              _img(figs["pareto"], "Pareto fronts", "wide")]
    rest = [k for k in kinds if k in ("hypervolume", "lottery", "success")]
    parts += ["<h3>Hypervolume" + (", lottery" if "lottery" in rest else "") +
              (" and success rate" if "success" in rest else "") + "</h3>",
              "<div class='figs'>" + "".join(_img(figs[k], k) for k in rest) + "</div>"]
    if n_settings > 1:
        parts += _lottery_part(info, cells, optimum)
    return "\n".join(parts)


def _pareto_words(info) -> str:
    text = (f"Fronts over {' and '.join(quantity(m) for m in info.pareto[:2])}. Each agent's panel shows the front of "
            f"each of its runs; the first panel pools every agent's runs.")
    if len(info.pareto) > 2:
        text += (f" The run also names {quantity(info.pareto[2])}: `archgym plot RUN_DIR --pareto "
                 f"{','.join(info.pareto)}` draws all three in 3-D.")
    return text


def _proxy_section(run_dir: Path) -> str:
    """Reports stored in RUN_DIR/proxy/*.npz (or older *.pt) by `archgym proxy` (if any)."""
    files = sorted([*(run_dir / "proxy").glob("*.npz"), *(run_dir / "proxy").glob("*.pt")])
    if not files:
        return ""
    import pandas as pd
    from archgym.envs.proxy import Proxy, ProxyError
    parts = []
    for f in files:
        try:
            rep = Proxy.load(f).report
        except ProxyError:  # not a proxy file: skip it
            continue
        if not rep:
            continue
        s = rep["speed"]
        m = pd.DataFrame([{"metric": k, "RMSE (% of range)": v["rmse_pct_range"],
                           "median rel. error (%)": v["median_rel_err_pct"], "Kendall τ": v["kendall_tau"]}
                          for k, v in rep["metrics"].items()])
        parts += [f"<h3>{html.escape(rep['env'])}: {html.escape(rep['kind'])} (<code>{html.escape(f.name)}</code>)</h3>",
                  f"<p class='note'>{rep['n_train']:,} training / {rep['n_test']:,} held-out distinct designs. Time per "
                  f"evaluation, batch of {s['batch']}: real {s['real_batch_us']:.3g} µs, proxy {s['proxy_batch_us']:.3g} µs "
                  f"(speedup {s['speedup_batch']:.2f}×); one design per call: real {s['real_single_us']:.3g} µs, proxy "
                  f"{s['proxy_single_us']:.3g} µs (speedup {s['speedup_single']:.2f}×).</p>", _table(m)]
    return "\n".join(["<h2>Proxy cost models</h2>"] + parts) if parts else ""


def _warnings_section(ct) -> str:
    """Distinct warnings raised inside the searches, with how many runs raised each."""
    if "warnings" not in ct or not ct["warnings"].notna().any():
        return ""
    import pandas as pd
    counts: dict[tuple, int] = {}
    for agent, text in zip(ct["agent"], ct["warnings"]):
        for w in text.splitlines() if isinstance(text, str) else ():
            counts[(agent, w)] = counts.get((agent, w), 0) + 1
    table = pd.DataFrame([{"agent": a, "warning": w, "runs": n} for (a, w), n in sorted(counts.items())])
    return "\n".join(["<h2>Warnings raised during the searches</h2>",
                      f"<p class='note'>{int(ct['warnings'].notna().sum())} run(s) raised warnings; each distinct "
                      f"warning once per agent, with the number of runs that raised it.</p>", _table(table)])


def build_report(run_dir, show_progress: bool | None = None) -> str:
    """The HTML text of a run's report."""
    import archgym
    from archgym.experiments.log import cells as cell_table, env_infos, meta as run_meta
    run_dir = Path(run_dir)
    df = archgym.load(run_dir)
    infos = env_infos(run_dir)
    meta = run_meta(run_dir)
    ct = cell_table(run_dir)
    failed = ct[ct["status"] != "done"]
    title = f"archgym run: {meta.get('name', run_dir.name)}"
    head = [f"<h1>{html.escape(title)}</h1>",
            f"<p class='note'>{html.escape(str(run_dir))} · experiment hash {html.escape(meta.get('hash', '')[:12])} · "
            f"archgym {html.escape(meta.get('archgym', ''))} · report written {time.strftime('%Y-%m-%d %H:%M')}</p>",
            f"<p>Runs done: {(ct['status'] == 'done').sum()}, failed: {len(failed)}; {len(df):,} evaluations; "
            f"{ct['wall_time_s'].sum():.1f} s of search time in the workers.</p>"]
    if len(failed):
        head += ["<h3>Failed runs</h3>", _table(failed[["env", "agent", "setting", "seed", "attempts", "error"]])]
    labels = [label for label in infos if (df["env"] == label).any()]
    with progress(len(labels) * len(plots.KINDS), f"report of {run_dir}", "figure", show_progress) as bar:
        body = [_env_section(label, infos[label], df[df["env"] == label], bar) for label in labels]
    if not labels:
        body = ["<p>No evaluations yet: run the sweep first.</p>"]
    tail = [_warnings_section(ct), _proxy_section(run_dir), "<h2>Experiment file</h2>",
            f"<pre>{html.escape(meta.get('text', ''))}</pre>"]
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>" + "\n".join(head + body + tail) + "</body></html>")


def write_report(run_dir, out=None, show_progress: bool | None = None) -> Path:
    """Write the report (default RUN_DIR/report.html); returns its path."""
    out = Path(out) if out is not None else Path(run_dir) / "report.html"
    text = build_report(run_dir, show_progress)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out

