"""The FPGA model against published FINN / BNN-PYNQ designs (tests/fixtures/fpga/published_designs.csv):
each row's measured LUT, BRAM18, DSP, fps and latency next to the model's, and the least-squares
refit of the model's two calibrated LUT coefficients (estimators.MAC_LANE_LUT, SWU_LUT_BASE) on the
shipped BNN-PYNQ utilisation reports, with leave-one-out errors. Writes the "fpga_published"
block of docs/fpga.md.

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


def main(argv=None) -> str:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--no-write", action="store_true", help="print only; leave docs/fpga.md alone")
    args = p.parse_args(argv)
    from simulators.fpga import published
    from simulators.fpga.estimators import FINN_LUT_COEFFICIENTS, MAC_LANE_LUT, SWU_LUT_BASE
    rows = published.load(FIXTURE)
    lines = ["| row | design | kind | metric | model | published | error | checked |",
             "|---|---|---|---|---|---|---|---|"]
    for r, m, model, meas, err, checked in comparison(rows):
        lines.append(f"| {r.row_id} | {r.design_id} | {r.kind} | {METRIC_LABEL[m]} | {model:,.0f} | {meas:,.0f} | "
                     f"{100 * err:+.0f}% | {'yes' if checked else 'no'} |")
    feasible = [(r.design_id, r.design["board"]) for r in rows if r.kind == "utilisation" and "lut" in r.checks
                and not published.predict(r)["feasible"]]
    lines += ["", "Shipped designs judged infeasible on their board: " + (", ".join(f"{d} ({b})" for d, b in feasible)
                                                                      or "none") + "."]
    from simulators.fpga.estimators import SPILL_LUT_PER_BRAM18
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
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_generated(DOC, "fpga_published", COMMAND, text)
    return text


if __name__ == "__main__":
    main()
