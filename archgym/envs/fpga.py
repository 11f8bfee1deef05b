"""FPGA dataflow envs: fold a FINN-style accelerator, choose bit widths and clock, within a board.

- `FPGAEvaluator` (archgym/FPGADataflow-v0): compact network-wide knobs. FINN's SetFolding turns
  `target_cycles` into per-layer PE/SIMD; plus weight/activation bits, clock, multiplier and
  weight-memory style, and optionally the board.
- `FPGAFoldingEvaluator` (archgym/FPGAFolding-v0): per-layer PE and SIMD, each an index into that
  layer's divisor list (the space is built from the workload), plus bits and clock.

Infeasible designs (over the board's budget x FINN's caps) come back with `feasible=False` and
`violation`, their total relative overshoot, so the objective ranks them by how far over they are.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

import simulators.fpga as fpga
from archgym.envs.base import Evaluator
from archgym.errors import DesignError
from archgym.space import Categorical, DesignSpace, Integer, Parameter
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


def _kernel_values(param: Parameter) -> np.ndarray:
    """Index -> the value the kernel expects (board and style names become their codes)."""
    codes = fpga.CODES.get(param.name)
    if codes is not None:
        return np.array([codes.index(v) for v in param.values], dtype=np.float64)
    return np.asarray(param.values, dtype=np.float64)


class FPGAEvaluator(Evaluator):
    """archgym/FPGADataflow-v0: SetFolding target, bits, clock and styles for a workload.

    board: a board name (fixed) or a sequence of names (searched); input_bits: the first layer's
    input width. Any other simulator parameter passed as a keyword (e.g. `weight_bits=1,
    act_bits=1`) is fixed and leaves the space.
    """
    metric_names = tuple(m for m in fpga.METRICS if m not in ("feasible", "overflow"))

    def __init__(self, workload="cnv", board: str | Sequence[str] = "zcu104", input_bits: int = 8, **fixed):
        self.model = fpga.Model(workload, input_bits=input_bits)
        boards = [board] if isinstance(board, str) else list(board)
        if not boards:
            raise DesignError("board needs at least one board name")
        for b in boards:
            fpga.check_design({"board": b})
        params = [Categorical("board", boards, default=boards[0])] if len(boards) > 1 else []
        self._setup(params + _grid(fixed), {"board": boards[0], **fixed})

    def _setup(self, params: list[Parameter], fixed: Mapping, folding: Sequence[tuple[str, int]] = (),
               default_folding: np.ndarray | None = None) -> None:
        """Space = params: design parameters first, then one per (kind 'pe'/'simd', layer) in
        `folding`. fixed = every other design value; default_folding: (n_layers, 2) choice indices
        used for layers not searched (None: SetFolding on target_cycles)."""
        self.space = DesignSpace(params)
        self.fixed = fpga.check_design(fixed)
        self._base = fpga.design_vector(self.fixed)
        n_design = len(params) - len(folding)
        self._dcols = np.array([K.DESIGN_FIELDS.index(p.name) for p in params[:n_design]], dtype=np.int64)
        self._lookup = np.zeros((len(params), int(self.space.nvec.max())))
        for j, p in enumerate(params):  # design values in kernel encoding; folding choices stay indices
            self._lookup[j, :len(p)] = _kernel_values(p) if j < n_design else np.arange(len(p))
        self._rows = np.arange(len(params))
        self._default_folding = default_folding
        self._fold_params, self._fold_layers = {}, {}
        for kind in ("pe", "simd"):
            picked = [(j, i) for j, (k, i) in enumerate(folding) if k == kind]
            self._fold_params[kind] = np.array([n_design + j for j, _ in picked], dtype=np.int64)
            self._fold_layers[kind] = np.array([i for _, i in picked], dtype=np.int64)
        self.objective_defaults = self._objective_defaults()

    def _objective_defaults(self) -> dict:
        ref = self(self.space.to_indices(self.space.default())[None, :])
        fps, lat, energy, util = (float(ref[m][0]) for m in OBJECTIVE_METRICS)
        return {
            "metrics": OBJECTIVE_METRICS,
            # log10(fps) - log10(latency) - log10(energy) - log10(resource share): bounded for every
            # feasible design, so INFEASIBLE_REWARD - violation always ranks below it (a missed
            # `target` can fall under INFEASIBLE_REWARD when a design is >100x off a target).
            "default": "product",
            # The target spec: twice the default design's throughput at half its latency, in no
            # more energy per frame and no larger a share of the binding resource.
            "target": {"targets": {"throughput_fps": 2 * fps, "latency_s": lat / 2, "energy_j": energy,
                                   "resource_util": util}},
            "constraint": {"optimize": "throughput_fps", "limits": {"energy_j": energy, "resource_util": util}},
        }

    def designs(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """(n, n_params) indices -> kernel design vectors (n, 7) and PE/SIMD choice indices
        (n, n_layers), or None when SetFolding folds."""
        idx = np.asarray(idx, dtype=np.int64).reshape(-1, len(self.space))
        values = self._lookup[self._rows, idx]
        designs = np.repeat(self._base[None, :], len(idx), axis=0)
        designs[:, self._dcols] = values[:, :len(self._dcols)]
        if self._default_folding is None:
            return designs, None, None
        fold = []
        for j, kind in enumerate(("pe", "simd")):
            f = np.repeat(self._default_folding[None, :, j], len(idx), axis=0)
            f[:, self._fold_layers[kind]] = values[:, self._fold_params[kind]]
            fold.append(f)
        return designs, fold[0], fold[1]

    def __call__(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        return self.model.evaluate(*self.designs(idx))

    def simulate(self, design: Mapping):
        return self.model.simulate({**self.fixed, **design})

    def describe(self) -> str:
        return f"FINN-style dataflow FPGA on {self.model.network.name}"


class FPGAFoldingEvaluator(FPGAEvaluator):
    """archgym/FPGAFolding-v0: per-layer `<layer>.pe` and `<layer>.simd` (the layer's divisors; their
    index is the choice) plus bits, clock and styles, on one board. The default folding is FINN
    SetFolding's at `target_cycles`; SWUs are folded to keep pace with their units."""

    def __init__(self, workload="cnv", board: str = "zcu104", target_cycles: float = 2 ** 15, input_bits: int = 8,
                 **fixed):
        self.model = fpga.Model(workload, input_bits=input_bits)
        net = self.model.network
        fixed = {"board": board, **fixed}
        default = self.model.set_folding({**fixed, "target_cycles": target_cycles})
        params, folding = [], []
        for i, name in enumerate(net.layer_names):
            for j, (kind, choices) in enumerate((("pe", net.pe_choices[i]), ("simd", net.simd_choices[i]))):
                if len(choices) > 1:
                    params.append(Categorical(f"{name}.{kind}", choices, default=default[i][j]))
                    folding.append((kind, i))
        default_folding = np.array([[net.pe_choices[i].index(p), net.simd_choices[i].index(s)]
                                    for i, (p, s) in enumerate(default)], dtype=np.int64)
        self._setup(_grid(fixed, exclude=("target_cycles",)) + params, fixed, folding, default_folding)

    def simulate(self, design: Mapping):
        net = self.model.network
        design = dict(design)
        folding = [[net.pe_choices[i][a], net.simd_choices[i][b]] for i, (a, b) in enumerate(self._default_folding)]
        for i, name in enumerate(net.layer_names):
            for j, kind in enumerate(("pe", "simd")):
                if f"{name}.{kind}" in design:
                    folding[i][j] = design.pop(f"{name}.{kind}")
        return self.model.simulate({**self.fixed, **design}, [tuple(f) for f in folding])

    def describe(self) -> str:
        return f"per-layer PE/SIMD folding of a FINN-style dataflow FPGA on {self.model.network.name}"


def _grid(fixed: Mapping, exclude=()) -> list[Parameter]:
    """The searched network-wide parameters: GRID minus the fixed and excluded ones."""
    bad = [k for k in fixed if k not in fpga.PARAMETERS.names]
    if bad:
        raise DesignError(f"unknown fixed parameter {bad[0]!r}; parameters: {', '.join(fpga.PARAMETERS.names)}")
    return [p for name, p in GRID.items() if name not in fixed and name not in exclude]
