"""Hill climbing with random restarts over one-parameter moves: the local-search baseline every
agent must beat on a landscape with few local optima.

Written here: it is a dozen lines on index arrays, and no maintained library climbs a discrete
space under an external ask/tell budget.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.base import Agent
from agents.config import AgentConfig, hp

_RESTART_TRIES = 64  # random draws to find an unvisited restart design before accepting a repeat


def neighbours(design: np.ndarray, nvec: np.ndarray) -> np.ndarray:
    """Every design one parameter away from `design` (each parameter set to each of its other
    values): an (sum(nvec - 1), d) index array."""
    d = len(nvec)
    col = np.repeat(np.arange(d), nvec - 1)
    value = np.concatenate([np.delete(np.arange(n), design[j]) for j, n in enumerate(nvec)])
    out = np.tile(design, (len(col), 1))
    out[np.arange(len(col)), col] = value
    return out


class HillClimbing(Agent):
    """Climb from a random design by one-parameter moves; restart from an unvisited random design at
    a local optimum (no one-parameter move improves, strictly).

    `strategy="first"` moves to the first improving neighbour, scanning neighbours in a random order
    (`designs_per_ask` at a time); `"best"` scans every neighbour and moves to the best (steepest
    ascent, i.e. coordinate ascent over all coordinates at once). Every design's score is
    remembered, so no design is evaluated twice by a climb and moves to known designs are free.
    """
    name, family = "hill_climbing", "local_search"

    @dataclass(frozen=True)
    class Config(AgentConfig):
        strategy: str = hp("first", choices=("first", "best"), help="first-improvement or steepest ascent")
        designs_per_ask: int = hp(1, 1, 256, log=True, help="neighbours scored per evaluate call")

    def _start(self):
        self._seen: dict[bytes, float] = {}  # design -> score (NaN while asked and not yet told)
        self._cur, self._cur_score = None, -np.inf
        self._queue = np.zeros((0, len(self.space)), dtype=np.int64)
        self._best_pending = None  # steepest ascent: the best neighbour scored in the current scan
        self._pending = 0  # designs asked and not yet told

    def _restart_design(self) -> np.ndarray:
        for _ in range(_RESTART_TRIES):
            d = self.space.sample_indices(self.rng, 1)[0]
            if d.tobytes() not in self._seen:
                return d
        return d

    def _restart(self) -> None:
        """The current design is a local optimum: the next told design starts a new climb."""
        self._cur, self._cur_score = None, -np.inf
        self._queue = self._queue[:0]

    def _move(self, design: np.ndarray, score: float) -> None:
        self._cur, self._cur_score = design.copy(), float(score)
        self._queue = neighbours(self._cur, self.space.nvec)[self.rng.permutation(int(np.sum(self.space.nvec - 1)))]
        self._best_pending = None

    def _next_unseen(self) -> np.ndarray | None:
        """Pop the next neighbour not yet visited; a visited neighbour that beats the current design
        (met on another climb) is moved to for free."""
        while len(self._queue):
            d, self._queue = self._queue[0], self._queue[1:]
            known = self._seen.get(d.tobytes())
            if known is None:
                return d
            if known > self._cur_score:
                self._improve(d, known)
        return None

    def _ask(self, n):
        out = []
        while len(out) < n:
            d = None if self._cur is None else self._next_unseen()
            waiting = self._pending or out  # designs of this scan not scored yet
            if d is None and self._best_pending is not None and not waiting:
                self._move(*self._best_pending)  # steepest ascent: the scan is over, take its best
                continue
            if d is None:
                if self._cur is not None and not waiting:
                    self._restart()
                d = self._restart_design()  # (a batch that outlasts a scan is filled with random designs)
            self._seen.setdefault(d.tobytes(), np.nan)
            out.append(d)
        self._pending += len(out)
        return np.array(out)

    def _tell(self, idx, results):
        self._pending = max(self._pending - len(idx), 0)
        for row, s in zip(idx, results["score"]):
            s = float(s)
            self._seen[row.tobytes()] = s
            if self._cur is None:  # the start of a climb
                self._move(row, s)
            elif s > self._cur_score:
                self._improve(row, s)

    def _improve(self, design: np.ndarray, score: float) -> None:
        """A design better than the current one: move now (first improvement) or remember it as the
        scan's best (steepest ascent)."""
        if self.config.strategy == "first":
            self._move(design, score)
        elif self._best_pending is None or score > self._best_pending[1]:
            self._best_pending = (design.copy(), score)
