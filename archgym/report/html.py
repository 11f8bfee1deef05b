"""`archgym report RUN_DIR`: one self-contained HTML page (plots inlined as base64 PNG, tables),
readable offline and safe to mail around."""
from __future__ import annotations

import base64
import html
import io
import json
import time
from pathlib import Path

from archgym.analysis import runs
from archgym.report import plots

_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; } th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
.figs { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; } .figs img { width: 100%; border: 1px solid #eee; }
.note { color: #555; font-size: 13px; } code { background: #f5f5f5; padding: 0 3px; }
"""


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plots.pyplot().close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _table(df, floats: str = "{:.4g}") -> str:
    fmt = lambda v: "0" if abs(v) < 1e-9 else floats.format(v)  # noqa: E731  (round-off shows as 0)
    return df.to_html(index=False, border=0, float_format=fmt, na_rep="–")


def _env_section(label: str, info, rows) -> str:
    cells = runs.cell_summary(rows, info)
    table, _ = runs.lottery_table(cells)
    hv = runs.hypervolume_curves(rows, info, cells)
    succ = runs.success_curves(rows, info)
    figs = [plots.pareto(rows, info), plots.hypervolume(rows, info, hv), plots.lottery(rows, info, cells),
            plots.success(rows, info, succ)]
    table["final HV (best setting, median)"] = [float(_median(hv[a][1][:, -1])) for a in table["agent"]]
    if succ:
        table["met target (% of cells)"] = [100 * float(succ[a][-1]) for a in table["agent"]]
    optimum = runs.true_optimum(info)
    if optimum is not None:
        from archgym.analysis import gap
        objective = runs.objective_of(info)
        for col in ("default", "best", "worst"):
            table[f"gap to optimum, {col} (%)"] = 100 * gap(table[col].to_numpy(), optimum, objective)
    table = table.rename(columns={"default": "default setting", "best": "best setting", "median": "median setting",
                                  "worst": "worst setting", "spread": "lottery spread", "iqr": "lottery IQR"})
    best = cells.loc[cells["best_reward"].idxmax()]
    row = rows[rows["cell"] == best["cell"]].sort_values("reward").iloc[-1]
    design = ", ".join(f"{p['name']}={row[p['name']]}" for p in info.params)
    parts = [f"<h2>{html.escape(label)}</h2>",
             f"<p class='note'>{html.escape(info.env_id)} {html.escape(json.dumps(info.kwargs))}; objective "
             f"<code>{html.escape(json.dumps({k: v for k, v in info.objective.items() if k != 'directions'}))}</code>; "
             f"{info.size:,} designs; {len(rows):,} evaluations in {cells['cell'].nunique()} cells."
             + (f" True optimum (exhaustive): reward {optimum:.4g}." if optimum is not None else
                f" True optimum and front: {html.escape(runs.ground_truth_note(info))}.") + "</p>",
             f"<p>Best design found: <code>{html.escape(design)}</code>, reward {row['reward']:.4g} "
             f"({html.escape(best['agent'])}, setting {best['setting']}, seed {best['seed']}).</p>",
             "<h3>Agents and the hyper-parameter lottery</h3>",
             "<p class='note'>Per agent, the best reward of each cell, median over seeds, summarised over its "
             "hyper-parameter settings: the default setting, the best, median and worst setting, and the lottery's "
             "spread (best − worst) and IQR over settings. Sorted by the best setting.</p>",
             _table(table),
             "<div class='figs'>" + "".join(f"<img src='{_png(f)}' alt='plot'>" for f in figs) + "</div>"]
    return "\n".join(parts)


def _median(a):
    import numpy as np
    return np.median(a)


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


def build_report(run_dir) -> str:
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
            f"<p>{(ct['status'] == 'done').sum()} cells done, {len(failed)} failed; {len(df):,} evaluations; "
            f"{ct['wall_time_s'].sum():.1f} s of search time in the workers.</p>"]
    if len(failed):
        head += ["<h3>Failed cells</h3>", _table(failed[["env", "agent", "setting", "seed", "attempts", "error"]])]
    body = [_env_section(label, info, df[df["env"] == label]) for label, info in infos.items()
            if (df["env"] == label).any()]
    text = meta.get("text", "")
    tail = [_proxy_section(run_dir), "<h2>Experiment file</h2>", f"<pre>{html.escape(text)}</pre>"]
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>" + "\n".join(head + body + tail) + "</body></html>")


def write_report(run_dir, out=None) -> Path:
    """Write the report (default RUN_DIR/report.html); returns its path."""
    out = Path(out) if out is not None else Path(run_dir) / "report.html"
    text = build_report(run_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out
