"""Pure numba hardware models. They know nothing about gyms or agents.

Every simulator is a sub-package with the same surface (checked by `simulators.check.check_simulator`):

    PARAMETERS                      a DesignSpace: every design parameter, its default and unit
    METRICS                         metric names, each with its unit (latency_s, energy_j, power_w, ...)
    prepare(workload) -> prepared   the workload (layer table, trace, compiled network) as kernels take it
    parameters(prepared)            PARAMETERS plus any workload-dependent ones (per-layer FPGA folding)
    evaluate(vectors, prepared)     (n, n_params) kernel vectors -> {metric: (n,) array, feasible, violation}
    simulate(design, workload)      one design dict (missing keys take defaults) -> SimResult with detail

A kernel vector holds each parameter's `Parameter.code` (the value if numeric, else its position).
Sub-packages are imported lazily so that `import simulators` is cheap.
"""
from importlib import import_module

from simulators.base import SimResult

NAMES = ("systolic", "dram", "fpga")


def __getattr__(name):
    if name in NAMES:
        return import_module(f"simulators.{name}")
    raise AttributeError(f"module 'simulators' has no attribute {name!r}")


def get(name: str):
    """Return the simulator module called `name` (systolic, dram, fpga)."""
    from archgym.core.errors import unknown
    if name not in NAMES:
        raise unknown("simulator", name, NAMES)
    return import_module(f"simulators.{name}")


__all__ = ["SimResult", "NAMES", "get"]
