"""HW-NAS-Bench's published NAS-Bench-201 latencies (CIFAR-10), shipped for comparison with our models.

`hwnasbench-nb201.csv.gz`: `index` (official NB201 index), `eyeriss_latency_ms`, `fpga_latency_ms`:
HW-NAS-Bench's (Li et al., ICLR 2021; MIT) estimates for an Eyeriss-like ASIC and an FPGA, as HELP
(Lee et al., NeurIPS 2021; MIT) redistributes them; built by scripts/build_hwnasbench_table.py
(provenance, licences and sha256 in hwnasbench-nb201.json). A file whose bytes do not match its
recorded sha256 is an error naming it.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from functools import lru_cache

import numpy as np

from archgym.core.errors import ArchGymError
from archgym.nas.nb201 import N_ARCHS
from archgym.nas.spaces import DATA_DIR

TABLE = DATA_DIR / "hwnasbench-nb201.csv.gz"
COLUMNS = ("index", "eyeriss_latency_ms", "fpga_latency_ms")


@lru_cache(maxsize=1)
def read_hwnasbench() -> dict[str, np.ndarray]:
    """{column: (15,625,) array by official NB201 index} of the shipped table, sha256-checked."""
    meta_path = TABLE.with_name("hwnasbench-nb201.json")
    try:
        raw, meta = TABLE.read_bytes(), json.loads(meta_path.read_text())
        if hashlib.sha256(raw).hexdigest() != meta["sha256"]:
            raise ValueError("sha256 differs from the one recorded in hwnasbench-nb201.json")
        rows = list(csv.reader(io.StringIO(gzip.decompress(raw).decode())))
    except (OSError, ValueError, KeyError, EOFError, gzip.BadGzipFile) as e:
        raise ArchGymError(f"HW-NAS-Bench table {TABLE}: unreadable or corrupted ({e}); rebuild it with "
                           "`python scripts/build_hwnasbench_table.py`") from None
    if tuple(rows[0]) != COLUMNS or len(rows) != N_ARCHS + 1:
        raise ArchGymError(f"HW-NAS-Bench table {TABLE}: expected columns {COLUMNS} and {N_ARCHS:,} rows")
    data = np.array(rows[1:], dtype=np.float64)
    if not np.array_equal(data[:, 0], np.arange(N_ARCHS)):
        raise ArchGymError(f"HW-NAS-Bench table {TABLE}: rows are not the NB201 indices 0..{N_ARCHS - 1} in order")
    return {c: data[:, j] for j, c in enumerate(COLUMNS[1:], start=1)}
