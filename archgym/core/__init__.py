"""The base layer: errors, design spaces, objectives, workloads and Pareto math.

It imports numpy (and yaml for trace headers) only: no gymnasium, no torch, no numba, so that
simulators and agents can stand on it without pulling in the gym.
"""
from archgym.core import workloads
from archgym.core.errors import ArchGymError, DesignError, UnknownNameError, WorkloadError
from archgym.core.objectives import Objective
from archgym.core.space import Categorical, DesignSpace, Integer, PowerOfTwo, Real

__all__ = ["workloads", "Objective", "DesignSpace", "Categorical", "Integer", "PowerOfTwo", "Real", "ArchGymError",
           "DesignError", "UnknownNameError", "WorkloadError"]
