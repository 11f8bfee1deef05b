"""`archgym bench`: the suite, its checks, a tiny benchmark run end to end, reproducibility, the
cached truth, the report, the held-out lottery protocol and the CLI's errors."""
from __future__ import annotations

import json
import shutil
import sqlite3

import numpy as np
import pytest
import yaml

from archgym.analysis import bench as analysis
from archgym.analysis.truth import cache_dir, fingerprint, task_truth
from archgym.experiments import bench
from archgym.experiments.bench import BenchError

TINY = {
    "version": 0, "seeds": 3, "tuning_seeds": 2, "budget": 40, "checkpoints": [20, 40],
    "agents": ["random", "hill_climbing", "one_plus_one_ea"],
    "tasks": {"small": {"id": "archgym/Systolic-ResNet18-Small-v0", "about": "the test task"},
              "small-front": {"id": "archgym/Systolic-ResNet18-Small-v0", "objective": {"mode": "vector"},
                              "kwargs": {"workload": "resnet18"}}},
    "tuning_tasks": {"tune": {"id": "archgym/Systolic-ResNet18-Small-v0", "kwargs": {"space": "small"},
                              "budget": 40, "checkpoints": [20, 40]}},
}


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHGYM_CACHE", str(tmp_path / "cache"))


@pytest.fixture()
def tiny(tmp_path):
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return bench.load_suite(path)


def test_the_shipped_suite_is_valid_and_holds_the_required_tasks():
    suite = bench.load_suite()
    assert {"codesign-fpga", "systolic-bert-capped", "systolic-vit-front", "nb201-systolic", "nb201-fpga"} <= set(suite.tasks)
    assert any(t.multi_objective for t in suite.tasks.values())
    assert not set(suite.tasks) & set(suite.tuning_tasks) and suite.tuning_seeds == tuple(range(10))
    from agents import AGENTS
    assert set(suite.agents) <= set(AGENTS) and {"hill_climbing", "one_plus_one_ea", "random"} <= set(suite.agents)


def test_the_shipped_suite_holds_a_dram_task():
    assert any(t.id.startswith("archgym/DRAMController") for t in bench.load_suite().tasks.values())


def test_the_dram_task_keeps_refresh_on_and_its_optimum_is_a_strict_local_optimum():
    """dram-mix-p99: the seven controller knobs with all-bank refresh and no power-down fixed; the
    exact optimum (by enumeration, docs/leaderboard.md) has a p99 read latency of 990 ns (1,188 cycles
    of DDR4-2400's 1,200 MHz clock) at >= 12.8 GB/s, and every one-knob neighbour is worse or below the floor."""
    task = bench.load_suite().task("dram-mix-p99")
    base = task.make().unwrapped
    assert list(base.space.names) == ["page_policy", "scheduler", "scheduler_buffer", "request_buffer_size", "resp_queue",
                                "arbiter", "max_active_transactions"] and base.space.size == 13_824
    best = {"page_policy": "closed_adaptive", "scheduler": "fr_fcfs_grp", "scheduler_buffer": "read_write",
            "request_buffer_size": 16, "resp_queue": "fifo", "arbiter": "fifo", "max_active_transactions": 32}
    idx = base.space.to_indices(best)
    moves = [idx]
    for j, n in enumerate(base.space.nvec):
        for v in range(n):
            if v != idx[j]:
                moves.append(np.where(np.arange(len(idx)) == j, v, idx))
    out = base.evaluate(np.array(moves))
    assert out["p99_read_latency_ns"][0] == pytest.approx(990.0, abs=1e-9) and out["bandwidth_gbps"][0] >= 12.8
    assert len(moves) == 1 + sum(int(n) - 1 for n in base.space.nvec)
    assert np.all(out["reward"][1:] < out["reward"][0])  # worse p99, or infeasible below the floor


@pytest.mark.parametrize("kwargs, field", [
    ({"tasks": ["nope"]}, "--tasks: unknown task 'nope'"),
    ({"agents": ["nope"]}, "--agents: unknown agent 'nope'"),
    ({"budget": 10}, "--budget: 10 is below the minimum budget of task"),
    ({"seeds": [1, 2, 5], "held_out": True}, "--seeds: [1] overlap the lottery's tuning seeds 0-1"),
    ({"seeds": [3, 3]}, "--seeds: repeated seed"),
    ({"agents": ["sequential"]}, "--agents: agent 'sequential' cannot search task"),
])
def test_bad_requests_name_the_field(tiny, kwargs, field):
    with pytest.raises(BenchError) as e:
        bench.plan(tiny, **kwargs)
    assert field in str(e.value)


def test_held_out_seeds_default_to_after_the_tuning_seeds(tiny):
    assert bench.plan(tiny, tasks=["small"], held_out=True).seeds == (2, 3, 4)
    assert bench.plan(tiny, tasks=["small"]).seeds == (0, 1, 2)


def test_a_bad_suite_file_names_the_key(tmp_path):
    bad = dict(TINY, tasks={"x": {"id": "archgym/Systolic-v0", "budgett": 3}})
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(bad))
    with pytest.raises(BenchError, match="task 'x': unknown key 'budgett'"):
        bench.load_suite(tmp_path / "s.yaml")


def test_a_suite_file_that_repeats_a_key_or_is_not_text_is_refused(tmp_path):
    text = yaml.safe_dump(TINY)
    (tmp_path / "s.yaml").write_text(text + "budget: 7\n")   # TINY has a budget: safe_load would keep 7
    with pytest.raises(BenchError, match=rf"s.yaml:{text.count(chr(10)) + 1}: duplicate key 'budget'"):
        bench.load_suite(tmp_path / "s.yaml")
    (tmp_path / "b.yaml").write_bytes(b"\x80\x04binary")
    with pytest.raises(BenchError, match="suite file is a binary file|not UTF-8"):
        bench.load_suite(tmp_path / "b.yaml")
    with pytest.raises(BenchError, match="does not exist"):
        bench.load_suite(tmp_path / "missing.yaml")


def test_truth_is_cached_under_the_env_fingerprint_and_matches_exhaustive(tiny):
    from archgym.analysis import exhaustive
    task = tiny.task("small")
    said = []
    truth = task_truth(task, report=said.append)
    assert said and truth.optimum == exhaustive(task.make()).best_score
    assert truth.landscape["local_optima"] == 2 and truth.size == 36_750
    said.clear()
    assert task_truth(task, report=said.append).optimum == truth.optimum and not said  # read from the cache
    assert len(list(cache_dir().glob("small-*.json"))) == 1
    other = bench.Task("small", task.id, {"clock_ghz": 0.5}, budget=40, checkpoints=(20, 40))
    assert fingerprint(other, other.make()) != truth.fingerprint  # a different env is a different truth


def _run(tiny, out, **kw):
    p = bench.plan(tiny, tasks=["small", "small-front"], **kw)
    summary = bench.run(p, out, workers=2, progress=False)
    assert not summary.failed
    return analysis.load_results(out, tiny)


def test_a_tiny_benchmark_runs_reproduces_bit_for_bit_and_ranks_hill_climbing_above_random(tiny, tmp_path):
    a = _run(tiny, tmp_path / "a")
    b = _run(tiny, tmp_path / "b")
    ja, jb = analysis.to_json(analysis.leaderboard(a)), analysis.to_json(analysis.leaderboard(b))
    assert ja == jb  # the same seeds give the same leaderboard, bit for bit
    shutil.copytree(tmp_path / "a", tmp_path / "c")  # a run resumed after losing cells logs them last
    with sqlite3.connect(tmp_path / "c" / "log.sqlite") as db:
        db.execute("DELETE FROM evaluations WHERE cell IN (SELECT cell FROM cells WHERE seed = 0)")
        db.execute("DELETE FROM cells WHERE seed = 0")
    c = _run(tiny, tmp_path / "c")
    assert all(list(seeds) == [0, 1, 2] for _, seeds in c["small"].cells.groupby("label")["seed"])  # seed order
    assert analysis.to_json(analysis.leaderboard(c)) == ja
    r = a["small"]
    assert r.checkpoints == [20, 40] and set(r.labels) == {"random", "hill_climbing", "one_plus_one_ea"}
    assert np.all(np.diff(r.curves["random"], axis=1) <= 0)  # regret never grows
    assert r.distinct["hill_climbing"][:, -1].tolist() == [40, 40, 40]  # a climb never repeats a design
    s = r.summary().set_index("agent")
    assert s.loc["hill_climbing", "regret@40"] < s.loc["random", "regret@40"]
    front = a["small-front"]
    assert front.task.multi_objective and np.all((front.curves["random"] >= 0) & (front.curves["random"] <= 1))
    assert (front.cells["igd@40"] >= 0).all()
    data = json.loads(ja)
    assert data["ranking"]["tasks"] == 2 and data["tasks"]["small"]["landscape"]["designs"] == 36_750


def test_the_report_writes_tables_plots_and_generated_doc_blocks(tiny, tmp_path, monkeypatch):
    from archgym.cli import main
    suite_file = tmp_path / "suite.yaml"
    suite_file.write_text(yaml.safe_dump(TINY))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "leaderboard.md").write_text("# Leaderboard\n\nHand-written text stays.\n")
    args = ["bench", "--suite", str(suite_file), "--tasks", "small", "--out", str(tmp_path / "run"), "--quiet",
            "--workers", "2", "--report", "--docs", str(docs)]
    assert main(args) == 0
    md = (docs / "leaderboard.md").read_text()
    assert "Hand-written text stays." in md
    assert "<!-- BEGIN GENERATED: leaderboard (by `archgym bench --report --docs docs`) -->" in md
    assert "| hill_climbing | local_search |" in md and "<!-- END GENERATED: overhead -->" in md
    page = (tmp_path / "run" / "leaderboard.html").read_text()
    assert page.count("<img src='data:image/png;base64,") == 2  # regret vs budget and the ECDF
    assert main(args) == 0 and (docs / "leaderboard.md").read_text().count("BEGIN GENERATED: leaderboard") == 1


@pytest.mark.xdist_group("ray")  # one local Ray cluster at a time (tests/conftest.py)
def test_the_run_directory_experiment_runs_unchanged_on_ray(tiny, tmp_path):
    pytest.importorskip("ray", reason="the ray executor is an optional extra (pip install 'archgym[ray]')")
    from archgym.experiments import load_experiment, run_sweep
    import archgym
    _run(tiny, tmp_path / "a", agents=["random", "hill_climbing"], seeds=[0, 1])
    exp = load_experiment(tmp_path / "a" / "experiment.yaml")
    summary = run_sweep(exp, out=tmp_path / "b", executor="ray", workers=2, progress=False)
    assert summary.completed == 8
    cols = ["env", "agent", "seed", "step", "reward"]
    assert archgym.load(tmp_path / "a")[cols].sort_values(cols).reset_index(drop=True).equals(
        archgym.load(tmp_path / "b")[cols].sort_values(cols).reset_index(drop=True))


def test_held_out_protocol_chooses_on_tuning_seeds_and_reports_on_fresh_ones(tiny, tmp_path):
    from archgym.analysis.lottery import choose_settings
    from archgym.cli import main
    from archgym.experiments import run_sweep
    suite_file = tmp_path / "suite.yaml"
    suite_file.write_text(yaml.safe_dump(TINY))
    tuning = {"name": "tuning", "budget": 40, "seeds": [0, 1],
              "envs": [{"id": "archgym/Systolic-ResNet18-Small-v0", "label": "tune", "kwargs": {"space": "small"}}],
              "agents": ["random", "one_plus_one_ea", {"name": "one_plus_one_ea", "hparams": {"rate_factor": 3.0}}]}
    run_sweep(tuning, out=tmp_path / "lottery", workers=2, progress=False)
    tuned, table = choose_settings(tmp_path / "lottery", tiny)
    assert set(tuned) == {"random", "one_plus_one_ea"} and table["chosen"].sum() == 2
    with pytest.raises(Exception, match="not tuning seeds"):
        run_sweep(dict(tuning, seeds=[5]), out=tmp_path / "bad", workers=1, progress=False)
        choose_settings(tmp_path / "bad", tiny)
    common = ["--suite", str(suite_file), "--quiet", "--workers", "2"]
    assert main(["bench", *common, "--tasks", "small", "--agents", "random,one_plus_one_ea", "--out",
                 str(tmp_path / "suite-run")]) == 0
    docs = tmp_path / "docs"
    assert main(["bench", *common, "--held-out", "--tasks", "tune,small", "--lottery", str(tmp_path / "lottery"),
                 "--suite-run", str(tmp_path / "suite-run"), "--out", str(tmp_path / "heldout"), "--report",
                 "--docs", str(docs)]) == 0
    md = (docs / "lottery.md").read_text()
    assert "BEGIN GENERATED: lottery" in md and "| tune | " in md and "| one_plus_one_ea | 2 |" in md
    assert "Tuned settings ran on seeds 2-4" in md  # the seeds after the tuning seeds 0-1
    import archgym
    seeds = set(archgym.load(tmp_path / "heldout" / "tuning-tasks")["seed"])
    assert seeds == {2, 3, 4}


def test_cli_errors_exit_2_with_one_line(tiny, tmp_path, capsys):
    from archgym.cli import main
    suite_file = tmp_path / "suite.yaml"
    suite_file.write_text(yaml.safe_dump(TINY))
    for extra, text in ((["--tasks", "nope"], "--tasks: unknown task"), (["--agents", "nope"], "--agents: unknown agent"),
                        (["--budget", "5"], "--budget: 5 is below"), (["--seeds", "x-y"], "--seeds: expected"),
                        (["--held-out", "--seeds", "0-3", "--lottery", str(tmp_path)], "--lottery:"),
                        (["--suite-run", str(tmp_path)], "--suite-run: only with --held-out")):
        assert main(["bench", "--suite", str(suite_file), *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert text in err and len(err.splitlines()) == 1, err
