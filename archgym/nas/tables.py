"""Files of the tabular benchmark: the results CSV, its JSON provenance, and the layer tables.

`NAME.csv`: one row per architecture: `hash`, one column per space parameter, then results
(`accuracy`, `accuracy_w{w}a{a}` post-training-quantised, `train_loss`, `train_time_s`, `params`,
`macs`, `naswot`, `synflow`).
`NAME.json`: provenance (space, dataset, budget, seed, command, wall time, versions).
`NAME.layers.npz`: every architecture's layer table, as unique rows plus per-architecture row
indices, so envs never run torch for a tabular architecture.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from archgym.core.errors import ArchGymError
from archgym.core.workloads import KINDS, Workload
from archgym.core.workloads.table import KIND


@dataclass
class Table:
    path: Path
    meta: dict
    hashes: list[str]
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.hashes)

    def frame(self):
        """The table as a pandas DataFrame (hash + every column)."""
        import pandas as pd
        return pd.DataFrame({"hash": self.hashes, **self.columns})

    def dense(self, space, column: str) -> np.ndarray:
        """`column` laid out over the row-major enumeration of `space` (NaN where missing).
        Checks that each row's hash is the hash of its architecture in `space`."""
        out = np.full(space.space.size, np.nan)
        names = space.space.names
        for i, key in enumerate(self.hashes):
            arch = {n: _num(self.columns[n][i]) for n in names}
            if space.hash(arch) != key:
                raise ArchGymError(f"{self.path.name}: row {i + 2}: hash {key} does not match its architecture in "
                                   f"space {space.name!r}; the table was built for a different network family")
            out[np.ravel_multi_index(space.space.to_indices(arch), space.space.nvec)] = self.columns[column][i]
        return out


def _num(v: float):
    return int(v) if float(v).is_integer() else float(v)


@lru_cache(maxsize=8)
def read_table(path: str | Path) -> Table:
    """Read NAME.csv and its NAME.json provenance (cached per path)."""
    path = Path(path)
    if not path.is_file():
        raise ArchGymError(f"tabular benchmark {path} does not exist; build it with scripts/build_nas_table.py")
    meta_path = path.with_suffix(".json")
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    with path.open(newline="") as f:
        rows = list(csv.reader(line for line in f if not line.startswith("#")))
    if not rows or rows[0][0] != "hash":
        raise ArchGymError(f"{path}: expected a CSV whose first column is 'hash'")
    header, body = rows[0], rows[1:]
    if not meta.get("space"):
        raise ArchGymError(f"{meta_path}: missing the 'space' the table was built over")
    cols = {name: np.array([float(r[j]) if r[j] != "" else np.nan for r in body]) for j, name in enumerate(header) if j}
    return Table(path, meta, [r[0] for r in body], cols)


def write_layers(path: str | Path, tables: dict[str, Workload]) -> None:
    """Store {hash: Workload} compactly: unique rows, then each architecture's row indices."""
    keys = sorted(tables)
    rows = np.concatenate([tables[k].table for k in keys])
    uniq, inverse = np.unique(rows, axis=0, return_inverse=True)
    offsets = np.cumsum([0] + [len(tables[k]) for k in keys])
    np.savez_compressed(path, hashes=np.array(keys, dtype="S16"), rows=uniq.astype(np.int32),
                        index=inverse.reshape(-1).astype(np.int32), offsets=offsets.astype(np.int64))


def read_layers(path: str | Path, prefix: str = "") -> dict[str, Workload]:
    """{hash: Workload} from a file written by `write_layers`."""
    with np.load(path) as z:
        rows, index, offsets = z["rows"].astype(np.int64), z["index"], z["offsets"]
        keys = [h.decode() for h in z["hashes"]]
    out = {}
    for i, k in enumerate(keys):
        t = rows[index[offsets[i]:offsets[i + 1]]]
        out[k] = Workload(f"{prefix}{k}", t, tuple(f"{KINDS[kind]}{j}" for j, kind in enumerate(t[:, KIND])))
    return out
