"""NN + hardware co-design envs: one action picks a network architecture and the accelerator.

- `CoDesignSystolicEvaluator` (archgym/CoDesign-Systolic-v0): network choices (an `archgym.nas`
  space) plus systolic-array choices (rows, cols, dataflow, SRAM sizes). Accuracy comes from a
  pluggable oracle; latency, energy and area from the systolic batch kernel on the network's
  layer table. Default objective: maximise accuracy subject to latency and area budgets.
- `CoDesignNASAICEvaluator` (archgym/CoDesign-NASAIC-v0): NASAIC-style (Yang et al., DAC 2020):
  two networks share one chip of two sub-accelerators, each with its own dataflow; network k runs
  on sub-accelerator k. Constraints: total area and each network's latency.
- `CoDesignFPGAEvaluator` (archgym/CoDesign-FPGA-v0): network choices plus weight/activation bits
  and FINN folding on an FPGA board (see `simulators.fpga`).

Layer tables come from the network space once per architecture (shipped for `mbv2-tab`), so an
env step with the `tabular` or `predictor` oracle never touches torch.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

import simulators.systolic as systolic
from archgym.envs.evaluator import DesignEncoder, Evaluator
from archgym.core.errors import ArchGymError, DesignError
from archgym.nas.oracles import Oracle, PredictorOracle, TabularOracle, make_oracle
from archgym.nas.spaces import NetworkSpace, get_space
from archgym.core.space import Categorical, DesignSpace
from archgym.core.workloads.table import N_COLUMNS
from simulators.base import SimResult

# The searched accelerator: arrays up to 64 x 64 and SRAMs sized for the digits-scale networks
# (largest activation 12 KB, largest weight set ~40 KB at 8 bits).
HARDWARE = {
    "rows": (4, 8, 16, 32, 64),
    "cols": (4, 8, 16, 32, 64),
    "dataflow": ("os", "ws", "is"),
    "ifmap_sram_kb": (2, 4, 8, 16, 32),
    "filter_sram_kb": (4, 8, 16, 32, 64),
    "ofmap_sram_kb": (2, 4, 8, 16, 32),
}
DENSE_MAX = 1 << 20  # predictor oracles are tabulated over network spaces up to this size
HW_METRICS = ("latency_s", "energy_j", "area_mm2", "power_w", "cycles", "overall_util", "dram_bytes", "macs")
_HW_COLUMNS = [systolic.TOTAL_FIELDS.index(m) for m in HW_METRICS]


class NetworkPart:
    """A searched network: its space, its oracle, and its layer tables by architecture index."""

    def __init__(self, network: str | NetworkSpace, oracle: str | Oracle, oracle_kwargs: Mapping | None = None,
                 layers: "LayerStore | None" = None):
        self.net = get_space(network)
        self.oracle = make_oracle(oracle, self.net, **dict(oracle_kwargs or {}))
        if self.oracle.space.family != self.net.family:
            raise ArchGymError(f"oracle over space {self.oracle.space.name!r} cannot score space {self.net.name!r}")
        if isinstance(self.oracle, TabularOracle):
            if self.oracle.sub.space.names != self.net.space.names or self.oracle.sub.space.size != self.net.space.size:
                raise ArchGymError(f"oracle 'tabular' covers space {self.oracle.sub.name!r} only, not {self.net.name!r}; "
                                   f"use network={self.oracle.sub.name!r}, or oracle 'predictor' or 'trained'")
            if not self.oracle.complete():
                raise ArchGymError(f"tabular benchmark {self.oracle.table.path.name} is incomplete "
                                   f"({len(self.oracle.table)} of {self.net.space.size} architectures)")
        self.space = self.net.space
        self.metric = self.oracle.metric
        self.layers = layers or LayerStore(self.net)
        self._strides = np.cumprod(np.r_[self.space.nvec[1:], 1][::-1])[::-1].astype(np.int64)
        # the fast path: the metric over the row-major enumeration of the space, looked up per step
        self.dense = None
        if isinstance(self.oracle, TabularOracle):
            self.dense = self.oracle.dense
        elif isinstance(self.oracle, PredictorOracle) and self.space.size <= DENSE_MAX:
            self.dense = self.oracle.values(self.space.enumerate_indices(), self.net)

    def arch_ids(self, idx: np.ndarray) -> np.ndarray:
        """Row-major architecture numbers of an (n, n_net) index array."""
        return idx @ self._strides

    def accuracy(self, idx: np.ndarray, arch_ids: np.ndarray) -> np.ndarray:
        """The oracle's metric for an (n, n_net) index array (and its architecture numbers)."""
        return self.dense[arch_ids] if self.dense is not None else self.oracle.values(idx, self.net)


class HardwarePart:
    """Searched simulator parameters (`params`, restrictions of the simulator's `full` parameters)
    -> kernel design vectors, every other parameter at its value in `fixed`. `prefix` names the
    parameters in a joint space (e.g. "acc1_")."""

    def __init__(self, full: DesignSpace, params: Sequence, fixed: Mapping, prefix: str = ""):
        _check_clash(fixed, [p.name for p in params])
        self.params, self.prefix = list(params), prefix
        self.fixed = full.complete({k: v for k, v in fixed.items()})
        self.designs = DesignEncoder(full, DesignSpace(self.params), self.fixed)

    @classmethod
    def systolic(cls, space: Mapping[str, Sequence], fixed: Mapping, prefix: str = "") -> "HardwarePart":
        """Systolic-array choices {parameter: values}; other simulator parameters fixed."""
        base = systolic.PARAMETERS.restrict(**{k: list(v) for k, v in space.items()})
        return cls(systolic.PARAMETERS, [base[k] for k in space], fixed, prefix)

    def renamed(self) -> list:
        """The parameters, renamed with the prefix, in the hardware group (for the joint DesignSpace)."""
        return [p.replace(name=self.prefix + p.name, group="hardware") for p in self.params]

    def design_dict(self, design: Mapping) -> dict:
        """The complete simulator design of a joint design dict."""
        return {**self.fixed, **{p.name: design[self.prefix + p.name] for p in self.params}}


class LayerStore:
    """Layer tables of a network space packed in one growing array, addressed by architecture
    number; a table is fetched from the space (shipped, cached, or torch) the first time only."""

    def __init__(self, net: NetworkSpace):
        self.net = net
        self.slot = np.full(net.space.size, -1, dtype=np.int64)
        self.rows = np.empty((4096, N_COLUMNS), dtype=np.int64)
        self.starts, self.ends, self._macs = [], [], []
        self._bounds = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        self._macs_by_slot = np.zeros(0)

    def slots(self, arch_ids: np.ndarray) -> np.ndarray:
        s = self.slot[arch_ids]
        if (s < 0).any():
            for a in np.unique(arch_ids[s < 0]).tolist():
                self._add(a)
            s = self.slot[arch_ids]
        return s

    def table(self, slot: int) -> np.ndarray:
        return self.rows[self.starts[slot]:self.ends[slot]]

    def macs(self, arch_ids: np.ndarray) -> np.ndarray:
        """Multiply-accumulates of each architecture (the FLOPs proxy)."""
        slots = self.slots(arch_ids)
        return self._macs_by_slot[slots]

    def arch(self, arch_id: int) -> dict:
        """The architecture dict of architecture number `arch_id`."""
        return self.net.space.from_indices(np.array(np.unravel_index(arch_id, self.net.space.nvec)))

    def _add(self, arch_id: int) -> None:
        wl = self.net.layer_table(self.arch(arch_id))
        t = wl.table
        n = self.ends[-1] if self.ends else 0
        if n + len(t) > len(self.rows):
            self.rows = np.concatenate([self.rows, np.empty((max(len(self.rows), len(t)), N_COLUMNS), np.int64)])
        self.rows[n:n + len(t)] = t
        self.slot[arch_id] = len(self.starts)
        self.starts.append(n)
        self.ends.append(n + len(t))
        self._macs.append(float(wl.macs))
        self._bounds = (np.array(self.starts, np.int64), np.array(self.ends, np.int64))
        self._macs_by_slot = np.array(self._macs)

    def simulate(self, designs: np.ndarray, arch_ids: np.ndarray) -> np.ndarray:
        """Systolic totals of each design on its own network."""
        slots = self.slots(arch_ids)
        kernel = systolic.simulate_packed if len(designs) >= systolic.PARALLEL_MIN else systolic.simulate_packed_serial
        return kernel(designs, slots, self.rows, *self._bounds)


class CoDesignSystolicEvaluator(Evaluator):
    """archgym/CoDesign-Systolic-v0: a network (`network` space, `oracle`) and a systolic array
    (`hardware`: {parameter: values}; other simulator parameters fixed by keyword, e.g. bits=8).
    Default objective `constraint`: maximise the oracle's metric with latency_s <=
    `latency_budget_s` and area_mm2 <= `area_budget_mm2`."""

    def __init__(self, network: str | NetworkSpace = "mbv2-tab", oracle: str | Oracle = "tabular",
                 oracle_kwargs: Mapping | None = None, hardware: Mapping[str, Sequence] | None = None,
                 latency_budget_s: float = 29e-6, area_budget_mm2: float = 0.43, **fixed):
        self.network = NetworkPart(network, oracle, oracle_kwargs)
        self.hardware = HardwarePart.systolic(hardware or HARDWARE, fixed)
        self.space = DesignSpace([*self.network.space.with_group("network"), *self.hardware.renamed()])
        self._n_net = len(self.network.space)
        acc = self.network.metric
        self.metric_names = (acc, *HW_METRICS)
        self.latency_budget_s, self.area_budget_mm2 = float(latency_budget_s), float(area_budget_mm2)
        limits = {"latency_s": self.latency_budget_s, "area_mm2": self.area_budget_mm2}
        self.objective_defaults = {
            "metrics": [acc, "latency_s", "energy_j", "area_mm2"],
            "default": "constraint",
            "constraint": {"optimize": acc, "limits": limits},
            "target": {"targets": {"latency_s": self.latency_budget_s, "area_mm2": self.area_budget_mm2},
                       "metrics": ["latency_s", "area_mm2"]},
            "product": {"metrics": ["latency_s", "energy_j", "area_mm2"]},
        }

    def __call__(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        idx = np.asarray(idx, dtype=np.int64).reshape(-1, len(self.space))
        net_idx, hw_idx = idx[:, :self._n_net], idx[:, self._n_net:]
        ids = self.network.arch_ids(net_idx)
        hw = self.network.layers.simulate(self.hardware.designs(hw_idx), ids)
        out = {m: hw[:, c] for m, c in zip(HW_METRICS, _HW_COLUMNS)}
        out[self.network.metric] = self.network.accuracy(net_idx, ids)
        out["feasible"] = np.ones(len(idx), dtype=bool)
        out["violation"] = np.zeros(len(idx))
        return out

    def simulate(self, design: Mapping) -> SimResult:
        """Per-layer systolic detail for one joint design, with the oracle's metric added."""
        arch = {k: design[k] for k in self.network.space.names}
        res = systolic.simulate(self.hardware.design_dict(design), self.network.net.layer_table(arch))
        res.metrics[self.network.metric] = float(self.network.oracle.query(arch))
        return res

    def describe(self) -> str:
        return f"{self.network.net.name} ({self.network.oracle.name} oracle) on a systolic array"


class CoDesignNASAICEvaluator(Evaluator):
    """archgym/CoDesign-NASAIC-v0: two networks (`networks`, scored by `oracles`) on one chip of
    two systolic sub-accelerators; network k runs on sub-accelerator k (parameters `net{k}_*`,
    `acc{k}_*`). Metrics: each network's accuracy and latency, their mean `accuracy`, and the
    chip's total energy (both inferences) and area. Default objective: maximise mean accuracy
    with each latency_{k}_s <= `latency_budgets_s[k-1]` and area_mm2 <= `area_budget_mm2`."""

    def __init__(self, networks: Sequence[str] = ("mbv2-tab", "mbv2-tab"), oracles: Sequence[str] = ("tabular", "tabular"),
                 hardware: Mapping[str, Sequence] | None = None, latency_budgets_s: Sequence[float] = (25e-6, 15e-6),
                 area_budget_mm2: float = 0.25, **fixed):
        if not (len(networks) == len(oracles) == len(latency_budgets_s) == 2):
            raise ArchGymError("NASAIC co-design needs exactly two networks, two oracles and two latency budgets")
        self.networks = [NetworkPart(n, o) for n, o in zip(networks, oracles)]
        if len({p.metric for p in self.networks}) != 1:
            raise ArchGymError("both networks' oracles must report the same metric (accuracy or score)")
        self.accs = [HardwarePart.systolic(hardware or HARDWARE, fixed, prefix=f"acc{k}_") for k in (1, 2)]
        params = []
        for k, part in enumerate(self.networks, start=1):
            params += [p.replace(name=f"net{k}_{p.name}", group="network") for p in part.space]
        for acc in self.accs:
            params += acc.renamed()
        self.space = DesignSpace(params)
        self._cuts = np.cumsum([len(p.space) for p in self.networks] + [len(a.params) for a in self.accs])[:-1]
        acc = self.networks[0].metric
        self.metric_names = (acc, f"{acc}_1", f"{acc}_2", "latency_1_s", "latency_2_s", "energy_j", "area_mm2")
        limits = {"latency_1_s": float(latency_budgets_s[0]), "latency_2_s": float(latency_budgets_s[1]),
                  "area_mm2": float(area_budget_mm2)}
        self.objective_defaults = {
            "metrics": [acc, "latency_1_s", "latency_2_s", "energy_j", "area_mm2"],
            "default": "constraint",
            "constraint": {"optimize": acc, "limits": limits},
            "target": {"targets": limits, "metrics": list(limits)},
        }

    def __call__(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        idx = np.asarray(idx, dtype=np.int64).reshape(-1, len(self.space))
        n1, n2, h1, h2 = np.split(idx, self._cuts, axis=1)
        name = self.networks[0].metric
        out: dict[str, np.ndarray] = {}
        energy = np.zeros(len(idx))
        area = np.zeros(len(idx))
        for k, (part, acc, n, h) in enumerate(zip(self.networks, self.accs, (n1, n2), (h1, h2)), start=1):
            ids = part.arch_ids(n)
            hw = part.layers.simulate(acc.designs(h), ids)
            out[f"{name}_{k}"] = part.accuracy(n, ids)
            out[f"latency_{k}_s"] = hw[:, systolic.TOTAL_FIELDS.index("latency_s")]
            energy += hw[:, systolic.TOTAL_FIELDS.index("energy_j")]
            area += hw[:, systolic.TOTAL_FIELDS.index("area_mm2")]
        out[name] = 0.5 * (out[f"{name}_1"] + out[f"{name}_2"])
        out["energy_j"], out["area_mm2"] = energy, area
        out["feasible"] = np.ones(len(idx), dtype=bool)
        out["violation"] = np.zeros(len(idx))
        return out

    def simulate(self, design: Mapping) -> SimResult:
        """Totals of one design (no per-layer detail: two networks run on two arrays)."""
        out = self(self.space.to_indices(design)[None, :])
        return SimResult({m: float(out[m][0]) for m in self.metric_names})

    def describe(self) -> str:
        return "two networks on two systolic sub-accelerators (NASAIC-style)"


def _values(v) -> list:
    """A searched parameter's values: a sequence, or one value (fixed)."""
    return list(v) if isinstance(v, Sequence) and not isinstance(v, str) else [v]


def _check_clash(fixed: Mapping, searched) -> None:
    clash = set(fixed) & set(searched)
    if clash:
        raise DesignError(f"parameter {sorted(clash)[0]!r} is searched; it cannot also be fixed")


class CoDesignFPGAEvaluator(Evaluator):
    """archgym/CoDesign-FPGA-v0: a network plus weight/activation bits, FINN folding (SetFolding's
    `target_cycles`) and clock of a dataflow accelerator on `board` (each a list of searched
    values, or one value to fix it). Accuracy is the oracle's
    post-training-quantised accuracy at the chosen bits (table columns `accuracy_w{w}a{a}`), so
    only bit widths that were measured can be searched. Designs over the board's resources are
    infeasible. Default objective: maximise accuracy with latency_s <= `latency_budget_s`."""
    metric_names = ("accuracy", "throughput_fps", "latency_s", "energy_j", "power_w", "resource_util",
                    "lut", "dsp", "bram18", "macs")

    def __init__(self, network: str | NetworkSpace = "mbv2-tab", oracle: str = "tabular", board: str = "pynq_z1",
                 weight_bits: Sequence[int] = (4, 8), act_bits: Sequence[int] = (4, 8),
                 target_cycles: Sequence[int] = tuple(2 ** k for k in range(8, 19)),
                 clock_mhz: Sequence[float] = (100, 150, 200, 250), latency_budget_s: float = 66e-6, **fixed):
        import simulators.fpga as fpga
        if oracle not in ("tabular", "predictor"):
            raise ArchGymError(f"CoDesign-FPGA needs the accuracy at each bit width: use oracle 'tabular' or "
                               f"'predictor' (fit on the table's accuracy_w*a* columns), not {oracle!r}")
        self._fpga = fpga
        weight_bits, act_bits, target_cycles, clock_mhz = map(_values, (weight_bits, act_bits, target_cycles, clock_mhz))
        net = get_space(network)
        self.parts, layers = {}, None
        for w in weight_bits:
            for a in act_bits:
                column = f"accuracy_w{w}a{a}"
                kw = {"column": column} if oracle == "tabular" else {"target": column}
                self.parts[(w, a)] = part = NetworkPart(net, oracle, kw, layers)
                layers = part.layers
        self.network = self.parts[(weight_bits[0], act_bits[0])]
        # The reference design takes the narrowest bits: at 8-bit activations the reference network
        # exceeds a Pynq-Z1 at every folding, and sequential baselines read their budgets off it.
        params = [Categorical("weight_bits", list(weight_bits), default=min(weight_bits)),
                  Categorical("act_bits", list(act_bits), default=min(act_bits)),
                  Categorical("target_cycles", list(target_cycles)), Categorical("clock_mhz", list(clock_mhz))]
        fixed = {"board": board, **fixed}
        fpga.check_design(fixed)  # names the bad field (board, bits, clock) before anything is built
        self.hardware = HardwarePart(fpga.PARAMETERS, params, fixed)
        self.fixed = self.hardware.fixed
        self.space = DesignSpace([*net.space.with_group("network"), *self.hardware.renamed()])
        self._n_net = len(net.space)
        self._acc = np.stack([np.stack([self.parts[(w, a)].dense for a in act_bits]) for w in weight_bits]) \
            if oracle == "tabular" else None
        self._models: dict[int, object] = {}
        self.latency_budget_s = float(latency_budget_s)
        self.objective_defaults = {
            "metrics": ["accuracy", "latency_s", "energy_j", "resource_util"],
            "default": "constraint",
            "constraint": {"optimize": "accuracy", "limits": {"latency_s": self.latency_budget_s}},
            "target": {"targets": {"latency_s": self.latency_budget_s}, "metrics": ["latency_s"]},
        }

    def _model(self, arch_id: int):
        """The FPGA model of architecture number `arch_id`, compiled once."""
        m = self._models.get(arch_id)
        if m is None:
            m = self._models[arch_id] = self._fpga.Model(self.network.net.layer_table(self.network.layers.arch(arch_id)))
        return m

    def __call__(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        idx = np.asarray(idx, dtype=np.int64).reshape(-1, len(self.space))
        net_idx, hw_idx = idx[:, :self._n_net], idx[:, self._n_net:]
        ids = self.network.arch_ids(net_idx)
        d = self.hardware.designs(hw_idx)
        out = {m: np.empty(len(idx)) for m in self.metric_names}
        out["feasible"] = np.empty(len(idx), dtype=bool)
        out["violation"] = np.empty(len(idx))
        order = np.argsort(ids, kind="stable")
        cuts = np.flatnonzero(np.diff(ids[order])) + 1
        for rows in np.split(order, cuts):
            model = self._model(int(ids[rows[0]]))
            res = model.evaluate(d[rows])  # one kernel call per network
            for m in (*self.metric_names[1:-1], "feasible", "violation"):
                out[m][rows] = res[m]
        out["macs"] = self.network.layers.macs(ids)
        if self._acc is not None:
            out["accuracy"] = self._acc[hw_idx[:, 0], hw_idx[:, 1], ids]
        else:
            for (wi, ai), part in zip(np.ndindex(self._shape()), self.parts.values()):
                rows = np.flatnonzero((hw_idx[:, 0] == wi) & (hw_idx[:, 1] == ai))
                if len(rows):
                    out["accuracy"][rows] = part.accuracy(net_idx[rows], ids[rows])
        return out

    def _shape(self) -> tuple[int, int]:
        return len(self.space["weight_bits"]), len(self.space["act_bits"])

    def simulate(self, design: Mapping) -> SimResult:
        """Per-layer FPGA detail for one joint design, with the oracle's accuracy added."""
        arch = {k: design[k] for k in self.network.space.names}
        res = self._fpga.Model(self.network.net.layer_table(arch)).simulate(self.hardware.design_dict(design))
        res.metrics["accuracy"] = float(self.parts[(design["weight_bits"], design["act_bits"])].oracle.query(arch))
        return res

    def describe(self) -> str:
        return f"{self.network.net.name} on a FINN-style dataflow FPGA ({self.fixed['board']})"
