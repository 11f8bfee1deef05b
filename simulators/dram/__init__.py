"""DRAM memory-controller simulator: DRAMSys 4.0's controller knobs over DDR3/DDR4/LPDDR4 timing.

`simulate(design, trace)` runs one design on a trace (a built-in name, a trace file path, or an
int64 (n, 3) array of address, is_write, arrival cycle) and returns a SimResult whose metrics
carry units in their names; `simulate(..., config=PATH)` takes the memory system and controller
settings from a DRAMSys simulation file (dramsys.py). The work is done by the numba kernel in
kernel.py; reference.py is the same controller as a readable simpy model. Knob semantics are in
docs/dram.md.

Addresses beyond the memory (2^mapped address bits) are an error, never wrapped. Trace files
stream through the kernel in chunks, so memory stays flat in trace length; per-request detail
(`requests=True`) keeps one row per request.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numba
import numpy as np

from archgym.core import validate
from archgym.core.errors import DesignError, WorkloadError
from archgym.core.space import Categorical, DesignSpace, Integer, PowerOfTwo
from archgym.core.workloads import traces as tr
from simulators.base import SimResult
from simulators.dram import (
    _cache,  # noqa: F401  (before any kernel module: cache keys cover the package)
    batch,
    dramsys,
    power,
    textio,
)
from simulators.dram import kernel as K
from simulators.dram import layout as L
from simulators.dram import mapping as M
from simulators.dram.dramsys import DRAMSysConfig, MemorySystem
from simulators.dram.standards import REQUEST_BYTES, STANDARDS, Standard

MAPPINGS = M.NAMED

PARAMETERS = DesignSpace([
    Categorical("page_policy", ["open", "open_adaptive", "closed", "closed_adaptive"], "open"),
    Categorical("scheduler", ["fifo", "fr_fcfs", "fr_fcfs_grp"], "fr_fcfs"),
    Categorical("scheduler_buffer", ["bankwise", "read_write", "shared"], "bankwise"),
    Integer("request_buffer_size", 1, L.MAX_ACTIVE, default=8, unit="requests"),
    Categorical("resp_queue", ["fifo", "reorder"], "fifo"),
    Categorical("refresh_policy", ["no_refresh", "all_bank", "per_bank"], "all_bank"),
    Integer("refresh_max_postponed", 0, 8, default=0, unit="REF commands"),
    Integer("refresh_max_pulledin", 0, 8, default=0, unit="REF commands"),
    Categorical("power_down_policy", ["no_power_down", "staggered"], "no_power_down"),
    Categorical("arbiter", ["simple", "fifo", "reorder", "dramsim3"], "simple"),
    Integer("max_active_transactions", 1, L.MAX_ACTIVE, default=128, unit="transactions"),
    Categorical("standard", list(STANDARDS), "ddr4_2400"),
    PowerOfTwo("channels", 1, L.MAX_CHANNELS, default=1),
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


# --- memory systems -----------------------------------------------------------------------------
@lru_cache(maxsize=64)
def named_system(standard: str, channels: int, ranks: int, address_mapping: str) -> MemorySystem:
    std = STANDARDS[standard]
    return MemorySystem(std, channels, ranks, M.named(address_mapping, std, channels, ranks))


def memory_system(design: Mapping | None, config=None) -> tuple[dict, MemorySystem]:
    """(complete design, memory system). With `config` (a DRAMSys simulation file or a loaded
    DRAMSysConfig) the memory system and the controller defaults come from it, and the design may
    only change controller knobs."""
    design = dict(design or {})
    if config is None:
        d = PARAMETERS.complete(design)
        return d, named_system(d["standard"], d["channels"], d["ranks"], d["address_mapping"])
    cfg = config if isinstance(config, DRAMSysConfig) else dramsys.load(config)
    fixed = [k for k in design if k in SYSTEM]
    if fixed:
        raise DesignError(f"parameter {fixed[0]!r} is set by the DRAMSys config {cfg.path}; "
                          f"a design can only change {', '.join(KNOBS)}")
    return PARAMETERS.complete({**cfg.knobs, **design}), cfg.system


def player_ratio(trace_mhz: float | None, std: Standard) -> tuple[int, int]:
    """Controller cycles per trace-player cycle as a fraction (num, den); (1, 1) for traces in DRAM cycles."""
    if trace_mhz is None or trace_mhz == std.clock_mhz:
        return 1, 1
    trace_mhz = validate.number(trace_mhz, "trace clock (MHz)", positive=True, error=WorkloadError)
    r = Fraction(str(std.clock_mhz)) / Fraction(str(trace_mhz))
    return r.numerator, r.denominator


def capacity_bytes(design: Mapping) -> int:
    """Bytes addressable by a design's named memory system."""
    return memory_system(design)[1].capacity_bytes


def decode(chunk: np.ndarray, system: MemorySystem, ratio: tuple[int, int], base: int = 0) -> np.ndarray:
    """(k, 3) trace rows -> the kernel's (k, 5) rows: address, is_write, arrival rounded up to the
    controller clock, global bank (channel, rank, bank group, bank as DRAMSys numbers them), row."""
    a = chunk[:, 0] - system.address_offset
    bad = np.flatnonzero((a < 0) | (a >= system.capacity_bytes))
    if len(bad):
        i = int(bad[0])
        raise WorkloadError(
            f"trace request {base + i}: address {int(chunk[i, 0]):#x} is beyond the capacity of "
            f"{system.capacity_bytes:#x} bytes ({system.channels} channel(s) x {system.ranks} rank(s) of "
            f"{system.standard.name}, from address offset {system.address_offset:#x}); addresses do not wrap")
    f = system.mapping.decode(a)
    s = system.standard
    out = np.empty((len(chunk), 5), np.int64)
    out[:, 0] = chunk[:, 0]
    out[:, 1] = chunk[:, 1]
    num, den = ratio
    last = -((-int(chunk[:, 2].max(initial=0)) * num) // den)
    if last > validate.MAX_TRACE_CYCLES:
        raise validate.LimitError(f"the trace lasts {last:,} {s.name} cycles, beyond the limit of "
                                  f"{validate.MAX_TRACE_CYCLES:,} (archgym.core.validate.MAX_TRACE_CYCLES)")
    out[:, 2] = -((-chunk[:, 2] * num) // den)
    out[:, 3] = ((f["channel"] * system.ranks + f["rank"]) * s.bankgroups + f["bankgroup"]) * s.banks_per_group + f["bank"]
    out[:, 4] = f["row"]
    return out


def params(d: Mapping, system: MemorySystem, ratio: tuple[int, int] = (1, 1)) -> np.ndarray:
    """A complete, validated design on a memory system -> the kernel's int64 parameter vector."""
    s = system.standard
    if system.channels > L.MAX_CHANNELS:
        raise DesignError(f"channels: {system.channels}; allowed: 1 to {L.MAX_CHANNELS}")
    if system.ranks * s.banks > L.MAX_BANKS_PER_CHANNEL:
        raise DesignError(f"ranks: {system.ranks} ranks x {s.banks} banks of {s.name} make {system.ranks * s.banks} "
                          f"banks per channel; allowed: ranks x banks <= {L.MAX_BANKS_PER_CHANNEL}")
    P = np.zeros(L.N_PARAMS, np.int64)
    P[:L.P_NCH] = (s.cl, s.cwl, s.trcd, s.trp, s.trp_ab, s.tras, s.trc, s.twr, s.trtp, s.trrd_s, s.trrd_l,
                   s.tfaw, s.tccd_s, s.tccd_l, s.twtr_s, s.twtr_l, s.trfc, s.trefi, s.trfc_pb, s.trefi_pb,
                   s.txp, s.tcke, s.trtrs, s.burst_cycles)
    P[L.P_NCH:L.P_PAGE] = system.channels, system.ranks, s.bankgroups, s.banks_per_group, *ratio
    P[L.P_PAGE:] = [d[k] if k not in _CODES else _CODES[k][d[k]] for k in KNOBS]
    return P


# --- traces --------------------------------------------------------------------------------------
IN_MEMORY_REQUESTS = 1 << 21   # a prepared trace file longer than this streams in chunks (memory flat in length)


@dataclass
class Trace:
    """A trace prepared for batch evaluation: (n, 3) int64 rows of address, is_write and arrival
    cycle held in memory, or None for a file of more than IN_MEMORY_REQUESTS requests, which is
    read again in chunks at every evaluation; the clock of those cycles in MHz
    (None: the DRAM clock), an optional DRAMSys config that fixes the memory system, and the
    decoded kernel rows per memory system (in-memory traces only)."""
    requests: np.ndarray | None
    clock_mhz: float | None
    name: str = "trace"
    config: DRAMSysConfig | None = None
    path: Path | None = None
    n_requests: int = 0
    chunk_requests: int | None = None    # None: the fast reader's blocks (textio); else the reference reader's
    _decoded: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.requests is not None:
            self.n_requests = len(self.requests)

    def chunks(self) -> Iterator[np.ndarray]:
        """The raw (k, 3) rows in file order."""
        if self.requests is not None:
            return iter([self.requests])
        f = tr.open_trace(self.path)
        return textio.chunks(f) if self.chunk_requests is None else f.chunks(self.chunk_requests)

    def decoded(self, system: MemorySystem) -> np.ndarray:
        ratio = player_ratio(self.clock_mhz, system.standard)
        key = (id(system), ratio)
        if key not in self._decoded:
            self._decoded[key] = (system, decode(self.requests, system, ratio))
        return self._decoded[key][1]


def _config(config) -> DRAMSysConfig | None:
    return config if config is None or isinstance(config, DRAMSysConfig) else dramsys.load(config)


def _trace_and_clock(trace, trace_clock_mhz, cfg: DRAMSysConfig | None):
    if trace is None:
        if cfg is None:
            return "stream", trace_clock_mhz
        name, mhz = cfg.traces[0]   # the simulation's first trace player and its clock
        return name, mhz if trace_clock_mhz is None else trace_clock_mhz
    return trace, trace_clock_mhz


def prepare(trace=None, trace_clock_mhz: float | None = None, config=None) -> Trace:
    """A trace (built-in name, file path, (n, 3) array or Trace) read for `evaluate`: into memory,
    or, for a file of more than IN_MEMORY_REQUESTS requests, checked and counted once and streamed
    at every evaluation. With `config`, every design runs on that DRAMSys memory system."""
    if isinstance(trace, Trace):
        return trace
    cfg = _config(config)
    trace, mhz0 = _trace_and_clock(trace, trace_clock_mhz, cfg)
    chunks, mhz = _source(trace, mhz0)
    is_file = isinstance(trace, str) or hasattr(trace, "__fspath__")
    name = str(trace) if is_file else "array"
    held, n = [], 0
    for c in chunks:
        n += len(c)
        if n <= IN_MEMORY_REQUESTS:
            held.append(c)
        else:
            held = []                 # too long to hold: keep counting (and checking) only
    if n > IN_MEMORY_REQUESTS and is_file:
        return Trace(None, mhz, name, cfg, path=tr.open_trace(trace).path, n_requests=n)
    return Trace(np.concatenate(held) if held else tr.check(trace), mhz, name, cfg)


def parameters(prepared: Trace | None = None) -> DesignSpace:
    """Every design parameter (the same for every trace)."""
    return PARAMETERS


def _source(trace, trace_clock_mhz: float | None) -> tuple[Iterator[np.ndarray], float | None]:
    """(chunk iterator, trace clock in MHz or None for the DRAM clock)."""
    if isinstance(trace, Trace):
        return trace.chunks(), trace_clock_mhz if trace_clock_mhz is not None else trace.clock_mhz
    if isinstance(trace, str) or hasattr(trace, "__fspath__"):
        f = tr.open_trace(trace)
        return textio.chunks(f), trace_clock_mhz if trace_clock_mhz is not None else f.clock_mhz
    return iter([tr.check(trace)]), trace_clock_mhz


def decoded_source(trace, trace_clock_mhz, system: MemorySystem, whole: bool = False):
    """Whole trace: (decoded rows, raw rows, trace clock). Else an iterator of decoded chunks and the clock."""
    chunks, mhz = _source(trace, trace_clock_mhz)
    ratio = player_ratio(mhz, system.standard)
    if whole:
        raw = np.concatenate(list(chunks))
        return decode(raw, system, ratio), raw, mhz

    def gen():
        base, prev = 0, 0
        for c in chunks:
            if c[0, 2] < prev:
                raise WorkloadError(f"trace arrival cycles must be non-decreasing: request {base} arrives at "
                                    f"cycle {c[0, 2]}, after cycle {prev}")
            yield decode(c, system, ratio, base)
            base, prev = base + len(c), int(c[-1, 2])
    return gen(), mhz


def prefetched(items: Iterator) -> Iterator:
    """`items`, each next one computed on a second thread while the caller uses the one before (the
    trace parser and the kernel release the GIL, so a file is read while the kernel runs)."""
    with ThreadPoolExecutor(1) as pool:
        nxt = pool.submit(next, items, None)
        while (item := nxt.result()) is not None:
            nxt = pool.submit(next, items, None)
            yield item


# --- simulate --------------------------------------------------------------------------------------
def simulate(design: Mapping | None = None, trace=None, *, requests: bool = False,
             trace_clock_mhz: float | None = None, config=None) -> SimResult:
    """Run one design on a trace. `trace`: built-in name, file path or (n, 3) int array (default:
    `stream`, or the config's first trace). `trace_clock_mhz`: clock of the trace's arrival cycles
    (default: 800 MHz for .stl files, the DRAM clock otherwise). `config`: a DRAMSys simulation
    JSON file. `requests=True` adds per-request acceptance and response cycles to the result."""
    cfg = _config(config)
    d, system = memory_system(design, cfg)
    trace, mhz = _trace_and_clock(trace, trace_clock_mhz, cfg)
    if isinstance(trace, Trace) and trace.config is not None and cfg is None:
        d, system = memory_system(design, trace.config)
    std = system.standard
    if requests:
        whole, raw, mhz = decoded_source(trace, mhz, system, whole=True)
        chunks = iter([whole])
    else:
        chunks, mhz = decoded_source(trace, mhz, system)
        chunks = prefetched(chunks)
    P = params(d, system, player_ratio(mhz, std))
    state = list(L.init_state(P))
    cur = next(chunks)
    resp = np.zeros((len(cur), 2), np.int64) if requests else np.zeros((0, 2), np.int64)
    base, last = 0, False       # the kernel stops where it needs the next chunk (NEED_MORE)
    while True:
        n_total = base + len(cur) if last else np.iinfo(np.int64).max
        status = K.run(P, cur, base, last, n_total, *state, resp, None)
        if status == L.NEED_SLOTS:
            state[1], state[2] = L.grow(state[0], state[1], state[2])
        elif status == L.NEED_MORE:
            nxt = next(chunks, None)
            if nxt is None:
                last = True     # it was the last chunk: run on to the end
            else:
                base, cur = base + len(cur), nxt
        elif status == L.STALLED:
            raise RuntimeError(f"DRAM kernel stalled at cycle {state[0][L.S_NOW]} with requests in flight "
                               f"(design {d}); please report this bug")
        else:
            break
    S, bank, rank, hist = state[0], state[3], state[5], state[7]
    metrics = _metrics(std, S, hist, batch.finish(P, S, bank, rank))
    detail = None
    if requests:
        detail = {"address": raw[:, 0], "is_write": raw[:, 1], "arrival_cycle": whole[:, 2],
                  "accept_cycle": resp[:, 0], "response_cycle": resp[:, 1],
                  "latency_ns": (resp[:, 1] - resp[:, 0]) * std.tck_ns}
    return SimResult(metrics, requests=detail)


def simulate_batch(designs: Sequence[Mapping], trace, trace_clock_mhz: float | None = None,
                   config=None) -> dict[str, np.ndarray]:
    """Many design dicts on one in-memory trace (array, name, path or Trace) in one parallel
    kernel call: metric -> array (n,)."""
    prepared = prepare(trace, trace_clock_mhz, config)
    vectors = np.stack([PARAMETERS.kernel_vector(memory_system(d, prepared.config)[0]) for d in designs]) \
        if len(designs) else np.zeros((0, len(PARAMETERS)))
    out = evaluate(vectors, prepared)
    return {m: out[m] for m in METRICS}


def evaluate(designs: np.ndarray, trace: Trace) -> dict[str, np.ndarray]:
    """(n, len(PARAMETERS)) kernel design vectors (Parameter.code of each value) on a prepared
    trace -> {metric: (n,) array}, plus `feasible` and `violation` (every design is feasible). One
    parallel kernel call; memory systems are decoded once per distinct system (a config-prepared
    trace fixes the system and its columns are ignored)."""
    designs = np.asarray(designs, dtype=np.float64).reshape(-1, len(PARAMETERS))
    n = len(designs)
    Ps = np.empty((n, L.N_PARAMS), np.int64)
    stds: list[Standard] = [None] * n  # type: ignore[list-item]
    systems_used: list[MemorySystem] = []
    which = np.zeros(n, np.int64)
    sys_cols = designs[:, len(KNOBS):] if trace.config is None else np.zeros((n, 0))
    systems, inverse = np.unique(sys_cols, axis=0, return_inverse=True)
    for k, codes in enumerate(systems):  # a handful of memory systems per batch, usually one
        if trace.config is None:
            d = {name: PARAMETERS[name].value(int(c)) if name in ("standard", "address_mapping") else int(c)
                 for name, c in zip(SYSTEM, codes)}
            d, system = memory_system(d)
        else:
            d, system = memory_system({}, trace.config)
        rows = np.flatnonzero(inverse.reshape(-1) == k)
        systems_used.append(system)
        Ps[rows] = params(d, system, player_ratio(trace.clock_mhz, system.standard))
        which[rows] = k
        for r in rows.tolist():
            stds[r] = system.standard
    Ps[:, L.P_PAGE:L.P_PAGE + len(KNOBS)] = designs[:, :len(KNOBS)].astype(np.int64)
    if n == 0:
        out = {m: np.zeros(0) for m in METRICS}
    elif trace.requests is not None:
        out = run_params(Ps, np.stack([trace.decoded(s) for s in systems_used]), which, stds)
    else:
        out = run_params_streamed(Ps, trace, systems_used, which, stds)
    out["feasible"] = np.ones(n, dtype=bool)
    out["violation"] = np.zeros(n)
    return out


def run_params(Ps: np.ndarray, traces: np.ndarray, which: np.ndarray, stds: Sequence[Standard]) -> dict[str, np.ndarray]:
    """The batch kernel on ready-made parameter rows (see `params`); traces[which[i]] holds design
    i's decoded trace. Metric -> array (n,)."""
    kernel = batch.simulate_batch if len(Ps) >= 2 * numba.get_num_threads() else batch.simulate_serial
    S_all, H_all, B_all = kernel(Ps, traces, which)
    return _batch_metrics(Ps, S_all, H_all, B_all, stds, traces.shape[1])


def run_params_streamed(Ps: np.ndarray, trace: Trace, systems: Sequence[MemorySystem], which: np.ndarray,
                        stds: Sequence[Standard]) -> dict[str, np.ndarray]:
    """`run_params` on a trace read chunk by chunk: each design's kernel state carries from one
    chunk to the next, so the result equals the whole-trace run (tests/test_dram_env.py)."""
    state = list(batch.init_batch(Ps))
    cap = np.full(len(Ps), state[2].shape[1], np.int64)   # free slots per design
    status = np.zeros(len(Ps), np.int64)
    ratios = [player_ratio(trace.clock_mhz, s.standard) for s in systems]
    base, chunks = 0, trace.chunks()
    cur = next(chunks)
    while cur is not None:
        nxt = next(chunks, None)
        last = nxt is None
        n_total = base + len(cur) if last else np.iinfo(np.int64).max
        decoded = np.stack([decode(cur, s, r, base) for s, r in zip(systems, ratios)])
        status[:] = L.NEED_MORE
        while True:
            batch.run_chunk(Ps, decoded, which, base, last, n_total, cap, status, *state)
            grow = np.flatnonzero(status == L.NEED_SLOTS)
            if not len(grow):
                break
            for i in grow.tolist():
                state[1], state[2] = batch.grow_design(i, cap, state[0], state[1], state[2])
        base, cur = base + len(cur), nxt
    S_all, bank_all, rank_all, H_all = state[0], state[3], state[5], state[7]
    return _batch_metrics(Ps, S_all, H_all, batch.finish_batch(Ps, S_all, bank_all, rank_all), stds, base)


def _batch_metrics(Ps, S_all, H_all, B_all, stds, n_requests: int) -> dict[str, np.ndarray]:
    stalled = np.flatnonzero(S_all[:, L.S_DELIVERED] < n_requests)
    if len(stalled):
        raise RuntimeError(f"DRAM kernel stalled on parameter row {Ps[stalled[0]].tolist()}; please report this bug")
    rows = [_metrics(std, S_all[i], H_all[i], B_all[i, :Ps[i, L.P_NCH] * Ps[i, L.P_NRANK]])
            for i, std in enumerate(stds)]
    return {m: np.array([r[m] for r in rows], dtype=np.float64) for m in METRICS}


# --- metrics ----------------------------------------------------------------------------------------
def _metrics(std: Standard, S: np.ndarray, hist: np.ndarray, bg: np.ndarray) -> dict[str, float]:
    """Metrics from the kernel's counters; bg: per-rank cycles (active standby, precharged standby,
    precharge power-down, active power-down, bank-active cycles summed over banks)."""
    tck = std.tck_ns
    cycles = int(S[L.S_END])
    seconds = cycles * tck * 1e-9
    n = int(S[L.S_N_RD] + S[L.S_N_WR])
    c = bg.sum(axis=0)
    e = power.components(std, S[L.S_N_ACT], S[L.S_N_CLOSE], S[L.S_N_RD], S[L.S_N_WR], S[L.S_N_REF], c[4], c[0],
                         c[1], apd=c[3], ppd=c[2], ref_pb=S[L.S_N_REFPB])
    pj = 1e-12 * std.devices
    p50, p99 = batch.read_percentiles(hist, S[L.S_N_RLAT])
    m = {
        "latency_s": seconds,
        "cycles": float(cycles),
        "avg_read_latency_ns": float(S[L.S_RLAT_SUM] / S[L.S_N_RLAT] * tck) if S[L.S_N_RLAT] else 0.0,
        "p50_read_latency_ns": p50 * tck,
        "p99_read_latency_ns": p99 * tck,
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
        "energy_act_j": float(e["E_act"] + e["E_pre"]) * pj,
        "energy_rd_j": float(e["E_RD"]) * pj,
        "energy_wr_j": float(e["E_WR"]) * pj,
        "energy_ref_j": float(e["E_ref_AB"]) * pj,
        "energy_bg_j": float(e["E_bg_act"] + e["E_bg_act_shared"] + e["E_bg_pre"] + e["E_PDNA"] + e["E_PDNP"]) * pj,
    }
    m["energy_j"] = m["energy_act_j"] + m["energy_rd_j"] + m["energy_wr_j"] + m["energy_ref_j"] + m["energy_bg_j"]
    m["power_w"] = m["energy_j"] / seconds if seconds > 0 else 0.0
    return {k: float(v) for k, v in m.items()}


__all__ = ["PARAMETERS", "KNOBS", "SYSTEM", "METRICS", "MAPPINGS", "Trace", "MemorySystem", "prepare", "parameters",
           "evaluate", "simulate", "simulate_batch", "run_params", "params", "capacity_bytes", "memory_system",
           "decode", "player_ratio"]
