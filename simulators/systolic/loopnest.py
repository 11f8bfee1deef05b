"""Access counts of an explicit loop nest on a buffer hierarchy (a convolution; Timeloop's mapping form).

The systolic kernel fixes the loop nest (SCALE-Sim's, per dataflow). To price a mapping someone else
chose (a Timeloop mapper's, for the check against Timeloop/Accelergy's reference outputs), this
module counts, per storage level and dataspace, the same quantities from any perfectly factored
nest: reads by the level below, fills from the level above, and partial-sum updates. Counts are per
instance of the level; `energy_pj` prices them with per-action energies (an ERT).

Problem: dims N, M, C, P, Q, R, S (batch, filters, channels, output rows and columns, filter rows and
columns) and strides; an input row is P * Hstride + R, an input column Q * Wstride + S. A nest is a
list of storage levels, outermost first, each with the dataspaces it keeps, its temporal loops
(outermost first) and the spatial loops that fan out below it. Rules (ours, stated once):
- a level's tile of a dataspace spans the loops at that level and every level inside it (input
  rows and columns as sliding windows);
- walking the temporal loops above a level innermost first, loops irrelevant to the dataspace that
  come before any relevant one keep the tile in place; every other iteration refills it, except
  that a sliding-window loop directly above the level refills only the rows or columns it adds;
- a level serves its children's fills once per distinct word: spatial loops below it that are
  irrelevant to the dataspace multicast;
- outputs: a level's updates are its children's drains (spatial loops irrelevant to outputs
  reduce); a tile revisited by reduction loops above the level is refilled and read back for every
  visit but the first; a tile is drained to the parent once per visit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

RELEVANT = {"Weights": set("MCRS"), "Inputs": set("NCPQRS"), "Outputs": set("NMPQ")}
DATASPACES = tuple(RELEVANT)


@dataclass(frozen=True)
class Level:
    """A storage level: `keeps` dataspaces; `temporal` and `spatial` loops as (dim, bound), outermost first."""
    name: str
    keeps: tuple[str, ...]
    temporal: tuple[tuple[str, int], ...] = ()
    spatial: tuple[tuple[str, int], ...] = ()


@dataclass
class Counts:
    """Per-instance counts of one dataspace at one level."""
    instances: int
    reads: float = 0.0
    fills: float = 0.0
    updates: float = 0.0
    tile: float = 0.0
    drains: float = field(default=0.0, repr=False)  # outputs: words sent to the parent
    first: float = field(default=0.0, repr=False)  # outputs: updates that start a sum


def _extent(loops, dim) -> int:
    return math.prod(b for d, b in loops if d == dim)


def _tile(loops, ds: str, hstride: int, wstride: int) -> float:
    """Words of dataspace `ds` spanned by `loops` (sliding windows for inputs)."""
    e = {d: _extent(loops, d) for d in "NMCPQRS"}
    if ds == "Weights":
        return e["M"] * e["C"] * e["R"] * e["S"]
    if ds == "Outputs":
        return e["N"] * e["M"] * e["P"] * e["Q"]
    rows = (e["P"] - 1) * hstride + e["R"]
    cols = (e["Q"] - 1) * wstride + e["S"]
    return e["N"] * e["C"] * rows * cols


def count(levels: list[Level], problem: dict) -> dict[str, dict[str, Counts]]:
    """{level name: {dataspace: Counts}} for a nest whose loops cover the problem exactly."""
    hs, ws = int(problem.get("Hstride", 1)), int(problem.get("Wstride", 1))
    dims = {d: int(problem[d]) for d in "NMCPQRS"}
    for d, size in dims.items():
        got = math.prod(b for lv in levels for dd, b in (*lv.temporal, *lv.spatial) if dd == d)
        if got != size:
            raise ValueError(f"the nest covers {d} = {got}, the problem has {size}")
    macs = math.prod(dims.values())
    inner = []  # loops at a level and inside it, per level
    for i in range(len(levels)):
        inner.append([lp for lv in levels[i:] for lp in (*lv.temporal, *lv.spatial)])
    instances = [math.prod(b for lv in levels[:i] for _, b in lv.spatial) for i in range(len(levels))]
    out: dict[str, dict[str, Counts]] = {lv.name: {} for lv in levels}
    for ds in DATASPACES:
        rel = RELEVANT[ds]
        keepers = [i for i, lv in enumerate(levels) if ds in lv.keeps]
        for i in keepers:
            above = [lp for lv in reversed(levels[:i]) for lp in reversed(lv.temporal)]  # innermost first
            tile = _tile(inner[i], ds, hs, ws)
            k = 0
            while k < len(above) and above[k][0] not in rel:
                k += 1  # the tile stays while loops it does not depend on iterate
            visits = math.prod(b for _, b in above[k:])
            c = Counts(instances[i], tile=tile)
            if ds == "Outputs":
                revisits = math.prod(b for d, b in above[k:] if d not in rel)
                c.fills = tile * visits * (1 - 1 / revisits) if i else 0.0
                c.drains, c.first = tile * visits, tile * visits / revisits
            elif i:
                c.fills = tile * visits
                d0, b0 = above[0] if above else ("", 1)
                if k == 0 and above and d0 in "PQ":  # a sliding window directly above: only the new part
                    step, loops = (hs, "PR") if d0 == "P" else (ws, "QS")
                    span = (_extent(inner[i], loops[0]) - 1) * step + _extent(inner[i], loops[1])
                    new = min(span, _extent(inner[i], loops[0]) * step)
                    c.fills = tile * visits / b0 * (1 + (b0 - 1) * new / span)
            out[levels[i].name][ds] = c
        # what each keeper serves to (or receives from) the next keeper inside it, or the MACs
        for j, i in enumerate(keepers):
            child = keepers[j + 1] if j + 1 < len(keepers) else None
            lo = child if child is not None else len(levels)
            fan = [lp for lv in levels[i:lo] for lp in lv.spatial]
            shared = math.prod(b for d, b in fan if d not in rel)  # multicast (inputs, weights) or reduction (outputs)
            c = out[levels[i].name][ds]
            if child is None:
                below_fills, below_inst = macs / (instances[i] * math.prod(b for _, b in fan)), \
                    instances[i] * math.prod(b for _, b in fan)
            else:
                below_fills = out[levels[child].name][ds].drains if ds == "Outputs" else out[levels[child].name][ds].fills
                below_inst = instances[child]
            arriving = below_fills * below_inst / instances[i] / shared
            if ds == "Outputs":  # read back for every update but each visit's first
                c.updates, c.reads = arriving, arriving - c.first
            else:
                c.reads = arriving
    return out


def energy_pj(counts: dict[str, dict[str, Counts]], ert: dict, blocks: dict, cycles: float, macs: float,
              mac_level: str = "mac") -> dict[str, float]:
    """Per-level energy: (reads x read + fills x write + updates x update) / block size per instance,
    times the utilized instances, plus leakage per cycle per utilized instance; the MACs at compute."""
    out = {mac_level: macs * ert[mac_level]["compute"]}
    for name, per_ds in counts.items():
        acts = ert[name]
        e = 0.0
        inst = max((c.instances for c in per_ds.values()), default=0)
        for c in per_ds.values():
            e += (c.reads * acts.get("read", 0.0) + c.fills * acts.get("write", 0.0)
                  + c.updates * acts.get("update", 0.0)) / blocks[name] * c.instances
        out[name] = e + acts.get("leak", 0.0) * cycles * inst
    return out
