"""Run an experiment: every cell not yet in the run's log, on an executor, with a progress bar.

Resumable: cells already done are skipped, and each finished cell is committed in one transaction
(see `archgym.experiments.log`), so a sweep killed at any point is completed by running it again,
with no lost and no duplicated rows. Failed cells are tried again by the next run.
"""
from __future__ import annotations

import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from archgym.experiments.executors import make_executor
from archgym.experiments.log import SPEC_NAME, CellResult, EnvInfo, RunLock, open_log
from archgym.experiments.spec import Cell, Experiment, agent_class, canonical, load_experiment

_ENVS: dict[str, object] = {}  # per worker process: env identity -> env, built once


def run_cell(cell: Cell) -> CellResult:
    """Worker side: search `cell.env` with the cell's agent, hyper-parameters, seed and budget."""
    key = canonical(cell.env.identity)
    if key not in _ENVS:
        _ENVS[key] = cell.env.make()
    cls = agent_class(cell.agent)
    with warnings.catch_warnings(record=True) as caught:  # kept in the log, not printed over the progress bar
        warnings.simplefilter("always")
        result = cls(seed=cell.seed, **cell.hparams).search(_ENVS[key], cell.budget, seed=cell.seed)
    notes = list(dict.fromkeys(f"{w.category.__name__}: {str(w.message).splitlines()[0]}" for w in caught))
    return CellResult.from_search(result, cls.family, notes)


@dataclass
class SweepSummary:
    """What a sweep did: cells skipped (done before), run now, failed; evaluations written now."""
    run_dir: Path
    cells: int
    skipped: int
    completed: int
    failed: list = field(default_factory=list)  # (cell, error)
    evaluations: int = 0
    wall_time_s: float = 0.0
    write_time_s: float = 0.0  # driver time spent decoding and committing rows
    warned: int = 0            # cells whose search raised warnings (kept in the cells table)
    executor: str = "local"
    workers: int = 1

    def __str__(self) -> str:
        text = (f"{self.run_dir}: {self.cells} cells ({self.skipped} already done, {self.completed} run now, "
                f"{len(self.failed)} failed); {self.evaluations:,} evaluations in {self.wall_time_s:.1f} s "
                f"on {self.executor} x{self.workers}")
        if self.warned:
            text += (f"\n  {self.warned} cell(s) raised warnings; `archgym report {self.run_dir}` lists them "
                     f"(section 'Warnings raised during the searches')")
        for cell, error in self.failed:
            text += f"\n  failed {cell!r}: {error.splitlines()[0] if error else ''}"
        if self.failed:
            text += "\n  run the same command again to retry the failed cells"
        return text


def _note(message: str) -> None:
    print(message, file=sys.stderr)


def default_run_dir(experiment: Experiment) -> Path:
    return Path("runs") / experiment.name


def run_sweep(experiment: str | Path | Experiment, out: str | Path | None = None, executor: str = "local",
              workers: int | None = None, address: str | None = None, fallback_local: bool = False,
              progress: bool | None = None) -> SweepSummary:
    """Run (or resume) `experiment` into the run directory `out` (default runs/<name>).
    `progress`: None shows a bar on a terminal and one line per 30 s in a log; True forces the bar;
    False hides it."""
    from archgym.progress import progress as reporter
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    start = time.perf_counter()
    envs = exp.check_envs()  # every bad env, objective, metric or executor is reported before anything is written
    run_dir = Path(out) if out is not None else default_run_dir(exp)
    with make_executor(executor, workers, address, fallback_local, report=_note) as ex, RunLock(run_dir):
        log = open_log(run_dir, readonly=False)
        try:
            log.bind(exp)
            spec_copy = run_dir / SPEC_NAME
            if not spec_copy.exists():
                spec_copy.write_text(exp.text)
            for spec in exp.envs:
                log.add_env(spec.label, EnvInfo.from_env(envs[spec.label], spec))
            cells = exp.cells()
            done = log.completed()
            todo = [c for c in cells if c.key not in done]
            total = sum(c.budget for c in cells)
            summary = SweepSummary(run_dir, len(cells), len(cells) - len(todo), 0, executor=ex.name, workers=ex.workers)
            if progress is not False:
                _note(f"{exp.name}: {len(todo)} of {len(cells)} cells to run ({sum(c.budget for c in todo):,} evaluations) "
                      f"on {ex.name} x{ex.workers}, into {run_dir}")
            bar = reporter(total, exp.name, "eval", show=progress,
                           initial=total - sum(c.budget for c in todo))
            with bar:
                for outcome in ex.run(run_cell, todo, report=bar.write):
                    cell: Cell = outcome.task
                    t0 = time.perf_counter()
                    if outcome.ok:
                        log.write_cell(cell, outcome.value, outcome.attempts)
                        summary.completed += 1
                        summary.evaluations += len(outcome.value)
                        summary.warned += bool(outcome.value.warnings)
                    else:
                        log.write_failure(cell, outcome.error, outcome.attempts)
                        summary.failed.append((cell, outcome.error))
                        bar.write(f"cell {cell!r} failed: {outcome.error.splitlines()[-1]}")
                    summary.write_time_s += time.perf_counter() - t0
                    bar.update(cell.budget)
                    if summary.failed:
                        bar.set_postfix(failed=len(summary.failed))
        finally:
            log.close()
    summary.wall_time_s = time.perf_counter() - start
    return summary
