"""Gymnasium views of a DesignSpace and an Objective: the MultiDiscrete action space, the Dict
action space (and a wrapper that acts through it), and the MO-Gymnasium reward space."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from archgym.core.objectives import Objective
from archgym.core.space import DesignSpace, Real


def action_space(space: DesignSpace) -> spaces.MultiDiscrete:
    """The index encoding: one Discrete entry per parameter."""
    return spaces.MultiDiscrete(space.nvec)


def dict_space(space: DesignSpace) -> spaces.Dict:
    """One entry per parameter: its index (Discrete), or its value for a Real (a Box)."""
    return spaces.Dict({p.name: spaces.Box(p.low, p.high, shape=(), dtype=np.float64) if isinstance(p, Real)
                        else spaces.Discrete(len(p)) for p in space})


def reward_space(objective: Objective) -> spaces.Box:
    """A scalar Box, or one entry per metric in `vector` mode (MO-Gymnasium's convention)."""
    shape = (len(objective.metrics),) if objective.mode == "vector" else ()
    return spaces.Box(-np.inf, np.inf, shape=shape, dtype=np.float64)


class DictActions(gym.ActionWrapper):
    """Act with a Dict of parameter name -> index (or value, for a Real) instead of an index vector."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.design_space: DesignSpace = env.unwrapped.space
        self.action_space = dict_space(self.design_space)

    def action(self, action) -> np.ndarray:
        return self.design_space.to_indices(self.design_space.from_dict_sample(action))
