"""Hardware costs of a cell-based network space, composed from costs of its unique parts.

In a space like NAS-Bench-201 every network is a fixed arrangement of a few distinct *units*
(layer-table blocks, or whole networks standing for a class of equal-cost networks): network a
uses unit `units[a, k]` `mult[k]` times in slot k. A simulator then runs once per (hardware
design, unit), never per (design, network): `CostTable` computes those costs lazily, a design at a
time, with the simulator's own batch kernel, and `compose` sums them for any batch of
(design, network) pairs in a numba prange kernel. This is exact for every metric that adds up over
the units (cycles, latency, energy, traffic, MACs, resources); metrics that do not (area, power,
a pipeline's initiation interval, feasibility) are the env's to derive, and a context-dependent
cost (a term that depends on a neighbouring unit) is expressed by keying units on that context.
tests/test_nb201_env.py checks the composition against the simulator run on whole networks.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit, prange

PARALLEL_MIN = 256  # below this many designs the serial kernel beats a thread-pool launch


@njit(cache=True, parallel=True)
def _compose(costs, hw, arch, units, mult, out):
    for i in prange(hw.shape[0]):
        _one(costs, hw[i], arch[i], units, mult, out, i)


@njit(cache=True)
def _compose_serial(costs, hw, arch, units, mult, out):
    for i in range(hw.shape[0]):
        _one(costs, hw[i], arch[i], units, mult, out, i)


@njit(cache=True, inline="always")
def _one(costs, h, a, units, mult, out, i):
    n_m = costs.shape[2]
    for m in range(n_m):
        out[i, m] = 0.0
    for k in range(units.shape[1]):
        u = units[a, k]
        w = mult[k]
        for m in range(n_m):
            out[i, m] += w * costs[h, u, m]


@njit(cache=True, parallel=True)
def _compose_grid(costs, hw, units, mult, out):
    """out[j * n_networks + a]: network a on hardware design hw[j]."""
    n_arch = units.shape[0]
    for t in prange(hw.shape[0] * n_arch):
        _one(costs, hw[t // n_arch], t % n_arch, units, mult, out, t)


class CostTable:
    """Costs of every unit on every hardware design, filled on demand by
    `compute(hw_ids) -> (len(hw_ids), n_units, n_metrics)`; `units`/`mult` say how networks use
    the units (see the module docstring).

    `groups` (a partition of the slots) merges units for speed: the slots of a group whose units
    always come in the same few combinations are pre-summed once per hardware design into one
    merged unit per combination (NB201: an edge's op is the same in all 15 cells, so its 3 stage
    blocks become one unit), which cuts the memory reads of each composed network."""

    def __init__(self, n_hw: int, units: np.ndarray, mult: np.ndarray, n_metrics: int,
                 compute: Callable[[np.ndarray], np.ndarray], groups: list[list[int]] | None = None):
        units = np.asarray(units, dtype=np.int64)
        mult = np.asarray(mult, dtype=np.float64)
        groups = [[k] for k in range(units.shape[1])] if groups is None else groups
        if sorted(k for g in groups for k in g) != list(range(units.shape[1])):
            raise ValueError("groups must partition the slots 0..n_slots-1")
        n_units = int(units.max()) + 1
        rows, merged = [], np.empty((len(units), len(groups)), dtype=np.int32)
        for j, g in enumerate(groups):
            combos, inverse = np.unique(units[:, g], axis=0, return_inverse=True)
            merged[:, j] = len(rows) + inverse.reshape(-1)
            for combo in combos:
                row = np.zeros(n_units)
                np.add.at(row, combo, mult[g])
                rows.append(row)
        self.merge = np.array(rows)  # (n_merged, n_units): multiplicity of each unit in each merged unit
        self.units = merged
        self.mult = np.ones(len(groups))
        self.costs = np.zeros((n_hw, len(rows), n_metrics))
        self.done = np.zeros(n_hw, dtype=bool)
        self._compute = compute

    def ensure(self, hw: np.ndarray) -> None:
        """Compute the costs of the hardware designs `hw` not seen yet."""
        if len(hw) == 1:
            if not self.done[hw[0]]:
                self._fill(hw[:1])
            return
        missing = hw[~self.done[hw]]
        if len(missing):
            self._fill(np.unique(missing))

    def _fill(self, hw: np.ndarray) -> None:
        unit_costs = self._compute(hw)[:, :self.merge.shape[1]]  # units no network uses drop out
        self.costs[hw] = np.einsum("gu,hum->hgm", self.merge, unit_costs)
        self.done[hw] = True

    def compose(self, hw: np.ndarray, arch: np.ndarray) -> np.ndarray:
        """(n, n_metrics) summed costs of network arch[i] on hardware design hw[i]."""
        self.ensure(hw)
        out = np.empty((len(hw), self.costs.shape[2]))
        kernel = _compose if len(hw) >= PARALLEL_MIN else _compose_serial
        kernel(self.costs, np.asarray(hw, np.int64), np.asarray(arch, np.int64), self.units, self.mult, out)
        return out

    def grid(self, hw: np.ndarray) -> np.ndarray:
        """(len(hw), n_networks, n_metrics): every network on each hardware design of `hw`."""
        hw = np.asarray(hw, np.int64)
        self.ensure(hw)
        out = np.empty((len(hw) * self.units.shape[0], self.costs.shape[2]))
        _compose_grid(self.costs, hw, self.units, self.mult, out)
        return out.reshape(len(hw), self.units.shape[0], -1)
