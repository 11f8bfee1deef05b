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
    from simulators import dram, fpga, systolic  # noqa: F401  (systolic: imported before any case)
    ctx.clean_run = ctx.root / "clean"
    run_sweep(load_experiment(SMALL_EXPERIMENT), out=ctx.clean_run, workers=1, progress=False)
    gym.make(SMALL_ENV).unwrapped.evaluate(np.zeros((1, 7), dtype=np.int64))
    dram.simulate({}, np.array([[0, 0, 0], [64, 1, 4]]))  # compile every kernel before any case is timed
    fpga.simulate({})
    for env_id in ("archgym/DRAMController-AES-v0", "archgym/FPGADataflow-v0", "archgym/CoDesign-Systolic-v0"):
        env = gym.make(env_id).unwrapped
        env.evaluate(env.space.sample_indices(np.random.default_rng(0), 2))
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


import cases_api  # noqa: E402,F401  (registers the API cases)
