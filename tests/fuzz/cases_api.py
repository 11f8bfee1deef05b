"""Cases of the corpus that call the API directly: NaN, inf, text and overflow in every numeric
field of objectives, designs, budgets, seeds, hyper-parameters, layer tables, traces, env kwargs,
the CLI and the model frontends (registered into cases.CASES; see cases.py)."""
from __future__ import annotations

import numpy as np

from cases import BINARY, CORPUS, DAMAGES, SMALL_ENV, Wrong, case, cli, finite_positive


# --- objectives: NaN, inf, text in every numeric field -----------------------------------------------------------------
def _objective(spec):
    def run(ctx):
        import gymnasium as gym
        env = gym.make(SMALL_ENV, objective=spec).unwrapped
        r = env.evaluate(env.space.sample_indices(np.random.default_rng(0), 16))["reward"]
        if not np.isfinite(r).all():
            raise Wrong("non-finite rewards")
    return run


for _k, _spec in {
    "weights_nan": {"mode": "weighted", "weights": {"latency_s": float("nan")}},
    "weights_inf": {"mode": "weighted", "weights": {"latency_s": float("inf")}},
    "weights_text": {"mode": "weighted", "weights": {"latency_s": "heavy"}},
    "weights_list": {"mode": "weighted", "weights": [1, 2]},
    "targets_nan": {"mode": "target", "targets": {"latency_s": float("nan"), "energy_j": 1, "area_mm2": 1}},
    "targets_negative": {"mode": "target", "targets": {"latency_s": -1e-3, "energy_j": 1, "area_mm2": 1}},
    "targets_1e400_text": {"mode": "target", "targets": {"latency_s": "1e400", "energy_j": 1, "area_mm2": 1}},
    "limits_inf": {"mode": "constraint", "optimize": "latency_s", "limits": {"energy_j": float("inf")}},
    "limits_huge_int": {"mode": "constraint", "optimize": "latency_s", "limits": {"energy_j": 10**400}},
    "optimize_number": {"mode": "constraint", "optimize": 5, "limits": {"energy_j": 1.0}},
    "metrics_string": {"mode": "weighted", "metrics": "latency_s"},
    "directions_bad": {"mode": "weighted", "directions": {"latency_s": "up"}},
    "mode_list": {"mode": ["weighted"]},
    "spec_number": 3.5,
}.items():
    case(f"objective:{_k}")(_objective(_spec))
case("objective:weights_large_ok", expect="ok")(_objective({"mode": "weighted", "weights": {"latency_s": 1e300}}))


# --- designs, index vectors and actions ------------------------------------------------------------------------------
def _design(design):
    def run(ctx):
        import gymnasium as gym
        env = gym.make(SMALL_ENV).unwrapped
        out = env.evaluate([{**env.space.default(), **design}])
        finite_positive({k: v[0] for k, v in out.items() if k.endswith("_s")}, ["latency_s"])
    return run


for _k, _v in {"nan": float("nan"), "inf": float("inf"), "text": "thirty-two", "huge_int": 10**30, "bool": True,
               "none": None, "list": [32], "negative": -32, "float_between": 33.5}.items():
    case(f"design:rows_{_k}")(_design({"rows": _v}))
case("design:unknown_parameter")(_design({"warp": 9}))
case("design:numpy_int_ok", expect="ok")(_design({"rows": np.int64(64)}))
case("design:float_equal_ok", expect="ok")(_design({"rows": 64.0}))


def _indices(idx):
    def run(ctx):
        import gymnasium as gym
        gym.make(SMALL_ENV).unwrapped.evaluate(np.asarray(idx))
    return run


case("index:nan")(_indices(np.full((1, 7), np.nan)))
case("index:negative")(_indices(np.full((1, 7), -1)))
case("index:wrong_shape")(_indices(np.zeros((2, 3), dtype=np.int64)))
case("index:int64_max")(_indices(np.full((1, 7), np.iinfo(np.int64).max)))
case("index:3d")(_indices(np.zeros((2, 2, 7), dtype=np.int64)))
case("index:text")(_indices(np.array([["a"] * 7])))


@case("action:out_of_range")
def _(ctx):
    import gymnasium as gym
    env = gym.make(SMALL_ENV)
    env.reset(seed=0)
    env.step(np.full(7, 99))


@case("action:float_nan")
def _(ctx):
    import gymnasium as gym
    env = gym.make(SMALL_ENV)
    env.reset(seed=0)
    env.step(np.full(7, np.nan))


# --- budgets, seeds, hyper-parameters ------------------------------------------------------------------------------------
def _search(budget=8, seed=0, **hp):
    def run(ctx):
        import gymnasium as gym
        from agents import make_agent
        result = make_agent(hp.pop("agent", "random"), seed=seed, **hp).search(gym.make(SMALL_ENV), budget)
        if len(result.history) != budget:
            raise Wrong(f"{len(result.history)} evaluations for a budget of {budget}")
    return run


for _k, _b in {"1e22": 10**22, "nan": float("nan"), "zero": 0, "negative": -1, "float": 8.0, "text": "8",
               "numpy_huge": np.uint64(2**63), "bool": True}.items():
    case(f"budget:{_k}")(_search(budget=_b))
for _k, _s in {"negative": -1, "2_40": 2**40, "nan": float("nan"), "text": "0", "huge": 10**100}.items():
    case(f"seed:{_k}")(_search(seed=_s))
case("seed:2_32_minus_1_ok", expect="ok")(_search(seed=2**32 - 1))
case("budget:one_ok", expect="ok")(_search(budget=1))
for _k, _v in {"nan": float("nan"), "inf": float("inf"), "400_digits": 10**400, "text": "0.1", "negative": -0.5}.items():
    case(f"hparam:ga_mutation_rate_{_k}")(_search(agent="ga", mutation_rate=_v))
case("hparam:ga_population_huge")(_search(agent="ga", population=10**12))
case("hparam:unknown")(_search(agent="ga", warp=9))
case("agent:unknown")(_search(agent="simulated_anealing"))


@case("agent:ask_10_12")
def _(ctx):
    import gymnasium as gym
    from agents import make_agent
    env = gym.make(SMALL_ENV).unwrapped
    make_agent("random").reset(env.space, env.objective).ask_indices(10**12)


# --- layer tables: overflow, NaN, absurd sizes ------------------------------------------------------------------------------
def _layers(make):
    def run(ctx):
        from simulators import systolic
        res = systolic.simulate({}, make())
        finite_positive(res.metrics, ("latency_s", "energy_j", "cycles", "macs"))
    return run


def _T():
    from archgym.core.workloads import table
    return table


case("layers:conv_1e6_everywhere", match="limit")(_layers(lambda: _T().Workload.from_rows("x", [("c", _T().conv_row(10**6, 10**6, 10**6, 10**6, 3))])))
case("layers:linear_2_23_cubed", match="MACs")(_layers(lambda: _T().Workload.from_rows("x", [("l", _T().linear_row(2**23, 2**23, 2**23))])))
case("layers:linear_10_30", match="limit")(_layers(lambda: _T().Workload.from_rows("x", [("l", _T().linear_row(10**30, 4))])))
case("layers:matmul_heads_huge")(_layers(lambda: _T().Workload.from_rows("x", [("m", _T().matmul_row(4096, 4096, 4096, heads=10**9))])))
case("layers:table_nan")(_layers(lambda: _T().Workload("x", np.full((1, 17), np.nan), ("a",))))
case("layers:table_negative")(_layers(lambda: _T().Workload("x", -np.ones((1, 17), dtype=np.int64), ("a",))))
case("layers:table_wrong_shape")(_layers(lambda: _T().Workload("x", np.ones((3, 5), dtype=np.int64), ("a", "b", "c"))))
case("layers:table_int64_max")(_layers(lambda: _T().Workload("x", np.full((1, 17), 2**62, dtype=np.int64), ("a",))))
case("layers:table_100k_rows", match="layers")(_layers(lambda: _T().Workload("x", np.tile(_T().linear_row(8, 8), (100_000, 1)), ("l",) * 100_000)))
case("layers:conv_float_size")(_layers(lambda: _T().Workload.from_rows("x", [("c", _T().conv_row(32.5, 32, 3, 8, 3))])))
case("layers:largest_allowed_ok", expect="ok")(_layers(lambda: _T().Workload.from_rows("x", [("l", _T().linear_row(2**14, 2**14, 2**16))] * 4)))
case("layers:one_by_one_ok", expect="ok")(_layers(lambda: _T().Workload.from_rows("x", [("l", _T().linear_row(1, 1, 1))])))


@case("layers:fpga_absurd_workload")
def _(ctx):
    from simulators import fpga
    fpga.simulate({}, _T().Workload.from_rows("x", [("l", _T().linear_row(2**24, 2**24, 1))]))


@case("layers:fpga_largest_allowed", expect="either")
def _(ctx):
    from simulators import fpga
    res = fpga.simulate({}, _T().Workload.from_rows("x", [("l", _T().linear_row(2**14, 2**14, 2**16))]))
    finite_positive(res.metrics, ("latency_s", "energy_j"))


# --- traces through the API -----------------------------------------------------------------------------------------------
def _trace_array(arr, **kw):
    def run(ctx):
        from simulators import dram
        res = dram.simulate({}, arr() if callable(arr) else arr, **kw)
        finite_positive(res.metrics, ("latency_s",))
    return run


case("trace:array_gap_1e14", match="MAX_TRACE_CYCLES")(_trace_array(np.array([[0, 0, 0], [64, 0, 10**14]])))
case("trace:array_nan")(_trace_array(np.array([[0.0, 0.0, np.nan]])))
case("trace:array_wrong_shape")(_trace_array(np.zeros((4, 2), dtype=np.int64)))
case("trace:array_is_write_7")(_trace_array(np.array([[0, 7, 0]])))
case("trace:array_uint64_huge")(_trace_array(np.array([[2**64 - 1, 0, 0]], dtype=np.uint64)))
case("trace:array_empty")(_trace_array(np.zeros((0, 3), dtype=np.int64)))
case("trace:clock_nan")(_trace_array(np.array([[0, 0, 0]]), trace_clock_mhz=float("nan")))
case("trace:clock_zero")(_trace_array(np.array([[0, 0, 0]]), trace_clock_mhz=0))
case("trace:clock_1e-12", match="MAX_TRACE_CYCLES")(_trace_array(np.array([[0, 0, 0], [64, 0, 1000]]), trace_clock_mhz=1e-12))
case("trace:clock_text")(_trace_array(np.array([[0, 0, 0]]), trace_clock_mhz="fast"))
case("trace:generator_n_1e12")(_trace_array(lambda: __import__("archgym.core.workloads.traces", fromlist=["x"]).stream(10**12)))
case("trace:generator_gap_huge")(_trace_array(lambda: __import__("archgym.core.workloads.traces", fromlist=["x"]).stream(10, gap=10**15)))
case("trace:gap_2_33_ok", expect="ok")(_trace_array(np.array([[0, 0, 0], [64, 0, 2**33]])))


# --- env kwargs and vector envs ---------------------------------------------------------------------------------------------
def _make(env_id=SMALL_ENV, vector: int | None = None, **kwargs):
    def run(ctx):
        import gymnasium as gym
        if vector is None:
            env = gym.make(env_id, **kwargs)
        else:
            env = gym.make_vec(env_id, num_envs=vector, vectorization_mode="vector_entry_point", **kwargs)
        env.reset(seed=0)
    return run


case("env:workload_int")(_make(workload=123))
case("env:workload_missing_file")(_make(workload="/nonexistent/net.csv"))
case("env:max_sram_nan")(_make(max_sram_kb=float("nan")))
case("env:space_text")(_make(space=42))
case("env:fixed_rows_nan")(_make(**{"clock_ghz": float("nan")}))
case("env:kwarg_unknown")(_make(warp_speed=9))
case("env:render_mode_bogus")(_make(render_mode="hologram"))
case("env:render_mode_rgb_array_ok", expect="ok")(_make(render_mode="rgb_array"))
case("env:vector_1e9")(_make(vector=10**9))
case("env:vector_zero")(_make(vector=0))
case("env:vector_text")(_make(vector="four"))
case("env:dram_clock_negative")(_make("archgym/DRAMController-AES-v0", trace_clock_mhz=-800))
case("env:dram_trace_idle_gap")(_make("archgym/DRAMController-v0", trace=np.array([[0, 0, 0], [64, 0, 10**14]])))
case("env:dram_fixed_unknown")(_make("archgym/DRAMController-AES-v0", warp=1))
case("env:fpga_board_unknown")(_make("archgym/FPGADataflow-v0", board="garage"))
case("env:fpga_input_bits_nan")(_make("archgym/FPGADataflow-v0", input_bits=float("nan")))
case("env:fpga_target_cycles_nan")(_make("archgym/FPGAFolding-v0", target_cycles=float("nan")))
case("env:codesign_area_nan")(_make("archgym/CoDesign-Systolic-v0", area_budget_mm2=float("nan")))
case("env:codesign_latency_negative")(_make("archgym/CoDesign-FPGA-v0", latency_budget_s=-1.0))
case("env:simulator_proxy_missing")(_make(simulator="proxy:/nonexistent.npz"))


# --- the CLI ------------------------------------------------------------------------------------------------------------------
case("cli:simulate_rows_nan")(lambda ctx: cli("simulate", "systolic", "--set", "rows=nan"))
case("cli:simulate_rows_1e30")(lambda ctx: cli("simulate", "systolic", "--set", "rows=1e30"))
case("cli:simulate_workload_onnx_missing")(lambda ctx: cli("simulate", "systolic", "--workload", ctx.path("m.onnx")))
case("cli:simulate_trace_binary")(lambda ctx: cli("simulate", "dram", "--trace", ctx.write("t.stl", BINARY)))
case("cli:search_budget_1e22")(lambda ctx: cli("search", SMALL_ENV, "--agent", "random", "--budget", 10**22,
                                               "--out", ctx.path("o"), "--no-progress"))
case("cli:search_seed_negative")(lambda ctx: cli("search", SMALL_ENV, "--agent", "random", "--budget", 4, "--seed", -1,
                                                 "--out", ctx.path("o"), "--no-progress"))
case("cli:sweep_alias_bomb", match="alias")(lambda ctx: cli("sweep", CORPUS / "yaml" / "alias_bomb.yaml", "--out", ctx.path("o")))
case("cli:plot_damaged_log")(lambda ctx: cli("plot", _damaged_copy(ctx)))


def _damaged_copy(ctx):
    d, db = ctx.run_copy()
    DAMAGES["header"](db)
    return d


# --- model frontends ---------------------------------------------------------------------------------------------------------
def _onnx(data: bytes):
    def run(ctx):
        import archgym.workloads as W
        W.from_onnx(ctx.write("m.onnx", data))
    return run


case("onnx:random_bytes")(_onnx(BINARY))
case("onnx:text")(_onnx(b"this is not a model\n"))
case("onnx:empty")(_onnx(b""))


@case("onnx:truncated_model")
def _(ctx):
    import torch
    p = ctx.path("m.onnx")
    torch.onnx.export(torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Flatten(), torch.nn.Linear(8 * 30 * 30, 10)),
                      (torch.zeros(1, 3, 32, 32),), p, dynamo=False)
    data = p.read_bytes()
    _onnx(data[: len(data) // 2])(ctx)


@case("torch:unsupported_module_named", match="MACs")
def _(ctx):
    import torch
    import archgym.workloads as W

    class Outer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 3)
            self.w = torch.nn.Parameter(torch.zeros(8, 8))

        def forward(self, x):
            return torch.einsum("bchw,cd->bdhw", self.conv(x), self.w)

    W.from_torch(Outer(), torch.zeros(1, 3, 16, 16))


@case("torch:mixed_model_keeps_macs", expect="ok")
def _(ctx):
    import torch
    import archgym.workloads as W
    model = torch.nn.Sequential(torch.nn.Conv1d(4, 8, 3), torch.nn.ConvTranspose1d(8, 4, 2), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 29, 10))
    wl = W.from_torch(model, torch.zeros(1, 4, 30))
    expected = 28 * 8 * 4 * 3 + 28 * 8 * 4 * 2 + 4 * 29 * 10  # conv1d to 28 steps, transposed conv to 29, linear
    if wl.macs != expected:
        raise Wrong(f"{wl.macs} MACs, expected {expected}")
