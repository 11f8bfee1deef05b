"""Workloads as users reach them (`archgym.workloads.load("resnet50")`): the layer tables and
traces of `archgym.core.workloads`, plus the model frontends of `archgym.frontends`."""
from pathlib import Path

from archgym.core.workloads import *  # noqa: F401,F403  (this module only gathers the public names)
from archgym.core.workloads import __all__ as _core_names
from archgym.core.workloads import load as _load_table
from archgym.frontends import from_onnx, from_torch


def load(source):
    """A built-in network name, a SCALE-Sim topology CSV, an ONNX model (`.onnx`, read with
    `from_onnx`), or a Workload (returned as is)."""
    if isinstance(source, (str, Path)) and str(source).lower().endswith(".onnx"):
        return from_onnx(source)
    return _load_table(source)


__all__ = [*_core_names, "from_onnx", "from_torch"]
