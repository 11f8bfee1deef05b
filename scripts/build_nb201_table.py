"""Build the shipped NAS-Bench-201 files: the CIFAR-10 accuracy table and the layer blocks.

Accuracy table (`archgym/data/nas/nb201-cifar10.csv.gz` + `.json` provenance): installs PyPI
`analog-nasbench` (AnalogNAS-Bench, arXiv:2506.18495) into a throw-away venv, then reads its data
file once with that venv's Python **without importing the package**: the file is a protocol-4 pickle,
read by a restricted unpickler that admits only the two plain record classes (mapped to empty local
stand-ins), so no code from the package or the file runs. The records' NASLib keys are converted
to NB201 arch strings and official indices by `archgym.nas.nb201`, and the baseline, PTQ and QAT
accuracies (percent) are written sorted by index, gzipped with a fixed timestamp (reproducible
bytes), with the sha256 that `archgym.nas.nb201_table` verifies at load.

Layer tables (`archgym/data/nas/nb201.blocks.npz` + `.json`, `--blocks`): the parts of the network
(stem, reductions, head, each op at each stage) recorded by `trace_torch` before fusion on the NB201
torch modules (needs torch), and every network composed from them and finished by the frontend
(archgym.nas.nb201_compose), stored as ids into the unique rows-in-context. Checked against
`trace_torch` of every cell of every stage (3 x 5^6 cells, raw graph and finished table; `--quick`:
500 per stage) and `from_torch` of 200 whole networks (`--quick`: 10).

    python scripts/build_nb201_table.py [--venv .venv-analognas]
    python scripts/build_nb201_table.py --blocks
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import platform
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE, VERSION = "analog-nasbench", "0.1.3"
COLUMNS = ("index", "arch", "baseline_acc", "ptq_acc", "qat_acc")
# record attribute in the package's pickle -> our column (IBM/analog-nas analognasbench/training_script.py)
ATTRIBUTES = {"baseline_accuracy": "baseline_acc", "ptq_accuracy": "ptq_acc", "qat_accuracy": "qat_acc"}

# Runs inside the throw-away venv: standard library only; locates the data file without importing
# the package and prints one JSON object per record.
READER = textwrap.dedent('''
    import hashlib, importlib.metadata, importlib.util, json, os, pickle, sys
    ALLOWED = {("analognasbench.data", "Architecture"), ("analognasbench.data", "DriftMeasurement")}
    class Record:
        pass
    class Restricted(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) in ALLOWED:
                return type(name, (Record,), {})
            raise pickle.UnpicklingError(f"refusing global {module}.{name}")
    spec = importlib.util.find_spec("analognasbench")  # finds the package directory, imports nothing
    path = os.path.join(list(spec.submodule_search_locations)[0], "data.anb")
    raw = open(path, "rb").read()
    import io
    data = Restricted(io.BytesIO(raw)).load()
    attrs = json.loads(sys.argv[1])
    print(json.dumps({"data_file": os.path.basename(path), "data_sha256": hashlib.sha256(raw).hexdigest(),
                      "version": importlib.metadata.version("analog-nasbench"), "records": len(data),
                      "python": sys.version.split()[0]}))
    for key, rec in data.items():
        print(json.dumps({"key": list(key), **{a: getattr(rec, a) for a in attrs}}))
''')

SOURCE = {
    "package": f"PyPI {PACKAGE}=={VERSION} (https://pypi.org/project/{PACKAGE}/), file analognasbench/data.anb",
    "upstream": "byte-identical to IBM/analog-nas analognasbench/build/lib/analognasbench/data.anb (git blob "
                "057ee1f9..., commit 71dae1f89f16d1d5bb5960bafdbfeee500a34b89); training code "
                "IBM/analog-nas analognasbench/training_script.py",
    "licence": "Apache-2.0 (IBM/analog-nas LICENSE and README). The PyPI package itself states no licence, author or "
               "URL, and the author's personal repository (anissbslh/analognasbench, no LICENSE file) declares MIT "
               "in its setup.py; we follow the IBM repository, which publishes these exact bytes.",
    "citation": "AnalogNAS-Bench: A NAS Benchmark for Analog In-Memory Computing, arXiv:2506.18495 (2025); "
                "NAS-Bench-201: Dong & Yang, ICLR 2020",
}
MEANING = {
    "dataset": "CIFAR-10 test set (10,000 images), top-1 accuracy in percent",
    "architectures": "all 15,625 NAS-Bench-201 cells on the NB201 macro skeleton (NASLib NasBench201SearchSpace), "
                     "keyed by NASLib op_indices in the package and converted to NB201 arch strings and official "
                     "indices here (archgym.nas.nb201.from_naslib)",
    "training": "one training run per architecture (seed 42 + worker rank), 200 epochs SGD (lr 0.1, momentum 0.9, "
                "Nesterov, weight decay 5e-4), cosine schedule, batch 256; no multi-seed averaging",
    "evaluation": "mean over 25 passes of the test set, which the training script loads with the training "
                  "augmentation (random crop + flip): values are multiples of 0.0004 %",
    "baseline_acc": "float32 network",
    "ptq_acc": "8-bit weights and 8-bit activations (W8A8): torch.ao FX post-training static quantisation with "
               "get_default_qconfig('x86') (per-channel symmetric int8 weights, histogram-observed uint8 "
               "activations), calibrated on the test loader",
    "qat_acc": "8-bit weights and 8-bit activations (W8A8): quantisation-aware fine-tuning of the float network "
               "with get_default_qat_qconfig_mapping('x86'), 20 epochs of Adam (lr 1e-3, weight decay 1e-4)",
    "bit_widths": {"baseline_acc": "float32", "ptq_acc": [8, 8], "qat_acc": [8, 8]},
    "quirks": "341 cells whose output is unreachable score exactly 10.0; index 12115's baseline is 91.80559 (the "
              "only value off the 0.0004 grid); the package's analog (AIMC) columns are not shipped",
}


def read_package(venv: Path) -> tuple[dict, list[dict]]:
    """Install the package into `venv` (created if absent) and read its records there."""
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"{PACKAGE}=={VERSION}"], check=True)
    out = subprocess.run([str(python), "-c", READER, json.dumps(list(ATTRIBUTES))], check=True,
                         capture_output=True, text=True).stdout.splitlines()
    return json.loads(out[0]), [json.loads(line) for line in out[1:]]


def table_bytes(records: list[dict]) -> tuple[bytes, list[list]]:
    """The gzipped CSV (mtime 0, so the same records give the same bytes) and its rows."""
    from archgym.nas import nb201
    rows = []
    for r in records:
        ops = nb201.from_naslib(r["key"])
        rows.append([nb201.index_of_number(nb201.number_of_ops(ops)), nb201.to_string(ops),
                     *(repr(round(float(r[a]), 6)) for a in ATTRIBUTES)])
    rows.sort(key=lambda row: row[0])
    if [row[0] for row in rows] != list(range(nb201.N_ARCHS)):
        raise SystemExit(f"expected one record per NB201 cell (0..{nb201.N_ARCHS - 1}), got {len(rows)} records")
    text = io.StringIO()
    text.write(",".join(COLUMNS) + "\n")
    for row in rows:
        text.write(",".join(map(str, row)) + "\n")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as f:
        f.write(text.getvalue().encode())
    return buf.getvalue(), rows


def build_table(venv: Path, command: str) -> None:
    from archgym.nas.nb201_table import TABLE
    t0 = time.perf_counter()
    info, records = read_package(venv)
    data, rows = table_bytes(records)
    TABLE.write_bytes(data)
    meta = {"file": TABLE.name, "sha256": hashlib.sha256(data).hexdigest(), "rows": len(rows),
            "columns": list(COLUMNS), "units": "percent", "source": SOURCE, "meaning": MEANING,
            "package_version": info["version"], "package_data_sha256": info["data_sha256"],
            "command": command, "built": time.strftime("%Y-%m-%d"), "build_time_s": round(time.perf_counter() - t0, 1),
            "python": platform.python_version(), "venv_python": info["python"]}
    TABLE.with_name("nb201-cifar10.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {TABLE} ({len(data):,} bytes, {len(rows):,} rows, sha256 {meta['sha256'][:16]}...)")


def build_blocks(quick: bool, command: str) -> None:
    import hashlib
    import itertools

    import numpy as np
    import torch

    from archgym.core.workloads.table import ADD, KIND, N_COLUMNS
    from archgym.frontends import from_torch, trace_torch
    from archgym.nas import nb201, nb201_compose
    from archgym.nas.nb201_torch import Cell, NB201Network, extract_parts
    t0 = time.perf_counter()
    parts = extract_parts()
    rng = np.random.default_rng(0)
    cells = list(itertools.product(nb201.OPS, repeat=len(nb201.EDGES)))
    if quick:
        cells = [cells[i] for i in rng.choice(len(cells), 500, replace=False)]

    def graph(raw):  # what finish reads: rows, the rows each reads (parameters dropped), batch norms, outputs
        reads = [tuple(s) if raw.table[r, KIND] == ADD else (tuple(sorted({x for x in s if x >= 0})) or (-1,))
                 for r, s in enumerate(raw.inputs)]
        bn = sorted(r for r, name in raw.act_names.items() if name == "batch_norm")
        return np.asarray(raw.table).reshape(-1, N_COLUMNS).tolist(), reads, bn, raw.outputs

    for s, (ch, size) in enumerate(zip(nb201.STAGE_CHANNELS, nb201.STAGE_SIZES)):
        x = torch.zeros(1, ch, size, size, device="meta")
        for ops in cells:
            with torch.device("meta"):
                ref = trace_torch(Cell(ops, ch), x)
            got = nb201_compose.compose_cell(s, ops, parts)
            if graph(ref) != graph(got) or (len(ref.table) and not np.array_equal(ref.finish().table,
                                                                                   got.finish().table)):
                raise SystemExit(f"stage {s}, cell {nb201.to_string(ops)}: composed cell differs from trace_torch")
        print(f"stage {s}: {len(cells):,} cells composed exactly as trace_torch records them, before and after "
              "fusion", flush=True)
    nets = nb201_compose.compose_all(parts)
    sample = rng.choice(nb201.N_ARCHS, 10 if quick else 200, replace=False)
    for number in sample:
        ops = nb201.ops_of_number(int(number))
        with torch.device("meta"):
            ref = from_torch(NB201Network(ops), torch.zeros(1, nb201.IN_CHANNELS, 32, 32, device="meta")).table
        if not np.array_equal(nets.table(int(number)), ref):
            raise SystemExit(f"network {nb201.to_string(ops)}: composed table differs from from_torch")
    print(f"{len(sample)} whole networks equal from_torch", flush=True)
    nb201_compose.write_networks(nets)
    path = nb201_compose.NETWORKS_FILE
    meta = {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "parts": nb201_compose.N_PARTS,
            "part_rows": len(parts.rows), "unique_rows": len(nets.rows), "networks": nb201.N_ARCHS,
            "rows_per_network": [int(np.diff(nets.offsets).min()), int(np.diff(nets.offsets).max())],
            "cells_checked_per_stage": len(cells), "networks_checked": len(sample), "command": command,
            "built": time.strftime("%Y-%m-%d"), "build_time_s": round(time.perf_counter() - t0, 1),
            "torch": torch.__version__}
    path.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {path} ({len(nets.rows)} unique rows in context, {len(nets.seq):,} rows over {nb201.N_ARCHS:,} "
          "networks)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--venv", type=Path, default=ROOT / ".venv-analognas",
                   help="throw-away venv for analog-nasbench (created if absent)")
    p.add_argument("--blocks", action="store_true", help="build the layer blocks instead of the accuracy table")
    p.add_argument("--quick", action="store_true", help="with --blocks: check 500 cells per stage (not all 15,625) and 10 networks (not 200)")
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    command = "python scripts/build_nb201_table.py " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.blocks:
        build_blocks(args.quick, command.strip())
    else:
        build_table(args.venv, command.strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
