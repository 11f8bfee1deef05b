"""archgym: co-design neural networks and the hardware that runs them.

Importing archgym registers its envs with Gymnasium (`gymnasium.make("archgym/Systolic-v0")`).
The base layer (`archgym.core`) and the simulators import neither gymnasium nor torch, and a
simulator's import runs this file too, so registration waits for gymnasium: it happens now if
gymnasium is already imported, otherwise right after gymnasium's own import (Gymnasium 1.x has no
plugin entry points to do this for us).
"""
import sys
from importlib import abc as _abc, util as _util

from archgym import workloads
from archgym.core.errors import ArchGymError, DesignError, UnknownNameError, WorkloadError
from archgym.core.objectives import Objective
from archgym.core.space import Categorical, DesignSpace, Integer, PowerOfTwo, Real

__version__ = "0.1.0"


def load(run_dir):
    """The evaluation log of a run directory as a pandas DataFrame."""
    from archgym.experiments.log import load as _load
    return _load(run_dir)


def _register_envs(_module=None) -> None:
    from archgym.envs.registration import register_envs
    register_envs()


class _AfterGymnasium(_abc.MetaPathFinder, _abc.Loader):
    """A one-shot import hook: lets gymnasium import as usual, then registers archgym's envs."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "gymnasium":
            return None
        sys.meta_path.remove(self)
        spec = _util.find_spec(fullname)
        self._inner = spec.loader
        spec.loader = self
        return spec

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module):
        module.__spec__.loader = module.__loader__ = self._inner
        self._inner.exec_module(module)
        _register_envs()


if "gymnasium" in sys.modules:
    _register_envs()
elif not any(isinstance(f, _AfterGymnasium) for f in sys.meta_path):
    sys.meta_path.insert(0, _AfterGymnasium())

__all__ = ["workloads", "load", "Objective", "DesignSpace", "Categorical", "Integer", "PowerOfTwo", "Real",
           "ArchGymError", "DesignError", "UnknownNameError", "WorkloadError", "__version__"]
