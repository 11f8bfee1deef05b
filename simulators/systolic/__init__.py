"""Systolic-array accelerator model, cycle-exact to SCALE-Sim 3.0.0 (CALC mode), ~1 us per layer.

    from simulators import systolic
    res = systolic.simulate({"rows": 32, "cols": 32, "dataflow": "ws"}, "resnet50")
    res.metrics["latency_s"], res.layers[0]["compute_cycles"]

Missing design keys take the defaults in PARAMETERS. Kernels live in kernel.py (closed forms);
DRAM traffic in dram_model.py; energy and area constants, with sources, in simulators/tech.py.
Compute cycles, utilisation and SRAM traffic are SCALE-Sim 3.0.0-exact (CALC mode); `latency_s`
adds our own DRAM stall model on top (a per-layer roofline), which SCALE-Sim does not have.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from archgym.core.space import Categorical, DesignSpace, Integer, Real
from archgym.core.workloads import Workload, load
from simulators.base import SimResult
from simulators.systolic.kernel import (DATAFLOWS, DESIGN_FIELDS, LAYER_FIELDS, TOTAL_FIELDS, simulate_batch,
                                        simulate_layers, simulate_packed, simulate_packed_serial, simulate_total)

TECH_NODES_NM = (7, 10, 12, 14, 16, 22, 28, 32, 40, 45, 65, 90)

PARAMETERS = DesignSpace([
    Integer("rows", 1, 4096, default=32, unit="PEs"),
    Integer("cols", 1, 4096, default=32, unit="PEs"),
    Categorical("dataflow", DATAFLOWS, default="ws"),
    Integer("ifmap_sram_kb", 1, 1 << 20, default=64, unit="kB"),
    Integer("filter_sram_kb", 1, 1 << 20, default=64, unit="kB"),
    Integer("ofmap_sram_kb", 1, 1 << 20, default=64, unit="kB"),
    Real("dram_bytes_per_cycle", 0.125, 4096.0, log=True, default=16.0, unit="B/cycle"),
    Real("clock_ghz", 0.01, 10.0, log=True, default=1.0, unit="GHz"),
    Integer("bits", 1, 32, default=8, unit="bit"),
    Categorical("tech_nm", TECH_NODES_NM, default=45, unit="nm"),
]).with_group("hardware")
assert PARAMETERS.names == DESIGN_FIELDS

METRICS = TOTAL_FIELDS
PARALLEL_MIN = 64  # below this many designs the serial kernel is faster than the thread pool


def prepare(workload: str | Workload = "resnet18") -> Workload:
    """The workload as the kernels take it: its layer table (built-in name, CSV path or Workload)."""
    return load(workload)


def parameters(prepared: Workload | None = None) -> DesignSpace:
    """Every design parameter (the same for every workload)."""
    return PARAMETERS


def design_vector(design: Mapping) -> np.ndarray:
    """A design dict (missing keys take defaults) -> float64 kernel vector (dataflow as its code)."""
    return PARAMETERS.kernel_vector(PARAMETERS.complete(dict(design)))


def simulate(design: Mapping | None = None, workload: str | Workload = "resnet18") -> SimResult:
    """Simulate one design on a workload (built-in name, SCALE-Sim CSV path, or Workload)."""
    wl = prepare(workload)
    d = design_vector(design or {})
    totals = simulate_total(d, wl.table)
    layers = simulate_layers(d, wl.table)
    rows = [{"name": name, **dict(zip(LAYER_FIELDS, map(float, vals)))} for name, vals in zip(wl.layer_names, layers)]
    return SimResult(dict(zip(TOTAL_FIELDS, map(float, totals))), rows)


def evaluate(designs: np.ndarray, workload: Workload) -> dict[str, np.ndarray]:
    """(n, len(PARAMETERS)) kernel design vectors -> {metric: (n,) array}, plus `feasible` and
    `violation` (every design is feasible). Serial below PARALLEL_MIN designs."""
    out = simulate_batch(np.ascontiguousarray(designs, dtype=np.float64), workload.table,
                         parallel=len(designs) >= PARALLEL_MIN)
    res = {m: out[:, j] for j, m in enumerate(METRICS)}
    res["feasible"] = np.ones(len(out), dtype=bool)
    res["violation"] = np.zeros(len(out))
    return res


__all__ = ["PARAMETERS", "METRICS", "DATAFLOWS", "LAYER_FIELDS", "TOTAL_FIELDS", "prepare", "parameters", "simulate",
           "design_vector",
           "simulate_total", "simulate_layers", "simulate_batch", "simulate_packed", "simulate_packed_serial", "evaluate",
           "PARALLEL_MIN"]
