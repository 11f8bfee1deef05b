"""FPGA dataflow envs: fold a FINN-style accelerator, choose bit widths and clock, within a board.

- `FPGAEvaluator` (archgym/FPGADataflow-v0): compact network-wide knobs. FINN's SetFolding turns
  `target_cycles` into per-layer PE/SIMD; plus weight/activation bits, clock, multiplier and
  weight-memory style, and optionally the board.
- `FPGAFoldingEvaluator` (archgym/FPGAFolding-v0): per-layer PE and SIMD over each layer's
  divisors (the space is built from the workload), plus bits and clock.

Infeasible designs (over the board's budget x FINN's caps) come back with `feasible=False` and
`violation`, their total relative overshoot, so the objective ranks them by how far over they are.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence


import simulators.fpga as fpga
from archgym.envs.evaluator import SimulatorEvaluator
from archgym.core.errors import DesignError
from archgym.core.space import Categorical, DesignSpace, Integer, Parameter
from simulators.fpga import kernels as K

# Searched values of the network-wide parameters (PARAMETERS allows wider ranges).
GRID: dict[str, Parameter] = {p.name: p for p in (
    Categorical("target_cycles", tuple(2 ** k for k in range(8, 23)), default=2 ** 15),
    Integer("weight_bits", 1, 8, default=2),
    Integer("act_bits", 1, 8, default=2),
    Categorical("clock_mhz", (100, 125, 150, 175, 200, 250, 300), default=100),
    Categorical("mult_style", K.MULT_STYLES, default="auto"),
    Categorical("ram_style", K.RAM_STYLES, default="auto"),
)}
OBJECTIVE_METRICS = ["throughput_fps", "latency_s", "energy_j", "resource_util"]


class FPGAEvaluator(SimulatorEvaluator):
    """archgym/FPGADataflow-v0: SetFolding target, bits, clock and styles for a workload.

    board: a board name (fixed) or a sequence of names (searched); input_bits: the first layer's
    input width. Any other simulator parameter passed as a keyword (e.g. `weight_bits=1,
    act_bits=1`) is fixed and leaves the space.
    """

    def __init__(self, workload="cnv", board: str | Sequence[str] = "zcu104", input_bits: int = 8, **fixed):
        boards = [board] if isinstance(board, str) else list(board)
        if not boards:
            raise DesignError("board needs at least one board name")
        for b in boards:
            fpga.check_design({"board": b})
        params = [Categorical("board", boards, default=boards[0], group="hardware")] if len(boards) > 1 else []
        model = fpga.prepare(workload, input_bits=input_bits)
        fixed = {**({"board": boards[0]} if len(boards) == 1 else {}), **fixed}
        self._init(model, DesignSpace(params + _grid(fixed)), fixed, f"FINN-style dataflow FPGA on {model.network.name}")

    def _init(self, model, space: DesignSpace, fixed: Mapping, description: str) -> None:
        fpga.check_design({k: v for k, v in fixed.items() if k in fpga.PARAMETERS})
        super().__init__(fpga, model, space, fixed, description=description)
        self.model = model
        self.metric_names = tuple(m for m in fpga.METRICS if m not in ("feasible", "overflow", "violation"))
        ref = self.default_metrics()
        fps, lat, energy, util = (ref[m] for m in OBJECTIVE_METRICS)
        self.objective_defaults = {
            "metrics": OBJECTIVE_METRICS,
            # log10(fps) - log10(latency) - log10(energy) - log10(resource share): the sum of the
            # objective's log scores; infeasible designs score INFEASIBLE_REWARD - violation below it.
            "default": "product",
            # The target spec: twice the default design's throughput at half its latency, in no
            # more energy per frame and no larger a share of the binding resource.
            "target": {"targets": {"throughput_fps": 2 * fps, "latency_s": lat / 2, "energy_j": energy,
                                   "resource_util": util}},
            "constraint": {"optimize": "throughput_fps", "limits": {"energy_j": energy, "resource_util": util}},
        }


class FPGAFoldingEvaluator(FPGAEvaluator):
    """archgym/FPGAFolding-v0: per-layer `<layer>.pe` and `<layer>.simd` (the layer's divisors)
    plus bits, clock and styles, on one board. The default folding is FINN SetFolding's at
    `target_cycles`; layers with a single choice are fixed; SWUs are folded to keep pace with
    their units."""

    def __init__(self, workload="cnv", board: str = "zcu104", target_cycles: float = 2 ** 15, input_bits: int = 8,
                 **fixed):
        model = fpga.prepare(workload, input_bits=input_bits)
        net = model.network
        fixed = {"board": board, "target_cycles": target_cycles, **fixed}
        default = model.set_folding({k: v for k, v in fixed.items() if k in fpga.PARAMETERS})
        params = []
        for name, pe_choices, simd_choices, chosen in zip(net.layer_names, net.pe_choices, net.simd_choices, default):
            for kind, choices, value in (("pe", pe_choices, chosen[0]), ("simd", simd_choices, chosen[1])):
                if len(choices) > 1:
                    params.append(Categorical(f"{name}.{kind}", choices, default=value, group="hardware"))
                else:
                    fixed[f"{name}.{kind}"] = choices[0]
        space = DesignSpace(_grid(fixed, exclude=("target_cycles",)) + params)
        self._init(model, space, fixed, f"per-layer PE/SIMD folding of a FINN-style dataflow FPGA on {net.name}")


def _grid(fixed: Mapping, exclude=()) -> list[Parameter]:
    """The searched network-wide parameters: GRID minus the fixed and excluded ones."""
    bad = [k for k in fixed if k not in fpga.PARAMETERS.names and not k.endswith((".pe", ".simd"))]
    if bad:
        raise DesignError(f"unknown fixed parameter {bad[0]!r}; parameters: {', '.join(fpga.PARAMETERS.names)}")
    return [p.replace(group="hardware") for name, p in GRID.items() if name not in fixed and name not in exclude]
