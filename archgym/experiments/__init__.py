"""Experiments: sweeps of envs × agents × hyper-parameters × seeds, run on a process pool or a Ray
cluster, recorded in an append-only evaluation log (one SQLite row per simulator evaluation).

    from archgym.experiments import load_experiment, run_sweep
    summary = run_sweep("experiments/lottery.yaml", out="runs/lottery")
    df = archgym.load("runs/lottery")

`spec` parses the experiment file, `log` is the storage, `executors` run cells, `sweep` drives them.
"""
from archgym.experiments.spec import Cell, EnvSpec, Experiment, load_experiment

__all__ = ["Cell", "EnvSpec", "Experiment", "load_experiment", "run_sweep"]


def run_sweep(*args, **kwargs):
    """See `archgym.experiments.sweep.run_sweep` (imported lazily: it pulls in the agents)."""
    from archgym.experiments.sweep import run_sweep as _run
    return _run(*args, **kwargs)
