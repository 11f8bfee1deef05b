"""experiments/dram_proxy.py: its pieces on a tiny DRAM sweep, the block it writes, and its bad-input errors."""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from archgym.experiments import load_experiment
from archgym.experiments.log import EnvInfo, open_log

ROOT = Path(__file__).resolve().parent.parent
ENV = "archgym/DRAMController-Cloud1-v0"
TINY = {"name": "dram_proxy_tiny", "budget": 20, "seeds": 2, "envs": [{"id": ENV, "label": "dram-cloud1"}],
        "agents": ["random", {"name": "ga", "hparams": {"population": 8}}]}


def _script():
    if "dram_proxy" not in sys.modules:  # registered before it runs: its dataclasses look their module up
        sys.path.insert(0, str(ROOT / "experiments"))
        spec = importlib.util.spec_from_file_location("dram_proxy", ROOT / "experiments" / "dram_proxy.py")
        sys.modules["dram_proxy"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules["dram_proxy"])
    return sys.modules["dram_proxy"]


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    run = tmp_path_factory.mktemp("dram_proxy") / "run"
    return run, _script().measure(run, TINY, jobs=1, seeds=2, budget=24, progress=False, epochs=20, patience=5)


def test_the_block_has_a_row_per_model_metric_speed_and_seed(measured, tmp_path):
    run, m = measured
    script = _script()
    assert m.evaluations == 80 and [r.kind for r in m.reports] == ["mlp", "forest"]
    assert all(Path(r.path).parent == run / "proxy" for r in m.reports)  # where `archgym proxy` saves them
    md = script.markdown(m)
    distinct = m.reports[0].n_train + m.reports[0].n_test
    assert md.startswith(f"80 logged evaluations of `dram-cloud1` ({ENV}), {distinct} distinct designs with "
                         f"{m.outcomes} distinct (latency_s, power_w, energy_j) outcomes")
    assert 1 < m.outcomes <= distinct
    for r in m.reports:
        a = r.metrics["latency_s"]
        assert f"| {script.MODELS[r.kind]} | latency_s | {a['rmse_pct_range']:.2f}% |" in md
    assert sum(f"| {metric} |" in line for line in md.splitlines() for metric in script.SHOWN) == 2 * len(script.SHOWN)
    assert f"| all {m.reports[0].n_test} designs in one call |" in md and "| one design per call (" in md
    assert [d.seed for d in m.drop_in] == [0, 1] and "| 0 | " in md and "| 1 | " in md
    for d in m.drop_in:  # rewards are the real simulator's target-spec scores: 0 when met, below 0 otherwise
        assert all(-np.inf < v <= 0 for v in [d.real_reward, *d.proxy_reward.values()]), d
        assert f"| {d.seed} | {d.real_s:.2f} s, {d.real_reward:.4f} | {d.proxy_s['mlp']:.2f} s" in md
    assert "1-minute load average" in md

    doc = tmp_path / "lottery.md"
    doc.write_text("# page\n\n<!-- BEGIN GENERATED: dram-proxy (by `old`) -->\nstale 1,238×\n"
                   "<!-- END GENERATED: dram-proxy -->\n\nafter\n")
    from _docs import write_generated
    write_generated(doc, script.BLOCK, "python experiments/dram_proxy.py --seeds 2", md)
    text = doc.read_text()
    assert "stale" not in text and text.count("BEGIN GENERATED: dram-proxy") == 1 and text.endswith("after\n")
    assert "<!-- BEGIN GENERATED: dram-proxy (by `python experiments/dram_proxy.py --seeds 2`) -->\n80 logged" in text


def test_bad_run_directories_are_one_line_errors(tmp_path, capsys):
    script = _script()
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("not a run")
    assert script.main(["--run", str(junk)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--run {junk} holds no evaluations" in err
    assert script.check_run(tmp_path / "new", "dram-cloud1", ENV) is None  # a new directory is swept into

    other = tmp_path / "systolic"  # a run directory of another env (its log as a sweep starts it)
    exp = load_experiment({"name": "s", "budget": 4, "seeds": 1, "envs": ["archgym/Systolic-v0"], "agents": ["random"]})
    log = open_log(other, readonly=False)
    log.bind(exp)
    log.add_env(exp.envs[0].label, EnvInfo.from_env(exp.check_envs()[exp.envs[0].label], exp.envs[0]))
    log.close()
    assert script.main(["--run", str(other)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "archgym/Systolic-v0" in err and f"not of 'dram-cloud1' = {ENV}" in err
    assert script.main(["--run", str(other), "--seeds", "2"]) == 2
    assert "--seeds must be at least 3, got 2" in capsys.readouterr().err
