"""The result type every simulator front returns."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SimResult:
    """Totals with units in their names (`latency_s`, `energy_j`, ...) plus optional detail.

    `layers` holds one dict per workload layer (systolic, fpga); `requests` holds per-request
    arrays (dram) and is filled only when the caller asks for it.
    """
    metrics: dict[str, float]
    layers: list[dict] = field(default_factory=list)
    requests: dict[str, np.ndarray] | None = None

    def to_json(self) -> dict:
        """A JSON-ready dict: {"metrics": {...}} plus "layers": [...] or "requests": {...} when present."""
        out: dict = {"metrics": {k: _plain(v) for k, v in self.metrics.items()}}
        if self.layers:
            out["layers"] = [{k: _plain(v) for k, v in row.items()} for row in self.layers]
        if self.requests is not None:
            out["requests"] = {k: np.asarray(v).tolist() for k, v in self.requests.items()}
        return out


def _plain(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v
