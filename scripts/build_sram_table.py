"""Tabulate SRAM energy, leakage and area with CACTI 7 for `simulators.tech` (the systolic model's TechModel).

CACTI is the build that the `zigzag-dse` wheel (MIT) ships, run from its own virtualenv (never archgym's):

    python3 -m venv /work/ext/venv-zigzag && /work/ext/venv-zigzag/bin/pip install zigzag-dse==3.9.1
    /work/ext/venv-zigzag/bin/python scripts/build_sram_table.py --out simulators/tech/data/sram_cacti.csv

What it runs (our own driver; it imports zigzag only to find the CACTI binary and to reuse the baseline
configuration text of `zigzag.cacti.cacti_master.cacti_config_creator.CactiConfig`):
- every (node, size, width) in NODES_NM x SIZES x WIDTHS is one CACTI run of a plain RAM with one
  read-write port and one bank, block size = width / 8 bytes, IO bus width = width bits;
- the baseline is ZigZag's, with the choices of Accelergy's CACTI plug-in (accelergy-cacti-plug-in
  default_cfg.cfg, MIT): itrs-lstp cells and periphery (ZigZag: itrs-hp), 300 K (ZigZag: 360 K), no ECC
  (ZigZag: ECC), "normal" interconnect projection, ED^2 optimisation;
- CACTI runs in a private copy of its binary and tech files (it writes `<cfg>.out` next to its input),
  never in site-packages.
Each output row: the node, the size and width, read and write energy per access (pJ), standby leakage
(mW), area (mm^2), access and cycle time (ns). Combinations CACTI rejects are left out of the table (the
reason goes to stderr); the model then treats them as outside the table.
"""
from __future__ import annotations

import argparse
import csv
import datetime
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version

NODES_NM = (22, 28, 32, 40, 45, 65, 90)  # CACTI 7's tech files cover 22..90 nm (it interpolates between them)
SIZES = tuple(512 << i for i in range(16))  # 512 B .. 16 MiB
WIDTHS = (32, 64, 128, 256)  # bits per access
OVERRIDES = {  # baseline line prefix -> our line (Accelergy's CACTI plug-in choices)
    "-Data array cell type": '-Data array cell type - "itrs-lstp"',
    "-Data array peripheral type": '-Data array peripheral type - "itrs-lstp"',
    "-Tag array cell type": '-Tag array cell type - "itrs-lstp"',
    "-Tag array peripheral type": '-Tag array peripheral type - "itrs-lstp"',
    "-operating temperature (K)": "-operating temperature (K) 300",
    "-Add ECC": '-Add ECC - "false"',
    "-Interconnect projection": '-Interconnect projection - "normal"',
}
FIELDS = ("tech_nm", "size_bytes", "width_bits", "read_pj", "write_pj", "leakage_mw", "area_mm2", "access_ns",
          "cycle_ns")


def baseline() -> list[str]:
    """ZigZag's CACTI baseline configuration with our overrides (one option per line)."""
    from zigzag.cacti.cacti_master.cacti_config_creator import CactiConfig
    out = []
    for line in CactiConfig().baseline_config:
        key = next((k for k in OVERRIDES if line.startswith(k)), None)
        out.append(OVERRIDES[key] + "\n" if key else line)
    missing = [k for k in OVERRIDES if not any(line.startswith(OVERRIDES[k]) for line in out)]
    if missing:
        raise SystemExit(f"ZigZag's CACTI baseline has no line for {missing}; update OVERRIDES")
    return out


def run_dir() -> str:
    """A private copy of the CACTI binary and its tech files."""
    import zigzag
    src = os.path.join(os.path.dirname(zigzag.__file__), "cacti", "cacti_master")
    tmp = tempfile.mkdtemp(prefix="cacti-")
    shutil.copy2(os.path.join(src, "cacti"), tmp)
    shutil.copytree(os.path.join(src, "tech_params"), os.path.join(tmp, "tech_params"))
    shutil.copy2(os.path.join(src, "contention.dat"), tmp)
    os.makedirs(os.path.join(tmp, "cfg"))
    return tmp


def run_one(where: str, base: list[str], node: int, size: int, width: int) -> dict | str:
    """One CACTI run -> a row dict, or the reason it failed."""
    lines = base + ['-cache type "ram"\n', f"-size (bytes) {size}\n", f"-block size (bytes) {width // 8}\n",
                    f"-output/input bus width {width}\n", "-read-write port 1\n", "-exclusive read port 0\n",
                    "-exclusive write port 0\n", "-single ended read ports 0\n", "-UCA bank count 1\n",
                    f"-technology (u) {node / 1000}\n", "-associativity 1\n"]
    name = f"cfg/n{node}_s{size}_w{width}.cfg"
    with open(os.path.join(where, name), "w") as f:
        f.writelines(lines)
    proc = subprocess.run(["./cacti", "-infile", name], cwd=where, capture_output=True, text=True, timeout=3600)
    out = os.path.join(where, name + ".out")
    if not os.path.exists(out):
        tail = [ln.strip() for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
        return next((ln for ln in tail if "ERROR" in ln or "rror" in ln), tail[-1] if tail else f"rc={proc.returncode}")
    with open(out) as f:
        rows = list(csv.reader(f))
    res = dict(zip((h.strip() for h in rows[0]), (v.strip() for v in rows[-1])))
    if int(float(res["Output width (bits)"])) != width:
        return f"output width {res['Output width (bits)']} != {width}"
    return {"tech_nm": node, "size_bytes": size, "width_bits": width,
            "read_pj": float(res["Dynamic read energy (nJ)"]) * 1e3,
            "write_pj": float(res["Dynamic write energy (nJ)"]) * 1e3,
            "leakage_mw": float(res["Standby leakage per bank(mW)"]), "area_mm2": float(res["Area (mm2)"]),
            "access_ns": float(res["Access time (ns)"]), "cycle_ns": float(res["Random cycle time (ns)"])}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="simulators/tech/data/sram_cacti.csv")
    p.add_argument("--jobs", type=int, default=2, help="CACTI processes at once")
    args = p.parse_args(argv)
    base = baseline()
    where = run_dir()
    combos = list(itertools.product(NODES_NM, SIZES, WIDTHS))
    t0 = time.time()
    with ThreadPoolExecutor(args.jobs) as ex:  # threads only wait on CACTI subprocesses
        results = list(ex.map(lambda c: run_one(where, base, *c), combos))
    shutil.rmtree(where, ignore_errors=True)
    rows = [r for r in results if isinstance(r, dict)]
    for c, r in zip(combos, results):
        if not isinstance(r, dict):
            print(f"left out node {c[0]} nm, {c[1]} B, {c[2]} bits: {r}", file=sys.stderr)
    header = [
        "# SRAM energy, leakage and area from CACTI 7, tabulated by scripts/build_sram_table.py (see its docstring).",
        f"# command: {' '.join([os.path.basename(sys.executable), *sys.argv])}",
        f"# CACTI: the build shipped in zigzag-dse {version('zigzag-dse')} (MIT; CACTI itself: HP/University of Utah,"
        " BSD-style licence)",
        "# configuration: plain RAM, 1 read-write port, 1 bank, itrs-lstp cells and periphery, 300 K, no ECC, ED^2"
        " (Accelergy CACTI plug-in choices)",
        "# units: read_pj and write_pj per access of width_bits; leakage_mw standby per bank; area_mm2; times ns",
        f"# generated {datetime.date.today()} in {time.time() - t0:.0f} s; {len(rows)} of {len(combos)} combinations",
    ]
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", newline="") as f:
        f.write("\n".join(header) + "\n")
        w = csv.DictWriter(f, FIELDS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    print(f"{len(rows)} of {len(combos)} combinations -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
