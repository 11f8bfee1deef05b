"""Hardware costs of a network space, composed from costs of the units its networks share.

In a space like NAS-Bench-201 every network is a multiset of a few hundred distinct *units* (its
unique layer rows in their feature-map context, or a whole network standing for a class of
equal-cost networks): network a uses unit `units[k]` `counts[k]` times for k in
`indptr[a]:indptr[a + 1]` (CSR). A simulator then runs once per (hardware design, unit), never per
(design, network): `CostTable` computes those costs lazily, a batch of designs at a time, with the
simulator's own batch kernel, and `compose` sums them for any batch of (design, network) pairs in a
numba prange kernel. This is exact for every metric that adds up over the units (cycles, latency,
energy, traffic, resources) when each unit's cost depends only on the design and the unit itself,
which is what keying units on their context is for (the systolic model prices a row from its own
columns, feature-map occupancies included); metrics that do not add up (area, power, a pipeline's
initiation interval, feasibility) are the env's to derive. tests/test_nb201_env.py checks the
composition against the simulators run on whole networks.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit, prange

PARALLEL_MIN = 256  # below this many designs the serial kernel beats a thread-pool launch
FILL_PAIRS = 1 << 16  # (design, unit) costs computed per simulator call


@njit(cache=True, parallel=True)
def _compose(costs, hw, arch, indptr, units, counts, out):
    for i in prange(hw.shape[0]):
        _one(costs, hw[i], arch[i], indptr, units, counts, out, i)


@njit(cache=True)
def _compose_serial(costs, hw, arch, indptr, units, counts, out):
    for i in range(hw.shape[0]):
        _one(costs, hw[i], arch[i], indptr, units, counts, out, i)


@njit(cache=True, inline="always")
def _one(costs, h, a, indptr, units, counts, out, i):
    n_m = costs.shape[2]
    for m in range(n_m):
        out[i, m] = 0.0
    for k in range(indptr[a], indptr[a + 1]):
        u = units[k]
        w = counts[k]
        for m in range(n_m):
            out[i, m] += w * costs[h, u, m]


@njit(cache=True, parallel=True)
def _compose_grid(costs, hw, indptr, units, counts, out):
    """out[j * n_networks + a]: network a on hardware design hw[j]."""
    n_arch = indptr.shape[0] - 1
    for t in prange(hw.shape[0] * n_arch):
        _one(costs, hw[t // n_arch], t % n_arch, indptr, units, counts, out, t)


class CostTable:
    """Costs of every unit on every hardware design, filled on demand by
    `compute(hw_ids) -> (len(hw_ids), n_units, n_metrics)`; `indptr`, `units`, `counts` say how
    networks use the units (CSR, see the module docstring)."""

    def __init__(self, n_hw: int, indptr: np.ndarray, units: np.ndarray, counts: np.ndarray, n_metrics: int,
                 compute: Callable[[np.ndarray], np.ndarray]):
        self.indptr = np.ascontiguousarray(indptr, dtype=np.int64)
        self.units = np.ascontiguousarray(units, dtype=np.int64)
        self.counts = np.ascontiguousarray(counts, dtype=np.float64)
        n_units = int(self.units.max()) + 1
        self.costs = np.zeros((n_hw, n_units, n_metrics))
        self.done = np.zeros(n_hw, dtype=bool)
        self._compute = compute
        self._step = max(1, FILL_PAIRS // n_units)

    @property
    def n_networks(self) -> int:
        return len(self.indptr) - 1

    def ensure(self, hw: np.ndarray) -> None:
        """Compute the costs of the hardware designs `hw` not seen yet."""
        if len(hw) == 1:
            if not self.done[hw[0]]:
                self._fill(hw[:1])
            return
        missing = np.unique(hw[~self.done[hw]])
        for lo in range(0, len(missing), self._step):
            self._fill(missing[lo:lo + self._step])

    def _fill(self, hw: np.ndarray) -> None:
        self.costs[hw] = self._compute(hw)
        self.done[hw] = True

    def compose(self, hw: np.ndarray, arch: np.ndarray) -> np.ndarray:
        """(n, n_metrics) summed costs of network arch[i] on hardware design hw[i]."""
        self.ensure(hw)
        out = np.empty((len(hw), self.costs.shape[2]))
        kernel = _compose if len(hw) >= PARALLEL_MIN else _compose_serial
        kernel(self.costs, np.asarray(hw, np.int64), np.asarray(arch, np.int64), self.indptr, self.units, self.counts,
               out)
        return out

    def grid(self, hw: np.ndarray) -> np.ndarray:
        """(len(hw), n_networks, n_metrics): every network on each hardware design of `hw`."""
        hw = np.asarray(hw, np.int64)
        self.ensure(hw)
        out = np.empty((len(hw) * self.n_networks, self.costs.shape[2]))
        _compose_grid(self.costs, hw, self.indptr, self.units, self.counts, out)
        return out.reshape(len(hw), self.n_networks, -1)
