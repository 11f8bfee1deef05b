"""Simulated annealing (Kirkpatrick et al., Science 1983) over single-parameter moves.

Written here: scipy's `dual_annealing` works on continuous boxes and owns its loop; a discrete
Metropolis walk under an external budget is a few lines.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.base import Agent, mutate
from agents.config import AgentConfig, HyperParameterError, hp

_DEFAULT_HORIZON = 1000  # cooling length when the budget is unknown (plain ask/tell)


class SimulatedAnnealing(Agent):
    """A walk that changes one parameter per move (a ±1 step with probability `local`, else a jump)
    and accepts a worse design with probability exp(delta / T). T cools geometrically from `t_start`
    to `t_end` (reward units) over the budget. A batch proposes several moves from the current
    design and accepts them in order."""
    name, family = "sa", "local_search"

    @dataclass(frozen=True)
    class Config(AgentConfig):
        t_start: float = hp(0.1, 1e-4, 10.0, log=True, help="initial temperature, in reward units")
        t_end: float = hp(1e-3, 1e-6, 1.0, log=True, help="final temperature")
        local: float = hp(0.7, 0.0, 1.0, help="probability that a move is a ±1 step")
        designs_per_ask: int = hp(1, 1, 64, log=True, help="moves proposed per evaluate call")

        def validate(self):
            if self.t_end > self.t_start:
                raise HyperParameterError(f"sa: t_end ({self.t_end}) must not exceed t_start ({self.t_start})")

    def _start(self):
        self._cur, self._cur_score, self._n = None, -np.inf, 0
        self._decay = np.log(self.config.t_end / self.config.t_start) / (self.budget or _DEFAULT_HORIZON)

    def _ask(self, n):
        if self._cur is None:
            return self.space.sample_indices(self.rng, n)
        return mutate(np.repeat(self._cur[None], n, axis=0), self.space, self.rng, local=self.config.local)

    def _tell(self, idx, results):
        for row, s in zip(idx, results["score"]):
            t = self.config.t_start * np.exp(self._decay * self._n)
            if s >= self._cur_score or self.rng.random() < np.exp((s - self._cur_score) / t):
                self._cur, self._cur_score = row.copy(), float(s)
            self._n += 1
