"""The (1+1) evolutionary algorithm (Droste, Jansen & Wegener, TCS 2002) on integer-coded designs.

Written here: the textbook algorithm is five lines over `agents.base.mutate`, and libraries that
ship it (e.g. Nevergrad's OnePlusOne) own their loop and work on continuous boxes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.base import Agent, mutate
from agents.config import AgentConfig, hp

_RETRIES = 100  # one-parameter redraws (a draw can hit a parameter with a single value)


class OnePlusOneEA(Agent):
    """Keep one parent; each child changes each parameter with probability `rate_factor / d`
    (d parameters; standard bit-wise mutation at 1/d by default) and at least one parameter, to a
    uniformly drawn other value (a ±1 step for ordered parameters with probability `local`). The
    child replaces the parent if it scores at least as well (neutral moves cross plateaus). With
    `designs_per_ask` = λ > 1 it is the (1+λ) EA: λ children per evaluate call, the best competes."""
    name, family = "one_plus_one_ea", "evolutionary"

    @dataclass(frozen=True)
    class Config(AgentConfig):
        rate_factor: float = hp(1.0, 0.1, 10.0, log=True, help="expected parameters changed per child")
        local: float = hp(0.0, 0.0, 1.0, help="probability that a change of an ordered parameter is a ±1 step")
        designs_per_ask: int = hp(1, 1, 256, log=True, help="children per evaluate call (λ)")

    def _start(self):
        self._parent, self._parent_score = None, -np.inf

    def _ask(self, n):
        if self._parent is None:
            return self.space.sample_indices(self.rng, n)
        parents = np.repeat(self._parent[None], n, axis=0)
        rate = min(self.config.rate_factor / len(self.space), 1.0)
        children = mutate(parents, self.space, self.rng, rate=rate, local=self.config.local)
        for _ in range(_RETRIES):  # a child equal to its parent: change exactly one parameter instead
            same = np.all(children == parents, axis=1)
            if not same.any():
                break
            children[same] = mutate(parents[same], self.space, self.rng, local=self.config.local)
        return children

    def _tell(self, idx, results):
        best = int(np.argmax(results["score"]))
        if results["score"][best] >= self._parent_score:
            self._parent, self._parent_score = idx[best].copy(), float(results["score"][best])
