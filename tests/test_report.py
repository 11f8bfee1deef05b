"""Plots and the HTML report: the statistics behind them, the true front, the files, a headless
browser rendering, and the CLI."""
import base64
import json
import os
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
    assert len(images) == 6  # convergence, final, pareto, hypervolume, lottery (ga has 2 settings), success
    assert all(base64.b64decode(i)[:8] == PNG for i in images)
    assert not re.search(r"(src|href)=['\"]?(https?:|file:|//)", text)  # nothing to fetch
    assert "The hyper-parameter lottery" in text and "lottery spread" in text
    assert "Agents compared" in text and "final regret %, median [95% CI]" in text
    assert "reward = −log10 latency − log10 energy − log10 area, i.e. −log10 EDAP" in text  # the reward, in words
    titles = re.findall(r"<h[123]>(.*?)</h[123]>", text)
    assert f"{ENV}" in titles and not any("{" in t or "&quot;" in t for t in titles)  # readable titles, no raw JSON
    assert f"{len(df):,} evaluations" in text and "Experiment file" in text
    path = write_report(out, tmp_path / "r.html")
    assert path.read_text(encoding="utf-8") .startswith("<!DOCTYPE html>")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (make chromium, or apt-get install chromium)")
@pytest.mark.parametrize("width,height", [(1280, 2400), (412, 2400)])  # a laptop window and a phone
def test_report_renders_in_headless_chromium(run, tmp_path, width, height):
    out, _, _ = run
    page = write_report(out, tmp_path / "report.html")
    shot = tmp_path / f"report-{width}.png"
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={width},{height}",
                           f"--screenshot={shot}", page.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert shot.exists(), proc.stderr
    keep = os.environ.get("ARCHGYM_SCREENSHOTS")  # a directory to keep the screenshots in, to look at them
    if keep:
        shutil.copy(shot, Path(keep) / shot.name)
    import matplotlib.image as mpimg
    img = mpimg.imread(shot)[..., :3]
    assert img.shape[:2] == (height, width)
    rows = img.std(axis=(1, 2))
    assert (rows > 0.01).mean() > 0.2  # drawn content (text, tables, plots) down a good part of the page
    # the plots were decoded: multi-coloured pixels (an undecoded image draws none; a 412 px-wide page
    # shows its small plots in ~900 such pixels, the 1280 px page in several thousand)
    colourful = (img.max(axis=2) - img.min(axis=2)) > 0.3
    assert colourful.sum() > 500
    # nothing runs off the right edge: the figures scale to the window, so the page's right margin stays blank
    ink = (img < 0.9).any(axis=2)
    assert ink[:, int(0.985 * width):].mean() < 0.01
    assert ink[:, : width // 2].mean() > 0.02 and ink[:, width // 2:].mean() > 0.01  # content across the width


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


# --- the comparison figures: titles, legends, labels, notes ----------------------------------------------------------
def _texts(fig) -> str:
    parts = [fig._suptitle.get_text() if fig._suptitle else ""]
    for ax in fig.axes:
        parts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()] + [t.get_text() for t in ax.texts]
        if ax.get_legend():
            parts += [t.get_text() for t in ax.get_legend().get_texts()]
    return "\n".join(parts)


def test_comparison_statistics(run):
    _, df, info = run
    cells = runs.cell_summary(df, info)
    chosen, how = runs.comparison_cells(cells)
    # ga ran two settings, one of them its default (population 32): only the default's runs stand for it
    assert how == {"ga": "default setting", "random": "default setting"}
    ga = chosen[chosen.agent == "ga"]
    assert len(ga) == 3 and {json.loads(h)["population"] for h in ga["hparams"]} == {32}
    curves = runs.best_so_far_curves(df, chosen)
    for agent, C in curves.items():
        assert C.shape == (3, 40) and (np.diff(C, axis=1) >= 0).all()
        np.testing.assert_allclose(np.sort(C[:, -1]), np.sort(chosen[chosen.agent == agent]["best_reward"]))
    optimum = runs.true_optimum(info)
    reg = runs.regret_pct(curves["random"][:, -1], optimum, info)
    np.testing.assert_allclose(reg, 100 * (10 ** (optimum - curves["random"][:, -1]) - 1))  # EDAP ratio - 1, in %
    table = runs.comparison_table(chosen, how, optimum, info).set_index("agent")
    med, lo, hi = runs.median_ci(reg)
    assert table.loc["random", "final regret %, median"] == pytest.approx(np.median(reg)) == pytest.approx(med)
    assert lo <= med <= hi and table.loc["random", "runs"] == 3
    assert runs.median_ci([2.0, 2.0, 2.0]) == (2.0, 2.0, 2.0)


def test_figures_carry_titles_legends_and_human_labels(run):
    _, df, info = run
    conv = plots.convergence(df, info)
    text = _texts(conv)
    assert "Regret of the best design so far: median and IQR over seeds 0–2" in text
    assert "ga (default setting, 3 runs)" in text and "random (default setting, 3 runs)" in text
    assert "regret: % worse than the exact optimum" in text and "evaluations (simulator calls)" in text
    assert "reward = −log10 latency − log10 energy − log10 area" in text  # the reward, in words, on the figure
    final = _texts(plots.final(df, info))
    assert "Regret after 40 evaluations, one point per run, seeds 0–2" in final and "final regret" in final
    front = plots.pareto(df, info, ["latency_s", "energy_j"])
    assert len(front.axes) == 3  # all agents, then one panel per agent
    text = _texts(front)
    assert re.search(r"latency \((ms|µs)\)", text) and re.search(r"energy \((mJ|µJ|J)\)", text)
    assert all("_" not in ax.get_xlabel() + ax.get_ylabel() for f in (front, conv) for ax in f.axes)  # no raw names
    assert "exact front" in text and "exact optimum of the reward" in text and "seeds 0–2" in text
    assert "ga (default setting): one front per run" in text and "front of each run (3)" in text


def test_degenerate_panels_say_why(run):
    _, df, info = run
    text = _texts(plots.success(df, info, curves={"ga": np.zeros(40), "random": np.zeros(40)}))
    assert "no run met the target spec within 40 evaluations" in text
    text = _texts(plots.hypervolume(df, info, curves={"ga": (0, np.zeros((3, 40)))}))
    assert "hypervolume is 0 for every agent" in text
    only_ga = df[df["agent"] == "random"]
    assert "one hyper-parameter setting per agent" in _texts(plots.lottery(only_ga, info))


def test_plots_draw_on_any_axes_and_never_switch_backend(run, monkeypatch):
    import matplotlib
    from matplotlib.figure import Figure
    _, df, info = run
    monkeypatch.setattr(matplotlib, "use", lambda *a, **k: pytest.fail("a plot switched the matplotlib backend"))
    backend = matplotlib.get_backend()
    fig = Figure()
    a, b = fig.subplots(1, 2)
    assert plots.pareto(df, info, ["latency_s", "energy_j"], ax=a) is fig and len(fig.axes) == 2
    assert plots.convergence(df, info, ax=b) is fig
    ax3 = Figure().add_subplot(projection="3d")
    assert plots.pareto(df, info, ["latency_s", "energy_j", "area_mm2"], ax=ax3) is ax3.figure
    assert ax3.get_zlabel().startswith("area (mm²)")
    with pytest.raises(archgym.ArchGymError, match="3-D Axes"):
        plots.pareto(df, info, ["latency_s", "energy_j", "area_mm2"], ax=Figure().add_subplot())
    assert matplotlib.get_backend() == backend


def test_plot_all_and_cli_plot(run, tmp_path, capsys):
    from archgym.cli import main
    out, _, _ = run
    written = plots.plot_all(out)
    assert [p.name for p in written] == [f"{k}.png" for k in plots.KINDS]
    assert all(p.read_bytes()[:8] == PNG for p in written)
    capsys.readouterr()
    assert main(["plot", str(out), "--final", "--convergence"]) == 0
    assert capsys.readouterr().out.split() == [str(out / "convergence.png"), str(out / "final.png")]
    assert main(["plot", str(out), "--final", "--convergence", "-o", str(tmp_path / "x.png")]) == 2
    assert "-o/--output names one image" in capsys.readouterr().err


def test_report_of_a_search_folder(tmp_path, capsys):
    from archgym.cli import main
    out = tmp_path / "search"
    assert main(["search", ENV, "--agent", "random", "--budget", "30", "--seed", "3", "--out", str(out),
                 "--no-progress"]) == 0
    assert main(["report", str(out)]) == 0
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "Runs done: 1, failed: 0" in text and "seed 3" in text and "reward = −log10" in text
    assert (out / "convergence.png").read_bytes()[:8] == PNG
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 3 and summary["env"] == ENV and summary["objective"]["mode"] == "product"
    assert 0 <= summary["exact_optimum"]["regret_pct"] and summary["exact_optimum"]["reward"] >= summary["best_score"]
