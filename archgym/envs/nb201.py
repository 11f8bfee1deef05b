"""NAS-Bench-201 co-design envs: one action picks an NB201 cell and the accelerator that runs it.

- `NB201SystolicEvaluator` (archgym/NB201-Systolic-v0): the cell's 6 edges x 5 ops (group
  "network") and a systolic array's rows, cols, dataflow, SRAMs and DRAM bandwidth (group
  "hardware"). Accuracy: CIFAR-10 top-1 of the cell at the array's 8-bit operands (AnalogNAS-Bench
  W8A8 PTQ by default, or QAT). Latency, energy and area: the systolic simulator on the network.
- `NB201FPGAEvaluator` (archgym/NB201-FPGA-v0): the cell and a FINN-style dataflow accelerator's
  SetFolding target, clock, multiplier and weight-memory style on a real board, at 8-bit weights
  and activations, the only bit width with a measured accuracy.

No torch and no per-layer Python at step time: the systolic model runs once per (hardware design,
unique layer row in its feature-map context; 392 rows cover all 15,625 networks) and
`archgym.envs.composed` sums each network's rows; the FPGA model runs once per (hardware design,
class of networks with the same MAC and pooling layers), and the env keeps every pair it computed.
Both are checked against the simulators on whole networks in tests/test_nb201_env.py.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

import simulators.systolic as systolic
from archgym.core.space import Categorical, DesignSpace
from archgym.core.workloads import Workload
from archgym.core.workloads.table import ACT, ADD, KIND, N_SHAPE_COLUMNS, G, K, M, N
from archgym.envs.codesign import HardwarePart, _values
from archgym.envs.composed import CostTable
from archgym.envs.evaluator import Evaluator
from archgym.nas import nb201
from archgym.nas.nb201_table import read_nb201_table, source_for_bits
from archgym.nas.spaces import get_space
from simulators.base import SimResult

# The searched systolic array: 2,592 designs. Arrays of 8..64 PEs a side (NB201's layers have 16..64
# channels); SRAMs around NB201's largest ifmap (16 kB) and conv3x3 weight set (36 kB) at 8 bits.
HARDWARE = {
    "rows": (8, 16, 32, 64),
    "cols": (8, 16, 32, 64),
    "dataflow": ("os", "ws", "is"),
    "ifmap_sram_kb": (8, 32, 128),
    "filter_sram_kb": (8, 32, 128),
    "ofmap_sram_kb": (8, 32, 128),
    "dram_bytes_per_cycle": (8.0, 32.0),
}
# The reference accelerator (the space's default design): the middle array size within the default
# area budget. The latency-aware NAS baseline designs for it; the MACs rule of thumb is derived on it.
REFERENCE = {"rows": 16, "cols": 16, "dataflow": "ws", "ifmap_sram_kb": 8, "filter_sram_kb": 8, "ofmap_sram_kb": 8,
             "dram_bytes_per_cycle": 32.0}
SUMMED = ("latency_s", "energy_j", "cycles", "dram_bytes")  # add up over rows (checked in tests)
METRICS = ("accuracy", "latency_s", "energy_j", "area_mm2", "power_w", "cycles", "dram_bytes", "macs")
_SUMMED_COLUMNS = [systolic.TOTAL_FIELDS.index(m) for m in SUMMED]


class _NB201Part:
    """The NB201 network side shared by both envs: space, accuracy by architecture number, and each
    network's unique layer rows in context with their counts."""

    def __init__(self, accuracy: str, weight_bits: int, act_bits: int):
        self.net = get_space("nb201")
        source = source_for_bits(weight_bits, act_bits, accuracy)
        self.accuracy_source = source
        self.accuracy = read_nb201_table().fraction_by_number(source)
        self.networks = self.net.networks
        self.indptr, self.row_ids, self.row_counts = self.networks.row_counts()
        t = self.networks.rows
        row_macs = (t[:, G] * t[:, M] * t[:, N] * t[:, K]).astype(np.float64)
        self.macs = np.add.reduceat(row_macs[self.row_ids] * self.row_counts, self.indptr[:-1])  # by number
        self.strides = _strides(self.net.space.nvec)

    def arch_numbers(self, net_idx: np.ndarray) -> np.ndarray:
        return net_idx @ self.strides

    def arch(self, design: Mapping) -> dict:
        return {k: design[k] for k in self.net.space.names}

    def table(self, design: Mapping) -> Workload:
        return self.net.layer_table(self.arch(design))


class _Grid:
    """Network x hardware enumeration shared by both evaluators (used by archgym.analysis.exact)."""
    n_networks = nb201.N_ARCHS

    @property
    def n_hardware(self) -> int:
        return int(np.prod(self._hw_nvec))

    def split(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(architecture numbers, hardware design numbers) of an (n, n_params) index array."""
        return self.network.arch_numbers(idx[:, :self._n_net]), idx[:, self._n_net:] @ self._hw_strides

    def indices(self, arch: np.ndarray, hw: np.ndarray) -> np.ndarray:
        """Index vectors of (architecture number, hardware design number) pairs."""
        net = np.unravel_index(np.asarray(arch, np.int64), self.space.nvec[:self._n_net])
        return np.stack([*net, *np.unravel_index(np.asarray(hw, np.int64), self._hw_nvec)], axis=1)


def _choices(full: DesignSpace, values: Mapping[str, Sequence], reference: Mapping) -> list[Categorical]:
    """Searched simulator parameters: each a Categorical over allowed values of `full` (unit kept),
    defaulting to the reference design's value when it is offered. They follow the simulator's
    parameter order, so the space does not depend on the order of the `values` mapping."""
    out = []
    for name in values:
        full[name]  # DesignError names an unknown parameter
    for name in (q.name for q in full.params if q.name in values):
        vals, p = _values(values[name]), full[name]
        for v in vals:
            p.index(v)  # DesignError names the parameter and its range
        default = reference.get(name) if reference.get(name) in vals else vals[len(vals) // 2]
        out.append(Categorical(name, vals, default=default, unit=p.unit, group="hardware"))
    return out


def _strides(nvec: np.ndarray) -> np.ndarray:
    """Row-major strides of an index vector over `nvec`."""
    return np.cumprod(np.r_[nvec[1:], 1][::-1])[::-1].astype(np.int64)


def _objectives(acc_metrics: list[str], limits: Mapping[str, float]) -> dict:
    return {"metrics": acc_metrics, "default": "constraint",
            "constraint": {"optimize": "accuracy", "limits": dict(limits)},
            "target": {"targets": dict(limits), "metrics": list(limits)}}


class NB201SystolicEvaluator(_Grid, Evaluator):
    """archgym/NB201-Systolic-v0: an NB201 cell and a systolic array (`hardware`: {parameter:
    values}; other simulator parameters fixed by keyword, 8-bit operands). `accuracy`: "ptq" or
    "qat" (both W8A8). Objectives: `constraint` (default: maximise accuracy with latency_s <=
    `latency_budget_s` and area_mm2 <= `area_budget_mm2`) or `vector` (accuracy, latency_s,
    energy_j, area_mm2)."""
    metric_names = METRICS

    def __init__(self, hardware: Mapping[str, Sequence] | None = None, accuracy: str = "ptq",
                 latency_budget_s: float = 150e-6, area_budget_mm2: float = 1.1, **fixed):
        fixed = {"bits": 8, **fixed}
        self.network = _NB201Part(accuracy, fixed["bits"], fixed["bits"])
        self.hardware = HardwarePart(systolic.PARAMETERS, _choices(systolic.PARAMETERS, hardware or HARDWARE, REFERENCE),
                                     fixed)
        self.space = DesignSpace([*self.network.net.space.with_group("network"), *self.hardware.renamed()])
        self._n_net = len(self.network.net.space)
        hw_nvec = self.space.nvec[self._n_net:]
        self._hw_strides, self._hw_nvec = _strides(hw_nvec), hw_nvec
        n_hw = int(np.prod(hw_nvec))
        rows = np.ascontiguousarray(self.network.networks.rows)
        self._packed = (rows, np.arange(len(rows), dtype=np.int64), np.arange(1, len(rows) + 1, dtype=np.int64))
        net = self.network
        self.costs = CostTable(n_hw, net.indptr, net.row_ids, net.row_counts, len(SUMMED), self._row_costs)
        self.area = np.full(n_hw, np.nan)
        self.latency_budget_s, self.area_budget_mm2 = float(latency_budget_s), float(area_budget_mm2)
        self.objective_defaults = _objectives(["accuracy", "latency_s", "energy_j", "area_mm2"],
                                              {"latency_s": self.latency_budget_s, "area_mm2": self.area_budget_mm2})

    def _row_costs(self, hw: np.ndarray) -> np.ndarray:
        """Systolic totals of every unique row in context, as a one-row network, on each hardware
        design `hw` (one kernel call): every term of the model is a row's own, so they add up."""
        designs = self.hardware.designs(np.stack(np.unravel_index(hw, self._hw_nvec), axis=1))
        n_rows = len(self._packed[1])
        slots = np.tile(np.arange(n_rows, dtype=np.int64), len(hw))
        kernel = systolic.simulate_packed if len(slots) >= systolic.PARALLEL_MIN else systolic.simulate_packed_serial
        out = kernel(np.repeat(designs, n_rows, axis=0), slots, *self._packed).reshape(len(hw), n_rows, -1)
        self.area[hw] = out[:, 0, systolic.TOTAL_FIELDS.index("area_mm2")]  # a design's area: any row's
        return out[:, :, _SUMMED_COLUMNS]

    def __call__(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        idx = np.asarray(idx, dtype=np.int64).reshape(-1, len(self.space))
        arch, hw = self.split(idx)
        summed = self.costs.compose(hw, arch)
        return self._metrics(summed, arch, self.area[hw])

    def grid(self, hw: np.ndarray) -> dict[str, np.ndarray]:
        """Metrics of every network on each hardware design number in `hw`: (len(hw), 15,625) arrays."""
        summed = self.costs.grid(hw)
        shape = summed.shape[:2]
        out = self._metrics(summed.reshape(-1, len(SUMMED)), np.tile(np.arange(shape[1]), len(hw)),
                            np.repeat(self.area[hw], shape[1]))
        return {k: v.reshape(shape) for k, v in out.items()}

    def _metrics(self, summed: np.ndarray, arch: np.ndarray, area: np.ndarray) -> dict[str, np.ndarray]:
        out = {m: summed[:, j] for j, m in enumerate(SUMMED)}
        out["accuracy"], out["macs"], out["area_mm2"] = self.network.accuracy[arch], self.network.macs[arch], area
        lat = out["latency_s"]
        out["power_w"] = np.divide(out["energy_j"], lat, out=np.zeros_like(lat), where=lat > 0)
        out["feasible"] = np.ones(len(summed), dtype=bool)
        out["violation"] = np.zeros(len(summed))
        return out

    def simulate(self, design: Mapping) -> SimResult:
        """Per-layer systolic detail of one design on its whole network, with the accuracy added."""
        res = systolic.simulate(self.hardware.design_dict(design), self.network.table(design))
        res.metrics["accuracy"] = float(self.network.accuracy[nb201.number_of_ops(
            self.network.net.ops(self.network.arch(design)))])
        return res

    def describe(self) -> str:
        return f"NAS-Bench-201 cell (CIFAR-10, {self.network.accuracy_source} W8A8 accuracy) on a systolic array"


# The searched FINN-style accelerator: 2,220 designs on an Alveo U250, the one board in simulators.fpga
# where 8-bit NB201 networks fit (FINN's 8-bit threshold units cost ~12k LUT per conv layer).
FPGA_HARDWARE = {
    "target_cycles": tuple(int(round(2 ** (k / 4))) for k in range(48, 85, 1)),  # 2^12 .. 2^21, quarter octaves
    "clock_mhz": (100.0, 150.0, 200.0, 250.0, 300.0),
    "mult_style": ("auto", "lut", "dsp"),
    "ram_style": ("auto", "block", "distributed", "ultra"),
}
# The reference accelerator: the smallest power-of-two SetFolding target at which the reference (ResNet) cell
# fits the U250 (2^18 needs 112% of its resources); sequential baselines read their budgets off it.
FPGA_REFERENCE = {"target_cycles": 1 << 19, "clock_mhz": 200.0, "mult_style": "auto", "ram_style": "auto"}
FPGA_METRICS = ("accuracy", "throughput_fps", "latency_s", "energy_j", "power_w", "resource_util", "lut", "ff",
                "bram18", "uram", "dsp", "macs")
_FPGA_COSTS = ("throughput_fps", "latency_s", "energy_j", "power_w", "resource_util", "lut", "ff", "bram18", "uram",
               "dsp", "violation", "feasible")
# (hardware design, network class) costs kept in memory up to this many pairs, 97 bytes each with the
# done flag: the default space's 2,220 x 1,093 pairs take 235 MB once all are seen (pages are committed as filled)
CACHE_PAIRS = 1 << 22
# A batch that needs at least 1/ROW_SHARE of a hardware design's classes computes all of them (at most 8x
# the pairs it needs), so a large random batch leaves no pair for the next one; a smaller need computes just those.
ROW_SHARE = 8
# Two cells with the same layers in another order: the probe of whether the FPGA model depends on layer order.
PROBE = (("nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3", "skip_connect", "nor_conv_1x1", "nor_conv_3x3"),
         ("avg_pool_3x3", "nor_conv_3x3", "nor_conv_3x3", "nor_conv_1x1", "skip_connect", "nor_conv_1x1"))


class NB201FPGAEvaluator(_Grid, Evaluator):
    """archgym/NB201-FPGA-v0: an NB201 cell and FINN SetFolding `target_cycles`, `clock_mhz`,
    `mult_style` and `ram_style` (`hardware`: {parameter: values}) on `board`, at 8-bit weights and
    activations. `accuracy`: "ptq" or "qat". Designs over the board's resources are infeasible.
    Default objective: maximise accuracy with latency_s <= `latency_budget_s`; `vector`: accuracy,
    latency_s, energy_j, resource_util.

    The FPGA model runs once per (hardware design, class of networks with the same layer table):
    the same layers in any order when the model ignores their order (checked with PROBE when the
    env is made), else the same layers in the same order (1,093 classes). Each pair's costs are
    kept once computed (up to CACHE_PAIRS pairs), so a batch runs the model only on pairs no
    earlier batch needed, one batch kernel call per class present."""
    metric_names = FPGA_METRICS

    def __init__(self, hardware: Mapping[str, Sequence] | None = None, board: str = "u250", accuracy: str = "ptq",
                 weight_bits: int = 8, act_bits: int = 8, latency_budget_s: float = 3.1e-3, **fixed):
        import simulators.fpga as fpga
        self._fpga = fpga
        self.network = _NB201Part(accuracy, weight_bits, act_bits)
        fixed = {"board": board, "weight_bits": weight_bits, "act_bits": act_bits, **fixed}
        fpga.check_design({k: v for k, v in fixed.items() if k in fpga.PARAMETERS.names})
        params = _choices(fpga.PARAMETERS, hardware or FPGA_HARDWARE, FPGA_REFERENCE)
        self.hardware = HardwarePart(fpga.PARAMETERS, params, fixed)
        self.fixed = self.hardware.fixed
        self.space = DesignSpace([*self.network.net.space.with_group("network"), *self.hardware.renamed()])
        self._n_net = len(self.network.net.space)
        hw_nvec = self.space.nvec[self._n_net:]
        self._hw_strides, self._hw_nvec = _strides(hw_nvec), hw_nvec
        self.order_matters = not self._order_free()
        self.classes, self.representatives = _layer_classes(self.network, ordered=self.order_matters)
        self._compiled: dict[int, tuple] = {}
        n_pairs = self.n_hardware * len(self.representatives)
        # by pair number hw * n_classes + class; np.zeros commits memory only as pairs are filled
        self._costs = np.zeros((n_pairs, len(_FPGA_COSTS))) if n_pairs <= CACHE_PAIRS else None
        self._done = np.zeros(n_pairs if self._costs is not None else 0, dtype=bool)
        self.latency_budget_s = float(latency_budget_s)
        self.objective_defaults = _objectives(["accuracy", "latency_s", "energy_j", "resource_util"],
                                              {"latency_s": self.latency_budget_s})

    def model(self, c: int):
        """The FPGA model of network class c, compiled anew (the env keeps only `_kernel_args`)."""
        return self._fpga.Model(self.network.net.layer_table(nb201.ops_of_number(self.representatives[c])))

    def _kernel_args(self, c: int) -> tuple:
        """Class c's compiled network and options for the simulators.fpga kernels, kept once made: a
        quarter of its Model's memory (0.22 of 0.88 MB for an NB201 network; 240 MB for all classes)."""
        args = self._compiled.get(c)
        if args is None:
            args = self._compiled[c] = self.model(c)._args
        return args

    def _designs(self, hw: np.ndarray) -> np.ndarray:
        return self.hardware.designs(np.stack(np.unravel_index(hw, self._hw_nvec), axis=1))

    def _order_free(self) -> bool:
        """Whether the model's metrics ignore layer order, on the PROBE networks and 16 hardware designs."""
        self.representatives = np.array([nb201.number_of_ops(p) for p in PROBE])
        designs = self._designs(np.random.default_rng(0).integers(0, self.n_hardware, 16))
        a, b = (self.model(c).evaluate(designs) for c in (0, 1))
        return all(np.array_equal(a[m], b[m]) for m in _FPGA_COSTS)

    def __call__(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        idx = np.asarray(idx, dtype=np.int64).reshape(-1, len(self.space))
        arch, hw = self.split(idx)
        return self._metrics(self._lookup(hw * len(self.representatives) + self.classes[arch]), arch)

    def grid(self, hw: np.ndarray) -> dict[str, np.ndarray]:
        n_classes = len(self.representatives)
        pairs = (np.asarray(hw, np.int64)[:, None] * n_classes + np.arange(n_classes)).reshape(-1)
        costs = self._lookup(pairs).reshape(len(hw), n_classes, -1)[:, self.classes]
        shape = costs.shape[:2]
        out = self._metrics(costs.reshape(-1, len(_FPGA_COSTS)), np.tile(np.arange(shape[1]), len(hw)))
        return {k: v.reshape(shape) for k, v in out.items()}

    def _lookup(self, pairs: np.ndarray) -> np.ndarray:
        """(n, n_costs) costs of pair numbers hw * n_classes + class, each computed once and kept
        when the table fits in CACHE_PAIRS, else the batch's distinct pairs, each run once."""
        if self._costs is None:
            distinct, at = np.unique(pairs, return_inverse=True)
            costs = np.empty((len(distinct), len(_FPGA_COSTS)))
            for rows, c in self._run(distinct):
                costs[rows] = c
            return costs[at.reshape(-1)]
        missing = pairs[~self._done[pairs]]
        if len(missing):
            self._fill(np.unique(missing))
        return self._costs[pairs]

    def _fill(self, pairs: np.ndarray) -> None:
        """Compute and keep the distinct pair numbers `pairs` (none done yet), whole hardware rows
        where they cover at least 1/ROW_SHARE of a row."""
        n_classes = len(self.representatives)
        rows, per_row = np.unique(pairs // n_classes, return_counts=True)
        whole = rows[per_row * ROW_SHARE >= n_classes]
        if len(whole):
            row_pairs = (whole[:, None] * n_classes + np.arange(n_classes)).reshape(-1)
            pairs = np.union1d(pairs, row_pairs[~self._done[row_pairs]])
        for rows, c in self._run(pairs):
            self._costs[pairs[rows]] = c
        self._done[pairs] = True

    def _run(self, pairs: np.ndarray):
        """Run the FPGA model on the distinct pair numbers `pairs`: one batch kernel call per class
        present, on all its hardware designs, as Model.evaluate makes it. Yields (positions in
        `pairs`, (len, n_costs) costs)."""
        if not len(pairs):
            return
        n_classes = len(self.representatives)
        cls = pairs % n_classes
        hw_ids, at = np.unique(pairs // n_classes, return_inverse=True)
        designs, at = np.asarray(self._designs(hw_ids), dtype=np.float64), at.reshape(-1)
        columns = [self._fpga.METRICS.index(m) for m in _FPGA_COSTS]
        order = np.argsort(cls, kind="stable")
        for rows in np.split(order, np.flatnonzero(np.diff(cls[order])) + 1):
            yield rows, self._fpga.run_kernel(self._kernel_args(int(cls[rows[0]])), designs[at[rows]])[columns].T

    def _metrics(self, costs: np.ndarray, arch: np.ndarray) -> dict[str, np.ndarray]:
        out = {m: costs[:, j] for j, m in enumerate(_FPGA_COSTS)}
        out["feasible"] = out["feasible"] > 0.5
        out["accuracy"] = self.network.accuracy[arch]
        out["macs"] = self.network.macs[arch]
        return out

    def simulate(self, design: Mapping) -> SimResult:
        """Per-layer FPGA detail of one design on its whole network, with the accuracy added."""
        res = self._fpga.Model(self.network.table(design)).simulate(self.hardware.design_dict(design))
        res.metrics["accuracy"] = float(self.network.accuracy[nb201.number_of_ops(
            self.network.net.ops(self.network.arch(design)))])
        return res

    def describe(self) -> str:
        return f"NAS-Bench-201 cell (CIFAR-10, {self.network.accuracy_source} W8A8) on a FINN-style FPGA ({self.fixed['board']})"


def _layer_classes(part: _NB201Part, ordered: bool) -> tuple[np.ndarray, np.ndarray]:
    """Classes of networks the FPGA model cannot tell apart: the same MAC and pooling rows (their
    shape columns, all that simulators.fpga.network reads; it skips add and act rows) in the same
    order (`ordered`), or in any order. Returns (class of each architecture number, a representative
    number per class)."""
    nets = part.networks
    mapped = ~np.isin(nets.rows[:, KIND], (ADD, ACT))
    _, shape_id = np.unique(nets.rows[:, :N_SHAPE_COLUMNS], axis=0, return_inverse=True)
    shape_id = np.where(mapped, shape_id.reshape(-1), -1)[nets.seq]
    length = np.diff(nets.offsets)
    key = np.full((nb201.N_ARCHS, int(length.max())), -1, dtype=np.int64)
    key[np.repeat(np.arange(nb201.N_ARCHS), length), np.arange(len(nets.seq)) - np.repeat(nets.offsets[:-1], length)] \
        = shape_id
    key = np.sort(key, axis=1) if not ordered else np.take_along_axis(key, np.argsort(key < 0, axis=1, kind="stable"),
                                                                      axis=1)
    _, first, classes = np.unique(key, axis=0, return_index=True, return_inverse=True)
    return classes.reshape(-1).astype(np.int64), first.astype(np.int64)
