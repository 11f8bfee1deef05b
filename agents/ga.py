"""Genetic algorithm: ArchGym's evolutionary baseline, on integer-coded designs.

Written here rather than taken from pymoo: pymoo's GA drives its own Problem/termination loop and
needs real-coded operators plus rounding repairs for discrete genes, while ours must answer
`ask(n)` for any n under a budget it does not own. The whole algorithm is a dozen lines below.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.base import Agent, mutate, tournament
from agents.config import AgentConfig, hp


class GeneticAlgorithm(Agent):
    """(mu + lambda) GA: tournament selection, uniform crossover, per-gene mutation; the best
    `population` distinct designs of parents and children survive. One generation per batch."""
    name, family = "ga", "evolutionary"

    @dataclass(frozen=True)
    class Config(AgentConfig):
        population: int = hp(32, 4, 1024, log=True, help="designs per generation")
        crossover_prob: float = hp(0.9, 0.0, 1.0, help="probability a child mixes two parents")
        mutation_rate: float = hp(0.15, 0.0, 1.0, help="per-gene mutation probability")
        tournament_size: int = hp(3, 1, 64, help="entrants per selection tournament")

    @property
    def designs_per_ask(self) -> int:
        return self.config.population

    def _start(self):
        self._pop = np.zeros((0, len(self.space)), dtype=np.int64)
        self._score = np.zeros(0)

    def _ask(self, n):
        if len(self._pop) < self.config.population:
            return self.space.sample_indices(self.rng, n)
        a = self._pop[tournament(self._score, self.config.tournament_size, n, self.rng)]
        b = self._pop[tournament(self._score, self.config.tournament_size, n, self.rng)]
        cross = (self.rng.random((n, 1)) < self.config.crossover_prob) & (self.rng.random(a.shape) < 0.5)
        return mutate(np.where(cross, b, a), self.space, self.rng, rate=self.config.mutation_rate)

    def _tell(self, idx, results):
        pool = np.vstack([self._pop, idx])
        score = np.concatenate([self._score, results["score"]])
        _, first = np.unique(pool, axis=0, return_index=True)  # one copy of each design
        keep = first[np.argsort(-score[first], kind="stable")][:self.config.population]
        keep.sort()
        self._pop, self._score = pool[keep], score[keep]
