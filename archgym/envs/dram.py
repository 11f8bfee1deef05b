"""`archgym/DRAMController-v0`: tune a DRAM memory controller against latency, power and energy.

The action space is ArchGym's ten DRAMSys knobs plus the power-down policy (simulators.dram.KNOBS;
buffer sizes and max active transactions as powers of two; the arbiter is one of DRAMSys's Simple,
Fifo and Reorder). The memory system (`standard`, `channels`, `ranks`, `address_mapping`, or a
DRAMSys simulation file given as `dramsys_config`, whose mcconfig then sets the default design)
and any knob given as a keyword argument are fixed and leave the action space. Every design is
feasible.
"""
from __future__ import annotations

import copy

from archgym.core.errors import DesignError
from archgym.core.space import DesignSpace
from archgym.envs.evaluator import SimulatorEvaluator
from simulators import dram

POWERS_OF_TWO = [1, 2, 4, 8, 16, 32, 64, 128]
DRAMSYS_ARBITERS = ["simple", "fifo", "reorder"]   # ArchGym's space; "dramsim3" is for comparisons
TARGET_GAIN = 0.8   # default targets: 20% below the default controller's latency, power and energy


class DRAMEvaluator(SimulatorEvaluator):
    """Batch evaluator of controller designs on one trace (built-in name, file path or array).
    `trace_clock_mhz` is the clock of the trace's arrival cycles (default: 800 MHz for .stl
    traces, the DRAM clock otherwise); `dramsys_config` a DRAMSys simulation JSON whose memory
    system is used and whose mcconfig gives the default design (its first trace is the default
    trace); `fixed` holds values for any simulators.dram parameter."""

    def __init__(self, trace=None, trace_clock_mhz: float | None = None, dramsys_config=None, **fixed):
        unknown = [k for k in fixed if k not in dram.PARAMETERS]
        if unknown:
            raise DesignError(f"unknown DRAM parameter {unknown[0]!r}; parameters: {', '.join(dram.PARAMETERS.names)}")
        prepared = dram.prepare(trace, trace_clock_mhz, config=dramsys_config)
        defaults, system = dram.memory_system({k: v for k, v in fixed.items() if k in dram.SYSTEM}, prepared.config)
        full = dram.PARAMETERS.restrict(request_buffer_size=POWERS_OF_TWO, max_active_transactions=POWERS_OF_TWO,
                                        arbiter=DRAMSYS_ARBITERS)
        space = DesignSpace([_default(full[n], defaults[n]) for n in dram.KNOBS if n not in fixed])
        super().__init__(dram, prepared, space, fixed,
                         description=f"DRAM controller, {system.standard.name}, {prepared.n_requests} requests")
        self.trace, self.system = prepared, system
        ref = self.default_metrics()
        self.objective_defaults = {
            "metrics": ["latency_s", "power_w", "energy_j"],
            "default": "target",
            "target": {"targets": {m: ref[m] * TARGET_GAIN for m in ("latency_s", "power_w", "energy_j")}},
            "constraint": {"optimize": "latency_s", "limits": {"power_w": ref["power_w"]}},
        }

    def simulate(self, design):
        """Full detail for one design: totals and per-request cycles."""
        d = {**self.fixed, **design}
        if self.trace.config is not None:   # the config's memory system, not the placeholder defaults
            d = {k: v for k, v in d.items() if k not in dram.SYSTEM}
        return dram.simulate(d, self.trace, requests=True)


def _default(p, value):
    """Parameter p with `value` (a DRAMSys mcconfig's setting) as its default, where allowed."""
    if not p.contains(value) or p.default == value:
        return p
    q = copy.copy(p)
    q.default = value
    return q
