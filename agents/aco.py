"""Ant colony optimisation (MAX-MIN ant system, Stützle & Hoos 2000), as in ArchGym's ACO agent.

Written here: the maintained ACO packages solve routing problems on graphs; design-space search
needs only a pheromone table per parameter, which is a few lines of numpy.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.base import Agent
from agents.config import AgentConfig, HyperParameterError, hp


class AntColony(Agent):
    """Each ant picks every parameter's value with probability proportional to pheromone**alpha.
    After each colony the pheromone evaporates by `evaporation`, the `elite` best ants of the colony
    deposit by rank and the best design so far deposits once; pheromone stays within
    [tau_max * min_ratio, tau_max] so no value is ever ruled out."""
    name, family = "aco", "swarm"

    @dataclass(frozen=True)
    class Config(AgentConfig):
        ants: int = hp(16, 2, 1024, log=True, help="designs per colony (one evaluate call)")
        alpha: float = hp(1.0, 0.1, 5.0, help="pheromone exponent")
        evaporation: float = hp(0.1, 0.01, 0.9, log=True, help="fraction of pheromone lost per colony")
        elite: int = hp(4, 1, 1024, log=True, help="best ants of a colony that deposit")
        min_ratio: float = hp(0.02, 1e-4, 1.0, log=True, help="pheromone floor relative to the ceiling")

        def validate(self):
            if self.elite > self.ants:
                raise HyperParameterError(f"aco: elite ({self.elite}) must not exceed ants ({self.ants})")

    @property
    def designs_per_ask(self) -> int:
        return self.config.ants

    def _start(self):
        self._tau_max = 1.0 / self.config.evaporation
        self._tau = [np.full(int(k), self._tau_max) for k in self.space.nvec]
        self._best, self._best_score = None, -np.inf

    def _ask(self, n):
        out = np.empty((n, len(self._tau)), dtype=np.int64)
        for j, tau in enumerate(self._tau):
            cdf = np.cumsum(tau ** self.config.alpha)
            out[:, j] = np.minimum(np.searchsorted(cdf, self.rng.random(n) * cdf[-1], side="right"), len(tau) - 1)
        return out

    def _tell(self, idx, results):
        score = results["score"]
        order = np.argsort(-score, kind="stable")[:self.config.elite]
        if score[order[0]] > self._best_score:
            self._best, self._best_score = idx[order[0]].copy(), float(score[order[0]])
        weights = (self.config.elite - np.arange(len(order))) / self.config.elite
        for j, tau in enumerate(self._tau):
            tau *= 1.0 - self.config.evaporation
            np.add.at(tau, idx[order, j], weights)
            tau[self._best[j]] += 1.0
            np.clip(tau, self._tau_max * self.config.min_ratio, self._tau_max, out=tau)
