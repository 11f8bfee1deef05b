"""Published FINN / BNN-PYNQ designs against the model: read a fixture of measured designs (one
source per row), predict each row's metrics with its own folding, bits, memory mode and board, and
refit the model's two calibrated LUT coefficients on the shipped utilisation reports.

The fixture's columns: design, kind (utilisation = whole PL post-implementation; ooc_synthesis =
accelerator only, no DMA shell; board_fps; board_latency, host-timed; rtlsim_latency), workload,
board, clock_mhz, weight_bits, act_bits, input_bits, mem_mode, mult_style, ram_style, label_select,
folding ("pe:simd" per layer, space-separated), stream_fifos (the design's own FIFOs, "depth:width"
space-separated, where its source sets them instead of FINN's FIFO sizing), the measured lut, ff,
bram18, dsp, lutram, fps, latency_us or latency_cycles, the tool that built it, `checks`: the metrics a
test compares (the note says why others are not), and `tolerance`: "metric=fraction" where a row's
check needs more than the default, with the measured reason in its note.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulators.fpga import estimators, kernels
from simulators.fpga import prepare
from simulators.fpga.boards import BOARDS, CAPS_PCT, FF_PER_LUT, RESOURCES

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
    stream_fifos: list[tuple[int, int]]
    measured: dict[str, float]
    tool: str
    checks: tuple[str, ...]
    tolerance: dict[str, float]
    note: str
    source: str


# Relative tolerance per checked metric unless a row's `tolerance` says more (the FPGA issue's targets;
# DSPs exact), used by tests/test_fpga_published.py and benchmarks/fpga_published.py.
TOLERANCE = {"lut": 0.15, "bram18": 0.15, "dsp": 0.0, "fps": 0.10, "latency_us": 0.25, "latency_cycles": 0.25}


def load(path: str | Path) -> list[Published]:
    """The rows of a published-designs CSV (see the module docstring)."""
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            design = {"board": r["board"], "clock_mhz": float(r["clock_mhz"]), "weight_bits": int(r["weight_bits"]),
                      "act_bits": int(r["act_bits"]), "mem_mode": r["mem_mode"], "mult_style": r["mult_style"],
                      "ram_style": r["ram_style"]}
            folding, fifos = ([tuple(int(x) for x in pair.split(":")) for pair in r[k].split()]
                              for k in ("folding", "stream_fifos"))
            measured = {k: float(r[k]) for k in MEASURED if r.get(k, "").strip()}
            tolerance = {k: float(v) for k, v in (item.split("=") for item in r["tolerance"].split())}
            rows.append(Published(int(r["row_id"]), r["design_id"], r["kind"], r["workload"], design,
                                  int(r["input_bits"]), r["label_select"] == "1", folding, fifos, measured,
                                  r["tool"], tuple(r["checks"].split()), tolerance, r["note"], r["source"]))
    return rows


def predict(row: Published, **options) -> dict[str, float]:
    """The model's numbers for a row, in the row's terms: fps, latency_us and latency_cycles, lut, ff,
    bram18 (without the DMA shell's buffers for out-of-context rows), dsp, n_spill_lut and threshold_lut
    (the thresholds' LUTRAM, within lut), plus `feasible` on the row's board. A row with its own
    `stream_fifos` has those in place of the FIFOs FINN's sizing would insert (estimators.hls_stream_fifo),
    before the block RAM over the board spills to LUTRAM (estimators.bram_spill). `options` go to the
    Model (e.g. lut_coefficients)."""
    model = prepare(row.workload, input_bits=row.input_bits, label_select=row.label_select, **options)
    res = model.simulate(row.design, row.folding)
    m = dict(res.metrics)
    if row.stream_fifos:
        own_lut, own_bram = np.array([estimators.hls_stream_fifo(d, w) for d, w in row.stream_fifos]).sum(axis=0)
        lut = m["lut"] - m["n_spill_lut"] + own_lut - sum(layer["fifo_lut"] for layer in res.layers)
        demand = (m["bram18"] + m["n_spill_lut"] // estimators.SPILL_LUT_PER_BRAM18 + own_bram
                  - sum(layer["fifo_bram18"] for layer in res.layers))
        board = BOARDS[row.design["board"]]
        m["bram18"], m["n_spill_lut"] = estimators.bram_spill(int(demand), board.bram18)
        m["lut"], m["ff"] = lut + m["n_spill_lut"], int(FF_PER_LUT * lut)
        used = np.array([m[k] for k in RESOURCES])
        m["feasible"] = bool(np.all(used * 100 <= CAPS_PCT * board.resources))
    bram = m["bram18"] - (kernels.SHELL_BRAM18 if row.kind == "ooc_synthesis" else 0)
    return {"fps": m["throughput_fps"], "latency_us": m["latency_s"] * 1e6, "latency_cycles": m["latency_cycles"],
            "lut": m["lut"], "ff": m["ff"], "bram18": bram, "dsp": m["dsp"], "n_spill_lut": m["n_spill_lut"],
            "threshold_lut": sum(layer["threshold_lut"] for layer in res.layers), "feasible": m["feasible"]}


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
