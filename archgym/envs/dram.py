"""`archgym/DRAMController-v0`: tune a DRAM memory controller against latency, power and energy.

The action space is ArchGym's ten DRAMSys knobs plus the power-down policy (simulators.dram.KNOBS;
buffer sizes and max active transactions as powers of two). The memory system (`standard`,
`channels`, `ranks`, `address_mapping`) and any knob given as a keyword argument are fixed and
leave the action space. Every design is feasible.
"""
from __future__ import annotations

from simulators import dram
from archgym.core.errors import DesignError
from archgym.core.space import DesignSpace
from archgym.envs.evaluator import SimulatorEvaluator

POWERS_OF_TWO = [1, 2, 4, 8, 16, 32, 64, 128]
TARGET_GAIN = 0.8   # default targets: 20% below the default controller's latency, power and energy


class DRAMEvaluator(SimulatorEvaluator):
    """Batch evaluator of controller designs on one trace (built-in name, file path or array).
    `trace_clock_mhz` is the clock of the trace's arrival cycles (default: 800 MHz for .stl
    traces, the DRAM clock otherwise); `fixed` holds values for any simulators.dram parameter."""

    def __init__(self, trace="stream", trace_clock_mhz: float | None = None, **fixed):
        unknown = [k for k in fixed if k not in dram.PARAMETERS]
        if unknown:
            raise DesignError(f"unknown DRAM parameter {unknown[0]!r}; parameters: {', '.join(dram.PARAMETERS.names)}")
        full = dram.PARAMETERS.restrict(request_buffer_size=POWERS_OF_TWO, max_active_transactions=POWERS_OF_TWO)
        space = DesignSpace([full[n] for n in dram.KNOBS if n not in fixed])
        prepared = dram.prepare(trace, trace_clock_mhz)
        system = dram.PARAMETERS.complete({k: v for k, v in fixed.items() if k in dram.SYSTEM})
        std = dram.standard_of(system)
        super().__init__(dram, prepared, space, fixed,
                         description=f"DRAM controller, {std.name}, {len(prepared.requests)} requests")
        self.trace, self.std = prepared, std
        ref = self.default_metrics()
        self.objective_defaults = {
            "metrics": ["latency_s", "power_w", "energy_j"],
            "default": "target",
            "target": {"targets": {m: ref[m] * TARGET_GAIN for m in ("latency_s", "power_w", "energy_j")}},
            "constraint": {"optimize": "latency_s", "limits": {"power_w": ref["power_w"]}},
        }

    def simulate(self, design):
        """Full detail for one design: totals and per-request cycles."""
        return dram.simulate({**self.fixed, **design}, self.trace, requests=True)
