"""Systolic-array envs: search rows, cols, dataflow, SRAM sizes and DRAM bandwidth for a workload;
SystolicDRAM-v0 searches the array, its SRAMs and the DRAM controller (standard, channels, knobs)
together, with the array's DRAM traffic run through our DRAM controller simulator.

The envs use the "reuse" accounting (partial sums and feature maps stay in the ofmap SRAM while they
fit, as ZigZag and Timeloop count them): an agent sizing SRAMs must see what a larger ofmap SRAM
saves, which SCALE-Sim's accounting (every partial sum to DRAM) hides. Pass accounting="scalesim"
to reproduce SCALE-Sim's DRAM traffic instead.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

import simulators.systolic as systolic
from archgym.core.errors import DesignError, unknown
from archgym.core.space import Categorical, Constraint, DesignSpace, PowerOfTwo
from archgym.envs.evaluator import SimulatorEvaluator, model_file

SRAM_KB = ("ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb")
SPACES = {
    # 7 x 7 x 3 x 10 x 10 x 10 x 6 = 882,000 designs: the general search space.
    "default": lambda: DesignSpace([
        PowerOfTwo("rows", 4, 256, default=32),
        PowerOfTwo("cols", 4, 256, default=32),
        Categorical("dataflow", systolic.DATAFLOWS, default="ws"),
        PowerOfTwo("ifmap_sram_kb", 8, 4096, default=64),
        PowerOfTwo("filter_sram_kb", 8, 4096, default=64),
        PowerOfTwo("ofmap_sram_kb", 8, 4096, default=64),
        Categorical("dram_bytes_per_cycle", (4, 8, 16, 32, 64, 128), default=16),
    ]),
    # 7 x 7 x 3 x 5 x 5 x 5 x 2 = 36,750 designs: small enough to enumerate for exact optima and fronts.
    "small": lambda: DesignSpace([
        PowerOfTwo("rows", 4, 256, default=32),
        PowerOfTwo("cols", 4, 256, default=32),
        Categorical("dataflow", systolic.DATAFLOWS, default="ws"),
        Categorical("ifmap_sram_kb", (8, 32, 128, 512, 2048), default=128),
        Categorical("filter_sram_kb", (8, 32, 128, 512, 2048), default=128),
        Categorical("ofmap_sram_kb", (8, 32, 128, 512, 2048), default=128),
        Categorical("dram_bytes_per_cycle", (8, 32), default=8),
    ]),
    # 6 x 6 x 3 x 4 x 4 x 4 x 4 x 3 x 2 x 3 x 3 x 2 = 9,953,280 designs: array, SRAMs and memory system.
    "dram": lambda: DesignSpace([
        PowerOfTwo("rows", 8, 256, default=32),
        PowerOfTwo("cols", 8, 256, default=32),
        Categorical("dataflow", systolic.DATAFLOWS, default="ws"),
        Categorical("ifmap_sram_kb", (16, 64, 256, 1024), default=64),
        Categorical("filter_sram_kb", (16, 64, 256, 1024), default=64),
        Categorical("ofmap_sram_kb", (16, 64, 256, 1024), default=256),
        Categorical("dram_standard", ("ddr3_1600", "ddr4_2400", "ddr4_3200", "lpddr4_3200"), default="ddr4_2400"),
        Categorical("dram_channels", (1, 2, 4), default=1),
        Categorical("dram_page_policy", ("open", "closed"), default="open"),
        Categorical("dram_scheduler", ("fifo", "fr_fcfs", "fr_fcfs_grp"), default="fr_fcfs"),
        Categorical("dram_request_buffer_size", (8, 16, 32), default=8),
        Categorical("dram_address_mapping", ("rochrababgco", "rorababgcoch"), default="rochrababgco"),
    ]),
}


def searched_space(space: str | Mapping, full: DesignSpace = systolic.PARAMETERS) -> DesignSpace:
    """A space name in SPACES, or {parameter: allowed values} over `full` (the simulator's parameters)."""
    if isinstance(space, str):
        if space not in SPACES:
            raise unknown("systolic space", space, SPACES)
        out = SPACES[space]()
    elif isinstance(space, Mapping):
        full = full.restrict(**{k: list(v) for k, v in space.items()})
        out = DesignSpace([full[k] for k in space])
    else:
        raise DesignError(f"space must be one of {list(SPACES)} or a mapping of parameter to values")
    return out.with_group("hardware")


def sram_budget(max_sram_kb: float, fixed: Mapping) -> Constraint:
    """Total on-chip SRAM (ifmap + filter + ofmap) at most `max_sram_kb`; unsearched sizes count
    at their fixed values."""
    if not (isinstance(max_sram_kb, (int, float)) and math.isfinite(max_sram_kb) and max_sram_kb > 0):
        raise DesignError(f"max_sram_kb must be a positive number of kB, got {max_sram_kb!r}")

    def holds(values):
        n = len(next(iter(values.values())))
        total = sum(np.asarray(values[k], dtype=np.float64) if k in values else np.full(n, float(fixed[k]))
                    for k in SRAM_KB)
        return total <= max_sram_kb
    return Constraint("max_sram_kb", holds, f"ifmap + filter + ofmap SRAM <= {max_sram_kb:g} kB")


class SystolicEvaluator(SimulatorEvaluator):
    """Batch evaluation of systolic designs on one workload via the numba batch kernel.

    `space` is a name in SPACES or a mapping {parameter: allowed values}; every simulator
    parameter not searched is fixed at its default or at the value passed as a keyword
    (e.g. `clock_ghz=0.8, bits=16`). `max_sram_kb` adds a constraint on the total SRAM;
    `accounting` is "reuse" (default) or "scalesim" (see the module docstring); `dram_model`
    "roofline" (default) or "controller" (the dram_* parameters join the design; `dram_sample`
    requests simulated per layer, see simulators.systolic.controller).
    """

    def __init__(self, workload="resnet18", space="default", max_sram_kb: float | None = None,
                 accounting: str = "reuse", dram_model: str = "roofline", dram_sample: int | None = systolic.SAMPLE,
                 **fixed):
        prepared = systolic.prepare(model_file(workload), accounting=accounting, dram_model=dram_model, dram_sample=dram_sample)
        searched = searched_space(space, systolic.parameters(prepared))
        super().__init__(systolic, prepared, searched, fixed,
                         description=f"systolic array on {prepared.name} ({accounting} accounting, {dram_model} DRAM)")
        if max_sram_kb is not None:
            self.space = DesignSpace(self.space.params, [sram_budget(max_sram_kb, {**systolic.PARAMETERS.default(), **self.fixed})])
        self.workload = prepared.workload
        ref = self.default_metrics()
        lat, energy, area = ref["latency_s"], ref["energy_j"], ref["area_mm2"]
        self.objective_defaults = {
            "metrics": ["latency_s", "energy_j", "area_mm2"],
            "default": "product",
            # The default spec: twice as fast as the space's default design, in no more energy or area.
            "target": {"targets": {"latency_s": lat / 2, "energy_j": energy, "area_mm2": area}},
            "constraint": {"optimize": "latency_s", "limits": {"energy_j": energy, "area_mm2": area}},
        }
