"""The FPGA model against published FINN / BNN-PYNQ designs (tests/fixtures/fpga/published_designs.csv):
each row's measured LUT, BRAM18, DSP, fps and latency next to the model's, and the least-squares
refit of the model's two calibrated LUT coefficients (estimators.MAC_LANE_LUT, SWU_LUT_BASE) on the
shipped BNN-PYNQ utilisation reports, with leave-one-out errors ("fpga_published" block); the
published LUTRAM against the LUTRAM the model accounts for ("fpga_lutram"); and the same foldings
built with other tool versions ("fpga_tool_versions"). Writes those blocks of docs/fpga.md.

    python benchmarks/fpga_published.py [--no-write]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_generated  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "fpga" / "published_designs.csv"
DOC = ROOT / "docs" / "fpga.md"
COMMAND = "python benchmarks/fpga_published.py"
METRIC_LABEL = {"lut": "LUT", "bram18": "BRAM18", "dsp": "DSP", "fps": "fps", "latency_us": "latency (µs)",
                "latency_cycles": "latency (cycles)"}


def comparison(rows, **options):
    """(row, metric, model, measured, error, checked) for every measured metric the model predicts."""
    from simulators.fpga.published import predict, relative_error
    out = []
    for r in rows:
        p = predict(r, **options)
        for m, v in r.measured.items():
            if m in METRIC_LABEL:
                out.append((r, m, p[m], v, relative_error(p[m], v), m in r.checks))
    return out


def _span(errors) -> str:
    return f"{100 * min(errors):+.0f}% to {100 * max(errors):+.0f}%"


def published_block(rows) -> str:
    """Every row against the model, the shipped designs' feasibility and spill, and the LUT refit."""
    from simulators.fpga import published
    from simulators.fpga.estimators import FINN_LUT_COEFFICIENTS, MAC_LANE_LUT, SPILL_LUT_PER_BRAM18, SWU_LUT_BASE
    lines = ["| row | design | kind | metric | model | published | error | checked |",
             "|---|---|---|---|---|---|---|---|"]
    for r, m, model, meas, err, checked in comparison(rows):
        lines.append(f"| {r.row_id} | {r.design_id} | {r.kind} | {METRIC_LABEL[m]} | {model:,.0f} | {meas:,.0f} | "
                     f"{100 * err:+.0f}% | {'yes' if checked else 'no'} |")
    feasible = [(r.design_id, r.design["board"]) for r in rows if r.kind == "utilisation" and "lut" in r.checks
                and not published.predict(r)["feasible"]]
    lines += ["", "Shipped designs judged infeasible on their board: " + (", ".join(f"{d} ({b})" for d, b in feasible)
                                                                      or "none") + "."]
    spills = [(r.design_id, published.predict(r)) for r in rows if r.kind == "utilisation" and "lut" in r.checks]
    lines += ["", "Block RAM over the board, spilled to LUTRAM (`n_spill_lut`, "
              f"{SPILL_LUT_PER_BRAM18} LUTs per BRAM18): " + (", ".join(
                  f"{d}: {q['bram18'] + q['n_spill_lut'] // SPILL_LUT_PER_BRAM18:,} BRAM18 wanted, "
                  f"{q['n_spill_lut'] // SPILL_LUT_PER_BRAM18} spilled as {q['n_spill_lut']:,} LUTs"
                  for d, q in spills if q["n_spill_lut"]) or "none") + "."]
    use, coef, ins, loo = published.calibration(rows)
    finn = {r.row_id: e for r, m, _, _, e, _ in comparison(use, lut_coefficients=FINN_LUT_COEFFICIENTS) if m == "lut"}
    lines += ["", f"LUT coefficients refit on the {len(use)} shipped utilisation reports (least squares on "
                  "relative errors, coefficients >= 0): "
                  f"{coef[0]:.3f} LUT per MAC-lane term, {coef[1]:.0f} LUT per sliding window "
                  f"(in the model: {MAC_LANE_LUT}, {SWU_LUT_BASE:.0f}; FINN's: {FINN_LUT_COEFFICIENTS[0]}, "
                  f"{FINN_LUT_COEFFICIENTS[1]:.0f}).", "",
              "| design | LUT error, model | refit in-sample | refit leave-one-out | FINN's coefficients |",
              "|---|---|---|---|---|"]
    model_err = {r.row_id: e for r, m, _, _, e, _ in comparison(use) if m == "lut"}
    for r, a, b in zip(use, ins, loo):
        lines.append(f"| {r.design_id} | {100 * model_err[r.row_id]:+.0f}% | {100 * a:+.0f}% | {100 * b:+.0f}% | "
                     f"{100 * finn[r.row_id]:+.0f}% |")
    tol = published.TOLERANCE["lut"]
    within = sum(abs(e) <= tol for e in model_err.values())
    lines += ["", f"LUT error over the {len(use)}: the model {_span(model_err.values())} ({within} of {len(use)} "
                  f"within {100 * tol:.0f}%), leave-one-out {_span(loo)}, FINN's coefficients "
                  f"{_span(finn.values())}."]
    return "\n".join(lines)


def lutram_block(rows) -> str:
    """Per LUT-checked row with a published LUTRAM count: the LUTRAM the model accounts for (threshold
    memories, estimators.threshold_memory; block RAM over the board, estimators.bram_spill) and the
    published LUTRAM it has no term for (published - thresholds - spill)."""
    from simulators.fpga.published import predict
    lines = ["Published LUTRAM (the report's LUTs as distributed RAM) against the model's, per LUT-checked design:", "",
             "| row | design | LUT, published | LUT, model | LUTRAM, published | model: thresholds | model: spill "
             "| LUTRAM the model does not explain |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "lut" in r.checks and "lutram" in r.measured:
            p = predict(r)
            rest = r.measured["lutram"] - p["threshold_lut"] - p["n_spill_lut"]
            lines.append(f"| {r.row_id} | {r.design_id} | {r.measured['lut']:,.0f} | {p['lut']:,.0f} | "
                         f"{r.measured['lutram']:,.0f} | {p['threshold_lut']:,.0f} | {p['n_spill_lut']:,.0f} | "
                         f"{rest:+,.0f} |")
    return "\n".join(lines)


def tool_versions_block(rows) -> str:
    """The same design (kind, workload, bits, board, folding) built with other tool versions: each
    unchecked build's LUT and BRAM18 relative to the checked one's."""
    def key(r):
        return r.kind, r.workload, r.design["weight_bits"], r.design["act_bits"], r.design["board"], tuple(r.folding)
    lines = ["The same foldings built with other tool versions, against the checked build:", "",
             "| row | design | tool | LUT | BRAM18 | checked build (row, tool) | LUT change | BRAM18 change |",
             "|---|---|---|---|---|---|---|---|"]
    reference = {key(r): r for r in rows if "lut" in r.checks}
    for r in rows:
        ref = reference.get(key(r))
        if ref is not None and r is not ref and "lut" in r.measured:
            lut, bram, ref_lut, ref_bram = (x.measured[m] for x in (r, ref) for m in ("lut", "bram18"))
            lines.append(f"| {r.row_id} | {r.design_id} | {r.tool} | {lut:,.0f} | {bram:,.0f} | "
                         f"{ref.design_id} ({ref.row_id}, {ref.tool}) | {100 * (lut / ref_lut - 1):+.0f}% | "
                         f"{100 * (bram / ref_bram - 1):+.0f}% |")
    return "\n".join(lines)


def blocks(rows=None) -> dict[str, str]:
    """The generated blocks of docs/fpga.md this script writes, by name."""
    from simulators.fpga import published
    rows = published.load(FIXTURE) if rows is None else rows
    return {"fpga_published": published_block(rows), "fpga_lutram": lutram_block(rows),
            "fpga_tool_versions": tool_versions_block(rows)}


def main(argv=None) -> dict[str, str]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--no-write", action="store_true", help="print only; leave docs/fpga.md alone")
    args = p.parse_args(argv)
    out = blocks()
    for name, text in out.items():
        print(f"{name}:\n{text}\n")
        if not args.no_write:
            write_generated(DOC, name, COMMAND, text)
    return out


if __name__ == "__main__":
    main()
