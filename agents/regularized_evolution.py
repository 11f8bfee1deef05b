"""Regularized (aging) evolution, Real et al., AAAI 2019 (arXiv:1802.01548).

Written here: no maintained library implements it over an ask/tell interface, and it is ten lines.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.base import Agent, mutate
from agents.config import AgentConfig, HyperParameterError, hp


class RegularizedEvolution(Agent):
    """Keep the `population` most recent designs. Each child is a one-parameter mutation of the
    best of `sample_size` random members; the oldest member dies when a child is added."""
    name, family = "regularized_evolution", "evolutionary"

    @dataclass(frozen=True)
    class Config(AgentConfig):
        population: int = hp(64, 4, 4096, log=True, help="designs alive at once")
        sample_size: int = hp(16, 1, 1024, log=True, help="members sampled per tournament")
        designs_per_ask: int = hp(8, 1, 256, log=True, help="children per evaluate call")

        def validate(self):
            if self.sample_size > self.population:
                raise HyperParameterError(f"regularized_evolution: sample_size ({self.sample_size}) must not exceed "
                                          f"population ({self.population})")

    def _start(self):
        self._pop = np.zeros((self.config.population, len(self.space)), dtype=np.int64)  # ring buffer
        self._score = np.zeros(self.config.population)
        self._count = 0

    def _ask(self, n):
        if self._count < self.config.population:
            return self.space.sample_indices(self.rng, n)
        sample = self.rng.integers(self.config.population, size=(n, self.config.sample_size))
        parents = sample[np.arange(n), np.argmax(self._score[sample], axis=1)]
        return mutate(self._pop[parents], self.space, self.rng)

    def _tell(self, idx, results):
        slots = (self._count + np.arange(len(idx))) % self.config.population  # replaces the oldest
        self._pop[slots], self._score[slots] = idx, results["score"]
        self._count += len(idx)
