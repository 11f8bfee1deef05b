"""DRAM memory-controller simulator: DRAMSys's controller knobs over DDR3/DDR4/LPDDR4 timing.

`simulate(design, trace)` runs one design on a trace (a built-in name, a trace file path, or an
int64 (n, 3) array of address, is_write, arrival cycle) and returns a SimResult whose metrics
carry units in their names. The work is done by the numba kernel in kernel.py; reference.py is
the same controller as a readable simpy model. Knob semantics are in docs/dram.md.

Addresses beyond the configured capacity (channels x ranks x the standard's rank size) are an
error, never wrapped. Trace files stream through the kernel in chunks, so memory stays flat in
trace length; per-request detail (`requests=True`) keeps one row per request.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numba
import numpy as np

from archgym.core import validate
from archgym.core.errors import WorkloadError
from archgym.core.space import Categorical, DesignSpace, Integer, PowerOfTwo
from archgym.core.workloads import traces as tr
from simulators.base import SimResult
from simulators.dram import batch, kernel as K, layout as L
from simulators.dram.standards import REQUEST_BYTES, STANDARDS, Standard

# address mappings, most significant field first (DRAMSim3 notation: ro ch ra ba bg co)
MAPPINGS = {
    "rochrababgco": ("ro", "ch", "ra", "ba", "bg", "co"),     # DRAMSim3's default
    "rorababgcoch": ("ro", "ra", "ba", "bg", "co", "ch"),     # channels interleaved every 64 B
    "row_bank_column": ("ro", "ch", "ra", "bg", "ba", "co"),  # row | bank | column
    "bank_row_column": ("ch", "ra", "bg", "ba", "ro", "co"),  # bank | row | column
}

PARAMETERS = DesignSpace([
    Categorical("page_policy", ["open", "open_adaptive", "closed", "closed_adaptive"], "open"),
    Categorical("scheduler", ["fifo", "fr_fcfs", "fr_fcfs_grp"], "fr_fcfs"),
    Categorical("scheduler_buffer", ["bankwise", "read_write", "shared"], "bankwise"),
    Integer("request_buffer_size", 1, 128, default=8, unit="requests"),
    Categorical("resp_queue", ["fifo", "reorder"], "fifo"),
    Categorical("refresh_policy", ["no_refresh", "all_bank", "per_bank"], "all_bank"),
    Integer("refresh_max_postponed", 0, 8, default=0, unit="REF commands"),
    Integer("refresh_max_pulledin", 0, 8, default=0, unit="REF commands"),
    Categorical("power_down_policy", ["no_power_down", "staggered"], "no_power_down"),
    Categorical("arbiter", ["simple", "fifo", "reorder"], "simple"),
    Integer("max_active_transactions", 1, L.MAX_SLOTS, default=128, unit="transactions"),
    Categorical("standard", list(STANDARDS), "ddr4_2400"),
    PowerOfTwo("channels", 1, 8, default=1),
    PowerOfTwo("ranks", 1, 4, default=1),
    Categorical("address_mapping", list(MAPPINGS), "rochrababgco"),
]).with_group("hardware")
KNOBS = PARAMETERS.names[:11]  # the controller knobs; the rest describe the memory system
SYSTEM = PARAMETERS.names[11:]

_CODES = {  # knob value -> kernel code (the order of each Categorical's choices)
    name: {v: i for i, v in enumerate(PARAMETERS[name].values)}
    for name in ("page_policy", "scheduler", "scheduler_buffer", "resp_queue", "refresh_policy",
                 "power_down_policy", "arbiter")
}
METRICS = ("latency_s", "cycles", "avg_read_latency_ns", "p50_read_latency_ns", "p99_read_latency_ns",
           "avg_latency_ns", "bandwidth_gbps", "row_hit_rate", "n_requests", "n_act", "n_pre", "n_auto_pre",
           "n_rd", "n_wr", "n_ref", "n_pd", "energy_act_j", "energy_rd_j", "energy_wr_j", "energy_ref_j",
           "energy_bg_j", "energy_j", "power_w")


# --- design -> kernel parameters ------------------------------------------------------------------
def standard_of(design: Mapping) -> Standard:
    return STANDARDS[design["standard"]]


def capacity_bytes(design: Mapping) -> int:
    """Bytes addressable by `design` (channels x ranks x rank size)."""
    d = PARAMETERS.complete(design)
    return d["channels"] * d["ranks"] * standard_of(d).rank_bytes


def _fields(d: Mapping, std: Standard) -> dict[str, tuple[int, int]]:
    """Address field -> (shift, mask) for the design's mapping; 64 B offset bits at the bottom."""
    widths = {"ch": d["channels"], "ra": d["ranks"], "bg": std.bankgroups, "ba": std.banks_per_group,
              "ro": std.rows, "co": 1 << std.column_bits}
    out, shift = {}, (REQUEST_BYTES - 1).bit_length()
    for name in reversed(MAPPINGS[d["address_mapping"]]):
        out[name] = (shift, widths[name] - 1)
        shift += (widths[name] - 1).bit_length()
    return out


def params(design: Mapping) -> np.ndarray:
    """A complete, validated design -> the kernel's int64 parameter vector."""
    d = PARAMETERS.complete(design)
    s = standard_of(d)
    f = _fields(d, s)
    P = np.zeros(L.N_PARAMS, np.int64)
    P[:L.P_NCH] = (s.cl, s.cwl, s.trcd, s.trp, s.trp_ab, s.tras, s.trc, s.twr, s.trtp, s.trrd_s, s.trrd_l,
                   s.tfaw, s.tccd_s, s.tccd_l, s.twtr_s, s.twtr_l, s.trfc, s.trefi, s.trfc_pb, s.trefi_pb,
                   s.txp, s.tcke, s.trtrs, s.burst_cycles)
    P[L.P_NCH:L.P_SH_CH] = d["channels"], d["ranks"], s.bankgroups, s.banks_per_group
    P[L.P_SH_CH:L.P_PAGE] = [v for name in ("ch", "ra", "bg", "ba", "ro") for v in f[name]]
    P[L.P_PAGE:] = (_CODES["page_policy"][d["page_policy"]], _CODES["scheduler"][d["scheduler"]],
                    _CODES["scheduler_buffer"][d["scheduler_buffer"]], d["request_buffer_size"],
                    _CODES["resp_queue"][d["resp_queue"]], _CODES["refresh_policy"][d["refresh_policy"]],
                    d["refresh_max_postponed"], d["refresh_max_pulledin"],
                    _CODES["power_down_policy"][d["power_down_policy"]], _CODES["arbiter"][d["arbiter"]],
                    d["max_active_transactions"])
    return P


# --- traces ----------------------------------------------------------------------------------------
@dataclass
class Trace:
    """A trace held in memory for batch evaluation: (n, 3) int64 rows of address, is_write and
    arrival cycle, the clock of those cycles in MHz (None: the DRAM clock), and its arrivals
    converted to each standard's controller clock, computed once per standard."""
    requests: np.ndarray
    clock_mhz: float | None
    name: str = "trace"
    _converted: dict = field(default_factory=dict, repr=False)

    @property
    def max_address(self) -> int:
        return int(self.requests[:, 0].max()) if len(self.requests) else 0

    def in_controller_cycles(self, std: Standard) -> np.ndarray:
        if std.name not in self._converted:
            self._converted[std.name] = to_controller_cycles(self.requests, self.clock_mhz, std)
        return self._converted[std.name]


def prepare(trace="stream", trace_clock_mhz: float | None = None) -> Trace:
    """A trace (built-in name, file path, (n, 3) array or Trace) read into memory for `evaluate`."""
    if isinstance(trace, Trace):
        return trace
    chunks, mhz = _source(trace, trace_clock_mhz)
    name = str(trace) if isinstance(trace, str) or hasattr(trace, "__fspath__") else "array"
    return Trace(np.concatenate(list(chunks)), mhz, name)


def parameters(prepared: Trace | None = None) -> DesignSpace:
    """Every design parameter (the same for every trace)."""
    return PARAMETERS


def _source(trace, trace_clock_mhz: float | None) -> tuple[Iterator[np.ndarray], float | None]:
    """(chunk iterator, trace clock in MHz or None for the DRAM clock)."""
    if isinstance(trace, Trace):
        return iter([trace.requests]), trace_clock_mhz if trace_clock_mhz is not None else trace.clock_mhz
    if isinstance(trace, str) or hasattr(trace, "__fspath__"):
        f = tr.open_trace(trace)
        return f.chunks(), trace_clock_mhz if trace_clock_mhz is not None else f.clock_mhz
    return iter([tr.check(trace)]), trace_clock_mhz


def to_controller_cycles(chunk: np.ndarray, trace_mhz: float | None, std: Standard) -> np.ndarray:
    """A copy of `chunk` with arrivals rounded up to the controller clock of `std`."""
    out = chunk.copy()
    if trace_mhz is not None and trace_mhz != std.clock_mhz:
        trace_mhz = validate.number(trace_mhz, "trace clock (MHz)", positive=True, error=WorkloadError)
        ratio = Fraction(str(std.clock_mhz)) / Fraction(str(trace_mhz))
        last = -((-int(chunk[:, 2].max(initial=0)) * ratio.numerator) // ratio.denominator)
        if last > validate.MAX_TRACE_CYCLES:
            raise validate.LimitError(f"the trace at {trace_mhz:g} MHz lasts {last:,} {std.name} cycles, beyond the limit of "
                                      f"{validate.MAX_TRACE_CYCLES:,} (archgym.core.validate.MAX_TRACE_CYCLES)")
        out[:, 2] = -((-chunk[:, 2] * ratio.numerator) // ratio.denominator)
    return out


def _check_capacity(chunk: np.ndarray, base: int, cap: int, d: Mapping) -> None:
    bad = np.flatnonzero(chunk[:, 0] >= cap)
    if len(bad):
        i = int(bad[0])
        raise WorkloadError(
            f"trace request {base + i}: address {int(chunk[i, 0]):#x} is beyond the capacity of {cap:#x} bytes "
            f"({d['channels']} channel(s) x {d['ranks']} rank(s) of {d['standard']}); addresses do not wrap")


# --- simulate --------------------------------------------------------------------------------------
def simulate(design: Mapping | None = None, trace="stream", *, requests: bool = False,
             trace_clock_mhz: float | None = None) -> SimResult:
    """Run one design on a trace. `trace`: built-in name, file path or (n, 3) int array.
    `trace_clock_mhz`: clock of the trace's arrival cycles (default: 800 MHz for .stl files, the
    DRAM clock otherwise). `requests=True` adds per-request cycles to the result."""
    d = PARAMETERS.complete(dict(design or {}))
    std = standard_of(d)
    P = params(d)
    cap = capacity_bytes(d)
    chunks, mhz = _source(trace, trace_clock_mhz)
    if requests:
        chunks = iter([np.concatenate(list(chunks))])
    state = L.init_state(P)
    cur = next(chunks)
    base, prev_arrival, resp = 0, 0, None
    while True:
        _check_capacity(cur, base, cap, d)
        if cur[0, 2] < prev_arrival:
            raise WorkloadError(f"trace arrival cycles must be non-decreasing: request {base} arrives at "
                                f"cycle {cur[0, 2]}, after cycle {prev_arrival}")
        conv = to_controller_cycles(cur, mhz, std)
        if requests:
            resp = np.zeros((len(cur), 2), np.int64)
        nxt = next(chunks, None)
        last = nxt is None
        n_total = base + len(cur) if last else np.iinfo(np.int64).max
        K.run(P, conv, base, last, n_total, *state, resp if requests else np.zeros((0, 2), np.int64))
        if last:
            break
        base, prev_arrival, cur = base + len(cur), int(cur[-1, 2]), nxt
    S, bank, rank, hist = state[0], state[4], state[7], state[9]
    metrics = _metrics(std, S, hist, batch.finish(P, S, bank, rank))
    detail = None
    if requests:
        detail = {"address": cur[:, 0], "is_write": cur[:, 1], "arrival_cycle": conv[:, 2],
                  "admit_cycle": resp[:, 0], "response_cycle": resp[:, 1],
                  "latency_ns": (resp[:, 1] - resp[:, 0]) * std.tck_ns}
    return SimResult(metrics, requests=detail)


def simulate_batch(designs: Sequence[Mapping], trace, trace_clock_mhz: float | None = None) -> dict[str, np.ndarray]:
    """Many design dicts on one in-memory trace (array, name, path or Trace) in one parallel
    kernel call: metric -> array (n,)."""
    vectors = np.stack([PARAMETERS.kernel_vector(PARAMETERS.complete(d)) for d in designs]) if len(designs) \
        else np.zeros((0, len(PARAMETERS)))
    out = evaluate(vectors, prepare(trace, trace_clock_mhz))
    return {m: out[m] for m in METRICS}


def evaluate(designs: np.ndarray, trace: Trace) -> dict[str, np.ndarray]:
    """(n, len(PARAMETERS)) kernel design vectors (Parameter.code of each value) on a prepared
    trace -> {metric: (n,) array}, plus `feasible` and `violation` (every design is feasible). One
    parallel kernel call; the memory-system columns are decoded once per distinct system."""
    designs = np.asarray(designs, dtype=np.float64).reshape(-1, len(PARAMETERS))
    n = len(designs)
    Ps = np.empty((n, L.N_PARAMS), np.int64)
    stds: list[Standard] = [None] * n  # type: ignore[list-item]
    names: list[str] = []
    which = np.empty(n, np.int64)
    systems, inverse = np.unique(designs[:, len(KNOBS):], axis=0, return_inverse=True)
    for k, codes in enumerate(systems):  # a handful of memory systems per batch, usually one
        d = PARAMETERS.complete({name: PARAMETERS[name].value(int(c)) if name in ("standard", "address_mapping")
                                 else int(c) for name, c in zip(SYSTEM, codes)})
        std = standard_of(d)
        if trace.max_address >= capacity_bytes(d):
            _check_capacity(trace.requests, 0, capacity_bytes(d), d)
        rows = np.flatnonzero(inverse.reshape(-1) == k)
        Ps[rows] = params(d)
        if std.name not in names:
            names.append(std.name)
        which[rows] = names.index(std.name)
        for r in rows.tolist():
            stds[r] = std
    Ps[:, L.P_PAGE:L.P_PAGE + len(KNOBS)] = designs[:, :len(KNOBS)].astype(np.int64)
    if n == 0:
        out = {m: np.zeros(0) for m in METRICS}
    else:
        traces = np.stack([trace.in_controller_cycles(STANDARDS[s]) for s in names])
        out = run_params(Ps, traces, which, stds)
    out["feasible"] = np.ones(n, dtype=bool)
    out["violation"] = np.zeros(n)
    return out


def run_params(Ps: np.ndarray, traces: np.ndarray, which: np.ndarray, stds: Sequence[Standard]) -> dict[str, np.ndarray]:
    """The batch kernel on ready-made parameter rows (see `params`); traces[which[i]] holds design
    i's trace with arrivals in its controller clock. Metric -> array (n,)."""
    kernel = batch.simulate_batch if len(Ps) >= 2 * numba.get_num_threads() else batch.simulate_serial
    S_all, H_all, B_all = kernel(Ps, traces, which)
    rows = [_metrics(std, S_all[i], H_all[i], B_all[i, :Ps[i, L.P_NCH] * Ps[i, L.P_NRANK]])
            for i, std in enumerate(stds)]
    return {m: np.array([r[m] for r in rows], dtype=np.float64) for m in METRICS}


# --- metrics ----------------------------------------------------------------------------------------
def _percentile(hist: np.ndarray, q: float) -> int:
    """The q-th percentile (inverted-CDF definition) of a 1-cycle latency histogram, in cycles."""
    n = int(hist.sum())
    if n == 0:
        return 0
    k = max(int(np.ceil(q / 100.0 * n)), 1)
    return int(np.searchsorted(np.cumsum(hist), k))


def energy_per_command_pj(std: Standard) -> dict[str, float]:
    """Energy per ACT(+PRE), RD, WR and REF for one rank, in pJ (mA x V x ns), Micron TN-41-01 /
    DRAMPower formulas as in dram.md, times the devices per rank."""
    v, t, n = std.vdd, std.tck_ns, std.devices
    return {
        "act": v * (std.idd0 * std.trc - (std.idd3n * std.tras + std.idd2n * (std.trc - std.tras))) * t * n,
        "rd": v * (std.idd4r - std.idd3n) * std.burst_cycles * t * n,
        "wr": v * (std.idd4w - std.idd3n) * std.burst_cycles * t * n,
        "ref": v * (std.idd5 - std.idd3n) * std.trfc * t * n,
    }


def _metrics(std: Standard, S: np.ndarray, hist: np.ndarray, bg: np.ndarray) -> dict[str, float]:
    tck = std.tck_ns
    cycles = int(S[L.S_END])
    seconds = cycles * tck * 1e-9
    n = int(S[L.S_N_RD] + S[L.S_N_WR])
    e = energy_per_command_pj(std)
    pj = 1e-12
    # per-bank refresh refreshes 1/banks of the rows: 1/banks of an all-bank REF's energy
    e_ref = (S[L.S_N_REF] * e["ref"] + S[L.S_N_REFPB] * e["ref"] / std.banks) * pj
    # background: IDD3N active standby, IDD2N precharged standby, IDD2P/IDD3P power-down
    amps = np.array([std.idd3n, std.idd2n, std.idd2p, std.idd3p])
    e_bg = float((bg.sum(axis=0) * amps).sum()) * std.vdd * tck * std.devices * pj
    m = {
        "latency_s": seconds,
        "cycles": float(cycles),
        "avg_read_latency_ns": float(S[L.S_RLAT_SUM] / S[L.S_N_RLAT] * tck) if S[L.S_N_RLAT] else 0.0,
        "p50_read_latency_ns": _percentile(hist, 50) * tck,
        "p99_read_latency_ns": _percentile(hist, 99) * tck,
        "avg_latency_ns": float(S[L.S_LAT_SUM] / n * tck),
        "bandwidth_gbps": n * REQUEST_BYTES / seconds / 1e9 if seconds > 0 else 0.0,
        "row_hit_rate": S[L.S_N_HITS] / n,
        "n_requests": float(n),
        "n_act": float(S[L.S_N_ACT]),
        "n_pre": float(S[L.S_N_PRE]),
        "n_auto_pre": float(S[L.S_N_AUTOPRE]),
        "n_rd": float(S[L.S_N_RD]),
        "n_wr": float(S[L.S_N_WR]),
        "n_ref": float(S[L.S_N_REF] + S[L.S_N_REFPB]),
        "n_pd": float(S[L.S_N_PD]),
        "energy_act_j": S[L.S_N_ACT] * e["act"] * pj,
        "energy_rd_j": S[L.S_N_RD] * e["rd"] * pj,
        "energy_wr_j": S[L.S_N_WR] * e["wr"] * pj,
        "energy_ref_j": float(e_ref),
        "energy_bg_j": e_bg,
    }
    m["energy_j"] = m["energy_act_j"] + m["energy_rd_j"] + m["energy_wr_j"] + m["energy_ref_j"] + e_bg
    m["power_w"] = m["energy_j"] / seconds if seconds > 0 else 0.0
    return {k: float(v) for k, v in m.items()}


__all__ = ["PARAMETERS", "KNOBS", "SYSTEM", "METRICS", "MAPPINGS", "Trace", "prepare", "parameters", "evaluate",
           "simulate", "simulate_batch", "run_params", "params", "capacity_bytes", "to_controller_cycles"]
