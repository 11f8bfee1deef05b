"""Sweeps end to end: the log's rows, resuming, a SIGKILLed driver, refusing a foreign run
directory, export, and the CLI."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

import archgym
from agents import make_agent
from agents.bo import TPE
from archgym.experiments import load_experiment, run_sweep
from archgym.experiments.log import RunDirError, RunLock, cells, export, meta, open_log

ENV = "archgym/Systolic-ResNet18-Small-v0"
SMALL = {"name": "small", "budget": 30, "seeds": 2, "envs": [ENV],
         "agents": ["random", {"name": "ga", "hparams": {"population": 6}, "grid": {"mutation_rate": [0.1, 0.3]}}]}
TIMES = ["eval_time_s", "agent_time_s"]


def write(path: Path, data: dict) -> Path:
    import yaml
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "small"
    summary = run_sweep(load_experiment(SMALL), out=out, workers=2, progress=False)
    return out, summary


def test_log_rows_match_a_direct_search(small_run):
    out, summary = small_run
    assert summary.completed == 6 and summary.skipped == 0 and not summary.failed and summary.evaluations == 180
    df = archgym.load(out)
    assert len(df) == 180 and not df.duplicated(["cell", "step"]).any()
    for col in ["run", "env", "agent", "family", "hparams", "setting", "seed", "step", "rows", "dataflow",
                "latency_s", "energy_j", "area_mm2", "reward", "feasible", "eval_time_s", "agent_time_s"]:
        assert col in df.columns, col
    assert set(df["run"]) == {"small"} and set(df["agent"]) == {"random", "ga"}
    assert df.groupby("cell").size().tolist() == [30] * 6
    assert df["rows"].dtype.kind == "i" and set(df["dataflow"]) <= {"os", "ws", "is"}
    # the worker path reproduces an in-process search exactly: same designs, metrics and rewards
    row = df[(df.agent == "ga") & (df.seed == 1) & (df.setting == 1)].sort_values("step")
    hp = json.loads(row["hparams"].iloc[0])
    assert hp == {"population": 6, "crossover_prob": 0.9, "mutation_rate": 0.3, "tournament_size": 3}
    ref = make_agent("ga", seed=1, **hp).search(gym.make(ENV), budget=30).history.to_frame()
    np.testing.assert_array_equal(row["rows"].to_numpy(), ref["rows"].to_numpy())
    np.testing.assert_allclose(row["latency_s"].to_numpy(), ref["latency_s"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(row["reward"].to_numpy(), ref["score"].to_numpy(), rtol=1e-12)
    info = open_log(out).envs()[ENV]
    assert info.pareto == ["latency_s", "energy_j", "area_mm2"] and info.size == 36_750 and len(info.ref_point) == 3
    assert info.target["mode"] == "target" and set(info.target["targets"]) == {"latency_s", "energy_j", "area_mm2"}


def test_rerun_skips_done_cells_and_refuses_another_experiment(small_run, tmp_path):
    out, _ = small_run
    before = len(archgym.load(out))
    again = run_sweep(load_experiment(SMALL), out=out, workers=2, progress=False)
    assert again.skipped == 6 and again.completed == 0 and again.evaluations == 0
    assert len(archgym.load(out)) == before
    other = write(tmp_path / "other.yaml", {**SMALL, "seeds": 3})
    with pytest.raises(RunDirError) as e:
        run_sweep(other, out=out, progress=False)
    text = str(e.value)
    assert "holds experiment 'small'" in text and "different one" in text and "--out" in text and f"delete {out}" in text
    assert meta(out)["hash"] == load_experiment(SMALL).hash


def test_refuses_to_resume_when_the_simulator_changed(small_run, tmp_path):
    import shutil
    import sqlite3
    from archgym.analysis import runs
    out = tmp_path / "copy"
    shutil.copytree(small_run[0], out)
    with sqlite3.connect(out / "log.sqlite") as conn:  # pretend the run was made by another simulator version
        text, = conn.execute("SELECT info FROM envs").fetchone()
        info = json.loads(text)
        info["default_metrics"]["latency_s"] *= 1.5
        conn.execute("UPDATE envs SET info = ?", (json.dumps(info),))
    with pytest.raises(RunDirError, match="its simulator now gives latency_s = .* would not be comparable .* To start fresh"):
        run_sweep(load_experiment(SMALL), out=out, progress=False)
    tampered = open_log(out).envs()[ENV]
    assert "the env changed since the run" in runs.ground_truth_note(tampered)
    assert runs.true_pareto(tampered, ("latency_s", "energy_j")) is None and runs.true_optimum(tampered) is None
    assert runs.ground_truth_note(open_log(small_run[0]).envs()[ENV]) == ""


def test_run_directory_is_locked_while_a_sweep_writes(tmp_path):
    with RunLock(tmp_path):
        with pytest.raises(RunDirError, match=f"another sweep \\(pid {os.getpid()}\\) is writing"):
            with RunLock(tmp_path):
                pass
    with RunLock(tmp_path):  # released
        pass


def test_export_parquet_and_csv_round_trip(small_run, tmp_path):
    out, _ = small_run
    df = archgym.load(out)
    pq = export(out, tmp_path / "log.parquet")
    back = pd.read_parquet(pq)
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    csv = export(out, tmp_path / "log.csv")
    back = pd.read_csv(csv)
    assert back.shape == df.shape
    np.testing.assert_allclose(back["latency_s"], df["latency_s"], rtol=1e-15)


def test_progress_bar_shows_evaluations_and_eta(tmp_path, capsys):
    run_sweep(load_experiment({**SMALL, "seeds": 1, "agents": ["random"]}), out=tmp_path / "p", workers=1, progress=True)
    err = capsys.readouterr().err
    assert "30/30" in err and "eval" in err and "100%" in err and "<" in err  # tqdm's elapsed<remaining


def _children(pid: int) -> set[int]:
    """Every descendant of `pid` (Linux /proc)."""
    parent = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    out, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parent.items() if pp in frontier} - out
        out |= frontier
    return out


class GatedTPE(TPE):
    """TPE whose fourth and later searches wait at a gate (a directory named by ARCHGYM_TEST_GATE)
    until the test opens it: the test kills the sweep at a known point instead of racing it.
    Without the variable (in-process sweeps, whose fork server may predate it) it is plain TPE."""
    name = "gated_tpe"

    def _start(self):
        super()._start()
        if "ARCHGYM_TEST_GATE" not in os.environ:
            return
        gate = Path(os.environ["ARCHGYM_TEST_GATE"])
        started = gate / "started"
        started.mkdir(parents=True, exist_ok=True)
        n = len(list(started.iterdir()))
        (started / f"{n}-{os.getpid()}").touch()
        if n >= 3:
            (gate / "blocked").touch()
            deadline = time.monotonic() + 300
            while not (gate / "open").exists() and time.monotonic() < deadline:  # the test kills this process first
                time.sleep(0.01)


def _rows(run_dir) -> int:
    try:
        return len(archgym.load(run_dir))
    except archgym.ArchGymError:  # not created yet
        return -1


def _wait_for(condition, what: str, proc=None, timeout_s: float = 300):
    """Wait until `condition()` holds (an event the test waits on, with a deadline only for hangs)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the sweep ended before {what}: {proc.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc to find the sweep's worker processes")
def test_sigkilled_sweep_resumes_with_no_lost_or_duplicated_rows(tmp_path):
    exp = {"name": "killme", "budget": 40, "seeds": 4, "envs": [ENV],
           "agents": [{"name": "test_experiments_sweep:GatedTPE", "grid": {"n_startup_trials": [5, 10, 20]}}]}  # 12 cells
    path = write(tmp_path / "killme.yaml", exp)
    out, gate = tmp_path / "killed", tmp_path / "gate"
    env = {**os.environ, "ARCHGYM_TEST_GATE": str(gate),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "archgym.cli", "sweep", str(path), "--out", str(out),
                             "--workers", "1", "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _wait_for(lambda: (gate / "blocked").exists(), "the fourth cell reached the gate", proc)
    _wait_for(lambda: _rows(out) == 3 * 40, "three cells were committed", proc)  # the driver commits after a cell
    workers = _children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    partial = archgym.load(out)
    n_done = partial["cell"].nunique()
    assert 3 <= n_done < 12 and len(partial) == 40 * n_done
    # the driver's pool and workers notice and exit by themselves
    _wait_for(lambda: not {p for p in workers if Path(f"/proc/{p}/stat").exists()
                           and ") Z" not in Path(f"/proc/{p}/stat").read_text()}, "orphaned workers to exit", timeout_s=60)

    summary = run_sweep(path, out=out, workers=2, progress=False)
    assert summary.skipped == n_done and summary.completed == 12 - n_done and not summary.failed
    resumed = archgym.load(out)
    assert len(resumed) == 12 * 40 and not resumed.duplicated(["cell", "step"]).any()
    reference = archgym.load(run_sweep(path, out=tmp_path / "clean", workers=2, progress=False).run_dir)
    key = ["cell", "step"]
    a = resumed.drop(columns=TIMES).sort_values(key).reset_index(drop=True)
    b = reference.drop(columns=TIMES).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_cli_sweep_export_and_bad_input(tmp_path, capsys):
    from archgym.cli import main
    path = write(tmp_path / "cli.yaml", {**SMALL, "seeds": 1, "agents": ["random"]})
    out = tmp_path / "cli-run"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    assert "1 cells (0 already done, 1 run now, 0 failed); 30 evaluations" in capsys.readouterr().out
    assert main(["export", str(out), "--parquet", "--csv"]) == 0
    assert len(pd.read_parquet(out / "evaluations.parquet")) == 30 and (out / "evaluations.csv").stat().st_size > 1000
    bad = write(tmp_path / "bad.yaml", {**SMALL, "agents": ["random", "simulated_anealing"]})
    for args, message in [
        (("sweep", str(bad)), "bad.yaml:8: agents[1].name: unknown agent 'simulated_anealing'"),
        (("sweep", str(path), "--out", str(out), "--executor", "ray", "--address", "no-port"),
         "Ray address must be host:port"),
        (("sweep", str(path), "--out", str(out), "--workers", "0"), "workers must be a positive integer"),
        (("export", str(tmp_path / "nowhere"), "--csv"), "is not a run directory"),
        (("export", str(out)), "export needs --parquet"),
    ]:
        capsys.readouterr()
        assert main(list(args)) == 2, args
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], lines
