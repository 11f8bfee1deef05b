"""Systolic-array accelerator model: SCALE-Sim 3.0.0-exact cycles and SRAM traffic, ~1 us per layer.

    from simulators import systolic
    res = systolic.simulate({"rows": 32, "cols": 32, "dataflow": "ws"}, "resnet50")
    res.metrics["latency_s"], res.layers[0]["compute_cycles"]

Missing design keys take the defaults in PARAMETERS. Model options are chosen when a workload is
prepared (`prepare(workload, tech=..., accounting=..., dram_model=...)`, or the same keywords of
`simulate`):
- `tech`: a simulators.tech.TechModel (CACTI SRAMs, Horowitz/Aladdin logic, Stillmaker & Baas
  scaling, DRAM energy from simulators.dram); the unit costs come from it (costs.py);
- `accounting`: "reuse" (default; partial sums and feature maps stay on chip while they fit, as in
  ZigZag and Timeloop) or "scalesim" (SCALE-Sim's DRAM traffic, exact on its own topologies);
- `dram_model`: "roofline" (default: a per-layer bandwidth roofline) or "controller" (the array's
  DRAM request stream runs through simulators.dram; its knobs join the design, see controller.py).
Kernels: kernel.py (closed forms), dram_model.py (refetches), costs.py (unit costs); controller.py
(the DRAM controller in the loop); peers.py and loopnest.py (the ZigZag and Timeloop checks).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from archgym.core.errors import DesignError, WorkloadError, unknown
from archgym.core.space import Categorical, DesignSpace, Integer, Real
from archgym.core.workloads import Workload, load
from archgym.core.workloads.table import ACT, ADD, KIND, POOL, K
from simulators.base import SimResult
from simulators.systolic.controller import DRAM_PARAMETERS, SAMPLE, evaluate_controller, simulate_layers_controller
from simulators.systolic.kernel import (ACCOUNTING, DATAFLOWS, DESIGN_FIELDS, LAYER_FIELDS, TOTAL_FIELDS, VECTOR_MODES,
                                        costs_of, packed_parallel, packed_serial, rows_batch, simulate_layers,
                                        simulate_total, totals_of_layers, totals_of_pairs, totals_of_rows)
from simulators.tech import DEFAULT as DEFAULT_TECH
from simulators.tech import TechModel

TECH_NODES_NM = DEFAULT_TECH.nodes_nm
DRAM_MODELS = ("roofline", "controller")

PARAMETERS = DesignSpace([
    Integer("rows", 1, 4096, default=32, unit="PEs"),
    Integer("cols", 1, 4096, default=32, unit="PEs"),
    Categorical("dataflow", DATAFLOWS, default="ws"),
    Integer("ifmap_sram_kb", 1, 32768, default=64, unit="kB"),
    Integer("filter_sram_kb", 1, 32768, default=64, unit="kB"),
    Integer("ofmap_sram_kb", 1, 32768, default=64, unit="kB"),
    Real("dram_bytes_per_cycle", 0.125, 4096.0, log=True, default=16.0, unit="B/cycle"),
    Real("clock_ghz", 0.01, 10.0, log=True, default=1.0, unit="GHz"),
    Integer("bits", 8, 32, default=8, unit="bit"),
    Integer("acc_bits", 16, 64, default=32, unit="bit"),
    Categorical("tech_nm", TECH_NODES_NM, default=45, unit="nm"),
    Integer("vector_lanes", 1, 4096, default=32, unit="lanes"),
    Integer("vector_ops_per_lane", 1, 16, default=1, unit="ops/cycle"),
    Categorical("vector_overlap", VECTOR_MODES, default="overlap"),
]).with_group("hardware")
assert PARAMETERS.names == DESIGN_FIELDS

METRICS = TOTAL_FIELDS
PARALLEL_MIN = 64  # below this many designs the serial kernel is faster than the thread pool


@dataclass(frozen=True, eq=False)
class Prepared:
    """A workload with the model options it runs under (see the module docstring)."""
    workload: Workload
    tech: TechModel = DEFAULT_TECH
    accounting: str = "reuse"
    dram_model: str = "roofline"
    dram_sample: int | None = SAMPLE
    tech_arrays: tuple = field(init=False, repr=False)

    def __post_init__(self):
        if not isinstance(self.tech, TechModel):
            raise DesignError(f"tech must be a simulators.tech.TechModel, got {type(self.tech).__name__}")
        if self.accounting not in ACCOUNTING:
            raise unknown("accounting", self.accounting, ACCOUNTING)
        if self.dram_model not in DRAM_MODELS:
            raise unknown("dram_model", self.dram_model, DRAM_MODELS)
        if self.dram_sample is not None and not (isinstance(self.dram_sample, int) and self.dram_sample >= 16):
            raise DesignError(f"dram_sample must be None (simulate every request) or an int >= 16, got {self.dram_sample!r}")
        t = self.workload.table
        odd = np.flatnonzero((t[:, K] == 0) & ~np.isin(t[:, KIND], (POOL, ADD, ACT)))
        if len(odd):  # neither a GEMM the array runs nor an element-wise row the vector unit runs
            i = int(odd[0])
            raise WorkloadError(f"the systolic model cannot cost layer {self.workload.layer_names[i]!r} (row {i}, "
                                f"kind {int(t[i, KIND])}): it has no MACs and is not a pool, add or act row")
        object.__setattr__(self, "tech_arrays", self.tech.kernel_arrays())

    @property
    def mode(self) -> int:
        return ACCOUNTING.index(self.accounting)

    @property
    def name(self) -> str:
        return self.workload.name

    @property
    def table(self) -> np.ndarray:
        return self.workload.table


_UNSET = object()


def prepare(workload: str | Workload | Prepared = "resnet18", *, tech: TechModel | None = None,
            accounting: str | None = None, dram_model: str | None = None, dram_sample=_UNSET) -> Prepared:
    """The workload (built-in name, SCALE-Sim CSV path, Workload or Prepared) with its model options
    (see the module docstring; `dram_sample`: requests simulated per layer in controller mode, None
    for all); options not given keep a Prepared's own or take the defaults."""
    if isinstance(workload, Prepared):
        base = workload
        workload = base.workload
    else:
        base = None
    opts = {"tech": tech if tech is not None else (base.tech if base else DEFAULT_TECH),
            "accounting": accounting or (base.accounting if base else "reuse"),
            "dram_model": dram_model or (base.dram_model if base else "roofline"),
            "dram_sample": dram_sample if dram_sample is not _UNSET else (base.dram_sample if base else SAMPLE)}
    if base is not None and all(getattr(base, k) == v for k, v in opts.items()):
        return base
    return Prepared(load(workload), **opts)


def parameters(prepared: Prepared | None = None) -> DesignSpace:
    """Every design parameter: PARAMETERS, plus the DRAM controller's (dram_*) in controller mode."""
    if prepared is not None and prepared.dram_model == "controller":
        return DesignSpace([*PARAMETERS, *DRAM_PARAMETERS])
    return PARAMETERS


def design_vector(design: Mapping, prepared: Prepared | None = None) -> np.ndarray:
    """A design dict (missing keys take defaults) -> float64 kernel vector (categoricals as codes)."""
    space = parameters(prepared)
    return space.kernel_vector(space.complete(dict(design)))


def unit_costs(design: Mapping | None = None, tech: TechModel = DEFAULT_TECH) -> dict[str, float]:
    """The unit costs (pJ per access, W, mm^2) the kernels charge for one design."""
    from simulators.systolic.costs import COST_FIELDS
    return dict(zip(COST_FIELDS, map(float, costs_of(design_vector(design or {}), tech.kernel_arrays()))))


def simulate(design: Mapping | None = None, workload: str | Workload | Prepared = "resnet18", **options) -> SimResult:
    """Simulate one design on a workload (built-in name, SCALE-Sim CSV path, Workload or Prepared);
    `options` are prepare's (tech, accounting, dram_model)."""
    p = prepare(workload, **options)
    v = design_vector(design or {}, p)
    d = v[:len(PARAMETERS)]
    if p.dram_model == "controller":
        layers = simulate_layers_controller(v, p, len(PARAMETERS), p.dram_sample)
        totals = totals_of_layers(d, layers, p.tech_arrays)
    else:
        totals = simulate_total(d, p.table, p.tech_arrays, p.mode)
        layers = simulate_layers(d, p.table, p.tech_arrays, p.mode)
    rows = [{"name": name, **dict(zip(LAYER_FIELDS, map(float, vals)))} for name, vals in zip(p.workload.layer_names, layers)]
    return SimResult(dict(zip(TOTAL_FIELDS, map(float, totals))), rows)


def simulate_packed(designs, slots, rows, starts, ends, tech: TechModel = DEFAULT_TECH, accounting: str = "reuse",
                    parallel: bool = True) -> np.ndarray:
    """Totals (n, len(TOTAL_FIELDS)) where design i runs the packed layer rows[starts[slots[i]]:ends[slots[i]]]."""
    kernel = packed_parallel if parallel else packed_serial
    return kernel(designs, slots, rows, starts, ends, tech.kernel_arrays(), ACCOUNTING.index(accounting))


def simulate_packed_serial(designs, slots, rows, starts, ends, tech: TechModel = DEFAULT_TECH,
                           accounting: str = "reuse") -> np.ndarray:
    """`simulate_packed` on one thread (small batches)."""
    return simulate_packed(designs, slots, rows, starts, ends, tech, accounting, parallel=False)


def simulate_batch(designs: np.ndarray, prepared: Prepared, parallel: bool = True) -> np.ndarray:
    """Totals for many design vectors on one prepared workload: (n, len(TOTAL_FIELDS)), one kernel call."""
    kernel = packed_parallel if parallel else packed_serial
    table = prepared.table
    return kernel(designs, np.zeros(len(designs), np.int64), table, np.zeros(1, np.int64),
                  np.array([len(table)], np.int64), prepared.tech_arrays, prepared.mode)


def evaluate(designs: np.ndarray, prepared: Prepared) -> dict[str, np.ndarray]:
    """(n, len(parameters(prepared))) kernel design vectors -> {metric: (n,) array}, plus `feasible` and
    `violation` (every design is feasible). Serial below PARALLEL_MIN designs; in controller mode one
    DRAM simulation per layer per design."""
    prepared = prepare(prepared)
    designs = np.ascontiguousarray(designs, dtype=np.float64)
    if prepared.dram_model == "controller":
        out = evaluate_controller(designs, prepared, len(PARAMETERS), prepared.dram_sample)
    else:
        out = simulate_batch(designs, prepared, parallel=len(designs) >= PARALLEL_MIN)
    res = {m: out[:, j] for j, m in enumerate(METRICS)}
    res["feasible"] = np.ones(len(out), dtype=bool)
    res["violation"] = np.zeros(len(out))
    return res


__all__ = ["PARAMETERS", "DRAM_PARAMETERS", "METRICS", "DATAFLOWS", "ACCOUNTING", "DRAM_MODELS", "LAYER_FIELDS", "TOTAL_FIELDS",
           "Prepared", "prepare", "parameters", "simulate", "design_vector", "unit_costs", "simulate_total",
           "simulate_layers", "simulate_batch", "simulate_packed", "simulate_packed_serial", "evaluate",
           "rows_batch", "totals_of_rows", "totals_of_pairs",
           "PARALLEL_MIN", "TechModel"]
