"""DRAM controller simulator: hand-computed timing, energy, fidelity against DRAMSim3, bad input."""
import os
from pathlib import Path

import numpy as np
import pytest

from archgym.core.errors import DesignError, UnknownNameError, WorkloadError
from archgym.core.workloads import traces as tr
from simulators import dram
from simulators.dram import batch, standards
from simulators.dram import layout as L

import scripts

NO_REF = {"refresh_policy": "no_refresh"}
TCK = 1 / 1.2   # DDR4-2400 clock period, ns
# DRAMSim3's controller (DDR4_8Gb_x8_2400.ini): a 32-entry read queue and write buffer feeding
# 8-entry per-bank command queues out of order, writes drained in batches, round robin over banks.
DRAMSIM3_LIKE = {"arbiter": "dramsim3", "max_active_transactions": 32, "scheduler_buffer": "bankwise",
                 "request_buffer_size": 8, "scheduler": "fr_fcfs"}


def responses(rows, **design):
    r = dram.simulate({**NO_REF, **design}, np.array(rows, np.int64), requests=True)
    return r.requests["response_cycle"].tolist(), r.metrics


# --- hand-computed timing (DDR4-2400: CL 17, CWL 12, tRCD 17, tRP 17, tRAS 39, BL/2 4) ----------
def test_single_read_is_act_plus_rcd_plus_cl_plus_burst():
    resp, m = responses([[0, 0, 0]])
    assert resp == [17 + 17 + 4]                       # ACT@0, RD@tRCD, data ends CL+BL/2 later
    assert m["cycles"] == 38 and m["avg_read_latency_ns"] == pytest.approx(38 * TCK)
    assert m["n_act"] == 1 and m["n_rd"] == 1 and m["row_hit_rate"] == 0.0


def test_row_hit_waits_tccd_l():
    resp, m = responses([[0, 0, 0], [64, 0, 0]])
    assert resp == [38, 17 + 6 + 21]                   # second RD tCCD_L=6 after the first
    assert m["row_hit_rate"] == 0.5


def test_row_miss_precharges_after_tras_then_activates():
    resp, m = responses([[0, 0, 0], [1 << 17, 0, 0]])  # same bank, next row
    # PRE at tRAS=39 (> RD@17 + tRTP 9), ACT at 39+tRP=56 (= tRC), RD at 56+17, data +21
    assert resp == [38, 56 + 17 + 21]
    assert (m["n_act"], m["n_pre"]) == (2, 1)


def test_four_activate_window():
    bg = 1 << 13                                       # rochrababgco: bank group bits 13-14
    resp, m = responses([[0, 0, 0], [bg, 0, 0], [2 * bg, 0, 0], [3 * bg, 0, 0], [1 << 15, 0, 0]])
    # ACTs at 0, 4, 8, 12 (tRRD_S); the fifth waits for tFAW=26; RDs at ACT+17 (tCCD_S apart)
    assert resp == [38, 42, 46, 50, 26 + 17 + 21]


def test_write_to_read_turnaround_uses_twtr_l():
    resp, _ = responses([[0, 1, 0], [64, 0, 0]])
    # WR@17 ends at 17+CWL+4=33; RD waits CWL+BL/2+tWTR_L = 12+4+9 after the WR
    assert resp == [33, 17 + 25 + 21]


def test_closed_page_auto_precharges_each_access():
    resp, m = responses([[0, 0, 0], [64, 0, 0]], page_policy="closed")
    # RDA@17 closes at tRAS=39; ACT again at 39+tRP=56; RD@73
    assert resp == [38, 73 + 21]
    assert (m["n_act"], m["n_auto_pre"], m["row_hit_rate"]) == (2, 2, 0.0)


def test_reorder_response_queue_holds_back_early_completions():
    # DRAMSys RespQueueReorder returns responses in arrival order, RespQueueFifo in CAS order
    rows = [[0, 0, 0], [1 << 13, 0, 0]]
    slow, _ = responses([[0, 0, 0], [1 << 17, 0, 0], [1 << 13, 0, 0]], resp_queue="reorder")
    fast, _ = responses([[0, 0, 0], [1 << 17, 0, 0], [1 << 13, 0, 0]], resp_queue="fifo")
    assert fast[2] < fast[1] and slow[2] == slow[1] + 1  # request 2 completes first but waits in reorder
    assert responses(rows, resp_queue="fifo")[0] == responses(rows, resp_queue="reorder")[0]


def test_max_active_transactions_one_serialises_only_behind_fifo_and_reorder_arbiters():
    rows = [[0, 0, 0], [1 << 13, 0, 0]]
    for arbiter in ("fifo", "reorder"):
        resp, _ = responses(rows, max_active_transactions=1, arbiter=arbiter)
        assert resp == [38, 38 + 17 + 21]              # accepted when the first answers: no overlap
    # DRAMSys's Simple arbiter never reads MaxActiveTransactions (Arbiter.cpp)
    assert responses(rows, max_active_transactions=1)[0] == responses(rows)[0] == [38, 4 + 17 + 21]


def test_row_hit_rate_counts_column_commands_after_the_first_since_act():
    # the old metric counted a hit for any CAS whose request had no ACT of its own: with
    # fr_fcfs_grp the bank serves a same-row request of the other direction after the ACT
    mix = tr.mixed(3000, sequential_fraction=0.5, write_fraction=0.33, seed=2)
    for scheduler in ("fifo", "fr_fcfs", "fr_fcfs_grp"):
        closed = dram.simulate({**NO_REF, "page_policy": "closed", "scheduler": scheduler}, mix).metrics
        assert closed["row_hit_rate"] == 0.0 and closed["n_act"] == closed["n_requests"]
        m = dram.simulate({**NO_REF, "scheduler": scheduler}, mix).metrics   # every ACT serves a CAS
        assert m["row_hit_rate"] == pytest.approx(1 - m["n_act"] / m["n_requests"], abs=1e-12)


def test_energy_matches_micron_formulas():
    # DRAMPower charges the ACT at the ACT and the precharge at the PRE: one read leaves the row open
    _, m = responses([[0, 0, 0]])
    s = standards.get("ddr4_2400")
    pj = 1e-12 * s.vdd * s.tck_ns * s.devices
    assert m["energy_act_j"] == pytest.approx((48 - 43) * 39 * pj)   # (IDD0 - IDD3N) tRAS
    assert m["energy_rd_j"] == pytest.approx((135 - 43) * 4 * pj)
    assert m["energy_bg_j"] == pytest.approx(43 * 38 * pj)      # a bank is open all 38 cycles
    assert m["energy_j"] == pytest.approx(m["energy_act_j"] + m["energy_rd_j"] + m["energy_bg_j"])
    assert m["power_w"] == pytest.approx(m["energy_j"] / m["latency_s"])
    # closed page adds the precharge: ACT + PRE = Micron's E_ACT = IDD0 tRC - (IDD3N tRAS + IDD2N tRP)
    _, m = responses([[0, 0, 0]], page_policy="closed")
    assert m["energy_act_j"] == pytest.approx((48 * 56 - (43 * 39 + 34 * 17)) * pj)


def test_idle_ranks_use_precharge_standby_and_power_down():
    rows = [[0, 0, 0], [64, 0, 5000]]
    _, awake = responses(rows, page_policy="closed")
    _, asleep = responses(rows, page_policy="closed", power_down_policy="staggered")
    assert asleep["n_pd"] == 1 and awake["n_pd"] == 0             # asleep between the two requests
    assert asleep["cycles"] == awake["cycles"] + 8                # tXP on wake-up
    assert asleep["energy_bg_j"] < 0.8 * awake["energy_bg_j"]     # IDD2P 25 mA vs IDD2N 34 mA


def test_refresh_counts_and_energy():
    t = tr.stream(200, gap=200)                                   # 40 000 cycles: 4 tREFI
    m = dram.simulate({}, t).metrics
    assert m["n_ref"] == 4
    s = standards.get("ddr4_2400")
    assert m["energy_ref_j"] == pytest.approx(4 * s.vdd * (250 - 43) * 420 * s.tck_ns * 8 * 1e-12)
    per_bank = dram.simulate({"refresh_policy": "per_bank"}, t).metrics
    assert per_bank["n_ref"] == int(m["cycles"] // 585)             # one bank every tREFI/16
    assert per_bank["energy_ref_j"] == pytest.approx(per_bank["n_ref"] / 16 * m["energy_ref_j"] / 4)


@pytest.mark.parametrize("latencies", [[7], [3, 3, 3], [0, 1, 2, 3], list(range(200)), [5] * 99 + [900],
                                       [L.HIST_BINS - 1] * 3 + [2], list(np.random.default_rng(0).integers(0, 3000, 1001))])
def test_read_percentiles_of_a_histogram_are_numpys_inverted_cdf(latencies):
    hist = np.bincount(latencies, minlength=L.HIST_BINS).astype(np.int64)
    p50, p99 = batch.read_percentiles(hist, len(latencies))
    assert (p50, p99) == (np.percentile(latencies, 50, method="inverted_cdf"),
                          np.percentile(latencies, 99, method="inverted_cdf"))
    assert batch.read_percentiles(np.zeros(L.HIST_BINS, np.int64), 0) == (0, 0)


def test_percentiles_use_the_inverted_cdf():
    t = tr.random(3000, span=1 << 30, gap=3, seed=1)
    r = dram.simulate({}, t, requests=True)
    lat = (r.requests["response_cycle"] - r.requests["accept_cycle"]) * TCK
    assert r.metrics["p50_read_latency_ns"] == pytest.approx(np.percentile(lat, 50, method="inverted_cdf"))
    assert r.metrics["p99_read_latency_ns"] == pytest.approx(np.percentile(lat, 99, method="inverted_cdf"))
    assert r.metrics["avg_read_latency_ns"] == pytest.approx(lat.mean())


# --- fidelity against DRAMSim3 (shared/reference/dram.md) ------------------------------------------
@pytest.mark.parametrize("kind,w,gbps,cycles", [("stream", 0.0, 15.13, 241), ("stream", 0.33, 15.30, 326),
                                                ("random", 0.0, 11.18, 733), ("random", 0.33, 10.87, 865)])
def test_saturated_bandwidth_and_read_latency_match_dramsim3(kind, w, gbps, cycles):
    t = tr.reference_trace(kind, w)
    t[:, 0] %= 1 << 33     # DRAMSim3 drops address bits above its 8 GiB (1 rank); we refuse them
    m = dram.simulate(DRAMSIM3_LIKE, t).metrics
    assert m["bandwidth_gbps"] == pytest.approx(gbps, rel=0.02)                   # measured: within 1.1%
    assert m["avg_read_latency_ns"] / TCK == pytest.approx(cycles, rel=0.04)      # measured: within 2%


@pytest.mark.parametrize("kind,page,cycles", [("random", "open", 59.4), ("stream", "open", 34.3),
                                              ("random", "closed", 49.9), ("stream", "closed", 51.6)])
def test_idle_read_latency_within_10pct_of_dramsim3(kind, page, cycles):
    t = tr.reference_trace(kind, 0.0, gap=200)
    m = dram.simulate({"ranks": 2, "page_policy": page}, t).metrics
    assert m["avg_read_latency_ns"] / TCK == pytest.approx(cycles, rel=0.10)


def test_saturated_random_sits_at_the_tfaw_bound():
    s = standards.get("ddr4_2400")
    bound = 4 * 64 / (s.tfaw * s.tck_ns) * (1 - s.trfc / s.trefi)   # GB/s: 4 ACTs per tFAW, less refresh
    m = dram.simulate({"request_buffer_size": 32}, tr.random(20000, span=1 << 33, seed=3)).metrics
    assert bound * 0.97 <= m["bandwidth_gbps"] <= bound


def test_sensitivity_claims_of_the_docs():
    def latency(trace, **knobs):
        return dram.simulate(knobs, trace).metrics["latency_s"]
    assert latency("stream", page_policy="closed") > 5 * latency("stream")
    assert latency("random", request_buffer_size=1) > 1.5 * latency("random")
    cost = latency("random") / latency("random", refresh_policy="no_refresh") - 1
    assert 0.01 < cost < 0.10


# --- organisation and standards ---------------------------------------------------------------------
def test_capacity_and_address_mapping():
    assert dram.capacity_bytes({}) == 8 << 30
    assert dram.capacity_bytes({"standard": "ddr3_1600", "channels": 2, "ranks": 2}) == 4 << 30
    assert dram.capacity_bytes({"standard": "lpddr4_3200"}) == 2 << 30
    stream = tr.stream(4096)
    brc = dram.simulate({**NO_REF, "address_mapping": "bank_row_column"}, stream).metrics
    rbc = dram.simulate({**NO_REF, "address_mapping": "row_bank_column"}, stream).metrics
    assert brc["n_act"] == 32 and rbc["n_act"] == 32        # 128 lines per row either way
    two = dram.simulate({**NO_REF, "channels": 2, "address_mapping": "rorababgcoch"}, stream).metrics
    assert two["bandwidth_gbps"] > 1.5 * rbc["bandwidth_gbps"]


@pytest.mark.parametrize("name", sorted(standards.STANDARDS))
def test_every_standard_runs_and_peaks_below_its_bus(name):
    s = standards.get(name)
    m = dram.simulate({"standard": name}, tr.stream(5000)).metrics
    peak = 64 / (s.burst_cycles * s.tck_ns)
    assert 0.4 * peak < m["bandwidth_gbps"] < peak      # one bank at a time: tCCD_L bound
    assert m["energy_j"] > 0 and m["power_w"] > 0


def test_trace_clock_conversion():
    t = np.array([[0, 0, 0], [64, 0, 800]], np.int64)
    r = dram.simulate(NO_REF, t, requests=True, trace_clock_mhz=800.0)
    assert r.requests["arrival_cycle"].tolist() == [0, 1200]      # 1 us at 1200 MHz


def test_batch_equals_single_runs():
    t = tr.mixed(500, sequential_fraction=0.5, write_fraction=0.3, seed=2)
    designs = [{}, {"page_policy": "closed"}, {"standard": "ddr3_1600", "scheduler": "fifo"}]
    batch = dram.simulate_batch(designs, t)
    for i, d in enumerate(designs):
        assert batch["latency_s"][i] == dram.simulate(d, t).metrics["latency_s"]


def test_parallel_batch_equals_serial():
    """prange hands designs to threads one at a time; every design's counters, histogram and
    background equal the one-thread kernel's, and the parallel kernels stay in numba's disk cache
    (a dynamic global such as a chunk-size call inside them would recompile them in every process)."""
    from simulators.dram import batch
    t = tr.mixed(800, sequential_fraction=0.5, write_fraction=0.3, seed=5)
    designs = [{}, {"page_policy": "closed"}, {"request_buffer_size": 1}, {"arbiter": "fifo", "max_active_transactions": 1},
               {"scheduler": "fr_fcfs_grp", "refresh_policy": "per_bank"}, {"power_down_policy": "staggered"},
               {"arbiter": "dramsim3", "scheduler_buffer": "shared"}, {"ranks": 2, "page_policy": "open_adaptive"}]
    rows = [dram.memory_system(d) for d in designs]
    systems = list({id(s): s for _, s in rows}.values())
    Ps = np.stack([dram.params(d, s) for d, s in rows])
    which = np.array([systems.index(s) for _, s in rows], np.int64)
    traces = np.stack([dram.decode(t, s, (1, 1)) for s in systems])
    par, ser = batch.simulate_batch(Ps, traces, which), batch.simulate_serial(Ps, traces, which)
    for a, b in zip(par, ser):
        np.testing.assert_array_equal(a, b)
    assert batch._simulate_batch.overloads
    for kernel in (batch._simulate_batch, batch._run_chunk, batch.simulate_serial):
        for cres in kernel.overloads.values():
            assert kernel._cache._impl.check_cachable(cres), kernel


@pytest.mark.parametrize("where", ["NUMBA_CACHE_DIR", "in-tree", "read-only tree"])
def test_the_package_stamped_cache_is_used_wherever_numba_would_cache(where, tmp_path, monkeypatch):
    """A kernel function's cache is stamped with the whole package in each of numba's places, in numba's
    order (NUMBA_CACHE_DIR, __pycache__, the user-wide directory when the tree is read-only); a function
    of another package keeps numba's own one-file stamp."""
    from numba import config
    from numba.core import caching

    from simulators.dram import _cache, kernel
    from simulators.systolic import kernel as systolic_kernel
    monkeypatch.setattr(config, "CACHE_DIR", str(tmp_path / "numba-cache") if where == "NUMBA_CACHE_DIR" else "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-wide"))
    if where == "read-only tree":
        def unwritable(self):
            raise PermissionError(self.get_cache_path())
        monkeypatch.setattr(caching.InTreeCacheLocator, "ensure_cache_path", unwritable)
    locator = caching.CompileResultCacheImpl(kernel.run.py_func)._locator
    expected = {"NUMBA_CACHE_DIR": (_cache.PackageStampUserProvidedLocator, tmp_path / "numba-cache"),
                "in-tree": (_cache.PackageStampLocator, _cache.PACKAGE_DIR / "__pycache__"),
                "read-only tree": (_cache.PackageStampUserWideLocator, tmp_path / "user-wide")}[where]
    assert type(locator) is expected[0]
    assert Path(locator.get_cache_path()).is_relative_to(expected[1])
    assert locator.get_source_stamp() == _cache.package_digest()
    assert not isinstance(caching.CompileResultCacheImpl(systolic_kernel.costs_of.py_func)._locator, _cache.PackageStamp)


def test_kernel_helpers_are_inlined_by_llvm_not_by_numba_ir():
    """numba's inline="always" deep-copies a helper's IR at each call site: with the DRAM kernel's nesting a
    cold first simulation compiled for about 4 minutes in 4.5 GB; forceinline (LLVM) gives the same speed."""
    import ast

    from simulators.dram import _cache
    ir_inlined = [f"{path.name}:{node.lineno}" for path in sorted(_cache.PACKAGE_DIR.glob("*.py"))
                  for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.keyword)
                  and node.arg == "inline" and isinstance(node.value, ast.Constant) and node.value.value != "never"]
    assert ir_inlined == []


# --- bad input -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("design,exc,text", [
    ({"standard": "ddr5_4800"}, DesignError, "standard"),
    ({"page_policy": "half_open"}, DesignError, "page_policy"),
    ({"request_buffer_size": 0}, DesignError, "request_buffer_size"),
    ({"max_active_transactions": 0}, DesignError, "max_active_transactions"),
    ({"rows": 4}, DesignError, "unknown parameter"),
])
def test_bad_designs(design, exc, text):
    with pytest.raises(exc, match=text):
        dram.simulate(design, tr.stream(10))


def test_bad_traces():
    with pytest.raises(WorkloadError, match="beyond the capacity"):
        dram.simulate({}, np.array([[8 << 30, 0, 0]]))
    with pytest.raises(WorkloadError, match="empty trace"):
        dram.simulate({}, np.zeros((0, 3), np.int64))
    with pytest.raises(WorkloadError, match="non-decreasing"):
        dram.simulate({}, np.array([[0, 0, 5], [64, 0, 4]]))
    with pytest.raises(UnknownNameError, match="cloud-1"):
        dram.simulate({}, "no-such-trace")
    with pytest.raises(UnknownNameError, match="ddr4_2400"):
        standards.get("ddr5")


def test_the_counts_benchmarks_child_runs_the_kernel_and_reports_its_events(capsys):
    """benchmarks/dram_counts.py's child (the process cachegrind counts) runs DESIGN as dram_speed.py defines it."""
    counts = scripts.load("benchmarks/dram_counts.py")
    n = 500
    counts.child("DESIGN", n, True)
    d, system = dram.memory_system(counts.DESIGN)
    decoded = dram.decode(tr.reference_trace("random", 0.33, n=n), system, (1, 1))
    S, _, _ = batch.simulate_one(dram.params(d, system), decoded, np.zeros((0, 2), np.int64), None)
    assert float(capsys.readouterr().out) == S[dram.L.S_EVENTS] / n > 1


def test_the_counts_benchmarks_folded_copy_writes_designs_values_in_place_of_its_structural_parameters(
        tmp_path, monkeypatch):
    """dram_counts.folded_source: every STRUCTURAL read of P in the kernel becomes DESIGN's value, the copy is
    what a child with its environment imports, and a field the kernel no longer reads stops the benchmark."""
    import subprocess
    import sys
    counts = scripts.load("benchmarks/dram_counts.py")
    env = counts.folded_source(tmp_path / "a")
    P = dram.params(*dram.memory_system(counts.DESIGN))
    src = {f: (tmp_path / "a/simulators/dram" / f).read_text() for f in counts.KERNEL_SOURCES}
    assert not any(f"P[{field}]" in text for text in src.values() for field in counts.STRUCTURAL)
    assert "P[P_CL]" in src["commands.py"]           # timings stay parameters
    assert f"nrank = {P[L.P_NRANK]}" in src["kernel.py"] and P[L.P_NRANK] == 2
    where = subprocess.run([sys.executable, "-P", "-c", "import simulators.dram.kernel as k; print(k.__file__)"],
                           capture_output=True, text=True, check=True, env={**os.environ, **env}).stdout
    assert Path(where.strip()).is_relative_to(tmp_path / "a")
    monkeypatch.setattr(counts, "STRUCTURAL", (*counts.STRUCTURAL, "P_NOT_READ"))
    with pytest.raises(SystemExit, match="P_NOT_READ"):
        counts.folded_source(tmp_path / "b")


@pytest.mark.parametrize("script, args", [("dram_counts", ["--requests", "0"]), ("dram_lines", ["--reps", "0"])])
def test_the_dram_profiling_benchmarks_refuse_a_count_below_one_with_exit_2(script, args, capsys):
    """dram_counts.py and dram_lines.py: a request or repeat count below 1 is one line naming the flag, exit 2."""
    with pytest.raises(SystemExit) as exit_:
        scripts.load(f"benchmarks/{script}.py").main(args)
    assert exit_.value.code == 2 and f"{args[0]} 0" in capsys.readouterr().err


def test_le_mask8_sets_the_bits_of_the_lanes_at_or_below_the_threshold():
    """kernel.le_mask8 (round_robin's ready banks) against a loop, with equal, negative and INF lanes."""
    from numba import njit

    from simulators.dram.kernel import le_mask8

    @njit
    def mask(a, start, t):
        return le_mask8(a, start, t)

    rng = np.random.default_rng(3)
    for _ in range(200):
        a = rng.choice(np.array([-5, 0, 3, 7, L.INF], np.int64), 24)
        start, t = int(rng.integers(0, 17)), int(rng.choice([-5, 0, 3, 6, 7, L.INF]))
        assert mask(a, start, t) == sum(1 << i for i in range(8) if a[start + i] <= t)
    assert mask(np.full(8, L.INF, np.int64), 0, L.INF - 1) == 0 and mask(np.zeros(8, np.int64), 0, 0) == 255


def test_profile_tallies_each_event_by_what_it_did():
    """With one channel an event issues at most one command, stores at most one request, sends and delivers
    at most one: each kind's events equal the run's counts. The profiled run's results equal the plain run's."""
    from simulators.dram import kernel as K

    d, system = dram.memory_system({"arbiter": "dramsim3", "ranks": 2})
    P = dram.params(d, system)
    decoded = dram.decode(tr.reference_trace("random", 0.33, n=3000), system, (1, 1))
    none = np.zeros((0, 2), np.int64)
    prof = np.zeros(K.PROF_LEN, np.int64)
    S, _, _ = batch.simulate_one(P, decoded, none, prof)
    np.testing.assert_array_equal(S, batch.simulate_one(P, decoded, none, None)[0])
    kinds = prof[2 * len(K.PHASES):]
    with_bit = [sum(c for bits, c in enumerate(kinds) if bits >> i & 1) for i in range(len(K.EVENT_KINDS))]
    assert kinds.sum() == S[L.S_EVENTS]
    assert with_bit == [K.commands_issued(S), 3000, 3000, 3000]


def test_the_line_profile_names_numba_symbols_by_module_and_function():
    """benchmarks/dram_lines.py reads the helper out of numba's mangled names (Itanium nested names)."""
    lines = scripts.load("benchmarks/dram_lines.py")
    assert lines.helper_name("_ZN10simulators4dram8commands11list_appendB3v91B54c8tJTC_2fWwGaMLSgd6CjA4xXKR0"
                             "tsqKIYSQsqjRT9YBFNAA_3d_3dE5ArrayIxLi1E1C7mutable7alignedE") == "commands.list_append"
    assert lines.helper_name("_ZN10simulators4dram6kernel3runB3v16B54c8tJTC_2fWwGaMLSgd6CjA4xXKR0E") == "kernel.run"
    assert lines.helper_name("_ZN5numba7cpython8builtins6ol_max12_3clocals_3e4implB3v1") == "max() (numba's builtin)"
    assert lines.helper_name("memcpy") == "memcpy"
