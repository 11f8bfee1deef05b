"""Pure numba hardware models. They know nothing about gyms or agents.

Each simulator is a sub-package with a Python front `simulate(design: dict, workload) -> SimResult`
and numba kernels underneath. Sub-packages are imported lazily so that `import simulators` is cheap.
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
    from archgym.errors import unknown
    if name not in NAMES:
        raise unknown("simulator", name, NAMES)
    return import_module(f"simulators.{name}")


__all__ = ["SimResult", "NAMES", "get"]
