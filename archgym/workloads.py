"""Workloads as users reach them (`archgym.workloads.load("resnet50")`): the layer tables and
traces of `archgym.core.workloads`, plus the model frontends of `archgym.frontends`."""
from archgym.core.workloads import *  # noqa: F401,F403  (this module only gathers the public names)
from archgym.core.workloads import __all__ as _core_names
from archgym.frontends import from_torch

__all__ = [*_core_names, "from_torch"]
