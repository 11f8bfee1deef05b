"""Workloads: layer tables for the systolic and FPGA models (see table.py).

`load(name_or_path)` takes a built-in network name, a SCALE-Sim topology CSV path, or a Workload.
Tables of torch (and ONNX) models come from `archgym.frontends`; `archgym.workloads` gathers both.
"""
from __future__ import annotations

from pathlib import Path

from archgym.core.errors import WorkloadError, unknown
from archgym.core.workloads.scalesim_csv import read_topology
from archgym.core.workloads.table import COLUMNS, KINDS, Workload, conv_row, linear_row, matmul_row, pool_row


def _registry() -> dict:
    from archgym.core.workloads.networks import NETWORKS
    out = dict(NETWORKS)
    try:
        from archgym.core.workloads.finn import NETWORKS as FINN
        out.update(FINN)
    except ModuleNotFoundError as e:
        if e.name != "archgym.core.workloads.finn":
            raise
    return out


def names() -> list[str]:
    """Built-in network names."""
    return list(_registry())


_cache: dict[str, Workload] = {}
_FRONTENDS = {  # model files that need a frontend (archgym.frontends) to become a layer table
    ".onnx": "an ONNX model: read it with archgym.workloads.from_onnx(path) (or pass it to archgym.workloads.load)",
    ".pt": "a torch file: build the model and use archgym.workloads.from_torch(model, example_input)",
    ".pth": "a torch file: build the model and use archgym.workloads.from_torch(model, example_input)",
}


def load(source) -> Workload:
    """A built-in network name, a SCALE-Sim topology CSV path, or a Workload (returned as is)."""
    if isinstance(source, Workload):
        return source
    if not isinstance(source, (str, Path)):
        raise WorkloadError(f"workload must be a name, a CSV path or a Workload, got {type(source).__name__}")
    key = str(source)
    if key in _cache:
        return _cache[key]
    registry = _registry()
    frontend = _FRONTENDS.get(Path(key).suffix.lower())
    if key in registry:
        wl = registry[key]()
    elif frontend:
        raise WorkloadError(f"{key}: {frontend}")
    elif key.lower().endswith(".csv") or Path(key).exists():
        path = Path(key)
        if not path.is_file():
            raise WorkloadError(f"workload file {key!r} does not exist")
        wl = read_topology(path)
    else:
        raise unknown("workload", key, list(registry) + ["<path to a SCALE-Sim topology .csv>"])
    _cache[key] = wl
    return wl


__all__ = ["COLUMNS", "KINDS", "Workload", "load", "names", "read_topology",
           "conv_row", "linear_row", "matmul_row", "pool_row"]
