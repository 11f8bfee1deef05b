"""`archgym/DRAMController-v0`: tune a DRAM memory controller against latency, power and energy.

The action space is ArchGym's ten DRAMSys knobs plus the power-down policy (simulators.dram.KNOBS;
buffer sizes and max active transactions as powers of two). The memory system (`standard`,
`channels`, `ranks`, `address_mapping`) and any knob given as a keyword argument are fixed and
leave the action space. Every design is feasible.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from archgym.envs.base import Evaluator
from archgym.errors import DesignError
from archgym.space import DesignSpace
from simulators import dram
from simulators.dram import kernel as K

POWERS_OF_TWO = [1, 2, 4, 8, 16, 32, 64, 128]
TARGET_GAIN = 0.8   # default targets: 20% below the default controller's latency, power and energy


class DRAMEvaluator(Evaluator):
    """Batch evaluator of controller designs on one trace (built-in name, file path or array).
    `trace_clock_mhz` is the clock of the trace's arrival cycles (default: 800 MHz for .stl
    traces, the DRAM clock otherwise); `fixed` holds values for any simulators.dram parameter."""

    def __init__(self, trace="stream", trace_clock_mhz: float | None = None, **fixed):
        unknown = [k for k in fixed if k not in dram.PARAMETERS]
        if unknown:
            raise DesignError(f"unknown DRAM parameter {unknown[0]!r}; parameters: {', '.join(dram.PARAMETERS.names)}")
        full = dram.PARAMETERS.restrict(request_buffer_size=POWERS_OF_TWO, max_active_transactions=POWERS_OF_TWO)
        self.space = DesignSpace([full[n] for n in dram.KNOBS if n not in fixed])
        self.base = dram.PARAMETERS.complete({**self.space.default(), **fixed})
        self.std = dram.standard_of(self.base)
        chunks, mhz = dram._source(trace, trace_clock_mhz)
        raw = np.concatenate(list(chunks))
        dram._check_capacity(raw, 0, dram.capacity_bytes(self.base), self.base)
        self.trace = raw
        self.trace_mhz = mhz
        self._trace_ctrl = dram.to_controller_cycles(raw, mhz, self.std)[None]   # once, at construction
        self._P = dram.params(self.base)
        self._columns = np.array([K.P_PAGE + dram.KNOBS.index(n) for n in self.space.names], np.int64)
        self.metric_names = dram.METRICS
        ref = self._run(self._P[None])
        self.objective_defaults = {
            "metrics": ["latency_s", "power_w", "energy_j"],
            "default": "target",
            "target": {"targets": {m: float(ref[m][0]) * TARGET_GAIN for m in ("latency_s", "power_w", "energy_j")}},
            "constraint": {"optimize": "latency_s", "limits": {"power_w": float(ref["power_w"][0])}},
        }

    def _run(self, Ps: np.ndarray) -> dict[str, np.ndarray]:
        which = np.zeros(len(Ps), np.int64)
        return dram.run_params(Ps, self._trace_ctrl, which, [self.std] * len(Ps))

    def __call__(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        values = self.space.decode(idx)   # categorical knobs decode to their kernel codes
        Ps = np.tile(self._P, (len(values), 1))
        Ps[:, self._columns] = values.astype(np.int64)
        out = self._run(Ps)
        out["feasible"] = np.ones(len(Ps), dtype=bool)
        out["violation"] = np.zeros(len(Ps))
        return out

    def simulate(self, design: Mapping):
        return dram.simulate({**self.base, **design}, self.trace, requests=True, trace_clock_mhz=self.trace_mhz)

    def describe(self) -> str:
        return f"DRAM controller, {self.std.name}, {len(self.trace)} requests"
