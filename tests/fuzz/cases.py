"""The malformed-input corpus: every file of corpus/ (expectations in corpus/MANIFEST.yaml) plus
the inputs made here (binary, truncated and fake compressed files, damaged SQLite logs, hostile
proxy files, overflow and NaN in every numeric field of the API, absurd sizes).

A case is a function of a Context. It passes by returning (a correct result: it checks what it got
and raises `Wrong` otherwise) or by raising a clean ArchGymError; `expect` says which it must do.
harness.py runs them under a CPU-time and memory limit and classifies the outcomes.
"""
from __future__ import annotations

import gzip
import io
import math
import os
import shutil
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import yaml

CORPUS = Path(__file__).resolve().parent / "corpus"
SMALL_ENV = "archgym/Systolic-ResNet18-Small-v0"
PWNED = Path(tempfile.gettempdir()) / "archgym-fuzz-pwned"  # a hostile input that ran code would create this


class Wrong(Exception):
    """A result the case's oracle rejects: a silent wrong answer."""


@dataclass
class Case:
    id: str
    fn: Callable
    expect: str = "error"   # error | ok | either
    match: str | None = None


CASES: dict[str, Case] = {}


def case(cid: str, expect: str = "error", match: str | None = None):
    def deco(fn):
        CASES[cid] = Case(cid, fn, expect, match)
        return fn
    return deco


class Context:
    """Scratch space, the corpus, and a clean little run directory to damage."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="archgym-fuzz-"))
        self.n = 0
        self.clean_run: Path | None = None

    def path(self, name: str) -> Path:
        self.n += 1
        d = self.root / f"c{self.n}"
        d.mkdir()
        return d / name

    def write(self, name: str, data: bytes | str) -> Path:
        p = self.path(name)
        p.write_bytes(data if isinstance(data, bytes) else data.encode())
        return p

    def run_copy(self) -> tuple[Path, Path]:
        d = self.path("run")
        shutil.copytree(self.clean_run, d)
        return d, d / "log.sqlite"


SMALL_EXPERIMENT = {"name": "fuzz", "budget": 8, "seeds": 2, "envs": [SMALL_ENV], "agents": ["random"]}


def warm_up(ctx: Context) -> None:
    """Imports and the clean run, before any case is timed."""
    import gymnasium as gym
    import torch  # noqa: F401
    import archgym  # noqa: F401
    import archgym.experiments.sweep  # noqa: F401
    from archgym.experiments import load_experiment, run_sweep
    from simulators import dram, fpga, systolic  # noqa: F401
    ctx.clean_run = ctx.root / "clean"
    run_sweep(load_experiment(SMALL_EXPERIMENT), out=ctx.clean_run, workers=1, progress=False)
    gym.make(SMALL_ENV).unwrapped.evaluate(np.zeros((1, 7), dtype=np.int64))
    PWNED.unlink(missing_ok=True)


# --- checks shared by the oracles ----------------------------------------------------------------------------------
def finite_positive(metrics: dict, names) -> None:
    for m in names:
        v = float(metrics[m])
        if not (math.isfinite(v) and v > 0):
            raise Wrong(f"{m} = {v}")


def not_pwned() -> None:
    if PWNED.exists():
        PWNED.unlink()
        raise Wrong("a hostile input ran code")


def cli(*args) -> str:
    """Run the CLI in-process: exit 0 -> its output; exit 2 with one line -> that line as an ArchGymError."""
    import contextlib
    from archgym.cli import main
    from archgym.core.errors import ArchGymError
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    lines = err.getvalue().strip().splitlines()
    if code == 2 and len(lines) == 1:
        raise ArchGymError(lines[0])
    if code != 0:
        raise RuntimeError(f"exit {code}: {err.getvalue()[-500:]}")
    return out.getvalue()


# --- the files of the corpus ---------------------------------------------------------------------------------------
def _yaml_case(path: Path, ctx: Context) -> None:
    from archgym.experiments import load_experiment
    exp = load_experiment(path)
    envs = exp.check_envs()
    not_pwned()
    if exp.hash != load_experiment(path).hash or len(exp.cells()) != len(exp.seeds) * len(envs) * sum(map(len, exp.agents.values())):
        raise Wrong("experiment hash or cells are not stable")
    if path.name == "wide_parameter_ok.yaml" and len(next(iter(envs.values())).unwrapped.space["rows"]) != 300:
        raise Wrong("the 300-value parameter lost values")


def _csv_case(path: Path, ctx: Context) -> None:
    import archgym.workloads as W
    from simulators import systolic
    wl = W.load(str(path))
    header, *lines = path.read_text(encoding="utf-8-sig").splitlines()
    conv = "ifmap" in header.lower()
    macs = 0
    for line in lines:  # an independent count: SCALE-Sim's ceil output size, no padding
        if not line.strip(" ,"):
            continue
        v = [int(x) for x in line.split(",")[1:8 if conv else 4]]
        if conv:
            h, w, fh, fw, c, nf, s = v
            macs += math.ceil((h - fh + s) / s) * math.ceil((w - fw + s) / s) * fh * fw * c * nf
        else:
            macs += v[0] * v[1] * v[2]
    if wl.macs != macs:
        raise Wrong(f"{wl.macs} MACs, expected {macs}")
    res = systolic.simulate({}, wl)
    finite_positive(res.metrics, ("latency_s", "energy_j", "cycles", "macs"))
    if res.metrics["macs"] != macs:
        raise Wrong(f"simulated {res.metrics['macs']} MACs, expected {macs}")


def _trace_case(path: Path, ctx: Context) -> None:
    from simulators import dram
    res = dram.simulate({}, path)
    lines = [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    if res.metrics["n_requests"] != len(lines):
        raise Wrong(f"{res.metrics['n_requests']} requests simulated, {len(lines)} in the file")
    finite_positive(res.metrics, ("latency_s", "energy_j", "cycles"))
    last = int(lines[-1].split(":")[0]) if path.suffix == ".stl" else 0
    if res.metrics["cycles"] < last * 1.5:  # .stl cycles tick at 800 MHz, DDR4-2400's controller at 1200 MHz
        raise Wrong(f"{res.metrics['cycles']} cycles end before the last arrival ({last * 1.5:.0f})")


_RUNNERS = {"yaml": _yaml_case, "csv": _csv_case, "traces": _trace_case}
for _name, _spec in yaml.safe_load((CORPUS / "MANIFEST.yaml").read_text()).items():
    _dir = _name.split("/")[0]
    CASES[f"file:{_name}"] = Case(f"file:{_name}", (lambda p, r: lambda ctx: r(p, ctx))(CORPUS / _name, _RUNNERS[_dir]),
                                  _spec["expect"], _spec.get("match"))
_listed = set(yaml.safe_load((CORPUS / "MANIFEST.yaml").read_text()))
_unlisted = [f"{d.name}/{f.name}" for d in CORPUS.iterdir() if d.is_dir() for f in d.iterdir() if f"{d.name}/{f.name}" not in _listed]
assert not _unlisted, f"corpus files missing from MANIFEST.yaml: {_unlisted}"


# --- generated files: binary, truncated, fake compressed, oversized -----------------------------------------------
BINARY = bytes(range(256)) * 64
GOOD_YAML = (CORPUS / "yaml" / "unicode_ok.yaml").read_bytes()
GOOD_CSV = (CORPUS / "csv" / "crlf.csv").read_bytes()
GOOD_TRACE = (CORPUS / "traces" / "three_requests_ok.stl").read_bytes()


def _experiment(ctx, data, name="exp.yaml"):
    from archgym.experiments import load_experiment
    load_experiment(ctx.write(name, data)).check_envs()


def _topology(ctx, data, name="net.csv"):
    import archgym.workloads as W
    W.load(str(ctx.write(name, data)))


def _trace(ctx, data, name="t.stl"):
    from simulators import dram
    dram.simulate({}, ctx.write(name, data))


case("gen:yaml_binary")(lambda ctx: _experiment(ctx, BINARY))
case("gen:yaml_gzip_named_yaml")(lambda ctx: _experiment(ctx, gzip.compress(GOOD_YAML)))
case("gen:yaml_latin1")(lambda ctx: _experiment(ctx, "name: caf\u00e9\n".encode("latin-1") + GOOD_YAML[10:]))
case("gen:yaml_truncated")(lambda ctx: _experiment(ctx, GOOD_YAML[: len(GOOD_YAML) // 2] + b"[{"))
case("gen:yaml_2_mib", match="limit")(lambda ctx: _experiment(ctx, GOOD_YAML + b"# padding\n" * 220_000))


@case("gen:yaml_directory")
def _(ctx):
    from archgym.experiments import load_experiment
    load_experiment(ctx.path("dir.yaml").parent)


case("gen:csv_binary")(lambda ctx: _topology(ctx, BINARY))
case("gen:csv_gzip_named_csv")(lambda ctx: _topology(ctx, gzip.compress(GOOD_CSV)))
case("gen:csv_empty")(lambda ctx: _topology(ctx, b""))
case("gen:csv_truncated")(lambda ctx: _topology(ctx, GOOD_CSV[:40]))
case("gen:csv_onnx_path", match="ONNX")(lambda ctx: _topology(ctx, b"\x08\x07\x12\x04onnx", name="model.onnx"))
case("gen:trace_binary")(lambda ctx: _trace(ctx, BINARY))
case("gen:trace_fake_gz")(lambda ctx: _trace(ctx, GOOD_TRACE, name="t.stl.gz"))
case("gen:trace_truncated_gz")(lambda ctx: _trace(ctx, gzip.compress(GOOD_TRACE * 100)[:60], name="t.stl.gz"))
case("gen:trace_gz_of_binary")(lambda ctx: _trace(ctx, gzip.compress(BINARY), name="t.stl.gz"))
case("gen:trace_empty")(lambda ctx: _trace(ctx, b""))


@case("gen:csv_70_mib_sparse", match="limit")
def _(ctx):
    p = ctx.write("big.csv", GOOD_CSV)
    os.truncate(p, 70 << 20)
    import archgym.workloads as W
    W.load(str(p))


@case("gen:csv_100k_layers", match="layers")
def _(ctx):
    _topology(ctx, GOOD_CSV.splitlines()[0] + b"\n" + b"conv, 8, 8, 3, 3, 4, 4, 1,\n" * 70_000)


@case("gen:trace_gzip_ok", expect="ok")
def _(ctx):
    from simulators import dram
    res = dram.simulate({}, ctx.write("t.stl.gz", gzip.compress(GOOD_TRACE)))
    if res.metrics["n_requests"] != 3:
        raise Wrong(f"{res.metrics['n_requests']} requests")


# --- damaged evaluation logs -----------------------------------------------------------------------------------------
def _damage(fn, action):
    def run(ctx):
        d, db = ctx.run_copy()
        fn(db)
        if action == "load":
            import archgym
            archgym.load(d)
        elif action == "export":
            cli("export", d, "--csv")
        elif action == "report":
            cli("report", d)
        else:  # resume: must never claim "all done" over a damaged log
            text = cli("sweep", ctx.write("e.yaml", yaml.safe_dump(SMALL_EXPERIMENT)), "--out", d, "--workers", "1", "--quiet")
            if "2 already done" in text:
                raise Wrong(f"resume over a damaged log: {text.strip()}")
    return run


def _overwrite(offset, data):
    def f(p):
        with open(p, "r+b") as fh:
            fh.seek(offset)
            fh.write(data)
    return f


def _sql(statement):
    def f(p):
        with sqlite3.connect(p) as conn:
            conn.execute(statement)
    return f


def _replace_with_dir(p):
    p.unlink()
    p.mkdir()


DAMAGES = {
    "truncated": lambda p: os.truncate(p, p.stat().st_size // 3),
    "garbage_page": _overwrite(3 * 4096, b"\xff" * 4096),
    "header": _overwrite(0, b"not sqlite at all"),
    "text": lambda p: p.write_text("hello"),
    "zero_bytes": lambda p: p.write_bytes(b""),
    "rows_deleted": _sql("DELETE FROM evaluations WHERE step > 3"),
    "envs_json": _sql("UPDATE envs SET info = '{not json'"),
    "table_dropped": _sql("DROP TABLE cells"),
    "is_directory": _replace_with_dir,
}
for _d, _f in DAMAGES.items():
    for _a in ("load", "export", "resume"):
        # an emptied log (or one without its cells table) resumes by recomputing every cell, and cells that
        # lost rows are redone: correct results
        _exp = "ok" if _a == "resume" and _d in ("zero_bytes", "rows_deleted", "table_dropped") else "error"
        case(f"log:{_d}:{_a}", expect=_exp)(_damage(_f, _a))
case("log:garbage_page:report")(_damage(DAMAGES["garbage_page"], "report"))
case("log:no_log:export")(lambda ctx: cli("export", ctx.path("nothing"), "--csv"))


# --- proxy files: nothing may run code ------------------------------------------------------------------------------
def _proxy(ctx, path):
    import gymnasium as gym
    try:
        gym.make(SMALL_ENV, simulator=f"proxy:{path}")
    finally:
        not_pwned()


class _Pwn:
    def __reduce__(self):
        return (os.system, (f"touch {PWNED}",))


@case("proxy:random_bytes")
def _(ctx):
    _proxy(ctx, ctx.write("p.npz", BINARY))


@case("proxy:torch_pickle_payload")
def _(ctx):
    import torch
    p = ctx.path("p.pt")
    torch.save({"format": "archgym-proxy/1", "kind": "forest", "model": {"pickle": b""}, "x": _Pwn()}, p)
    _proxy(ctx, p)


@case("proxy:legacy_forest_pickle", match="retrain")
def _(ctx):
    import pickle
    import torch
    p = ctx.path("p.pt")
    torch.save({"format": "archgym-proxy/1", "kind": "forest", "model": {"pickle": pickle.dumps(_Pwn())}}, p)
    _proxy(ctx, p)


@case("proxy:npz_object_array")
def _(ctx):
    p = ctx.path("p.npz")
    with open(p, "wb") as f:
        np.savez(f, header=np.array([_Pwn()], dtype=object))
    _proxy(ctx, p)


@case("proxy:skops_untrusted_type", match="refused")
def _(ctx):
    import json
    import skops.io
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer
    model = make_pipeline(FunctionTransformer(os.system))
    header = json.dumps({"format": "archgym-proxy/1", "kind": "forest", "env_id": SMALL_ENV, "env_kwargs": {},
                         "params": [], "encoding": {}})
    p = ctx.path("p.npz")
    with open(p, "wb") as f:
        np.savez(f, header=np.frombuffer(header.encode(), np.uint8), skops=np.frombuffer(skops.io.dumps(model), np.uint8))
    _proxy(ctx, p)


@case("proxy:header_not_json")
def _(ctx):
    p = ctx.path("p.npz")
    with open(p, "wb") as f:
        np.savez(f, header=np.frombuffer(b"{oops", np.uint8), W0=np.zeros((2, 2)))
    _proxy(ctx, p)


@case("proxy:truncated_zip")
def _(ctx):
    buf = io.BytesIO()
    np.savez(buf, header=np.zeros(1000, np.uint8), W0=np.zeros((50, 50)))
    _proxy(ctx, ctx.write("p.npz", buf.getvalue()[:500]))


@case("proxy:mlp_bad_shapes")
def _(ctx):
    import json
    header = json.dumps({"format": "archgym-proxy/1", "kind": "mlp", "env_id": SMALL_ENV, "env_kwargs": {},
                         "params": [], "encoding": {}})
    p = ctx.path("p.npz")
    with open(p, "wb") as f:
        np.savez(f, header=np.frombuffer(header.encode(), np.uint8), W0=np.zeros((3, 4)), b0=np.zeros(5))
    _proxy(ctx, p)


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
