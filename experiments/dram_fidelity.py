"""The DRAM model against its peers, from the stored peer runs (tests/fixtures/dram): DRAMSys 4.0
one knob at a time (error summary and the sensitivity table an agent climbs) and DRAMSim3 (cycles
and read latency). Writes the generated blocks dram-dramsys, dram-sensitivity and dram-dramsim3 of
docs/dram.md.

    python experiments/dram_fidelity.py [--no-write]
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "dram"
DOC = ROOT / "docs" / "dram.md"
COMMAND = "python experiments/dram_fidelity.py"
MEMORY = {"ddr3": {"standard": "ddr3_1600", "address_mapping": "row_bank_column"},
          "ddr4": {"standard": "ddr4_2400_4gb", "address_mapping": "bank_bankgroup_row_column"}}
MEMORY_NAME = {"ddr3": "DDR3-1600 (ArchGym's)", "ddr4": "JEDEC 4Gb DDR4-2400"}
SENSITIVITY_TRACES = ("random.stl", "stream.stl", "mix_w33.stl")


def read(name):
    with open(FIX / name) as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def trace(name):
    stem = name[:-4]
    return stem if stem in ("random", "stream", "cloud-1") else FIX / f"{name}.gz"


def ours_dramsys(table):
    from simulators import dram
    from simulators.dram import dramsys
    groups = defaultdict(list)
    for i, r in enumerate(table):
        groups[(r["memory"], r["trace"])].append(i)
    out = [None] * len(table)
    for (memory, name), idx in groups.items():
        m = dram.simulate_batch([dramsys.mcconfig_knobs(json.loads(table[i]["mcconfig"])) | MEMORY[memory]
                                 for i in idx], trace(name))
        for k, i in enumerate(idx):
            out[i] = {key: float(m[key][k]) for key in m}
    return out


def pct(x):
    return f"{100 * x:.2f}%"


def dramsys_summary(table, mine) -> str:
    lines = ["| memory | base | runs | total time: median, max error | energy: median, max error | "
             "read latency (Simple arbiter): median, max error |", "|---|---|---|---|---|---|"]
    groups = defaultdict(list)
    for r, m in zip(table, mine):
        groups[(r["memory"], r["base"])].append((r, m))
    groups[("all", "")] = [(r, m) for r, m in zip(table, mine)]
    for (memory, base), items in groups.items():
        t = np.array([abs(m["latency_s"] * 1e9 / float(r["total_time_ns"]) - 1) for r, m in items])
        e = np.array([abs(m["energy_j"] * 1e12 / float(r["energy_pj"]) - 1) for r, m in items])
        lat = np.array([abs(m["avg_read_latency_ns"] / float(r["avg_read_latency_ns"]) - 1) for r, m in items
                        if r["avg_read_latency_ns"] and json.loads(r["mcconfig"])["Arbiter"] == "Simple"])
        name = MEMORY_NAME.get(memory, "all")
        lines.append(f"| {name} | {base or 'both'} | {len(items)} | {pct(np.median(t))}, {pct(t.max())} | "
                     f"{pct(np.median(e))}, {pct(e.max())} | {pct(np.median(lat))}, {pct(lat.max())} |")
    return "\n".join(lines)


def sensitivity(table, mine, memory="ddr3", base="fr_fcfs") -> str:
    key = {(r["memory"], r["base"], r["trace"], r["knob"], r["value"]): (r, m) for r, m in zip(table, mine)}
    head = "| change | " + " | ".join(f"{t[:-4]}: DRAMSys / ours" for t in SENSITIVITY_TRACES) + " |"
    lines = [head, "|---" * (len(SENSITIVITY_TRACES) + 1) + "|"]
    cells = []
    for t in SENSITIVITY_TRACES:
        r, m = key[(memory, base, t, "base", "")]
        cells.append(f"{float(r['total_time_ns']) / 1e3:.1f} us / {m['latency_s'] * 1e6:.1f} us")
    lines.append("| defaults (absolute total time) | " + " | ".join(cells) + " |")
    seen = []
    for r in table:
        if (r["memory"], r["base"], r["trace"]) == (memory, base, SENSITIVITY_TRACES[0]) and r["knob"] != "base":
            seen.append((r["knob"], r["value"]))
    for knob, value in seen:
        cells = []
        for t in SENSITIVITY_TRACES:
            if (memory, base, t, knob, value) not in key:
                cells.append("")
                continue
            r, m = key[(memory, base, t, knob, value)]
            r0, m0 = key[(memory, base, t, "base", "")]
            cells.append(f"{float(r['total_time_ns']) / float(r0['total_time_ns']):.2f}x / "
                         f"{m['latency_s'] / m0['latency_s']:.2f}x")
        lines.append(f"| {knob.replace('+', ', ')} = {value.replace('/', ', ')} | " + " | ".join(cells) + " |")
    r, m = key[(memory, "archgym_policy", SENSITIVITY_TRACES[0], "base", "")]
    lines += ["", f"ArchGym's `policy.json` on {SENSITIVITY_TRACES[0]} (same memory): total time "
              f"{float(r['total_time_ns']) / 1e3:.1f} us in DRAMSys, {m['latency_s'] * 1e6:.1f} us ours."]
    return "\n".join(lines)


def dramsim3_table() -> str:
    from archgym.core.workloads import traces as tr
    from simulators import dram
    lines = ["| trace (20 000 requests) | ranks, page | queues (command, transaction) | DRAMSim3 cycles | ours | "
             "DRAMSim3 read latency (cycles) | ours |", "|---|---|---|---|---|---|---|"]
    for r in read("dramsim3.csv"):
        t = tr.reference_trace(r["kind"], float(r["write_fraction"]), gap=int(r["gap"]))
        ranks = int(r["ranks"])
        t[:, 0] %= 8 << 30 << (ranks - 1)
        page = "open" if r["page"] == "OPEN_PAGE" else "closed"
        m = dram.simulate({"arbiter": "dramsim3", "max_active_transactions": int(r["trans_queue_size"]),
                           "request_buffer_size": int(r["cmd_queue_size"]), "scheduler": "fr_fcfs",
                           "ranks": ranks, "page_policy": page}, t).metrics
        lat = m["avg_read_latency_ns"] * 1.2
        ref_lat, ref_cyc = float(r["avg_read_latency_cycles"]), int(r["cycles"])
        w = float(r["write_fraction"])
        name = f"{r['kind']}, {'reads' if w == 0 else f'{w:.0%} writes'}, gap {r['gap']}"
        lines.append(f"| {name} | {ranks}, {page} | {r['cmd_queue_size']}, {r['trans_queue_size']} | {ref_cyc} | "
                     f"{m['cycles']:.0f} ({m['cycles'] / ref_cyc - 1:+.1%}) | {ref_lat:.0f} | {lat:.0f} "
                     f"({lat / ref_lat - 1:+.1%}) |")
    return "\n".join(lines)


def generated_blocks() -> dict[str, str]:
    """docs/dram.md's blocks from the stored peer tables and our model (about 2 s)."""
    table = [r for r in read("dramsys4_onehot.csv") if not r["error"]]
    mine = ours_dramsys(table)
    return {"dram-dramsys": dramsys_summary(table, mine), "dram-sensitivity": sensitivity(table, mine),
            "dram-dramsim3": dramsim3_table()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    blocks = generated_blocks()
    for name, md in blocks.items():
        print(f"## {name}\n{md}\n")
    if not args.no_write:
        from _docs import write_generated
        for name, md in blocks.items():
            write_generated(DOC, name, COMMAND, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
