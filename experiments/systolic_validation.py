"""The systolic model's energy against its peers and its unit costs, for docs/systolic.md.

    python experiments/systolic_validation.py

Writes generated blocks of docs/systolic.md from the stored fixtures (no peer tool needed):
- `systolic-unit-costs`: the TechModel's unit costs for a few designs;
- `systolic-zigzag`: our model vs ZigZag 3.9.1 (tests/fixtures/zigzag/reference.json), the same
  comparison tests/test_systolic_zigzag.py asserts, plus latency;
- `systolic-timeloop`: our loop-nest counter vs Timeloop/Accelergy's reference outputs;
- `systolic-scalesim-dram`: the closed-form DRAM read model vs SCALE-Sim on its fixture;
- `systolic-elementwise-ops`: what from_torch records for element-wise torch ops, and what it passes
  through at zero cost, with the reasons (from archgym/frontends/graph.py).
Deterministic.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import test_systolic_dram as scalesim_dram  # noqa: E402
import test_systolic_timeloop as tl  # noqa: E402
import test_systolic_zigzag as zz  # noqa: E402
from archgym.core.workloads import load  # noqa: E402
from archgym.frontends.graph import COMPARISONS, ELEMENTWISE_OPS, FREE, REDUCTIONS  # noqa: E402
from experiments._docs import write_generated  # noqa: E402
from simulators import systolic  # noqa: E402
from simulators.systolic.loopnest import count, energy_pj  # noqa: E402

DOC = ROOT / "docs" / "systolic.md"
COMMAND = "python experiments/systolic_validation.py"


def unit_costs() -> str:
    designs = [("32×32, 64 kB SRAMs, 8 bit, 45 nm", {}),
               ("32×32, 64 kB SRAMs, 8 bit, 22 nm", {"tech_nm": 22}),
               ("128×128, 1 MB SRAMs, 8 bit, 45 nm", {"rows": 128, "cols": 128, "ifmap_sram_kb": 1024,
                                                      "filter_sram_kb": 1024, "ofmap_sram_kb": 1024}),
               ("32×32, 64 kB SRAMs, 16 bit, acc 64 bit, 45 nm", {"bits": 16, "acc_bits": 64})]
    cols = ("mac_pj", "reg_pj_per_bit", "vector_op_pj", "ifmap_read_pj_per_bit", "ifmap_write_pj_per_bit",
            "ofmap_read_pj_per_bit", "dram_read_pj_per_bit", "dram_write_pj_per_bit", "leakage_w", "area_pe_mm2",
            "area_sram_mm2")
    rows = ["| design | " + " | ".join(c.replace("_", " ") for c in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for label, d in designs:
        c = systolic.unit_costs(d)
        rows.append(f"| {label} | " + " | ".join(f"{c[k]:.4g}" for k in cols) + " |")
    return "DRAM: DDR4-2400 (the TechModel's default standard).\n\n" + "\n".join(rows)


def zigzag() -> str:
    rows = ["| ZigZag hardware, dataflow | network | layers | total energy: worst / median error | memory levels "
            "compared (worst error) | Spearman of layer energies | latency ours / ZigZag (network) |",
            "|---|---|---|---|---|---|---|"]
    for cfg in zz.COMPARED:
        pooled = []
        for net in zz.NETS:
            layers = zz.compared(cfg, net)
            pooled += layers
            err = np.array([abs(r["ours_total"] / r["zigzag_total"] - 1) for r in layers])
            lev = [abs(r["ours"][lv] / t - 1) for r in layers if cfg in zz.PER_LEVEL and r["same_mapping"]
                   and not (cfg == "eyeriss_ws" and r["depthwise"]) for lv, t in r["zigzag"].items()
                   if max(r["ours"][lv], t) >= zz.MATERIAL * r["zigzag_total"]]
            run = zz.fixture()["runs"][f"{cfg}/{net}"]
            hw = systolic.simulate({**zz.HARDWARE[run["hardware"]]["design"], "dataflow": run["dataflow"]},
                                   load(net).isolated())
            zz_lat = sum(z["latency"]["latency_total2"] for z in run["layers"])
            rho = spearmanr([r["ours_total"] for r in layers], [r["zigzag_total"] for r in layers]).statistic
            rows.append(f"| {run['hardware']}, {run['dataflow']} | {net} | {len(layers)} | {err.max():.1%} / "
                        f"{np.median(err):.1%} | " + (f"{len(lev)} ({max(lev):.1%})" if lev else "not compared")
                        + f" | {rho:.3f} | {hw.metrics['cycles'] / zz_lat:.2f} |")
        rho = spearmanr([r["ours_total"] for r in pooled], [r["zigzag_total"] for r in pooled]).statistic
        rows.append(f"| {run['hardware']}, {run['dataflow']} | both, pooled | {len(pooled)} | | | {rho:.3f} | |")
    return "\n".join(rows)


def timeloop() -> str:
    rows = ["| design | level | Timeloop (pJ) | ours (pJ) | error |", "|---|---|---|---|---|"]
    for name in tl.DESIGNS:
        d = tl.REF["designs"][name]
        blocks = {n: lv.get("block", 1.0) for n, lv in d["levels"].items()}
        ours = energy_pj(count(tl._nest(d), d["problem"]), d["ert"], blocks, d["levels"]["mac"]["cycles"],
                         d["computes"])
        for level, e in ours.items():
            lv = d["levels"][level]
            theirs = (sum(x["Energy (total)"] for x in lv["dataspaces"].values()) + lv.get("leakage_pj", 0.0)
                      if lv["dataspaces"] else lv["energy_pj"])
            rows.append(f"| {name} | {level} | {theirs:,.1f} | {e:,.1f} | {e / theirs - 1:+.1e} |")
    return "\n".join(rows)


def scalesim_dram_errors() -> str:
    layers = scalesim_dram.LAYERS
    cases = {lay["case"] for lay in layers}
    per_case, errs = {}, []
    for lay in layers:
        topo, rows, cols, df, kb = lay["case"]
        mi, mf, _ = scalesim_dram._model(lay["row"], rows, cols, scalesim_dram.DF[df], kb * 1024)
        ref = lay["ifmap"] + lay["filter"]
        acc = per_case.setdefault(lay["case"], [0, 0])
        acc[0] += mi + mf
        acc[1] += ref
        errs.append(abs((mi + mf) / ref - 1))
    case_err = np.array([abs(a / b - 1) for a, b in per_case.values()])
    errs = np.array(errs)
    return (f"Measured on the fixture ({len(cases)} cases of {len({c[0] for c in cases})} topologies, "
            f"{len(layers)} layers; all dataflows; arrays and SRAM sizes as listed in the fixture's command):\n\n"
            "| DRAM reads (ifmap + filter) vs SCALE-Sim | max error | median error | within 10% |\n|---|---|---|---|\n"
            f"| per (topology, array, dataflow, SRAM) case | {case_err.max():.1%} | {np.median(case_err):.1%} | "
            f"{np.mean(case_err <= 0.1):.0%} |\n| per layer | {errs.max():.1%} | {np.median(errs):.1%} | "
            f"{np.mean(errs <= 0.1):.1%} |")


def elementwise_ops() -> str:
    costed = ", ".join(f"`{op}` {n}" for op, n in sorted(ELEMENTWISE_OPS.items()))
    return (f"Costed on the vector unit (element ops per element): {costed}; reductions "
            f"({', '.join(f'`{op}`' for op in sorted(REDUCTIONS))}) one op per input element; arithmetic with a "
            "scalar one op per element; binary element-wise ops of two tensors (`add`, `sub`, `mul`, `div` and their "
            f"operator and in-place forms; comparisons, {', '.join(f'`{op}`' for op in sorted(COMPARISONS))} and their "
            "operator forms) are `add` rows, one op per element; a select (`where`, `masked_fill`: a mask applied) is "
            "one op per element of its largest operand (an `add` row between two tensors of that size), and a mask "
            "computed from constants alone (a causal mask compared from a buffer, `triu` of ones) is a constant: it "
            "costs nothing.\n\n"
            f"Passed through at zero cost (re-views and copies: address generation, no arithmetic; `dropout`: the "
            f"identity at inference): {', '.join(f'`{op}`' for op in sorted(FREE))}.")


BLOCKS = {"systolic-unit-costs": unit_costs, "systolic-zigzag": zigzag, "systolic-timeloop": timeloop,
          "systolic-elementwise-ops": elementwise_ops, "systolic-scalesim-dram": scalesim_dram_errors}


def main() -> int:
    for name, make in BLOCKS.items():
        write_generated(DOC, name, COMMAND, make())
    return 0


if __name__ == "__main__":
    sys.exit(main())
