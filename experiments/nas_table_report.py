"""Figures of the shipped tabular benchmark for docs/oracles.md: its provenance, training time, sizes,
accuracy by input resolution, seed noise, how well each cheap oracle ranks the `trained` accuracies,
and the post-training-quantisation loss. Writes the generated block `nas-table` of docs/oracles.md.

    python experiments/nas_table_report.py
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "oracles.md"
COMMAND = "python experiments/nas_table_report.py"


def report(seed: int = 0) -> str:
    from scipy.stats import kendalltau

    from archgym.nas.oracles import TABLE, PredictorOracle
    from archgym.nas.tables import read_table

    t = read_table(TABLE)
    meta, c = t.meta, t.columns
    acc = c["accuracy"]
    tau = {name: kendalltau(c[name], acc).statistic for name in ("naswot", "synflow", "macs", "params") if name in c}
    pred = PredictorOracle("mbv2-tab", seed=seed)
    repeats = np.array(list(meta.get("repeats", {}).values()))
    lines = [
        "## The shipped table (`archgym/data/nas/mbv2-tab.csv`)", "",
        "Measured by `python experiments/nas_table_report.py` from the table and its provenance file "
        "`mbv2-tab.json`.", "",
        f"- Built by `{meta.get('command')}` (seed {meta.get('seed')}), one process, {meta.get('threads')} torch "
        f"thread, torch {meta.get('torch')}, on {meta.get('machine')}: **{meta.get('wall_time_s', 0) / 3600:.2f} h wall "
        f"time, {meta.get('cpu_time_s', 0) / 3600:.2f} h CPU time** over {len(meta.get('sessions', []))} session(s) "
        f"(wall time includes the seed-noise repeats; the machine was shared with other jobs, so wall time "
        f"exceeds CPU time).",
        f"- {len(t):,} architectures (every one of space `{meta.get('space')}`), dataset `{meta.get('dataset')}`, "
        f"budget {meta.get('budget')}.",
        f"- Training time per architecture (`train_time_s`, one torch thread): median "
        f"{np.median(c['train_time_s']):.2f} s, max {c['train_time_s'].max():.2f} s.",
        f"- Size: {c['macs'].min() / 1e6:.3f} to {c['macs'].max() / 1e6:.3f} million MACs, "
        f"{c['params'].min():,.0f} to {c['params'].max():,.0f} parameters.",
        f"- Test accuracy: min {acc.min():.3f}, median {np.median(acc):.3f}, max {acc.max():.3f} "
        f"(std {acc.std():.3f} across architectures); mean by input resolution: "
        + ", ".join(f"{r:.0f} px {acc[c['resolution'] == r].mean():.3f}" for r in np.unique(c["resolution"])) + ".",
    ]
    if len(repeats):
        lines.append(f"- Seed noise: {len(repeats)} architectures trained with 3 seeds: mean per-architecture std "
                     f"{repeats.std(axis=1).mean():.4f}, max {repeats.std(axis=1).max():.4f} (accuracy fraction).")
    lines += ["", "Rank agreement with the `trained` accuracy over the whole table (Kendall tau):", "",
              "| oracle / proxy | Kendall tau vs trained accuracy |", "|---|---:|"]
    lines += [f"| zero-cost `{k}` | {v:.3f} |" for k, v in tau.items() if k in ("naswot", "synflow")]
    lines += [f"| {k} (size proxy) | {v:.3f} |" for k, v in tau.items() if k in ("macs", "params")]
    lines.append(f"| predictor (MLP, held-out {pred.report['n_test']} of {len(t)}, seed {seed}) | "
                 f"{pred.kendall_tau:.3f} (RMSE {pred.rmse:.4f}) |")
    quant = [k for k in c if k.startswith("accuracy_w")]
    if quant:
        lines += ["", "Post-training quantisation (the `accuracy_w{w}a{a}` columns used by CoDesign-FPGA-v0):", "",
                  "| weight / activation bits | mean accuracy | mean loss vs float | worst loss |", "|---|---:|---:|---:|"]
        for k in quant:
            w, a = k[len("accuracy_w"):].split("a")
            loss = acc - c[k]
            lines.append(f"| {w} / {a} | {c[k].mean():.3f} | {loss.mean():.3f} | {loss.max():.3f} |")
    return "\n".join(lines)


def main() -> int:
    text = report()
    from _docs import write_generated  # experiments/ is on sys.path when run as a script
    write_generated(DOC, "nas-table", COMMAND, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
