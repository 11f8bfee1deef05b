"""FPGA dataflow envs: fold a FINN-style accelerator and choose its precision and memories on a board.

- `FPGAEvaluator` (archgym/FPGADataflow-v0): FINN's SetFolding `target_cycles`, the precision (the
  weight/activation bit widths whose accuracy is published for the workload), multiplier style,
  weight-memory style and FINN's memory mode; optionally the board.
- `FPGAFoldingEvaluator` (archgym/FPGAFolding-v0): per-layer PE and SIMD over each layer's divisors
  plus precision and styles.

Accuracy is the published top-1 of the Brevitas-trained networks finn-examples deploys
(archgym/data/fpga/accuracy_by_bits.csv), so only measured bit widths are offered. The clock is the
board's shipped one (boards.py). Default objective: maximise throughput_fps with accuracy at least
the floor (by default the second-lowest published accuracy, so that the least accurate precision is
excluded), within the board. power_w and energy_j are reported but left out of the default
objectives: their coefficients are uncalibrated assumptions (docs/fpga.md, "Power"). A workload
without published accuracies has no accuracy term: its bits are fixed (W2A2 unless given) and the
description says so.
"""
from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib.resources import files

import numpy as np

import simulators.fpga as fpga
from archgym.core.errors import DesignError
from archgym.core.space import Categorical, DesignSpace, Parameter
from archgym.envs.evaluator import SimulatorEvaluator, model_file
from simulators.base import SimResult
from simulators.fpga.boards import BOARDS

# Searched values of the network-wide parameters: SetFolding targets; multiplier and weight-memory
# styles without the duplicates ("auto" is LUT multipliers below 4 bits and BRAM weights, FINN's
# estimate; URAM only where the board has it).
TARGETS = tuple(2 ** k for k in range(8, 23))
MULT_STYLES = ("lut", "dsp")
RAM_STYLES = ("block", "distributed", "ultra")
# Workloads -> network name in the accuracy table (the CNV/LFC variants are the same networks).
ACCURACY_NETWORK = {"cnv": "CNV", "cnv_bnnpynq": "CNV", "tfc": "TFC", "sfc": "SFC", "lfc": "LFC", "lfc_bnnpynq": "LFC"}
OBJECTIVE_METRICS = ["throughput_fps", "accuracy", "latency_s", "resource_util"]


@lru_cache(maxsize=1)
def published_accuracy() -> dict[str, dict[tuple[int, int], tuple[float, int]]]:
    """{network: {(weight_bits, act_bits): (top-1 fraction, input bits)}} of the Brevitas rows."""
    out: dict = {}
    with (files("archgym") / "data" / "fpga" / "accuracy_by_bits.csv").open(newline="") as f:
        for r in csv.DictReader(f):
            if r["set"] == "brevitas":
                out.setdefault(r["network"], {})[int(r["weight_bits"]), int(r["act_bits"])] = (
                    float(r["top1_pct"]) / 100, int(r["input_bits"]))
    return out


def precision_name(w: int, a: int) -> str:
    return f"w{w}a{a}"


class FPGAEvaluator(SimulatorEvaluator):
    """archgym/FPGADataflow-v0: SetFolding target, precision, multiplier/weight-memory style and memory
    mode on a board.

    board: a board name (fixed) or a sequence of names (searched); accuracy_floor: the accuracy
    (fraction) the default objective requires (default: the second-lowest published one); any other
    simulator parameter passed as a keyword (e.g. `mem_mode="internal_embedded"`, `clock_mhz=150`,
    or `weight_bits=1, act_bits=1` to fix the precision) is fixed and leaves the space.
    """

    def __init__(self, workload="cnv", board: str | Sequence[str] = "zcu104", accuracy_floor: float | None = None,
                 **fixed):
        boards = _boards(board)
        params = [Categorical("board", boards, default=boards[0])] if len(boards) > 1 else []
        fixed = {**({"board": boards[0]} if len(boards) == 1 else {}), **fixed}
        self._setup(workload, boards, fixed, accuracy_floor)
        params += _searched(boards, exclude=fixed)
        self._finish(params, fixed, f"FINN-style dataflow FPGA on {self.model.network.name}")

    # --- construction shared with FPGAFoldingEvaluator ---------------------------------------------------
    def _setup(self, workload, boards: list[str], fixed: dict, accuracy_floor) -> None:
        bad = [k for k in fixed if k not in fpga.PARAMETERS.names and not k.endswith((".pe", ".simd"))]
        if bad:
            raise DesignError(f"unknown fixed parameter {bad[0]!r}; parameters: {', '.join(fpga.PARAMETERS.names)}")
        name = workload if isinstance(workload, str) else None
        table = published_accuracy().get(ACCURACY_NETWORK.get(name, ""), {})
        if ("weight_bits" in fixed) != ("act_bits" in fixed):
            raise DesignError("fix both weight_bits and act_bits, or neither (the precision is searched as a pair)")
        if "weight_bits" in fixed and table:
            pair = (fixed["weight_bits"], fixed["act_bits"])
            if pair not in table:
                raise DesignError(f"no published accuracy for W{pair[0]}A{pair[1]} on {name!r}; measured: "
                                  + ", ".join(precision_name(*k) for k in sorted(table)))
            table = {pair: table[pair]}
            del fixed["weight_bits"], fixed["act_bits"]  # the one-valued precision carries them
        self.accuracy = {precision_name(*k): v for k, v in sorted(table.items())}
        fixed.setdefault("clock_mhz", min(BOARDS[b].clock_mhz for b in boards))
        if not self.accuracy:
            fixed.setdefault("weight_bits", 2)
            fixed.setdefault("act_bits", 2)
        fpga.check_design({k: v for k, v in fixed.items() if k in fpga.PARAMETERS})
        # one model per first-layer input width (Brevitas quantises MLP inputs to 1 or 2 bits)
        input_bits = {ib for _, ib in self.accuracy.values()} or {8}
        workload = model_file(workload)
        self.models = {ib: fpga.prepare(workload, input_bits=ib) for ib in sorted(input_bits)}
        self.model = next(iter(self.models.values()))
        accs = sorted({a for a, _ in self.accuracy.values()})
        if accuracy_floor is not None and not (isinstance(accuracy_floor, float) and 0 < accuracy_floor <= 1):
            raise DesignError(f"accuracy_floor must be a fraction in (0, 1], got {accuracy_floor!r}")
        self.accuracy_floor = accuracy_floor if accuracy_floor is not None else (accs[1] if len(accs) > 1 else
                                                                                 (accs[0] if accs else None))

    def _finish(self, params: list[Parameter], fixed: dict, description: str) -> None:
        if self.accuracy:
            at = 1 if params and params[0].name == "board" else 0
            params = params[:at] + [Categorical("precision", tuple(self.accuracy), default=self._default_precision())] \
                + params[at:]
            sim_space = DesignSpace([Categorical("weight_bits", (1,)), Categorical("act_bits", (1,))] +
                                    [p for p in params if p.name != "precision"])
        else:
            sim_space = DesignSpace(params)
            description += (f" (no accuracy term: no published accuracy for this workload, so the bits are fixed at "
                            f"W{fixed['weight_bits']}A{fixed['act_bits']})")
        space = DesignSpace(params).with_group("hardware")
        self._precision_at = space.names.index("precision") if self.accuracy else -1
        super().__init__(fpga, self.model, sim_space, fixed, description=description)
        self.space = space
        self.metric_names = tuple(m for m in fpga.METRICS if m not in ("feasible", "overflow", "violation"))
        if self.accuracy:
            self.metric_names = ("accuracy", *self.metric_names)
            bits = [tuple(int(x) for x in p[1:].split("a")) for p in self.accuracy]
            self._bits = np.array(bits, dtype=np.float64)
            self._acc = np.array([a for a, _ in self.accuracy.values()])
            self._input_bits = np.array([ib for _, ib in self.accuracy.values()])
        ref = self.default_metrics()
        metrics = OBJECTIVE_METRICS if self.accuracy else [m for m in OBJECTIVE_METRICS if m != "accuracy"]
        limits = {"accuracy": self.accuracy_floor} if self.accuracy else {}
        targets = {"throughput_fps": 2 * ref["throughput_fps"], "latency_s": ref["latency_s"] / 2,
                   "resource_util": ref["resource_util"], **limits}
        self.objective_defaults = {
            "metrics": metrics,
            "default": "constraint",
            # the FINN design question: the most frames per second the board allows at the accuracy floor
            "constraint": {"optimize": "throughput_fps", "limits": limits},
            "target": {"targets": targets},
        }

    def _default_precision(self) -> str:
        """The least accurate precision that meets the floor (the cheapest admissible one)."""
        ok = [p for p, (a, _) in self.accuracy.items() if self.accuracy_floor is None or a >= self.accuracy_floor]
        return min(ok or self.accuracy, key=lambda p: self.accuracy[p][0])

    # --- evaluation ----------------------------------------------------------------------------------
    def __call__(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        idx = np.asarray(idx, dtype=np.int64).reshape(-1, len(self.space))
        if not self.accuracy:
            return self.simulator.evaluate(self.encode(idx), self.prepared)
        at = self._precision_at
        designs = self.encode(np.concatenate([np.zeros((len(idx), 2), dtype=np.int64), idx[:, :at], idx[:, at + 1:]],
                                             axis=1))
        p = idx[:, at]
        bits = [fpga.PARAMETERS.names.index("weight_bits"), fpga.PARAMETERS.names.index("act_bits")]
        designs[:, bits] = self._bits[p]
        ib = self._input_bits[p]
        out = None
        for bits, model in self.models.items():
            rows = np.flatnonzero(ib == bits)
            if not len(rows):
                continue
            res = self.simulator.evaluate(designs[rows], model)
            if out is None:
                out = {k: np.empty(len(idx), dtype=v.dtype) for k, v in res.items()}
            for k, v in res.items():
                out[k][rows] = v
        out["accuracy"] = self._acc[p]
        return out

    def simulate(self, design: Mapping) -> SimResult:
        design = {**self.fixed, **design}
        if not self.accuracy:
            return self.simulator.simulate(design, self.prepared)
        p = design.pop("precision")
        acc, ib = self.accuracy[p]
        w, a = (int(x) for x in p[1:].split("a"))
        res = self.simulator.simulate({**design, "weight_bits": w, "act_bits": a}, self.models[ib])
        res.metrics["accuracy"] = acc
        return res


class FPGAFoldingEvaluator(FPGAEvaluator):
    """archgym/FPGAFolding-v0: per-layer `<layer>.pe` and `<layer>.simd` (the layer's divisors) plus
    precision and styles, on one board. The default folding is FINN SetFolding's at `target_cycles`
    for the default precision (the least accurate one meeting the floor); layers with a single
    choice are fixed; a dense sliding window takes its MVAU's SIMD where it can (folding.py)."""

    def __init__(self, workload="cnv", board: str = "zcu104", target_cycles: float = 2 ** 15,
                 accuracy_floor: float | None = None, **fixed):
        boards = _boards(board)
        if len(boards) != 1:
            raise DesignError("FPGAFolding-v0 folds for one board; give one board name")
        fixed = {"board": boards[0], "target_cycles": target_cycles, **fixed}
        self._setup(workload, boards, fixed, accuracy_floor)
        net = self.model.network
        w, a = (int(x) for x in self._default_precision()[1:].split("a")) if self.accuracy else \
            (fixed["weight_bits"], fixed["act_bits"])
        default = self.model.set_folding({**{k: v for k, v in fixed.items() if k in fpga.PARAMETERS},
                                          "weight_bits": w, "act_bits": a})
        params = [p for p in _searched(boards, exclude=fixed) if p.name != "target_cycles"]
        for name, pe_choices, simd_choices, chosen in zip(net.layer_names, net.pe_choices, net.simd_choices, default):
            for kind, choices, value in (("pe", pe_choices, chosen[0]), ("simd", simd_choices, chosen[1])):
                if len(choices) > 1:
                    params.append(Categorical(f"{name}.{kind}", choices, default=value))
                else:
                    fixed[f"{name}.{kind}"] = choices[0]
        self._finish(params, fixed, f"per-layer PE/SIMD folding of a FINN-style dataflow FPGA on {net.name}")


def _boards(board) -> list[str]:
    boards = [board] if isinstance(board, str) else list(board)
    if not boards:
        raise DesignError("board needs at least one board name")
    for b in boards:
        fpga.check_design({"board": b})
    return boards


def _searched(boards: list[str], exclude: Mapping) -> list[Parameter]:
    """The searched network-wide simulator parameters not fixed by the caller: target_cycles, styles,
    memory mode (URAM weights only when a board has URAM)."""
    ram = RAM_STYLES if any(BOARDS[b].uram for b in boards) else RAM_STYLES[:2]
    params = [Categorical("target_cycles", TARGETS, default=2 ** 15),
              Categorical("mult_style", MULT_STYLES, default="lut"),
              Categorical("ram_style", ram, default="block"),
              Categorical("mem_mode", fpga.PARAMETERS["mem_mode"].values, default="internal_decoupled")]
    return [p for p in params if p.name not in exclude]
