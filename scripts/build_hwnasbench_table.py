"""Build the shipped HW-NAS-Bench NAS-Bench-201 latencies (CIFAR-10): `archgym/data/nas/hwnasbench-nb201.csv.gz`.

HW-NAS-Bench (Li et al., ICLR 2021; GATECH-EIC/HW-NAS-Bench, MIT) publishes per-architecture costs of
every NB201 cell on six devices in one pickle; HELP (Lee et al., NeurIPS 2021; HayeonLee/HELP, MIT)
redistributes its latencies as plain lists in `data/nasbench201/latency/*.pt` (torch zip archives
whose `data.pkl` holds a list of 15,625 floats in NB201 index order) with `str_arch2idx.pt` (arch
string -> index). This script reads the Eyeriss and FPGA lists (the two costs estimated by models,
which the coupling study compares with ours) with an unpickler that refuses every global (no code
runs; torch is not needed), checks the inputs' sha256 against HELP commit 45f70eb9, checks every
index against `archgym.nas.nb201.official_order` and the HW-NAS-Bench README's published values
for index 0, and writes index, eyeriss_latency_ms, fpga_latency_ms (gzipped with a fixed timestamp)
plus a .json provenance with the output's sha256.

    git clone https://github.com/HayeonLee/HELP && git -C HELP checkout 45f70eb92d0d735970a33b608d1544ad3c52f285
    python scripts/build_hwnasbench_table.py --help-repo HELP
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import pickle
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HELP_COMMIT = "45f70eb92d0d735970a33b608d1544ad3c52f285"
INPUTS = {  # path in HELP -> sha256 at HELP_COMMIT
    "data/nasbench201/latency/eyeriss.pt": "6f1dd2f8c0442289a09ab78e63e49bde96489f6d455cc33d5fa5aed37edb5d03",
    "data/nasbench201/latency/fpga.pt": "6a0333c1476a3ab039d8c39e5d42ac99efe9e7f3ff521289569013fa84233b28",
    "data/nasbench201/str_arch2idx.pt": "e1d7b7cc7cf51d7c3cd6f9e726e7395bea87d7ba674e26202fb8633f963aef0d",
}
COLUMNS = ("index", "eyeriss_latency_ms", "fpga_latency_ms")
# GATECH-EIC/HW-NAS-Bench README.md: "The HW_metrics ... for No.0 @ cifar10 under NAS-Bench-201"
PUBLISHED_INDEX_0 = {"eyeriss_latency_ms": 3.645620000000001, "fpga_latency_ms": 2.57296}
SOURCE = {
    "data": "HW-NAS-Bench (GATECH-EIC/HW-NAS-Bench, HW-NAS-Bench-v1_0.pickle): HW_metrics['nasbench201']['cifar10']"
            "['eyeriss_latency'] and ['fpga_latency'], ms per image",
    "redistributed_by": f"HayeonLee/HELP @ {HELP_COMMIT}: data/nasbench201/latency/eyeriss.pt, fpga.pt, "
                        "str_arch2idx.pt",
    "licence": "MIT (HW-NAS-Bench: Copyright (c) 2022 GaTech-EIC; HELP: Copyright (c) 2024 HayeonLee); texts in "
               "hwnasbench-nb201.LICENSE.txt",
    "citation": "Chaojian Li et al., HW-NAS-Bench: Hardware-Aware Neural Architecture Search Benchmark, ICLR 2021; "
                "Hayeon Lee et al., HELP: Hardware-Adaptive Efficient Latency Prediction for NAS via Meta-Learning, "
                "NeurIPS 2021",
    "meaning": "estimated, not measured: Eyeriss by the authors' analytical accelerator model (an Eyeriss-like "
               "row-stationary ASIC), FPGA by their model of a per-layer HLS accelerator; both are exactly additive "
               "in a cell's op counts (see docs/codesign.md)",
}


class _NoGlobals(pickle.Unpickler):
    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"refusing global {module}.{name}: the file must hold plain data only")


def read_pt(path: Path):
    """The plain list or dict inside a torch zip archive, without torch and without running code."""
    with zipfile.ZipFile(path) as z:
        (name,) = [n for n in z.namelist() if n.endswith("data.pkl")]
        return _NoGlobals(io.BytesIO(z.read(name))).load()


def build(help_repo: Path, command: str) -> None:
    sys.path.insert(0, str(ROOT))
    from archgym.nas import nb201
    from archgym.nas.nb201_hwnas import TABLE
    for rel, sha in INPUTS.items():
        got = hashlib.sha256((help_repo / rel).read_bytes()).hexdigest()
        if got != sha:
            raise SystemExit(f"{help_repo / rel}: sha256 {got} is not HELP {HELP_COMMIT[:8]}'s {sha}")
    eyeriss, fpga = (read_pt(help_repo / f"data/nasbench201/latency/{d}.pt") for d in ("eyeriss", "fpga"))
    arch2idx = read_pt(help_repo / "data/nasbench201/str_arch2idx.pt")
    order = nb201.official_order()
    if not len(eyeriss) == len(fpga) == len(arch2idx) == nb201.N_ARCHS or any(order[i] != a for a, i in arch2idx.items()):
        raise SystemExit("HELP's lists are not one value per NB201 index in NB201's official order")
    if eyeriss[0] != PUBLISHED_INDEX_0["eyeriss_latency_ms"] or fpga[0] != PUBLISHED_INDEX_0["fpga_latency_ms"]:
        raise SystemExit(f"index 0: {eyeriss[0]}, {fpga[0]} differ from HW-NAS-Bench's README {PUBLISHED_INDEX_0}")
    text = ",".join(COLUMNS) + "\n" + "".join(f"{i},{e!r},{f!r}\n" for i, (e, f) in enumerate(zip(eyeriss, fpga)))
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as f:
        f.write(text.encode())
    TABLE.write_bytes(buf.getvalue())
    meta = {"file": TABLE.name, "sha256": hashlib.sha256(buf.getvalue()).hexdigest(), "rows": nb201.N_ARCHS,
            "columns": list(COLUMNS), "units": "ms per image (CIFAR-10, batch 1)", "source": SOURCE,
            "inputs_sha256": INPUTS, "command": command, "built": time.strftime("%Y-%m-%d")}
    TABLE.with_name("hwnasbench-nb201.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {TABLE} ({len(buf.getvalue()):,} bytes, {nb201.N_ARCHS:,} rows)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--help-repo", type=Path, required=True, help=f"a checkout of HayeonLee/HELP at {HELP_COMMIT[:8]}")
    args = p.parse_args(argv)
    build(args.help_repo, "python scripts/build_hwnasbench_table.py --help-repo HELP")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
