"""Exact ground truth of a benchmark task, cached on disk under a fingerprint of its env.

`task_truth(task)` enumerates the task's space once (`archgym.analysis.exact.exhaustive`), keeps
the optimum, the exact Pareto front in objective space and the landscape diagnostics, and writes
them as JSON to `$ARCHGYM_CACHE/bench/` (default `~/.cache/archgym/bench/`). The file name carries
a hash of the env id, kwargs, objective, design space and the metrics of 65 fixed designs (the
default and 64 seeded random ones): any change to the simulator or the env gives a new hash, so
stale truth is never read.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from archgym.analysis.exact import exhaustive, write_atomically
from archgym.analysis.landscape import landscape
from archgym.core.objectives import INFEASIBLE_REWARD

FINGERPRINT_DESIGNS = 64  # seeded random designs whose metrics enter the fingerprint
_DIGITS = 12              # significant digits of those metrics (robust to last-bit noise across machines)
CHUNK = 4096              # designs per batch evaluation (the DRAM kernel holds per-design state for a batch)


@dataclass
class Truth:
    """A task's exact optimum, exact front (objective space, minimisation) and landscape."""
    task: str
    fingerprint: str
    size: int
    optimum: float
    best_design: dict
    best_metrics: dict
    ref_point: list
    front: list              # true front rows (objective space)
    hypervolume: float       # of the true front, from ref_point
    landscape: dict
    enumerate_s: float       # wall time of the enumeration that made it

    @property
    def front_array(self) -> np.ndarray:
        return np.asarray(self.front, dtype=np.float64).reshape(-1, len(self.ref_point))


def cache_dir() -> Path:
    return Path(os.environ.get("ARCHGYM_CACHE", Path.home() / ".cache" / "archgym")) / "bench"


def fingerprint(task, env) -> str:
    """sha256 (16 hex digits) of what determines the task's truth (see the module docstring)."""
    from archgym.experiments.spec import canonical
    base = env.unwrapped
    space = base.space
    idx = np.vstack([space.to_indices(space.default())[None, :],
                     space.sample_indices(np.random.default_rng(0), FINGERPRINT_DESIGNS)])
    out = base.evaluate(idx)
    metrics = {m: [float(f"{v:.{_DIGITS}g}") for v in np.asarray(out[m], dtype=np.float64)]
               for m in sorted(out) if m != "reward"}
    key = {"id": task.id, "kwargs": task.kwargs, "objective": base.objective.to_config(),
           "directions": dict(base.objective.directions), "space": space.to_config(), "metrics": metrics}
    return hashlib.sha256(canonical(key).encode()).hexdigest()[:16]


def task_truth(task, refresh: bool = False, report=None) -> Truth:
    """The cached truth of `task` (an archgym.experiments.bench.Task), computed if missing or stale."""
    env = task.make()
    fp = fingerprint(task, env)
    path = cache_dir() / f"{task.name}-{fp}.json"
    if path.is_file() and not refresh:
        return Truth(**json.loads(path.read_text()))
    if report is not None:
        report(f"enumerating task {task.name!r} ({env.unwrapped.space.size:,} designs) for its exact optimum and front")
    start = time.perf_counter()
    gt = exhaustive(env, chunk=CHUNK)
    base = env.unwrapped
    scored_feasible = gt.score > INFEASIBLE_REWARD  # feasible under the objective's limits too
    land = landscape(gt.score, base.space.nvec, scored_feasible, base.objective)
    truth = Truth(task.name, fp, gt.size, float(gt.best_score), gt.best_design, gt.best_metrics,
                  [float(v) for v in gt.ref_point], np.unique(gt.pareto_front, axis=0).tolist(),
                  float(gt.hypervolume), land.to_dict(), time.perf_counter() - start)
    write_atomically(path, lambda f: f.write(json.dumps(asdict(truth)).encode()))
    return truth
