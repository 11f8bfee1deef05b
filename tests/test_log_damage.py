"""The evaluation log survives damage: a damaged log is reported with the file and what to do (never
"all done"), cells with missing rows are redone, and parameters of any cardinality are logged."""
import os
import shutil
import sqlite3

import numpy as np
import pytest

import archgym
from archgym.core.space import DesignSpace, Integer, config_values
from archgym.experiments import load_experiment, run_sweep
from archgym.experiments.log import LogDamagedError, export, open_log

ENV = "archgym/Systolic-ResNet18-Small-v0"
SMALL = {"name": "damage", "budget": 12, "seeds": 2, "envs": [ENV], "agents": ["random"]}


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("damage") / "run"
    run_sweep(load_experiment(SMALL), out=out, workers=1, progress=False)
    return out


def _copy(clean_run, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(clean_run, out)
    return out, out / "log.sqlite"


def _overwrite(path, offset, data):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


DAMAGE = {
    "truncated": lambda p: os.truncate(p, p.stat().st_size // 3),
    "page of garbage": lambda p: _overwrite(p, 3 * 4096, b"\xff" * 4096),
    "header overwritten": lambda p: _overwrite(p, 0, b"not sqlite at all"),
    "text file": lambda p: p.write_text("hello\n"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_log_is_reported_with_the_file_and_what_to_do(clean_run, tmp_path, damage):
    out, db = _copy(clean_run, tmp_path)
    DAMAGE[damage](db)
    for read in (archgym.load, lambda d: export(d, tmp_path / "x.csv")):
        with pytest.raises(LogDamagedError) as e:
            read(out)
        assert str(db) in str(e.value) and "restore it from a backup" in str(e.value)
    with pytest.raises(LogDamagedError) as e:  # a resume never says "all done" over a damaged log
        run_sweep(load_experiment(SMALL), out=out, workers=1, progress=False)
    assert f"mv {db} {db}.damaged" in str(e.value) and "run the same command again" in str(e.value)


def test_a_foreign_sqlite_file_is_not_taken_for_a_log(tmp_path):
    db = tmp_path / "run" / "log.sqlite"
    db.parent.mkdir()
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE cells (x)")
    with pytest.raises(LogDamagedError, match="table 'cells' lacks column"):
        open_log(db.parent, readonly=False)


def test_cells_missing_rows_are_redone_and_never_exported(clean_run, tmp_path):
    out, db = _copy(clean_run, tmp_path)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM evaluations WHERE step >= 5 AND cell = (SELECT MIN(cell) FROM cells)")
    with pytest.raises(LogDamagedError, match="1 cell\\(s\\) marked done miss some of their rows"):
        archgym.load(out)
    summary = run_sweep(load_experiment(SMALL), out=out, workers=1, progress=False)
    assert summary.skipped == 1 and summary.completed == 1
    df = archgym.load(out)
    assert len(df) == 2 * 12 and not df.duplicated(["cell", "step"]).any()
    ref = archgym.load(clean_run)
    key = ["cell", "step"]
    np.testing.assert_array_equal(df.sort_values(key)["latency_s"], ref.sort_values(key)["latency_s"])


def test_resume_works_for_parameters_with_more_than_256_values(tmp_path):
    rows = list(range(1, 301))  # 300 allowed values: the log once crashed after the first cell, on every rerun
    exp = load_experiment({**SMALL, "name": "wide", "envs": [{"id": ENV, "kwargs": {"space": {"rows": rows, "cols": [8, 16]}}}]})
    first = run_sweep(exp, out=tmp_path / "wide", workers=1, progress=False)
    assert first.completed == 2 and not first.failed
    again = run_sweep(exp, out=tmp_path / "wide", workers=1, progress=False)
    assert again.skipped == 2 and again.completed == 0
    df = archgym.load(tmp_path / "wide")
    assert len(df) == 24 and df["rows"].between(1, 300).all() and set(df["cols"]) <= {8, 16}
    env = exp.envs[0].make()  # the logged values are the ones the env evaluated
    out = env.unwrapped.evaluate([{"rows": int(r), "cols": int(c)} for r, c in zip(df["rows"], df["cols"])])
    np.testing.assert_allclose(df["latency_s"], out["latency_s"], rtol=1e-12)


def test_large_ranges_are_logged_by_their_bounds():
    space = DesignSpace([Integer("n", 0, 999_999, step=3), Integer("k", 1, 8)])
    config = space.to_config()
    assert config[0]["range"] == [0, 1_000_000, 3] and config[1]["values"] == list(range(1, 9))
    assert config_values(config[0]) == space["n"].values and config_values(config[1]) == list(range(1, 9))
