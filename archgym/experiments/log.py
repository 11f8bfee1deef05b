"""The evaluation log: one row per simulator evaluation, written only by the sweep driver.

Storage sits behind `EvaluationLog` (as Optuna's studies sit behind a storage); `SQLiteLog` is the
default, one file `log.sqlite` in the run directory, in WAL mode. A cell's rows and its `done`
mark are committed in one transaction, so a sweep killed at any instant (even SIGKILL) leaves
either all of a cell or none of it, and a rerun redoes only the missing cells. WAL with
synchronous=NORMAL survives a killed process; only a power cut may lose the last transactions.

Tables:
- `meta(key, value)`: experiment name, content hash and text, archgym version, creation time.
- `envs(label, ...)`: each env's id, kwargs, objective, design parameters, metrics, the
  hypervolume reference point and the target spec (for success rates).
- `cells(cell, env, agent, family, hparams, setting, seed, budget, status, attempts, error, warnings,
  evaluations, wall_time_s, finished_at)`.
- `evaluations(cell, step, reward, feasible, eval_time_s, agent_time_s, "design.<p>"..., "metric.<m>"...)`:
  design and metric columns are added as envs are registered.

`load(run_dir)` joins them into one DataFrame: run, env, agent, family, hparams (canonical JSON),
setting, seed, step, the design parameters, the metrics, reward (the scalar reward; summed in
vector mode), feasible, eval_time_s (simulation) and agent_time_s (the agent's own work), cell.
"""
from __future__ import annotations

import functools
import json
import os
import sqlite3
import time
from abc import ABC, abstractmethod
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from archgym.core.errors import ArchGymError
from archgym.core.space import config_values
from archgym.experiments.spec import Cell, Experiment, canonical

DB_NAME = "log.sqlite"
SPEC_NAME = "experiment.yaml"
LOCK_NAME = ".lock"
_FIXED = ("cell", "step", "reward", "feasible", "eval_time_s", "agent_time_s")
_FRAME_FIRST = ("run", "env", "agent", "family", "hparams", "setting", "seed", "step")
_SCHEMA = {"meta": {"key", "value"}, "envs": {"label", "info"},
           "cells": {"cell", "env", "agent", "family", "hparams", "setting", "seed", "budget", "status", "attempts",
                     "error", "warnings", "evaluations", "wall_time_s", "finished_at"},
           "evaluations": set(_FIXED)}


class RunDirError(ArchGymError):
    """A run directory that belongs to another experiment, is busy, or holds no log."""


# --- what workers send back, and what the driver knows about each env -------------------------------------
@dataclass
class CellResult:
    """A finished cell as a worker returns it: compact arrays, decoded and written by the driver."""
    indices: np.ndarray        # (n, n_params) design indices in the env's action encoding
    metric_names: tuple
    metrics: np.ndarray        # (n, n_metrics) float64
    reward: np.ndarray         # (n,) scalar reward
    feasible: np.ndarray       # (n,) bool
    eval_time_s: np.ndarray    # (n,) simulation time per evaluation, s
    agent_time_s: np.ndarray   # (n,) agent time per evaluation, s
    wall_time_s: float         # the whole search, s
    family: str = ""
    warnings: list = field(default_factory=list)  # distinct warnings raised during the search

    @classmethod
    def from_search(cls, result, family: str = "", warnings=()) -> "CellResult":
        """From an agents.SearchResult."""
        h = result.history
        names = tuple(h.metrics)
        metrics = np.stack([np.asarray(h.metrics[m], dtype=np.float64) for m in names], axis=1)
        return cls(np.asarray(h.indices, dtype=np.int32), names, metrics, np.asarray(h.score, dtype=np.float64),
                   np.asarray(h.feasible, dtype=bool), np.asarray(h.eval_time_s), np.asarray(h.agent_time_s),
                   float(result.wall_time_s), family, list(warnings))

    def __len__(self) -> int:
        return len(self.reward)


@dataclass
class EnvInfo:
    """The driver's record of one env: how to decode its designs and how to analyse its results."""
    env_id: str
    kwargs: dict
    objective: dict          # Objective.to_config(), plus "directions"
    params: list             # DesignSpace.to_config()
    metrics: list            # every metric the evaluator reports (incl. "violation")
    ref_point: list          # hypervolume reference, objective space (archgym.analysis)
    target: dict | None      # Objective kwargs of the env's target spec, for success rates
    pareto: list             # 2-3 metrics to plot
    size: int                # designs in the space
    default_metrics: dict    # metrics of the space's default design: a fingerprint of the simulator

    @classmethod
    def from_env(cls, env, spec) -> "EnvInfo":
        from archgym.core.pareto import reference_point
        base = env.unwrapped
        objective = {**base.objective.to_config(), "directions": dict(base.objective.directions)}
        params, default = fingerprint(env)
        defaults = base.evaluator.objective_defaults
        if base.objective.mode == "target":
            target = {"mode": "target", "targets": dict(base.objective.targets)}
        elif "targets" in defaults.get("target", {}):
            target = {"mode": "target", **defaults["target"]}
        else:
            target = None
        pareto = list(spec.pareto) or list(base.objective.metrics[:3])
        return cls(spec.id, spec.kwargs, objective, params, list(default), reference_point(base.space, base.objective, base.evaluate).tolist(), target, pareto,
                   int(base.space.size), default)

    def changes(self, params: list, default_metrics: dict) -> str | None:
        """Why an env with this fingerprint (see `fingerprint`) would give results not comparable
        with this record's (None if they are comparable)."""
        if params != self.params:
            return "its design space changed"
        for m, v in self.default_metrics.items():
            now = default_metrics.get(m)
            if now is None or not np.isclose(now, v, rtol=1e-9, atol=0.0, equal_nan=True):
                return f"its simulator now gives {m} = {now!r} for the default design, not {v!r} as when the run started"
        return None

    def value_tables(self) -> list[np.ndarray]:
        """Per parameter, index -> value (for decoding CellResult.indices); ranges stay lazy."""
        return [_ValueTable(config_values(p)) for p in self.params]


class _ValueTable:
    """index array -> list of values, for a parameter's values as a list or a range."""

    def __init__(self, values):
        self.values = values if isinstance(values, range) else np.array(values, dtype=object)

    def __getitem__(self, idx):
        idx = np.asarray(idx, dtype=np.int64)
        if isinstance(self.values, range):
            return self.values.start + self.values.step * idx
        return self.values[idx]


def fingerprint(env) -> tuple[list, dict]:
    """An env's design space and its metrics for the default design: if either changes, the
    simulator or env changed and new results are not comparable with logged ones."""
    base = env.unwrapped
    out = base.evaluate([base.space.default()])
    metrics = {m: float(np.asarray(v, dtype=np.float64)[0]) for m, v in out.items() if m not in ("reward", "feasible")}
    return base.space.to_config(), metrics


# --- the storage interface ----------------------------------------------------------------------------------
class EvaluationLog(ABC):
    """Storage of a sweep's evaluations. Only the driver writes; `write_cell` is atomic."""

    @abstractmethod
    def bind(self, experiment: Experiment) -> None:
        """Attach the log to `experiment`; refuse a log that holds a different experiment."""

    @abstractmethod
    def add_env(self, label: str, info: EnvInfo) -> None:
        """Register an env (idempotent): its design and metric columns and analysis metadata."""

    @abstractmethod
    def completed(self) -> set[str]:
        """Keys of the cells already done."""

    @abstractmethod
    def write_cell(self, cell: Cell, result: CellResult, attempts: int = 1) -> None:
        """All rows of a finished cell and its `done` mark, atomically."""

    @abstractmethod
    def write_failure(self, cell: Cell, error: str, attempts: int) -> None:
        """Mark a cell failed (it will be tried again by the next run of the sweep)."""

    @abstractmethod
    def frame(self):
        """Every evaluation as a pandas DataFrame (see the module docstring for the columns)."""

    def close(self) -> None:
        pass


def _q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


class LogDamagedError(RunDirError):
    """An evaluation log that SQLite cannot read, that fails its integrity check, or that is not an
    archgym log; the message names the file and what to do."""


def _damaged(path: str, reason, readonly: bool) -> LogDamagedError:
    reason = str(reason).splitlines()[0] if str(reason) else type(reason).__name__
    if readonly:
        advice = "restore it from a backup, or run the sweep again into a fresh --out directory"
    else:
        advice = (f"move it aside (mv {path} {path}.damaged) and run the same command again to recompute "
                  f"every cell, or restore it from a backup")
    return LogDamagedError(f"evaluation log {path} is damaged or not an archgym log ({reason}); {advice}")


def _guarded(method):
    """Report SQLite failures of a log method as LogDamagedError (or a busy log as RunDirError)."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as error:
            e = error if isinstance(error, sqlite3.DatabaseError) else error.__cause__  # pandas wraps sqlite3's errors
            if not isinstance(e, sqlite3.DatabaseError):
                raise
            if "locked" in str(e) or "busy" in str(e):
                raise RunDirError(f"evaluation log {self.path} is busy ({e}); try again when the sweep writing it is done") from None
            raise _damaged(self.path, e, self.readonly) from None
    return wrapper


class SQLiteLog(EvaluationLog):
    """The default storage: SQLite in WAL mode. `path` is a file, or ':memory:'. Opening runs
    SQLite's integrity check and checks the tables, so a damaged log is reported (LogDamagedError)
    before anything reads or writes it."""

    def __init__(self, path: str | Path, readonly: bool = False):
        self.path, self.readonly = str(path), readonly
        self._envs: dict[str, EnvInfo] = {}
        self._insert: dict[tuple, tuple[str, list]] = {}  # (env, metric names) -> (SQL, value tables)
        if readonly and not Path(self.path).is_file():
            raise RunDirError(f"no evaluation log at {self.path}")
        try:
            if readonly:
                self.conn = sqlite3.connect(Path(self.path).resolve().as_uri() + "?mode=ro", uri=True)
            else:
                self.conn = sqlite3.connect(self.path, isolation_level=None)  # explicit transactions
        except sqlite3.DatabaseError as e:
            raise _damaged(self.path, e, readonly) from None
        try:
            self._open()
        except BaseException:
            self.conn.close()
            raise

    @_guarded
    def _open(self) -> None:
        problems = [r[0] for r in self.conn.execute("PRAGMA integrity_check(1)")]
        if problems != ["ok"]:
            raise _damaged(self.path, f"integrity check: {problems[0]}", self.readonly)
        if not self.readonly:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self._create()
        for table, needed in _SCHEMA.items():
            have = {r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")}
            if not needed <= have:
                raise _damaged(self.path, f"table {table!r} lacks column(s) {', '.join(sorted(needed - have))}" if have
                               else f"no table {table!r}", self.readonly)

    def _create(self) -> None:
        self.conn.executescript("""
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
            CREATE TABLE IF NOT EXISTS envs (label TEXT PRIMARY KEY, info TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS cells (
                cell TEXT PRIMARY KEY, env TEXT, agent TEXT, family TEXT, hparams TEXT, setting INTEGER,
                seed INTEGER, budget INTEGER, status TEXT, attempts INTEGER, error TEXT, warnings TEXT,
                evaluations INTEGER, wall_time_s REAL, finished_at REAL);
            CREATE TABLE IF NOT EXISTS evaluations (
                cell TEXT NOT NULL, step INTEGER NOT NULL, reward REAL, feasible INTEGER,
                eval_time_s REAL, agent_time_s REAL, PRIMARY KEY (cell, step)) WITHOUT ROWID;
        """)

    # --- meta ---
    @_guarded
    def meta(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT key, value FROM meta"))

    @_guarded
    def bind(self, experiment: Experiment) -> None:
        meta = self.meta()
        if not meta:
            with self._tx():
                self.conn.executemany("INSERT INTO meta VALUES (?, ?)", [
                    ("name", experiment.name), ("hash", experiment.hash), ("source", experiment.path or ""),
                    ("text", experiment.text), ("created", str(time.time())), ("archgym", _version())])
            return
        if meta.get("hash") != experiment.hash:
            where = os.path.dirname(self.path) or self.path
            raise RunDirError(
                f"run directory {where} holds experiment {meta.get('name')!r} (hash {meta.get('hash', '')[:12]}, "
                f"from {meta.get('source') or 'an unnamed file'}), and {experiment.path or 'this experiment'} "
                f"is a different one (hash {experiment.hash[:12]}); refusing to mix them. To start fresh, "
                f"pass another --out directory, or delete {where}")

    @_guarded
    def add_env(self, label: str, info: EnvInfo) -> None:
        earlier = self.envs().get(label)
        why = earlier and earlier.changes(info.params, info.default_metrics)
        if why:
            where = os.path.dirname(self.path) or self.path
            raise RunDirError(f"env {label!r}: {why}; its new results would not be comparable with those logged in "
                              f"{where}. To start fresh, pass another --out directory, or delete {where}")
        have = {r[1] for r in self.conn.execute("PRAGMA table_info(evaluations)")}
        with self._tx():
            for col in [f"design.{p['name']}" for p in info.params] + [f"metric.{m}" for m in info.metrics]:
                if col not in have:
                    self.conn.execute(f"ALTER TABLE evaluations ADD COLUMN {_q(col)}"
                                      + (" REAL" if col.startswith("metric.") else ""))
            self.conn.execute("INSERT OR REPLACE INTO envs VALUES (?, ?)", (label, canonical(info.__dict__)))
        self._envs[label] = info

    @_guarded
    def envs(self) -> dict[str, EnvInfo]:
        out = {}
        for label, text in self.conn.execute("SELECT label, info FROM envs"):
            try:
                out[label] = EnvInfo(**json.loads(text))
            except (TypeError, ValueError) as e:
                raise _damaged(self.path, f"env {label!r}: unreadable record: {e}", self.readonly) from None
        return out

    # --- cells ---
    @_guarded
    def completed(self) -> set[str]:
        """Cells marked done whose rows are all there (a cell with missing rows is redone)."""
        return {r[0] for r in self.conn.execute(
            "SELECT cell FROM cells c WHERE status = 'done' AND evaluations = "
            "(SELECT COUNT(*) FROM evaluations e WHERE e.cell = c.cell)")}

    @_guarded
    def cells(self):
        import pandas as pd
        return pd.read_sql_query("SELECT * FROM cells", self.conn)

    def _statement(self, label: str, metric_names: tuple):
        key = (label, metric_names)
        if key not in self._insert:
            info = self._envs[label]
            cols = list(_FIXED) + [f"design.{p['name']}" for p in info.params] + [f"metric.{m}" for m in metric_names]
            sql = f"INSERT INTO evaluations ({', '.join(map(_q, cols))}) VALUES ({', '.join('?' * len(cols))})"
            self._insert[key] = (sql, info.value_tables())
        return self._insert[key]

    @_guarded
    def write_cell(self, cell: Cell, result: CellResult, attempts: int = 1) -> None:
        sql, tables = self._statement(cell.env.label, tuple(result.metric_names))
        n = len(result)
        cols = [[cell.key] * n, range(n), result.reward.tolist(), result.feasible.astype(int).tolist(),
                result.eval_time_s.tolist(), result.agent_time_s.tolist()]
        cols += [table[result.indices[:, j]].tolist() for j, table in enumerate(tables)]
        cols += [result.metrics[:, j].tolist() for j in range(result.metrics.shape[1])]
        with self._tx():
            self.conn.execute("DELETE FROM evaluations WHERE cell = ?", (cell.key,))  # rows of an earlier, damaged attempt
            self.conn.executemany(sql, zip(*cols))
            self._cell_row(cell, "done", attempts, None, n, result.wall_time_s, result.family,
                           "\n".join(result.warnings) or None)

    @_guarded
    def write_failure(self, cell: Cell, error: str, attempts: int) -> None:
        with self._tx():
            self._cell_row(cell, "failed", attempts, error, 0, None, "", None)

    def _cell_row(self, cell, status, attempts, error, n, wall, family, warnings) -> None:
        self.conn.execute("INSERT OR REPLACE INTO cells VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          (cell.key, cell.env.label, cell.agent, family, canonical(cell.hparams), cell.setting,
                           cell.seed, cell.budget, status, attempts, error, warnings, n, wall, time.time()))

    def _tx(self):
        return _Transaction(self.conn)

    # --- reading ---
    @_guarded
    def frame(self):
        import pandas as pd
        short_cells = self.conn.execute(
            "SELECT COUNT(*) FROM cells c WHERE status = 'done' AND evaluations != "
            "(SELECT COUNT(*) FROM evaluations e WHERE e.cell = c.cell)").fetchone()[0]
        if short_cells:
            raise LogDamagedError(f"evaluation log {self.path}: {short_cells} cell(s) marked done miss some of their rows; "
                                  f"run the sweep again into {os.path.dirname(self.path) or '.'} to redo them")
        cols = [r[1] for r in self.conn.execute("PRAGMA table_info(evaluations)")]
        dynamic = [c for c in cols if c not in _FIXED]
        short = [c.split(".", 1)[1] for c in dynamic]
        taken = set(_FRAME_FIRST) | set(_FIXED) | {"run", "cell"}
        clash = {s for s in short if short.count(s) > 1 or s in taken}
        names = [c if s in clash else s for c, s in zip(dynamic, short)]
        run = self.meta().get("name", "")
        sql = ("SELECT c.env, c.agent, c.family, c.hparams, c.setting, c.seed, e.step, "
               + "".join(f"e.{_q(c)}, " for c in dynamic)
               + "e.reward, e.feasible, e.eval_time_s, e.agent_time_s, e.cell "
               "FROM evaluations e JOIN cells c ON c.cell = e.cell WHERE c.status = 'done' "
               "ORDER BY c.rowid, e.step")
        df = pd.read_sql_query(sql, self.conn)
        df.columns = ["env", "agent", "family", "hparams", "setting", "seed", "step", *names,
                      "reward", "feasible", "eval_time_s", "agent_time_s", "cell"]
        df.insert(0, "run", run)
        df["feasible"] = df["feasible"].astype(bool)
        integral = {p["name"] for info in self.envs().values() for p in info.params
                    if "range" in p or all(isinstance(v, int) and not isinstance(v, bool) for v in p["values"])}
        for c, short_name in zip(names, short):
            if df[c].dtype == object:  # a design column of one env stays numeric where every value is a number
                df[c] = _tidy(df[c])
            if short_name in integral and df[c].dtype.kind == "f":  # integers, with gaps for other envs' rows
                df[c] = df[c].astype("Int64")
        return df

    def close(self) -> None:
        self.conn.close()


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error): sqlite3's own context manager does not begin
    a transaction in autocommit mode."""

    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, *_):
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


def _tidy(col):
    """Object column -> numeric if every non-null value is a number."""
    import pandas as pd
    num = pd.to_numeric(col, errors="coerce")
    return num if num.notna().sum() == col.notna().sum() else col


def _version() -> str:
    from archgym import __version__
    return __version__


# --- run directories ----------------------------------------------------------------------------------------
def db_path(run_dir: str | Path) -> Path:
    """The log file of a run directory (or the file itself, if given)."""
    p = Path(run_dir)
    return p if p.suffix == ".sqlite" else p / DB_NAME


def open_log(run_dir: str | Path, readonly: bool = True) -> SQLiteLog:
    p = db_path(run_dir)
    if readonly and not p.is_file():
        raise RunDirError(f"{run_dir} is not a run directory (no {DB_NAME}); run `archgym sweep FILE --out {run_dir}` first")
    if not readonly:
        p.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteLog(p, readonly=readonly)


def load(run_dir: str | Path):
    """The evaluation log of a run directory as a pandas DataFrame (one row per evaluation)."""
    with closing(open_log(run_dir)) as log:
        return log.frame()


def export(run_dir: str | Path, path: str | Path, fmt: str | None = None) -> Path:
    """Write the log as a dataset: Parquet or CSV (from `fmt` or the file suffix). Returns the path."""
    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".").lower()
    if fmt not in ("parquet", "csv"):
        raise ArchGymError(f"export format must be 'parquet' or 'csv', got {fmt!r}")
    df = load(run_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        df.to_csv(path, index=False)
    else:
        for c in df.columns[df.dtypes == object]:  # Arrow needs one type per column
            if df[c].map(type).nunique() > 1:
                df[c] = df[c].astype("string")
        df.to_parquet(path, index=False)
    return path


class RunLock:
    """An exclusive lock on a run directory while a sweep writes to it (released by the OS if the
    driver dies, so a killed sweep never blocks its rerun)."""

    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / LOCK_NAME

    def __enter__(self):
        import fcntl
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(self.fd, 32, 0).decode(errors="replace").strip()
            os.close(self.fd)
            raise RunDirError(f"another sweep (pid {other or '?'}) is writing {self.path.parent}; wait for it "
                              f"or use another --out directory") from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, str(os.getpid()).encode(), 0)
        return self

    def __exit__(self, *_):
        os.close(self.fd)  # closing releases the flock


def env_infos(run_dir: str | Path) -> dict[str, EnvInfo]:
    """label -> EnvInfo for every env of a run."""
    with closing(open_log(run_dir)) as log:
        return log.envs()


def cells(run_dir: str | Path):
    """The cells table of a run as a DataFrame (status, attempts, error, wall time per cell)."""
    with closing(open_log(run_dir)) as log:
        return log.cells()


def meta(run_dir: str | Path) -> dict[str, str]:
    """The run's experiment name, hash, text, archgym version and creation time."""
    with closing(open_log(run_dir)) as log:
        return log.meta()
