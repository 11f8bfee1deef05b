"""Systolic-array accelerator model, cycle-exact to SCALE-Sim 3.0.0 (CALC mode), ~1 us per layer.

    from simulators import systolic
    res = systolic.simulate({"rows": 32, "cols": 32, "dataflow": "ws"}, "resnet50")
    res.metrics["latency_s"], res.layers[0]["compute_cycles"]

Missing design keys take the defaults in PARAMETERS. Kernels live in kernel.py (closed forms);
DRAM traffic in dram_model.py; energy and area constants, with sources, in simulators/tech.py.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from archgym.space import Categorical, DesignSpace, Integer, Real
from archgym.workloads import Workload, load
from simulators.base import SimResult
from simulators.systolic.kernel import (DATAFLOWS, DESIGN_FIELDS, LAYER_FIELDS, TOTAL_FIELDS, simulate_batch,
                                        simulate_layers, simulate_packed, simulate_packed_serial, simulate_total)

TECH_NODES_NM = (7, 10, 12, 14, 16, 22, 28, 32, 40, 45, 65, 90)

PARAMETERS = DesignSpace([
    Integer("rows", 1, 4096, default=32),
    Integer("cols", 1, 4096, default=32),
    Categorical("dataflow", DATAFLOWS, default="ws"),
    Integer("ifmap_sram_kb", 1, 1 << 20, default=64),
    Integer("filter_sram_kb", 1, 1 << 20, default=64),
    Integer("ofmap_sram_kb", 1, 1 << 20, default=64),
    Real("dram_bytes_per_cycle", 0.125, 4096.0, log=True, default=16.0),
    Real("clock_ghz", 0.01, 10.0, log=True, default=1.0),
    Integer("bits", 1, 32, default=8),
    Categorical("tech_nm", TECH_NODES_NM, default=45),
])
assert PARAMETERS.names == DESIGN_FIELDS

METRICS = TOTAL_FIELDS


def simulate(design: Mapping | None = None, workload: str | Workload = "resnet18") -> SimResult:
    """Simulate one design on a workload (built-in name, SCALE-Sim CSV path, or Workload)."""
    design = PARAMETERS.complete(dict(design or {}))
    wl = load(workload)
    d = design_vector(design)
    totals = simulate_total(d, wl.table)
    layers = simulate_layers(d, wl.table)
    rows = [{"name": name, **dict(zip(LAYER_FIELDS, map(float, vals)))} for name, vals in zip(wl.layer_names, layers)]
    return SimResult(dict(zip(TOTAL_FIELDS, map(float, totals))), rows)


def design_vector(design: Mapping) -> np.ndarray:
    """A complete, validated design dict -> float64 kernel vector (categoricals become codes)."""
    d = np.empty(len(DESIGN_FIELDS))
    for i, name in enumerate(DESIGN_FIELDS):
        v = design[name]
        d[i] = DATAFLOWS.index(v) if name == "dataflow" else float(v)
    return d


PARALLEL_MIN = 64  # below this many designs the serial kernel is faster than the thread pool


def evaluate(designs: np.ndarray, workload: Workload) -> np.ndarray:
    """(n, 10) kernel design vectors -> (n, len(METRICS)) totals, serial below PARALLEL_MIN designs."""
    return simulate_batch(designs, workload.table, parallel=len(designs) >= PARALLEL_MIN)


__all__ = ["PARAMETERS", "METRICS", "DATAFLOWS", "LAYER_FIELDS", "TOTAL_FIELDS", "simulate", "design_vector",
           "simulate_total", "simulate_layers", "simulate_batch", "simulate_packed", "simulate_packed_serial", "evaluate",
           "PARALLEL_MIN"]
