"""The evaluator contract, and the one generic evaluator that puts any simulator behind an env.

An evaluator maps an (n, n_params) int64 index array over its `space` to {metric: (n,) array},
including `feasible` (bool) and `violation` (float, 0 when feasible). `SimulatorEvaluator` does
this for every simulator package, which exposes the same surface (see `simulators`):
`parameters(prepared)`, `METRICS`, `prepare(workload)`, `evaluate(design_vectors, prepared)` and
`simulate(design, prepared)`. Env modules only choose the searched space, the fixed values and
the objective defaults.
"""
from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from pathlib import Path
from typing import Any

import numpy as np

from archgym.core.errors import DesignError
from archgym.core.space import DesignSpace


class Evaluator:
    """Adapter from index arrays over `space` to simulator metrics.

    Subclasses set `space`, `metric_names` and `objective_defaults` (mode -> Objective kwargs, plus
    "metrics" and "default"), and implement `__call__` and `simulate(design)`, which returns the
    simulator's full SimResult (per layer or per request) for one design dict.
    """
    space: DesignSpace
    metric_names: tuple[str, ...]
    objective_defaults: dict

    def __call__(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def simulate(self, design: Mapping):
        raise NotImplementedError

    def describe(self) -> str:
        return type(self).__name__


class DesignEncoder:
    """Index arrays over a searched `space` -> kernel design vectors over a simulator's `full`
    parameters: the kernel vector of the complete `fixed` design, with each searched parameter's
    column set from its value table (Parameter.code of each allowed value)."""

    def __init__(self, full: DesignSpace, space: DesignSpace, fixed: Mapping, names: list[str] | None = None):
        names = list(space.names) if names is None else names  # simulator names of the searched parameters
        missing = [n for n in names if n not in full]
        if missing:
            raise DesignError(f"unknown parameter {missing[0]!r}; parameters: {', '.join(full.names)}")
        self.base = full.kernel_vector({**full.default(), **{k: v for k, v in fixed.items() if k not in names}})
        self.cols = [full.names.index(n) for n in names]
        self.tables = [np.array([full[n].code(v) for v in p.values], dtype=np.float64) for n, p in zip(names, space)]

    def __call__(self, idx: np.ndarray) -> np.ndarray:
        idx = np.asarray(idx, dtype=np.int64).reshape(-1, len(self.cols))
        if len(idx) == 1:  # a single env step: plain Python is faster than fancy indexing
            d = self.base.copy()
            for j, i in enumerate(idx[0].tolist()):
                d[self.cols[j]] = self.tables[j][i]
            return d[None, :]
        d = np.empty((len(idx), len(self.base)))
        d[:] = self.base
        for j, table in enumerate(self.tables):
            d[:, self.cols[j]] = table[idx[:, j]]
        return d


class SimulatorEvaluator(Evaluator):
    """Any simulator package behind the env contract. `space` holds the searched parameters (each a
    restriction of the simulator's own); every other parameter takes its value from `fixed`, else
    its default. `objective_defaults` are the env's (see Evaluator)."""

    def __init__(self, simulator, prepared, space: DesignSpace, fixed: Mapping | None = None,
                 objective_defaults: Mapping | None = None, description: str = ""):
        self.simulator, self.prepared = simulator, prepared
        self.full: DesignSpace = simulator.parameters(prepared)
        fixed = dict(fixed or {})
        unknown = [k for k in [*fixed, *space.names] if k not in self.full]
        if unknown:
            raise DesignError(f"unknown {simulator.__name__.rpartition('.')[2]} parameter {unknown[0]!r}; "
                              f"parameters: {', '.join(self.full.names)}")
        clash = sorted(set(fixed) & set(space.names))
        if clash:
            raise DesignError(f"parameter {clash[0]!r} is searched by the space; it cannot also be fixed")
        self.space = space
        self.fixed = self.full.complete({k: v for k, v in fixed.items()})
        self.fixed = {k: v for k, v in self.fixed.items() if k not in space.names}
        self.encode = DesignEncoder(self.full, space, self.fixed)
        self.metric_names = tuple(m for m in simulator.METRICS if m not in ("feasible", "violation"))
        self.objective_defaults = dict(objective_defaults or {})
        self._description = description

    def __call__(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        return self.simulator.evaluate(self.encode(idx), self.prepared)

    def simulate(self, design: Mapping):
        return self.simulator.simulate({**self.fixed, **design}, self.prepared)

    def default_metrics(self) -> dict[str, float]:
        """The metrics of the space's default design (used for default targets and limits)."""
        out = self(self.space.to_indices(self.space.default())[None, :])
        return {m: float(out[m][0]) for m in self.metric_names}

    def describe(self) -> str:
        return self._description or type(self).__name__


def model_file(workload):
    """An ONNX model path (`*.onnx`) read into a layer table; any other workload as given (the
    simulators' `prepare` takes built-in names, SCALE-Sim CSVs and Workloads)."""
    if isinstance(workload, (str, Path)) and str(workload).lower().endswith(".onnx"):
        from archgym.frontends.onnx_import import from_onnx
        return from_onnx(workload)
    return workload


def resolve(path: str | type) -> Any:
    """'package.module:Name' -> the object."""
    if not isinstance(path, str):
        return path
    module, _, attr = path.partition(":")
    return getattr(import_module(module), attr)


def build_evaluator(evaluator: str | type | Evaluator, **kwargs) -> Evaluator:
    if isinstance(evaluator, Evaluator):
        if kwargs:
            raise TypeError(f"unexpected keyword arguments {sorted(kwargs)} for a ready-made evaluator")
        return evaluator
    return resolve(evaluator)(**kwargs)
