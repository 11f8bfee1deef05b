"""Published FINN / BNN-PYNQ designs against the model: read a fixture of measured designs (one
source per row), predict each row's metrics with its own folding, bits, memory mode and board, and
refit the model's two calibrated LUT coefficients on the shipped utilisation reports.

The fixture's columns: design, kind (utilisation = whole PL post-implementation; ooc_synthesis =
accelerator only, no DMA shell; board_fps; board_latency, host-timed; rtlsim_latency), workload,
board, clock_mhz, weight_bits, act_bits, input_bits, mem_mode, mult_style, ram_style, label_select,
folding ("pe:simd" per layer, space-separated), the measured lut, ff, bram18, dsp, lutram, fps,
latency_us or latency_cycles, `checks`: the metrics a test compares (the note says why others are
not), and `tolerance`: "metric=fraction" where a row's check needs more than the default, with the
measured reason in its note.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulators.fpga import kernels
from simulators.fpga import prepare

MEASURED = ("lut", "ff", "bram18", "dsp", "lutram", "fps", "latency_us", "latency_cycles")


@dataclass(frozen=True)
class Published:
    """One fixture row: the design, what was measured, and which measurements a test checks."""
    row_id: int
    design_id: str
    kind: str
    workload: str
    design: dict
    input_bits: int
    label_select: bool
    folding: list[tuple[int, int]]
    measured: dict[str, float]
    checks: tuple[str, ...]
    tolerance: dict[str, float]
    note: str
    source: str


def load(path: str | Path) -> list[Published]:
    """The rows of a published-designs CSV (see the module docstring)."""
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            design = {"board": r["board"], "clock_mhz": float(r["clock_mhz"]), "weight_bits": int(r["weight_bits"]),
                      "act_bits": int(r["act_bits"]), "mem_mode": r["mem_mode"], "mult_style": r["mult_style"],
                      "ram_style": r["ram_style"]}
            folding = [tuple(int(x) for x in pair.split(":")) for pair in r["folding"].split()]
            measured = {k: float(r[k]) for k in MEASURED if r.get(k, "").strip()}
            tolerance = {k: float(v) for k, v in (item.split("=") for item in r["tolerance"].split())}
            rows.append(Published(int(r["row_id"]), r["design_id"], r["kind"], r["workload"], design,
                                  int(r["input_bits"]), r["label_select"] == "1", folding, measured,
                                  tuple(r["checks"].split()), tolerance, r["note"], r["source"]))
    return rows


def predict(row: Published, **options) -> dict[str, float]:
    """The model's numbers for a row, in the row's terms: fps, latency_us and latency_cycles, lut, ff,
    bram18 (without the DMA shell's buffers for out-of-context rows) and dsp, plus `feasible` on
    the row's board. `options` go to the Model (e.g. lut_coefficients)."""
    model = prepare(row.workload, input_bits=row.input_bits, label_select=row.label_select, **options)
    res = model.simulate(row.design, row.folding)
    m = res.metrics
    bram = m["bram18"] - (kernels.SHELL_BRAM18 if row.kind == "ooc_synthesis" else 0)
    return {"fps": m["throughput_fps"], "latency_us": m["latency_s"] * 1e6, "latency_cycles": m["latency_cycles"],
            "lut": m["lut"], "ff": m["ff"], "bram18": bram, "dsp": m["dsp"], "feasible": m["feasible"]}


def relative_error(predicted: float, measured: float) -> float:
    """(predicted - measured) / measured; 0 or inf when nothing was measured (exact DSP counts)."""
    if measured == 0:
        return 0.0 if predicted == 0 else float("inf")
    return (predicted - measured) / measured


def _lut_features(rows):
    """Per row, LUT = base + a*lanes + b*windows: the model at coefficients (0, 0), (1, 0), (0, 1)."""
    out = []
    for r in rows:
        base = predict(r, lut_coefficients=(0.0, 0.0))["lut"]
        out.append((base, predict(r, lut_coefficients=(1.0, 0.0))["lut"] - base,
                    predict(r, lut_coefficients=(0.0, 1.0))["lut"] - base))
    return np.array(out)


def _fit(features, measured):
    """(lane, window) coefficients >= 0 minimising the sum of squared relative errors."""
    from scipy.optimize import nnls
    coef, _ = nnls(features[:, 1:] / measured[:, None], 1.0 - features[:, 0] / measured)
    return coef


def calibration(rows):
    """The refit on the shipped (utilisation) rows whose LUT is checked: coefficients, in-sample and
    leave-one-out relative errors."""
    use = [r for r in rows if r.kind == "utilisation" and "lut" in r.checks]
    feats = _lut_features(use)
    y = np.array([r.measured["lut"] for r in use])
    coef = _fit(feats, y)
    pred = feats[:, 0] + feats[:, 1:] @ coef
    loo = np.empty(len(use))
    for k in range(len(use)):
        keep = np.arange(len(use)) != k
        c = _fit(feats[keep], y[keep])
        loo[k] = feats[k, 0] + feats[k, 1:] @ c
    return use, coef, (pred - y) / y, (loo - y) / y
