"""Plots and the HTML report: the statistics behind them, the true front, the files, a headless
browser rendering, and the CLI."""
import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import archgym
from archgym import analysis
from archgym.analysis import runs
from archgym.report import plots
from archgym.experiments import load_experiment, run_sweep
from archgym.experiments.log import env_infos
from archgym.report.html import build_report, write_report

ENV = "archgym/Systolic-ResNet18-Small-v0"
EXP = {"name": "report", "budget": 40, "seeds": 3, "envs": [ENV],
       "agents": ["random", {"name": "ga", "grid": {"population": [8, 32], "mutation_rate": [0.15]}}]}
PNG = b"\x89PNG\r\n\x1a\n"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "run"
    run_sweep(load_experiment(EXP), out=out, workers=2, progress=False)
    df = archgym.load(out)
    info = env_infos(out)[ENV]
    return out, df, info


def test_lottery_table_and_cell_summary(run):
    _, df, info = run
    cells = runs.cell_summary(df, info)
    assert len(cells) == 9 and (cells["evaluations"] == 40).all()
    np.testing.assert_allclose(cells.set_index("cell")["best_reward"].sort_index(),
                               df.groupby("cell")["reward"].max().sort_index())
    table, per_setting = runs.lottery_table(cells)
    ga = table.set_index("agent").loc["ga"]
    medians = cells[cells.agent == "ga"].groupby("setting")["best_reward"].median()
    assert ga["settings"] == 2 and ga["seeds"] == 3
    assert ga["best"] == pytest.approx(medians.max()) and ga["worst"] == pytest.approx(medians.min())
    assert ga["spread"] == pytest.approx(medians.max() - medians.min())
    # ga's defaults are population 32, mutation 0.15: that setting is the default one
    default = per_setting[(per_setting.agent == "ga") & per_setting["default"]]
    assert len(default) == 1 and json.loads(default["hparams"].iloc[0])["population"] == 32
    assert ga["default"] == pytest.approx(float(default["median_best"].iloc[0]))
    assert table.set_index("agent").loc["random", "spread"] == 0.0


def test_hypervolume_and_success_curves(run):
    _, df, info = run
    cells = runs.cell_summary(df, info)
    curves = runs.hypervolume_curves(df, info, cells)
    assert set(curves) == {"random", "ga"}
    for agent, (setting, C) in curves.items():
        assert C.shape == (3, 40) and (np.diff(C, axis=1) >= -1e-12).all() and (C >= 0).all()
        final = cells[(cells.agent == agent) & (cells.setting == setting)]["final_hv"].to_numpy()
        np.testing.assert_allclose(np.sort(C[:, -1]), np.sort(final), rtol=1e-9)
        best = cells[cells.agent == agent].groupby("setting")["final_hv"].median().max()
        assert np.median(C[:, -1]) == pytest.approx(best)
    succ = runs.success_curves(df, info)
    from archgym.core.objectives import Objective
    spec = Objective("target", list(info.target["targets"]), targets=info.target["targets"])
    hit = spec.success({m: df[m].to_numpy() for m in spec.metrics}, df["feasible"].to_numpy())
    for agent, c in succ.items():
        rows = df[df.agent == agent].assign(hit=hit[(df.agent == agent).to_numpy()])
        assert len(c) == 40 and (np.diff(c) >= 0).all() and 0 <= c[0] and c[-1] <= 1
        assert c[-1] == pytest.approx(rows.groupby("cell")["hit"].any().mean())


def test_true_front_dominates_every_logged_design(run):
    _, df, info = run
    metrics = ("latency_s", "energy_j", "area_mm2")
    T = runs.true_pareto(info, metrics)
    assert T is not None and 10 < len(T) < 500
    assert analysis.pareto_mask(T).all()  # mutually non-dominated
    V = df[list(metrics)].to_numpy()
    covered = [(T <= v * (1 + 1e-9)).all(axis=1).any() for v in V]
    assert all(covered)


def test_plot_files(run, tmp_path):
    out, _, _ = run
    for kind in plots.KINDS:
        path = plots.plot_run(out, kind, tmp_path / f"{kind}.png")
        data = path.read_bytes()
        assert data[:8] == PNG and len(data) > 10_000, kind
    p3 = plots.plot_run(out, "pareto", tmp_path / "p3.png", metrics=["latency_s", "energy_j", "power_w"])
    assert p3.read_bytes()[:8] == PNG
    with pytest.raises(archgym.UnknownNameError, match="unknown metric 'joules'"):
        plots.plot_run(out, "pareto", tmp_path / "x.png", metrics=["latency_s", "joules"])
    with pytest.raises(archgym.UnknownNameError, match="unknown env of this run 'nope'"):
        plots.plot_run(out, "pareto", tmp_path / "x.png", env="nope")


def test_report_is_self_contained(run, tmp_path):
    out, df, _ = run
    text = build_report(out)
    images = re.findall(r"<img src='data:image/png;base64,([A-Za-z0-9+/=]+)'", text)
    assert len(images) == 4
    assert all(base64.b64decode(i)[:8] == PNG for i in images)
    assert not re.search(r"(src|href)=['\"]?(https?:|file:|//)", text)  # nothing to fetch
    assert "Agents and the hyper-parameter lottery" in text and "lottery spread" in text
    assert f"{len(df):,} evaluations" in text and "Experiment file" in text
    path = write_report(out, tmp_path / "r.html")
    assert path.read_text(encoding="utf-8") .startswith("<!DOCTYPE html>")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt-get install chromium) for the browser check")
def test_report_renders_in_headless_chromium(run, tmp_path):
    out, _, _ = run
    page = write_report(out, tmp_path / "report.html")
    shot = tmp_path / "shot.png"
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,2400",
                           f"--screenshot={shot}", page.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert shot.exists(), proc.stderr
    import matplotlib.image as mpimg
    img = mpimg.imread(shot)
    assert img.shape[:2] == (2400, 1200)
    rows = img[..., :3].std(axis=(1, 2))
    assert (rows > 0.01).mean() > 0.2  # drawn content (text, tables, plots) down a good part of the page
    # the plots were decoded: large non-white, multi-coloured regions
    colourful = (img[..., :3].max(axis=2) - img[..., :3].min(axis=2)) > 0.3
    assert colourful.sum() > 2000


def test_cli_plot_and_report(run, tmp_path, capsys):
    from archgym.cli import main
    out, _, _ = run
    assert main(["report", str(out), "-o", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").stat().st_size > 50_000
    assert main(["plot", str(out), "--lottery", "-o", str(tmp_path / "l.png")]) == 0
    assert (tmp_path / "l.png").read_bytes()[:8] == PNG
    capsys.readouterr()
    assert main(["plot", str(out), "--pareto", "latency_s,watts"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "unknown metric 'watts'" in lines[0]
