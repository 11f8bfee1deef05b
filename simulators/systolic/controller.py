"""The array's DRAM traffic through our DRAM controller simulator (dram_model="controller").

Per layer, the kernel's DRAM reads and writes become 64 B requests spread evenly over the layer's
busy cycles (double buffering: the next tile streams in while the array computes), reads and
writes interleaved in proportion, each stream sequential in its own region (refetches revisit it).
The trace runs through `simulators.dram.simulate` (its public surface only) with the design's
controller knobs, standard, channels and ranks (the `dram_*` parameters). The layer then takes
max(busy, the last response) cycles, and its DRAM energy is the simulated command and background
energy. SCALE-Sim v3 does this with Ramulator, layer by layer; here it is in process.

Layers with more than `sample` requests are simulated on their first `sample` requests at the same
request rate and extrapolated: if the controller serves the second half of the sample slower than
the requests arrive, it drains the rest at that rate; otherwise the last request arrives at the end
of the layer and waits as long as the sample's last quarter did. Energy scales with the requests.
`sample=None` simulates every request (tests/test_systolic_controller.py measures the difference).
"""
from __future__ import annotations

import math

import numpy as np

from archgym.core.space import DesignSpace
from simulators import dram
from simulators.systolic.kernel import (D_CLOCK_GHZ, L_COMPUTE, L_CYCLES, L_DRAM_RB, L_DRAM_WB, L_E_DRAM, L_LATENCY,
                                        L_STALL, L_VSTALL, simulate_layers, totals_of_layers)

PREFIX = "dram_"
DRAM_PARAMETERS = DesignSpace([p.replace(name=PREFIX + p.name, group="hardware") for p in dram.PARAMETERS])
SAMPLE = 8192  # requests simulated per layer before extrapolating
SATURATED = 0.98  # served / offered request rate below which the controller is the bottleneck
REQUEST = 64  # bytes per DRAM request


def dram_design(codes: np.ndarray) -> dict:
    """The DRAM design dict of the `dram_*` columns of a kernel vector."""
    return {p.name[len(PREFIX):]: (p.value(int(c)) if isinstance(p.default, str) else int(c))
            for p, c in zip(DRAM_PARAMETERS, codes)}


def layer_trace(read_bytes: float, write_bytes: float, busy_cycles: float, limit: int | None, capacity: int = 1 << 30):
    """(trace (k, 3) in array cycles, total requests n) of one layer's first k = min(n, limit) requests;
    reads in the lower half of `capacity` bytes, writes in the upper half, each wrapping around its half."""
    n_r, n_w = math.ceil(read_bytes / REQUEST), math.ceil(write_bytes / REQUEST)
    n = n_r + n_w
    k = n if limit is None else min(n, limit)
    i = np.arange(k, dtype=np.int64)
    is_write = (i + 1) * n_w // n - i * n_w // n  # writes interleaved in proportion
    seq = np.where(is_write == 1, np.cumsum(is_write) - 1, i - np.cumsum(is_write))
    out = np.empty((k, 3), dtype=np.int64)
    half = capacity // 2
    out[:, 0] = np.where(is_write == 1, half, 0) + (seq * REQUEST) % half
    out[:, 1] = is_write
    out[:, 2] = (i * max(busy_cycles, 1.0) / n).astype(np.int64)
    return out, n


def dram_time_energy(design: dict, trace: np.ndarray, n: int, busy_cycles: float,
                     clock_mhz: float) -> tuple[float, float]:
    """(seconds from the first arrival to the last response, joules) of a layer's n requests spread
    over `busy_cycles` array cycles, from the simulated first len(trace) of them."""
    res = dram.simulate(design, trace, trace_clock_mhz=clock_mhz, requests=len(trace) < n)
    m = res.metrics
    k = len(trace)
    if k == n:
        return m["latency_s"], m["energy_j"]
    tck = m["latency_s"] / m["cycles"]
    arrival, response = res.requests["arrival_cycle"] * tck, res.requests["response_cycle"] * tck
    done = np.sort(response)
    h = k // 2
    served = (k - 1 - h) / max(done[-1] - done[h], 1e-12)  # requests per second over the sample's second half
    offered = n / (max(busy_cycles, 1.0) / (clock_mhz * 1e6))
    if served < SATURATED * offered:  # the controller falls behind: it drains the rest at its own rate
        seconds = done[-1] + (n - k) / served
    else:  # it keeps up: the last request arrives at the end of the layer and waits as long as the others
        seconds = (n - 1) / n * max(busy_cycles, 1.0) / (clock_mhz * 1e6) + (response - arrival)[-(k // 4):].mean()
    return seconds, m["energy_j"] * n / k


def simulate_layers_controller(vector: np.ndarray, prepared, n_system: int, sample: int | None = SAMPLE) -> np.ndarray:
    """Per-layer rows (kernel.LAYER_FIELDS) of one full design vector with stalls, cycles, latency and
    DRAM energy from the DRAM controller simulator."""
    d = np.ascontiguousarray(vector[:n_system])
    design = dram_design(vector[n_system:])
    layers = simulate_layers(d, prepared.table, prepared.tech_arrays, prepared.mode)
    clock_mhz = d[D_CLOCK_GHZ] * 1e3
    capacity = dram.capacity_bytes(design)
    for o in layers:
        busy = o[L_COMPUTE] + o[L_VSTALL]
        o[L_STALL], o[L_E_DRAM] = 0.0, 0.0
        if o[L_DRAM_RB] + o[L_DRAM_WB] > 0:
            trace, n = layer_trace(o[L_DRAM_RB], o[L_DRAM_WB], busy, sample, capacity)
            seconds, joules = dram_time_energy(design, trace, n, busy, clock_mhz)
            o[L_STALL] = max(0.0, math.ceil(seconds * clock_mhz * 1e6) - busy)
            o[L_E_DRAM] = joules
        o[L_CYCLES] = busy + o[L_STALL]
        o[L_LATENCY] = o[L_CYCLES] / (clock_mhz * 1e6)
    return layers


def evaluate_controller(vectors: np.ndarray, prepared, n_system: int, sample: int | None = SAMPLE) -> np.ndarray:
    """Totals (n, len(TOTAL_FIELDS)): one kernel call and one DRAM simulation per layer per design."""
    out = [totals_of_layers(np.ascontiguousarray(v[:n_system]),
                            simulate_layers_controller(v, prepared, n_system, sample), prepared.tech_arrays)
           for v in vectors]
    return np.array(out).reshape(len(vectors), -1)
