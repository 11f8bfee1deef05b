"""FINN-style dataflow FPGA model: one pipelined stage per layer, FINN's cycle and resource formulas.

    from simulators import fpga
    res = fpga.simulate({"board": "zcu104", "target_cycles": 20000}, "cnv")
    res.metrics["throughput_fps"], res.metrics["feasible"], res.layers[1]["pe"]
    res = fpga.simulate({"board": "pynq_z1"}, "cnv", folding=[(16, 3), (32, 32), ...])  # explicit PE/SIMD

A design is network-wide (PARAMETERS): the board, FINN SetFolding's `target_cycles` per frame (or an
explicit per-layer PE/SIMD `folding`), weight and activation bits, clock, how multipliers and weight
memories are built, and FINN's weight memory mode. Throughput is f_clk / II with II the slowest
stage; latency is one frame through the empty pipeline. A design over the board's resources is a
result with `feasible=False`, the resource that overflowed most and the total relative overshoot;
block RAM over the board becomes LUTRAM first, as Vivado synthesis does (`n_spill_lut`,
estimators.bram_spill).
Per-unit formulas: estimators.py; folding: folding.py; network evaluation: kernels.py; layer
mapping: network.py; boards and power constants: boards.py. docs/fpga.md says which number follows
FINN's estimator and which the shipped hardware.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral, Real as RealNumber

import numba
import numpy as np

from archgym.core.errors import DesignError, unknown
from archgym.core.space import Categorical, DesignSpace, Integer, Real
from simulators.base import SimResult
from simulators.fpga import kernels
from simulators.fpga import layout as K
from simulators.fpga.estimators import MAC_LANE_LUT, SWU_LUT_BASE
from simulators.fpga.boards import AVAILABLE, BOARD_NAMES, BOARDS, CAPS_PCT, FF_PER_LUT, POWER, RESOURCES, XPE_TOGGLE
from simulators.fpga.network import MAX_BITS, Network, compile_network

PARAMETERS = DesignSpace([
    Categorical("board", BOARD_NAMES, default="zcu104"),
    Real("target_cycles", 1.0, 1e9, log=True, default=32_768.0, unit="cycles/frame"),
    Integer("weight_bits", 1, MAX_BITS, default=2, unit="bit"),
    Integer("act_bits", 1, MAX_BITS, default=2, unit="bit"),
    Real("clock_mhz", 1.0, 1000.0, log=True, default=100.0, unit="MHz"),
    Categorical("mult_style", K.MULT_STYLES, default="auto"),
    Categorical("ram_style", K.RAM_STYLES, default="auto"),
    Categorical("mem_mode", K.MEM_MODES, default="internal_decoupled"),
]).with_group("hardware")
assert PARAMETERS.names == K.DESIGN_FIELDS

# Metrics of `Model.evaluate`: floats, plus `feasible` (bool) and `overflow` (index into RESOURCES, -1 if none).
METRICS = K.METRICS
PARALLEL_MIN = 64  # batches at least this large use the multi-threaded kernel
# Categorical parameters: the kernel takes the value's position in these tuples.
CODES = {"board": BOARD_NAMES, "mult_style": K.MULT_STYLES, "ram_style": K.RAM_STYLES, "mem_mode": K.MEM_MODES}


def check_design(design: Mapping | None) -> dict:
    """Complete and validate a design dict; errors name the field (board, bits, clock...)."""
    design = dict(design or {})
    if "board" in design and design["board"] not in BOARDS:
        raise unknown("board", design["board"], BOARD_NAMES)
    clock = design.get("clock_mhz")
    if isinstance(clock, RealNumber) and not clock > 0:
        raise DesignError(f"clock_mhz must be a positive frequency in MHz, got {clock}")
    for key in ("weight_bits", "act_bits"):
        bits = design.get(key)
        if bits is not None and not (isinstance(bits, Integral) and 1 <= bits <= MAX_BITS):
            raise DesignError(f"{key} must be an integer bit width from 1 to {MAX_BITS}, got {bits!r}")
    return PARAMETERS.complete(design)


def design_vector(design: Mapping) -> np.ndarray:
    """A complete, validated design dict -> float64 kernel vector (categoricals become codes)."""
    return np.array([CODES[f].index(design[f]) if f in CODES else float(design[f]) for f in K.DESIGN_FIELDS])


class Model:
    """A workload compiled once for the kernels, with fixed modelling options.

    input_bits: bits of the first layer's input (8-bit pixels); signed_inputs: activations are signed
    (BNN-PYNQ convention: bipolar or INT, and a Q1.7 input), which narrows FINN's accumulator by a
    bit; mvau_wwidth_max: SetFolding's cap on W*SIMD (36); toggle_rate: activity for dynamic power;
    label_select: a LabelSelect (top-1) follows the classifier, as in FINN-built designs (BNN-PYNQ
    returns the raw scores instead); lut_coefficients: the LUT per MAC-lane term and the sliding
    window's base LUTs, refit on shipped designs (estimators.py; `published.calibration` refits them
    on a fixture of measured designs; FINN's own are estimators.FINN_LUT_COEFFICIENTS).
    """

    def __init__(self, workload="cnv", *, input_bits: int = 8, signed_inputs: bool = True,
                 mvau_wwidth_max: int = 36, toggle_rate: float = XPE_TOGGLE, label_select: bool = True,
                 lut_coefficients: tuple[float, float] = (MAC_LANE_LUT, SWU_LUT_BASE)):
        if isinstance(workload, Model):
            raise DesignError("Model(workload=...) takes a workload, not a Model; use the Model as it is")
        if not (isinstance(input_bits, Integral) and 1 <= input_bits <= MAX_BITS):
            raise DesignError(f"input_bits must be an integer from 1 to {MAX_BITS}, got {input_bits!r}")
        if not (isinstance(toggle_rate, RealNumber) and 0 < toggle_rate <= 1):
            raise DesignError(f"toggle_rate must be in (0, 1], got {toggle_rate!r}")
        if not (isinstance(mvau_wwidth_max, Integral) and mvau_wwidth_max >= 1):
            raise DesignError(f"mvau_wwidth_max must be a positive integer, got {mvau_wwidth_max!r}")
        if not isinstance(label_select, (bool, np.bool_)):
            raise DesignError(f"label_select must be True or False, got {label_select!r}")
        if not (isinstance(lut_coefficients, Sequence) and len(lut_coefficients) == 2
                and all(isinstance(c, RealNumber) and np.isfinite(c) and c >= 0 for c in lut_coefficients)):
            raise DesignError(f"lut_coefficients must be two finite numbers >= 0 (LUT per MAC-lane term, "
                              f"window base LUTs), got {lut_coefficients!r}")
        self.network: Network = compile_network(workload)
        net = self.network
        opts = np.array([input_bits, mvau_wwidth_max, FF_PER_LUT, toggle_rate / XPE_TOGGLE, float(label_select),
                         *lut_coefficients], dtype=np.float64)
        self._args = (net.table, net.tab, net.need, net.acc_table(signed_inputs), AVAILABLE, POWER, CAPS_PCT, opts)
        # Per-layer folding parameters (value 0: SetFolding's choice) and value -> choice-index tables.
        self.folding_parameters = [Categorical(f"{name}.{kind}", (0, *choices), default=0, group="hardware")
                                   for name, pe, simd in zip(net.layer_names, net.pe_choices, net.simd_choices)
                                   for kind, choices in (("pe", pe), ("simd", simd))]
        self._lut = []
        for choices in (net.pe_choices, net.simd_choices):
            lut = np.full((len(net), max(max(c) for c in choices) + 1), -1, dtype=np.int64)
            for i, c in enumerate(choices):
                lut[i, list(c)] = np.arange(len(c))
            self._lut.append(lut)

    # --- folding -------------------------------------------------------------------------------
    def check_folding(self, folding) -> tuple[np.ndarray, np.ndarray]:
        """[(pe, simd), ...] per layer, or {layer name: (pe, simd)} for every layer -> (n_layers,)
        int64 arrays of choice indices; DesignError names the layer and the allowed values."""
        net = self.network
        if isinstance(folding, Mapping):
            bad = [k for k in folding if k not in net.layer_names]
            if bad:
                raise DesignError(f"folding names unknown layer {bad[0]!r}; layers: {', '.join(net.layer_names)}")
            missing = [k for k in net.layer_names if k not in folding]
            if missing:
                raise DesignError(f"folding is missing layer {missing[0]!r} (give (pe, simd) for every layer)")
            folding = [folding[k] for k in net.layer_names]
        if not isinstance(folding, Sequence) or len(folding) != len(net):
            raise DesignError(f"folding needs one (pe, simd) pair per layer ({len(net)} layers in {net.name!r})")
        pe = np.empty(len(net), dtype=np.int64)
        simd = np.empty(len(net), dtype=np.int64)
        for i, pair in enumerate(folding):
            if not (isinstance(pair, Sequence) and len(pair) == 2):
                raise DesignError(f"{net.describe_layer(i)}: folding entry must be a (pe, simd) pair, got {pair!r}")
            for name, value, allowed, out in (("PE", pair[0], net.pe_choices[i], pe),
                                              ("SIMD", pair[1], net.simd_choices[i], simd)):
                if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral) or value not in allowed:
                    raise DesignError(f"{net.describe_layer(i)}: {name}={value!r} {self._divides(i, name, value)}; "
                                      f"allowed {name} values: {', '.join(map(str, allowed))}")
                out[i] = allowed.index(value)
        return pe, simd

    def _divides(self, i: int, name: str, value) -> str:
        t = self.network.table[i]
        kind = t[K.KIND]
        if name == "PE":
            if kind == K.MAXPOOL:
                return "is not allowed: StreamingMaxPool is not folded (PE must be 1)"
            what = "MH = output channels" if kind == K.MVAU else "the channels"
            return f"does not divide {what} = {t[K.MH]}"
        if kind not in (K.MVAU, K.VVAU):
            return "is not allowed: pooling units have no SIMD folding (SIMD must be 1)"
        what = "MW = K*K*C_in" if kind == K.MVAU else "the window K*K"
        return f"does not divide {what} = {t[K.MW]}" if t[K.MW] % value else \
            f"is below MW/1024 = {t[K.MW] / 1024:g} (FINN's HLS MVAU needs SIMD >= MW/1024)"

    def set_folding(self, design: Mapping | None = None) -> list[tuple[int, int]]:
        """FINN SetFolding's (PE, SIMD) per layer for the design's target_cycles."""
        detail = self._layers(check_design(design), None)[1]
        return [(int(r[0]), int(r[1])) for r in detail]

    # --- evaluation ----------------------------------------------------------------------------
    def evaluate(self, designs: np.ndarray, pe: np.ndarray | None = None,
                 simd: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Batch: (n, 7) design vectors (design_vector), optional (n, n_layers) PE/SIMD choice indices
        (into network.pe_choices / simd_choices, already in range) -> {metric: (n,) array} with
        `feasible` (bool) and `overflow`. One kernel call."""
        out = run_kernel(self._args, designs, pe, simd)
        res = dict(zip(METRICS, out))
        res["feasible"] = out[K.M_FEAS] > 0
        res["overflow"] = out[K.M_OVER].astype(np.int64)
        return res

    def _layers(self, design: dict, folding) -> tuple[np.ndarray, np.ndarray]:
        d = design_vector(design)
        if folding is None:
            empty = np.zeros(0, dtype=np.int64)
            return kernels.simulate_layers(*self._args, d, empty, empty, False)
        pe, simd = self.check_folding(folding)
        return kernels.simulate_layers(*self._args, d, pe, simd, True)

    def simulate(self, design: Mapping | None = None, folding=None) -> SimResult:
        """One design with per-layer detail; `folding` overrides SetFolding (target_cycles is then unused)."""
        design = check_design(design)
        out, detail = self._layers(design, folding)
        metrics = {m: float(v[0]) for m, v in zip(METRICS, out)}
        metrics["feasible"] = bool(metrics["feasible"])
        over = int(metrics["overflow"])
        metrics["overflow"] = RESOURCES[over] if over >= 0 else ""
        units = self.network.units()
        layers = [{"name": name, "unit": unit, **{f: _number(v) for f, v in zip(K.LAYER_FIELDS, row)}}
                  for name, unit, row in zip(self.network.layer_names, units, detail)]
        return SimResult(metrics, layers)


def _number(v: float):
    """Per-layer detail as ints, except fractional times (the latency's row finish times)."""
    return int(v) if float(v).is_integer() else float(v)


def prepare(workload="cnv", **options) -> Model:
    """A workload compiled for the kernels (built-in name, CSV path, Workload, or a Model as is);
    `options` go to Model (input_bits, signed_inputs, mvau_wwidth_max, toggle_rate, label_select)."""
    return workload if isinstance(workload, Model) and not options else Model(workload, **options)


def parameters(model: Model) -> DesignSpace:
    """PARAMETERS plus `<layer>.pe` and `<layer>.simd` for every layer of the model's network
    (allowed values: the divisors FINN allows; 0, the default, lets SetFolding choose)."""
    return DesignSpace([*PARAMETERS, *model.folding_parameters])


def run_kernel(args: tuple, designs: np.ndarray, pe: np.ndarray | None = None,
               simd: np.ndarray | None = None) -> np.ndarray:
    """(N_METRICS, n) metrics of (n, 7) design vectors on a compiled network (`Model._args`), with
    optional PE/SIMD choice indices (SetFolding's without): one serial or prange kernel call."""
    designs = np.ascontiguousarray(designs, dtype=np.float64).reshape(-1, len(K.DESIGN_FIELDS))
    if pe is None:
        pe = simd = np.zeros((0, 0), dtype=np.int64)
    pe = np.ascontiguousarray(pe, dtype=np.int64)
    simd = np.ascontiguousarray(simd, dtype=np.int64)
    if len(designs) < PARALLEL_MIN:  # small batches: cheaper than a thread-pool launch
        return kernels.simulate_serial(*args, designs, pe, simd)
    return kernels.simulate_batch(*args, designs, pe, simd, 16 * numba.get_num_threads())


def evaluate(designs: np.ndarray, model: Model) -> dict[str, np.ndarray]:
    """(n, len(parameters(model))) kernel design vectors, or (n, len(PARAMETERS)) without the
    folding columns -> {metric: (n,) array} with `feasible`, `violation` and `overflow`."""
    n_design = len(PARAMETERS)
    designs = np.asarray(designs, dtype=np.float64)
    if designs.ndim != 2 or designs.shape[1] not in (n_design, n_design + len(model.folding_parameters)):
        raise DesignError(f"design vectors need {n_design} or {n_design + len(model.folding_parameters)} columns "
                          f"for {model.network.name!r}, got shape {designs.shape}")
    fold = designs[:, n_design:].astype(np.int64)
    if not fold.any():
        return model.evaluate(designs[:, :n_design])
    layers = np.arange(len(model.network))
    pe = model._lut[0][layers, fold[:, 0::2]]
    simd = model._lut[1][layers, fold[:, 1::2]]
    return model.evaluate(designs[:, :n_design], pe, simd)


def simulate(design: Mapping | None = None, workload="cnv", *, folding=None, **options) -> SimResult:
    """Simulate one design on a workload (built-in name, SCALE-Sim CSV path, Workload or Model).

    Missing design keys take PARAMETERS' defaults. `folding` gives explicit per-layer (PE, SIMD);
    without it FINN's SetFolding folds every layer to the design's target_cycles. Per-layer
    `<layer>.pe` / `<layer>.simd` keys in the design (see `parameters`) override single layers (0,
    their default, keeps SetFolding's choice; with every key 0 the design is SetFolding's, as in
    `evaluate`). `options` go to Model (input_bits, signed_inputs, mvau_wwidth_max, toggle_rate,
    label_select, lut_coefficients)."""
    model = prepare(workload, **options)
    design = dict(design or {})
    layer_keys = {p.name: p for p in model.folding_parameters}
    per_layer = {k: design.pop(k) for k in list(design) if k in layer_keys}
    for k, v in per_layer.items():
        layer_keys[k].index(v)
    if any(per_layer.values()):
        if folding is not None:
            raise DesignError("give explicit folding either as `folding=` or as <layer>.pe/<layer>.simd keys, not both")
        base = model.set_folding(design)
        folding = [(per_layer.get(f"{name}.pe") or pe, per_layer.get(f"{name}.simd") or simd)
                   for name, (pe, simd) in zip(model.network.layer_names, base)]
    return model.simulate(design, folding)


def set_folding(design: Mapping | None = None, workload="cnv", **options) -> list[tuple[int, int]]:
    """FINN SetFolding's (PE, SIMD) per layer for the design's target_cycles (a baseline folding)."""
    return Model(workload, **options).set_folding(design)


__all__ = ["PARAMETERS", "METRICS", "CODES", "RESOURCES", "BOARDS", "BOARD_NAMES", "Model", "run_kernel", "prepare",
           "parameters", "evaluate", "simulate", "set_folding", "check_design", "design_vector", "compile_network"]
