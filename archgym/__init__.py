"""archgym: co-design neural networks and the hardware that runs them.

Importing archgym registers its envs with Gymnasium (`gymnasium.make("archgym/Systolic-v0")`).
"""
from archgym import workloads
from archgym.envs.registration import register_envs
from archgym.errors import ArchGymError, DesignError, UnknownNameError, WorkloadError
from archgym.objectives import Objective
from archgym.space import Categorical, DesignSpace, Integer, PowerOfTwo, Real

__version__ = "0.1.0"

register_envs()


def load(run_dir):
    """The evaluation log of a run directory as a pandas DataFrame."""
    from archgym.experiments.log import load as _load
    return _load(run_dir)


__all__ = ["workloads", "load", "Objective", "DesignSpace", "Categorical", "Integer", "PowerOfTwo", "Real",
           "ArchGymError", "DesignError", "UnknownNameError", "WorkloadError", "__version__"]
