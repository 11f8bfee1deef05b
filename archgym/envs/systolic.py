"""Systolic-array envs: search rows, cols, dataflow, SRAM sizes and DRAM bandwidth for a workload."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

import simulators.systolic as systolic
from archgym.envs.base import DesignVectors, Evaluator
from archgym.errors import DesignError, unknown
from archgym.space import Categorical, DesignSpace, PowerOfTwo
from archgym.workloads import load

SPACES = {
    # ~2.3e6 designs: the general search space.
    "default": lambda: DesignSpace([
        PowerOfTwo("rows", 4, 256, default=32),
        PowerOfTwo("cols", 4, 256, default=32),
        Categorical("dataflow", systolic.DATAFLOWS, default="ws"),
        PowerOfTwo("ifmap_sram_kb", 8, 4096, default=64),
        PowerOfTwo("filter_sram_kb", 8, 4096, default=64),
        PowerOfTwo("ofmap_sram_kb", 8, 4096, default=64),
        Categorical("dram_bytes_per_cycle", (4, 8, 16, 32, 64, 128), default=16),
    ]),
    # 36,750 designs: small enough to enumerate for exact optima and Pareto fronts.
    "small": lambda: DesignSpace([
        PowerOfTwo("rows", 4, 256, default=32),
        PowerOfTwo("cols", 4, 256, default=32),
        Categorical("dataflow", systolic.DATAFLOWS, default="ws"),
        Categorical("ifmap_sram_kb", (8, 32, 128, 512, 2048), default=128),
        Categorical("filter_sram_kb", (8, 32, 128, 512, 2048), default=128),
        Categorical("ofmap_sram_kb", (8, 32, 128, 512, 2048), default=128),
        Categorical("dram_bytes_per_cycle", (8, 32), default=8),
    ]),
}


def kernel_values(param) -> np.ndarray:
    """Index -> value the kernel expects (dataflow names become their kernel codes)."""
    if param.name == "dataflow":
        return np.array([systolic.DATAFLOWS.index(v) for v in param.values], dtype=np.float64)
    return param.numeric_values()


class SystolicEvaluator(Evaluator):
    """Batch evaluation of systolic designs on one workload via the numba batch kernel.

    `space` is a name in SPACES or a mapping {parameter: allowed values}; every simulator
    parameter not searched is fixed at its default or at the value passed as a keyword
    (e.g. `clock_ghz=0.8, bits=16`).
    """
    metric_names = systolic.METRICS

    def __init__(self, workload="resnet18", space="default", **fixed):
        self.workload = load(workload)
        if isinstance(space, str):
            if space not in SPACES:
                raise unknown("systolic space", space, SPACES)
            self.space = SPACES[space]()
        elif isinstance(space, Mapping):
            self.space = systolic.PARAMETERS.restrict(**{k: list(v) for k, v in space.items()})
            self.space = DesignSpace([self.space[k] for k in space])
        else:
            raise DesignError(f"space must be one of {list(SPACES)} or a mapping of parameter to values")
        clash = set(fixed) & set(self.space.names)
        if clash:
            raise DesignError(f"parameter {sorted(clash)[0]!r} is searched by the space; it cannot also be fixed")
        self.fixed = systolic.PARAMETERS.complete(fixed)
        fields = systolic.PARAMETERS.names
        self.designs = DesignVectors(systolic.design_vector(self.fixed), [fields.index(n) for n in self.space.names],
                                     [kernel_values(p) for p in self.space])
        self.objective_defaults = self._objective_defaults()

    def _objective_defaults(self) -> dict:
        ref = self(self.space.to_indices(self.space.default())[None, :])
        lat, energy, area = (float(ref[m][0]) for m in ("latency_s", "energy_j", "area_mm2"))
        return {
            "metrics": ["latency_s", "energy_j", "area_mm2"],
            "default": "product",
            # The default spec: twice as fast as the space's default design, in no more energy or area.
            "target": {"targets": {"latency_s": lat / 2, "energy_j": energy, "area_mm2": area}},
            "constraint": {"optimize": "latency_s", "limits": {"energy_j": energy, "area_mm2": area}},
        }

    def __call__(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        d = self.designs(np.asarray(idx, dtype=np.int64).reshape(-1, len(self.space)))
        out = systolic.evaluate(d, self.workload)
        res = {m: out[:, j] for j, m in enumerate(systolic.METRICS)}
        res["feasible"] = np.ones(len(d), dtype=bool)
        res["violation"] = np.zeros(len(d))
        return res

    def simulate(self, design: Mapping):
        return systolic.simulate({**self.fixed, **design}, self.workload)

    def describe(self) -> str:
        return f"systolic array on {self.workload.name}"
