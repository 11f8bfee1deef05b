"""Model-free samplers: uniform random search, a budget-sized grid, and scrambled Sobol QMC."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from agents.base import Agent, UnsupportedSpaceError
from agents.config import AgentConfig, hp
from archgym.core.space import MAX_ENUMERATE


@dataclass(frozen=True)
class SamplerConfig(AgentConfig):
    designs_per_ask: int = hp(256, 1, 65_536, log=True, help="designs per evaluate call")


class RandomSearch(Agent):
    """Uniform random designs (with replacement): the baseline every agent must beat."""
    name, family = "random", "sampling"
    Config = SamplerConfig

    def _ask(self, n):
        return self.space.sample_indices(self.rng, n)


class GridSearch(Agent):
    """A full-factorial grid as large as the budget allows, visited in a seeded random order.

    Each parameter gets `levels` evenly spaced values (endpoints included); levels are raised one
    parameter at a time, always the least-resolved one, while the grid still fits the budget. If the
    budget exceeds the whole space, the leftover evaluations are uniform random designs.
    Without a budget (plain ask/tell) the grid is the whole space.
    """
    name, family = "grid", "sampling"
    Config = SamplerConfig

    def _start(self):
        nvec = self.space.nvec
        if self.budget is None and self.space.size > MAX_ENUMERATE:
            raise UnsupportedSpaceError(f"grid without a budget enumerates the whole space, and this one has "
                                        f"{self.space.size:,} designs; pass budget= to reset(), or use random or qmc")
        cap = self.budget if self.budget is not None else self.space.size
        levels = np.ones(len(nvec), dtype=np.int64)
        while True:
            open_ = np.flatnonzero(levels < nvec)
            if not len(open_):
                break
            j = open_[np.argmin(levels[open_] / nvec[open_])]
            if np.prod(levels, dtype=float) / levels[j] * (levels[j] + 1) > cap:
                break
            levels[j] += 1
        axes = [np.round(np.linspace(0, n - 1, l)).astype(np.int64) if l > 1 else np.array([(n - 1) // 2])
                for n, l in zip(nvec, levels)]
        vary = [j for j, ax in enumerate(axes) if len(ax) > 1]  # meshgrid takes at most 32 axes
        grid = np.tile([ax[0] for ax in axes], (int(np.prod([len(axes[j]) for j in vary])), 1))
        if vary:
            grid[:, vary] = np.stack([g.reshape(-1) for g in np.meshgrid(*[axes[j] for j in vary], indexing="ij")], axis=1)
        self._queue = grid[self.rng.permutation(len(grid))]
        self._next = 0

    def _ask(self, n):
        take = self._queue[self._next:self._next + n]
        self._next += len(take)
        if len(take) < n:
            take = np.vstack([take, self.space.sample_indices(self.rng, n - len(take))])
        return take


class SobolSearch(Agent):
    """Scrambled Sobol points (scipy.stats.qmc) mapped from the unit cube to the index grid."""
    name, family = "qmc", "sampling"
    Config = SamplerConfig

    def _start(self):
        from scipy.stats import qmc
        self._sobol = qmc.Sobol(len(self.space), scramble=True, rng=self.rng)

    def _ask(self, n):
        with warnings.catch_warnings():  # balance is a property of the whole sequence, not of each batch
            warnings.simplefilter("ignore", UserWarning)
            return self.space.unit_to_indices(self._sobol.random(n))
