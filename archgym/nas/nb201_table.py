"""The shipped NAS-Bench-201 CIFAR-10 accuracy table (AnalogNAS-Bench retraining), read and verified.

`nb201-cifar10.csv.gz`: one row per official NB201 index (0..15,624): `index`, `arch` (NB201 arch
string), `baseline_acc` (float32), `ptq_acc` and `qat_acc` (both W8A8), CIFAR-10 test top-1 in
percent. `nb201-cifar10.json` is its provenance (source, licence, what each column means, the
command that built it with scripts/build_nb201_table.py) and the file's sha256. A file whose bytes
do not match, or whose rows are out of order, duplicated, truncated or out of range, raises an
error naming the file: the table never yields a wrong number.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from archgym.core.errors import ArchGymError, DesignError
from archgym.nas import nb201
from archgym.nas.spaces import DATA_DIR

TABLE = DATA_DIR / "nb201-cifar10.csv.gz"
COLUMNS = ("index", "arch", "baseline_acc", "ptq_acc", "qat_acc")
# accuracy source -> (column, (weight bits, activation bits) it was measured at; None: float32)
CHANCE = 10.0  # percent: cells whose output cannot see the input score exactly this
SOURCES = {"baseline": ("baseline_acc", None), "ptq": ("ptq_acc", (8, 8)), "qat": ("qat_acc", (8, 8))}


class TableError(ArchGymError):
    """The shipped table is missing, corrupted or truncated (the message names the file)."""


@dataclass(frozen=True, eq=False)
class NB201Table:
    """Accuracies in percent by official NB201 index, per source ("baseline", "ptq", "qat")."""
    path: Path
    meta: dict
    percent: dict[str, np.ndarray]

    def fraction_by_number(self, source: str) -> np.ndarray:
        """Accuracy as a fraction (0..1) by architecture number (NB201Space's row-major order)."""
        col = check_source(source)
        return _by_number(self, col)

    def bits(self, source: str):
        return SOURCES[check_source(source)][1]


def check_source(source: str) -> str:
    if source not in SOURCES:
        raise DesignError(f"NB201 accuracy source must be one of {', '.join(SOURCES)} (float32, W8A8 post-training "
                          f"quantised, W8A8 quantisation-aware trained), got {source!r}")
    return source


def source_for_bits(weight_bits: int, act_bits: int, accuracy: str) -> str:
    """The accuracy source measured at these bit widths; DesignError naming the field otherwise.
    Only 8-bit weights and activations were measured (both PTQ and QAT); `accuracy` picks one."""
    for name, bits in (("weight_bits", weight_bits), ("act_bits", act_bits)):
        if bits != 8:
            raise DesignError(f"{name}={bits!r}: NB201 accuracy was measured at 8-bit weights and activations only "
                              "(AnalogNAS-Bench PTQ and QAT are W8A8); allowed value: 8")
    if accuracy not in ("ptq", "qat"):
        raise DesignError(f"accuracy must be 'ptq' or 'qat' (both measured at W8A8), got {accuracy!r}")
    return accuracy


@lru_cache(maxsize=4)
def noise_std(source: str) -> dict:
    """Training noise of one table entry, in percentage points: the pooled within-class standard
    deviation of `source` over classes of functionally identical cells (nb201.canonical_ops; one
    training run each), skipping the chance-level class. Returns {"std", "classes", "dof"}."""
    x = read_nb201_table().percent[check_source(source)]
    groups: dict[tuple, list[int]] = {}
    for i, arch in enumerate(nb201.official_order()):
        groups.setdefault(nb201.canonical_ops(nb201.parse(arch)), []).append(i)
    ss, dof, classes = 0.0, 0, 0
    for rows in groups.values():
        v = x[rows]
        if len(v) > 1 and not np.all(v == CHANCE):
            ss += float(((v - v.mean()) ** 2).sum())
            dof += len(v) - 1
            classes += 1
    return {"std": float(np.sqrt(ss / dof)), "classes": classes, "dof": dof}


@lru_cache(maxsize=8)
def _by_number(table: NB201Table, source: str) -> np.ndarray:
    out = np.empty(nb201.N_ARCHS)
    out[nb201.number_of_index(np.arange(nb201.N_ARCHS))] = table.percent[source] / 100.0
    out.setflags(write=False)
    return out


@lru_cache(maxsize=4)
def read_nb201_table(path: str | Path = TABLE) -> NB201Table:
    """Read and verify the table (sha256 from its provenance file, then every row)."""
    path = Path(path)
    meta_path = path.with_name(path.name.removesuffix(".csv.gz") + ".json")
    if not path.is_file() or not meta_path.is_file():
        raise TableError(f"NB201 accuracy table {path} or its provenance {meta_path.name} is missing; "
                         "rebuild it with `python scripts/build_nb201_table.py`")
    try:
        meta = json.loads(meta_path.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise TableError(f"{meta_path}: not valid JSON ({e})") from None
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != meta.get("sha256"):
        raise TableError(f"{path}: sha256 {digest[:16]}... does not match {meta_path.name} "
                         f"({str(meta.get('sha256'))[:16]}...): the file is corrupted, truncated or edited; "
                         "restore it or rebuild it with `python scripts/build_nb201_table.py`")
    try:
        text = gzip.decompress(data).decode()
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise TableError(f"{path}: not a readable gzipped CSV ({e})") from None
    return NB201Table(path, meta, _parse(path, text))


def _parse(path: Path, text: str) -> dict[str, np.ndarray]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(rows[0]) != COLUMNS:
        raise TableError(f"{path}: header must be {','.join(COLUMNS)}")
    body = rows[1:]
    if len(body) != nb201.N_ARCHS:
        raise TableError(f"{path}: {len(body):,} rows, expected {nb201.N_ARCHS:,} (one per NB201 index)")
    order = nb201.official_order()
    out = {s: np.empty(nb201.N_ARCHS) for s in SOURCES}
    for i, row in enumerate(body):
        line = i + 2
        if len(row) != len(COLUMNS) or row[0] != str(i) or row[1] != order[i]:
            raise TableError(f"{path}:{line}: expected index {i} with arch {order[i]}, got {row[:2]}")
        for (s, (col, _)), text_value in zip(SOURCES.items(), row[2:]):
            try:
                v = float(text_value)
            except ValueError:
                v = math.nan
            if not 0.0 <= v <= 100.0:
                raise TableError(f"{path}:{line}: {col}={text_value!r} is not a percentage in [0, 100]")
            out[s][i] = v
    for v in out.values():
        v.setflags(write=False)
    return out
